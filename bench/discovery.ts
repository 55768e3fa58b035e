// npm run bench -- --discovery: the Swarm provider at scale. portero (one
// worker, the Swarm provider polling every second, events on) reads a
// stand-in Docker API (docker-standin.ts, its own process) holding 1,000
// services and 10,000 tasks in Docker's JSON shapes. Measured, all from
// outside portero:
// - quiet polls: portero's CPU (/proc, the whole process) and the bytes the
//   manager sends, per poll;
// - /ping on the API entry point every 10 ms meanwhile: p50, p99, max;
// - a task started on one service, 300 ms after the service event a scale
//   sends: the time from the task running until /api shows its server, and
//   /ping's worst latency meanwhile.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePorts } from './net.js';
import { PORTERO_NODE_FLAGS } from './peers/portero.js';
import { CLK_TCK, cpuTimesOf, processTree } from './proc.js';
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
  /** Time from portero's start to the API listing every router. */
  firstSyncMs: number;
  /** A quiet Swarm over `seconds`: full polls made, portero's CPU (the /ping loop's requests included) and the manager's bytes, per second. */
  quiet: { seconds: number; polls: number; cpuMsPerSecond: number; bytesPerPoll: number; bytesPerSecond: number; ping: Latency };
  taskStart: { routableMs: number[]; pingMaxMs: number[] };
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
    portero = spawnChild('portero', process.execPath, [
      ...PORTERO_NODE_FLAGS,
      o.cli,
      `--entrypoints.web.address=127.0.0.1:${web}`,
      `--entrypoints.traefik.address=127.0.0.1:${api}`,
      '--api.insecure',
      '--ping',
      '--workers=1',
      `--providers.swarm.endpoint=tcp://127.0.0.1:${dockerPort}`,
      '--providers.swarm.exposedByDefault=false',
      '--providers.swarm.refreshSeconds=1',
      '--log.level=ERROR',
    ]);
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

    // Quiet polls.
    const pids = () => processTree(portero!.pid);
    const s0 = await stats();
    const c0 = cpuTimesOf(pids());
    const pings = pingLoop(api!);
    await sleep(o.quietSeconds * 1000);
    const quietPings = await pings.stop();
    const c1 = cpuTimesOf(pids());
    const s1 = await stats();
    const polls = (s1.requests['/services'] ?? 0) - (s0.requests['/services'] ?? 0);
    const bytes = Object.keys(s1.bytes).reduce((n, k) => n + (s1.bytes[k]! - (s0.bytes[k] ?? 0)), 0);
    // cpuTimesOf gives seconds, at the kernel's clock-tick granularity (1 / CLK_TCK s).
    const cpuMs = (c1.user + c1.sys - c0.user - c0.sys) * 1000;
    o.log(`discovery: CPU measured in ${1000 / CLK_TCK} ms ticks`);
    const quiet = { seconds: o.quietSeconds, polls, cpuMsPerSecond: cpuMs / o.quietSeconds, bytesPerPoll: polls > 0 ? bytes / polls : 0, bytesPerSecond: bytes / o.quietSeconds, ping: latency(quietPings) };
    o.log(`discovery: ${polls} full polls in ${o.quietSeconds} quiet s; ${quiet.cpuMsPerSecond.toFixed(1)} ms CPU/s, ${(quiet.bytesPerSecond / 1e6).toFixed(2)} MB/s; /ping p99 ${quiet.ping.p99.toFixed(1)} ms`);

    // Tasks starting.
    const routableMs: number[] = [];
    const pingMaxMs: number[] = [];
    for (let k = 0; k < o.taskStarts; k++) {
      const i = (k * 97) % o.services;
      const loop = pingLoop(api!);
      // As `docker service scale` does: the service event, then the task runs a moment later.
      await ask(`event ${i}`, /sent\n/);
      await sleep(300);
      const started = performance.now();
      const url = (await ask(`start ${i}`, /started (http:\/\/\S+)\n/))[1]!;
      for (;;) {
        const svc = (await getJson(api!, `/api/http/services/svc${i}@swarm`)) as { loadBalancer?: { servers?: { url: string }[] } };
        if (svc.loadBalancer?.servers?.some((s) => s.url === url)) break;
        if (performance.now() - started > 30_000) throw new Error(`the task started on svc${i} was not routable within 30 s`);
        await sleep(10);
      }
      routableMs.push(performance.now() - started);
      await sleep(1500);
      pingMaxMs.push(latency(await loop.stop()).max);
      o.log(`discovery: task on svc${i} routable after ${Math.round(routableMs.at(-1)!)} ms; /ping max meanwhile ${pingMaxMs.at(-1)!.toFixed(0)} ms`);
    }
    return { services: o.services, tasks: o.services * o.tasksPerService, firstSyncMs, quiet, taskStart: { routableMs, pingMaxMs } };
  } finally {
    await portero?.stop();
    standin.proc.stdin?.end();
    await standin.stop();
  }
}

export function discoveryMarkdown(r: DiscoveryReport): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  return [
    `## Discovery: ${r.services} services, ${r.tasks} tasks (stand-in Docker API, portero polling every second)`,
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| all routers listed after start | ${ms(r.firstSyncMs)} |`,
    `| quiet Swarm, ${r.quiet.seconds} s: full polls | ${r.quiet.polls} (${(r.quiet.bytesPerPoll / 1e6).toFixed(1)} MB each) |`,
    `| quiet Swarm: portero CPU per second (with /ping every 10 ms) | ${r.quiet.cpuMsPerSecond.toFixed(1)} ms |`,
    `| quiet Swarm: bytes per second from the manager | ${(r.quiet.bytesPerSecond / 1e6).toFixed(2)} MB |`,
    `| /ping meanwhile: p50 / p99 / max | ${r.quiet.ping.p50.toFixed(1)} / ${r.quiet.ping.p99.toFixed(1)} / ${r.quiet.ping.max.toFixed(1)} ms |`,
    `| a task started: routable (in /api) after, median (${r.taskStart.routableMs.length} starts) | ${ms(median(r.taskStart.routableMs))} (${r.taskStart.routableMs.map(ms).join(', ')}) |`,
    `| /ping max while a change is read and published, median | ${ms(median(r.taskStart.pingMaxMs))} |`,
    '',
  ].join('\n');
}
