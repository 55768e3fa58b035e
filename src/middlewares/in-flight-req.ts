// inFlightReq: at most `amount` requests of a source in progress at once, the
// others 429 "max connections reached: <amount>" (Traefik's, from oxy's
// connlimit); the source is the request's Host unless sourceCriterion says
// otherwise. The counts live in the memory all workers share
// (shared-buckets.ts), keyed by the middleware's name, and a request gives
// its slot back however it ends (answered, a later middleware's answer, the
// client gone), through the request's `ended` listeners.
import { monotonicMs } from './shared-buckets.js';
import { int, options } from './options.js';
import { parseSourceCriterion, sourceOf, type SourceCriterion } from './source-criterion.js';
import type { Answer, ForwardedRequest, MiddlewareKind } from './types.js';

interface Options {
  /** 0 refuses every request, as in Traefik. */
  amount: number;
  sourceCriterion: SourceCriterion;
}

export const inFlightReq: MiddlewareKind<Options> = {
  name: 'inFlightReq',
  parse(raw) {
    const o = options(raw, 'inFlightReq', ['amount', 'sourceCriterion']);
    return {
      amount: o.has('amount') ? int(o.get('amount'), 'inFlightReq.amount', 0) : 0,
      sourceCriterion: parseSourceCriterion(o.get('sourceCriterion'), 'inFlightReq.sourceCriterion', 'host'),
    };
  },
  build({ amount, sourceCriterion }, ctx, name = '') {
    const full: Answer = { status: 429, headers: [], body: `max connections reached: ${amount}` };
    if (amount === 0) return { request: () => full };
    const buckets = ctx.memory.buckets;
    const hash = buckets.hasher('inFlightReq', name);
    const source = sourceOf(sourceCriterion);
    return {
      request(req: ForwardedRequest) {
        hash.hash(source(req));
        const ticket = buckets.enter(hash, amount, monotonicMs());
        if (ticket === 0) return full;
        const { hi, lo } = hash;
        (req.ended ??= []).push(() => buckets.leave(hi, lo, ticket));
        return null;
      },
    };
  },
};
