// Traefik's retry middleware: attempts in all, waits doubling from
// initialInterval. The exchange does the retrying; this only reads options.
import { durationMs, int, options } from './options.js';
import type { MiddlewareKind, RetrySpec } from './types.js';

export const retry: MiddlewareKind<RetrySpec> = {
  name: 'retry',
  parse(raw) {
    const o = options(raw, 'retry', ['attempts', 'initialInterval']);
    return {
      attempts: int(o.get('attempts'), 'retry.attempts', 1),
      initialIntervalMs: o.has('initialInterval') ? durationMs(o.get('initialInterval'), 'retry.initialInterval') : 100,
    };
  },
  build: (options) => ({ retry: options }),
};
