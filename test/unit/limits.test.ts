// rateLimit and inFlightReq as kinds: Traefik's options and defaults, its
// sourceCriterion, and what their stages answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MiddlewareCompiler } from '../../src/middlewares/compile.js';
import { buildMiddlewares } from '../../src/middlewares/pipeline.js';
import { goDuration } from '../../src/middlewares/rate-limit.js';
import { createMiddlewareMemory, MiddlewareMemory } from '../../src/middlewares/shared-memory.js';
import type { Answer, BuildContext, ForwardedRequest, MiddlewareDescriptor } from '../../src/middlewares/types.js';

const context = (): BuildContext => ({
  memory: new MiddlewareMemory(createMiddlewareMemory()),
  server: () => null,
  pool: () => {
    throw new Error('no upstream pools here');
  },
});

function compile(kind: string, options: unknown): MiddlewareDescriptor[] | string {
  return new MiddlewareCompiler(new Map([['m@file', { [kind]: options }]]), (m) => m).router(['m@file']);
}

function one(kind: string, options: unknown): MiddlewareDescriptor {
  const d = compile(kind, options);
  if (typeof d === 'string') assert.fail(d);
  return d[0]!;
}

function request(r: { clientIp?: string; host?: string; lines?: string } = {}): ForwardedRequest {
  const clientIp = r.clientIp ?? '10.0.0.1';
  const view = { method: 'GET', host: 'a.test', path: '/', query: '', headers: {}, clientIp };
  return { method: 'GET', view, tls: false, path: '/', query: '', lines: r.lines ?? `x-forwarded-for: ${clientIp}\r\n`, hostHeader: r.host ?? 'a.test', responseEdits: null, ended: null } as unknown as ForwardedRequest;
}

/** A built chain's single stage. */
function stage(d: MiddlewareDescriptor, ctx = context()) {
  const s = buildMiddlewares([d], ctx).request;
  assert.ok(s !== null && s.length === 1);
  return s[0]!;
}

