// The full poll, on its own thread (a piscina task; client.ts submits it). A
// Swarm of 1,000 services and 10,000 tasks answers 25 MB: receiving it costs
// about 100 ms of CPU, and parsing one that changed another 300 ms. On the
// main thread that held the API, /ping and the health checks for as long.
// Here the answers are compared with the last poll's as they arrive, parsed
// only when they differ, and only the services that differ from what this
// thread last sent cross back to the main thread, so that the main thread
// keeps its objects for the rest (labels.ts builds those only once).
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type Docker from 'dockerode';
import type { SwarmService } from './model.js';
import { DockerListReader } from './list-reader.js';
import { getChanged, RawDockerGet } from './raw-get.js';
import { swarmServices, type ListAnswer } from './swarm-services.js';

export interface PollThreadData {
  target: Docker.DockerOptions;
  timeoutMs: number;
}

export interface PollTask {
  /** Parse the next answers whatever they are, and send every service. */
  forget: boolean;
}

export type PollAnswer =
  /** Byte for byte the last poll's answers. */
  | { kind: 'unchanged'; bytes: number; cpuMs: number | null }
  | {
      kind: 'changed';
      bytes: number;
      /** This thread's CPU for the poll (null where Linux's schedstat is not there). */
      cpuMs: number | null;
      /** Every service's ID, as listed. */
      ids: string[];
      /** The services that differ from those this thread sent before (all of them after `forget`). */
      changed: SwarmService[];
      /** Network ID -> name. */
      networks: [string, string][];
    }
  | { kind: 'error'; message: string; statusCode?: number };

const PATHS = ['/services', `/tasks?filters=${encodeURIComponent(JSON.stringify({ 'desired-state': ['running'] }))}`, '/networks'];

const { target, timeoutMs } = workerData as PollThreadData;
// An https:// endpoint goes through node's https client.
const reader = target.protocol === 'https' ? new RawDockerGet(target, timeoutMs) : new DockerListReader(target, timeoutMs);
/** The last poll's answers. */
let last: Buffer[] | null = null;
/** Service ID -> that service as last sent, serialized. */
let sent = new Map<string, string>();

/** This thread's CPU time so far (ns), from Linux's schedstat; null elsewhere. */
function threadCpuNs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

export default async function poll(task: PollTask): Promise<PollAnswer> {
  const cpu0 = threadCpuNs();
  const cpuMs = (): number | null => {
    const cpu1 = threadCpuNs();
    return cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) / 1e4) / 100;
  };
  if (task.forget) {
    last = null;
    sent = new Map();
  }
  try {
    const answers = await getChanged(reader, PATHS, last);
    if (answers === null) return { kind: 'unchanged', bytes: size(last!), cpuMs: cpuMs() };
    // Kept only once parsed: an answer that fails to parse is read whole again next time.
    last = null;
    const [services, tasks, networks] = answers.map((a) => JSON.parse(a.toString('utf8')) as unknown) as [ListAnswer<'listServices'>, ListAnswer<'listTasks'>, ListAnswer<'listNetworks'>];
    const networkName = new Map(networks.map((n) => [n.Id, n.Name]));
    const now = new Map<string, string>();
    const changed: SwarmService[] = [];
    for (const service of swarmServices(services, tasks, networkName)) {
      const json = JSON.stringify(service);
      now.set(service.id, json);
      if (sent.get(service.id) !== json) changed.push(service);
    }
    last = answers;
    sent = now;
    return { kind: 'changed', bytes: size(answers), cpuMs: cpuMs(), ids: [...now.keys()], changed, networks: [...networkName] };
  } catch (err) {
    last = null;
    return { kind: 'error', message: (err as Error).message, ...((err as { statusCode?: number }).statusCode !== undefined ? { statusCode: (err as { statusCode: number }).statusCode } : {}) };
  }
}

function size(answers: readonly Buffer[]): number {
  return answers.reduce((n, b) => n + b.length, 0);
}
