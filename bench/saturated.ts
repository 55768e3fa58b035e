// Measuring a proxy saturated on a 2-core machine (--https, --middlewares):
// the proxy pinned to core 0 and capped with a cgroup, Debian's wrk and the
// backends pinned to core 1. Uncapped, the load generator and the backends
// compete with the proxy for the cores, and a ratio taken below saturation
// measures the load generator, not the proxy.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { cpuTimesOf } from './proc.js';

const run = promisify(execFile);
export const PROXY_CORE = '0';
export const LOAD_CORE = '1';
export const WRK = '/usr/bin/wrk';

export function pinned(core: string, cmd: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', ['-c', core, cmd, ...args]] : [cmd, args];
}

/** Moves running processes (the backends, started before the cores were chosen) to a core. */
export function pinPids(core: string, pids: readonly number[]): void {
  for (const pid of pids) execFileSync('/usr/bin/taskset', ['-pc', core, String(pid)], { stdio: 'ignore' });
}

/**
 * Caps a process tree's CPU with a cgroup (v1 cpu controller, or v2's
 * cpu.max); returns a function that lifts the cap, or null when cgroups
 * cannot be written here.
 */
export function capCpu(pids: readonly number[], cores: number): (() => void) | null {
  const period = 100_000;
  const quota = Math.round(cores * period);
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : null;
  const dir = existsSync(join(v1, 'cgroup.procs')) ? join(v1, `portero-bench-${process.pid}`) : v2 !== null ? join(v2, `portero-bench-${process.pid}`) : null;
  if (dir === null) return null;
  try {
    mkdirSync(dir, { recursive: true });
    if (dir.startsWith(v1)) {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
    } else writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
    for (const pid of pids) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  } catch {
    return null;
  }
  return () => {
    const root = dirname(dir);
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(join(root, 'cgroup.procs'), pid);
      } catch {
        /* exited */
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      /* still busy: left for the next run */
    }
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export interface WrkResult {
  reqPerSec: number;
  /** Socket errors and non-2xx/3xx answers as wrk reports them; '' when none. */
  errors: string;
}

/** One wrk run (one thread) from the load core; headers as `Name: value`. */
export async function wrk(url: string, durationS: number, connections: number, headers: readonly string[] = []): Promise<WrkResult> {
  const [cmd, args] = pinned(LOAD_CORE, WRK, ['-t1', `-c${connections}`, `-d${durationS}s`, ...headers.flatMap((h) => ['-H', h]), url]);
  const { stdout } = await run(cmd, args, { timeout: (durationS + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const errors = /Socket errors: (.*)/.exec(stdout)?.[1] ?? '';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1];
  return { reqPerSec: rps === null ? 0 : Number(rps[1]), errors: [errors, non2xx ? `non-2xx ${non2xx}` : ''].filter(Boolean).join('; ') };
}

export interface Saturated extends WrkResult {
  proxyCpuSeconds: number;
  reqPerCpuSecond: number;
  /** Share of one core the proxy used: at its cap when saturated. */
  proxyCores: number;
  /** The proxy's CPU cap, cores (0: none). */
  capCores: number;
}

/** Runs load with the proxy capped at capCores (0: not capped), its CPU read over exactly that run. */
export async function measureCapped(pids: () => number[], capCores: number, durationS: number, load: () => Promise<WrkResult>): Promise<Saturated> {
  const uncap = capCores > 0 ? capCpu(pids(), capCores) : null;
  let r: WrkResult;
  let c0, c1, wall;
  try {
    c0 = cpuTimesOf(pids());
    const t0 = performance.now();
    r = await load();
    wall = (performance.now() - t0) / 1000;
    c1 = cpuTimesOf(pids());
  } finally {
    uncap?.();
  }
  const cpu = c1.user + c1.sys - c0.user - c0.sys;
  const total = r.reqPerSec * durationS;
  return { ...r, proxyCpuSeconds: cpu, reqPerCpuSecond: cpu > 0 ? total / cpu : 0, proxyCores: cpu / wall, capCores: uncap === null ? 0 : capCores };
}
