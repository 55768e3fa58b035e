// The load generator, run as its own process (so its CPU is never counted
// as the proxy's): autocannon against the given URLs, first a warm-up whose
// figures are dropped, then the measured run. Talks to the parent over IPC:
//   <- argv[2]: LoadSpec as JSON
//   -> { type: 'measuring' } just before the measured run starts
//   -> { type: 'result', result: LoadResult } when it is over
import autocannon from 'autocannon';
import { bodyOf } from './body.js';
import { Samples } from './samples.js';

export interface LoadSpec {
  /** Full URLs, path included; connections are spread over them. */
  urls: string[];
  connections: number;
  warmupS: number;
  durationS: number;
  /** Default GET. */
  method?: 'GET' | 'POST';
  /** POST: a request body of this many bytes (bodyOf(n)). */
  requestBytes?: number;
  /** Every response must carry exactly bodyOf(expectBytes)... */
  expectBytes?: number;
  /** ...or exactly this body. */
  expectBody?: string;
  /** Host headers, one request each, cycled through on every connection. */
  hosts?: string[];
  /** Requests per second across all connections (default: as fast as possible). */
  overallRate?: number;
}

export interface LoadResult {
  durationS: number;
  requests: number;
  reqPerSec: number;
  /** Exact percentiles of every response's latency (autocannon's own histogram has 1 ms resolution). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  warmupReqPerSec: number;
}

export type LoadMessage = { type: 'measuring' } | { type: 'result'; result: LoadResult };

async function run(spec: LoadSpec, durationS: number, samples: Samples | null) {
  // pipelining stays 1: uWebSockets.js v20.30 drops pipelined requests
  // behind an async handler, which would fail portero for the wrong reason.
  const expected = spec.expectBody ?? bodyOf(spec.expectBytes ?? 0);
  const body = spec.requestBytes !== undefined && spec.requestBytes > 0 ? Buffer.from(bodyOf(spec.requestBytes), 'latin1') : undefined;
  const instance = autocannon({
    url: spec.urls,
    connections: spec.connections,
    pipelining: 1,
    duration: durationS,
    method: spec.method ?? 'GET',
    body,
    headers: body === undefined ? undefined : { 'content-type': 'application/octet-stream' },
    requests: spec.hosts?.map((host) => ({ headers: { host } })),
    verifyBody: (b: string) => b === expected,
    timeout: 10,
    ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
  });
  if (samples !== null) instance.on('response', (_c, _status, _bytes, ms) => samples.push(ms));
  return await instance;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const send = (m: LoadMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const warm = spec.warmupS > 0 ? await run(spec, spec.warmupS, null) : null;
  await send({ type: 'measuring' });
  const samples = new Samples(1 << 20);
  const r = await run(spec, spec.durationS, samples);
  const result: LoadResult = {
    durationS: r.duration,
    requests: r.requests.total,
    reqPerSec: r.requests.total / r.duration,
    latencyMs: samples.summary(),
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches,
    warmupReqPerSec: warm === null ? 0 : warm.requests.total / warm.duration,
  };
  await send({ type: 'result', result });
  process.disconnect();
}

if (process.send !== undefined) await main();
