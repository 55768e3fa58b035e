// A steady, light request loop, run as its own process: `connections` lanes,
// each sending one request, waiting for the whole answer, pausing
// intervalMs, and again, until the parent says stop. Every request's start
// (epoch ms, shared clock with the parent) and latency is sent back, so the
// parent can find the requests that overlapped a moment it cares about (a
// table update). Bounded: it stops by itself after maxS.
//   <- argv[2]: ProbeSpec as JSON; IPC 'stop'
//   -> { type: 'ready' } once every lane has had one answer
//   -> { type: 'result', result: ProbeResult }
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ProbeSpec {
  url: string;
  /** Host headers, cycled through. */
  hosts: string[];
  connections: number;
  intervalMs: number;
  maxS: number;
}

export interface ProbeResult {
  /** Request start times, epoch ms. */
  startMs: number[];
  latencyMs: number[];
  /** Requests that failed or answered other than 200. */
  errors: number;
  firstError?: string;
}

export type ProbeMessage = { type: 'ready' } | { type: 'result'; result: ProbeResult };

/** Milliseconds since the epoch, sub-millisecond, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

function once(agent: http.Agent, url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { host }, timeout: 10_000 }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as ProbeSpec;
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const result: ProbeResult = { startMs: [], latencyMs: [], errors: 0 };
  let stop = false;
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  const deadline = Date.now() + spec.maxS * 1000;
  let ready = 0;
  let next = 0;
  const lane = async () => {
    let first = true;
    while (!stop && Date.now() < deadline) {
      const host = spec.hosts[next++ % spec.hosts.length]!;
      const t0 = epochMs();
      try {
        const status = await once(agent, spec.url, host);
        if (status !== 200) {
          result.errors++;
          result.firstError ??= `status ${status} for ${host}`;
        }
      } catch (err) {
        result.errors++;
        result.firstError ??= (err as Error).message;
      }
      result.startMs.push(t0);
      result.latencyMs.push(epochMs() - t0);
      if (first && ++ready === spec.connections) process.send!({ type: 'ready' } satisfies ProbeMessage);
      first = false;
      await new Promise((r) => setTimeout(r, spec.intervalMs));
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, lane));
  agent.destroy();
  await new Promise<void>((resolve) => process.send!({ type: 'result', result } satisfies ProbeMessage, () => resolve()));
  process.disconnect();
}

if (process.send !== undefined) await main();
