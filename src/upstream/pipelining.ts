// The worker-wide clocks of upstream pipelining: one write per connection per
// event-loop turn, and a watch on the oldest unanswered request of every
// pipelined connection. Connections own their queues; these only call them.

/**
 * How long the response a pipelined connection is waiting for may take
 * before the requests queued behind it move to a connection of their own.
 * Also the age past which no request joins the queue.
 */
export const HEAD_STALL_MS = 100;

/** A pipelined connection, as the clocks see it. */
export interface Pipelined {
  /** Writes the request heads queued this turn, in one write. */
  flush(): void;
  /** Moves the queued requests away if the response ahead of them is late; false once nothing is queued. */
  checkHead(now: number): boolean;
}

let toFlush: Pipelined[] = [];
let flushScheduled = false;

/** The connection has request heads to write: they go out after every request of this turn was routed. */
export function flushSoon(conn: Pipelined): void {
  toFlush.push(conn);
  if (!flushScheduled) {
    flushScheduled = true;
    // The check phase follows the poll phase in which uWS delivered this turn's requests.
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  flushScheduled = false;
  const list = toFlush;
  toFlush = [];
  for (const conn of list) conn.flush();
}

const watched = new Set<Pipelined>();
let watchTimer: NodeJS.Timeout | null = null;

/** A request waits behind another on `conn`: check its head until nothing is queued. */
export function watchHead(conn: Pipelined): void {
  watched.add(conn);
  if (watchTimer === null) {
    watchTimer = setInterval(checkHeads, HEAD_STALL_MS / 4);
    watchTimer.unref();
  }
}

function checkHeads(): void {
  const now = Date.now();
  for (const conn of watched) if (!conn.checkHead(now)) watched.delete(conn);
  if (watched.size === 0 && watchTimer !== null) {
    clearInterval(watchTimer);
    watchTimer = null;
  }
}
