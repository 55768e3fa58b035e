// The poll's raw GETs (RawDockerGet: node's http client, for followed
// services and TLS endpoints; DockerListReader: a reused read buffer, for the
// full poll's lists): an answer byte for byte the previous one is reported
// unchanged (null) without being kept; any difference, anywhere in any chunk,
// or a different length, gives the whole new body.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerListReader } from '../../src/providers/swarm/list-reader.js';
import { RawDockerGet, type ComparingGet } from '../../src/providers/swarm/raw-get.js';

let body: Buffer = Buffer.alloc(0);
let status = 200;
/** Send a Content-Length instead of chunks. */
let withLength = false;
const server = http.createServer((_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...(withLength ? { 'content-length': body.length } : {}) });
  // Several writes, so the client sees several chunks.
  for (let i = 0; i < body.length; i += 100_000) res.write(body.subarray(i, i + 100_000));
  res.end();
});
let port = 0;

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
});

const readers: [string, () => ComparingGet & { close?(): void }][] = [
  ['RawDockerGet', () => new RawDockerGet({ host: '127.0.0.1', port, protocol: 'http' }, 5000)],
  ['DockerListReader', () => new DockerListReader({ host: '127.0.0.1', port, protocol: 'http' }, 5000)],
];

for (const [name, make] of readers) {
  describe(name, () => {
    for (const length of [false, true]) {
      test(`unchanged answers are null; a change anywhere, or another length, gives the new body whole (${length ? 'Content-Length' : 'chunked'})`, async () => {
        const raw = make();
        withLength = length;
        try {
          body = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `task-${i}` }))));
          const first = await raw.get('/tasks', null);
          assert.ok(first !== null && first.equals(body));
          assert.equal(await raw.get('/tasks', first), null);
          for (const at of [0, 150_000, body.length - 1]) {
            const changed = Buffer.from(body);
            changed[at] = changed[at] === 0x31 ? 0x32 : 0x31;
            body = changed;
            const got = await raw.get('/tasks', first);
            assert.ok(got !== null && got.equals(changed), `a change at ${at}`);
            body = Buffer.from(first);
          }
          body = first.subarray(0, first.length - 10);
          assert.ok((await raw.get('/tasks', first))?.equals(body), 'shorter');
          body = Buffer.concat([first, Buffer.from(' ')]);
          assert.ok((await raw.get('/tasks', first))?.equals(body), 'longer');
          body = Buffer.alloc(0);
          assert.ok((await raw.get('/tasks', first))?.equals(body), 'empty');
          status = 500;
          body = Buffer.from('{"message":"boom"}');
          await assert.rejects(raw.get('/tasks', body), (err: Error & { statusCode?: number }) => err.statusCode === 500 && /HTTP 500: \{"message":"boom"\}/.test(err.message));
        } finally {
          status = 200;
          withLength = false;
          raw.close?.();
        }
      });
    }
  });
}

/** A server that answers every connection with `answer` (then closes, or not). */
async function rawServer(answer: (socket: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => answer(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    close: () => {
      for (const c of sockets) c.destroy();
      s.close();
    },
  };
}

describe('DockerListReader, what the engine or a proxy may do', () => {
  test('a body that ends when the connection closes (no length, not chunked)', async () => {
    const s = await rawServer((c) => c.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[{"ID":"a"},{"ID":"b"}]'));
    try {
      const reader = new DockerListReader({ host: '127.0.0.1', port: s.port, protocol: 'http' }, 5000);
      const got = await reader.get('/services', null);
      assert.equal(got?.toString(), '[{"ID":"a"},{"ID":"b"}]');
      assert.equal(await reader.get('/services', got), null);
    } finally {
      s.close();
    }
  });

  test('a connection cut in the middle of the body, a malformed answer and no answer at all are errors, never a short body', async () => {
    const cut = await rawServer((c) => c.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[{"ID":"a"}'));
    const bad = await rawServer((c) => c.end('HTTP/1.1 2OO OK\r\n\r\n'));
    const silent = await rawServer(() => undefined);
    try {
      await assert.rejects(new DockerListReader({ host: '127.0.0.1', port: cut.port }, 5000).get('/tasks', null), /GET \/tasks: .*closed/);
      await assert.rejects(new DockerListReader({ host: '127.0.0.1', port: bad.port }, 5000).get('/tasks', null), /GET \/tasks: /);
      const t0 = Date.now();
      await assert.rejects(new DockerListReader({ host: '127.0.0.1', port: silent.port }, 300).get('/tasks', null), /no answer within 300 ms/);
      assert.ok(Date.now() - t0 < 3000);
      await assert.rejects(new DockerListReader({ host: '127.0.0.1', port: 1 }, 5000).get('/tasks', null), /ECONNREFUSED/);
    } finally {
      cut.close();
      bad.close();
      silent.close();
    }
  });

  test('over a unix socket, as /var/run/docker.sock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portero-sock-'));
    const path = join(dir, 'docker.sock');
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, host: req.headers.host }));
    });
    await new Promise<void>((r) => s.listen(path, r));
    try {
      const got = await new DockerListReader({ socketPath: path }, 5000).get('/networks', null);
      assert.deepEqual(JSON.parse(got!.toString()), { path: '/networks', host: 'docker' });
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('several GETs at once share the read buffer without mixing their bodies', async () => {
    const bodies = ['a', 'b', 'c'].map((ch) => Buffer.alloc(700_000, ch));
    const s = http.createServer((req, res) => {
      const b = bodies[Number(req.url!.slice(1))]!;
      res.writeHead(200);
      for (let i = 0; i < b.length; i += 50_000) res.write(b.subarray(i, i + 50_000));
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const reader = new DockerListReader({ host: '127.0.0.1', port: (s.address() as AddressInfo).port }, 5000);
      const got = await Promise.all([0, 1, 2].map((i) => reader.get(`/${i}`, null)));
      got.forEach((g, i) => assert.ok(g!.equals(bodies[i]!), `body ${i}`));
      // Unchanged, while another changes: each compares with its own.
      const [x, y] = await Promise.all([reader.get('/0', got[0]!), reader.get('/1', got[2]!)]);
      assert.equal(x, null);
      assert.ok(y!.equals(bodies[1]!));
    } finally {
      s.close();
    }
  });
});
