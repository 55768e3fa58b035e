// Publishes the route table to worker threads through a SharedArrayBuffer.
//
// Two slots, each guarded by a sequence word (a seqlock): the writer makes
// the word odd, writes the bytes, makes it even again, then bumps the
// generation. A reader copies the slot the generation points at and keeps
// the copy only if the sequence word was even and unchanged around the copy,
// so a worker never decodes a half-written table, and the writer never waits.
// Workers poll the generation with one Atomics.load per request.

const HEADER_INTS = 8;
const GENERATION = 0;
const SEQ = [1, 2];
const LENGTH = [3, 4];

export class TableTooLargeError extends Error {
  override name = 'TableTooLargeError';
}

export function createTableBuffer(slotBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_INTS * 4 + 2 * slotBytes);
}

function slotBytesOf(sab: SharedArrayBuffer): number {
  return (sab.byteLength - HEADER_INTS * 4) / 2;
}

export class TableWriter {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly slotBytes: number;
  /** The same bytes as a Buffer: Buffer.write encodes UTF-8 straight into shared memory, several times faster than TextEncoder. */
  private readonly buffer: Buffer;

  constructor(readonly sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, HEADER_INTS);
    this.slotBytes = slotBytesOf(sab);
    this.bytes = new Uint8Array(sab, HEADER_INTS * 4);
    this.buffer = Buffer.from(sab, HEADER_INTS * 4);
  }

  get generation(): number {
    return Atomics.load(this.header, GENERATION);
  }

  /** Writes a new version; returns its generation. */
  publish(payload: Uint8Array | string): number {
    const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
    if (length > this.slotBytes) {
      throw new TableTooLargeError(`route table of ${length} bytes exceeds the ${this.slotBytes}-byte slot`);
    }
    const gen = Atomics.load(this.header, GENERATION) + 1;
    const slot = gen & 1;
    Atomics.add(this.header, SEQ[slot], 1); // odd: writing
    if (typeof payload === 'string') this.buffer.write(payload, slot * this.slotBytes, length, 'utf8');
    else this.bytes.set(payload, slot * this.slotBytes);
    Atomics.store(this.header, LENGTH[slot], length);
    Atomics.add(this.header, SEQ[slot], 1); // even: stable
    Atomics.store(this.header, GENERATION, gen);
    return gen;
  }
}

export class TableReader {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly slotBytes: number;
  /** Generation of the last successful read. */
  seen = 0;

  constructor(sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, HEADER_INTS);
    this.slotBytes = slotBytesOf(sab);
    this.bytes = new Uint8Array(sab, HEADER_INTS * 4);
  }

  /** The hot-path check: true when a newer version than the one read exists. */
  changed(): boolean {
    return Atomics.load(this.header, GENERATION) !== this.seen;
  }

  /** Reads (copies) the newest version, or null when there is nothing new. */
  read(): { generation: number; bytes: Uint8Array } | null {
    for (;;) {
      const gen = Atomics.load(this.header, GENERATION);
      if (gen === this.seen) return null;
      const slot = gen & 1;
      const seq = Atomics.load(this.header, SEQ[slot]);
      if ((seq & 1) === 1) continue; // being rewritten: a newer generation is coming
      const len = Atomics.load(this.header, LENGTH[slot]);
      const start = slot * this.slotBytes;
      const copy = this.bytes.slice(start, start + len);
      if (Atomics.load(this.header, SEQ[slot]) !== seq) continue;
      this.seen = gen;
      return { generation: gen, bytes: copy };
    }
  }
}
