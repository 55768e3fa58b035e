// The scale cases' part of the report: types, terminal text and Markdown.
import type { Measurement } from './measure.js';
import type { Quiet } from './quiet.js';

export interface ScaleThroughputRow {
  /** Routers in portero's table (each with a Host rule and its own service). */
  routers: number;
  round: number;
  status: 'ok' | 'failed';
  note?: string;
  measurement?: Measurement;
  quiet?: Quiet;
  /** portero's RSS after 25 s serving idle (V8 returns start-up garbage only after some idle seconds), before any load. */
  rssIdleKiB?: number | null;
  /** The highest RSS sampled (every 100 ms) during the load. */
  rssLoadKiB?: number | null;
  /** VmHWM after the load: the start-up's peak included. */
  rssPeakKiB?: number | null;
  /** How long portero took from start to its first answer. */
  startupMs?: number;
}

export interface ScaleUpdate {
  /** Table generation the update produced. */
  generation: number;
  /** From the update's start until the table was compiled and published (main thread). */
  publishMs: number;
  /** From the update's start until each worker reported the new generation (null: not within the timeout). */
  workerMs: (number | null)[];
  /** The slowest worker (null: one never reported). */
  allWorkersMs: number | null;
  /** Probe requests in flight at any time between the update's start and the last worker's report. */
  requestsDuring: number;
  /** The slowest of them. */
  maxLatencyMsDuring: number | null;
  /** Per worker: the longest its table build held its event loop at once (null: not reported). */
  longestSliceMs: (number | null)[];
}

export interface ScaleReport {
  replicas: number;
  workers: number;
  routers: number;
  durationS: number;
  warmupS: number;
  connections: number;
  throughput: {
    rows: ScaleThroughputRow[];
    /** Per round where both ran: the many-router case divided by the one-router case. */
    ratios: { round: number | 'mean'; reqPerSec: number; reqPerCpuS: number | null }[];
  };
  update?: {
    /** In-process portero (dist/src/portero.js) fed with Portero.apply(). */
    how: string;
    updates: ScaleUpdate[];
    probe: { connections: number; intervalMs: number; requests: number; errors: number; firstError?: string; p50Ms: number; p99Ms: number; maxMs: number; maxMsOutsideUpdates: number };
  };
  stream?: {
    bytes: number;
    expectedBytes: number;
    seconds: number;
    mibPerS: number;
    /** The same download straight from a backend, for scale. */
    directMibPerS: number;
    rssStartKiB: number;
    rssPeakKiB: number;
    rssEndKiB: number;
    /** Peak minus start. */
    rssGrowthKiB: number;
  };
  /** Steps that could not be measured, with why. */
  failures: string[];
}

/** Targets from the issue; reported, never asserted. */
export const TARGETS = { throughputRatio: 0.95, updateMs: 500, delayMs: 10, rssMiB: 200 };

