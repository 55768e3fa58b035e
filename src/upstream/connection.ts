// One keep-alive TCP connection to an upstream server. It owns the socket:
// connecting, request framing, the response parser, pausing and resuming
// reads, and the rule for reuse. Exchanges see events (ExchangeSink) and ask
// for body bytes to be sent; none of them touches the socket.
//
// Reuse rule: the socket goes back to its pool only when the exchange on it
// is complete in both directions (the request written to its last byte, the
// response read to its last byte, keep-alive allowed). Anything else destroys
// it, so a later request can never be read as the rest of an earlier one, and
// a pooled socket is never paused.
//
// Pipelining (serversTransport.pipelining, off by default): bodiless GET and
// HEAD requests may be queued behind the one whose response is being read,
// and the heads queued in one event-loop turn are written at once. The
// connection keeps the queue: responses are handed out in order, each under
// its own client's cork; an exchange that gives up leaves its place to a
// sink that reads and drops the answer; any failure, close or stray byte
// retires the connection and hands every queued request (none of which has
// a response byte) back to its exchange to send elsewhere.
import net from 'node:net';
import tls from 'node:tls';
import { type ResponseHead, ResponseParser, type ResponseSink, UpstreamProtocolError } from './response-parser.js';
import { flushSoon, HEAD_STALL_MS, type Pipelined, watchHead } from './pipelining.js';

export interface ConnectionOwner {
  /** The connect succeeded. */
  onConnected(conn: UpstreamConnection): void;
  /** The connect failed, timed out or was cancelled; the connection is already gone. */
  onConnectFailed(conn: UpstreamConnection, err: DialError): void;
  /** The exchange on it is complete both ways and the socket can carry another request. */
  onReusable(conn: UpstreamConnection): void;
  /** The socket is gone (closed, failed, or discarded). */
  onGone(conn: UpstreamConnection): void;
  /** Requests one connection may carry at once (serversTransport.pipelining); 1 or less: no pipelining. */
  readonly pipelineDepth: number;
  /** The server's answers show it does not pipeline correctly: say why, and stop pipelining to it. */
  pipelineRefused(reason: string): void;
}

export interface ExchangeSink {
  onHead(head: ResponseHead): void;
  /** A view into the read buffer, valid during the call only. Returning false stops reads until resume(). */
  onBody(chunk: Buffer): boolean;
  /** The response was read to its end; the connection is no longer the exchange's. */
  onComplete(): void;
  /** The whole request, body included, was written and flushed to the socket. */
  onRequestSent(): void;
  /** The socket can take more request body. */
  onDrain(): void;
  /** The connection failed while this exchange owned it (it is gone). */
  onConnectionError(err: Error, responseStarted: boolean): void;
  /** Portero's own code threw while handling this connection's events. */
  onInternalError(err: unknown): void;
  /** No response byte yet, and the request is safe to send to another server. */
  abandonable(): boolean;
}

/** A pipelined request moved off a connection whose response ahead of it was late; it was not answered. */
export class RequestMoved extends Error {
  override name = 'RequestMoved';
}

type Corker = (fn: () => void) => void;

/** A request written behind the one whose response is being read. */
interface Queued {
  sink: ExchangeSink;
  headRequest: boolean;
  corker: Corker | null;
  /** Told its request was written. */
  told: boolean;
}

/** Takes the answer of a request whose exchange gave up while it was queued: read and dropped. */
const DISCARD: ExchangeSink = {
  onHead() {},
  onBody: () => true,
  onComplete() {},
  onRequestSent() {},
  onDrain() {},
  onConnectionError() {},
  onInternalError() {},
  abandonable: () => false,
};

