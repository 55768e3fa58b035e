// Upstream pipelining (--serversTransport.pipelining): bodiless GETs share
// upstream connections, and every way a server can get pipelining wrong costs
// no client its answer, and never gives one client another's.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startBystanders } from '../helpers/bystanders.js';
import { startPipelineServer, type PipelineServer, type PipelineServerOptions } from '../helpers/pipeline-server.js';
import { simpleConfig, startPortero, type TestPortero } from '../helpers/portero.js';
import { get, RawClient, type RawResponse } from '../helpers/raw-client.js';

const HOST = 'pipe.test';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(server: PipelineServerOptions, depth = 8): Promise<{ backend: PipelineServer; p: TestPortero; logs: string[] }> {
  const backend = await startPipelineServer(server);
  const logs: string[] = [];
  const p = await startPortero(simpleConfig(`Host(\`${HOST}\`)`, [`http://127.0.0.1:${backend.port}`]), {
    logs,
    tweak: (c) => (c.serversTransport.pipelining = depth),
  });
  cleanups.push(() => backend.close(), () => p.stop());
  return { backend, p, logs };
}

/** `clients` connections, each sending `each` GETs one after another; returns every answer's body by the path asked. */
async function load(port: number, clients: number, each: number): Promise<{ asked: string; got: string; status: number }[]> {
  const conns = await Promise.all(Array.from({ length: clients }, () => RawClient.open(port)));
  const seen: { asked: string; got: string; status: number }[] = [];
  await Promise.all(
    conns.map(async (c, i) => {
      for (let j = 0; j < each; j++) {
        const asked = `/c${i}/r${j}`;
        const r = await get(c, HOST, asked, 10_000);
        seen.push({ asked, got: r.body.toString(), status: r.status });
      }
    }),
  );
  for (const c of conns) c.destroy();
  return seen;
}

function assertEachOwnAnswer(seen: { asked: string; got: string; status: number }[], count: number): void {
  assert.equal(seen.length, count);
  for (const s of seen) assert.deepEqual({ status: s.status, got: s.got }, { status: 200, got: s.asked }, `answer to ${s.asked}`);
}

/** One request first, so the next ones find an idle connection to pipeline on. */
async function warm(port: number): Promise<void> {
  const c = await RawClient.open(port);
  assert.equal((await get(c, HOST, '/warm')).status, 200);
  c.destroy();
}

test('bodiless GETs are pipelined on a few connections, and every client gets its own answer', async () => {
  // Answers 5 ms apart keep requests waiting, so the ones that arrive meanwhile queue behind them.
  const { backend, p, logs } = await setup({ delayMs: () => 5 });
  const seen = await load(p.webPort, 24, 10);
  assertEachOwnAnswer(seen, 240);
  assert.ok(backend.maxPerRead >= 2, `requests came pipelined (at most ${backend.maxPerRead} per read)`);
  assert.ok(backend.connections < 24, `fewer connections than clients (${backend.connections})`);
  assert.deepEqual(logs, []);
});

test('off by default: one request per connection at a time', async () => {
  const { backend, p } = await setup({ delayMs: () => 5 }, 0);
  assertEachOwnAnswer(await load(p.webPort, 8, 5), 40);
  assert.equal(backend.maxPerRead, 1);
});

for (const [what, after] of [
  ['resets its connection after 2 answers', { answers: 2, then: 'reset' }],
  ['closes its connection after 3 answers without saying so', { answers: 3, then: 'close' }],
] as const) {
  test(`a server that ${what} mid-queue: the unanswered requests are sent again, none is lost, and pipelining to it stops`, async () => {
    const { p, logs } = await setup({ delayMs: () => 2, after });
    assertEachOwnAnswer(await load(p.webPort, 16, 6), 96);
    assert.ok(
      logs.some((l) => l.includes('does not pipeline')),
      logs.join('\n'),
    );
  });
}

test('a slow answer at the head: the requests queued behind it move to their own connection and are answered first', async () => {
  const { backend, p } = await setup({ delayMs: (path) => (path === '/slow' ? 1500 : 0) });
  await warm(p.webPort);
  const order: string[] = [];
  const slowClient = await RawClient.open(p.webPort);
  const slow = get(slowClient, HOST, '/slow', 10_000).then((r) => (order.push('/slow'), r));
  await new Promise((r) => setTimeout(r, 20));
  const fastClients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open(p.webPort)));
  const fast = fastClients.map((c, i) => get(c, HOST, `/fast${i}`, 10_000).then((r) => (order.push(`/fast${i}`), r)));
  const answers = await Promise.all([slow, ...fast]);
  assert.deepEqual(
    answers.map((r) => r.body.toString()),
    ['/slow', '/fast0', '/fast1', '/fast2', '/fast3'],
  );
  assert.equal(order.at(-1), '/slow', `order of answers: ${order.join(' ')}`);
  assert.ok(backend.maxPerRead >= 2 || backend.requests > 6, 'the fast requests first queued behind the slow one');
  for (const c of [slowClient, ...fastClients]) c.destroy();
});

