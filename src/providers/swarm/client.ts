// Reads a Swarm manager through dockerode into a SwarmSnapshot. Only GET
// requests and the events stream are used, so portero can sit behind a
// read-only Docker socket proxy.
import os from 'node:os';
import type Docker from 'dockerode';
import { Piscina } from 'piscina';
import type { SwarmService, SwarmSnapshot } from './model.js';
import type { PollAnswer, PollTask, PollThreadData } from './poll-thread.js';
import { swarmServices, type ListAnswer } from './swarm-services.js';
import { dockerOptions, getChanged, RawDockerGet } from './raw-get.js';

export { dockerOptions } from './raw-get.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** One Docker event as the engine sends it (the fields portero reads). */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  /** The object the event is about (for a service event, the service's ID). */
  actorId?: string;
  /** When it happened, in nanoseconds since the epoch (read exactly: a double cannot hold it). */
  timeNano?: bigint;
}

/** Docker's `since` for the instant just after `timeNano`: "<seconds>.<nanoseconds>". */
export function sinceAfter(timeNano: bigint): string {
  const next = timeNano + 1n;
  return `${next / 1_000_000_000n}.${String(next % 1_000_000_000n).padStart(9, '0')}`;
}

export class SwarmClient {
  /**
   * dockerode, for the container inspect and the events stream; and the
   * events stream's own client, without the request timeout: the stream is
   * silent while the cluster is, and a timeout would cut it every 10 s. Only
   * the connection has a deadline. Loaded on first use: dockerode and its
   * dependencies hold about 10 MB of heap.
   */
  private dockers: Promise<{ docker: Docker; events: Docker }> | null = null;
  private readonly endpoint: string;
  private ownNetworks: string[] | null | undefined;
  /** For a followed service's reads, which are small: the full poll has its own thread (poll-thread.ts). */
  private readonly raw: RawDockerGet;
  private readonly pollThread: Piscina;
  /** The next poll parses whatever comes and sends every service (the last one could not be used). */
  private forget = false;
  /** The last poll's services by ID, as listed: each object stays until the poll finds that service changed. */
  private polled = new Map<string, SwarmService>();
  /** The last full poll: its answers' bytes (0 before the first), the poll thread's CPU for it, and the services it found changed. */
  lastPoll: { bytes: number; cpuMs: number | null; changed: number } = { bytes: 0, cpuMs: null, changed: 0 };
  /** Network ID -> name, from the last poll. */
  private networkName = new Map<string, string>();
  /** Per followed service: its last answers (service, tasks). */
  private lastOf = new Map<string, Buffer[]>();

  constructor(endpoint: string) {
    this.endpoint = endpoint;
    this.raw = new RawDockerGet(dockerOptions(endpoint), REQUEST_TIMEOUT_MS);
    const workerData: PollThreadData = { target: dockerOptions(endpoint), timeoutMs: REQUEST_TIMEOUT_MS };
    this.pollThread = new Piscina({ filename: new URL('./poll-thread.js', import.meta.url).href, minThreads: 1, maxThreads: 1, workerData });
  }

  private clients(): Promise<{ docker: Docker; events: Docker }> {
    this.dockers ??= import('dockerode').then(({ default: Dockerode }) => ({
      docker: new Dockerode({ ...dockerOptions(this.endpoint), timeout: REQUEST_TIMEOUT_MS }),
      events: new Dockerode({ ...dockerOptions(this.endpoint), connectionTimeout: REQUEST_TIMEOUT_MS } as Docker.DockerOptions),
    }));
    return this.dockers;
  }

  /** The next snapshot() parses whatever comes (the last one could not be used). */
  forgetLast(): void {
    this.forget = true;
  }

