// The piscina task a worker thread runs for its whole life: listen on every
// entry point (SO_REUSEPORT spreads connections across workers), serve until
// told to drain, then close everything before the task settles. A uWS socket
// left open when a worker thread ends aborts the whole process, so every way
// out goes through closeAll(). A request's failure is caught where it happens
// (handler, exchange, connection); a worker asks to be replaced only when
// uncaught exceptions keep coming, and keeps serving until its successor listens.
import { BlockList } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import uWS from 'uWebSockets.js';
import { AccessLogBuffer } from '../accesslog/buffer.js';
import type { AccessLogFormat, TransportConfig } from '../config/static.js';
import { WorkerObserver, type MetricsScopes } from '../metrics/observe.js';
import { SharedCounters, type CountersLayout } from '../metrics/shared-counters.js';
import { SharedState, type StateLayout } from '../shared/shared-state.js';
import { TableReader } from '../shared/shared-table.js';
import { createHandler, createUpgradeHandler, type WorkerRuntime } from './handler.js';
import { webSocketBehavior } from './websocket.js';
import type { WebSocketConfig } from '../config/websocket.js';
import { PoolRegistry, type RouteTable } from './routes.js';
import { TableBuilder, type TableBuild } from './table-build.js';
import { MiddlewareMemory } from '../middlewares/shared-memory.js';
import { PlainEntryPoint } from './plain-app.js';
import { TlsEntryPoint } from './tls-app.js';
import type { ServedCertificates } from '../tls/store.js';
import type { RedirectTarget } from './redirect.js';
import type { AppInflight, EntryPointContext } from './request-head.js';

export interface ServeEntryPoint {
  name: string;
  host: string;
  port: number;
  trustedIPs: string[];
  /** A request body must arrive within this (0: no limit). */
  readTimeoutMs: number;
  insecure: boolean;
  /** Serves TLS with the certificates of ServeTask.certificates. */
  tls: boolean;
  /** Every request is redirected there (routers with a higher priority excepted). */
  redirect: RedirectTarget | null;
  /** Answers ACME HTTP-01 challenges before routing. */
  acmeChallenge: boolean;
}

export interface ServeTask {
  workerId: number;
  tableBuffer: SharedArrayBuffer;
  stateBuffer: SharedArrayBuffer;
  stateLayout: StateLayout;
  /** What middlewares share across workers (middlewares/shared-memory.ts). */
  middlewareBuffer: SharedArrayBuffer;
  entryPoints: ServeEntryPoint[];
  transport: TransportConfig;
  websocket: WebSocketConfig;
  serverName: string;
  /** Control channel to the supervisor. */
  port: MessagePort;
  /** Accept the 'crash' message (tests only). */
  testHooks: boolean;
  /** Shared request counters; null when metrics and the access log are both off. */
  counters: { buffer: SharedArrayBuffer; layout: CountersLayout } | null;
  /** Request metrics to keep; null when metrics are off. */
  metrics: MetricsScopes | null;
  /** Access log format; null when the access log is off. */
  accessLog: AccessLogFormat | null;
  /** What TLS entry points serve; null when none is TLS. */
  certificates: ServedCertificates | null;
  /** Pending ACME HTTP-01 challenges: token -> key authorization. */
  challenges: [string, string][];
}

export type WorkerMessage =
  | { type: 'listening'; workerId: number }
  /** A table version is serving; the longest the build held the event loop at once. */
  | { type: 'table'; workerId: number; generation: number; longestSliceMs: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; workerId: number }
  /** This worker's event loop is failing: start its successor, then tell it to drain. */
  | { type: 'replace'; workerId: number; reason: string }
  /** Test hook: the worker's upstream pools, summed. */
  | { type: 'pools'; workerId: number; stats: PoolStats }
  /** A batch of formatted access log lines. */
  | { type: 'accesslog'; workerId: number; text: string; lines: number };

/** 'table': a new version was published (workers also notice it on the next request). */
/**
 * 'drain': stop listening, answer with Connection: close, and end once no
 * request is in flight (but not before lingerMs, so idle keep-alive
 * connections are closed by uWS's idle timeout rather than cut under a
 * client that is about to use them), or at graceMs.
 */
export type SupervisorMessage =
  | { type: 'drain'; graceMs: number; lingerMs?: number }
  | { type: 'crash' }
  | { type: 'table' }
  | { type: 'pools' }
  /** The certificates changed: TLS entry points load the new set. */
  | { type: 'certificates'; served: ServedCertificates }
  /** The pending ACME challenges, all of them. */
  | { type: 'challenges'; challenges: [string, string][] };

