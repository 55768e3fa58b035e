import assert from 'node:assert/strict';
import { test } from 'node:test';
import { weightedOrder } from '../../src/balancer/wrr.js';
import { SlotAllocator } from '../../src/shared/slots.js';

test('equal weights rotate in order', () => {
  assert.deepEqual(weightedOrder([1, 1, 1, 1]), [0, 1, 2, 3]);
});

test('weights are honoured and spread out (smooth weighted round robin)', () => {
  assert.deepEqual(weightedOrder([5, 1, 1]), [0, 0, 1, 0, 2, 0, 0]);
  const order = weightedOrder([3, 1]);
  assert.equal(order.filter((i) => i === 0).length, 3);
  assert.equal(order.filter((i) => i === 1).length, 1);
});

test('weights are reduced by their gcd; zero weights never appear', () => {
  assert.deepEqual(weightedOrder([2, 2]), [0, 1]);
  assert.deepEqual(weightedOrder([0, 3]), [1]);
  assert.deepEqual(weightedOrder([0, 0]), []);
  assert.deepEqual(weightedOrder([]), []);
});

test('huge weights keep a bounded period with proportions kept', () => {
  const order = weightedOrder([1_000_000, 999_999, 1]);
  assert.ok(order.length <= 10_010);
  assert.ok(order.includes(2));
});

test('slots are stable across assignments and reused only when quiet', () => {
  const busy = new Set<number>();
  const alloc = new SlotAllocator(3, (s) => !busy.has(s));
  const a = alloc.assign(['a', 'b']);
  assert.deepEqual([a.get('a'), a.get('b')], [0, 1]);
  busy.add(0);
  const b = alloc.assign(['b', 'c']);
  assert.equal(b.get('b'), 1);
  assert.equal(b.get('c'), 2);
  assert.throws(() => alloc.assign(['b', 'c', 'd']), /no free slot/);
  busy.delete(0);
  const c = alloc.assign(['b', 'c', 'd']);
  assert.equal(c.get('d'), 0);
});
