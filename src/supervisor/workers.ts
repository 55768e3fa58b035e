// Runs one long-lived serve task per worker slot under piscina and keeps it
// running: piscina replaces a dead thread but not its task, so a task that
// ends without being asked to is submitted again.
//
// A worker whose event loop keeps failing asks to be replaced ('replace'):
// its successor is started on a spare thread first, and only once it listens
// is the old one told to drain, so the port always has a listener. A slot
// that keeps failing is restarted with a growing delay (a restart storm never
// takes every worker down at once). Each slot alternates between two worker
// ids, so the successor's per-worker counters never share a row with its
// predecessor's while both run.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { PoolStats, ServeTask, SupervisorMessage, WorkerMessage } from '../worker/serve.js';
import { workerDied } from '../middlewares/shared-memory.js';

/** Young generation per worker: three times the semi-space. */
const YOUNG_GENERATION_MB = 3;
/** Failures of a slot within this window make its next restart wait longer. */
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;
/**
 * A replaced worker keeps answering on its open connections (with
 * Connection: close) for longer than uWS's 10 s idle timeout, so its idle
 * keep-alive connections close as idle ones always do; then it stops.
 */
const REPLACED_LINGER_MS = 11_000;
const REPLACED_GRACE_MS = 20_000;

import type { ServedCertificates } from '../tls/store.js';

export type WorkerTaskTemplate = Omit<ServeTask, 'workerId' | 'port'>;

/** One run of a serve task. */
interface Run {
  workerId: number;
  port: MessagePort;
  settled: Promise<void>;
  /** Reached 'listening'. */
  up: boolean;
  /** Told to drain: its end is expected. */
  retiring: boolean;
}

interface Slot {
  id: number;
  current: Run | null;
  /** A replacement being started (its predecessor still serves). */
  next: Run | null;
  /** First run listened (start() waits for it). */
  listening: boolean;
  restarts: number;
  /** When the slot failed recently, for the restart delay. */
  failures: number[];
  pendingLaunch: NodeJS.Timeout | null;
}

/** Worker ids a supervisor of `count` slots hands out: counters need a row for each. */
export function workerIdSpace(count: number): number {
  return 2 * count;
}

export class WorkerSupervisor {
  /** Null with no workers: piscina refuses a pool of zero threads. */
  private readonly pool: Piscina | null;
  private readonly slots: Slot[];
  private stopping = false;
  private readonly listeners = new Set<(m: WorkerMessage) => void>();
  private readonly runs = new Set<Run>();

  constructor(
    private readonly count: number,
    private readonly template: WorkerTaskTemplate,
    private readonly log: Logger,
  ) {
    this.pool = count === 0 ? null : new Piscina({
      filename: new URL('../worker/serve.js', import.meta.url).href,
      minThreads: count,
      // Spare threads, started only when needed: a successor starts before
      // its predecessor stops, and a replaced worker lingers ~11 s, so a
      // storm (restarts 0, 1, 2, 4 s apart) has a few runs per slot at once.
      maxThreads: 4 * count,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      // A serve task never returns while serving; an idle thread must not spin in Atomics.wait.
      atomics: 'disabled',
      // V8 grows a busy isolate's young generation to 48 MB by default; a
      // worker's per-request garbage is short-lived and small, so scavenges
      // of a 1 MB semi-space stay cheap and each worker saves tens of MB
      // (bench, 4 replicas, 20 B, 1 and 2 workers, 2 rounds each: portero/nginx
      // req/s 0.88-0.95 with 3 MB, 0.88-0.92 with 6 MB).
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.slots = Array.from({ length: count }, (_, id) => ({
      id,
      current: null,
      next: null,
      listening: false,
      restarts: 0,
      failures: [],
      pendingLaunch: null,
    }));
  }

  /** Resolves once every worker listens on every entry point. */
  start(): Promise<void> {
    // No worker would ever report 'listening': waiting for none must not wait forever.
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let waiting = this.count;
      const onMessage = (m: WorkerMessage) => {
        const slot = this.slots[m.workerId % this.count];
        if (m.type === 'listening' && !slot.listening) {
          slot.listening = true;
          if (--waiting === 0) {
            this.listeners.delete(onMessage);
            resolve();
          }
        }
      };
      this.listeners.add(onMessage);
      for (const slot of this.slots) slot.current = this.launch(slot, slot.id, reject);
    });
  }

  onMessage(fn: (m: WorkerMessage) => void): void {
    this.listeners.add(fn);
  }

  /** Worker slots: none when there is no proxy entry point to serve. */
  get workers(): number {
    return this.count;
  }

  /** Workers started again after a failure, all slots together. */
  get restarts(): number {
    return this.slots.reduce((n, s) => n + s.restarts, 0);
  }

  private launch(slot: Slot, workerId: number, onFirstFailure?: (err: Error) => void): Run {
    const { port1, port2 } = new MessageChannel();
    const task: ServeTask = { ...this.template, workerId, port: port2 };
    const run: Run = { workerId, port: port1, settled: Promise.resolve(), up: false, retiring: false };
    const handle = (m: WorkerMessage) => {
      if (m.type === 'listening') {
        run.up = true;
        if (slot.next === run) this.takeOver(slot, run);
      }
      if (m.type === 'log') this.log[m.level]({ worker: m.workerId }, m.msg);
      if (m.type === 'replace' && slot.current === run) this.replace(slot, m.reason);
      for (const fn of this.listeners) fn(m);
    };
    port1.on('message', handle);
    this.runs.add(run);
    // Slots exist only with a pool, so launch never runs without one.
    run.settled = (this.pool!.run(task, { transferList: [port2] }) as Promise<void>).then(
      () => this.ended(slot, run, null, handle),
      (err: Error) => {
        if (!slot.listening && onFirstFailure !== undefined && /cannot listen/.test(err.message)) {
          this.runs.delete(run);
          port1.close();
          onFirstFailure(err);
          return;
        }
        this.ended(slot, run, err, handle);
      },
    );
    return run;
  }

