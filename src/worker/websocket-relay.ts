// One proxied WebSocket after both handshakes: messages relayed between the
// client's uWS WebSocket and the server's `ws` socket. uWS ends the client's
// WebSocket at portero, so this relays messages, not bytes: each side
// negotiates its own permessage-deflate, and a message must fit in
// --websocket.maxMessageSize. The relay owns both sockets' pause, resume and
// close rules; the uWS behavior (websocket.ts) only forwards uWS's events here.
import type { WebSocket as ClientSocket } from 'uWebSockets.js';
import type WebSocket from 'ws';

/** Client bytes buffered by uWS before the server's socket is paused, and the level at which it resumes. */
const CLIENT_HIGH_WATER = 1024 * 1024;
const CLIENT_LOW_WATER = 256 * 1024;
/** Messages smaller than this are sent to the client uncompressed, as ws does (its threshold is 1 KiB). */
const COMPRESS_MIN_BYTES = 1024;

/** Close codes a peer may send (RFC 6455 7.4): the others are reported locally only. */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface RelayOwner {
  /** The session ended, both sides closed; `code` is how the client's side ended. */
  ended(relay: WebSocketRelay, code: number): void;
}

export interface RelayLimits {
  maxMessageBytes: number;
  /**
   * Bytes the server may fall behind the client. uWS cannot stop reading one
   * WebSocket, so past this the session is closed (1013, try again later)
   * rather than held in memory without bound.
   */
  maxServerBacklog: number;
  /** After the server leaves the configuration, the session is closed with 1001 this much later. */
  drainDelayMs: number;
}

export class WebSocketRelay {
  private client: ClientSocket<unknown> | null = null;
  /** uWS has not opened the client's side yet. */
  private clientPending = true;
  private serverOpen = true;
  private serverPaused = false;
  /** The client answered with permessage-deflate, so large messages to it are compressed. */
  private readonly compressToClient: boolean;
  /** Server pings relayed to the client whose pongs have not come back yet. */
  private pingsOut = 0;
  private drainTimer: NodeJS.Timeout | null = null;
  /** The server left the configuration (serverLeft was called). */
  private leaving = false;
  private done = false;
  /** A message over the limit came from the server: the client gets 1009 rather than a bare close. */
  private serverTooBig = false;
  /** Message bytes relayed each way (the access log's size and request size). */
  bytesToClient = 0;
  bytesToServer = 0;
  /** How the client's side ended (0 while open). */
  closeCode = 0;
  /** Why the server's connection ended without a close frame while the client was still there, or null. */
  serverLost: string | null = null;

