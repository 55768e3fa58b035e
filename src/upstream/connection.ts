// One keep-alive TCP connection to an upstream server. It owns the socket
// and the response parser; the exchange currently using it is its sink.
import net from 'node:net';
import { ResponseParser, type ResponseSink, UpstreamProtocolError } from './response-parser.js';

export interface ConnectionOwner {
  /** The response finished and the socket can carry another request. */
  onReusable(conn: UpstreamConnection): void;
  /** The socket is gone (closed, failed, or discarded). */
  onGone(conn: UpstreamConnection): void;
}

export interface ExchangeSink extends ResponseSink {
  /** The connection failed while this exchange owned it. */
  onConnectionError(err: Error, responseStarted: boolean): void;
  /** No response byte yet, and the request is safe to send to another server. */
  abandonable(): boolean;
  /** The socket can take more request body. */
  onDrain(): void;
}

// One read buffer per worker thread: every connection reads into it and the
// parser consumes it synchronously, so no per-read allocation happens.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly parser: ResponseParser;
  connected = false;
  /** Requests served on this socket (> 0 means it is a reused keep-alive socket). */
  uses = 0;
  lastUsed = 0;
  private sink: ExchangeSink | null = null;
  private dead = false;
  private readonly feedCorked: () => void;
  private nread = 0;
  private corker: ((fn: () => void) => void) | null = null;

  constructor(
    host: string,
    port: number,
    maxHeadBytes: number,
    private readonly owner: ConnectionOwner,
    onConnect: (conn: UpstreamConnection) => void,
  ) {
    this.parser = new ResponseParser(maxHeadBytes);
    this.feedCorked = () => this.feed();
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number) => this.onRead(n) },
    });
    this.socket.on('connect', () => {
      this.connected = true;
      onConnect(this);
    });
    this.socket.on('drain', () => this.sink?.onDrain());
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('upstream connection closed')));
  }

  /**
   * Hands the connection to an exchange. `cork` wraps parser callbacks so
   * that all writes to the client for one read go out in one syscall.
   */
  attach(sink: ExchangeSink, headRequest: boolean, cork: (fn: () => void) => void): void {
    this.sink = sink;
    this.corker = cork;
    this.uses++;
    this.parser.expect(sink, headRequest);
  }

  /** The exchange lets go; a connection mid-response cannot be reused. */
  detach(): void {
    this.sink = null;
    this.corker = null;
  }

  /** Whether the request on this connection could be given up and sent elsewhere. */
  get abandonable(): boolean {
    return this.sink !== null && !this.parser.started && this.sink.abandonable();
  }

  /** Gives up on the request in flight: the exchange sees a connection error and retries. */
  abandon(err: Error): void {
    this.fail(err);
  }

  get isDead(): boolean {
    return this.dead;
  }

  write(data: string | Uint8Array): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.sink = null;
    this.socket.destroy();
    this.owner.onGone(this);
  }

  private onRead(n: number): boolean {
    this.nread = n;
    if (this.sink === null) {
      // Bytes on an idle socket: the upstream misbehaved; never reuse it.
      this.destroy();
      return false;
    }
    if (this.corker !== null) this.corker(this.feedCorked);
    else this.feed();
    return true;
  }

  private feed(): void {
    const sink = this.sink;
    try {
      this.parser.feed(READ_BUFFER, 0, this.nread);
    } catch (err) {
      const e = err instanceof UpstreamProtocolError ? err : new UpstreamProtocolError(String(err));
      this.sink = null;
      this.destroy();
      sink?.onConnectionError(e, true);
    }
  }

  /** Called by the exchange after onComplete. */
  release(keepAlive: boolean): void {
    this.sink = null;
    this.corker = null;
    this.lastUsed = Date.now();
    if (keepAlive && !this.dead) this.owner.onReusable(this);
    else this.destroy();
  }

  private onEnd(): void {
    const sink = this.sink;
    if (sink !== null && this.parser.endsAtEof) {
      try {
        if (this.corker !== null) this.corker(() => this.parser.eof());
        else this.parser.eof();
      } catch {
        /* a close-delimited body cannot fail here */
      }
      return;
    }
    this.fail(new Error('upstream closed the connection'));
  }

  private fail(err: Error): void {
    if (this.dead) return;
    const sink = this.sink;
    const started = this.parser.started;
    this.dead = true;
    this.sink = null;
    this.socket.destroy();
    this.owner.onGone(this);
    sink?.onConnectionError(err, started);
  }
}
