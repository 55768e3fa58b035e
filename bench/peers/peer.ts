// What the bench needs from each thing it puts load through. A later matrix
// adds peers (HAProxy, Caddy, Traefik, portero variants) as more files here.

export interface PeerContext {
  /** Backend ports on 127.0.0.1. */
  backends: readonly number[];
  /** Worker processes/threads the proxy may use. */
  workers: number;
  /** Scratch directory for this peer's config, logs and profiles. */
  dir: string;
  /** Write a V8 CPU profile into dir/cpuprof (peers that run on Node). */
  cpuProf: boolean;
}

export interface RunningPeer {
  /** Where the load goes. */
  readonly urls: readonly string[];
  /** Processes to account as the proxy, read at measurement time (empty: no proxy). */
  pids(): readonly number[];
  /** Sum of the peak RSS of its processes, KiB (null: no proxy). */
  peakRssKiB(): number | null;
  stop(): Promise<void>;
}

export type Availability = { ok: true; version: string } | { ok: false; reason: string };

export interface Cell {
  replicas: number;
  workers: number;
  /** Body case name ("20", "16k", "1m", "post16k"). */
  body: string;
}

export interface Peer {
  readonly name: string;
  /** The cells it runs in (all when absent). */
  runsIn?(cell: Cell): boolean;
  /** Whether it can run here; when not, the reason says how to install it. */
  available(): Promise<Availability>;
  start(ctx: PeerContext): Promise<RunningPeer>;
}
