// The Swarm provider: a full sync on every service event and on a short
// timer (Swarm emits no task events, so tasks are polled), each turned into a
// DynamicConfig. When the Docker API is unreachable nothing is emitted, so
// the last good table keeps serving, and syncs retry with a short backoff.
import type { Logger } from 'pino';
import type { ConfigError, DynamicConfig } from '../../dynamic/model.js';
import type { Provider } from '../provider.js';
import { isDeepStrictEqual } from 'node:util';
import { SwarmClient, sinceAfter } from './client.js';
import { ServiceFollower } from './follow.js';
import type { SwarmService, SwarmSnapshot } from './model.js';
import { buildSwarmConfig, compileConstraints, compileDefaultRule } from './labels.js';
import type { SwarmProviderOptions } from './model.js';

export interface SwarmProviderConfig extends SwarmProviderOptions {
  endpoint: string;
  refreshSeconds: number;
  watch: boolean;
}

export interface SwarmProviderStatus {
  endpoint: string;
  reachable: boolean;
  lastSync: string | null;
  lastError: string | null;
  services: number;
}

/**
 * While the events stream is up, events name the services that change, and
 * those are followed on their own (follow.ts); the full poll is then there for
 * what sends no event (a task rescheduled after a crash). For a large Swarm
 * it runs less often: one second per POLL_BYTES_PER_SECOND of answer, up to
 * SLOW_POLL_MAX_MS. A Swarm whose answers weigh under 2 MB polls every
 * refreshSeconds, as without events.
 */
const POLL_BYTES_PER_SECOND = 2 * 1024 * 1024;
const SLOW_POLL_MAX_MS = 15_000;

/** Retry delays grow to this and no further, so a returning engine is seen quickly. */
const MAX_BACKOFF_MS = 2000;
const EVENT_DEBOUNCE_MS = 30;

export class SwarmProvider implements Provider {
  readonly name = 'swarm';
  private readonly client: SwarmClient;
  private emit: ((c: DynamicConfig, e: ConfigError[]) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private eventTimer: NodeJS.Timeout | null = null;
  /** The events stream has connected before: a reconnection catches up on what it missed. */
  private eventsConnected = false;
  /** When the last event happened (engine time, ns): a reconnection asks for the events after it. */
  private lastEventNano: bigint | null = null;
  private events: NodeJS.ReadableStream | null = null;
  private syncing: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private stopped = false;
  /** The Swarm as last built: the last poll's, with the followed services' changes since. */
  private current: SwarmSnapshot | null = null;
  /** Followed services changed since a poll began: when each change was read (Date.now()). */
  private patchedAt = new Map<string, number>();
  private readonly follower: ServiceFollower;
  /** The warnings of the last sync: each is logged when it appears, not on every sync. */
  private warned = new Set<string>();
  readonly status: SwarmProviderStatus;

  constructor(
    private readonly config: SwarmProviderConfig,
    private readonly log: Logger,
  ) {
    // Fail at start, not on every sync: a bad expression here is a usage error.
    if (config.constraints !== undefined && config.constraints !== '') compileConstraints(config.constraints);
    compileDefaultRule(config.defaultRule);
    this.client = new SwarmClient(config.endpoint);
    this.follower = new ServiceFollower({
      read: async (id) => {
        const answer = await this.client.service(id);
        this.noteReachable();
        return answer;
      },
      changed: (id, service) => this.serviceChanged(id, service),
      forget: (id) => this.client.unfollow(id),
    });
    this.status = { endpoint: config.endpoint, reachable: false, lastSync: null, lastError: null, services: 0 };
  }

  async start(emit: (c: DynamicConfig, e: ConfigError[]) => void): Promise<void> {
    this.emit = emit;
    await this.sync();
    if (this.config.watch) void this.watchEvents();
  }

  stop(): void {
    this.stopped = true;
    this.follower.stop();
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.eventTimer !== null) clearTimeout(this.eventTimer);
    const ev = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    ev?.destroy?.();
    void this.client.close().catch(() => undefined);
  }

