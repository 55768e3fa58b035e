// The soak case (run.ts --soak=MINUTES): portero with 2 workers in front of
// 4 backends, first loaded flat out for a few seconds to find its capacity,
// then held at half of it for MINUTES while its RSS and open file
// descriptors are sampled every 10 s. Targets from the issue: RSS drift
// under 10%, file descriptors stable, no error. A bench case, not a test.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBackends } from './backends.js';
import { BODY } from './body.js';
import { measure, type Measurement } from './measure.js';
import { DEFAULT_CLI, startPortero } from './peers/portero.js';
import { rssKiB } from './proc.js';

export const SOAK_WORKERS = 2;
export const SOAK_REPLICAS = 4;
const SAMPLE_EVERY_MS = 10_000;
/** Samples before this are the warm-up; the drift is measured from the first one after it. */
const BASELINE_AFTER_S = 60;

export interface SoakSample {
  atS: number;
  rssKiB: number | null;
  fds: number | null;
}

export interface SoakReport {
  minutes: number;
  workers: number;
  replicas: number;
  capacity: Measurement;
  rate: number;
  run: Measurement;
  samples: SoakSample[];
  /** RSS at the end relative to the first sample after the warm-up, in %. */
  rssDriftPct: number | null;
  fds: { min: number; max: number } | null;
}

function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export async function runSoak(minutes: number, tmp: string, connections: number, porteroCli: string | undefined, log: (line: string) => void): Promise<SoakReport> {
  const backends = await startBackends(SOAK_REPLICAS, join(tmp, 'soak-backends.log'));
  try {
    const p = await startPortero(porteroCli ?? DEFAULT_CLI, { backends: backends.ports, workers: SOAK_WORKERS, dir: join(tmp, 'soak'), cpuProf: false });
    try {
      const groups = { proxy: p.pids, backends: () => backends.pids };
      const urls = [new URL('/', p.urls[0]).href];
      const capacity = await measure({ urls, connections, warmupS: 2, durationS: 5, expectBody: BODY }, groups);
      const rate = Math.max(1, Math.round(capacity.load.reqPerSec / 2));
      log(`soak: capacity ${Math.round(capacity.load.reqPerSec)} req/s; holding ${rate} req/s for ${minutes} min`);
      const samples: SoakSample[] = [];
      const t0 = Date.now();
      const sample = () => {
        const s = { atS: Math.round((Date.now() - t0) / 1000), rssKiB: rssKiB(p.child.pid), fds: openFds(p.child.pid) };
        samples.push(s);
        log(`soak: ${s.atS} s, RSS ${((s.rssKiB ?? 0) / 1024).toFixed(1)} MiB, ${s.fds} fds`);
      };
      sample();
      const timer = setInterval(sample, SAMPLE_EVERY_MS);
      let run: Measurement;
      try {
        run = await measure({ urls, connections, warmupS: 0, durationS: minutes * 60, expectBody: BODY, overallRate: rate }, groups);
      } finally {
        clearInterval(timer);
      }
      sample();
      const base = samples.find((s) => s.atS >= BASELINE_AFTER_S && s.rssKiB !== null);
      const last = samples.at(-1);
      const rssDriftPct = base?.rssKiB && last?.rssKiB ? ((last.rssKiB - base.rssKiB) / base.rssKiB) * 100 : null;
      const fdList = samples.map((s) => s.fds).filter((n): n is number => n !== null);
      return {
        minutes,
        workers: SOAK_WORKERS,
        replicas: SOAK_REPLICAS,
        capacity,
        rate,
        run,
        samples,
        rssDriftPct,
        fds: fdList.length === 0 ? null : { min: Math.min(...fdList), max: Math.max(...fdList) },
      };
    } finally {
      await p.stop();
    }
  } finally {
    await backends.stop();
  }
}

const mib = (kib: number | null) => (kib === null ? '-' : (kib / 1024).toFixed(1));

export function soakSummary(s: SoakReport): string[] {
  const l = s.run.load;
  const bad = l.errors + l.timeouts + l.non2xx + l.mismatches;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    `${s.minutes} min at ${s.rate} req/s (half of the ${Math.round(s.capacity.load.reqPerSec)} req/s measured first), ${s.workers} workers, ${s.replicas} replicas: ${l.requests.toLocaleString('en-US')} requests, ${Math.round(l.reqPerSec)} req/s held, p99 ${l.latencyMs.p99.toFixed(2)} ms, max ${l.latencyMs.max.toFixed(2)} ms`,
    `errors/timeouts/non-2xx/mismatches: ${l.errors}/${l.timeouts}/${l.non2xx}/${l.mismatches} (target: none: ${met(bad === 0)})`,
    `RSS drift from the first sample after ${BASELINE_AFTER_S} s to the end: ${s.rssDriftPct === null ? '-' : `${s.rssDriftPct.toFixed(1)}%`} (target < 10%: ${met(s.rssDriftPct !== null && s.rssDriftPct < 10)})`,
    `open file descriptors: ${s.fds === null ? '-' : `${s.fds.min}-${s.fds.max}`} over ${s.samples.length} samples`,
  ];
}

export function soakMarkdown(s: SoakReport): string {
  const rows = s.samples.map((x) => `| ${x.atS} | ${mib(x.rssKiB)} | ${x.fds ?? '-'} |`);
  return `# portero soak: ${s.minutes} minutes at half capacity

${soakSummary(s).map((l) => `- ${l}`).join('\n')}

Run with \`npm run bench -- --soak=${s.minutes}\`. The load generator
(autocannon, its own process) holds the overall rate over the same
connections as the capacity run; portero's RSS and open file descriptors are
read from /proc every 10 s.

| s | RSS MiB | open fds |
| ---: | ---: | ---: |
${rows.join('\n')}
`;
}
