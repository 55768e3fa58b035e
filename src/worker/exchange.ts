// One proxied request: the client's uWS response on one side, an upstream
// keep-alive connection on the other, bytes streamed both ways with
// backpressure. It picks servers, retries when that is safe, and maps
// failures to 502/504; a failure after the response started closes the
// client connection so a truncated body never looks complete.
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { pickServer } from '../balancer/pick.js';
import type { RetrySpec } from '../table/middlewares.js';
import type { SharedState } from '../table/shared-state.js';
import type { ExchangeSink, UpstreamConnection } from '../upstream/connection.js';
import { DialError, type PoolWaiter } from '../upstream/pool.js';
import { BodyMode, type ResponseHead } from '../upstream/response-parser.js';
import type { ServerRuntime, ServiceRuntime } from './routes.js';
import type { Trace } from '../metrics/observe.js';

export interface ExchangeContext {
  state: SharedState;
  responseHeaderTimeoutMs: number;
  /** Set while the worker drains: responses close their connection. */
  draining: boolean;
  onFinish(): void;
  /** Metrics and access log; null when both are off (then nothing is measured). */
  observer: ExchangeObserver | null;
}

/** Told once about every exchange that carried a trace, when it ends. */
export interface ExchangeObserver {
  ended(x: Exchange, trace: Trace): void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const MAX_QUEUED_BODY = 256 * 1024;
/** Fresh-connection retries after a failure on a written request (safe methods only). */
const MAX_RETRIES = 3;
/** The longest wait between two attempts of a retry middleware. */
const MAX_RETRY_WAIT_MS = 10_000;

export function sendError(res: HttpResponse, status: number, body: string, close = false): void {
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_CODES[status]}`).writeHeader('content-type', 'text/plain; charset=utf-8').end(body, close);
  });
}

export class Exchange implements ExchangeSink, PoolWaiter {
  private aborted = false;
  private finished = false;
  /** The server of the current (or last) attempt. */
  server: ServerRuntime | null = null;
  /** The service the request went to: the route's, or a twin's it fell back to. */
  service: ServiceRuntime;
  private serviceIndex = 0;
  // What the observer reads when the exchange ends (kept whether or not anyone observes: plain stores).
  /** Set by the handler when metrics or the access log are on. */
  trace: Trace | null = null;
  /** Status sent to the client; 0 until known. */
  status = 0;
  /** Status the server answered with; 0 when it did not answer. */
  originStatus = 0;
  /** Response body bytes handed to the client, request body bytes received from it. */
  bytesOut = 0;
  bytesIn = 0;
  /** Attempts after the first. */
  retries = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the first server was asked (traced exchanges only). */
  originStart = 0;
  /** Whether this exchange currently counts in server's shared in-flight number. */
  private counted = false;
  private tried: ServerRuntime[] | null = null;
  private conn: UpstreamConnection | null = null;
  private requestWritten = false;
  private responseStarted = false;
  private headerTimer: NodeJS.Timeout | null = null;
  // Request body
  private bodyQueue: Buffer[] | null = null;
  private queuedBytes = 0;
  private bodyDone: boolean;
  private bodyPaused = false;
  // Response body
  private mode = BodyMode.None;
  private total = 0;
  private offset = 0;
  private remainder: Buffer | null = null;
  private remainderAt = 0;
  private readonly cork = (fn: () => void) => {
    if (!this.aborted) this.res.cork(fn);
  };

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly res: HttpResponse,
    /** The route's service, then its twins' (see RouteEntry.services). */
    private readonly services: readonly ServiceRuntime[],
    /** The router's retry middleware, or null. */
    private readonly retry: RetrySpec | null,
    private readonly headRequest: boolean,
    private readonly method: string,
    /** Request head up to the Host value. */
    private readonly headPrefix: string,
    /** The client's Host header ("" when it sent none). */
    private readonly clientHost: string,
    /** From the CRLF after Host to the end of the head. */
    private readonly headSuffix: string,
    /** -1 no body, -2 chunked, else length. */
    private readonly bodyLength: number,
    /** The body must arrive within this (0: no limit). */
    readTimeoutMs: number,
  ) {
    this.bodyDone = bodyLength === -1;
    if (!this.bodyDone && readTimeoutMs > 0) this.readTimer = setTimeout(() => this.onReadTimeout(), readTimeoutMs);
    this.service = services[0];
    res.onAborted(() => this.abort());
    if (bodyLength !== -1) res.onData((chunk, isLast) => this.onRequestData(chunk, isLast));
  }

  start(): void {
    if (this.trace !== null) this.originStart = performance.now();
    const server = this.pickNext(null);
    if (server === null) {
      this.fail(503, 'Service Unavailable');
      return;
    }
    this.attempt(server, false);
  }

  /** The next untried server of the current service, moving on to a twin's service when it has none left. */
  private pickNext(tried: ServerRuntime[] | null): ServerRuntime | null {
    for (; this.serviceIndex < this.services.length; this.serviceIndex++) {
      const s = pickServer(this.services[this.serviceIndex], this.ctx.state, tried);
      if (s !== null) return s;
    }
    return null;
  }

  private attempt(server: ServerRuntime, fresh: boolean): void {
    this.server = server;
    // (A fresh-connection retry of the last server may come after every service was tried.)
    if (this.serviceIndex < this.services.length) this.service = this.services[this.serviceIndex];
    this.counted = true;
    this.ctx.state.addInflight(server.slot, 1);
    if (fresh) {
      server.pool.dialFresh(this);
      return;
    }
    const conn = server.pool.acquire(this);
    if (conn !== null) this.onConnection(conn);
  }

  private leaveServer(): void {
    if (this.counted) {
      this.counted = false;
      this.ctx.state.addInflight(this.server!.slot, -1);
    }
  }

  // PoolWaiter
  onConnection(conn: UpstreamConnection): void {
    if (this.aborted || this.finished) {
      conn.release(true);
      return;
    }
    this.conn = conn;
    conn.attach(this, this.headRequest, this.cork);
    const server = this.server!;
    const host = server.passHostHeader && this.clientHost !== '' ? this.clientHost : server.authority;
    this.requestWritten = true;
    let ok = conn.write(this.headPrefix + host + this.headSuffix);
    if (this.bodyQueue !== null) {
      for (const b of this.bodyQueue) ok = this.writeBody(b);
      this.bodyQueue = null;
      this.queuedBytes = 0;
    }
    if (this.bodyDone && this.bodyLength === -2) ok = conn.write('0\r\n\r\n') && ok;
    if (!ok) this.pauseBody();
    else this.resumeBody();
    if (this.ctx.responseHeaderTimeoutMs > 0) {
      this.headerTimer = setTimeout(() => this.onHeaderTimeout(), this.ctx.responseHeaderTimeoutMs);
    }
  }

  onConnectError(err: Error): void {
    this.leaveServer();
    if (this.aborted || this.finished) return;
    const timeout = err instanceof DialError && err.code === 'ETIMEDOUT';
    this.failedServer();
    // Nothing was sent: always safe to try another server.
    (this.tried ??= []).push(this.server!);
    if (this.retry !== null) {
      this.retryLater(timeout);
      return;
    }
    const next = this.pickNext(this.tried);
    if (next !== null) {
      this.retries++;
      this.attempt(next, false);
      return;
    }
    this.fail(timeout ? 504 : 502, timeout ? 'Gateway Timeout' : 'Bad Gateway');
  }

  // Request body, client -> upstream
  private onRequestData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.aborted) return;
    if (chunk.byteLength > 0) {
      // uWS reuses the chunk's memory after this call: copy.
      const copy = Buffer.from(new Uint8Array(chunk));
      this.bytesIn += copy.length;
      if (this.conn !== null && this.requestWritten) {
        if (!this.writeBody(copy)) this.pauseBody();
      } else {
        (this.bodyQueue ??= []).push(copy);
        this.queuedBytes += copy.length;
        if (this.queuedBytes > MAX_QUEUED_BODY) this.pauseBody();
      }
    }
    if (isLast) {
      this.bodyDone = true;
      this.stopReadTimer();
      if (this.conn !== null && this.requestWritten && this.bodyLength === -2) this.conn.write('0\r\n\r\n');
    }
  }

  private writeBody(b: Buffer): boolean {
    const conn = this.conn!;
    if (this.bodyLength !== -2) return conn.write(b);
    conn.write(`${b.length.toString(16)}\r\n`);
    conn.write(b);
    return conn.write('\r\n');
  }

  private pauseBody(): void {
    if (!this.bodyPaused && !this.bodyDone) {
      this.bodyPaused = true;
      this.res.pause();
    }
  }

  private resumeBody(): void {
    if (this.bodyPaused && !this.aborted) {
      this.bodyPaused = false;
      this.res.resume();
    }
  }

  // ExchangeSink, upstream -> client
  abandonable(): boolean {
    return !this.responseStarted && !this.aborted && !this.finished && this.bodyLength === -1 && IDEMPOTENT.has(this.method);
  }

  onDrain(): void {
    this.resumeBody();
  }

  onHead(head: ResponseHead): void {
    if (this.headerTimer !== null) {
      clearTimeout(this.headerTimer);
      this.headerTimer = null;
    }
    if (this.aborted) return;
    this.responseStarted = true;
    this.status = this.originStatus = head.status;
    const res = this.res;
    res.writeStatus(
      head.status === 200 && head.reason === 'OK'
        ? '200 OK'
        : head.reason === ''
          ? `${head.status} ${STATUS_CODES[head.status] ?? ''}`
          : `${head.status} ${head.reason}`,
    );
    const h = head.headers;
    for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i], h[i + 1]);
    this.mode = head.mode;
    this.total = head.contentLength;
    if (head.mode === BodyMode.None) {
      // uWS would report Content-Length: 0; keep the upstream's figure for HEAD and 304.
      if (head.contentLength >= 0 && head.status !== 204) res.writeHeader('content-length', String(head.contentLength));
      // Called without arguments: this uWS build writes "Content-Length: 0" for an explicit undefined.
      res.endWithoutBody();
    }
  }

  onBody(chunk: Buffer): void {
    if (this.aborted || chunk.length === 0) return;
    this.bytesOut += chunk.length;
    const res = this.res;
    if (this.mode === BodyMode.Length) {
      if (this.offset === 0 && chunk.length === this.total) {
        // The whole body in one read, the common case: end() copies it once.
        this.offset = chunk.length;
        res.end(chunk, this.ctx.draining);
        return;
      }
      const before = this.offset;
      const [ok] = res.tryEnd(chunk, this.total);
      if (ok) {
        this.offset += chunk.length;
        return;
      }
      // tryEnd sent what the socket took; keep the rest (the read buffer is reused).
      const written = res.getWriteOffset() - before;
      this.offset += chunk.length;
      this.remainder = Buffer.from(chunk.subarray(written));
      this.remainderAt = before + written;
      this.conn?.socket.pause();
      res.onWritable((off) => this.onWritableLength(off));
      return;
    }
    if (!res.write(chunk)) {
      this.conn?.socket.pause();
      res.onWritable(() => {
        this.conn?.socket.resume();
        return true;
      });
    }
  }

  private onWritableLength(off: number): boolean {
    const rest = this.remainder;
    if (rest === null || this.aborted) return true;
    const [ok, done] = this.res.tryEnd(rest.subarray(off - this.remainderAt), this.total);
    if (ok || done) {
      this.remainder = null;
      if (!done) this.conn?.socket.resume();
      else this.finish();
      return true;
    }
    return false;
  }

  onComplete(keepAlive: boolean): void {
    const conn = this.conn!;
    this.conn = null;
    conn.release(keepAlive);
    if (this.aborted) return;
    if (this.mode === BodyMode.Chunked || this.mode === BodyMode.Close) this.res.end(undefined, this.ctx.draining);
    else if (this.mode === BodyMode.Length && this.total === 0) this.res.end(undefined, this.ctx.draining);
    if (this.remainder === null) this.finish();
  }

  onConnectionError(_err: Error, responseStarted: boolean): void {
    this.conn = null;
    if (this.headerTimer !== null) {
      clearTimeout(this.headerTimer);
      this.headerTimer = null;
    }
    if (this.aborted || this.finished) return;
    if (this.responseStarted) {
      // Mid-response: the client must see a broken connection, not a short body.
      this.closeClient();
      return;
    }
    this.leaveServer();
    // A reused keep-alive socket can be closed by the upstream just as we
    // send; retry on a fresh connection when repeating the request is safe.
    const tried = (this.tried ??= []);
    const limit = this.retry === null ? MAX_RETRIES : this.retry.attempts - 1;
    if (!responseStarted && this.bodyLength === -1 && IDEMPOTENT.has(this.method) && tried.length < limit) {
      tried.push(this.server!);
      this.retries++;
      this.attempt(this.pickNext(tried) ?? this.server!, true);
      return;
    }
    this.fail(502, 'Bad Gateway');
  }

  /** The client did not send its whole body in time: 408 (or a cut connection mid-response), and the upstream request is dropped. */
  private onReadTimeout(): void {
    this.readTimer = null;
    if (this.aborted || this.finished || this.bodyDone) return;
    this.dropUpstream();
    if (this.responseStarted) this.closeClient();
    else this.fail(408, 'Request Timeout', true);
  }

  private onHeaderTimeout(): void {
    this.headerTimer = null;
    const conn = this.conn;
    this.conn = null;
    conn?.detach();
    conn?.destroy();
    if (this.aborted || this.finished) return;
    this.failedServer();
    this.fail(504, 'Gateway Timeout');
  }

  /**
   * Under a retry middleware: attempts in all, each after a wait that
   * doubles from initialInterval, on the next untried server or, once all
   * were tried, the same one again (a restarting task may come back).
   */
  private retryLater(timeout: boolean): void {
    const retry = this.retry!;
    if (this.retries >= retry.attempts - 1) {
      this.fail(timeout ? 504 : 502, timeout ? 'Gateway Timeout' : 'Bad Gateway');
      return;
    }
    const next = this.pickNext(this.tried) ?? this.server!;
    const wait = Math.min(retry.initialIntervalMs * 2 ** this.retries, MAX_RETRY_WAIT_MS);
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.aborted && !this.finished) this.attempt(next, false);
    }, wait);
  }

  /** A transport failure of the current server: its passive health check, if it has one, counts it. */
  private failedServer(): void {
    const s = this.server;
    if (s !== null && s.passive !== null) this.ctx.state.recordFailure(s.slot, s.passive);
  }

  private fail(status: number, body: string, close = this.ctx.draining): void {
    this.status = status;
    this.bytesOut = body.length;
    if (!this.aborted) sendError(this.res, status, body, close);
    this.finish();
  }

  private closeClient(): void {
    if (!this.aborted) {
      this.aborted = true;
      this.res.close();
    }
    this.finish();
  }

  private abort(): void {
    this.aborted = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.dropUpstream();
    this.finish();
  }

  /** Gives up the upstream side: its connection (never reused: the exchange on it is cut), or the wait for one. */
  private dropUpstream(): void {
    if (this.headerTimer !== null) {
      clearTimeout(this.headerTimer);
      this.headerTimer = null;
    }
    const conn = this.conn;
    if (conn !== null) {
      this.conn = null;
      conn.detach();
      conn.destroy();
    } else if (this.server !== null && !this.requestWritten) {
      this.server.pool.cancel(this);
    }
  }

  private stopReadTimer(): void {
    if (this.readTimer !== null) {
      clearTimeout(this.readTimer);
      this.readTimer = null;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopReadTimer();
    // For the dashboard: the service that answered (a twin's, after a fallback), else the route's.
    this.ctx.state.countRequest(this.server !== null ? this.server.service : this.services[0].rr, this.status >= 500);
    this.leaveServer();
    if (this.trace !== null) this.ctx.observer!.ended(this, this.trace);
    this.ctx.onFinish();
  }
}
