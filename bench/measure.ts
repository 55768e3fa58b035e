// Runs the load process against a target and accounts CPU over exactly the
// measured window: every group of pids (proxy, backends, load generator) is
// read from /proc when the load process says the measured run starts and
// again when its result arrives.
import { fileURLToPath } from 'node:url';
import type { LoadMessage, LoadResult, LoadSpec } from './load.js';
import { CLK_TCK, type CpuTimes, cpuTimesOf, machineCpu, type MachineCpu } from './proc.js';
import { pinned } from './saturated.js';
import { spawnChild } from './spawn.js';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.js', import.meta.url));

/** pids to account; a function, since a proxy may start processes of its own (nginx workers). */
export type PidGroup = () => readonly number[];

export interface Measurement {
  load: LoadResult;
  /** Wall seconds between the two /proc readings. */
  windowS: number;
  /** CPU seconds (user + system) per group over the window; the load generator is "load". */
  cpuS: Record<string, number>;
  /** The same split into user and system (kernel) seconds. */
  cpuSplitS: Record<string, CpuTimes>;
  /** The whole machine over the window, in cores (CPU-seconds per second). */
  machine: {
    /** Process context, every process. */
    tasks: number;
    /** Process context, processes not accounted in cpuS (other users of the machine). */
    others: number;
    /** Interrupt context (irq + softirq), mostly the loopback network stack. */
    irq: number;
    steal: number;
  };
}

interface Snapshot {
  at: bigint;
  cpu: Record<string, CpuTimes>;
  machine: MachineCpu;
}

/** Runs the load generator (pinned to `core` when given) and reads each group's CPU over the measured run. */
export async function measure(spec: LoadSpec, groups: Record<string, PidGroup>, core?: string): Promise<Measurement> {
  const [cmd, args] = core === undefined ? [process.execPath, [LOAD_SCRIPT, JSON.stringify(spec)]] : pinned(core, process.execPath, [LOAD_SCRIPT, JSON.stringify(spec)]);
  const child = spawnChild('load generator', cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const all: Record<string, PidGroup> = { ...groups, load: () => [child.pid] };
  const snapshot = (): Snapshot => {
    const cpu: Record<string, CpuTimes> = {};
    for (const [name, pids] of Object.entries(all)) cpu[name] = cpuTimesOf(pids());
    return { at: process.hrtime.bigint(), cpu, machine: machineCpu() };
  };
  // Bounded: warm-up + run + generous slack for start-up and the report.
  const limitMs = (spec.warmupS + spec.durationS) * 1000 + 30_000;
  let start: Snapshot | null = null;
  try {
    return await new Promise<Measurement>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator still running after ${limitMs} ms`)), limitMs);
      child.proc.on('message', (m: LoadMessage) => {
        if (m.type === 'measuring') {
          start = snapshot();
        } else if (m.type === 'result' && start !== null) {
          const end = snapshot();
          clearTimeout(timer);
          resolve({ load: m.result, ...between(start, end) });
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${code}) before its result`));
      });
    });
  } finally {
    await child.stop();
  }
}

function between(start: Snapshot, end: Snapshot): Omit<Measurement, 'load'> {
  const windowS = Number(end.at - start.at) / 1e9;
  const cpuS: Record<string, number> = {};
  const cpuSplitS: Record<string, CpuTimes> = {};
  for (const [name, e] of Object.entries(end.cpu)) {
    const s = start.cpu[name] ?? { user: 0, sys: 0 };
    cpuSplitS[name] = { user: e.user - s.user, sys: e.sys - s.sys };
    cpuS[name] = e.user - s.user + e.sys - s.sys;
  }
  const cores = (k: keyof MachineCpu) => (end.machine[k] - start.machine[k]) / CLK_TCK / windowS;
  const ours = Object.values(cpuS).reduce((a, b) => a + b, 0) / windowS;
  return { windowS, cpuS, cpuSplitS, machine: { tasks: cores('tasks'), others: Math.max(0, cores('tasks') - ours), irq: cores('irq'), steal: cores('steal') } };
}
