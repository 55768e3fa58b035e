// Worker side of metrics and the access log: what a request costs when they
// are on. The handler takes one clock reading when a request arrives; when it
// ends, one more, then a few Atomics.add on the shared counters (bucket and
// duration sum for the entry point, the same for the service, once more for
// the load balancer behind a weighted service) and, with the access log, one
// push onto the worker's log buffer. With both off the handler never gets
// here (its observer is null).
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { AccessLogBuffer } from '../accesslog/buffer.js';
import { METHOD_WEBSOCKET, methodClass, type SharedCounters } from './shared-counters.js';
import type { ExchangeObserver } from '../worker/exchange.js';
import { formatClientIp, type EntryPointContext, type ParsedRequest } from '../worker/request-head.js';
import { Trace, type TracedOutcome } from '../worker/trace.js';

/** Which request metrics to keep (Traefik's addEntryPointsLabels / addServicesLabels). */
export interface MetricsScopes {
  entryPoints: boolean;
  services: boolean;
}

const PROTOCOL = 'HTTP/1.1';
/** performance.timeOrigin is an accessor as slow as a clock read: read it once. */
const TIME_ORIGIN = performance.timeOrigin;

export class WorkerObserver implements ExchangeObserver {
  constructor(
    private readonly counters: SharedCounters,
    private readonly worker: number,
    /** null: metrics off (the counters then only number requests for the access log). */
    private readonly metrics: MetricsScopes | null,
    private readonly log: AccessLogBuffer | null,
  ) {}

  /** A request is about to be proxied. */
  begin(ep: EntryPointContext, req: HttpRequest, parsed: ParsedRequest, router: string, t0: number): Trace {
    this.counters.addOpen(this.worker, ep.index, 1);
    if (this.log === null) return new Trace(ep, parsed.method, t0, router, 0, '', '', '', '', '');
    return new Trace(
      ep,
      parsed.method,
      t0,
      router,
      this.counters.nextRequestNumber(),
      parsed.view.clientIp,
      parsed.target,
      parsed.hostHeader,
      req.getHeader('referer'),
      req.getHeader('user-agent'),
    );
  }

  /** A proxied request ended (answered, failed, or abandoned by its client). */
  ended(x: TracedOutcome, t: Trace): void {
    const t1 = performance.now();
    const c = this.counters;
    c.addOpen(this.worker, t.entryPoint.index, -1);
    // Nothing was sent when the client left first: nginx's and Traefik's 499.
    const status = x.status === 0 ? 499 : x.status;
    const m = this.metrics;
    if (m !== null) {
      const us = Math.round((t1 - t.t0) * 1000);
      const bucket = c.bucketOf(us);
      const micros = BigInt(us);
      const mc = x.websocket ? METHOD_WEBSOCKET : methodClass(t.method);
      if (m.entryPoints) c.observe(c.entryPointScope(t.entryPoint.index), mc, status, bucket, micros);
      if (m.services) {
        const slot = x.service.rr;
        c.observe(c.serviceScope(slot), mc, status, bucket, micros);
        // A weighted service's request is also the chosen load balancer's.
        const lb = x.server === null ? slot : x.server.service;
        if (lb !== slot) c.observe(c.serviceScope(lb), mc, status, bucket, micros);
        if (x.retries > 0) c.addRetries(slot, x.retries);
      }
    }
    if (this.log !== null) {
      const server = x.server;
      this.log.add({
        startMs: TIME_ORIGIN + t.t0,
        durationMs: t1 - t.t0,
        originDurationMs: server === null ? -1 : t1 - x.originStart,
        clientHost: t.clientIp,
        method: t.method,
        path: t.target,
        protocol: PROTOCOL,
        host: t.host,
        status,
        originStatus: x.originStatus,
        size: x.bytesOut,
        requestSize: x.bytesIn,
        referer: t.referer,
        userAgent: t.userAgent,
        requestCount: t.requestCount,
        router: t.router,
        service: server === null ? x.service.name : server.serviceName,
        serviceUrl: server === null ? '' : server.url,
        serviceAddr: server === null ? '' : server.authority,
        entryPoint: t.entryPoint.name,
        retries: x.retries,
      });
    }
  }

  /** A request portero answered by itself (404, 400, 405): entry point metrics and the access log only. */
  answered(ep: EntryPointContext, req: HttpRequest, res: HttpResponse, parsed: ParsedRequest | null, method: string, status: number, size: number, t0: number): void {
    const t1 = performance.now();
    const c = this.counters;
    if (this.metrics !== null && this.metrics.entryPoints) {
      const us = Math.round((t1 - t0) * 1000);
      c.observe(c.entryPointScope(ep.index), methodClass(method), status, c.bucketOf(us), BigInt(us));
    }
    if (this.log !== null) {
      let target: string;
      if (parsed !== null) target = parsed.target;
      else {
        const q = req.getQuery();
        target = q === '' ? req.getUrl() : `${req.getUrl()}?${q}`;
      }
      this.log.add({
        startMs: TIME_ORIGIN + t0,
        durationMs: t1 - t0,
        originDurationMs: -1,
        clientHost: parsed !== null ? parsed.view.clientIp : formatClientIp(res.getRemoteAddress()),
        method,
        path: target,
        protocol: PROTOCOL,
        host: parsed !== null ? parsed.hostHeader : req.getHeader('host'),
        status,
        originStatus: 0,
        size,
        requestSize: 0,
        referer: req.getHeader('referer'),
        userAgent: req.getHeader('user-agent'),
        requestCount: c.nextRequestNumber(),
        router: '',
        service: '',
        serviceUrl: '',
        serviceAddr: '',
        entryPoint: ep.name,
        retries: 0,
      });
    }
  }
}