export class DialError extends Error {
  override name = 'DialError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** How https:// servers are trusted (serversTransport): Traefik's insecureSkipVerify, rootCAs and serverName. */
export interface UpstreamTlsOptions {
  insecureSkipVerify: boolean;
  /** PEM certificates to trust instead of the system's; empty: the system's. */
  rootCAs: string[];
  /** SNI and the name the certificate must carry; absent or null: the server's host. */
  serverName?: string | null;
}

/** Node TLS client options for a server at `host`, trusted as `t` says. */
export function tlsOptions(host: string, t: UpstreamTlsOptions): tls.ConnectionOptions {
  // SNI is a DNS name; for an IP without a serverName the certificate is checked against its IP addresses.
  const servername = t.serverName ?? (net.isIP(host) === 0 ? host : undefined);
  return {
    servername,
    rejectUnauthorized: !t.insecureSkipVerify,
    ca: t.rootCAs.length > 0 ? t.rootCAs : undefined,
  };
}

export interface ConnectionOptions {
  dialTimeoutMs: number;
  /** The static --serversTransport.* TLS settings, for https:// servers whose service names no transport. */
  tls: UpstreamTlsOptions;
  maxHeadBytes: number;
  /**
   * Longest silence while a response body is being read (0: none), checked
   * by the pool's once-a-second sweep rather than a timer per response. Time
   * with reads paused does not count.
   */
  readTimeoutMs: number;
}

// One read buffer per worker thread: every connection reads into it and the
// parser consumes it synchronously, so no per-read allocation happens.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const enum Phase {
  Connecting,
  Idle,
  Busy,
  Dead,
}

