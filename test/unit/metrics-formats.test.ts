// Line formats: the access log (Traefik's common, generic CLF, JSON) and the
// common log format of portero's own log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessLogBuffer } from '../../src/accesslog/buffer.js';
import { clfTime, formatAccessLog, rfc3339Nano, type AccessLogEntry } from '../../src/accesslog/format.js';
import { commonLogLine } from '../../src/log.js';

const START = Date.UTC(2026, 10, 26, 3, 6, 21, 143) + 0.25; // 143.25 ms

function entry(over: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    startMs: START,
    durationMs: 12.7,
    originDurationMs: 10.2,
    clientHost: '10.0.0.9',
    method: 'GET',
    path: '/a/b?x=1',
    protocol: 'HTTP/1.1',
    host: 'whoami.localhost:8000',
    status: 200,
    originStatus: 200,
    size: 345,
    requestSize: 0,
    referer: 'http://from/',
    userAgent: 'curl/8.0',
    requestCount: 42,
    router: 'whoami@swarm',
    service: 'whoami@swarm',
    serviceUrl: 'http://10.0.1.5:80',
    serviceAddr: '10.0.1.5',
    entryPoint: 'web',
    retries: 0,
    ...over,
  };
}

describe('access log formats', () => {
  test('times', () => {
    assert.equal(clfTime(START), '26/Nov/2026:03:06:21 +0000');
    assert.equal(rfc3339Nano(START), '2026-11-26T03:06:21.14325Z');
    assert.equal(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02T03:04:05Z');
  });

  test("Traefik's common line", () => {
    assert.equal(
      formatAccessLog(entry(), 'common'),
      '10.0.0.9 - - [26/Nov/2026:03:06:21 +0000] "GET /a/b?x=1 HTTP/1.1" 200 345 "http://from/" "curl/8.0" 42 "whoami@swarm" "http://10.0.1.5:80" 12ms',
    );
    assert.equal(
      formatAccessLog(entry({ referer: '', userAgent: '', router: '', serviceUrl: '', status: 404, size: 19 }), 'common'),
      '10.0.0.9 - - [26/Nov/2026:03:06:21 +0000] "GET /a/b?x=1 HTTP/1.1" 404 19 "-" "-" 42 "-" "-" 12ms',
    );
  });

  test('generic CLF stops after the user agent', () => {
    assert.equal(formatAccessLog(entry(), 'genericCLF'), '10.0.0.9 - - [26/Nov/2026:03:06:21 +0000] "GET /a/b?x=1 HTTP/1.1" 200 345 "http://from/" "curl/8.0"');
  });

  test('JSON: field names, nanoseconds, host and port split', () => {
    const o = JSON.parse(formatAccessLog(entry(), 'json', Date.UTC(2026, 10, 26, 3, 6, 22))) as Record<string, unknown>;
    assert.equal(o.Duration, 12_700_000);
    assert.equal(o.OriginDuration, 10_200_000);
    assert.equal(o.Overhead, 2_500_000);
    assert.equal(o.RequestHost, 'whoami.localhost');
    assert.equal(o.RequestPort, '8000');
    assert.equal(o.RequestAddr, 'whoami.localhost:8000');
    assert.equal(o.StartUTC, '2026-11-26T03:06:21.14325Z');
    assert.equal(o.DownstreamStatus, 200);
    assert.equal(o.OriginStatus, 200);
    assert.equal(o.OriginContentSize, 345);
    assert.equal(o.RequestCount, 42);
    assert.equal(o.entryPointName, 'web');
    assert.equal(o.ClientUsername, '-');
    assert.equal(o.level, 'info');
    assert.ok(Object.keys(o).indexOf('ClientAddr') < Object.keys(o).indexOf('time'));
    const v6 = JSON.parse(formatAccessLog(entry({ host: '[::1]:8080', originDurationMs: -1, originStatus: 0, router: '', service: '' }), 'json')) as Record<string, unknown>;
    assert.equal(v6.RequestHost, '::1');
    assert.equal(v6.RequestPort, '8080');
    assert.equal(v6.OriginStatus, undefined);
    assert.equal(v6.RouterName, undefined);
    assert.equal(v6.Overhead, v6.Duration);
    const bare = JSON.parse(formatAccessLog(entry({ host: 'example.com' }), 'json')) as Record<string, unknown>;
    assert.equal(bare.RequestPort, '-');
  });

  test('the worker buffer sends whole batches of lines', async () => {
    const sent: [string, number][] = [];
    const b = new AccessLogBuffer('genericCLF', (text, lines) => sent.push([text, lines]), 3, 10_000);
    b.add(entry());
    b.add(entry());
    assert.equal(sent.length, 0, 'nothing sent on the request path');
    b.add(entry());
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 1);
    assert.equal(sent[0][1], 3);
    assert.equal(sent[0][0].split('\n').length, 4, 'three lines, each ending in a newline');
    b.add(entry());
    b.stop();
    assert.equal(sent.length, 2);
    assert.equal(sent[1][1], 1);
  });
});

describe("portero's own log, common format", () => {
  test('time, level tag, message, fields', () => {
    const line = commonLogLine(JSON.stringify({ level: 50, time: Date.UTC(2026, 10, 26, 3, 6, 21, 500), pid: 1, hostname: 'h', msg: 'cannot load', provider: 'file', count: 3, err: { type: 'Error', message: 'bad thing', stack: 'Error: bad thing\n  at x' } }));
    assert.equal(line, '2026-11-26T03:06:21Z ERR cannot load provider=file count=3 err="bad thing"');
    assert.equal(commonLogLine(JSON.stringify({ level: 30, time: 0, msg: 'x', entryPoints: ['web=:80'], name: 'two words' })), '1970-01-01T00:00:00Z INF x entryPoints=["web=:80"] name="two words"');
  });
});
