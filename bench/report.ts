// Turns measurements into rows, ratios, a console table, Markdown and JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bodyText } from './body.js';
import { describeCheckout } from './env.js';
import { duration } from './progress.js';
import type { Cell, Ratio, Report, Row } from './report-data.js';
import { formatScale, scaleMarkdown } from './scale-report.js';
import { discoveryMarkdown } from './discovery.js';
import { chartSvg } from './svg.js';

/** Other processes using this many cores during a run make it noisy. */
export const NOISY_CORES = 0.15;

const f0 = (v: number) => Math.round(v).toLocaleString('en-US');
const f2 = (v: number) => v.toFixed(2);

export const cellKey = (c: Cell): string => `${c.replicas}r ${c.workers}w ${c.body}`;
export const cellText = (c: Cell): string =>
  `${c.replicas} replica${c.replicas === 1 ? '' : 's'}, ${c.workers} worker${c.workers === 1 ? '' : 's'}, ${bodyText(c.body)}`;

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

const sameCell = (a: Cell, b: Cell) => a.replicas === b.replicas && a.workers === b.workers && a.body === b.body;

/** The cells in the order they appear in rows. */
export function cellsOf(rows: readonly Row[]): Cell[] {
  const out: Cell[] = [];
  for (const r of rows) if (!out.some((c) => sameCell(c, r))) out.push({ replicas: r.replicas, workers: r.workers, body: r.body });
  return out;
}

/** The row a figure comes from: ok, not profiled (the profiler slows portero). */
function usable(rows: readonly Row[], cell: Cell, round: number, peer: string): Row | undefined {
  return rows.find((r) => sameCell(r, cell) && r.round === round && r.peer === peer && r.status === 'ok' && r.profiled !== true);
}

/** portero / each other peer, per cell and round where both ran, then the mean over rounds. */
export function ratios(rows: readonly Row[], subject = 'portero'): Ratio[] {
  const out: Ratio[] = [];
  const peers = [...new Set(rows.map((r) => r.peer))].filter((p) => p !== subject);
  for (const cell of cellsOf(rows)) {
    for (const peer of peers) {
      const perRound: Ratio[] = [];
      for (const round of [...new Set(rows.filter((r) => sameCell(r, cell)).map((r) => r.round))]) {
        const a = usable(rows, cell, round, subject);
        const b = usable(rows, cell, round, peer);
        if (a === undefined || b === undefined || reqPerSec(b) === 0) continue;
        const ca = reqPerCpuS(a);
        const cb = reqPerCpuS(b);
        perRound.push({ ...cell, peer, round, reqPerSec: reqPerSec(a) / reqPerSec(b), reqPerCpuS: ca === null || cb === null ? null : ca / cb });
      }
      out.push(...perRound);
      if (perRound.length > 1) {
        const cpu = perRound.map((r) => r.reqPerCpuS).filter((v): v is number => v !== null);
        out.push({
          ...cell,
          peer,
          round: 'mean',
          reqPerSec: perRound.reduce((s, r) => s + r.reqPerSec, 0) / perRound.length,
          reqPerCpuS: cpu.length === perRound.length ? cpu.reduce((s, v) => s + v, 0) / cpu.length : null,
        });
      }
    }
  }
  return out;
}

/** The ratio that stands for a cell: the mean when there are several rounds. */
export function cellRatio(rs: readonly Ratio[], cell: Cell, peer: string): Ratio | undefined {
  const mine = rs.filter((r) => sameCell(r, cell) && r.peer === peer);
  return mine.find((r) => r.round === 'mean') ?? (mine.length === 1 ? mine[0] : undefined);
}

const HEAD = [
  'cell',
  'round',
  'peer',
  'req/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'err/non-2xx/mismatch',
  'proxy cores',
  'saturated',
  'proxy user µs/req',
  'proxy sys µs/req',
  'req per proxy CPU-s',
  'proxy peak RSS MiB',
  'load-gen cores',
  'backend cores',
  'other procs cores',
  'softirq cores',
];
/** Left-aligned columns. */
const TEXT_COLUMNS = 3;

/** Share of its cores a proxy must keep busy for its row to count as saturated (bench/headline.ts uses the same). */
const SATURATED = 0.95;

/**
 * The proxy kept SATURATED of a core per worker busy. In the matrix the
 * load generator and the backends share the cores with it, so this is rare,
 * and a ratio from an unsaturated row measures the load generator as much
 * as the proxy: npm run bench (bench/headline.ts) is the saturated one.
 */
export function saturated(r: Row): boolean {
  const m = r.measurement;
  if (m === undefined || m.windowS <= 0) return false;
  return (m.cpuS.proxy ?? 0) / m.windowS >= SATURATED * r.workers;
}