  /** The Swarm now, or null when services, tasks and networks are byte for byte what the last call returned. */
  async snapshot(): Promise<SwarmSnapshot | null> {
    const task: PollTask = { forget: this.forget };
    this.forget = false;
    const answer = (await this.pollThread.run(task)) as PollAnswer;
    if (answer.kind === 'error') throw Object.assign(new Error(answer.message), answer.statusCode === undefined ? {} : { statusCode: answer.statusCode });
    this.lastPoll = { bytes: answer.bytes, cpuMs: answer.cpuMs, changed: answer.kind === 'unchanged' ? 0 : answer.changed.length };
    if (answer.kind === 'unchanged') return null;
    this.networkName = new Map(answer.networks);
    const changed = new Map(answer.changed.map((s) => [s.id, s]));
    const polled = new Map<string, SwarmService>();
    for (const id of answer.ids) {
      const service = changed.get(id) ?? this.polled.get(id);
      if (service === undefined) {
        // The poll thread and this one disagree on what was sent (a thread replaced after a crash): start over.
        this.forget = true;
        throw new Error(`the poll thread left out unchanged service ${id}, which this thread does not have; reading every service again`);
      }
      polled.set(id, service);
    }
    this.polled = polled;
    return { services: [...polled.values()], ownNetworks: await this.findOwnNetworks() };
  }

  /**
   * One service and its running tasks now, for a service an event named:
   * null when it is gone, 'unchanged' when both answers are byte for byte the
   * last ones for it.
   */
  async service(id: string): Promise<SwarmService | null | 'unchanged'> {
    let answers: Buffer[] | null;
    try {
      answers = await getChanged(
        this.raw,
        [`/services/${encodeURIComponent(id)}`, `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [id], 'desired-state': ['running'] }))}`],
        this.lastOf.get(id) ?? null,
      );
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      this.lastOf.delete(id);
      return null;
    }
    if (answers === null) return 'unchanged';
    this.lastOf.set(id, answers);
    const service = JSON.parse(answers[0]!.toString('utf8')) as ListAnswer<'listServices'>[number];
    const tasks = JSON.parse(answers[1]!.toString('utf8')) as ListAnswer<'listTasks'>;
    return swarmServices([service], tasks, this.networkName)[0]!;
  }

  /** Stops the poll thread and closes the connections kept for polls. */
  async close(): Promise<void> {
    this.raw.close();
    await this.pollThread.destroy();
  }

  /** Stops remembering a followed service's answers. */
  unfollow(id: string): void {
    this.lastOf.delete(id);
  }

  /** The networks of the container portero runs in (its hostname is the container ID), or null outside one. */
  private async findOwnNetworks(): Promise<string[] | null> {
    if (this.ownNetworks !== undefined) return this.ownNetworks;
    try {
      const info = await (await this.clients()).docker.getContainer(os.hostname()).inspect();
      this.ownNetworks = Object.keys(info.NetworkSettings?.Networks ?? {});
    } catch (err) {
      // 404: not in a container (or a renamed host); other errors: ask again next time.
      if ((err as { statusCode?: number }).statusCode === 404) this.ownNetworks = null;
      else return null;
    }
    return this.ownNetworks;
  }

  /**
   * Service create/update/remove events, from `since` (Docker's format, see
   * sinceAfter) when given, so that a reconnection gets what it missed;
   * resolves the stream so the caller can watch its end.
   */
  async events(onEvent: (event: DockerEvent) => void, since?: string): Promise<NodeJS.ReadableStream> {
    // The typings say a number; the engine takes "<seconds>.<nanoseconds>", which keeps nanosecond precision.
    const options: Docker.GetEventsOptions = { filters: JSON.stringify({ type: ['service'] }), ...(since !== undefined ? { since: since as unknown as number } : {}) };
    const stream = await (await this.clients()).events.getEvents(options);
    // A peer that vanished without closing (a partition, a dead socket proxy) is found by TCP keep-alive.
    (stream as unknown as { socket?: { setKeepAlive?(on: boolean, delayMs: number): void } }).socket?.setKeepAlive?.(true, 15_000);
    let pending = '';
    stream.on('data', (chunk: Buffer | string) => {
      // One JSON object per line; a chunk may hold several, or part of one.
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === '') continue;
        const event: DockerEvent = {};
        try {
          const parsed = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string } };
          event.Type = parsed.Type;
          event.Action = parsed.Action;
          event.actorId = parsed.Actor?.ID;
          const nano = /"timeNano":\s*(\d+)/.exec(line);
          if (nano !== null) event.timeNano = BigInt(nano[1]!);
        } catch {
          /* not JSON: still a sign that something happened */
        }
        onEvent(event);
      }
    });
    return stream;
  }
}
