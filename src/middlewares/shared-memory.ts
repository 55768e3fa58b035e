// Memory every worker's middlewares share, so what they decide holds for the
// whole instance rather than per worker: one SharedArrayBuffer, created once
// by the main thread and handed to each worker at start.
//
// Layout: [secret: SECRET_BYTES]. The secret signs what one worker gives a
// client and another may be shown next (digestAuth's nonces).
import { randomFillSync } from 'node:crypto';

export const SECRET_BYTES = 32;

/** Main thread: the buffer, its secret filled in. */
export function createMiddlewareMemory(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(SECRET_BYTES);
  randomFillSync(new Uint8Array(sab, 0, SECRET_BYTES));
  return sab;
}

/** A worker's (or a test's) view of the shared middleware memory. */
export class MiddlewareMemory {
  /** The same random bytes in every worker of this instance; new at each start. */
  readonly secret: Buffer;

  constructor(readonly sab: SharedArrayBuffer) {
    this.secret = Buffer.from(new Uint8Array(sab, 0, SECRET_BYTES));
  }
}
