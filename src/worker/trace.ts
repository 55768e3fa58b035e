// The record of one proxied request that the exchange carries for its
// observer (metrics/observe.ts): taken when the request starts, read when it ends.
import type { ServerRuntime, ServiceRuntime } from '../balancer/runtime.js';
import type { EntryPointContext } from './request-head.js';

/** What is kept of a proxied request while it runs. The access log fields are "" without the access log. */
export class Trace {
  constructor(
    readonly entryPoint: EntryPointContext,
    readonly method: string,
    readonly t0: number,
    readonly router: string,
    readonly requestCount: number,
    readonly clientIp: string,
    readonly target: string,
    readonly host: string,
    readonly referer: string,
    readonly userAgent: string,
  ) {}
}

/** What the observer reads of a proxied request when it ends: an Exchange, or a WebSocket session. */
export interface TracedOutcome {
  /** Status sent to the client (101 for a WebSocket); 0: the client left first. */
  readonly status: number;
  readonly originStatus: number;
  /** The service it went to, and the server (null when none was reached). */
  readonly service: ServiceRuntime;
  readonly server: ServerRuntime | null;
  readonly retries: number;
  /** performance.now() when the first server was asked. */
  readonly originStart: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
  /** The request became a WebSocket session (metrics' protocol label). */
  readonly websocket: boolean;
}
