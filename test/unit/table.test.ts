import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createTableBuffer, TableReader, TableTooLargeError, TableWriter } from '../../src/shared/shared-table.js';

const text = (v: { bytes: Uint8Array } | null | undefined) => (v == null ? undefined : new TextDecoder().decode(v.bytes));

test('a reader sees nothing new until a version is published', () => {
  const sab = createTableBuffer(1024);
  const w = new TableWriter(sab);
  const r = new TableReader(sab);
  assert.equal(r.read(), null);
  assert.equal(r.changed(), false);
  w.publish('{"a":1}');
  assert.equal(r.changed(), true);
  const v = r.read();
  assert.equal(v?.generation, 1);
  assert.equal(text(v), '{"a":1}');
  assert.equal(r.read(), null);
  w.publish('x');
  w.publish('y');
  assert.equal(text(r.read()), 'y', 'a reader skips straight to the newest version');
});

test('an oversized table is refused and the previous one stays', () => {
  assert.throws(() => new TableWriter(createTableBuffer(4)).publish('ééé'), TableTooLargeError, 'the size is counted in UTF-8 bytes');
  const sab = createTableBuffer(8);
  const w = new TableWriter(sab);
  const r = new TableReader(sab);
  w.publish('12345678');
  assert.throws(() => w.publish('123456789'), TableTooLargeError);
  assert.equal(text(r.read()), '12345678');
});

test('workers never see a half-written table while thousands of versions are published', async () => {
  const sab = createTableBuffer(256 * 1024);
  const stop = new SharedArrayBuffer(4);
  const writer = new TableWriter(sab);
  const url = new URL('../helpers/table-reader-worker.js', import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { workerData: { sab, stop } }));
  const results = workers.map((w) => new Promise<{ reads: number; torn: number; backwards: number; last: number }>((res) => w.once('message', res)));
  await new Promise((r) => setTimeout(r, 100));
  const versions = 5000;
  for (let n = 1; n <= versions; n++) {
    // Sizes vary so that a torn read mixes lengths and fill digits.
    const check = 100 + ((n * 7919) % 50_000);
    writer.publish(JSON.stringify({ n, fill: String(n % 10).repeat(check), check }));
    if (n % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  Atomics.store(new Int32Array(stop), 0, 1);
  const out = await Promise.all(results);
  for (const o of out) {
    assert.equal(o.torn, 0, 'no torn read');
    assert.equal(o.backwards, 0, 'versions only move forward');
    assert.equal(o.last, versions, 'the last version is seen');
    assert.ok(o.reads > 10, `reads happened: ${o.reads}`);
  }
});
