// Stable slot numbers for keys (servers, services) across table versions.
// A freed slot is reused only once `isQuiet` says nothing still refers to it
// (e.g. no request in flight to the server that held it), so a worker still
// on an older table version never updates another server's counters.

export interface SlotLookup {
  get(key: string): number | undefined;
}

/** Slot numbers without keys: the caller remembers which slot is whose. */
export class SlotPool {
  private readonly free: number[] = [];
  /** Released, and waiting until quiet to be reused. */
  private readonly released: number[] = [];
  private next = 0;

  constructor(
    readonly capacity: number,
    private readonly isQuiet: (slot: number) => boolean = () => true,
    private readonly onAssign: (slot: number) => void = () => {},
  ) {}

  /** Makes released slots that became quiet available again. */
  sweep(): void {
    let kept = 0;
    for (const slot of this.released) {
      if (this.isQuiet(slot)) this.free.push(slot);
      else this.released[kept++] = slot;
    }
    this.released.length = kept;
  }

  /** Throws when every slot is taken. */
  allocate(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.next >= this.capacity) throw new Error(`no free slot: more than ${this.capacity} in use`);
      slot = this.next++;
    }
    this.onAssign(slot);
    return slot;
  }

  release(slot: number): void {
    this.released.push(slot);
  }
}

/** Slots by key. */
export class SlotAllocator implements SlotLookup {
  private readonly byKey = new Map<string, number>();
  private readonly pool: SlotPool;

  constructor(capacity: number, isQuiet?: (slot: number) => boolean, onAssign?: (slot: number) => void) {
    this.pool = new SlotPool(capacity, isQuiet, onAssign);
  }

  /**
   * Assigns slots for exactly these keys; keys not listed are released. Throws
   * when full. The result is this allocator (valid until the next change).
   */
  assign(keys: Iterable<string>): SlotLookup {
    const wanted = new Set(keys);
    for (const [key, slot] of this.byKey) {
      if (wanted.has(key)) continue;
      this.byKey.delete(key);
      this.pool.release(slot);
    }
    // Slots released just now are reusable at once if quiet.
    this.pool.sweep();
    for (const key of wanted) if (!this.byKey.has(key)) this.byKey.set(key, this.pool.allocate());
    return this;
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
