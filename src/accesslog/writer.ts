// Main-thread side of the access log: the single writer. Workers send
// formatted batches (buffer.ts); they are written to the file (appended) or
// stdout through pino's asynchronous destination (sonic-boom), so the main
// thread never blocks on a slow disk or pipe either.
//
// --accesslog.bufferingsize=N holds up to N lines before writing them (and
// at most a second); 0 writes every batch as it arrives.
import { pino } from 'pino';
import type { AccessLogConfig } from '../config/static.js';

/** Memory the destination may hold when it cannot keep up; beyond it, lines are dropped (and counted). */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
const HOLD_MS = 1000;

export class AccessLogWriter {
  private readonly dest: ReturnType<typeof pino.destination>;
  private held: string[] = [];
  private heldLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed: Promise<void> | null = null;
  /** Lines written (handed to the destination) and dropped. */
  lines = 0;
  dropped = 0;

  constructor(
    private readonly config: AccessLogConfig,
    onError: (err: Error) => void = () => {},
  ) {
    this.dest = pino.destination({
      dest: config.filePath ?? 1,
      sync: false,
      mkdir: config.filePath !== undefined,
      append: true,
      maxLength: MAX_PENDING_BYTES,
    });
    this.dest.on('error', onError);
    this.dest.on('drop', (data: string) => {
      for (let i = data.indexOf('\n'); i >= 0; i = data.indexOf('\n', i + 1)) this.dropped++;
    });
  }

  write(text: string, lines: number): void {
    if (this.closed !== null) return;
    if (this.config.bufferingSize <= 0) {
      this.out(text, lines);
      return;
    }
    this.held.push(text);
    this.heldLines += lines;
    if (this.heldLines >= this.config.bufferingSize) this.release();
    else this.timer ??= setTimeout(() => this.release(), HOLD_MS).unref();
  }

  /** Reopens the file (after log rotation moved it away). */
  reopen(): void {
    if (this.config.filePath !== undefined && this.closed === null) this.dest.reopen();
  }

  /** Writes what is held and closes the destination once everything is out. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.release();
      this.dest.once('close', () => resolve());
      this.dest.end();
    });
    return this.closed;
  }

  private release(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.held.length === 0) return;
    const text = this.held.join('');
    const lines = this.heldLines;
    this.held = [];
    this.heldLines = 0;
    this.out(text, lines);
  }

  private out(text: string, lines: number): void {
    this.lines += lines;
    this.dest.write(text);
  }
}
