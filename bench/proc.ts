// Reads what the kernel accounts for a process from /proc: CPU seconds
// (utime + stime of the whole thread group, exited threads included), peak
// resident set size, its children, and the machine's own CPU counters.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export const CLK_TCK: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The fields after "(comm)"; comm may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export interface CpuTimes {
  user: number;
  sys: number;
}

/** User and system CPU seconds of a process (all its threads), or null once it is gone. */
export function cpuTimes(pid: number): CpuTimes | null {
  const f = statFields(pid);
  if (f === null) return null;
  // Fields 14 and 15 of stat(5); f[0] is field 3 (state).
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK };
}

/** Sum of cpuTimes over the pids that still exist. */
export function cpuTimesOf(pids: readonly number[]): CpuTimes {
  const sum = { user: 0, sys: 0 };
  for (const pid of pids) {
    const t = cpuTimes(pid);
    if (t !== null) {
      sum.user += t.user;
      sum.sys += t.sys;
    }
  }
  return sum;
}

/** Peak resident set size (VmHWM) in KiB, or null once the process is gone. */
/** CPU time (ms) of a process's main thread so far, from Linux's schedstat (ns precision); null when it is gone. */
export function mainThreadCpuMs(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

export function peakRssKiB(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const m = status === null ? null : /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m === null ? null : Number(m[1]);
}

/** Current resident set size (VmRSS) in KiB, or null once the process is gone. */
export function rssKiB(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const m = status === null ? null : /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m === null ? null : Number(m[1]);
}

export function isAlive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z';
}

/** Direct children of pid, found by scanning every process's parent pid. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== null && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/** pid and all its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

export interface MachineCpu {
  /** Ticks in process context: user + nice + system (what utime/stime of all processes add up to). */
  tasks: number;
  /** Ticks in interrupt context (irq + softirq): loopback TCP lands here, charged to no process. */
  irq: number;
  /** Ticks taken by the hypervisor. */
  steal: number;
  idle: number;
}

/** The aggregate "cpu" line of /proc/stat. */
export function machineCpu(): MachineCpu {
  const line = (readText('/proc/stat') ?? '').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal (guest time is already in user)
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => v[i] ?? 0;
  return { tasks: at(0) + at(1) + at(2), irq: at(5) + at(6), steal: at(7), idle: at(3) + at(4) };
}
