// The Swarm provider at scale (npm run bench -- --discovery, and with
// --scale). portero (one worker, the Swarm provider polling every second,
// events on) reads a stand-in Docker API (docker-standin.ts, its own
// process) holding 1,000 services and 10,000 tasks in Docker's JSON shapes.
// Measured from outside portero, and from its debug log (when each table
// was published, and when each worker served it):
// - quiet polls: portero's CPU (/proc, the whole process) and the bytes the
//   manager sends, with /ping asked every 10 ms (p50, p99, max); then the
//   same without /ping, for the CPU of one full poll;
// - a task started on one service, 300 ms after the service event a scale
//   sends: the time until /api shows its server and until every worker
//   routes to it, the main thread's time to publish, and /ping's worst
//   latency meanwhile;
// - a task started with no event (as a task rescheduled after a crash),
//   which only the full poll finds: the same figures.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePorts } from './net.js';
import { PORTERO_NODE_FLAGS } from './peers/portero.js';
import { CLK_TCK, cpuTimesOf, mainThreadCpuMs, processTree } from './proc.js';
import { median } from './saturated.js';
import { type Child, spawnChild, waitForOutput } from './spawn.js';

const STANDIN_SCRIPT = fileURLToPath(new URL('./docker-standin-main.js', import.meta.url));

export interface DiscoveryOptions {
  cli: string;
  services: number;
  tasksPerService: number;
  quietSeconds: number;
  taskStarts: number;
  log: (line: string) => void;
}

export interface DiscoveryReport {
  services: number;
  tasks: number;
  workers: number;
  /** Time from portero's start to the API listing every router. */
  firstSyncMs: number;
  /** A quiet Swarm over `seconds`: full polls made, portero's CPU (the /ping loop's requests included) and the manager's bytes, per second. */
  quiet: { seconds: number; polls: number; cpuMsPerSecond: number; bytesPerPoll: number; bytesPerSecond: number; ping: Latency };
  /** A quiet Swarm without /ping: all of portero's CPU over `seconds` per full poll, its main thread's, and the poll thread's own CPU for each poll. */
  idle: { seconds: number; polls: number; cpuMsPerPoll: number; mainCpuMsPerPoll: number; threadCpuMs: number[] };
  /** Tasks started 300 ms after their service's event. */
  taskStart: Change[];
  /** Tasks started with no event, found by the full poll. */
  pollFound: Change[];
}

/** One task started, seen from outside. */
export interface Change {
  /** From the task running until /api lists its server. */
  routableMs: number;
  /** Until every worker serves the table with it (portero's log), or null when the log did not say. */
  workersMs: number | null;
  /** The main thread's time from the configuration to the table published (portero's log). */
  publishMs: number | null;
  /** /ping's worst latency from the task starting until 1.5 s after it was routable. */
  pingMaxMs: number;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function getJson(port: number, path: string): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return r.json();
}

/** Pings every 10 ms until stopped; resolves the latencies (ms). */
function pingLoop(port: number): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await (await fetch(`http://127.0.0.1:${port}/ping`)).text();
        times.push(performance.now() - t0);
      } catch {
        times.push(Number.POSITIVE_INFINITY);
      }
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return times;
    },
  };
}

function latency(times: number[]): Latency {
  const s = [...times].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1) ?? 0 };
}

/** portero's JSON log lines about tables: when each was published (and the main thread's time) and served by each worker. */
class TableLog {
  readonly published: { at: number; generation: number; tookMs: number }[] = [];
  readonly served: { at: number; generation: number; worker: number }[] = [];
  /** Full polls: the poll thread's CPU for each (its own measure), and how many services it found changed. */
  readonly polls: { at: number; cpuMs: number | null; changed: number }[] = [];
  private pending = '';

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.pending.indexOf('\n')) >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        let o: { msg?: string; time?: number; generation?: number; tookMs?: number; worker?: number; cpuMs?: number | null; changed?: number };
        try {
          o = JSON.parse(line) as typeof o;
        } catch {
          continue;
        }
        if (o.time === undefined) continue;
        if (o.msg === 'Swarm polled') this.polls.push({ at: o.time, cpuMs: o.cpuMs ?? null, changed: o.changed ?? 0 });
        if (o.generation === undefined) continue;
        if (o.msg === 'route table published') this.published.push({ at: o.time, generation: o.generation, tookMs: o.tookMs ?? 0 });
        else if (o.msg === 'worker serves the new route table' && o.worker !== undefined) this.served.push({ at: o.time, generation: o.generation, worker: o.worker });
      }
    });
  }

  /** The first table published at or after `since` (epoch ms), and when every one of `workers` served it; waits up to timeoutMs for the workers. */
  async after(since: number, workers: number, timeoutMs: number): Promise<{ publishMs: number | null; workersAt: number | null }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const table = this.published.find((p) => p.at >= since);
      if (table !== undefined) {
        const at = this.served.filter((w) => w.generation === table.generation).map((w) => w.at);
        if (new Set(this.served.filter((w) => w.generation === table.generation).map((w) => w.worker)).size >= workers) return { publishMs: table.tookMs, workersAt: Math.max(...at) };
        if (Date.now() > deadline) return { publishMs: table.tookMs, workersAt: null };
      } else if (Date.now() > deadline) return { publishMs: null, workersAt: null };
      await sleep(20);
    }
  }
}

