// The record of one proxied request that the exchange carries for its
// observer (metrics/observe.ts): taken when the request starts, read when it ends.
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