  /** The next worker id of a slot: the other of its two. */
  private nextId(slot: Slot, run: Run | null): number {
    return run === null || run.workerId >= this.count ? slot.id : slot.id + this.count;
  }

  /** Delay before a slot's next start: none for the first failure in a while, then doubling. */
  private restartDelay(slot: Slot): number {
    const now = Date.now();
    slot.failures = slot.failures.filter((t) => now - t < RESTART_WINDOW_MS);
    slot.failures.push(now);
    const recent = slot.failures.length - 1;
    return recent === 0 ? 0 : Math.min(1000 * 2 ** (recent - 1), MAX_RESTART_DELAY_MS);
  }

  /** A live worker asked to be replaced: start its successor; it keeps serving until then. */
  private replace(slot: Slot, reason: string): void {
    if (this.stopping || slot.next !== null || slot.pendingLaunch !== null) return;
    const delay = this.restartDelay(slot);
    this.log.error({ worker: slot.current?.workerId, reason, startInMs: delay }, 'worker keeps failing; starting its successor before retiring it');
    const start = () => {
      slot.pendingLaunch = null;
      if (this.stopping) return;
      slot.restarts++;
      slot.next = this.launch(slot, this.nextId(slot, slot.current));
    };
    if (delay === 0) start();
    else slot.pendingLaunch = setTimeout(start, delay).unref();
  }

  /** The successor listens: it becomes the slot's worker, and its predecessor drains. */
  private takeOver(slot: Slot, run: Run): void {
    const old = slot.current;
    slot.current = run;
    slot.next = null;
    if (old !== null && !old.retiring) {
      old.retiring = true;
      old.port.postMessage({ type: 'drain', graceMs: REPLACED_GRACE_MS, lingerMs: REPLACED_LINGER_MS } satisfies SupervisorMessage);
    }
  }

  private ended(slot: Slot, run: Run, err: Error | null, handle: (m: WorkerMessage) => void): void {
    // What the worker sent just before its task settled (its last access log
    // lines) can still be queued: take it before closing the port drops it.
    for (let m = receiveMessageOnPort(run.port); m !== undefined; m = receiveMessageOnPort(run.port)) handle(m.message as WorkerMessage);
    run.port.close();
    this.runs.delete(run);
    // A thread that died gave back none of the in-flight slots it held (inFlightReq).
    if (err !== null) workerDied(this.template.middlewareBuffer);
    if (this.stopping || run.retiring) return;
    const successor = slot.next === run;
    if (successor) slot.next = null;
    else if (slot.current === run) slot.current = null;
    else return;
    // A successor already on its way takes the slot.
    if (!successor && (slot.next !== null || slot.pendingLaunch !== null)) return;
    // A worker that fails before it listens (say, its port is taken) waits at least a second.
    const delay = Math.max(this.restartDelay(slot), run.up ? 0 : 1000);
    this.log.error({ worker: run.workerId, err: err?.message, retryInMs: delay }, 'worker stopped serving; starting it again');
    const start = () => {
      slot.pendingLaunch = null;
      if (this.stopping) return;
      slot.restarts++;
      if (successor) slot.next = this.launch(slot, run.workerId);
      else slot.current = this.launch(slot, this.nextId(slot, run));
    };
    if (delay === 0) start();
    else slot.pendingLaunch = setTimeout(start, delay).unref();
  }

  /** New certificates for every worker's TLS entry points; workers started later get them too. */
  certificatesChanged(served: ServedCertificates): void {
    this.template.certificates = served;
    for (const run of this.runs) run.port.postMessage({ type: 'certificates', served } satisfies SupervisorMessage);
  }

  /** The pending ACME HTTP-01 challenges changed. */
  challengesChanged(challenges: [string, string][]): void {
    this.template.challenges = challenges;
    for (const run of this.runs) run.port.postMessage({ type: 'challenges', challenges } satisfies SupervisorMessage);
  }

  /** Tells every worker a new table version is out, so idle ones load it too. */
  tableChanged(): void {
    for (const run of this.runs) run.port.postMessage({ type: 'table' } satisfies SupervisorMessage);
  }

  /** Test hook: each serving worker's upstream pool state. */
  poolStats(): Promise<PoolStats[]> {
    const runs = [...this.runs].filter((r) => !r.retiring);
    // No run would answer.
    if (runs.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const got: PoolStats[] = [];
      const onMessage = (m: WorkerMessage) => {
        if (m.type !== 'pools') return;
        got.push(m.stats);
        if (got.length === runs.length) {
          this.listeners.delete(onMessage);
          resolve(got);
        }
      };
      this.listeners.add(onMessage);
      for (const run of runs) run.port.postMessage({ type: 'pools' } satisfies SupervisorMessage);
    });
  }

  /** Test hook: makes a worker's event loop fail (uncaught exceptions past what it survives). */
  crash(id: number): void {
    this.slots[id].current?.port.postMessage({ type: 'crash' } satisfies SupervisorMessage);
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes everything. */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) if (slot.pendingLaunch !== null) clearTimeout(slot.pendingLaunch);
    const runs = [...this.runs];
    // A retiring worker too: shutdown does not wait out its linger.
    for (const run of runs) run.port.postMessage({ type: 'drain', graceMs } satisfies SupervisorMessage);
    await Promise.all(runs.map((r) => r.settled));
    await this.pool?.destroy();
  }
}