export class UpstreamConnection implements ResponseSink, Pipelined {
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private phase = Phase.Connecting;
  lastUsed = 0;
  private sink: ExchangeSink | null = null;
  private corker: Corker | null = null;
  private readonly feedCorked: () => void;
  private nread = 0;
  /** Where the parser stopped in the current read (a response may end before the read does). */
  private pos = 0;
  // Pipelining
  /** The exchange on it was sent pipelined: others may queue behind it. */
  private pipelined = false;
  /** Requests written (or to be written) behind the current one, oldest first. */
  private queue: Queued[] = [];
  /** Request heads to write at the end of this turn. */
  private outgoing = '';
  /** When the current response became the one awaited (Date.now()). */
  private headSince = 0;
  /** Responses read to their end on this connection. */
  private responses = 0;
  private timer: NodeJS.Timeout | null = null;
  // The exchange in progress.
  /** -1 no body, -2 chunked, else bytes of body still to write. */
  private bodyLeft = -1;
  private chunked = false;
  private requestDone = false;
  /** Told the sink the request was flushed. */
  private requestSentTold = false;
  private responseDone = false;
  private responseKeepAlive = false;
  private paused = false;
  // Body silence, for the sweep: reads so far, and what the last sweep saw.
  private reads = 0;
  private sweptReads = -1;
  private quietSince = 0;
  private inBody = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** TLS settings for an https:// server, null for http://. */
    secure: UpstreamTlsOptions | null,
    private readonly options: ConnectionOptions,
    private readonly owner: ConnectionOwner,
  ) {
    this.parser = new ResponseParser(options.maxHeadBytes);
    this.feedCorked = () => this.feed();
    const onread = { buffer: READ_BUFFER, callback: (n: number) => this.onRead(n) };
    if (secure !== null) {
      // tls.connect takes socket.connect()'s options too (noDelay, onread); its typings leave them out.
      this.socket = tls.connect({
        host,
        port,
        ...({ noDelay: true, onread } as object),
        ...tlsOptions(host, secure),
        ALPNProtocols: ['http/1.1'],
      });
      // Connected means the handshake (and the certificate check) succeeded.
      this.socket.on('secureConnect', () => this.onConnect());
    } else {
      this.socket = net.connect({ host, port, noDelay: true, onread });
      this.socket.on('connect', () => this.onConnect());
    }
    this.socket.on('drain', () => this.onSocketDrain());
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('upstream connection closed')));
    if (options.dialTimeoutMs > 0) {
      this.timer = setTimeout(() => this.connectFailed(new DialError('dial timeout', 'ETIMEDOUT')), options.dialTimeoutMs);
    }
  }

  get isDead(): boolean {
    return this.phase === Phase.Dead;
  }

  /** Paused, or carrying a request: never true of a pooled connection. */
  get isBusy(): boolean {
    return this.phase === Phase.Busy || this.paused;
  }

  /** Whether the request on this connection could be given up and sent elsewhere. */
  get abandonable(): boolean {
    return this.sink !== null && !this.parser.started && this.sink.abandonable();
  }

  /** A connect in progress is given up (its server left the table). */
  cancelConnect(): void {
    if (this.phase === Phase.Connecting) this.connectFailed(new DialError('server removed from the configuration', 'EREMOVED'));
  }

  /**
   * Starts an exchange: `head` is the request head, `bodyLength` its framing
   * (-1 none, -2 chunked, else Content-Length). `cork` wraps the sink's
   * callbacks so that all writes to the client for one read go out at once.
   * `pipelinable`: a bodiless GET or HEAD, which may share the connection
   * when pipelining is on. Returns false when the socket wants a drain
   * before more body.
   */
  send(sink: ExchangeSink, headRequest: boolean, cork: Corker, head: string, bodyLength: number, pipelinable = false): boolean {
    if (this.phase === Phase.Dead) {
      // Closed between being handed out and used: the exchange retries as after any reset before a response.
      setImmediate(() => this.tell(sink, new Error('upstream connection closed before the request was sent')));
      return false;
    }
    if (this.phase === Phase.Busy) {
      // The pool lends a busy connection only when canJoin() said so.
      if (this.queue.length === 0) watchHead(this);
      this.queue.push({ sink, headRequest, corker: cork, told: false });
      this.queueHead(head);
      return true;
    }
    this.phase = Phase.Busy;
    this.pipelined = pipelinable && this.owner.pipelineDepth > 1;
    this.sink = sink;
    this.corker = cork;
    this.chunked = bodyLength === -2;
    this.bodyLeft = bodyLength;
    this.requestDone = bodyLength === -1 || bodyLength === 0;
    this.requestSentTold = false;
    this.responseDone = false;
    this.parser.expect(this, headRequest);
    if (this.pipelined) {
      // Bodiless: the head is the whole request, written with the others of this turn.
      this.headSince = Date.now();
      this.queueHead(head);
      return true;
    }
    const ok = this.socket.write(head, 'latin1');
    if (this.requestDone) this.requestWritten(ok);
    return ok;
  }

  /** Request body bytes (copied: the socket may hold them). Returns false when the socket wants a drain. */
  sendBody(chunk: Buffer): boolean {
    if (this.requestDone || this.phase !== Phase.Busy) return true;
    if (this.chunked) {
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      return this.socket.write('\r\n', 'latin1');
    }
    // uWS never passes more than the declared length; guard anyway, a longer body would be read as a new request.
    const part = chunk.length > this.bodyLeft ? chunk.subarray(0, this.bodyLeft) : chunk;
    this.bodyLeft -= part.length;
    const ok = this.socket.write(part);
    if (this.bodyLeft === 0) this.requestWritten(ok);
    return ok;
  }

  /** The client's body ended: the chunked terminator, and the request is complete. */
  endBody(): void {
    if (this.requestDone || this.phase !== Phase.Busy) return;
    if (this.chunked) this.requestWritten(this.socket.write('0\r\n\r\n', 'latin1'));
    // A Content-Length body ends when its last byte was sent (sendBody); uWS never ends one short.
  }

  /** The exchange can take body again after returning false from onBody. */
  resume(): void {
    if (!this.paused || this.phase !== Phase.Busy) return;
    this.paused = false;
    this.sweptReads = -1;
    this.socket.resume();
  }

  /**
   * Whether one more pipelined request may queue here: the requests on it
   * are pipelined, fewer than `depth`, their reads are not paused, and the
   * response awaited is not late.
   */
  canJoin(depth: number, now: number): boolean {
    return this.phase === Phase.Busy && this.pipelined && !this.paused && this.queue.length + 1 < depth && now - this.headSince < HEAD_STALL_MS;
  }

  private queueHead(head: string): void {
    if (this.outgoing === '') flushSoon(this);
    this.outgoing += head;
  }

  /** Writes the pipelined request heads of this turn in one write, and tells their exchanges. */
  flush(): void {
    if (this.phase === Phase.Dead || this.outgoing === '') return;
    const out = this.outgoing;
    this.outgoing = '';
    try {
      this.socket.write(out, 'latin1');
      this.tellRequestSent();
      for (const q of this.queue) {
        if (!q.told) {
          q.told = true;
          q.sink.onRequestSent();
        }
      }
    } catch (err) {
      this.internalError(err);
    }
  }

  /** The pipelining watch: requests queued behind a response late past HEAD_STALL_MS move to a connection of their own. */
  checkHead(now: number): boolean {
    if (this.phase !== Phase.Busy || this.queue.length === 0) return false;
    if (now - this.headSince < HEAD_STALL_MS) return true;
    const err = new RequestMoved(`the response ahead of it took over ${HEAD_STALL_MS} ms`);
    for (const q of this.queue) {
      const sink = q.sink;
      // Its answer still comes on this connection, in its turn: dropped then.
      q.sink = DISCARD;
      q.corker = null;
      this.tell(sink, err);
    }
    return true;
  }

  /** Handed to an exchange that no longer needed it, nothing sent: back to the pool (a busy one carries others' requests). */
  giveBack(): void {
    if (this.phase === Phase.Idle) this.owner.onReusable(this);
  }

  /**
   * The exchange `sink` gives up. Alone on the connection, the socket
   * carries a cut exchange and is destroyed. With pipelined requests behind
   * it, or queued itself, its answer is read and dropped instead, so the
   * others are not cut with it.
   */
  abort(sink: ExchangeSink): void {
    if (sink !== this.sink) {
      const q = this.queue.find((e) => e.sink === sink);
      if (q !== undefined) {
        q.sink = DISCARD;
        q.corker = null;
      }
      return;
    }
    if (this.pipelined && this.queue.length > 0 && this.phase === Phase.Busy) {
      this.sink = DISCARD;
      this.corker = null;
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      return;
    }
    this.sink = null;
    this.destroy();
  }

  /** Gives up on the request in flight: the exchange sees a connection error and retries. */
  abandon(err: Error): void {
    this.fail(err);
  }

  /** Closes the socket; requests still queued on it (none answered) go back to their exchanges with `err`. */
  destroy(err: Error = new Error('upstream connection closed before the response')): void {
    if (this.phase === Phase.Dead) return;
    this.phase = Phase.Dead;
    this.sink = null;
    this.corker = null;
    this.clearTimer();
    this.socket.destroy();
    const queued = this.queue;
    this.queue = [];
    this.owner.onGone(this);
    for (const q of queued) this.tell(q.sink, err);
  }

  // ResponseSink: the parser's events, passed on to the exchange.
  onHead(head: ResponseHead): void {
    this.inBody = true;
    this.sweptReads = -1;
    this.sink?.onHead(head);
  }

  onBody(chunk: Buffer): boolean {
    const sink = this.sink;
    if (sink !== null && !sink.onBody(chunk) && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    return true;
  }

  onComplete(keepAlive: boolean): void {
    this.responseDone = true;
    this.responses++;
    this.responseKeepAlive = keepAlive;
    this.inBody = false;
    const sink = this.sink;
    this.sink = null;
    this.corker = null;
    sink?.onComplete();
  }

  private onConnect(): void {
    if (this.phase !== Phase.Connecting) return;
    this.clearTimer();
    this.phase = Phase.Idle;
    this.lastUsed = Date.now();
    this.owner.onConnected(this);
  }

  private connectFailed(err: DialError): void {
    if (this.phase !== Phase.Connecting) return;
    this.destroy();
    this.owner.onConnectFailed(this, err);
  }

  private requestWritten(flushed: boolean): void {
    this.requestDone = true;
    if (flushed) this.tellRequestSent();
  }

  private tellRequestSent(): void {
    if (this.requestSentTold) return;
    this.requestSentTold = true;
    this.sink?.onRequestSent();
  }

  private onSocketDrain(): void {
    const sink = this.sink;
    if (sink === null) return;
    try {
      if (this.requestDone) this.tellRequestSent();
      else sink.onDrain();
    } catch (err) {
      this.internalError(err);
    }
  }

  private onRead(n: number): boolean {
    this.nread = n;
    this.pos = 0;
    if (this.sink === null) {
      // Bytes on an idle socket (or after the response ended): the upstream spoke out of turn; never reuse it.
      this.destroy();
      return false;
    }
    this.reads++;
    try {
      // One pass per response in this read, each under its own client's cork.
      do {
        if (this.corker !== null) this.corker(this.feedCorked);
        else this.feed();
      } while (this.pos < this.nread && this.phase === Phase.Busy && this.sink !== null);
    } catch (err) {
      // Only the cork itself can throw here (feed catches its own).
      this.internalError(err);
    }
    return true;
  }

  private feed(): void {
    try {
      this.pos = this.parser.feed(READ_BUFFER, this.pos, this.nread);
    } catch (err) {
      if (err instanceof UpstreamProtocolError) this.fail(err);
      else this.internalError(err);
      return;
    }
    if (this.responseDone) this.settle();
  }

  /**
   * The response was read whole: the next queued request's response is
   * awaited, or the socket is pooled if the exchange is complete both ways,
   * or it is closed.
   */
  private settle(): void {
    if (this.phase !== Phase.Busy) return;
    this.lastUsed = Date.now();
    if (this.queue.length > 0) {
      if (!this.responseKeepAlive) {
        // The requests behind a response that closes go elsewhere; a server that closes after its first never gets more.
        if (this.responses === 1) this.owner.pipelineRefused('it closed the connection after one response with requests pipelined behind it');
        this.destroy(new Error('upstream closed the connection with pipelined requests unanswered'));
        return;
      }
      const next = this.queue.shift()!;
      this.sink = next.sink;
      this.corker = next.corker;
      this.responseDone = false;
      this.headSince = this.lastUsed;
      this.parser.expect(this, next.headRequest);
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      return;
    }
    if (this.pos < this.nread) {
      // More bytes than responses asked for.
      if (this.pipelined) this.owner.pipelineRefused('it sent bytes after the last response asked for');
      this.destroy();
      return;
    }
    if (!this.responseKeepAlive || !this.requestDone) {
      this.destroy();
      return;
    }
    this.phase = Phase.Idle;
    this.pipelined = false;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.owner.onReusable(this);
  }

  private onEnd(): void {
    const sink = this.sink;
    if (sink !== null && this.parser.endsAtEof) {
      try {
        if (this.corker !== null) this.corker(() => this.parser.eof());
        else this.parser.eof();
      } catch (err) {
        this.internalError(err);
        return;
      }
      this.destroy(new Error('upstream closed the connection with pipelined requests unanswered'));
      return;
    }
    this.fail(new Error('upstream closed the connection'));
  }

  /**
   * Called about once a second by the pool: cuts a response body that has
   * not advanced for readTimeoutMs while reads were on.
   */
  checkStalled(now: number): void {
    const limit = this.options.readTimeoutMs;
    if (limit === 0 || !this.inBody || this.phase !== Phase.Busy) return;
    if (this.paused || this.reads !== this.sweptReads) {
      this.sweptReads = this.paused ? -1 : this.reads;
      this.quietSince = now;
      return;
    }
    if (now - this.quietSince >= limit) this.fail(new UpstreamProtocolError(`upstream sent nothing for ${limit} ms mid-response`));
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** The exchange's own code threw: that exchange alone is cut, the socket with it. */
  private internalError(err: unknown): void {
    const sink = this.sink;
    this.destroy();
    sink?.onInternalError(err);
  }

  private fail(err: Error): void {
    if (this.phase === Phase.Dead) return;
    if (this.phase === Phase.Connecting) {
      const e = err as NodeJS.ErrnoException;
      this.connectFailed(new DialError(`dial ${this.host}:${this.port}: ${e.code ?? e.message}`, e.code));
      return;
    }
    const sink = this.sink;
    const started = this.parser.started;
    if (this.pipelined && (this.queue.length > 0 || err instanceof UpstreamProtocolError)) {
      this.owner.pipelineRefused(`its connection failed with pipelined requests on it (${err.message})`);
    }
    this.destroy(err);
    if (sink !== null) this.tell(sink, err, started);
  }

  private tell(sink: ExchangeSink, err: Error, started = false): void {
    try {
      sink.onConnectionError(err, started);
    } catch (e) {
      sink.onInternalError(e);
    }
  }
}