  /** One sync at a time; a request during a sync runs one more right after. */
  sync(): Promise<void> {
    if (this.syncing !== null) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.sync();
      } else {
        this.schedule();
      }
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    try {
      const began = Date.now();
      const fetched = await this.client.snapshot();
      this.log.debug({ provider: 'swarm', ...this.client.lastPoll }, 'Swarm polled');
      const snapshot = fetched === null ? null : this.keepNewer(fetched, began);
      if (snapshot === null) {
        // Nothing changed since the last poll: the configuration emitted then still holds.
        this.noteReachable();
        return;
      }
      this.current = snapshot;
      this.publish(snapshot);
      this.noteReachable();
    } catch (err) {
      if (this.stopped) return;
      this.client.forgetLast();
      this.failures++;
      this.status.reachable = false;
      this.status.lastError = (err as Error).message;
      // Log the first failure of a streak and then every 30th, not every retry.
      if (this.failures === 1 || this.failures % 30 === 0) {
        this.log.error({ provider: 'swarm', endpoint: this.config.endpoint, err: (err as Error).message, failures: this.failures }, 'cannot read the Swarm; keeping the last configuration');
      }
    }
  }

  /**
   * A poll that began before a followed service's change was read may carry
   * that service as it was: the change read since is kept, so a new task
   * does not vanish for a poll.
   */
  private keepNewer(snapshot: SwarmSnapshot, began: number): SwarmSnapshot {
    const newer = [...this.patchedAt].filter(([, at]) => at > began).map(([id]) => id);
    this.patchedAt = new Map([...this.patchedAt].filter(([, at]) => at > began));
    if (newer.length === 0 || this.current === null) return snapshot;
    const mine = new Map(this.current.services.map((s) => [s.id, s]));
    const services = snapshot.services.filter((s) => !newer.includes(s.id));
    for (const id of newer) {
      const s = mine.get(id);
      if (s !== undefined) services.push(s);
    }
    // Order does not matter: buildSwarmConfig sorts the services itself.
    return { ...snapshot, services };
  }

  /** Builds the configuration from `snapshot` and emits it. */
  private publish(snapshot: SwarmSnapshot): void {
    const { config, errors, warnings, notices } = buildSwarmConfig(snapshot, this.config);
    this.status.services = snapshot.services.length;
    for (const w of warnings) if (!this.warned.has(w)) this.log.warn({ provider: 'swarm' }, w);
    this.warned = new Set(warnings);
    if (!this.stopped) this.emit?.(config, [...errors, ...notices]);
  }

  /** A followed service changed (or is gone): the last snapshot gets it, and the configuration is built again. */
  private serviceChanged(id: string, service: SwarmService | null): void {
    const current = this.current;
    if (current === null || this.stopped) return;
    const at = current.services.findIndex((s) => s.id === id);
    if (service === null ? at < 0 : at >= 0 && isDeepStrictEqual(current.services[at], service)) return;
    const services = current.services.filter((s) => s.id !== id);
    if (service !== null) services.push(service);
    this.current = { ...current, services };
    this.patchedAt.set(id, Date.now());
    this.publish(this.current);
  }

  private noteReachable(): void {
    if (this.failures > 0) this.log.warn({ provider: 'swarm', endpoint: this.config.endpoint }, 'Docker API reachable again');
    this.failures = 0;
    this.status.reachable = true;
    this.status.lastSync = new Date().toISOString();
    this.status.lastError = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const base = this.config.refreshSeconds * 1000;
    const bySize = this.events === null ? 0 : Math.min(SLOW_POLL_MAX_MS, (this.client.lastPoll.bytes / POLL_BYTES_PER_SECOND) * 1000);
    const delay = this.failures === 0 ? Math.max(base, bySize) : Math.min(base * 2 ** (this.failures - 1), Math.max(base, MAX_BACKOFF_MS));
    this.timer = setTimeout(() => void this.sync(), delay);
    this.timer.unref();
  }

  private async watchEvents(): Promise<void> {
    if (this.stopped) return;
    try {
      const since = this.lastEventNano === null ? undefined : sinceAfter(this.lastEventNano);
      const stream = await this.client.events((event) => {
        if (event.timeNano !== undefined && (this.lastEventNano === null || event.timeNano > this.lastEventNano)) this.lastEventNano = event.timeNano;
        // A service the event names is read on its own, now and for a while (follow.ts).
        if (event.actorId !== undefined && event.actorId !== '') {
          this.follower.follow(event.actorId);
          return;
        }
        // A burst of events (a stack deploy) becomes one sync.
        if (this.eventTimer !== null) return;
        this.eventTimer = setTimeout(() => {
          this.eventTimer = null;
          void this.sync();
        }, EVENT_DEBOUNCE_MS);
      }, since);
      this.events = stream;
      // Events missed while the stream was down (the engine restarting, the API gone): the engine replays
      // those after the last one seen, and each brings its sync. Without a last one to start from, one
      // sync now catches up, not the next poll, which backs off.
      if (this.eventsConnected && since === undefined) void this.sync();
      this.eventsConnected = true;
      const restart = () => {
        if (this.events !== stream) return;
        this.events = null;
        setTimeout(() => void this.watchEvents(), 1000).unref();
      };
      stream.on('end', restart);
      stream.on('close', restart);
      stream.on('error', restart);
    } catch {
      setTimeout(() => void this.watchEvents(), 1000).unref();
    }
  }
}
