// Reads the shared table as fast as it can and checks every version it sees
// is whole (see table.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { TableReader } from '../../src/shared/shared-table.js';

const reader = new TableReader(workerData.sab as SharedArrayBuffer);
const stop = new Int32Array(workerData.stop as SharedArrayBuffer);
const decoder = new TextDecoder();
let reads = 0;
let torn = 0;
let last = 0;
let backwards = 0;
while (Atomics.load(stop, 0) === 0) {
  const v = reader.read();
  if (v === null) continue;
  reads++;
  try {
    const t = JSON.parse(decoder.decode(v.bytes)) as { n: number; fill: string; check: number };
    if (t.fill.length !== t.check || t.fill !== String(t.n % 10).repeat(t.check)) torn++;
    if (t.n < last) backwards++;
    last = t.n;
  } catch {
    torn++;
  }
}
parentPort!.postMessage({ reads, torn, backwards, last });
