// Stable slot numbers for keys (servers, services) across table versions.
// A freed slot is reused only once `isQuiet` says nothing still refers to it
// (e.g. no request in flight to the server that held it), so a worker still
// on an older table version never updates another server's counters.

export class SlotAllocator {
  private readonly byKey = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly released: number[] = [];
  private next = 0;

  constructor(
    readonly capacity: number,
    private readonly isQuiet: (slot: number) => boolean = () => true,
    private readonly onAssign: (slot: number) => void = () => {},
  ) {}

  /** Assigns slots for exactly these keys; keys not listed are released. Throws when full. */
  assign(keys: Iterable<string>): Map<string, number> {
    const wanted = new Set(keys);
    for (const [key, slot] of this.byKey) {
      if (!wanted.has(key)) {
        this.byKey.delete(key);
        this.released.push(slot);
      }
    }
    for (let i = this.released.length - 1; i >= 0; i--) {
      if (this.isQuiet(this.released[i])) this.free.push(...this.released.splice(i, 1));
    }
    for (const key of wanted) {
      if (this.byKey.has(key)) continue;
      let slot = this.free.pop();
      if (slot === undefined) {
        if (this.next >= this.capacity) throw new Error(`no free slot: more than ${this.capacity} in use`);
        slot = this.next++;
      }
      this.onAssign(slot);
      this.byKey.set(key, slot);
    }
    return new Map(this.byKey);
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
