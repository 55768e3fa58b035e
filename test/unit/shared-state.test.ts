import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceTraffic } from '../../src/metrics/service-traffic.js';
import { createStateBuffer, SERVER_WORDS, SERVICE_ERRORS, SERVICE_REQUESTS, SERVICE_WORDS, SharedState } from '../../src/shared/shared-state.js';
import type { ServiceSpec } from '../../src/table/spec.js';

const layout = { maxServers: 4, maxServices: 4 };
const spec = (rr: number): ServiceSpec => ({ kind: 'lb', name: `s${rr}`, servers: [], transport: null, passHostHeader: true, rr, order: [], passive: null, sticky: null, pipelining: null });

test('service traffic: counts requests and 5xx exactly, across the 32-bit wrap', () => {
  const state = new SharedState(createStateBuffer(layout), layout);
  const traffic = new ServiceTraffic(state, () => [0, 1]);
  try {
    for (let i = 0; i < 5; i++) state.countRequest(1, i % 2 === 0);
    assert.deepEqual(traffic.read(spec(1)), { requests: 5, errors: 3 });
    assert.deepEqual(traffic.read(spec(0)), { requests: 0, errors: 0 });
    // Jump the raw words to just below 2^32, as after billions of requests.
    const base = layout.maxServers * SERVER_WORDS + 1 * SERVICE_WORDS;
    Atomics.store(state.words, base + SERVICE_REQUESTS, -2); // 0xfffffffe
    Atomics.store(state.words, base + SERVICE_ERRORS, -1);
    const before = traffic.read(spec(1));
    for (let i = 0; i < 4; i++) state.countRequest(1, true);
    const after = traffic.read(spec(1));
    assert.equal(after.requests - before.requests, 4, 'the wrap is counted as 4 more requests');
    assert.equal(after.errors - before.errors, 4);
  } finally {
    traffic.stop();
  }
});

test('service traffic: a slot given to another service starts from zero', () => {
  const state = new SharedState(createStateBuffer(layout), layout);
  const traffic = new ServiceTraffic(state, () => [2]);
  try {
    for (let i = 0; i < 7; i++) state.countRequest(2, false);
    assert.equal(traffic.read(spec(2)).requests, 7);
    state.resetService(2);
    state.countRequest(2, true);
    assert.deepEqual(traffic.read(spec(2)), { requests: 1, errors: 1 });
    assert.equal(state.nextRoundRobin(2), 0, 'the reset also restarts round robin');
  } finally {
    traffic.stop();
  }
});

test('passive health: maxFails failures within the window take a server out for the window', async () => {
  const state = new SharedState(createStateBuffer(layout), layout);
  const limits = { windowDs: 2, maxFails: 2 };
  assert.equal(state.isUp(1), true);
  assert.equal(state.recordFailure(1, limits), false, 'one failure of two');
  assert.equal(state.isUp(1), true);
  assert.equal(state.recordFailure(1, limits), true, 'the second takes it out');
  assert.equal(state.isUp(1), false);
  assert.ok(state.outUntil(1) > 0);
  assert.equal(state.isUp(0), true, 'other servers are unaffected');
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(state.isUp(1), true, 'back once the window is over');
  state.recordFailure(1, limits);
  state.resetServer(1);
  assert.equal(state.recordFailure(1, limits), false, 'a reset slot starts counting again');
});
