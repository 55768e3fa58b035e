// Per-worker keep-alive pool for one upstream server (host:port).
import { type ConnectionOwner, UpstreamConnection } from './connection.js';

export interface PoolOptions {
  /** Idle sockets kept (serversTransport.maxIdleConnsPerHost). */
  maxIdle: number;
  /** Open sockets allowed, 0 = unlimited (serversTransport.maxConnsPerHost). */
  maxConns: number;
  dialTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeadBytes: number;
}

export interface PoolWaiter {
  onConnection(conn: UpstreamConnection): void;
  onConnectError(err: Error): void;
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

/**
 * After a server leaves the table, how long requests in flight to it may go
 * without a response byte before safe ones are retried elsewhere: a replica
 * that was killed never answers, and its connections get no reset.
 */
const ABANDON_AFTER_MS = 2000;

/** "host:port" for a Host header: ":80" left out, IPv6 bracketed. */
export function authorityOf(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === 80 ? h : `${h}:${port}`;
}

export class ServerPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  /** Connections lent to exchanges. */
  private readonly busy = new Set<UpstreamConnection>();
  /** Connects in progress, each with the function that gives it up. */
  private readonly dialing = new Set<() => void>();
  private readonly waiters: PoolWaiter[] = [];
  private open = 0;
  private retired = false;
  /** As sent in Host when the client's is not passed on. */
  readonly authority: string;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly options: PoolOptions,
  ) {
    this.authority = authorityOf(host, port);
  }

  get openCount(): number {
    return this.open;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Returns an idle connection now, or null and calls the waiter later. */
  acquire(waiter: PoolWaiter): UpstreamConnection | null {
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      if (!conn.isDead) {
        this.busy.add(conn);
        return conn;
      }
    }
    if (this.options.maxConns > 0 && this.open >= this.options.maxConns) {
      this.waiters.push(waiter);
      return null;
    }
    this.dial(waiter);
    return null;
  }

  /** A waiter that no longer wants a connection (its client went away). */
  cancel(waiter: PoolWaiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }

  /** Always a new socket: for retrying after a reused one failed. */
  dialFresh(waiter: PoolWaiter): void {
    this.dial(waiter);
  }

  private dial(waiter: PoolWaiter): void {
    this.open++;
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    const conn = new UpstreamConnection(this.host, this.port, this.options.maxHeadBytes, this, (c) => {
      settled = true;
      this.dialing.delete(giveUp);
      if (timer !== null) clearTimeout(timer);
      c.socket.removeListener('error', onDialError);
      this.busy.add(c);
      waiter.onConnection(c);
    });
    const onDialError = (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      this.dialing.delete(giveUp);
      if (timer !== null) clearTimeout(timer);
      waiter.onConnectError(new DialError(`dial ${this.host}:${this.port}: ${err.code ?? err.message}`, err.code));
    };
    // Nothing was sent yet, so a connect can always be given up for another server.
    const giveUp = () => {
      onDialError(Object.assign(new Error('server removed from the configuration'), { code: 'EREMOVED' }));
      conn.destroy();
    };
    this.dialing.add(giveUp);
    conn.socket.prependListener('error', onDialError);
    if (this.options.dialTimeoutMs > 0) {
      timer = setTimeout(() => {
        if (settled) return;
        onDialError(Object.assign(new Error('dial timeout'), { code: 'ETIMEDOUT' }));
        conn.destroy();
      }, this.options.dialTimeoutMs);
    }
  }

  onReusable(conn: UpstreamConnection): void {
    this.busy.delete(conn);
    const next = this.waiters.shift();
    if (next !== undefined) {
      // Hand over on the next turn: the caller is still inside the parser.
      setImmediate(() => {
        if (conn.isDead) this.redial(next);
        else {
          this.busy.add(conn);
          next.onConnection(conn);
        }
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
    this.busy.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.waiters.length > 0 && (this.options.maxConns === 0 || this.open < this.options.maxConns)) {
      this.dial(this.waiters.shift()!);
    }
  }

  private redial(waiter: PoolWaiter): void {
    const conn = this.acquire(waiter);
    if (conn !== null) waiter.onConnection(conn);
  }

  /** Closes idle sockets unused for longer than the idle timeout. */
  sweep(now: number): void {
    const limit = now - this.options.idleTimeoutMs;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (this.idle[i].lastUsed < limit) this.idle[i].destroy();
    }
  }

  /** The server left the table: close idle sockets, let busy ones finish and close. */
  retire(): void {
    this.retired = true;
    for (const conn of this.idle.slice()) conn.destroy();
    for (const w of this.waiters.splice(0)) w.onConnectError(new DialError('server removed from the configuration', 'EREMOVED'));
    // A removed server may be a dead one whose connects would hang until the dial timeout.
    for (const giveUp of [...this.dialing]) giveUp();
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