const f2 = (v: number) => v.toFixed(2);
const f1 = (v: number) => v.toFixed(1);
const mib = (kib: number | null | undefined) => (kib == null ? '-' : f1(kib / 1024));
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** The figures against the issue's targets, as sentences. */
export function scaleSummary(s: ScaleReport): string[] {
  const out: string[] = [];
  const mean = s.throughput.ratios.find((r) => r.round === 'mean') ?? s.throughput.ratios[0];
  if (mean !== undefined) {
    out.push(
      `${s.routers} routers vs 1 router: req/s ratio ${f2(mean.reqPerSec)}, req per CPU-s ratio ${mean.reqPerCpuS === null ? '-' : f2(mean.reqPerCpuS)} (target >= ${TARGETS.throughputRatio}: ${met(mean.reqPerSec >= TARGETS.throughputRatio)})`,
    );
  }
  const many = s.throughput.rows.filter((r) => r.routers === s.routers && r.status === 'ok');
  if (many.length > 0) {
    const idle = Math.max(...many.map((r) => r.rssIdleKiB ?? 0));
    const load = Math.max(...many.map((r) => r.rssLoadKiB ?? 0));
    const hwm = Math.max(...many.map((r) => r.rssPeakKiB ?? 0));
    const worst = Math.max(idle, load);
    out.push(
      `RSS with ${s.workers} workers and ${s.routers} routers: ${mib(idle)} MiB serving idle, ${mib(load)} MiB at most under load (target < ${TARGETS.rssMiB} MB: ${met(worst < TARGETS.rssMiB * 1e6 / 1024)}); ${mib(hwm)} MiB high-water mark, start-up included`,
    );
  }
  if (s.update !== undefined && s.update.updates.length > 0) {
    const all = s.update.updates.map((u) => u.allWorkersMs);
    const worst = all.includes(null) ? null : Math.max(...(all as number[]));
    const delays = s.update.updates.map((u) => u.maxLatencyMsDuring ?? 0);
    const worstDelay = Math.max(...delays);
    const slices = s.update.updates.flatMap((u) => u.longestSliceMs);
    const hold = slices.includes(null) || slices.length === 0 ? null : Math.max(...(slices as number[]));
    out.push(
      `table update with ${s.routers} routers: every worker within ${worst === null ? 'NEVER (a worker did not report)' : `${f1(worst)} ms`} at worst of ${all.length} updates (target < ${TARGETS.updateMs} ms: ${met(worst !== null && worst < TARGETS.updateMs)})`,
      `delay an update adds to a request: a worker's event loop held at most ${hold === null ? '? (not reported)' : `${f1(hold)} ms`} at once by a table build (target <= ${TARGETS.delayMs} ms: ${met(hold !== null && hold <= TARGETS.delayMs)}); slowest probe request during updates ${f1(worstDelay)} ms, outside updates ${f1(s.update.probe.maxMsOutsideUpdates)} ms (the machine's own scheduling noise)`,
    );
  }
  if (s.stream !== undefined) {
    const st = s.stream;
    out.push(
      `${f1(st.bytes / 2 ** 30)} GiB response streamed at ${Math.round(st.mibPerS)} MiB/s (${Math.round(st.directMibPerS)} MiB/s without a proxy): portero RSS ${mib(st.rssStartKiB)} MiB at start, ${mib(st.rssPeakKiB)} MiB peak, ${mib(st.rssEndKiB)} MiB at the end (+${mib(st.rssGrowthKiB)} MiB)${st.bytes === st.expectedBytes ? '' : `; INCOMPLETE: ${st.bytes} of ${st.expectedBytes} bytes`}`,
    );
  }
  for (const f of s.failures) out.push(`failed: ${f}`);
  return out;
}

function throughputTable(s: ScaleReport): string[][] {
  const head = ['routers', 'round', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'err/non-2xx/mismatch', 'proxy cores', 'req per proxy CPU-s', 'RSS idle MiB', 'RSS under load MiB', 'RSS high-water MiB', 'start-up ms'];
  const rows = s.throughput.rows.map((r) => {
    const m = r.measurement;
    if (r.status !== 'ok' || m === undefined) return [String(r.routers), String(r.round), `${r.status}: ${r.note ?? ''}`, ...head.slice(3).map(() => '')];
    const cpu = m.cpuS.proxy ?? 0;
    return [
      String(r.routers),
      String(r.round),
      Math.round(m.load.reqPerSec).toLocaleString('en-US'),
      f2(m.load.latencyMs.p50),
      f2(m.load.latencyMs.p99),
      f2(m.load.latencyMs.max),
      `${m.load.errors + m.load.timeouts}/${m.load.non2xx}/${m.load.mismatches}`,
      f2(cpu / m.windowS),
      cpu > 0 ? Math.round(m.load.requests / cpu).toLocaleString('en-US') : '-',
      mib(r.rssIdleKiB),
      mib(r.rssLoadKiB),
      mib(r.rssPeakKiB),
      r.startupMs === undefined ? '-' : String(Math.round(r.startupMs)),
    ];
  });
  return [head, ...rows];
}