describe('rateLimit', () => {
  test("Traefik's defaults and names, label strings; redis and clashing criteria are errors", () => {
    assert.deepEqual(one('rateLimit', { average: 100 }).options, { average: 100, periodMs: 1000, burst: 1, sourceCriterion: { by: 'ip', ipStrategy: { depth: 0, excludedIPs: [] } } });
    assert.deepEqual(one('RateLimit', { Average: '6', Period: '1m', Burst: '0', SourceCriterion: { RequestHeaderName: 'X-Key' } }).options, {
      average: 6,
      periodMs: 60_000,
      burst: 1,
      sourceCriterion: { by: 'header', header: 'x-key' },
    });
    const criterion = (sourceCriterion: unknown) => (one('rateLimit', { average: 1, sourceCriterion }).options as { sourceCriterion: unknown }).sourceCriterion;
    assert.deepEqual(criterion({ ipStrategy: { depth: '2', excludedIPs: '10.0.0.0/8' } }), { by: 'ip', ipStrategy: { depth: 2, excludedIPs: ['10.0.0.0/8'] } });
    assert.deepEqual(criterion({ requestHost: 'true' }), { by: 'host' });
    assert.deepEqual(criterion({ requestHost: false, requestHeaderName: '' }), { by: 'ip', ipStrategy: { depth: 0, excludedIPs: [] } }, 'none set: the client address');
    assert.match(compile('rateLimit', { average: 1, redis: { endpoints: ['r:6379'] } }) as string, /rateLimit.redis is not supported/);
    assert.match(compile('rateLimit', { average: 1, sourceCriterion: { ipStrategy: {}, requestHost: true } }) as string, /ipStrategy and requestHost are mutually exclusive/);
    assert.match(compile('rateLimit', { average: 1, sourceCriterion: { requestHeaderName: 'X', requestHost: true } }) as string, /requestHost and requestHeaderName are mutually exclusive/);
    assert.match(compile('rateLimit', { average: -1 }) as string, /rateLimit.average must be an integer >= 0/);
    assert.match(compile('rateLimit', { average: 1, period: 'soon' }) as string, /rateLimit.period must be a duration/);
    assert.match(compile('rateLimit', { average: 1, sourceCriterion: { ipStrategy: { ipv6Subnet: 64 } } }) as string, /ipv6Subnet is not supported/);
  });

  test('average 0 is no limit: no stage at all', () => {
    assert.equal(buildMiddlewares([one('rateLimit', { burst: 5 })], context()).request, null);
  });

  test('over the limit: 429 "Too Many Requests" with Retry-After (whole seconds, rounded up) and X-Retry-In', () => {
    const s = stage(one('rateLimit', { average: 1, period: '10s', burst: 2 }));
    assert.equal(s(request()), null);
    assert.equal(s(request()), null);
    const a = s(request()) as Answer;
    assert.equal(a.status, 429);
    assert.equal(a.body, 'Too Many Requests');
    const headers = new Map(a.headers);
    assert.equal(headers.get('Retry-After'), '10');
    assert.match(headers.get('X-Retry-In')!, /^9\.9\d*s$|^10s$/);
    assert.equal(s(request({ clientIp: '10.0.0.2' })), null, 'another client has its own bucket');
  });

  test('a token due within 1/(2·rate) is waited for, not refused', async () => {
    // 100 per second: a token every 10 ms, waits of up to 5 ms are served late.
    const s = stage(one('rateLimit', { average: 100, burst: 1 }));
    assert.equal(s(request()), null);
    const t0 = performance.now();
    let r = s(request());
    while (!(r instanceof Promise) && performance.now() - t0 < 1000) r = s(request());
    assert.ok(r instanceof Promise, 'a request came within 5 ms of its token');
    assert.equal(await r, null);
  });

  test('sources: ipStrategy depth and excludedIPs (as ipAllowList), a header as earlier middlewares left it, the Host', () => {
    const byDepth = stage(one('rateLimit', { average: 1, period: '1h', sourceCriterion: { ipStrategy: { depth: 2 } } }));
    const xff = (list: string) => request({ lines: `x-forwarded-for: ${list}, 10.9.9.9\r\n` });
    assert.equal(byDepth(xff('1.1.1.1, 2.2.2.2, 3.3.3.3')), null);
    assert.equal((byDepth(xff('9.9.9.9, 2.2.2.2, 4.4.4.4')) as Answer).status, 429, 'the same second-from-right address');
    assert.equal(byDepth(xff('2.2.2.2, 5.5.5.5, 6.6.6.6')), null);

    const excluded = stage(one('rateLimit', { average: 1, period: '1h', sourceCriterion: { ipStrategy: { excludedIPs: ['3.3.3.3'] } } }));
    assert.equal(excluded(xff('1.1.1.1, 2.2.2.2, 3.3.3.3')), null);
    assert.equal((excluded(xff('2.2.2.2, 3.3.3.3')) as Answer).status, 429, 'the first address from the right not excluded');

    const byHeader = stage(one('rateLimit', { average: 1, period: '1h', sourceCriterion: { requestHeaderName: 'X-Api-Key' } }));
    assert.equal(byHeader(request({ lines: 'accept: */*\r\nx-api-key: alpha\r\n' })), null);
    assert.equal((byHeader(request({ lines: 'x-api-key: alpha\r\nx-api-key: beta\r\n', clientIp: '10.1.1.1' })) as Answer).status, 429, "the first value, whoever sends it");
    assert.equal(byHeader(request({ lines: 'x-api-key: beta\r\n' })), null);
    assert.equal(byHeader(request({ lines: 'accept: */*\r\n' })), null, 'no header is a source of its own ("")');
    assert.equal((byHeader(request({ lines: 'x-other: 1\r\n' })) as Answer).status, 429);

    const byHost = stage(one('rateLimit', { average: 1, period: '1h', sourceCriterion: { requestHost: true } }));
    assert.equal(byHost(request({ host: 'a.test:8080' })), null);
    assert.equal(byHost(request({ host: 'a.test' })), null, 'the Host header as is, port included');
    assert.equal((byHost(request({ host: 'a.test:8080', clientIp: '10.7.7.7' })) as Answer).status, 429);
  });

  test('one limit per middleware name, whichever router or worker builds it', () => {
    const ctx = context();
    const d = one('rateLimit', { average: 1, period: '1h' });
    const first = stage(d, ctx);
    const second = stage(d, { ...ctx });
    assert.equal(first(request()), null);
    assert.equal((second(request()) as Answer).status, 429);
    const other = stage({ ...d, name: 'other@file' }, ctx);
    assert.equal(other(request()), null);
  });

  test("Go's Duration.String for X-Retry-In", () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [999, '999ns'],
      [1100, '1.1µs'],
      [2_200_000, '2.2ms'],
      [166_666_666, '166.666666ms'],
      [1_000_000_000, '1s'],
      [1_500_000_000, '1.5s'],
      [61_500_000_000, '1m1.5s'],
      [3_600_000_000_000, '1h0m0s'],
      [3_723_000_000_001, '1h2m3.000000001s'],
    ];
    for (const [ns, text] of cases) assert.equal(goDuration(ns), text);
  });
});

describe('inFlightReq', () => {
  test("Traefik's defaults: the Host is the source; amount 0 refuses everything", () => {
    assert.deepEqual(one('inFlightReq', { amount: '10' }).options, { amount: 10, sourceCriterion: { by: 'host' } });
    assert.deepEqual(one('InFlightReq', { Amount: 3, SourceCriterion: { IPStrategy: { Depth: 1 } } }).options, { amount: 3, sourceCriterion: { by: 'ip', ipStrategy: { depth: 1, excludedIPs: [] } } });
    assert.match(compile('inFlightReq', { amount: -1 }) as string, /inFlightReq.amount must be an integer >= 0/);
    const none = stage(one('inFlightReq', {}));
    assert.deepEqual(none(request()), { status: 429, headers: [], body: 'max connections reached: 0' });
  });

  test('a slot per request until amount; each given back when the request ends, once', () => {
    const s = stage(one('inFlightReq', { amount: 2 }));
    const a = request();
    const b = request();
    assert.equal(s(a), null);
    assert.equal(s(b), null);
    assert.equal(a.ended!.length, 1, 'a listener gives the slot back');
    const full = s(request()) as Answer;
    assert.equal(full.status, 429);
    assert.equal(full.body, 'max connections reached: 2');
    assert.equal(s(request({ host: 'b.test' })), null, 'another host counts apart');
    a.ended![0]!({ status: 200, originStatus: 200, originMs: 1 });
    assert.equal(s(request()), null, 'a slot came back');
    assert.equal((s(request()) as Answer).status, 429);
  });
});
