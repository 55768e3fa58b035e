// Memory every worker's middlewares share, so what they decide holds for the
// whole instance rather than per worker: one SharedArrayBuffer, created once
// by the main thread and handed to each worker at start.
//
// Layout: [secret: SECRET_BYTES][buckets: BUCKETS_BYTES, ~2 MiB]. The secret
// signs what one worker gives a client and another may be shown next
// (digestAuth's nonces). The buckets are rateLimit's and inFlightReq's
// (shared-buckets.ts): fixed in size, whatever the traffic.
import { createHash, randomFillSync } from 'node:crypto';
import { BUCKETS_BYTES, SharedBuckets } from './shared-buckets.js';

export const SECRET_BYTES = 32;

/** Main thread: the buffer, its secret filled in. */
export function createMiddlewareMemory(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(SECRET_BYTES + BUCKETS_BYTES);
  randomFillSync(new Uint8Array(sab, 0, SECRET_BYTES));
  return sab;
}

/** A worker's (or a test's) view of the shared middleware memory. */
export class MiddlewareMemory {
  /** The same random bytes in every worker of this instance; new at each start. */
  readonly secret: Buffer;
  /** Token buckets and in-flight counts of every worker. */
  readonly buckets: SharedBuckets;

  constructor(readonly sab: SharedArrayBuffer) {
    this.secret = Buffer.from(new Uint8Array(sab, 0, SECRET_BYTES));
    // Derived one way, so what the table's layout might reveal of its seed tells nothing of the secret.
    const seed = createHash('sha256').update('portero buckets\0').update(this.secret).digest();
    this.buckets = new SharedBuckets(sab, SECRET_BYTES, seed);
  }
}

/** Main thread, when a worker died: the in-flight slots it held will never be given back, so every count starts over. */
export function workerDied(sab: SharedArrayBuffer): void {
  new MiddlewareMemory(sab).buckets.forgetInFlight();
}
