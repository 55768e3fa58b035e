// Per-worker keep-alive pool for one upstream server (host:port): idle
// connections, connects in progress, and requests waiting for a connection
// when maxConnsPerHost is reached.
import { type ConnectionOptions, type ConnectionOwner, DialError, UpstreamConnection, type UpstreamTlsOptions } from './connection.js';

export { DialError };

export interface PoolOptions extends ConnectionOptions {
  /** Idle sockets kept (serversTransport.maxIdleConnsPerHost). */
  maxIdle: number;
  /** Open sockets allowed, 0 = unlimited (serversTransport.maxConnsPerHost). */
  maxConns: number;
  idleTimeoutMs: number;
  /** Requests one connection may carry at once (serversTransport.pipelining); 1 or less: no pipelining. */
  pipelining: number;
  /** A server showed it does not pipeline correctly; pipelining to it stops. */
  onPipeliningRefused?(authority: string, reason: string): void;
}

/** A WebSocket through a server: it decides what its server leaving means. */
export interface PoolTunnel {
  serverLeft(): void;
}

export interface PoolWaiter {
  onConnection(conn: UpstreamConnection): void;
  onConnectError(err: DialError): void;
}

/**
 * After a server leaves the table, how long requests in flight to it may go
 * without a response byte before safe ones are retried elsewhere: a replica
 * that was killed never answers, and its connections get no reset.
 */
const ABANDON_AFTER_MS = 2000;

/** "host:port" for a Host header: the scheme's default port left out, IPv6 bracketed. */
export function authorityOf(host: string, port: number, tls = false): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === (tls ? 443 : 80) ? h : `${h}:${port}`;
}

