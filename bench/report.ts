// Turns measurements into rows, ratios, a console table, Markdown and JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BODY } from './body.js';
import { describeCheckout, type Environment } from './env.js';
import type { Measurement } from './measure.js';
import type { Quiet } from './quiet.js';

export interface Settings {
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  backends: number;
  workers: number;
  peers: string[];
  cpuProf: boolean;
}

export interface Row {
  round: number;
  peer: string;
  version: string;
  /** discarded: measured while other processes were busy, then repeated. */
  status: 'ok' | 'skipped' | 'failed' | 'discarded';
  note?: string;
  /** Ran with a CPU profiler attached: slower than it would be. */
  profiled?: boolean;
  measurement?: Measurement;
  /** How long the run waited for other processes to go quiet, and how busy they were then. */
  quiet?: Quiet;
  peakRssKiB?: number | null;
}

export interface Ratio {
  round: number | 'mean';
  reqPerSec: number;
  reqPerCpuS: number;
}

export interface Report {
  env: Environment;
  versions: Record<string, string>;
  settings: Settings;
  rows: Row[];
  ratios: Ratio[];
}

/** Other processes using this many cores during a run make it noisy. */
export const NOISY_CORES = 0.15;

const f0 = (v: number) => Math.round(v).toLocaleString('en-US');
const f2 = (v: number) => v.toFixed(2);

export function reqPerSec(r: Row): number {
  return r.measurement?.load.reqPerSec ?? 0;
}

/** Requests completed per CPU-second of the proxy's processes; null without a proxy. */
export function reqPerCpuS(r: Row): number | null {
  const m = r.measurement;
  if (m === undefined) return null;
  const cpu = m.cpuS.proxy ?? 0;
  return cpu > 0 ? m.load.requests / cpu : null;
}

/** portero / nginx per round where both ran, then the mean of those. */
export function ratios(rows: Row[], a = 'portero', b = 'nginx'): Ratio[] {
  const out: Ratio[] = [];
  for (const round of [...new Set(rows.map((r) => r.round))]) {
    const ra = rows.find((r) => r.round === round && r.peer === a && r.status === 'ok' && r.profiled !== true);
    const rb = rows.find((r) => r.round === round && r.peer === b && r.status === 'ok');
    if (ra === undefined || rb === undefined) continue;
    out.push({ round, reqPerSec: reqPerSec(ra) / reqPerSec(rb), reqPerCpuS: (reqPerCpuS(ra) ?? 0) / (reqPerCpuS(rb) ?? 1) });
  }
  if (out.length > 1) {
    const mean = (k: 'reqPerSec' | 'reqPerCpuS') => out.reduce((s, r) => s + r[k], 0) / out.length;
    out.push({ round: 'mean', reqPerSec: mean('reqPerSec'), reqPerCpuS: mean('reqPerCpuS') });
  }
  return out;
}

const HEAD = [
  'round',
  'peer',
  'req/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'err/non-2xx/mismatch',
  'proxy cores',
  'proxy user µs/req',
  'proxy sys µs/req',
  'req per proxy CPU-s',
  'proxy peak RSS MiB',
  'load-gen cores',
  'backend cores',
  'other procs cores',
  'softirq cores',
];

function cells(r: Row): string[] {
  const m = r.measurement;
  const noisy = r.status === 'discarded' ? ' (discarded: noisy)' : (m?.machine.others ?? 0) >= NOISY_CORES ? ' (noisy)' : '';
  const peer = `${r.peer}${r.profiled === true ? ' (profiled)' : ''}${noisy}`;
  if ((r.status !== 'ok' && r.status !== 'discarded') || m === undefined) return [String(r.round), peer, `${r.status}: ${r.note ?? ''}`, ...HEAD.slice(3).map(() => '')];
  const l = m.load;
  const proxy = m.cpuS.proxy ?? 0;
  const rpc = reqPerCpuS(r);
  const cores = (s: number | undefined) => f2((s ?? 0) / m.windowS);
  const perReq = (s: number | undefined) => (l.requests > 0 ? (((s ?? 0) * 1e6) / l.requests).toFixed(1) : '-');
  return [
    String(r.round),
    peer,
    f0(l.reqPerSec),
    f2(l.latencyMs.p50),
    f2(l.latencyMs.p90),
    f2(l.latencyMs.p99),
    f2(l.latencyMs.max),
    `${l.errors + l.timeouts}/${l.non2xx}/${l.mismatches}`,
    proxy > 0 ? cores(proxy) : '-',
    proxy > 0 ? perReq(m.cpuSplitS.proxy?.user) : '-',
    proxy > 0 ? perReq(m.cpuSplitS.proxy?.sys) : '-',
    rpc === null ? '-' : f0(rpc),
    r.peakRssKiB == null ? '-' : (r.peakRssKiB / 1024).toFixed(1),
    cores(m.cpuS.load),
    cores(m.cpuS.backends),
    f2(m.machine.others),
    f2(m.machine.irq),
  ];
}

