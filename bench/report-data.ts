// What a bench run records: its settings, one row per measurement, the
// ratios, as written to results/*.json and read back by report.ts and svg.ts.
import type { Environment } from './env.js';
import type { Measurement } from './measure.js';
import type { Quiet } from './quiet.js';
import type { DiscoveryReport } from './discovery.js';
import type { ScaleReport } from './scale-report.js';

export interface Settings {
  /** --quick: the reduced matrix. */
  quick: boolean;
  replicas: number[];
  workers: number[];
  /** Body cases in the order run: 20, 16k, 1m, post16k. */
  bodies: string[];
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  peers: string[];
  cpuProf: boolean;
  quietWaitS: number;
  retries: number;
  /** The scale cases: not run, run after the matrix, or run alone. */
  scale: 'no' | 'also' | 'only';
}

/** One cell of the matrix: what every peer is measured on. */
export interface Cell {
  replicas: number;
  workers: number;
  body: string;
}

export interface Row extends Cell {
  round: number;
  peer: string;
  version: string;
  /** discarded: measured while other processes were busy, then repeated. */
  status: 'ok' | 'failed' | 'discarded';
  note?: string;
  /** Ran with a CPU profiler attached: slower than it would be. */
  profiled?: boolean;
  measurement?: Measurement;
  /** How long the run waited for other processes to go quiet, and how busy they were then. */
  quiet?: Quiet;
  peakRssKiB?: number | null;
}

/** portero's figure divided by another peer's, in one cell (and round, or the mean of the rounds). */
export interface Ratio extends Cell {
  /** The peer portero is compared with. */
  peer: string;
  round: number | 'mean';
  reqPerSec: number;
  /** null against direct (no proxy, no proxy CPU). */
  reqPerCpuS: number | null;
}

export interface Report {
  /** 2: the matrix (replicas x workers x bodies), several peers, scale cases. */
  schema: 2;
  env: Environment;
  /** Version of every peer that ran (direct has none). */
  versions: Record<string, string>;
  settings: Settings;
  /** Peers that could not run here, with how to install them. */
  skipped: { peer: string; reason: string }[];
  rows: Row[];
  ratios: Ratio[];
  elapsedS: number;
  scale?: ScaleReport;
  /** With the scale cases: the Swarm provider against a stand-in Docker API of 1,000 services (bench/discovery.ts). */
  discovery?: DiscoveryReport;
}
