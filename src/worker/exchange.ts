// One proxied request: the client's uWS response on one side, an upstream
// connection on the other. It picks servers, retries when that is safe, maps
// failures to 502/504, and moves body bytes both ways with backpressure. The
// upstream connection owns its socket and reuse rules (connection.ts); the
// exchange owns the client side: it never touches a response that has ended
// or was aborted, and whatever its own code throws ends this request alone.
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { pickServer } from '../balancer/pick.js';
import { stickySetCookies, stickyWithin } from '../balancer/sticky.js';
import { tellEnded } from '../middlewares/pipeline.js';
import type { ForwardedRequest, ResponseFilter, ResponseOut, RetrySpec } from '../middlewares/types.js';
import { ClientWriter, type ClientWriterHost } from './client-writer.js';
import type { SharedState } from '../shared/shared-state.js';
import { type ExchangeSink, RequestMoved, type UpstreamConnection } from '../upstream/connection.js';
import { DialError, type PoolWaiter } from '../upstream/pool.js';
import { BodyMode, type ResponseHead } from '../upstream/response-parser.js';
import { joinPath, type ServerRuntime, type ServiceRuntime } from '../balancer/runtime.js';
import type { AppInflight } from './request-head.js';
import type { Trace, TracedOutcome } from './trace.js';

export interface ExchangeContext {
  state: SharedState;
  responseHeaderTimeoutMs: number;
  /** Set while the worker drains: responses close their connection. */
  draining: boolean;
  /** A proxied request or session is over: the worker's count, and its uWS app's (`app`, TLS entry points), go down. */
  onFinish(app: AppInflight | null): void;
  /** Metrics and the access log; null when both are off (then nothing is measured). */
  observer: ExchangeObserver | null;
  /** Portero's own code threw while handling one request: count it and log it with its stack. */
  internalError(err: unknown): void;
}

