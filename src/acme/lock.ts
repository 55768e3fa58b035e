// Several instances sharing one acme.json (a shared volume on every Swarm
// manager) must not order the same certificate at once. A lock file created
// with O_EXCL says who orders; it carries an expiry, so a holder that died
// does not block the others for longer than that.
import { openSync, closeSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export const LOCK_TTL_MS = 5 * 60_000;

interface LockContent {
  owner: string;
  expires: number;
}

export class OrderLock {
  private readonly owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    readonly path: string,
    private readonly ttlMs = LOCK_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this instance now holds the lock. */
  tryAcquire(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        try {
          writeSync(fd, JSON.stringify({ owner: this.owner, expires: this.now() + this.ttlMs } satisfies LockContent));
        } finally {
          closeSync(fd);
        }
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = this.content();
      // Still valid: someone else orders. Unreadable: being written, or left
      // half-written by a crash; its age decides.
      if (held !== null ? held.expires > this.now() : this.age() < this.ttlMs) return false;
      // Expired: its holder is gone. Remove it and try once more; O_EXCL settles a race.
      try {
        unlinkSync(this.path);
      } catch {
        /* another instance removed it first */
      }
    }
    return false;
  }

  release(): void {
    const held = this.content();
    if (held?.owner !== this.owner) return;
    try {
      unlinkSync(this.path);
    } catch {
      /* gone already */
    }
  }

  private age(): number {
    try {
      return this.now() - statSync(this.path).mtimeMs;
    } catch {
      return Infinity;
    }
  }

  private content(): LockContent | null {
    try {
      const c = JSON.parse(readFileSync(this.path, 'utf8')) as LockContent;
      return typeof c.expires === 'number' && typeof c.owner === 'string' ? c : null;
    } catch {
      return null;
    }
  }
}
