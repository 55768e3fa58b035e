// A request portero makes itself while a client's request waits: forwardAuth's
// call to its auth server, the errors middleware's page. It borrows a
// connection from the same keep-alive pools as proxied requests, so it obeys
// their limits and reuse rules, and reads a bounded response into memory.
import { DialError, type PoolWaiter, type ServerPool } from './pool.js';
import type { ExchangeSink, UpstreamConnection } from './connection.js';
import { BodyMode, type ResponseHead } from './response-parser.js';

export interface SideResponse {
  status: number;
  /** Flat [name, value, ...] as the server sent them (hop-by-hop and framing headers removed). */
  headers: string[];
  body: Buffer;
}

export interface SideRequestOptions {
  /** Gives up (and rejects) after this long without a complete response. */
  timeoutMs: number;
  /** A longer response body is refused: the request is cut and the promise rejects. */
  maxBodyBytes: number;
}

/** Sends `head` (a whole bodiless HTTP/1.1 request head) over `pool`; resolves with the response. */
export function sideRequest(pool: ServerPool, head: string, options: SideRequestOptions): Promise<SideResponse> {
  return new Promise((resolve, reject) => {
    new SideRequest(pool, head, options, resolve, reject).start();
  });
}

class SideRequest implements PoolWaiter, ExchangeSink {
  private conn: UpstreamConnection | null = null;
  private response: ResponseHead | null = null;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  private freshTried = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pool: ServerPool,
    private readonly head: string,
    private readonly options: SideRequestOptions,
    private readonly resolve: (r: SideResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.timer = setTimeout(() => this.fail(new Error(`no response within ${options.timeoutMs} ms`)), options.timeoutMs);
  }

  start(): void {
    const conn = this.pool.acquire(this);
    if (conn !== null) this.onConnection(conn);
  }

  onConnection(conn: UpstreamConnection): void {
    if (this.done) {
      conn.giveBack();
      return;
    }
    this.conn = conn;
    conn.send(this, false, (fn) => fn(), this.head, -1);
  }

  onConnectError(err: DialError): void {
    this.fail(err);
  }

  onHead(head: ResponseHead): void {
    this.response = head;
    if (head.mode === BodyMode.Length && head.contentLength > this.options.maxBodyBytes) this.fail(new Error(`response body of ${head.contentLength} bytes is over ${this.options.maxBodyBytes}`));
  }

  onBody(chunk: Buffer): boolean {
    if (this.done) return true;
    this.size += chunk.length;
    if (this.size > this.options.maxBodyBytes) {
      this.fail(new Error(`response body over ${this.options.maxBodyBytes} bytes`));
      return true;
    }
    // A view into the read buffer: copied.
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  onComplete(): void {
    this.conn = null;
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    const r = this.response!;
    this.resolve({ status: r.status, headers: r.headers, body: Buffer.concat(this.chunks) });
  }

  onConnectionError(err: Error, responseStarted: boolean): void {
    this.conn = null;
    // A pooled socket the server had just closed: one more try on a new one, as for proxied GETs.
    if (!responseStarted && !this.freshTried && !this.done) {
      this.freshTried = true;
      this.pool.dialFresh(this);
      return;
    }
    this.fail(err);
  }

  onInternalError(err: unknown): void {
    this.fail(err instanceof Error ? err : new Error(String(err)));
  }

  onRequestSent(): void {}

  onDrain(): void {}

  abandonable(): boolean {
    return this.response === null && !this.done;
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) conn.abort(this);
    else this.pool.cancel(this);
    this.reject(err);
  }
}