export class ServerPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  /** Connections lent to exchanges. */
  private readonly busy = new Set<UpstreamConnection>();
  /** Connects in progress, each with the waiter it is for. */
  private readonly dialing = new Map<UpstreamConnection, PoolWaiter>();
  private readonly waiters: PoolWaiter[] = [];
  private open = 0;
  private retired = false;
  /** The connection pipelined requests queue on while it takes more. */
  private pipe: UpstreamConnection | null = null;
  /** The latest connect in progress for a pipelined request: more may queue behind it. */
  private pipeDial: UpstreamConnection | null = null;
  /** Pipelined requests waiting to queue behind a connect in progress, by connection. */
  private readonly joiners = new Map<UpstreamConnection, PoolWaiter[]>();
  /** Why pipelining to this server stopped, or null while it may pipeline. */
  private pipelineRefusal: string | null = null;
  /** Long-lived sessions through this server (WebSockets), told when it leaves the table. */
  private readonly tunnels = new Set<PoolTunnel>();
  /** As sent in Host when the client's is not passed on. */
  readonly authority: string;

  constructor(
    readonly host: string,
    readonly port: number,
    /** TLS settings for an https:// server, null for http://. */
    readonly tls: UpstreamTlsOptions | null,
    private readonly options: PoolOptions,
  ) {
    this.authority = authorityOf(host, port, tls !== null);
  }

  get openCount(): number {
    return this.open;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Idle connections that are paused or still carry a request: always 0 unless the reuse rules are broken. */
  get idleBusyCount(): number {
    let n = 0;
    for (const c of this.idle) if (c.isBusy) n++;
    return n;
  }

  get pipelineDepth(): number {
    return this.pipelineRefusal === null ? this.options.pipelining : 0;
  }

  pipelineRefused(reason: string): void {
    if (this.pipelineRefusal !== null || this.options.pipelining <= 1) return;
    this.pipelineRefusal = reason;
    this.pipe = null;
    this.options.onPipeliningRefused?.(this.authority, reason);
  }

  /**
   * Returns a connection now, or null and calls the waiter later. A
   * `pipelinable` request (bodiless GET or HEAD) joins the queue of the
   * connection pipelined requests go to while it takes more; else it gets an
   * idle connection, or a new one.
   */
  acquire(waiter: PoolWaiter, pipelinable = false): UpstreamConnection | null {
    const depth = pipelinable ? this.pipelineDepth : 0;
    if (depth > 1 && this.pipe !== null && this.pipe.canJoin(depth, Date.now())) return this.pipe;
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      if (!conn.isDead) {
        this.busy.add(conn);
        if (depth > 1) this.pipe = conn;
        return conn;
      }
    }
    // A burst finds no connection: it waits for one connect, not one each.
    const behind = this.pipeDial === null ? undefined : this.joiners.get(this.pipeDial);
    if (depth > 1 && behind !== undefined && behind.length + 1 < depth) {
      behind.push(waiter);
      return null;
    }
    if (this.options.maxConns > 0 && this.open >= this.options.maxConns) {
      this.waiters.push(waiter);
      return null;
    }
    const conn = this.dial(waiter);
    if (depth > 1) {
      this.pipeDial = conn;
      this.joiners.set(conn, []);
    }
    return null;
  }

  /** A waiter that no longer wants a connection (its client went away). */
  cancel(waiter: PoolWaiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
    for (const list of this.joiners.values()) {
      const j = list.indexOf(waiter);
      if (j !== -1) list.splice(j, 1);
    }
    for (const [conn, w] of this.dialing) {
      // The connect goes on: its connection will serve the next request.
      if (w === waiter) this.dialing.set(conn, NOBODY);
    }
  }

  /** Always a new socket: for retrying after a reused one failed. */
  dialFresh(waiter: PoolWaiter): void {
    this.dial(waiter);
  }

  private dial(waiter: PoolWaiter): UpstreamConnection {
    this.open++;
    const conn = new UpstreamConnection(this.host, this.port, this.tls, this.options, this);
    this.dialing.set(conn, waiter);
    return conn;
  }

  /** The pipelined requests waiting for `conn`'s connect, if it was dialed for one. */
  private takeJoiners(conn: UpstreamConnection): PoolWaiter[] | null {
    if (this.pipeDial === conn) this.pipeDial = null;
    const joiners = this.joiners.get(conn);
    if (joiners === undefined) return null;
    this.joiners.delete(conn);
    return joiners;
  }

  onConnected(conn: UpstreamConnection): void {
    const waiter = this.dialing.get(conn);
    this.dialing.delete(conn);
    const joiners = this.takeJoiners(conn);
    if (waiter === undefined || waiter === NOBODY) this.onReusable(conn);
    else {
      this.busy.add(conn);
      waiter.onConnection(conn);
    }
    if (joiners === null) return;
    if (!conn.isDead) this.pipe = conn;
    // Each queues behind the first, or finds another connection when this one takes no more.
    for (const j of joiners) {
      const c = this.acquire(j, true);
      if (c !== null) j.onConnection(c);
    }
  }

  onConnectFailed(conn: UpstreamConnection, err: DialError): void {
    const waiter = this.dialing.get(conn);
    this.dialing.delete(conn);
    const joiners = this.takeJoiners(conn);
    waiter?.onConnectError(err);
    // Nothing was sent for them: each tries again as after its own failed connect.
    if (joiners !== null) for (const j of joiners) j.onConnectError(err);
  }

  onReusable(conn: UpstreamConnection): void {
    this.busy.delete(conn);
    const next = this.waiters.shift();
    if (next !== undefined) {
      // Hand over on the next turn: the caller is still inside the parser.
      this.busy.add(conn);
      setImmediate(() => {
        if (conn.isDead) {
          this.busy.delete(conn);
          this.redial(next);
        } else next.onConnection(conn);
      });
      return;
    }
    if (this.retired || this.idle.length >= this.options.maxIdle) {
      conn.destroy();
      return;
    }
    this.idle.push(conn);
  }

  onGone(conn: UpstreamConnection): void {
    this.open--;
    if (this.pipe === conn) this.pipe = null;
    this.busy.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.waiters.length > 0 && !this.retired && (this.options.maxConns === 0 || this.open < this.options.maxConns)) {
      this.dial(this.waiters.shift()!);
    }
  }

  private redial(waiter: PoolWaiter): void {
    const conn = this.acquire(waiter);
    if (conn !== null) waiter.onConnection(conn);
  }

  /** Closes idle sockets unused for longer than the idle timeout, and cuts responses stalled past the read timeout. */
  sweep(now: number): void {
    const limit = now - this.options.idleTimeoutMs;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (this.idle[i].lastUsed < limit) this.idle[i].destroy();
    }
    if (this.options.readTimeoutMs > 0) for (const conn of [...this.busy]) conn.checkStalled(now);
  }

  /** A session that outlives requests; told at once if the server already left. */
  attach(t: PoolTunnel): void {
    if (this.retired) t.serverLeft();
    else this.tunnels.add(t);
  }

  detach(t: PoolTunnel): void {
    this.tunnels.delete(t);
  }

  /** The server left the table: close idle sockets, let busy ones finish and close, tell the tunnels. */
  retire(): void {
    this.retired = true;
    for (const t of this.tunnels) t.serverLeft();
    this.tunnels.clear();
    for (const conn of this.idle.slice()) conn.destroy();
    for (const w of this.waiters.splice(0)) w.onConnectError(new DialError('server removed from the configuration', 'EREMOVED'));
    // A removed server may be a dead one whose connects would hang until the dial timeout.
    for (const conn of [...this.dialing.keys()]) conn.cancelConnect();
    if (this.busy.size > 0) {
      setTimeout(() => {
        for (const conn of [...this.busy]) {
          if (conn.abandonable) conn.abandon(new Error('server left the configuration and did not answer'));
        }
      }, ABANDON_AFTER_MS).unref();
    }
  }

  get isRetired(): boolean {
    return this.retired;
  }
}

/** Stands for a waiter that gave up while its connect was in progress. */
const NOBODY: PoolWaiter = {
  onConnection: () => {},
  onConnectError: () => {},
};
