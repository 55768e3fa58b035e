// The shared request counters: exact under concurrent writers, cells claimed
// once, per-scope reset, histogram buckets; and the exposition helpers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { escapeLabel, labels, withLe } from '../../src/metrics/exposition.js';
import {
  createCountersBuffer,
  defaultCellCount,
  METHOD_LABELS,
  METHOD_OTHER,
  methodClass,
  SharedCounters,
  type CountersLayout,
} from '../../src/metrics/shared-counters.js';

const layout: CountersLayout = { entryPoints: 2, maxServices: 64, workers: 3, cells: 4096, buckets: [0.1, 0.3, 1.2, 5] };

function make(l: CountersLayout = layout): SharedCounters {
  return new SharedCounters(createCountersBuffer(l), l);
}

describe('shared counters', () => {
  test('method classes', () => {
    assert.equal(METHOD_LABELS[methodClass('GET')], 'GET');
    assert.equal(METHOD_LABELS[methodClass('TRACE')], 'TRACE');
    assert.equal(methodClass('PROPFIND'), METHOD_OTHER);
    assert.equal(METHOD_LABELS[METHOD_OTHER], 'other');
    assert.equal(methodClass('get'), METHOD_OTHER, 'methods are case-sensitive');
  });

  test('buckets are upper bounds, inclusive', () => {
    const c = make();
    assert.equal(c.bucketOf(0), 0);
    assert.equal(c.bucketOf(100_000), 0, '0.1 s exactly is in le=0.1');
    assert.equal(c.bucketOf(100_001), 1);
    assert.equal(c.bucketOf(5_000_000), 3);
    assert.equal(c.bucketOf(5_000_001), 4, 'above the largest bound: +Inf only');
  });

  test('cells per scope, method and code; reads sum the buckets', () => {
    const c = make();
    const web = c.entryPointScope(0);
    c.observe(web, methodClass('GET'), 200, c.bucketOf(1000), 1000n);
    c.observe(web, methodClass('GET'), 200, c.bucketOf(400_000), 400_000n);
    c.observe(web, methodClass('POST'), 502, c.bucketOf(10), 10n);
    c.observe(c.serviceScope(5), methodClass('GET'), 200, 0, 7n);
    const cells = c.read(web).sort((a, b) => a.method - b.method);
    assert.equal(cells.length, 2);
    assert.deepEqual(
      cells.map((x) => [METHOD_LABELS[x.method], x.code, x.count, x.sumMicros, x.buckets]),
      [
        ['GET', 200, 2n, 401_000n, [1n, 0n, 1n, 0n, 0n]],
        ['POST', 502, 1n, 10n, [1n, 0n, 0n, 0n, 0n]],
      ],
    );
    assert.equal(c.read(c.entryPointScope(1)).length, 0);
    assert.equal(c.read(c.serviceScope(5))[0].count, 1n);
    assert.equal(c.read(c.serviceScope(4)).length, 0);
  });

  test('resetService zeroes one slot (counts and retries) and nothing else', () => {
    const c = make();
    c.observe(c.serviceScope(3), 0, 200, 0, 5n);
    c.observe(c.serviceScope(3), 0, 404, 0, 5n);
    c.observe(c.serviceScope(4), 0, 200, 0, 5n);
    c.observe(c.entryPointScope(0), 0, 200, 0, 5n);
    c.addRetries(3, 2);
    c.addRetries(4, 1);
    c.resetService(3);
    assert.deepEqual(c.read(c.serviceScope(3)), []);
    assert.equal(c.retriesOf(3), 0n);
    assert.equal(c.read(c.serviceScope(4))[0].count, 1n);
    assert.equal(c.retriesOf(4), 1n);
    assert.equal(c.read(c.entryPointScope(0))[0].count, 1n);
    // The slot counts again from zero.
    c.observe(c.serviceScope(3), 0, 200, 0, 5n);
    assert.equal(c.read(c.serviceScope(3))[0].count, 1n);
  });

  test('in-flight requests per worker row; a restarted worker clears its row', () => {
    const c = make();
    c.addOpen(0, 1, 1);
    c.addOpen(1, 1, 1);
    c.addOpen(1, 1, 1);
    c.addOpen(2, 0, 1);
    assert.equal(c.openRequests(1), 3);
    assert.equal(c.openRequests(0), 1);
    c.resetWorker(1);
    assert.equal(c.openRequests(1), 1);
  });

  test('a full table drops observations and counts them', () => {
    const tiny: CountersLayout = { ...layout, cells: 2 };
    const c = make(tiny);
    c.observe(0, 0, 200, 0, 1n);
    c.observe(0, 0, 201, 0, 1n);
    c.observe(0, 0, 202, 0, 1n);
    assert.equal(c.read(0).length, 2);
    assert.equal(c.dropped(), 1n);
  });

  test('request numbers are consecutive', () => {
    const c = make();
    assert.deepEqual([c.nextRequestNumber(), c.nextRequestNumber(), c.nextRequestNumber()], [1, 2, 3]);
    assert.equal(c.requestsReceived(), 3n);
  });

  test('table size follows the service slots', () => {
    assert.equal(defaultCellCount(16), 4096);
    assert.equal(defaultCellCount(65536), 262144);
    assert.equal(defaultCellCount(1 << 20), 1 << 20);
  });

  test('three threads counting the same and new cells at once add up exactly', async () => {
    const l: CountersLayout = { ...layout, cells: 1024 };
    const sab = createCountersBuffer(l);
    const url = new URL('../../src/metrics/shared-counters.js', import.meta.url).href;
    const perThread = 60_000;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.url).then(({ SharedCounters }) => {
        const c = new SharedCounters(workerData.sab, workerData.layout);
        for (let i = 0; i < workerData.n; i++) {
          // 2 entry points x 3 methods x 50 codes: many cells created concurrently.
          const scope = c.entryPointScope(i % 2);
          c.observe(scope, i % 3, 200 + (i % 50), c.bucketOf(i % 7 === 0 ? 2_000_000 : 10), 3n);
          c.observe(c.serviceScope(i % 64), 0, 200, 0, 1n);
          c.addOpen(workerData.id, 0, 1);
          c.addOpen(workerData.id, 0, -1);
        }
        parentPort.postMessage('done');
      });`;
    await Promise.all(
      [0, 1, 2].map(
        (id) =>
          new Promise<void>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { url, sab, layout: l, n: perThread, id } });
            w.once('message', () => void w.terminate().then(() => resolve()));
            w.once('error', reject);
          }),
      ),
    );
    const c = new SharedCounters(sab, l);
    let count = 0n;
    let sum = 0n;
    let cells = 0;
    const seen = new Set<string>();
    for (const ep of [0, 1]) {
      for (const cell of c.read(c.entryPointScope(ep))) {
        const key = `${ep}/${cell.method}/${cell.code}`;
        assert.ok(!seen.has(key), `one cell per key: ${key}`);
        seen.add(key);
        cells++;
        count += cell.count;
        sum += cell.sumMicros;
        assert.equal(cell.count, cell.buckets.reduce((a, b) => a + b, 0n));
      }
    }
    assert.equal(cells, 150, "i mod 150 picks the (entry point, method, code) triple");
    assert.equal(count, BigInt(3 * perThread), 'every observation counted once');
    assert.equal(sum, BigInt(3 * perThread) * 3n);
    let services = 0n;
    for (let s = 0; s < 64; s++) for (const cell of c.read(c.serviceScope(s))) services += cell.count;
    assert.equal(services, BigInt(3 * perThread));
    assert.equal(c.openRequests(0), 0);
    assert.equal(c.dropped(), 0n);
  });
});

describe('Prometheus exposition helpers', () => {
  test('label values are escaped; le goes last', () => {
    assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    const set = labels(['code', '200'], ['service', 'we"ird']);
    assert.equal(set, '{code="200",service="we\\"ird"}');
    assert.equal(withLe(set, '0.1'), '{code="200",service="we\\"ird",le="0.1"}');
    assert.equal(withLe('', '+Inf'), '{le="+Inf"}');
  });
});
