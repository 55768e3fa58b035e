// Active health checks (Traefik's loadBalancer.healthCheck), run by the main
// thread alone: one probe loop per checked server, whatever the number of
// workers. The verdict goes into the server's health word in shared memory,
// which every worker's balancer reads; the API and /metrics read it too.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { parseDuration } from '../config/values.js';
import type { HealthCheckConfig } from '../dynamic/model.js';
import type { SharedState } from '../shared/shared-state.js';
import type { UpstreamTls } from '../table/spec.js';
import { tlsOptions, type UpstreamTlsOptions } from '../upstream/connection.js';
import { authorityOf } from '../upstream/pool.js';

/** Traefik's defaults. */
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface HealthTarget {
  /** The server's shared slot. */
  slot: number;
  service: string;
  /** The server as configured (for logs). */
  url: string;
  host: string;
  port: number;
  /** An https:// server: checked over TLS unless the check names its own scheme. */
  tls: boolean;
  /** Its service's servers transport; null: the static settings. */
  transport: UpstreamTls | null;
  check: HealthCheckConfig;
}

interface Probe {
  target: HealthTarget;
  /** Identifies the target's settings: a change restarts its loop. */
  key: string;
  timer: NodeJS.Timeout | null;
  request: http.ClientRequest | null;
  up: boolean;
  stopped: boolean;
}

const ms = (v: string | undefined, fallback: number) => (v === undefined ? fallback : parseDuration(v, 'duration'));

export class HealthChecker {
  private readonly probes = new Map<number, Probe>();

  constructor(
    private readonly state: SharedState,
    private readonly log: Logger,
    /** How https:// servers are trusted: the same as for proxied requests. */
    private readonly tls: UpstreamTlsOptions = { insecureSkipVerify: false, rootCAs: [] },
  ) {}

  /** The servers to check now; loops for servers no longer listed stop. Call after each table publish. */
  update(targets: readonly HealthTarget[]): void {
    const wanted = new Map<number, { target: HealthTarget; key: string }>();
    for (const t of targets) wanted.set(t.slot, { target: t, key: JSON.stringify([t.host, t.port, t.tls, t.transport, t.check]) });
    for (const [slot, p] of this.probes) {
      const w = wanted.get(slot);
      if (w !== undefined && w.key === p.key) {
        p.target = w.target;
        continue;
      }
      this.cancel(p);
      this.probes.delete(slot);
      // Checked no longer (or differently): it serves until a check says otherwise.
      this.state.setUp(slot, true);
    }
    for (const [slot, { target, key }] of wanted) {
      if (this.probes.has(slot)) continue;
      const p: Probe = { target, key, timer: null, request: null, up: this.state.isUp(slot), stopped: false };
      this.probes.set(slot, p);
      this.run(p);
    }
  }

  stop(): void {
    for (const p of this.probes.values()) this.cancel(p);
    this.probes.clear();
  }

  private cancel(p: Probe): void {
    p.stopped = true;
    if (p.timer !== null) clearTimeout(p.timer);
    p.request?.destroy();
    p.request = null;
  }

  private run(p: Probe): void {
    const { target } = p;
    const { check } = target;
    const timeoutMs = ms(check.timeout, DEFAULT_TIMEOUT_MS);
    const port = check.port ?? target.port;
    const headers: Record<string, string> = { 'user-agent': 'portero-healthcheck', ...check.headers };
    const secure = (check.scheme ?? (target.tls ? 'https' : 'http')) === 'https';
    headers.host = check.hostname ?? authorityOf(target.host, port, secure);
    let settled = false;
    const done = (up: boolean, reason: string) => {
      if (settled) return;
      settled = true;
      p.request = null;
      if (p.stopped) return;
      this.verdict(p, up, reason);
      const interval = ms(check.interval, DEFAULT_INTERVAL_MS);
      const next = up ? interval : ms(check.unhealthyInterval, interval);
      p.timer = setTimeout(() => this.run(p), next);
      p.timer.unref();
    };
    const client = secure ? https : http;
    const req = client.request({
      host: target.host,
      port,
      ...(secure ? tlsOptions(target.host, target.transport ?? this.tls) : {}),
      path: check.path ?? '/',
      method: check.method ?? 'GET',
      headers,
      agent: false,
      timeout: timeoutMs,
    });
    p.request = req;
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const ok = check.status !== undefined ? status === check.status : status >= 200 && status < 400;
      done(ok, ok ? '' : `status ${status}${check.status !== undefined ? ` (expected ${check.status})` : ''}`);
      req.destroy();
    });
    req.on('timeout', () => {
      done(false, `no answer within ${timeoutMs} ms`);
      req.destroy();
    });
    req.on('error', (err) => done(false, err.message));
    req.end();
  }

  private verdict(p: Probe, up: boolean, reason: string): void {
    const { slot, service, url } = p.target;
    this.state.setUp(slot, up);
    if (up === p.up) return;
    p.up = up;
    if (up) this.log.info({ service, server: url }, 'health check passes again: the server takes traffic');
    else this.log.warn({ service, server: url, reason }, 'health check failed: the server takes no traffic');
  }
}
