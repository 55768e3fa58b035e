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
import net from 'node:net';
import tls from 'node:tls';
import { type ResponseHead, ResponseParser, type ResponseSink, UpstreamProtocolError } from './response-parser.js';

export interface ConnectionOwner {
  /** The connect succeeded. */
  onConnected(conn: UpstreamConnection): void;
  /** The connect failed, timed out or was cancelled; the connection is already gone. */
  onConnectFailed(conn: UpstreamConnection, err: DialError): void;
  /** The exchange on it is complete both ways and the socket can carry another request. */
  onReusable(conn: UpstreamConnection): void;
  /** The socket is gone (closed, failed, or discarded). */
  onGone(conn: UpstreamConnection): void;
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

export class UpstreamConnection implements ResponseSink {
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private phase = Phase.Connecting;
  lastUsed = 0;
  private sink: ExchangeSink | null = null;
  private corker: ((fn: () => void) => void) | null = null;
  private readonly feedCorked: () => void;
  private nread = 0;
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
   * Returns false when the socket wants a drain before more body.
   */
  send(sink: ExchangeSink, headRequest: boolean, cork: (fn: () => void) => void, head: string, bodyLength: number): boolean {
    if (this.phase === Phase.Dead) {
      // Closed between being handed out and used: the exchange retries as after any reset before a response.
      setImmediate(() => this.tell(sink, new Error('upstream connection closed before the request was sent')));
      return false;
    }
    this.phase = Phase.Busy;
    this.sink = sink;
    this.corker = cork;
    this.chunked = bodyLength === -2;
    this.bodyLeft = bodyLength;
    this.requestDone = bodyLength === -1 || bodyLength === 0;
    this.requestSentTold = false;
    this.responseDone = false;
    this.parser.expect(this, headRequest);
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

  /** Handed to an exchange that no longer needed it, nothing sent: back to the pool. */
  giveBack(): void {
    if (this.phase === Phase.Idle) this.owner.onReusable(this);
    else this.abort();
  }

  /** The exchange gives up: the socket carries a cut exchange, so it is destroyed. */
  abort(): void {
    this.sink = null;
    this.destroy();
  }

  /** Gives up on the request in flight: the exchange sees a connection error and retries. */
  abandon(err: Error): void {
    this.fail(err);
  }

  destroy(): void {
    if (this.phase === Phase.Dead) return;
    this.phase = Phase.Dead;
    this.sink = null;
    this.corker = null;
    this.clearTimer();
    this.socket.destroy();
    this.owner.onGone(this);
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
    if (this.sink === null) {
      // Bytes on an idle socket (or after the response ended): the upstream spoke out of turn; never reuse it.
      this.destroy();
      return false;
    }
    this.reads++;
    try {
      if (this.corker !== null) this.corker(this.feedCorked);
      else this.feed();
    } catch (err) {
      // Only the cork itself can throw here (feed catches its own).
      this.internalError(err);
    }
    return true;
  }

  private feed(): void {
    try {
      this.parser.feed(READ_BUFFER, 0, this.nread);
    } catch (err) {
      if (err instanceof UpstreamProtocolError) this.fail(err);
      else this.internalError(err);
      return;
    }
    if (this.responseDone) this.settle();
  }

  /** The response was read whole: pool the socket if the exchange is complete both ways, else close it. */
  private settle(): void {
    if (this.phase !== Phase.Busy) return;
    this.lastUsed = Date.now();
    if (!this.responseKeepAlive || !this.requestDone) {
      this.destroy();
      return;
    }
    this.phase = Phase.Idle;
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
      this.destroy();
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
    this.destroy();
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