test('a client that goes away while queued, and one that stops reading at the head, cost the others nothing', async () => {
  const { p } = await setup({ delayMs: (path) => (path === '/head' ? 40 : 0) });
  await warm(p.webPort);
  const bystanders = await startBystanders(p.webPort, { host: HOST, workers: 1, pauseMs: 5 });
  // A head, two requests queued behind it, and the first of those leaves.
  const [a, b, c] = await Promise.all([RawClient.open(p.webPort), RawClient.open(p.webPort), RawClient.open(p.webPort)]);
  const head = get(a, HOST, '/head');
  await new Promise((r) => setTimeout(r, 5));
  b.write(`GET /leaves HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const third = get(c, HOST, '/stays');
  await new Promise((r) => setTimeout(r, 5));
  b.destroy();
  assert.equal((await head).body.toString(), '/head');
  assert.equal((await third).body.toString(), '/stays');
  // 8 MB that nobody reads: its upstream connection stops reading, and whatever queued behind moves.
  const reader = await RawClient.open(p.webPort);
  reader.socket.pause();
  reader.write(`GET /big HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const after = await load(p.webPort, 8, 5);
  assertEachOwnAnswer(after, 40);
  const report = await bystanders.stop();
  assert.deepEqual(report.failures, []);
  assert.ok(report.requests > 0);
  for (const x of [a, c, reader]) x.destroy();
});

test('a server that answers what was not asked is dropped from pipelining; no stray answer reaches a client', async () => {
  const { p, logs } = await setup({ stray: true });
  // One request at a time: the stray answer arrives when nothing is queued, so it can be told apart.
  const c = await RawClient.open(p.webPort);
  const seen: RawResponse[] = [];
  for (let i = 0; i < 6; i++) seen.push(await get(c, HOST, `/one${i}`));
  assert.deepEqual(
    seen.map((r) => r.body.toString()),
    ['/one0', '/one1', '/one2', '/one3', '/one4', '/one5'],
  );
  c.destroy();
  assert.ok(
    logs.some((l) => l.includes('does not pipeline')),
    logs.join('\n'),
  );
});

test('why pipelining is off by default: a server that answers out of order swaps answers between clients only when it is on', async () => {
  // HTTP/1.1 answers carry nothing that names their request: out of order cannot be detected, only avoided.
  for (const depth of [0, 8]) {
    const { p } = await setup({ reverseBatches: 2 }, depth);
    await warm(p.webPort);
    const [x, y] = await Promise.all([RawClient.open(p.webPort), RawClient.open(p.webPort)]);
    const [rx, ry] = await Promise.all([get(x, HOST, '/x'), get(y, HOST, '/y')]);
    const got = [rx.body.toString(), ry.body.toString()];
    if (depth === 0) assert.deepEqual(got, ['/x', '/y']);
    else assert.deepEqual(got, ['/y', '/x'], 'pipelined, the reversed answers went to each other');
    x.destroy();
    y.destroy();
  }
});

test('a servers transport turns pipelining on for the services that name it, and only for them', async () => {
  const piped = await startPipelineServer({ delayMs: () => 5 });
  const plain = await startPipelineServer({ delayMs: () => 5 });
  const p = await startPortero({
    http: {
      routers: { a: { rule: `Host(\`${HOST}\`)`, service: 'piped' }, b: { rule: 'Host(`plain.test`)', service: 'plain' } },
      services: {
        piped: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${piped.port}` }], serversTransport: 'pipelined' } },
        plain: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${plain.port}` }] } },
      },
      middlewares: {},
      serversTransports: { pipelined: { pipelining: 8 } },
    },
  }, { tweak: (c) => (c.serversTransport.pipelining = 0) });
  cleanups.push(() => piped.close(), () => plain.close(), () => p.stop());
  assertEachOwnAnswer(await load(p.webPort, 16, 5), 80);
  const conns = await Promise.all(Array.from({ length: 16 }, () => RawClient.open(p.webPort)));
  const answers = await Promise.all(conns.map((c, i) => get(c, 'plain.test', `/plain${i}`)));
  assert.deepEqual(
    answers.map((r) => r.body.toString()),
    conns.map((_, i) => `/plain${i}`),
  );
  for (const c of conns) c.destroy();
  assert.ok(piped.maxPerRead >= 2, `the transport's service was pipelined (${piped.maxPerRead} per read)`);
  assert.equal(plain.maxPerRead, 1);
});
