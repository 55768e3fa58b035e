// Services an event named, read on their own for a while. Docker sends no
// task events: the tasks of a deploy, scale or update start running seconds
// after the service event, and only a read of the tasks shows them. One
// service's tasks cost a few KB; the full poll of a large Swarm costs tens of
// MB and a full rebuild. So a named service is read every FOLLOW_EVERY_MS for
// FOLLOW_FOR_MS (a new event for it starts the window again), and each change
// is applied to that service alone.
import type { SwarmService } from './model.js';

export const FOLLOW_EVERY_MS = 250;
export const FOLLOW_FOR_MS = 30_000;

export interface FollowHost {
  /** The service now; null: gone; 'unchanged' since the last read. */
  read(id: string): Promise<SwarmService | null | 'unchanged'>;
  changed(id: string, service: SwarmService | null): void;
  /** The service is no longer followed (its window ended, or it is gone). */
  forget(id: string): void;
}

export class ServiceFollower {
  /** Service ID -> when following it ends. */
  private readonly until = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(
    private readonly host: FollowHost,
    private readonly everyMs = FOLLOW_EVERY_MS,
    private readonly forMs = FOLLOW_FOR_MS,
  ) {}

  follow(id: string): void {
    this.until.set(id, Date.now() + this.forMs);
    this.schedule(0);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.until.clear();
  }

  private schedule(ms: number): void {
    if (this.timer !== null || this.reading) return;
    this.timer = setTimeout(() => void this.round(), ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    this.timer = null;
    this.reading = true;
    try {
      const now = Date.now();
      const ids: string[] = [];
      for (const [id, until] of this.until) {
        if (now <= until) ids.push(id);
        else {
          this.until.delete(id);
          this.host.forget(id);
        }
      }
      const results = await Promise.allSettled(ids.map((id) => this.host.read(id)));
      results.forEach((r, i) => {
        // A failed read is left to the full poll, which reports an unreachable API.
        if (r.status !== 'fulfilled' || r.value === 'unchanged') return;
        const id = ids[i]!;
        this.host.changed(id, r.value);
        if (r.value === null) {
          this.until.delete(id);
          this.host.forget(id);
        }
      });
    } finally {
      this.reading = false;
    }
    if (this.until.size > 0) this.schedule(this.everyMs);
  }
}
