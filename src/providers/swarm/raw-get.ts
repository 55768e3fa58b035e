// The list requests of a poll, as raw bytes: the poll compares them with the
// previous poll's before parsing anything, and on a large, quiet Swarm
// (tens of MB of tasks) nearly every poll ends there. dockerode parses every
// answer, so these few GETs bypass it; the events stream and the container
// inspection stay with dockerode.
import http from 'node:http';
import https from 'node:https';
import type Docker from 'dockerode';
import { ChangedBody } from './changed-body.js';

/** "unix:///var/run/docker.sock", "tcp://host:2375", "http://host:2375" -> dockerode options. */
export function dockerOptions(endpoint: string): Docker.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

export class RawDockerGet {
  private readonly agent: http.Agent;

  constructor(
    private readonly target: Docker.DockerOptions,
    private readonly timeoutMs: number,
  ) {
    const Agent = target.protocol === 'https' ? https.Agent : http.Agent;
    // One connection per list request, kept between polls.
    this.agent = new Agent({ keepAlive: true, maxSockets: 4 });
  }

  /** GET `path`; resolves the body of a 200, or null when it is byte for byte `previous` (ChangedBody); rejects on anything else. */
  get(path: string, previous: Buffer | null = null): Promise<Buffer | null> {
    const t = this.target;
    const request = t.protocol === 'https' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...(t.socketPath !== undefined ? { socketPath: t.socketPath } : { host: t.host, port: t.port }),
          path,
          agent: this.agent,
          headers: { accept: 'application/json' },
          timeout: this.timeoutMs,
        },
        (res) => {
          const body = new ChangedBody(previous);
          if (res.statusCode !== 200) body.unlike();
          res.on('data', (c: Buffer) => body.push(c, false));
          res.on('end', () => {
            const answer = body.result();
            if (res.statusCode === 200) resolve(answer);
            else reject(Object.assign(new Error(`GET ${path}: HTTP ${res.statusCode}: ${answer!.toString('utf8', 0, 200)}`), { statusCode: res.statusCode }));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What reads one Docker GET, comparing it with the last answer (RawDockerGet, DockerListReader). */
export interface ComparingGet {
  get(path: string, previous: Buffer | null): Promise<Buffer | null>;
}

/** GETs `paths` together; null when every answer is byte for byte `last`'s, else all of them (unchanged ones from `last`). */
export async function getChanged(reader: ComparingGet, paths: readonly string[], last: readonly Buffer[] | null): Promise<Buffer[] | null> {
  const got = await Promise.all(paths.map((path, i) => reader.get(path, last?.[i] ?? null)));
  if (got.every((a) => a === null)) return null;
  return got.map((a, i) => a ?? last![i]!);
}
