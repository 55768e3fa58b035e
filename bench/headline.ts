// npm run bench (no mode flag): the headline cells, portero against nginx
// with the proxy saturated, in under three minutes.
//
// On a 2-core machine a load generator and backends that share the cores
// with the proxy decide the result: a ratio taken while neither proxy is the
// bottleneck measures the load generator. So each proxy is pinned to core 0,
// and Debian's wrk (one thread, 64 keep-alive connections) and the backends
// run on core 1. The backends are one nginx process answering the 20-byte
// body on 4 ports: node backends cost core 1 more than the proxy costs core
// 0, and then neither proxy is saturated. A measurement counts as saturated when the proxy kept at
// least SATURATED of its core busy; the headline ratios come from saturated
// pairs only. (A cgroup cap below one core would saturate the proxy for
// sure, but CFS throttling costs a proxy a good part of its efficiency: nginx
// did 2.5 times fewer requests per CPU-second capped at half a core.)
//
// Cells: 1 worker and 2 workers over 4 replicas (2 workers share core 0: the
// cell shows what a second worker costs, not what it adds), and 1 worker over
// 1 replica. nginx gets the same worker count and sends the same six
// forwarding headers as portero. The first cell also measures portero with
// upstream pipelining on (--serversTransport.pipelining, PIPELINING deep), as
// does the 1-replica cell, where every request goes to one server.
// The proxies of a cell are all started first (an idle proxy costs its core
// nothing), and rounds rotate which is measured first, so the measurements
// compared are seconds apart: this VM drifts by tens of percent in minutes.
//
// Then latency at a fixed rate, half of nginx's median saturated rate in the
// first cell: autocannon (--overallRate, its own process on core 1) through
// each proxy, p50 and p99 of every response. A latency taken at saturation
// only measures the queue.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BODY } from './body.js';
import { measure } from './measure.js';
import { freePort, freePorts, waitForBody } from './net.js';
import { NGINX_FORWARD_LOCATION, nginxConf, nginxUpstream, spawnPinnedNginx } from './peers/nginx-conf.js';
import { PORTERO_NODE_FLAGS, porteroDynamicConfig } from './peers/portero.js';
import { peakRssKiB, processTree, rssKiB } from './proc.js';
import { LOAD_CORE, measureCapped, median, pinned, PROXY_CORE, WRK, wrk } from './saturated.js';
import { spawnChild } from './spawn.js';

/** The proxy's core: pinned, not capped. */
export const PROXY_CORES = 1;
/** Share of its core a proxy must keep busy for its measurement to count. */
export const SATURATED = 0.95;
const CONNECTIONS = 64;

/** Requests per upstream connection for the pipelined portero. */
export const PIPELINING = 16;

/** portero as shipped, portero with --serversTransport.pipelining, and the peer. */
export type HeadlinePeer = 'portero' | 'portero, pipelining' | 'nginx';

export interface HeadlineCell {
  name: string;
  workers: number;
  replicas: number;
  /** portero with pipelining is measured here too. */
  pipelined: boolean;
}

export const HEADLINE_CELLS: readonly HeadlineCell[] = [
  { name: '1 worker, 4 replicas', workers: 1, replicas: 4, pipelined: true },
  { name: '2 workers, 4 replicas', workers: 2, replicas: 4, pipelined: false },
  { name: '1 worker, 1 replica', workers: 1, replicas: 1, pipelined: true },
];

function peersOf(cell: HeadlineCell): HeadlinePeer[] {
  return cell.pipelined ? ['nginx', 'portero', 'portero, pipelining'] : ['nginx', 'portero'];
}

export interface HeadlineRow {
  cell: string;
  peer: HeadlinePeer;
  round: number;
  reqPerSec: number;
  reqPerCpuSecond: number;
  /** Cores the proxy used: about 1 (its pinned core) when saturated. */
  proxyCores: number;
  saturated: boolean;
  errors: string;
  /** Resident memory of the proxy's processes, MiB: just started (one request served), and at its peak after the load. */
  rssIdleMiB: number;
  rssPeakMiB: number;
}