export interface PoolStats {
  open: number;
  idle: number;
  /** Idle connections that are paused or carry a request: 0 unless the reuse rules are broken. */
  idleBusy: number;
  /** Requests this worker is proxying. */
  inflight: number;
}

const MAX_HEAD_BYTES = 64 * 1024;
/** Internal errors logged with their stack per LOG_WINDOW_MS; the rest are counted and summed up. */
const MAX_LOGGED_ERRORS = 10;
const LOG_WINDOW_MS = 10_000;
/**
 * Uncaught exceptions a worker survives per window: one is a bug in a
 * callback that was not guarded, logged and counted while serving goes on;
 * a stream of them means a broken event loop, and the worker is replaced.
 */
const MAX_UNCAUGHT = 5;
const UNCAUGHT_WINDOW_MS = 10_000;
/** Time for close frames sent at shutdown to leave before the sockets are closed. */
const CLOSE_FLUSH_MS = 100;
/** Longest a table build holds the event loop before letting requests through. */
const BUILD_SLICE_MS = 1;

function trustList(ips: string[]): BlockList | null {
  if (ips.length === 0) return null;
  const list = new BlockList();
  for (const entry of ips) {
    const [addr, bits] = entry.split('/');
    const family = addr.includes(':') ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return list;
}

// One serve task at a time per thread; the crash handler finds it here.
let current: { uncaught(err: unknown): void } | null = null;
let handlerInstalled = false;

/** Logs what portero's own code threw, with its stack, at most MAX_LOGGED_ERRORS per window. */
class ErrorReporter {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly log: (msg: string) => void,
    /** What is counted, for the line that says how many were not logged. */
    private readonly kind = 'internal errors',
  ) {}

  report(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.windowStart >= LOG_WINDOW_MS) {
      if (this.suppressed > 0) this.log(`${this.suppressed} more ${this.kind} in the last ${LOG_WINDOW_MS / 1000} s were counted but not logged`);
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged >= MAX_LOGGED_ERRORS) {
      this.suppressed++;
      return;
    }
    this.logged++;
    this.log(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

export default function serve(task: ServeTask): Promise<void> {
  if (!handlerInstalled) {
    handlerInstalled = true;
    process.on('uncaughtException', (err) => {
      if (current !== null) current.uncaught(err);
      else throw err;
    });
  }
  // This uWS build adds "uWebSockets: 20" to every response unless its loop is silenced: don't advertise the server library.
  uWS._cfg('silent');
  return new Promise<void>((resolve, reject) => {
    const send = (m: WorkerMessage) => task.port.postMessage(m);
    const state = new SharedState(task.stateBuffer, task.stateLayout);
    const reader = new TableReader(task.tableBuffer);
    const pools = new PoolRegistry({
      maxIdle: task.transport.maxIdleConnsPerHost,
      maxConns: task.transport.maxConnsPerHost,
      dialTimeoutMs: task.transport.dialTimeoutMs,
      idleTimeoutMs: task.transport.idleConnTimeoutMs,
      readTimeoutMs: task.transport.readTimeoutMs,
      pipelining: task.transport.pipelining,
      onPipeliningRefused: (authority, reason) =>
        send({ type: 'log', level: 'warn', msg: `server ${authority} does not pipeline: ${reason}; its requests now go one per connection`, workerId: task.workerId }),
      maxHeadBytes: MAX_HEAD_BYTES,
      tls: { insecureSkipVerify: task.transport.insecureSkipVerify, rootCAs: task.transport.rootCAs },
    });
    const errors = new ErrorReporter((msg) => send({ type: 'log', level: 'error', msg, workerId: task.workerId }));
    const lostSessions = new ErrorReporter((msg) => send({ type: 'log', level: 'warn', msg, workerId: task.workerId }), 'WebSocket servers lost');
    let settled = false;
    let table: RouteTable | null = null;
    const builder = new TableBuilder(pools, new MiddlewareMemory(task.middlewareBuffer));
    builder.state = state;
    let building: TableBuild | null = null;
    const loaded = (generation: number, longestSliceMs: number) => send({ type: 'table', workerId: task.workerId, generation, longestSliceMs });
    const failed = (generation: number, err: unknown) =>
      send({ type: 'log', level: 'error', msg: `cannot load table ${generation}: ${(err as Error).message}`, workerId: task.workerId });
    // A new version is built in slices between requests; the current table
    // serves until the new one is whole.
    const buildSlice = () => {
      if (building === null || settled) return;
      const b = building;
      try {
        if (!b.step(performance.now() + BUILD_SLICE_MS)) {
          setImmediate(buildSlice);
          return;
        }
        table = b.result;
        loaded(b.generation, b.longestSliceMs);
      } catch (err) {
        failed(b.generation, err);
      }
      building = null;
      if (reader.changed()) refresh();
    };
    const refresh = () => {
      if (building !== null) return;
      const next = reader.read();
      if (next === null) return;
      building = builder.begin(next.generation, next.bytes);
      setImmediate(buildSlice);
    };
    const loadFirst = () => {
      const next = reader.read();
      if (next === null) return;
      try {
        const t0 = performance.now();
        table = builder.buildNow(next.generation, next.bytes);
        loaded(next.generation, performance.now() - t0);
      } catch (err) {
        failed(next.generation, err);
      }
    };
    let drainResolve: (() => void) | null = null;
    const counters = task.counters === null ? null : new SharedCounters(task.counters.buffer, task.counters.layout);
    // A restarted worker's predecessor may have died with requests in flight.
    counters?.resetWorker(task.workerId);
    const accessLog =
      task.accessLog === null
        ? null
        : new AccessLogBuffer(task.accessLog, (text, lines) => send({ type: 'accesslog', workerId: task.workerId, text, lines }));
    accessLog?.start();
    const rt: WorkerRuntime = {
      state,
      responseHeaderTimeoutMs: task.transport.responseHeaderTimeoutMs,
      draining: false,
      inflight: 0,
      websockets: {
        limits: {
          maxMessageBytes: task.websocket.maxMessageBytes,
          maxServerBacklog: Math.max(2 * task.websocket.maxMessageBytes, 16 * 1024 * 1024),
          drainDelayMs: task.websocket.drainDelayMs,
        },
        handshakeTimeoutMs: task.transport.dialTimeoutMs + task.transport.responseHeaderTimeoutMs,
        sessions: new Set(),
        serverLost: (what, why) => lostSessions.report(what, why),
      },
      observer: counters === null ? null : new WorkerObserver(counters, task.workerId, task.metrics, accessLog),
      table() {
        if (reader.changed()) refresh();
        return table;
      },
      internalError(err) {
        state.countInternalError();
        errors.report('request cut by an internal error', err);
      },
      onFinish(app) {
        rt.inflight--;
        if (app !== null) app.n--;
        // Deferred: this runs inside res.cork(), and closing the app there would
        // drop the response still sitting in the cork buffer.
        if (rt.draining && rt.inflight === 0 && drainResolve !== null) setImmediate(drainResolve);
      },
    };
    loadFirst();

    const challenges = new Map(task.challenges);
    // One app per entry point: each needs its own handler (its name, trust list, port).
    const listeners = task.entryPoints.map((ep, index) => {
      const epContext: EntryPointContext = {
        name: ep.name,
        index,
        port: ep.port,
        proto: ep.tls ? 'https' : 'http',
        trusted: trustList(ep.trustedIPs),
        trustAll: ep.insecure,
        serverName: task.serverName,
        readTimeoutMs: ep.readTimeoutMs,
        redirect: ep.redirect,
        challenges: ep.acmeChallenge ? challenges : null,
        appInflight: null,
      };
      const routes = (appInflight: AppInflight | null) => {
        const context = appInflight === null ? epContext : { ...epContext, appInflight };
        return { handler: createHandler(rt, context), websockets: webSocketBehavior(rt.websockets.limits, createUpgradeHandler(rt, context)) };
      };
      if (ep.tls) {
        if (task.certificates === null) throw new Error(`entry point ${ep.name} serves TLS but no certificates were given`);
        return new TlsEntryPoint(routes, task.certificates, (msg) => send({ type: 'log', level: 'error', msg, workerId: task.workerId }));
      }
      const { handler, websockets } = routes(null);
      // uWS tries the WebSocket route first; a request that is no handshake falls through to any().
      return new PlainEntryPoint(uWS.App().ws('/*', websockets).any('/*', handler));
    });
    let pending = listeners.length;

    const sweeper = setInterval(() => {
      if (reader.changed()) refresh();
      pools.sweep(Date.now());
    }, 1000);

    const closeListeners = () => {
      for (const l of listeners) l.closeListener();
    };
    const closeAll = () => {
      clearInterval(sweeper);
      for (const l of listeners) l.closeAll();
      for (const pool of pools.all()) pool.retire();
      task.port.off('message', onMessage);
      // Last: closing the apps above ends (and logs) the requests still open.
      accessLog?.stop();
    };
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      current = null;
      closeAll();
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    let uncaught: number[] = [];
    let replacing = false;
    // The supervisor starts a successor first and then tells this worker to
    // drain, so the port never goes without a listener.
    const replaceMe = (err: unknown) => {
      if (replacing || settled) return;
      replacing = true;
      send({ type: 'replace', workerId: task.workerId, reason: err instanceof Error ? err.message : String(err) });
    };
    current = {
      uncaught(err) {
        state.countInternalError();
        errors.report('uncaught exception in a worker', err);
        const now = Date.now();
        uncaught = uncaught.filter((t) => now - t < UNCAUGHT_WINDOW_MS);
        uncaught.push(now);
        if (uncaught.length > MAX_UNCAUGHT) replaceMe(err);
      },
    };

    let drainTimer: NodeJS.Timeout | null = null;
    const onMessage = (m: SupervisorMessage) => {
      if (m.type === 'drain') {
        rt.draining = true;
        closeListeners();
        if (drainTimer !== null) clearTimeout(drainTimer);
        // At the grace period's end, WebSockets still open get 1001 (going away) before the apps close.
        const timer = setTimeout(() => {
          if (rt.websockets.sessions.size === 0) {
            finish();
            return;
          }
          for (const relay of [...rt.websockets.sessions]) relay.closeBoth(1001, 'portero is shutting down');
          setTimeout(() => finish(), CLOSE_FLUSH_MS);
        }, m.graceMs);
        drainTimer = timer;
        const lingerUntil = Date.now() + (m.lingerMs ?? 0);
        let lingering: NodeJS.Timeout | null = null;
        drainResolve = () => {
          const wait = lingerUntil - Date.now();
          if (wait > 0) {
            // Requests may still come on open keep-alive connections: check again then.
            lingering ??= setTimeout(() => rt.inflight === 0 && drainResolve?.(), wait);
            return;
          }
          clearTimeout(timer);
          finish();
        };
        if (rt.inflight === 0) drainResolve();
      } else if (m.type === 'table') {
        refresh();
      } else if (m.type === 'certificates') {
        for (const l of listeners) {
          if (!(l instanceof TlsEntryPoint)) continue;
          try {
            l.apply(m.served);
          } catch (err) {
            send({ type: 'log', level: 'error', msg: `cannot load the new certificates: ${(err as Error).message}`, workerId: task.workerId });
          }
        }
      } else if (m.type === 'challenges') {
        challenges.clear();
        for (const [token, auth] of m.challenges) challenges.set(token, auth);
      } else if (m.type === 'pools' && task.testHooks) {
        const stats: PoolStats = { open: 0, idle: 0, idleBusy: 0, inflight: rt.inflight };
        for (const pool of pools.all()) {
          stats.open += pool.openCount;
          stats.idle += pool.idleCount;
          stats.idleBusy += pool.idleBusyCount;
        }
        send({ type: 'pools', workerId: task.workerId, stats });
      } else if (m.type === 'crash' && task.testHooks) {
        // A broken event loop: more uncaught exceptions than a worker survives.
        for (let i = 0; i <= MAX_UNCAUGHT; i++) {
          setImmediate(() => {
            throw new Error('crash requested by the supervisor (test hook)');
          });
        }
      }
    };
    task.port.on('message', onMessage);

    task.entryPoints.forEach((ep, i) => {
      listeners[i]!.listen(ep.host, ep.port, (ok) => {
        if (!ok) {
          finish(new Error(`worker ${task.workerId}: cannot listen on ${ep.host || '*'}:${ep.port} (entry point ${ep.name})`));
          return;
        }
        if (--pending === 0) send({ type: 'listening', workerId: task.workerId });
      });
    });
    // With no entry point no listen callback runs to report readiness. (Not
    // `pending === 0`: uWS calls back synchronously, so it is 0 by now anyway.)
    if (listeners.length === 0) send({ type: 'listening', workerId: task.workerId });
  });
}
