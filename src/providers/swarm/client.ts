// Reads a Swarm manager through dockerode into a SwarmSnapshot. Only GET
// requests and the events stream are used, so portero can sit behind a
// read-only Docker socket proxy.
import os from 'node:os';
import Docker from 'dockerode';
import type { SwarmService, SwarmSnapshot } from './model.js';
import { swarmServices, type ListAnswer } from './swarm-services.js';
import { RawDockerGet } from './raw-get.js';

/** "unix:///var/run/docker.sock", "tcp://host:2375", "http://host:2375" -> dockerode options. */
export function dockerOptions(endpoint: string): Docker.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

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
  readonly docker: Docker;
  /**
   * The events stream's own client, without the request timeout: the stream
   * is silent while the cluster is, and a timeout would cut it every 10 s.
   * Only the connection has a deadline.
   */
  private readonly eventsDocker: Docker;
  private ownNetworks: string[] | null | undefined;
  private readonly raw: RawDockerGet;
  /** The last poll's answers, compared byte for byte with the next. */
  private last: Buffer[] | null = null;
  /** Network ID -> name, from the last poll. */
  private networkName = new Map<string, string>();
  /** Per followed service: its last answers (service, tasks). */
  private lastOf = new Map<string, Buffer[]>();

  constructor(endpoint: string) {
    this.docker = new Docker({ ...dockerOptions(endpoint), timeout: 10_000 });
    this.raw = new RawDockerGet(dockerOptions(endpoint), 10_000);
    this.eventsDocker = new Docker({ ...dockerOptions(endpoint), connectionTimeout: 10_000 } as Docker.DockerOptions);
  }

  /** Bytes of the last full poll's answers (0 before the first). */
  get pollBytes(): number {
    return this.last === null ? 0 : this.last.reduce((n, b) => n + b.length, 0);
  }

  /** The next snapshot() parses whatever comes (the last one could not be used). */
  forgetLast(): void {
    this.last = null;
  }

  /** The Swarm now, or null when services, tasks and networks are byte for byte what the last call returned. */
  async snapshot(): Promise<SwarmSnapshot | null> {
    const answers = await this.readChanged(['/services', `/tasks?filters=${encodeURIComponent(JSON.stringify({ 'desired-state': ['running'] }))}`, '/networks'], this.last);
    if (answers === null) return null;
    this.last = answers;
    const [services, tasks, networks] = answers.map((a) => JSON.parse(a.toString('utf8')) as unknown) as [ListAnswer<'listServices'>, ListAnswer<'listTasks'>, ListAnswer<'listNetworks'>];
    this.networkName = new Map(networks.map((n) => [n.Id, n.Name]));
    const out = swarmServices(services, tasks, this.networkName);
    return { services: out, ownNetworks: await this.findOwnNetworks() };
  }

  /**
   * One service and its running tasks now, for a service an event named:
   * null when it is gone, 'unchanged' when both answers are byte for byte the
   * last ones for it.
   */
  async service(id: string): Promise<SwarmService | null | 'unchanged'> {
    let answers: Buffer[] | null;
    try {
      answers = await this.readChanged(
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

  /** GETs `paths` together; null when every answer is byte for byte `last`'s, else all of them (unchanged ones from `last`). */
  private async readChanged(paths: readonly string[], last: readonly Buffer[] | null): Promise<Buffer[] | null> {
    const got = await Promise.all(paths.map((path, i) => this.raw.get(path, last?.[i] ?? null)));
    if (got.every((a) => a === null)) return null;
    return got.map((a, i) => a ?? last![i]!);
  }

  /** Stops remembering a followed service's answers. */
  unfollow(id: string): void {
    this.lastOf.delete(id);
  }

  /** The networks of the container portero runs in (its hostname is the container ID), or null outside one. */
  private async findOwnNetworks(): Promise<string[] | null> {
    if (this.ownNetworks !== undefined) return this.ownNetworks;
    try {
      const info = await this.docker.getContainer(os.hostname()).inspect();
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
    const stream = await this.eventsDocker.getEvents(options);
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