export function textTable(rows: Row[]): string {
  const table = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((c) => (c[i] ?? '').length)));
  return table.map((c) => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')).join('\n');
}

function mdTable(rows: Row[]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(HEAD), line(HEAD.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map((r) => line(cells(r)))].join('\n');
}

export function ratioText(rs: Ratio[]): string {
  if (rs.length === 0) return 'portero/nginx: no round with both (see skipped/failed rows)';
  return rs.map((r) => `portero/nginx round ${r.round}: req/s ${f2(r.reqPerSec)}, req per CPU-s ${f2(r.reqPerCpuS)}`).join('\n');
}

export function markdown(rep: Report): string {
  const { env, settings: s } = rep;
  const versions = Object.entries(rep.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `# portero bench: throughput against nginx

- Date: ${env.date}
- Machine: ${env.cpuModel}, ${env.cores} cores, ${env.memGiB} GiB, Linux ${env.kernel}
- Node ${env.node}; autocannon ${env.autocannon}; uWebSockets.js ${env.uWebSockets}
- Peers: ${versions}
- Bench code: checkout ${describeCheckout(env.portero)}
- Load: autocannon in its own process, ${s.connections} connections, pipelining 1, ${s.warmupS} s warm-up then ${s.durationS} s measured, ${s.rounds} round(s) in the order ${s.peers.join(', ')}
- Backends: ${s.backends} uWebSockets.js processes on 127.0.0.1 answering a ${BODY.length}-byte body; proxies use ${s.workers} worker(s)
- nginx: upstream keepalive 64, proxy_http_version 1.1, Connection "", round robin, access_log off, keepalive_requests raised to 1000000 on both sides (bench/peers/nginx.ts)

${mdTable(rep.rows)}

${rep.ratios.length === 0 ? 'No round had both portero and nginx.' : ['| round | portero/nginx req/s | portero/nginx req per proxy CPU-s |', '| --- | ---: | ---: |', ...rep.ratios.map((r) => `| ${r.round} | ${f2(r.reqPerSec)} | ${f2(r.reqPerCpuS)} |`)].join('\n')}

How to read it: every figure comes from this one run. Proxy CPU is
utime+stime from /proc/<pid>/stat over the measured window (nginx: master and
workers; portero: the whole process, all threads). "cores" is CPU-seconds
divided by the window; "user/sys µs/req" splits the proxy's CPU per request
into user space and kernel (system calls). "direct" is the load spread over
the backends without a proxy: the ceiling of this load generator here. Latencies are exact per-response
times measured by the load process. On a 2-core machine the load generator,
the proxy and the backends compete for the same cores. "other procs cores"
is CPU used in that window by processes the bench did not start (a busy
machine makes the run noisy); "softirq cores" is kernel time in interrupt
context (mostly the loopback TCP stack), charged to no process, so neither
proxy's CPU-s includes its share of it. A run during which other processes
used 0.15 cores or more is marked "discarded: noisy" and measured again (up to
--retries times); discarded runs are not used in the ratios. A run still
noisy after the last retry is kept and marked "(noisy)".
`;
}

// node dist/bench/report.js bench/results/latest.json: rewrites latest.md
// beside it from the recorded data (after a change to the format).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] !== undefined) {
  const file = process.argv[2];
  const rep = JSON.parse(readFileSync(file, 'utf8')) as Report;
  writeFileSync(join(dirname(file), `${basename(file, '.json')}.md`), markdown(rep));
}
