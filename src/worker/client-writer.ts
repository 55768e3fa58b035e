// The client end of a response that a middleware took over (compress,
// errors, buffering): what the filters make is written to the uWS response,
// chunked, with the client's backpressure passed back to them. Writes come
// from outside uWS callbacks (zlib, an error page's arrival), so each is corked.
import type { HttpResponse } from 'uWebSockets.js';
import { STATUS_CODES } from 'node:http';
import type { ResponseEdit, ResponseOut } from '../middlewares/types.js';

/** What the writer needs from the exchange that owns the response. */
export interface ClientWriterHost {
  /** The response can still be written (not ended, not aborted). */
  readonly writable: boolean;
  /** Whether the client connection closes after this response. */
  closesAfter(): boolean;
  /** The status went out. */
  headSent(status: number): void;
  /** Body bytes went out. */
  bodySent(bytes: number): void;
  /** The response ended (the call that ended it returned). */
  responseEnded(): void;
  /** Runs a callback from uWS or a filter: what it throws ends this request alone. */
  guard(fn: () => void): void;
}

export class ClientWriter implements ResponseOut {
  private drains: (() => void)[] = [];
  private waiting = false;

  constructor(
    private readonly res: HttpResponse,
    private readonly host: ClientWriterHost,
    /** A HEAD request: the head alone. */
    private readonly headOnly: boolean,
    /** Middlewares' changes to the head that goes out (security headers, CORS). */
    private readonly edits: ResponseEdit[] | null,
  ) {}

  head(status: number, headers: string[]): void {
    if (!this.host.writable) return;
    if (this.edits !== null) for (const e of this.edits) e(headers);
    const close = this.host.closesAfter();
    this.res.cork(() => {
      this.res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`);
      for (let i = 0; i < headers.length; i += 2) this.res.writeHeader(headers[i]!, headers[i + 1]!);
      if (close) this.res.writeHeader('connection', 'close');
    });
    this.host.headSent(status);
  }

  data(chunk: Buffer): boolean {
    if (!this.host.writable || this.headOnly || chunk.length === 0) return true;
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    this.host.bodySent(chunk.length);
    if (ok) return true;
    if (!this.waiting) {
      this.waiting = true;
      this.res.onWritable(() => {
        this.waiting = false;
        const fns = this.drains;
        this.drains = [];
        this.host.guard(() => {
          for (const fn of fns) fn();
        });
        return true;
      });
    }
    return false;
  }

  end(last?: Buffer): void {
    if (this.host.writable) {
      // uWS aborts on endWithoutBody(length) in this build; for HEAD the head alone ends it.
      // A body given whole to end() before any write goes out with its Content-Length.
      this.res.cork(() => {
        if (this.headOnly) this.res.endWithoutBody();
        else if (last !== undefined) this.res.end(last);
        else this.res.end();
      });
      if (last !== undefined && !this.headOnly) this.host.bodySent(last.length);
    }
    this.host.responseEnded();
  }

  onDrain(fn: () => void): void {
    this.drains.push(fn);
  }
}