  constructor(
    private readonly server: WebSocket,
    private readonly owner: RelayOwner,
    private readonly limits: RelayLimits,
    clientDeflate: boolean,
  ) {
    this.compressToClient = clientDeflate;
    server.on('message', (data: Buffer, isBinary: boolean) => this.fromServer(data, isBinary));
    server.on('ping', (data: Buffer) => this.serverPing(data));
    server.on('close', (code: number, reason: Buffer) => this.serverClosed(code, reason));
    server.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.serverTooBig = true;
      // Only while the client is still there: an error after portero closed the server's side is no loss.
      else if (this.client !== null && this.closeCode === 0) this.serverLost = err.code === undefined ? err.message : `${err.code}: ${err.message}`;
    });
  }

  /** uWS opened the client's WebSocket. */
  clientOpened(ws: ClientSocket<unknown>): void {
    this.client = ws;
    this.clientPending = false;
    // The server may have closed during the upgrade.
    if (!this.serverOpen) this.endClient(1001, 'server closed the connection');
  }

  fromClient(message: ArrayBuffer, isBinary: boolean): void {
    if (!this.serverOpen) return;
    if (message.byteLength > this.limits.maxMessageBytes) {
      this.closeBoth(1009, 'message too big');
      return;
    }
    // uWS reuses the message's memory once this returns; the server's socket may hold the bytes longer.
    this.server.send(Buffer.from(new Uint8Array(message)), { binary: isBinary });
    this.bytesToServer += message.byteLength;
    if (this.server.bufferedAmount > this.limits.maxServerBacklog) this.closeBoth(1013, 'server is not keeping up');
  }

  private fromServer(data: Buffer, isBinary: boolean): void {
    const c = this.client;
    if (c === null || this.closeCode !== 0) return;
    c.send(data, isBinary, this.compressToClient && data.length >= COMPRESS_MIN_BYTES);
    this.bytesToClient += data.length;
    if (!this.serverPaused && c.getBufferedAmount() > CLIENT_HIGH_WATER) {
      this.serverPaused = true;
      this.server.pause();
    }
  }

  /** uWS flushed some of the client's backlog. */
  clientDrained(): void {
    if (this.serverPaused && this.client !== null && this.client.getBufferedAmount() < CLIENT_LOW_WATER) {
      this.serverPaused = false;
      this.server.resume();
    }
  }

  private serverPing(data: Buffer): void {
    if (this.client === null || this.closeCode !== 0) {
      this.server.pong(data);
      return;
    }
    this.pingsOut++;
    this.client.ping(data);
  }

  /** A pong from the client: it answers a relayed ping, or is the client's own heartbeat (kept here). */
  clientPong(data: ArrayBuffer): void {
    if (this.pingsOut === 0 || !this.serverOpen) return;
    this.pingsOut--;
    this.server.pong(Buffer.from(new Uint8Array(data)));
  }

  /** The client's side closed (its close frame, a drop, or portero's own end()). */
  clientClosed(code: number, message: ArrayBuffer): void {
    this.clientPending = false;
    if (this.closeCode === 0) this.closeCode = code;
    this.client = null;
    if (this.serverOpen) {
      this.serverOpen = false;
      if (sendable(code)) this.server.close(code, Buffer.from(new Uint8Array(message)).subarray(0, 123));
      else if (code === 1005) this.server.close();
      // Gone without a close frame: the server is told the client went away.
      else this.server.close(1001);
    }
    this.finish();
  }

  private serverClosed(code: number, reason: Buffer): void {
    this.serverOpen = false;
    if (this.client !== null && this.closeCode === 0) {
      if (this.serverTooBig) this.endClient(1009, 'message too big');
      else if (sendable(code)) this.endClient(code, reason);
      else if (code === 1005) this.endClient(0, '');
      // A server that left the configuration and then vanished (its container stopped before its close
      // frame got out): the client is told to go elsewhere.
      else if (this.leaving) {
        this.serverLost ??= `connection closed (${code}) after the server left the configuration`;
        this.endClient(1001, 'server going away');
      }
      // A server that vanished while still configured: the client sees the same, as through a tunnel.
      else {
        this.serverLost ??= `connection closed (${code})`;
        this.client.close();
      }
    }
    this.finish();
  }

  /** The server left the configuration: the session may go on until it closes, or until the drain delay. */
  serverLeft(): void {
    if (this.done || this.drainTimer !== null) return;
    this.leaving = true;
    this.drainTimer = setTimeout(() => this.closeBoth(1001, 'server going away'), this.limits.drainDelayMs);
  }

  /** Ends both sides with `code` (1001 when portero shuts down). */
  closeBoth(code: number, reason: string): void {
    if (this.serverOpen) {
      this.serverOpen = false;
      this.server.close(code, reason);
    }
    if (this.client !== null && this.closeCode === 0) this.endClient(code, reason);
    this.finish();
  }

  private endClient(code: number, reason: string | Buffer): void {
    const c = this.client;
    if (c === null) return;
    this.closeCode = code === 0 ? 1005 : code;
    // end() calls the close handler (clientClosed) at once.
    if (code === 0) c.end();
    else c.end(code, typeof reason === 'string' ? reason : new Uint8Array(reason));
  }

  private finish(): void {
    if (this.done || this.clientPending || this.client !== null || this.serverOpen) return;
    this.done = true;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    // A server that never answers the close frame is cut after ws's own close timeout (30 s).
    this.owner.ended(this, this.closeCode);
  }
}
