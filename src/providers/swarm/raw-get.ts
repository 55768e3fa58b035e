// The list requests of a poll, as raw bytes: the poll compares them with the
// previous poll's before parsing anything, and on a large, quiet Swarm
// (tens of MB of tasks) nearly every poll ends there. dockerode parses every
// answer, so these few GETs bypass it; the events stream and the container
// inspection stay with dockerode.
import http from 'node:http';
import https from 'node:https';
import type Docker from 'dockerode';

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

  /**
   * GET `path`; resolves the body of a 200, or null when it is byte for byte
   * `previous`; rejects on anything else. The body is compared as it arrives,
   * so an unchanged answer is never concatenated, copied or kept.
   */
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
          // While the bytes match `previous`, only the offset is kept; the first difference keeps what came.
          let same = res.statusCode === 200 && previous !== null;
          let offset = 0;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (same) {
              if (offset + c.length <= previous!.length && previous!.compare(c, 0, c.length, offset, offset + c.length) === 0) {
                offset += c.length;
                return;
              }
              same = false;
              chunks.push(previous!.subarray(0, offset));
            }
            chunks.push(c);
          });
          res.on('end', () => {
            if (same && offset === previous!.length) return resolve(null);
            if (same) chunks.push(previous!.subarray(0, offset));
            const body = Buffer.concat(chunks);
            if (res.statusCode === 200) resolve(body);
            else reject(Object.assign(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.toString('utf8', 0, 200)}`), { statusCode: res.statusCode }));
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