/** Told once about every exchange that carried a trace, when it ends. */
export interface ExchangeObserver {
  ended(x: TracedOutcome, trace: Trace): void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Request body held while no upstream connection is ready; beyond it the client is paused. */
const MAX_QUEUED_BODY = 256 * 1024;
/**
 * An answer that comes before the client sent its whole body keeps the
 * connection when at most this much body is left. With more left, or a
 * chunked body, the answer carries Connection: close. Either way uWS reads
 * and drops the rest of the body (closing a client that sends under 16 KB/s
 * for 10 s), so the client can read the answer: closing at once would reset
 * the connection under a client still sending, and many lose the answer then.
 */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * Whether an answer sent before the request body is all in closes the
 * connection: when draining, or when more body is left than is worth reading
 * and dropping. `bodyLength` as parsed (-1 none or all in, -2 chunked: size
 * unknown); `received` body bytes so far.
 */
export function closesAfterEarlyAnswer(draining: boolean, bodyLength: number, received: number): boolean {
  if (draining) return true;
  if (bodyLength === -1) return false;
  return bodyLength === -2 || bodyLength - received > DISCARD_LIMIT;
}
/** Fresh-connection retries after a failure on a written request (safe methods only). */
const MAX_RETRIES = 3;
/** The longest wait between two attempts of a retry middleware. */
const MAX_RETRY_WAIT_MS = 10_000;

/** How a response leaves the client connection: kept, told to close (the client closes it), or closed by uWS once sent. */
export const enum After {
  Keep,
  Tell,
  Close,
}

/** An answer of portero's own; to HEAD, the headers alone (with the body's length). */
export function sendError(res: HttpResponse, status: number, body: string, after = After.Keep, head = false): void {
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_CODES[status]}`).writeHeader('content-type', 'text/plain; charset=utf-8');
    if (after === After.Tell) res.writeHeader('connection', 'close');
    // This uWS build aborts the process on endWithoutBody(length): the header is written by hand.
    if (head && after !== After.Close) res.writeHeader('content-length', String(Buffer.byteLength(body))).endWithoutBody();
    else res.end(head ? '' : body, after === After.Close);
  });
}

export class Exchange implements ExchangeSink, PoolWaiter, ClientWriterHost {
  /**
   * The client's response can still be written to: not ended, not aborted,
   * not closed. Cleared after an ending call returns, so a call that threw
   * leaves it set and the failure path closes the connection.
   */
  private resOpen = true;
  private finished = false;
  private broken = false;
  /** The server of the current (or last) attempt. */
  server: ServerRuntime | null = null;
  /** The service the request went to: the route's, or a twin's it fell back to. */
  service: ServiceRuntime;
  private serviceIndex = 0;
  // What the observer reads when the exchange ends (kept whether or not anyone observes: plain stores).
  /** Set by the handler when metrics or the access log are on. */
  trace: Trace | null = null;
  /** The client sent Connection: close (set by the handler): every answer says the connection closes. */
  clientClose = false;
  /** The uWS app's count (TLS entry points), given back at the end. */
  appInflight: AppInflight | null = null;
  /**
   * What the router's middlewares asked of this request (response edits,
   * ended listeners, response filters, a body limit); null without
   * middlewares, so a plain exchange carries one empty field for them all.
   */
  mw: ForwardedRequest | null = null;
  /** The server the client's sticky cookies name (set by the handler), or null. */
  stickyPick: ServerRuntime | null = null;
  /** The client's Cookie header when the route's service keeps sticky cookies (set by the handler), else null. */
  stickyCookies: string | null = null;
  /** performance.now() at start() and at the response head, when middlewares listen for the end. */
  private startedAt = 0;
  private headAt = 0;
  /** The filter the response flows through when a middleware took it over, until the client's response ends. */
  private filter: ResponseFilter | null = null;
  /** The server's response was read to its end. */
  private upstreamDone = false;
  /** Status sent to the client; 0 until known. */
  status = 0;
  /** Status the server answered with; 0 when it did not answer. */
  originStatus = 0;
  /** Response body bytes handed to the client, request body bytes received from it. */
  bytesOut = 0;
  bytesIn = 0;
  /** Attempts after the first. */
  retries = 0;
  readonly websocket = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private headerTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the first server was asked (traced exchanges only). */
  originStart = 0;
  /** Whether this exchange currently counts in server's shared in-flight number. */
  private counted = false;
  private tried: ServerRuntime[] | null = null;
  private conn: UpstreamConnection | null = null;
  /** The request was handed to an upstream connection (a retry is then only safe for some requests). */
  private requestWritten = false;
  private responseStarted = false;
  // Request body
  private bodyQueue: Buffer[] | null = null;
  private queuedBytes = 0;
  private bodyDone: boolean;
  /** No body, or an empty one: such a request can be sent again. */
  private readonly bodiless: boolean;
  /** A bodiless GET or HEAD: it may be pipelined where the server's transport allows. */
  private readonly pipelinable: boolean;
  private bodyPaused = false;
  // Response body
  private mode = BodyMode.None;
  private total = 0;
  private offset = 0;
  private remainder: Buffer | null = null;
  private remainderAt = 0;
  private readonly cork = (fn: () => void) => {
    if (this.resOpen) this.res.cork(fn);
    else fn();
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
    this.bodiless = bodyLength === -1 || bodyLength === 0;
    this.pipelinable = this.bodiless && (method === 'GET' || headRequest);
    this.bodyDone = this.bodiless;
    if (!this.bodyDone && readTimeoutMs > 0) this.readTimer = setTimeout(() => this.guarded(this.onReadTimeout), readTimeoutMs);
    this.service = services[0];
    res.onAborted(() => this.guarded(this.abort));
    if (!this.bodyDone) res.onData((chunk, isLast) => this.onClientData(chunk, isLast));
  }

  start(): void {
    try {
      if (this.trace !== null) this.originStart = performance.now();
      if (this.mw?.ended != null) this.startedAt = performance.now();
      // A sticky cookie's server while it is up; else the balancer's pick, which gets a fresh cookie.
      const pinned = this.stickyPick;
      let server = pinned !== null && this.ctx.state.isUp(pinned.slot) ? pinned : this.pickNext(null);
      if (server !== null && server !== pinned && this.stickyCookies !== null) server = stickyWithin(this.service, server, this.stickyCookies, this.ctx.state);
      if (server === null) {
        this.fail(503, 'Service Unavailable');
        return;
      }
      this.attempt(server, false);
    } catch (err) {
      this.onInternalError(err);
    }
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
    const conn = server.pool.acquire(this, this.pipelinable);
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
    try {
      this.sendRequest(conn);
    } catch (err) {
      this.onInternalError(err);
    }
  }

  private sendRequest(conn: UpstreamConnection): void {
    if (this.finished) {
      // Nothing was written on it: it can serve someone else.
      conn.giveBack();
      return;
    }
    this.conn = conn;
    const server = this.server!;
    const host = server.passHostHeader && this.clientHost !== '' ? this.clientHost : server.authority;
    this.requestWritten = true;
    const line = server.pathPrefix === '' ? this.headPrefix : prefixedLine(this.headPrefix, this.method, server.pathPrefix);
    let ok = conn.send(this, this.headRequest, this.cork, line + host + this.headSuffix, this.bodyLength, this.pipelinable);
    if (this.bodyQueue !== null) {
      for (const b of this.bodyQueue) ok = conn.sendBody(b);
      this.bodyQueue = null;
      this.queuedBytes = 0;
    }
    if (this.bodyDone) conn.endBody();
    if (ok) this.resumeBody();
    else this.pauseBody();
  }

  onConnectError(err: DialError): void {
    try {
      this.connectFailed(err);
    } catch (e) {
      this.onInternalError(e);
    }
  }

  private connectFailed(err: DialError): void {
    this.leaveServer();
    if (this.finished) return;
    const timeout = err.code === 'ETIMEDOUT';
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
  /** Body bytes that arrived before this exchange existed (a middleware took its time), in order, before start(). */
  feed(chunk: Buffer, isLast: boolean): void {
    this.onClientData(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer, isLast);
  }

  private onClientData(chunk: ArrayBuffer, isLast: boolean): void {
    try {
      this.onRequestData(chunk, isLast);
    } catch (err) {
      this.onInternalError(err);
    }
  }

  private onRequestData(chunk: ArrayBuffer, isLast: boolean): void {
    if (isLast) {
      this.bodyDone = true;
      this.stopReadTimer();
    }
    // After our answer (or the client went away), uWS goes on delivering the rest of the body: dropped.
    if (this.finished) return;
    if (chunk.byteLength > 0) {
      this.bytesIn += chunk.byteLength;
      if (this.mw !== null && this.mw.maxBodyBytes > 0 && this.bytesIn > this.mw.maxBodyBytes) {
        this.bodyTooLarge();
        return;
      }
      const conn = this.conn;
      if (conn !== null) {
        // uWS reuses the chunk's memory after this call: copy.
        if (!conn.sendBody(Buffer.from(new Uint8Array(chunk)))) this.pauseBody();
      } else if (!this.responseStarted) {
        (this.bodyQueue ??= []).push(Buffer.from(new Uint8Array(chunk)));
        this.queuedBytes += chunk.byteLength;
        if (this.queuedBytes > MAX_QUEUED_BODY) this.pauseBody();
      }
      // Else the upstream answered in full already: the rest has nowhere to go.
    }
    if (isLast) this.conn?.endBody();
  }

  private pauseBody(): void {
    if (!this.bodyPaused && !this.bodyDone && this.resOpen) {
      this.bodyPaused = true;
      this.res.pause();
    }
  }

  private resumeBody(): void {
    if (this.bodyPaused && this.resOpen) {
      this.bodyPaused = false;
      this.res.resume();
    }
  }

  /**
   * Whether the client connection closes after an answer sent now: when
   * draining, or when more request body is still to come than is worth
   * reading and dropping.
   */
  private closeAfterAnswer(): boolean {
    return this.clientClose || closesAfterEarlyAnswer(this.ctx.draining, this.bodyDone ? -1 : this.bodyLength, this.bytesIn);
  }

  /** Before the call that ends the response: a paused client must read again, or its remaining body would stall it. */
  private beforeEnd(): void {
    this.resumeBody();
  }

  // ExchangeSink, upstream -> client
  abandonable(): boolean {
    return !this.responseStarted && !this.finished && this.bodiless && IDEMPOTENT.has(this.method);
  }

  onDrain(): void {
    this.resumeBody();
  }

  onRequestSent(): void {
    if (this.ctx.responseHeaderTimeoutMs > 0 && !this.responseStarted && this.headerTimer === null && !this.finished) {
      this.headerTimer = setTimeout(() => this.guarded(this.onHeaderTimeout), this.ctx.responseHeaderTimeoutMs);
    }
  }

  onHead(head: ResponseHead): void {
    this.stopHeaderTimer();
    if (this.mw?.ended != null) this.headAt = performance.now();
    if (this.stickyCookies !== null && this.server !== null) {
      const set = stickySetCookies(this.service, this.server, this.stickyCookies);
      if (set !== null) for (const c of set) head.headers.push('set-cookie', c);
    }
    if (!this.resOpen) return;
    this.responseStarted = true;
    this.status = this.originStatus = head.status;
    this.mode = head.mode;
    this.total = head.contentLength;
    if (this.mw?.responseFilters != null && this.openFilter(head)) return;
    const closeAfter = this.closeAfterAnswer();
    const res = this.res;
    res.writeStatus(
      head.status === 200 && head.reason === 'OK'
        ? '200 OK'
        : head.reason === ''
          ? `${head.status} ${STATUS_CODES[head.status] ?? ''}`
          : `${head.status} ${head.reason}`,
    );
    const h = head.headers;
    const edits = this.mw?.responseEdits;
    if (edits != null) for (const edit of edits) edit(h);
    for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i], h[i + 1]);
    // Not uWS's close flag: on a streamed body it lands inside the body, and
    // on others it cuts the connection under a client still sending.
    if (closeAfter) res.writeHeader('connection', 'close');
    if (head.mode === BodyMode.None) {
      // uWS would report Content-Length: 0; keep the upstream's figure for HEAD and 304.
      // (Called without arguments: this uWS build writes "Content-Length: 0" for an explicit undefined.)
      this.beforeEnd();
      if (head.contentLength >= 0 && head.status !== 204) res.writeHeader('content-length', String(head.contentLength));
      res.endWithoutBody();
      this.resOpen = false;
    }
  }

  onBody(chunk: Buffer): boolean {
    if (!this.resOpen || chunk.length === 0) return true;
    if (this.filter !== null) return this.filterData(chunk);
    this.bytesOut += chunk.length;
    const res = this.res;
    if (this.mode === BodyMode.Length) {
      if (this.remainder !== null) {
        // Still writing an earlier piece: queue behind it (reads are paused, so this is rare).
        this.remainder = Buffer.concat([this.remainder, chunk]);
        this.offset += chunk.length;
        return false;
      }
      const last = this.offset + chunk.length === this.total;
      if (last) this.beforeEnd();
      if (this.offset === 0 && last) {
        // The whole body in one read, the common case: end() copies it once.
        this.offset = chunk.length;
        res.end(chunk);
        this.resOpen = false;
        return true;
      }
      const before = this.offset;
      const [ok, done] = res.tryEnd(chunk, this.total);
      this.offset += chunk.length;
      if (done) {
        this.resOpen = false;
        return true;
      }
      if (ok) return true;
      // tryEnd sent what the socket took; keep the rest (the read buffer is reused).
      const written = res.getWriteOffset() - before;
      this.remainder = Buffer.from(chunk.subarray(written));
      this.remainderAt = before + written;
      res.onWritable((off) => this.onWritableLength(off));
      return false;
    }
    if (res.write(chunk)) return true;
    res.onWritable(() => {
      this.guarded(this.resumeUpstream);
      return true;
    });
    return false;
  }

  /**
   * Offers the response to the middlewares that may take it over; each
   * decides on the server's own head, and those that do are linked in chain
   * order, the client's writer last.
   * true when one did (the head then went to it, not to the client).
   */
  private openFilter(head: ResponseHead): boolean {
    const openers = this.mw!.responseFilters!;
    const bodiless = head.mode === BodyMode.None;
    const length = head.mode === BodyMode.Length ? head.contentLength : bodiless ? 0 : -1;
    // Each decides on the server's head; the chosen are linked from the client inward (chain order), so each one's output is the next one out.
    let makers: ((out: ResponseOut) => ResponseFilter)[] | null = null;
    for (const open of openers) {
      const make = open(head.status, head.headers, length, bodiless);
      if (make !== null) (makers ??= []).push(make);
    }
    if (makers === null) return false;
    let out: ResponseOut = new ClientWriter(this.res, this, this.headRequest, this.mw!.responseEdits);
    for (const make of makers) out = make(out);
    this.filter = out as ResponseFilter;
    this.responseStarted = true;
    this.originStatus = head.status;
    this.filter.head(head.status, head.headers.slice());
    if (bodiless) this.filter.end();
    return true;
  }

  private filterData(chunk: Buffer): boolean {
    // A view into the read buffer: the filter keeps what it is given.
    if (this.filter!.data(Buffer.from(chunk))) return true;
    this.filter!.onDrain(() => this.guarded(this.resumeUpstream));
    return false;
  }

  private dropFilter(): void {
    const f = this.filter;
    this.filter = null;
    if (f !== null) f.destroy();
  }

  // ClientWriterHost: the filters' output reaching the client.
  get writable(): boolean {
    return this.resOpen;
  }

  closesAfter(): boolean {
    return this.closeAfterAnswer();
  }

  headSent(status: number): void {
    this.status = status;
  }

  bodySent(bytes: number): void {
    this.bytesOut += bytes;
  }

  responseEnded(): void {
    this.beforeEnd();
    this.resOpen = false;
    this.filter = null;
    // A filter may answer before the server's body is all read (an error page): the read goes on, dropped.
    if (this.upstreamDone) this.finish();
  }

  guard(fn: () => void): void {
    this.guarded(fn);
  }

  /** More request body than buffering.maxRequestBodyBytes: 413 while nothing was answered, and the server's request is cut. */
  private bodyTooLarge(): void {
    this.dropUpstream();
    if (this.responseStarted) this.closeClient();
    else this.fail(413, 'Request Entity Too Large', After.Close);
  }

  private resumeUpstream(): void {
    this.conn?.resume();
  }

  private onWritableLength(off: number): boolean {
    try {
      const rest = this.remainder;
      if (rest === null || !this.resOpen) return true;
      const piece = rest.subarray(off - this.remainderAt);
      if (off + piece.length === this.total) this.beforeEnd();
      const [ok, done] = this.res.tryEnd(piece, this.total);
      if (!ok && !done) return false;
      this.remainder = null;
      if (done) {
        this.resOpen = false;
        if (this.conn === null) this.finish();
      } else this.conn?.resume();
      return true;
    } catch (err) {
      this.onInternalError(err);
      return true;
    }
  }

  onComplete(): void {
    this.conn = null;
    this.upstreamDone = true;
    this.leaveServer();
    if (this.filter !== null) {
      // The client's response ends when the filter says so (a compressor flushing, an error page arriving).
      this.filter.end();
      return;
    }
    if (this.resOpen) {
      const res = this.res;
      if (this.mode === BodyMode.Chunked || this.mode === BodyMode.Close || (this.mode === BodyMode.Length && this.total === 0)) {
        this.beforeEnd();
        res.end();
        this.resOpen = false;
      }
    }
    // A Length body still being written to a slow client finishes in onWritableLength.
    if (this.remainder === null) this.finish();
  }

  onConnectionError(err: Error, responseStarted: boolean): void {
    this.conn = null;
    this.stopHeaderTimer();
    if (this.finished) return;
    if (this.responseStarted) {
      // Mid-response: the client must see a broken connection, not a short body.
      this.closeClient();
      return;
    }
    this.leaveServer();
    if (err instanceof RequestMoved && !this.server!.pool.isRetired) {
      // Queued behind a late response, unanswered: the same server on a connection of its own, where it is first in line.
      // (A server that left the table may be gone without a reset: then the next server, as after any failure.)
      this.attempt(this.server!, true);
      return;
    }
    // A reused keep-alive socket can be closed by the upstream just as we
    // send; retry on a fresh connection when repeating the request is safe.
    const tried = (this.tried ??= []);
    const limit = this.retry === null ? MAX_RETRIES : this.retry.attempts - 1;
    if (!responseStarted && this.bodiless && IDEMPOTENT.has(this.method) && tried.length < limit) {
      tried.push(this.server!);
      this.retries++;
      this.attempt(this.pickNext(tried) ?? this.server!, true);
      return;
    }
    this.fail(502, 'Bad Gateway');
  }

  /**
   * Portero's own code threw while handling this request: the request is cut
   * (its client connection closed, its upstream connection destroyed),
   * counted and logged; every other request goes on.
   */
  onInternalError(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    try {
      this.ctx.internalError(err);
    } catch {
      /* the report must not throw the request's failure further */
    }
    if (this.status === 0) this.status = 500;
    try {
      this.dropFilter();
      this.dropUpstream();
    } catch {
      /* already torn down */
    }
    if (this.resOpen) {
      this.resOpen = false;
      try {
        this.res.close();
      } catch {
        /* uWS already let go of the response */
      }
    }
    try {
      this.finish();
    } catch {
      /* counted once above */
    }
  }

  /** Runs a callback from uWS or a timer: what it throws ends this request alone. */
  private guarded(fn: (this: Exchange) => void): void {
    try {
      fn.call(this);
    } catch (err) {
      this.onInternalError(err);
    }
  }

  /** The client did not send its whole body in time: 408 (or a cut connection mid-response), and the upstream request is dropped. */
  private onReadTimeout(): void {
    this.readTimer = null;
    if (this.finished || this.bodyDone) return;
    this.dropUpstream();
    if (this.responseStarted) this.closeClient();
    else this.fail(408, 'Request Timeout', After.Close);
  }

  private onHeaderTimeout(): void {
    this.headerTimer = null;
    const conn = this.conn;
    this.conn = null;
    conn?.abort(this);
    if (this.finished) return;
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
      if (!this.finished) this.guarded(() => this.attempt(next, false));
    }, wait);
  }

  /** A transport failure of the current server: its passive health check, if it has one, counts it. */
  private failedServer(): void {
    const s = this.server;
    if (s !== null && s.passive !== null) this.ctx.state.recordFailure(s.slot, s.passive);
  }

  /** Portero's own answer. Once a response has started, the only honest answer left is a cut connection. */
  private fail(status: number, body: string, after = this.closeAfterAnswer() ? After.Tell : After.Keep): void {
    if (this.responseStarted) {
      this.closeClient();
      return;
    }
    this.status = status;
    this.bytesOut = body.length;
    if (this.resOpen) {
      this.beforeEnd();
      sendError(this.res, status, body, after, this.headRequest);
      this.resOpen = false;
    }
    this.finish();
  }

  private closeClient(): void {
    this.dropFilter();
    if (this.resOpen) {
      this.resOpen = false;
      this.res.close();
    }
    this.finish();
  }

  private abort(): void {
    this.resOpen = false;
    this.dropFilter();
    this.dropUpstream();
    this.finish();
  }

  /** Gives up the upstream side: its connection (never reused: the exchange on it is cut), or the wait for one. */
  private dropUpstream(): void {
    this.stopHeaderTimer();
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const conn = this.conn;
    if (conn !== null) {
      this.conn = null;
      conn.abort(this);
    } else if (this.server !== null && !this.requestWritten) {
      this.server.pool.cancel(this);
    }
  }

  private stopHeaderTimer(): void {
    if (this.headerTimer !== null) {
      clearTimeout(this.headerTimer);
      this.headerTimer = null;
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
    this.bodyQueue = null;
    // For the dashboard: the service that answered (a twin's, after a fallback), else the route's.
    this.ctx.state.countRequest(this.server !== null ? this.server.service : this.services[0].rr, this.status >= 500);
    this.leaveServer();
    if (this.trace !== null) this.ctx.observer!.ended(this, this.trace);
    if (this.mw?.ended != null) tellEnded(this.mw, this.status, this.originStatus, (this.headAt || performance.now()) - this.startedAt);
    this.ctx.onFinish(this.appInflight);
  }
}

/** The request line (up to "host: ") with a server's preservePath prefix before its target. */
function prefixedLine(headPrefix: string, method: string, prefix: string): string {
  const target = headPrefix.slice(method.length + 1, headPrefix.indexOf(' HTTP/1.1\r\n'));
  return `${method} ${joinPath(prefix, target)} HTTP/1.1\r\nhost: `;
}
