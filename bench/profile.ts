// Summarizes V8 CPU profiles (node --cpu-prof output): the functions with
// the most self time. Used by run.ts --cpu-prof, or on its own:
//   node dist/bench/profile.js FILE.cpuprofile... [--top=N]
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not idle, not GC, not "(program)". */
  busyMs: number;
  top: SelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 1);
  const n = url.lastIndexOf('node_modules/');
  if (n >= 0) return url.slice(n);
  return url.replace(/^file:\/\//, '');
}

export function summarize(file: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // Each sample's time is the delta to the next sample.
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
  }
  const byFn = new Map<string, SelfTime>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    totalUs += us;
    if (functionName === '(idle)' || functionName === '(program)') idleUs += us;
    const fn = functionName === '' ? '(anonymous)' : functionName;
    const where = url === '' ? '' : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${fn} ${where}`;
    const e = byFn.get(key) ?? { fn, where, ms: 0, share: 0 };
    e.ms += us / 1000;
    byFn.set(key, e);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const top = [...byFn.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, topN)
    .map((e) => ({ ...e, ms: Math.round(e.ms), share: totalUs === 0 ? 0 : e.ms / (totalUs / 1000) }));
  return { file, totalMs: Math.round(totalUs / 1000), busyMs: Math.round(busyMs), top };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`${basename(s.file)}: ${s.totalMs} ms sampled, ${s.busyMs} ms not idle/(program)`];
  for (const e of s.top) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${String(e.ms).padStart(6)} ms  ${e.fn}  ${e.where}`);
  return lines.join('\n');
}

/** Every .cpuprofile in dir. */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const top = Number(/^--top=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--top=')) ?? '')?.[1] ?? 25);
  for (const f of process.argv.slice(2).filter((a) => !a.startsWith('--'))) console.log(`${formatSummary(summarize(f, top))}\n`);
}