/** One proxy at a fixed rate. */
export interface LatencyRow {
  peer: HeadlinePeer;
  round: number;
  /** Asked for, and what the load generator achieved. */
  rate: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface HeadlineReport {
  settings: { rounds: number; durationS: number; connections: number; proxyCores: number };
  rows: HeadlineRow[];
  /** At half of nginx's saturated rate in the first cell (or of its rate, see latencyFromSaturated). */
  latency: LatencyRow[];
  /** The latency rate is half of nginx's saturated rate; false: nginx never saturated, half of the rate it reached. */
  latencyFromSaturated?: boolean;
}

const LATENCY_ROUNDS = 1;

interface Proxy {
  port: number;
  pids(): number[];
  stop(): Promise<void>;
}

/** One nginx worker on core 1 answering BODY on `ports`: the replicas. */
export function backendNginxConfig(dir: string, ports: readonly number[]): string {
  return nginxConf(dir, 1, ['  default_type text/plain;', ...ports.map((p) => `  server { listen 127.0.0.1:${p}; location / { return 200 ${JSON.stringify(BODY)}; } }`)].join('\n'));
}

async function startBackendNginx(dir: string, count: number): Promise<{ ports: number[]; stop(): Promise<void> }> {
  const ports = await freePorts(count);
  const child = spawnPinnedNginx('backends', join(dir, 'nginx-backends'), LOAD_CORE, (d) => backendNginxConfig(d, ports));
  for (const p of ports) await waitForBody(`http://127.0.0.1:${p}/`, BODY);
  return { ports, stop: () => child.stop('SIGTERM') };
}

async function startPortero(cli: string, dir: string, workers: number, backends: readonly number[], pipelining: number): Promise<Proxy> {
  const [port, api] = await freePorts(2);
  const file = join(dir, 'portero-headline.json');
  writeFileSync(file, porteroDynamicConfig({ backends }));
  const [cmd, args] = pinned(PROXY_CORE, process.execPath, [
    ...PORTERO_NODE_FLAGS,
    cli,
    `--entrypoints.web.address=127.0.0.1:${port}`,
    `--entrypoints.traefik.address=127.0.0.1:${api}`,
    `--providers.file.filename=${file}`,
    `--workers=${workers}`,
    `--serversTransport.pipelining=${pipelining}`,
  ]);
  const child = spawnChild('portero', cmd, args, { logFile: join(dir, 'portero-headline.log') });
  await waitForBody(`http://127.0.0.1:${port}/`, BODY);
  return { port, pids: () => processTree(child.pid), stop: () => child.stop('SIGTERM', 15_000) };
}

/** nginx doing portero's job: round robin over a keep-alive pool, and the six headers portero adds. */
export function headlineNginxConfig(dir: string, port: number, workers: number, backends: readonly number[]): string {
  return nginxConf(dir, workers, `${nginxUpstream(backends)}
  server {
    listen 127.0.0.1:${port};
${NGINX_FORWARD_LOCATION}
  }`);
}

async function startNginx(dir: string, workers: number, backends: readonly number[]): Promise<Proxy> {
  const port = await freePort();
  const child = spawnPinnedNginx('nginx', join(dir, 'nginx-headline'), PROXY_CORE, (d) => headlineNginxConfig(d, port, workers, backends));
  await waitForBody(`http://127.0.0.1:${port}/`, BODY);
  return { port, pids: () => processTree(child.pid), stop: () => child.stop('SIGTERM') };
}

/** A figure of /proc summed over a process tree, in MiB. */
function memoryMiB(pids: readonly number[], read: (pid: number) => number | null): number {
  return pids.reduce((sum, pid) => sum + (read(pid) ?? 0), 0) / 1024;
}

export interface HeadlineOptions {
  tmp: string;
  cli: string;
  rounds: number;
  durationS: number;
  log: (line: string) => void;
}

export async function runHeadline(o: HeadlineOptions): Promise<HeadlineReport> {
  mkdirSync(o.tmp, { recursive: true });
  if (!existsSync(WRK)) throw new Error("the headline cells need Debian's wrk (apt-get install wrk)");
  const backends = await startBackendNginx(o.tmp, 4);
  const report: HeadlineReport = { settings: { rounds: o.rounds, durationS: o.durationS, connections: CONNECTIONS, proxyCores: PROXY_CORES }, rows: [], latency: [] };
  const total = o.rounds * HEADLINE_CELLS.reduce((n, c) => n + peersOf(c).length, 0) + LATENCY_ROUNDS * peersOf(HEADLINE_CELLS[0]!).length;
  const start = (peer: HeadlinePeer, workers: number, ports: number[]): Promise<Proxy> =>
    peer === 'nginx' ? startNginx(o.tmp, workers, ports) : startPortero(o.cli, o.tmp, workers, ports, peer === 'portero' ? 0 : PIPELINING);
  const t0 = performance.now();
  let done = 0;
  const progress = (what: string): void => {
    const elapsed = (performance.now() - t0) / 1000;
    const eta = done === 0 ? '' : `, about ${Math.round((elapsed / done) * (total - done))} s left`;
    o.log(`[${++done}/${total}] ${what}${eta}`);
  };
  try {
    for (const cell of HEADLINE_CELLS) {
      const ports = backends.ports.slice(0, cell.replicas);
      const peers = peersOf(cell);
      // Every proxy of the cell runs from the start (an idle one costs its core nothing), so the
      // measurements alternate a few seconds apart and a drifting machine shifts them all alike.
      const proxies = new Map<HeadlinePeer, { proxy: Proxy; url: string; rssIdleMiB: number }>();
      try {
        for (const peer of peers) {
          const proxy = await start(peer, cell.workers, ports);
          proxies.set(peer, { proxy, url: `http://127.0.0.1:${proxy.port}/`, rssIdleMiB: memoryMiB(proxy.pids(), rssKiB) });
        }
        for (const { url } of proxies.values()) await wrk(url, 1, CONNECTIONS); // warm-up
        for (let round = 1; round <= o.rounds; round++) {
          // Rotate which goes first.
          const shift = (round + HEADLINE_CELLS.indexOf(cell)) % peers.length;
          for (const peer of [...peers.slice(shift), ...peers.slice(0, shift)]) {
            progress(`round ${round}, ${cell.name}, ${peer}`);
            const { proxy, url, rssIdleMiB } = proxies.get(peer)!;
            const m = await measureCapped(proxy.pids, 0, o.durationS, () => wrk(url, o.durationS, CONNECTIONS));
            const row: HeadlineRow = {
              cell: cell.name,
              peer,
              round,
              reqPerSec: m.reqPerSec,
              reqPerCpuSecond: m.reqPerCpuSecond,
              proxyCores: m.proxyCores,
              saturated: m.proxyCores >= SATURATED * PROXY_CORES,
              errors: m.errors,
              rssIdleMiB,
              rssPeakMiB: memoryMiB(proxy.pids(), peakRssKiB),
            };
            report.rows.push(row);
            o.log(`  ${Math.round(row.reqPerSec)} req/s, ${Math.round(row.reqPerCpuSecond)} req per CPU-s, proxy at ${row.proxyCores.toFixed(2)} of its core${row.saturated ? '' : ' (not saturated)'}${row.errors ? ` (${row.errors})` : ''}`);
          }
        }
      } finally {
        for (const { proxy } of proxies.values()) await proxy.stop();
      }
    }
    const first = HEADLINE_CELLS[0]!;
    const nginxRows = report.rows.filter((x) => x.cell === first.name && x.peer === 'nginx' && x.errors === '');
    // Half of nginx's saturated rate; when the load generator held nginx below saturation, half of what it reached.
    const saturatedRates = nginxRows.filter((x) => x.saturated).map((x) => x.reqPerSec);
    const nginxRates = saturatedRates.length > 0 ? saturatedRates : nginxRows.map((x) => x.reqPerSec);
    report.latencyFromSaturated = saturatedRates.length > 0;
    if (nginxRates.length > 0) {
      const rate = Math.round(median(nginxRates) / 2);
      for (let round = 1; round <= LATENCY_ROUNDS; round++) {
        // nginx first: the rate comes from nginx's rounds, just before.
        for (const peer of peersOf(first)) {
          progress(`latency at ${rate} req/s, ${first.name}, ${peer}`);
          const ports = backends.ports.slice(0, first.replicas);
          const proxy = await start(peer, first.workers, ports);
          try {
            const m = await measure({ urls: [`http://127.0.0.1:${proxy.port}/`], connections: CONNECTIONS, warmupS: 1, durationS: o.durationS, expectBody: BODY, overallRate: rate }, {}, LOAD_CORE);
            const l = m.load;
            const row: LatencyRow = { peer, round, rate, reqPerSec: l.reqPerSec, p50Ms: l.latencyMs.p50, p99Ms: l.latencyMs.p99, errors: l.errors + l.timeouts + l.non2xx + l.mismatches };
            report.latency.push(row);
            o.log(`  ${Math.round(row.reqPerSec)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms${row.errors > 0 ? `, ${row.errors} errors` : ''}`);
          } finally {
            await proxy.stop();
          }
        }
      }
    }
  } finally {
    await backends.stop();
  }
  return report;
}

export interface CellRatio {
  cell: string;
  /** Which portero: as shipped, or with pipelining. */
  peer: Exclude<HeadlinePeer, 'nginx'>;
  /** Rounds where both proxies were saturated and answered without errors. */
  pairs: number;
  rounds: number;
  /** Medians over those pairs, portero / nginx; null without one. */
  reqPerSec: number | null;
  reqPerCpuSecond: number | null;
  /** Requests per CPU-second over every error-free pair, saturated or not: a hint when the load generator held nginx back. */
  allPairsReqPerCpuSecond: number | null;
}

export function headlineRatios(r: HeadlineReport): CellRatio[] {
  return HEADLINE_CELLS.flatMap((cell) => peersOf(cell).flatMap((peer) => (peer === 'nginx' ? [] : [ratioOf(r, cell, peer)])));
}

function ratioOf(r: HeadlineReport, cell: HeadlineCell, peer: CellRatio['peer']): CellRatio {
  const perSec: number[] = [];
  const perCpu: number[] = [];
  const anyPerCpu: number[] = [];
  for (let round = 1; round <= r.settings.rounds; round++) {
    const p = r.rows.find((x) => x.cell === cell.name && x.peer === peer && x.round === round);
    const n = r.rows.find((x) => x.cell === cell.name && x.peer === 'nginx' && x.round === round);
    if (!p || !n || p.errors !== '' || n.errors !== '' || n.reqPerSec === 0 || n.reqPerCpuSecond === 0) continue;
    anyPerCpu.push(p.reqPerCpuSecond / n.reqPerCpuSecond);
    if (!p.saturated || !n.saturated) continue;
    perSec.push(p.reqPerSec / n.reqPerSec);
    perCpu.push(p.reqPerCpuSecond / n.reqPerCpuSecond);
  }
  const med = (xs: number[]) => (xs.length === 0 ? null : median(xs));
  return { cell: cell.name, peer, pairs: perSec.length, rounds: r.settings.rounds, reqPerSec: med(perSec), reqPerCpuSecond: med(perCpu), allPairsReqPerCpuSecond: med(anyPerCpu) };
}

export function headlineMarkdown(r: HeadlineReport): string {
  const f = (n: number | null) => (n === null ? 'n/a' : n.toFixed(2));
  const lines = [
    '# portero vs nginx, proxy saturated (npm run bench)',
    '',
    `Each proxy pinned to core 0 (${r.settings.proxyCores} core, not capped); wrk (1 thread, ${r.settings.connections} keep-alive connections) and the backends (one nginx worker answering a 20-byte body on one port per replica) on core 1. The proxies of a cell all run from its start, each warmed up for 1 s; then ${r.settings.rounds} rounds of ${r.settings.durationS} s per proxy, rotating which goes first. nginx: the same worker count, upstream keep-alive, the same six forwarding headers as portero. "portero, pipelining" is portero with --serversTransport.pipelining=${PIPELINING} (off by default). A measurement is saturated when the proxy kept >= ${SATURATED * 100}% of its core busy; the ratios come only from rounds where both were. The last column takes every error-free round: when wrk and the backends held nginx below saturation, it is the only figure, and a hint, not the headline.`,
    '',
    '| cell | proxy | / nginx, requests per CPU-second | / nginx, requests/s | saturated pairs | all rounds, requests per CPU-second |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...headlineRatios(r).map((c) => `| ${c.cell} | ${c.peer} | **${f(c.reqPerCpuSecond)}** | ${f(c.reqPerSec)} | ${c.pairs} of ${c.rounds} | ${f(c.allPairsReqPerCpuSecond)} |`),
    '',
    ...latencyLines(r),
    ...memoryLines(r),
    '| cell | round | proxy | req/s | req per CPU-s | cores used | saturated | RSS started / peak, MiB | errors |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | --- |',
    ...r.rows.map(
      (x) =>
        `| ${x.cell} | ${x.round} | ${x.peer} | ${Math.round(x.reqPerSec)} | ${Math.round(x.reqPerCpuSecond)} | ${x.proxyCores.toFixed(2)} | ${x.saturated ? 'yes' : 'no'} | ${x.rssIdleMiB.toFixed(0)} / ${x.rssPeakMiB.toFixed(0)} | ${x.errors} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Median resident memory per proxy and worker count, over every cell and round. */
export function memoryMedians(r: HeadlineReport): { peer: HeadlinePeer; workers: number; idleMiB: number; peakMiB: number }[] {
  const out: { peer: HeadlinePeer; workers: number; idleMiB: number; peakMiB: number }[] = [];
  for (const workers of [...new Set(HEADLINE_CELLS.map((c) => c.workers))]) {
    for (const peer of peersOf(HEADLINE_CELLS[0]!)) {
      const rows = r.rows.filter((x) => x.peer === peer && HEADLINE_CELLS.find((c) => c.name === x.cell)?.workers === workers);
      if (rows.length > 0) out.push({ peer, workers, idleMiB: median(rows.map((x) => x.rssIdleMiB)), peakMiB: median(rows.map((x) => x.rssPeakMiB)) });
    }
  }
  return out;
}

function memoryLines(r: HeadlineReport): string[] {
  const m = memoryMedians(r);
  if (m.length === 0) return [];
  return [
    'Resident memory (all of the proxy\'s processes, median over the cells), just started and at its peak under the load:',
    '',
    '| proxy | workers | started | peak |',
    '| --- | ---: | ---: | ---: |',
    ...m.map((x) => `| ${x.peer} | ${x.workers} | ${x.idleMiB.toFixed(0)} MiB | ${x.peakMiB.toFixed(0)} MiB |`),
    '',
  ];
}

/** Median p50 and p99 per proxy at the fixed rate. */
export function latencyMedians(r: HeadlineReport): { peer: string; rate: number; reqPerSec: number; p50Ms: number; p99Ms: number; errors: number }[] {
  return peersOf(HEADLINE_CELLS[0]!).flatMap((peer) => {
    const rows = r.latency.filter((x) => x.peer === peer);
    if (rows.length === 0) return [];
    return [{ peer, rate: rows[0]!.rate, reqPerSec: median(rows.map((x) => x.reqPerSec)), p50Ms: median(rows.map((x) => x.p50Ms)), p99Ms: median(rows.map((x) => x.p99Ms)), errors: rows.reduce((n, x) => n + x.errors, 0) }];
  });
}

function latencyLines(r: HeadlineReport): string[] {
  const m = latencyMedians(r);
  if (m.length === 0) return ['No latency row: nginx had no error-free measurement in the first cell, so there is no rate to take half of.', ''];
  const of = r.latencyFromSaturated === false ? "half of nginx's median rate: nginx was never saturated there, the load generator held it" : "half of nginx's median saturated rate";
  return [
    `Latency at ${m[0]!.rate} req/s (${of}, ${HEADLINE_CELLS[0]!.name}), autocannon on core 1, ${LATENCY_ROUNDS === 1 ? 'one round' : `median of ${LATENCY_ROUNDS} rounds`}:`,
    '',
    '| proxy | achieved req/s | p50 | p99 | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...m.map((x) => `| ${x.peer} | ${Math.round(x.reqPerSec)} | ${x.p50Ms.toFixed(2)} ms | ${x.p99Ms.toFixed(2)} ms | ${x.errors} |`),
    '',
  ];
}
