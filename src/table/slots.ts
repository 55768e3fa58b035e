// Stable slot numbers for keys (servers, services) across table versions.
// A freed slot is reused only once `isQuiet` says nothing still refers to it
// (e.g. no request in flight to the server that held it), so a worker still
// on an older table version never updates another server's counters.

export interface SlotLookup {
  get(key: string): number | undefined;
}

export class SlotAllocator implements SlotLookup {
  private readonly byKey = new Map<string, number>();
  private readonly free: number[] = [];
  /** Released, and waiting until quiet to be reused. */
  private readonly released: number[] = [];
  private next = 0;

  constructor(
    readonly capacity: number,
    private readonly isQuiet: (slot: number) => boolean = () => true,
    private readonly onAssign: (slot: number) => void = () => {},
  ) {}

  /**
   * Assigns slots for exactly these keys; keys not listed are released. Throws
   * when full. The result is this allocator (valid until the next change).
   */
  assign(keys: Iterable<string>): SlotLookup {
    this.sweep();
    const wanted = new Set(keys);
    for (const key of this.byKey.keys()) if (!wanted.has(key)) this.release(key);
    for (const key of wanted) this.take(key);
    return this;
  }

  /** Makes released slots that became quiet available again. */
  sweep(): void {
    let kept = 0;
    for (const slot of this.released) {
      if (this.isQuiet(slot)) this.free.push(slot);
      else this.released[kept++] = slot;
    }
    this.released.length = kept;
  }

  /** The key's slot, assigned now if it has none. Throws when full. */
  take(key: string): number {
    let slot = this.byKey.get(key);
    if (slot !== undefined) return slot;
    slot = this.free.pop();
    if (slot === undefined) {
      if (this.next >= this.capacity) throw new Error(`no free slot: more than ${this.capacity} in use`);
      slot = this.next++;
    }
    this.onAssign(slot);
    this.byKey.set(key, slot);
    return slot;
  }

  release(key: string): void {
    const slot = this.byKey.get(key);
    if (slot === undefined) return;
    this.byKey.delete(key);
    this.released.push(slot);
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