const WORKERS = 1;

export async function runDiscovery(o: DiscoveryOptions): Promise<DiscoveryReport> {
  const standin = spawnChild('docker-standin', process.execPath, [STANDIN_SCRIPT, String(o.services), String(o.tasksPerService)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let portero: Child | null = null;
  try {
    const dockerPort = Number((await waitForOutput(standin, /listening (\d+)/, 60_000))[1]);
    const ask = async (line: string, answer: RegExp): Promise<RegExpExecArray> => {
      const wait = waitForOutput(standin, answer, 10_000);
      standin.proc.stdin!.write(`${line}\n`);
      return wait;
    };
    const stats = async () => {
      const m = await ask('stats', /(\{"bytes".*\})\n/);
      return JSON.parse(m[1]!) as { bytes: Record<string, number>; requests: Record<string, number> };
    };
    const [web, api] = await freePorts(2);
    const t0 = performance.now();
    portero = spawnChild(
      'portero',
      process.execPath,
      [
        ...PORTERO_NODE_FLAGS,
        o.cli,
        `--entrypoints.web.address=127.0.0.1:${web}`,
        `--entrypoints.traefik.address=127.0.0.1:${api}`,
        '--api.insecure',
        '--ping',
        `--workers=${WORKERS}`,
        `--providers.swarm.endpoint=tcp://127.0.0.1:${dockerPort}`,
        '--providers.swarm.exposedByDefault=false',
        '--providers.swarm.refreshSeconds=1',
        // Debug: each worker's load of a table (nothing else logs at this level).
        '--log.level=DEBUG',
        '--log.format=json',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const tables = new TableLog(portero.proc.stderr!);
    const routers = async () => {
      try {
        return ((await getJson(api!, '/api/overview')) as { http: { routers: { total: number } } }).http.routers.total;
      } catch {
        return 0;
      }
    };
    while ((await routers()) < o.services) {
      if (performance.now() - t0 > 120_000) throw new Error('portero did not list every router within 120 s');
      await sleep(50);
    }
    const firstSyncMs = performance.now() - t0;
    o.log(`discovery: ${o.services} routers listed ${Math.round(firstSyncMs)} ms after start`);
    await sleep(3000);
    const pids = () => processTree(portero!.pid);
    o.log(`discovery: CPU measured in ${1000 / CLK_TCK} ms ticks`);
    /** Over `seconds`: full polls made, portero's CPU (ms) and the bytes the manager sent. */
    const window = async (seconds: number) => {
      const s0 = await stats();
      const c0 = cpuTimesOf(pids());
      const m0 = mainThreadCpuMs(portero!.pid) ?? 0;
      await sleep(seconds * 1000);
      const m1 = mainThreadCpuMs(portero!.pid) ?? 0;
      const c1 = cpuTimesOf(pids());
      const s1 = await stats();
      return {
        mainCpuMs: m1 - m0,
        polls: (s1.requests['/services'] ?? 0) - (s0.requests['/services'] ?? 0),
        cpuMs: (c1.user + c1.sys - c0.user - c0.sys) * 1000,
        bytes: Object.keys(s1.bytes).reduce((n, k) => n + (s1.bytes[k]! - (s0.bytes[k] ?? 0)), 0),
      };
    };

    // Quiet polls, with /ping every 10 ms.
    const pings = pingLoop(api!);
    const w = await window(o.quietSeconds);
    const quiet = { seconds: o.quietSeconds, polls: w.polls, cpuMsPerSecond: w.cpuMs / o.quietSeconds, bytesPerPoll: w.polls > 0 ? w.bytes / w.polls : 0, bytesPerSecond: w.bytes / o.quietSeconds, ping: latency(await pings.stop()) };
    o.log(`discovery: ${w.polls} full polls in ${o.quietSeconds} quiet s; ${quiet.cpuMsPerSecond.toFixed(1)} ms CPU/s, ${(quiet.bytesPerSecond / 1e6).toFixed(2)} MB/s; /ping p99 ${quiet.ping.p99.toFixed(1)} ms`);
    // Quiet polls alone: nothing else runs, so the CPU is the polls'.
    const idleFrom = Date.now();
    const idleW = await window(o.quietSeconds);
    const threadCpuMs = tables.polls.filter((p) => p.at >= idleFrom && p.changed === 0 && p.cpuMs !== null).map((p) => p.cpuMs!);
    const idle = { seconds: o.quietSeconds, polls: idleW.polls, cpuMsPerPoll: idleW.polls > 0 ? idleW.cpuMs / idleW.polls : 0, mainCpuMsPerPoll: idleW.polls > 0 ? idleW.mainCpuMs / idleW.polls : 0, threadCpuMs };
    o.log(`discovery: without /ping, ${idle.polls} full polls: all of portero's CPU over ${o.quietSeconds} s is ${idle.cpuMsPerPoll.toFixed(0)} ms per poll, its main thread's ${idle.mainCpuMsPerPoll.toFixed(1)} ms; the poll thread's own: ${threadCpuMs.map((n) => n.toFixed(0)).join(', ')} ms`);

    /** Starts a task on service i (after its event when `withEvent`) and measures until it is routable. */
    const change = async (i: number, withEvent: boolean): Promise<Change> => {
      const loop = pingLoop(api!);
      if (withEvent) {
        // As `docker service scale` does: the service event, then the task runs a moment later.
        await ask(`event ${i}`, /sent\n/);
        await sleep(300);
      }
      const startedAt = Date.now();
      const started = performance.now();
      const url = (await ask(`start ${i}`, /started (http:\/\/\S+)\n/))[1]!;
      // The full poll comes every few seconds on this Swarm: allow a few of them.
      const limitMs = withEvent ? 30_000 : 60_000;
      for (;;) {
        const svc = (await getJson(api!, `/api/http/services/svc${i}@swarm`)) as { loadBalancer?: { servers?: { url: string }[] } };
        if (svc.loadBalancer?.servers?.some((s) => s.url === url)) break;
        if (performance.now() - started > limitMs) throw new Error(`the task started on svc${i} was not routable within ${limitMs / 1000} s`);
        await sleep(10);
      }
      const routableMs = performance.now() - started;
      const t = await tables.after(startedAt, WORKERS, 5000);
      await sleep(1500);
      const c: Change = { routableMs, workersMs: t.workersAt === null ? null : t.workersAt - startedAt, publishMs: t.publishMs, pingMaxMs: latency(await loop.stop()).max };
      o.log(`discovery: task on svc${i} (${withEvent ? 'after its event' : 'no event'}) routable after ${Math.round(c.routableMs)} ms, in every worker after ${c.workersMs ?? '?'} ms; publishing took the main thread ${c.publishMs ?? '?'} ms; /ping max meanwhile ${c.pingMaxMs.toFixed(0)} ms`);
      return c;
    };
    const taskStart: Change[] = [];
    for (let k = 0; k < o.taskStarts; k++) taskStart.push(await change((k * 97) % o.services, true));
    const pollFound: Change[] = [];
    for (let k = 0; k < Math.min(3, o.taskStarts); k++) pollFound.push(await change((k * 89 + 50) % o.services, false));
    return { services: o.services, tasks: o.services * o.tasksPerService, workers: WORKERS, firstSyncMs, quiet, idle, taskStart, pollFound };
  } finally {
    await portero?.stop();
    standin.proc.stdin?.end();
    await standin.stop();
  }
}

export function discoveryMarkdown(r: DiscoveryReport): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const all = (list: (number | null)[]) => {
    const known = list.filter((n): n is number => n !== null);
    return known.length === 0 ? '?' : `${ms(median(known))} (${list.map((n) => (n === null ? '?' : ms(n))).join(', ')})`;
  };
  const rows = (what: string, list: Change[]) => [
    `| ${what}: routable (in /api), median | ${all(list.map((c) => c.routableMs))} |`,
    `| ${what}: served by every worker, median | ${all(list.map((c) => c.workersMs))} |`,
    `| ${what}: main thread's time to publish the table, median | ${all(list.map((c) => c.publishMs))} |`,
    `| ${what}: /ping max meanwhile, median | ${all(list.map((c) => c.pingMaxMs))} |`,
  ];
  return [
    `## Discovery: ${r.services} services, ${r.tasks} tasks (stand-in Docker API, portero polling every second, ${r.workers} worker)`,
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| all routers listed after start | ${ms(r.firstSyncMs)} |`,
    `| quiet Swarm, ${r.quiet.seconds} s: full polls | ${r.quiet.polls} (${(r.quiet.bytesPerPoll / 1e6).toFixed(1)} MB each) |`,
    `| quiet Swarm: portero CPU per second (with /ping every 10 ms) | ${r.quiet.cpuMsPerSecond.toFixed(1)} ms |`,
    `| quiet Swarm: bytes per second from the manager | ${(r.quiet.bytesPerSecond / 1e6).toFixed(2)} MB |`,
    `| /ping meanwhile: p50 / p99 / max | ${r.quiet.ping.p50.toFixed(1)} / ${r.quiet.ping.p99.toFixed(1)} / ${r.quiet.ping.max.toFixed(1)} ms |`,
    `| one quiet full poll: the poll thread's CPU, median | ${all(r.idle.threadCpuMs)} |`,
    `| one quiet full poll: the main thread's CPU (all of it over ${r.idle.seconds} s without /ping, per poll) | ${r.idle.mainCpuMsPerPoll.toFixed(1)} ms |`,
    `| one quiet full poll: all of portero's CPU over ${r.idle.seconds} s without /ping, per poll (${r.idle.polls} polls) | ${ms(r.idle.cpuMsPerPoll)} |`,
    ...rows(`a task started 300 ms after its service's event (${r.taskStart.length})`, r.taskStart),
    ...rows(`a task started with no event, found by the full poll (${r.pollFound.length})`, r.pollFound),
    '',
  ].join('\n');
}