function cells(r: Row): string[] {
  const m = r.measurement;
  const noisy = r.status === 'discarded' ? ' (discarded: noisy)' : (m?.machine.others ?? 0) >= NOISY_CORES ? ' (noisy)' : '';
  const peer = `${r.peer}${r.profiled === true ? ' (profiled)' : ''}${noisy}`;
  const head = [cellKey(r), String(r.round), peer];
  if ((r.status !== 'ok' && r.status !== 'discarded') || m === undefined) return [...head, `${r.status}: ${r.note ?? ''}`, ...HEAD.slice(4).map(() => '')];
  const l = m.load;
  const proxy = m.cpuS.proxy ?? 0;
  const rpc = reqPerCpuS(r);
  const cores = (s: number | undefined) => f2((s ?? 0) / m.windowS);
  const perReq = (s: number | undefined) => (l.requests > 0 ? (((s ?? 0) * 1e6) / l.requests).toFixed(1) : '-');
  return [
    ...head,
    f0(l.reqPerSec),
    f2(l.latencyMs.p50),
    f2(l.latencyMs.p90),
    f2(l.latencyMs.p99),
    f2(l.latencyMs.max),
    `${l.errors + l.timeouts}/${l.non2xx}/${l.mismatches}`,
    proxy > 0 ? cores(proxy) : '-',
    proxy > 0 ? (saturated(r) ? 'yes' : 'no') : '-',
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

function align(table: string[][], left: number): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((c) => (c[i] ?? '').length)));
  return table.map((c) => c.map((v, i) => (i < left ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function textTable(rows: readonly Row[]): string {
  return align([HEAD, ...rows.map(cells)], TEXT_COLUMNS);
}

/** One row of textTable, without its header (the progress output). */
export function textRow(row: Row): string {
  return textTable([row]).split('\n')[1]!;
}

function mdTable(head: string[], body: string[][], left: number): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i < left ? '---' : '---:'))), ...body.map(line)].join('\n');
}

/** The peers portero is compared with, in the order they ran. */
function comparedPeers(rep: Pick<Report, 'rows'>): string[] {
  return [...new Set(rep.rows.map((r) => r.peer))].filter((p) => p !== 'portero');
}

/** Whether portero's or the peer's kept measurement in this cell was noisy. */
function noisyPair(rows: readonly Row[], cell: Cell, peer: string): boolean {
  return rows.some((r) => sameCell(r, cell) && (r.peer === peer || r.peer === 'portero') && r.status === 'ok' && (r.measurement?.machine.others ?? 0) >= NOISY_CORES);
}

/** Per cell: portero/peer as "req/s ratio (req per CPU-s ratio)", * when a side was noisy. */
function ratioGrid(rep: Pick<Report, 'rows' | 'ratios'>): { head: string[]; body: string[][] } {
  const peers = comparedPeers(rep);
  const head = ['cell', ...peers.map((p) => (p === 'direct' ? 'portero / direct req/s' : `portero / ${p} req/s (per CPU-s)`))];
  const body = cellsOf(rep.rows).map((cell) => [
    cellKey(cell),
    ...peers.map((p) => {
      const r = cellRatio(rep.ratios, cell, p);
      if (r === undefined) return '-';
      const mark = noisyPair(rep.rows, cell, p) ? ' *' : '';
      return r.reqPerCpuS === null || p === 'direct' ? `${f2(r.reqPerSec)}${mark}` : `${f2(r.reqPerSec)} (${f2(r.reqPerCpuS)})${mark}`;
    }),
  ]);
  return { head, body };
}

export function ratioText(rep: Pick<Report, 'rows' | 'ratios'>): string {
  if (!rep.rows.some((r) => r.peer === 'portero')) return 'portero did not run: no ratios';
  if (rep.ratios.length === 0) return 'no cell where portero and another peer both ran (see failed rows)';
  const { head, body } = ratioGrid(rep);
  return align([head, ...body], 1);
}

/** How disturbed the run was by processes it did not start. */
export function noiseSummary(rows: readonly Row[]): string {
  const measured = rows.filter((r) => r.measurement !== undefined);
  if (measured.length === 0) return 'no measurements';
  const kept = measured.filter((r) => r.status === 'ok');
  const noisy = kept.filter((r) => r.measurement!.machine.others >= NOISY_CORES).length;
  const discarded = measured.length - kept.length;
  const mean = kept.reduce((t, r) => t + r.measurement!.machine.others, 0) / Math.max(1, kept.length);
  return `${kept.length} measurements kept, ${noisy} of them noisy (other processes used >= ${NOISY_CORES} cores), ${discarded} discarded and repeated; other processes used ${f2(mean)} cores on average`;
}

/** The portero/nginx ratios per cell, one line each (the headline). */
export function headline(rep: Pick<Report, 'rows' | 'ratios'>): string[] {
  return cellsOf(rep.rows).flatMap((cell) => {
    const r = cellRatio(rep.ratios, cell, 'nginx');
    return r === undefined ? [] : [`${cellKey(cell)}: portero/nginx req/s ${f2(r.reqPerSec)}, req per CPU-s ${r.reqPerCpuS === null ? '-' : f2(r.reqPerCpuS)}`];
  });
}

