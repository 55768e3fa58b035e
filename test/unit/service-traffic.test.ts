import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceTraffic } from '../../src/metrics/service-traffic.js';
import { createStateBuffer, SERVER_WORDS, SERVICE_ERRORS, SERVICE_REQUESTS, SERVICE_WORDS, SharedState } from '../../src/table/shared-state.js';
import type { ServiceSpec } from '../../src/table/spec.js';

const layout = { maxServers: 4, maxServices: 4 };
const spec = (rr: number): ServiceSpec => ({ kind: 'lb', name: `s${rr}`, servers: [], passHostHeader: true, rr, order: [] });

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
