// Worker side of the access log. A request only appends its entry to an
// array; the lines are formatted and handed to the main thread in one
// message per batch: every 100 ms, or as soon as 1,000 entries wait (then
// from a setImmediate, still off the request). The main thread is the only
// writer (writer.ts), so lines from several workers never interleave
// mid-line, stdout works as a destination, and no worker does file I/O.
import type { AccessLogFormat } from '../config/static.js';
import { formatAccessLog, type AccessLogEntry } from './format.js';

export const FLUSH_INTERVAL_MS = 100;
export const FLUSH_ENTRIES = 1000;

export class AccessLogBuffer {
  private entries: AccessLogEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushQueued = false;

  constructor(
    private readonly format: AccessLogFormat,
    /** Delivers formatted lines (each ending in a newline) and how many there are. */
    private readonly send: (text: string, lines: number) => void,
    private readonly maxEntries = FLUSH_ENTRIES,
    private readonly intervalMs = FLUSH_INTERVAL_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.intervalMs);
  }

  /** Sends what is left and stops the timer. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }

  /** The request path's only cost: one push (and, once per batch, a setImmediate). */
  add(entry: AccessLogEntry): void {
    if (this.entries.push(entry) >= this.maxEntries && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  get pending(): number {
    return this.entries.length;
  }

  flush(): void {
    this.flushQueued = false;
    const batch = this.entries;
    if (batch.length === 0) return;
    this.entries = [];
    const now = Date.now();
    const lines: string[] = [];
    for (const e of batch) lines.push(formatAccessLog(e, this.format, now));
    lines.push('');
    // One flat string (join), not a rope of concatenations that postMessage would have to flatten.
    this.send(lines.join('\n'), batch.length);
  }
}