export function textReport(rep: Report): string {
  const parts = rep.rows.length === 0 ? [] : [textTable(rep.rows), '', noiseSummary(rep.rows), '', 'portero relative to each peer, per cell: req/s ratio (req per proxy CPU-second ratio); * a side was noisy', ratioText(rep)];
  if (rep.scale !== undefined) parts.push(...(parts.length === 0 ? [] : ['']), formatScale(rep.scale));
  if (rep.discovery !== undefined) parts.push('', discoveryMarkdown(rep.discovery));
  return parts.join('\n');
}

export function markdown(rep: Report, svgFile?: string): string {
  const { env, settings: s } = rep;
  const versions = Object.entries(rep.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const grid = ratioGrid(rep);
  const matrix = rep.rows.length === 0
    ? 'The matrix did not run (--scale-only).'
    : `## portero relative to each peer

Each cell: portero's requests/s divided by the peer's, measured in this run,
and in parentheses the same for requests per CPU-second of the proxy.
Above 1: portero did better. \\* : portero's or the peer's measurement in
that cell was noisy (other processes used >= ${NOISY_CORES} cores): read it with care.

${mdTable(grid.head, grid.body, 1)}
${svgFile === undefined ? '' : `\n![requests/s by replicas, one line per proxy](${svgFile})\n`}
## Every measurement

${mdTable(HEAD, rep.rows.map(cells), TEXT_COLUMNS)}
`;
  return `# portero bench: the matrix against direct, nginx, HAProxy and Caddy

- Date: ${env.date} (the run took ${duration(rep.elapsedS)})
- Machine: ${env.cpuModel}, ${env.cores} cores, ${env.memGiB} GiB, Linux ${env.kernel}
- Node ${env.node}; autocannon ${env.autocannon}; uWebSockets.js ${env.uWebSockets}
- Peers: ${versions}${rep.skipped.length === 0 ? '' : `; not installed: ${rep.skipped.map((x) => x.peer).join(', ')}`}
- Bench code: checkout ${describeCheckout(env.portero)}
- Matrix${s.quick ? ' (--quick)' : ''}: replicas ${s.replicas.join(', ')} x workers ${s.workers.join(', ')} x bodies ${s.bodies.map(bodyText).join(', ')}; ${s.rounds} round(s)
- Load: autocannon in its own process, ${s.connections} connections, pipelining 1, ${s.warmupS} s warm-up then ${s.durationS} s measured per peer and cell, every response body checked
- Backends: one uWebSockets.js process per replica on 127.0.0.1; the proxies run with the cell's worker count (nginx worker_processes, HAProxy nbthread, Caddy GOMAXPROCS, portero --workers); each peer is started fresh for each measurement
${rep.rows.length === 0 ? '' : `- Machine noise: ${noiseSummary(rep.rows)}\n`}- Configs: round robin, upstream keep-alive, no access log, bodies streamed (bench/peers/*.ts; nginx: keepalive 64, proxy_request_buffering off, proxy_max_temp_file_size 0; HAProxy: mode http, http-reuse always; Caddy: lb_policy round_robin, keepalive_idle_conns_per_host 64)

${matrix}
${rep.scale === undefined ? '' : `${scaleMarkdown(rep.scale)}\n`}${rep.discovery === undefined ? '' : `${discoveryMarkdown(rep.discovery)}\n`}
## How to read it

Every figure comes from this one run: compare within it, never with
another run. Proxy CPU is utime+stime from /proc/<pid>/stat over the
measured window (nginx: master and workers; portero: the whole process, all
threads). "cores" is CPU-seconds divided by the window; "saturated" says
whether the proxy kept 95% of a core per worker busy (rarely, here: the
matrix shares the cores with the load generator, so its ratios are taken
below saturation; \`npm run bench\` with no flag is the saturated comparison);
"user/sys µs/req"
splits the proxy's CPU per request into user space and kernel. "direct" is
the load spread over the backends without a proxy: the ceiling of this load
generator here. Latencies are exact per-response times measured by the load
process. On a 2-core machine the load generator, the proxy and the backends
compete for the same cores, so requests per proxy CPU-second is the steadier
figure. "other procs cores" is CPU used in that window by processes the
bench did not start; "softirq cores" is kernel time in interrupt context
(mostly the loopback TCP stack), charged to no process. A measurement during
which other processes used ${NOISY_CORES} cores or more is marked "discarded: noisy" and
repeated (up to --retries times); a run still noisy after the last retry is
kept and marked "(noisy)".
`;
}

// node dist/bench/report.js bench/results/latest.json: rewrites latest.md
// (and latest.svg) beside it from the recorded data, after a format change.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] !== undefined) {
  const file = process.argv[2];
  const rep = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const base = basename(file, '.json');
  writeFileSync(join(dirname(file), `${base}.svg`), chartSvg(rep));
  writeFileSync(join(dirname(file), `${base}.md`), markdown(rep, `${base}.svg`));
}