function updateTable(s: ScaleReport): string[][] {
  const u = s.update;
  if (u === undefined) return [];
  const workers = Math.max(0, ...u.updates.map((x) => x.workerMs.length));
  const head = [
    'update',
    'generation',
    'published ms',
    ...Array.from({ length: workers }, (_, i) => `worker ${i} ms`),
    'all workers ms',
    'longest event-loop hold ms',
    'requests meanwhile',
    'slowest of them ms',
  ];
  const ms = (v: number | null) => (v === null ? 'never' : f1(v));
  const hold = (x: ScaleUpdate) => (x.longestSliceMs.includes(null) ? '?' : f1(Math.max(...(x.longestSliceMs as number[]))));
  return [
    head,
    ...u.updates.map((x, i) => [
      String(i + 1),
      String(x.generation),
      f1(x.publishMs),
      ...x.workerMs.map(ms),
      ms(x.allWorkersMs),
      hold(x),
      String(x.requestsDuring),
      x.maxLatencyMsDuring === null ? '-' : f1(x.maxLatencyMsDuring),
    ]),
  ];
}

function align(t: string[][]): string {
  if (t.length === 0) return '';
  const w = t[0]!.map((_, i) => Math.max(...t.map((r) => (r[i] ?? '').length)));
  return t.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ').trimEnd()).join('\n');
}

function md(t: string[][]): string {
  if (t.length === 0) return '';
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(t[0]!), line(t[0]!.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.slice(1).map(line)].join('\n');
}

function probeText(s: ScaleReport): string {
  const p = s.update?.probe;
  if (p === undefined) return '';
  return `probe: ${p.connections} keep-alive connections, one request each every ${p.intervalMs} ms after the previous answer, Host cycling over the routers; ${p.requests} requests, ${p.errors} errors${p.firstError === undefined ? '' : ` (first: ${p.firstError})`}; latency p50 ${f2(p.p50Ms)} ms, p99 ${f2(p.p99Ms)} ms, max ${f2(p.maxMs)} ms (outside updates ${f2(p.maxMsOutsideUpdates)} ms)`;
}

export function formatScale(s: ScaleReport): string {
  return [
    `scale cases (portero, ${s.workers} workers, ${s.replicas} replicas):`,
    ...scaleSummary(s).map((l) => `  ${l}`),
    '',
    align(throughputTable(s)),
    '',
    align(updateTable(s)),
    probeText(s),
  ].join('\n');
}

export function scaleMarkdown(s: ScaleReport): string {
  return `## Scale cases

portero only, ${s.workers} workers, ${s.replicas} backend replicas. Targets from
the issue are reported, not asserted.

${scaleSummary(s).map((l) => `- ${l}`).join('\n')}

### ${s.routers} routers against 1

One YAML file for the file provider: ${s.routers} routers, each
\`\`Host(\`r<i>.bench.test\`)\`\` with its own service over the same backends,
against the same file with one router. The load (${s.connections} connections,
${s.warmupS} s warm-up, ${s.durationS} s measured) cycles through 100 Host
headers spread over all routers (all the same host in the one-router case),
so both runs send identical request shapes. The rounds alternate. "RSS idle"
is sampled after 25 s without load (V8 returns start-up garbage to the system
only after some idle seconds); "RSS under load" is the highest of samples
taken every 100 ms during the load; "RSS high-water" is VmHWM, start-up included.

${md(throughputTable(s))}

${s.update === undefined ? '' : `### Table updates under a steady request loop

${s.update.how} Each update adds one router to the ${s.routers}; "worker ms"
is from the start of the update (compilation included) until the worker
reported the new generation. Workers build a new version in slices between
requests; "longest event-loop hold" is the longest slice any worker ran, the
most an update can delay a request it is not already serving. "requests
meanwhile" are the probe requests in flight at any moment of that window.

${md(updateTable(s))}

${probeText(s)}
`}
${s.stream === undefined ? '' : `### 1 GiB response

One GET of ${s.stream.expectedBytes} bytes streamed by a backend through
portero to a client that reads as fast as it can; portero's RSS sampled
every 20 ms. ${s.stream.bytes} bytes received in ${f1(s.stream.seconds)} s
(${Math.round(s.stream.mibPerS)} MiB/s; the same client straight from a backend: ${Math.round(s.stream.directMibPerS)} MiB/s).
RSS: ${mib(s.stream.rssStartKiB)} MiB before, ${mib(s.stream.rssPeakKiB)} MiB peak, ${mib(s.stream.rssEndKiB)} MiB after.
`}`;
}
