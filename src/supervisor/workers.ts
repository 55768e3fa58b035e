// Runs one long-lived serve task per worker thread under piscina and keeps it
// running: piscina replaces a dead thread but not its task, so a task that
// ends without being asked to is submitted again at once.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { ServeTask, SupervisorMessage, WorkerMessage } from '../worker/serve.js';

/** Young generation per worker: three times the semi-space. */
const YOUNG_GENERATION_MB = 3;

export type WorkerTaskTemplate = Omit<ServeTask, 'workerId' | 'port'>;

interface Slot {
  id: number;
  port: MessagePort | null;
  running: Promise<void> | null;
  listening: boolean;
  restarts: number;
  /** This run reached 'listening'. */
  up: boolean;
}

export class WorkerSupervisor {
  private readonly pool: Piscina;
  private readonly slots: Slot[];
  private stopping = false;
  private readonly listeners = new Set<(m: WorkerMessage) => void>();

  constructor(
    private readonly count: number,
    private readonly template: WorkerTaskTemplate,
    private readonly log: Logger,
  ) {
    this.pool = new Piscina({
      filename: new URL('../worker/serve.js', import.meta.url).href,
      minThreads: count,
      maxThreads: count,
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
    this.slots = Array.from({ length: count }, (_, id) => ({ id, port: null, running: null, listening: false, restarts: 0, up: false }));
  }

  /** Resolves once every worker listens on every entry point. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let waiting = this.count;
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'listening' && !this.slots[m.workerId].listening) {
          this.slots[m.workerId].listening = true;
          if (--waiting === 0) {
            this.listeners.delete(onMessage);
            resolve();
          }
        }
      };
      this.listeners.add(onMessage);
      for (const slot of this.slots) this.launch(slot, reject);
    });
  }

  onMessage(fn: (m: WorkerMessage) => void): void {
    this.listeners.add(fn);
  }

  get restarts(): number {
    return this.slots.reduce((n, s) => n + s.restarts, 0);
  }

  private launch(slot: Slot, onFirstFailure?: (err: Error) => void): void {
    const { port1, port2 } = new MessageChannel();
    slot.port = port1;
    slot.up = false;
    const handle = (m: WorkerMessage) => {
      if (m.type === 'listening') slot.up = true;
      if (m.type === 'log') this.log[m.level]({ worker: m.workerId }, m.msg);
      for (const fn of this.listeners) fn(m);
    };
    port1.on('message', handle);
    const task: ServeTask = { ...this.template, workerId: slot.id, port: port2 };
    const run = this.pool.run(task, { transferList: [port2] }) as Promise<void>;
    slot.running = run.then(
      () => this.ended(slot, null, port1, handle),
      (err: Error) => {
        if (!slot.listening && onFirstFailure !== undefined && /cannot listen/.test(err.message)) {
          port1.close();
          onFirstFailure(err);
          return;
        }
        this.ended(slot, err, port1, handle);
      },
    );
  }

  private ended(slot: Slot, err: Error | null, port: MessagePort, handle: (m: WorkerMessage) => void): void {
    // What the worker sent just before its task settled (its last access log
    // lines) can still be queued: take it before closing the port drops it.
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as WorkerMessage);
    port.close();
    if (this.stopping) return;
    slot.restarts++;
    // A worker that fails before it listens (say, its port is taken) is
    // retried once a second instead of in a tight loop.
    const delay = slot.up ? 0 : 1000;
    this.log.error({ worker: slot.id, err: err?.message, retryInMs: delay }, 'worker stopped serving; starting it again');
    if (delay === 0) this.launch(slot);
    else setTimeout(() => !this.stopping && this.launch(slot), delay).unref();
  }

  /** Tells every worker a new table version is out, so idle ones load it too. */
  tableChanged(): void {
    for (const slot of this.slots) slot.port?.postMessage({ type: 'table' } satisfies SupervisorMessage);
  }

  /** Test hook: makes a worker throw an uncaught exception. */
  crash(id: number): void {
    this.slots[id].port?.postMessage({ type: 'crash' } satisfies SupervisorMessage);
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes everything. */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) slot.port?.postMessage({ type: 'drain', graceMs } satisfies SupervisorMessage);
    await Promise.all(this.slots.map((s) => s.running));
    await this.pool.destroy();
  }
}
