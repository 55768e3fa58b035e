// "direct": the load straight at the backends, spread over them by
// connection. The ceiling of this load generator on this machine.
import type { Peer } from './peer.js';

export const direct: Peer = {
  name: 'direct',
  available: () => Promise.resolve({ ok: true, version: '-' }),
  start: (ctx) =>
    Promise.resolve({
      urls: ctx.backends.map((p) => `http://127.0.0.1:${p}/`),
      pids: () => [],
      peakRssKiB: () => null,
      stop: () => Promise.resolve(),
    }),
};
