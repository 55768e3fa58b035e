// The poll's raw GET: an answer byte for byte the previous one is reported
// unchanged (null) without being kept; any difference, anywhere in any chunk,
// or a different length, gives the whole new body.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RawDockerGet } from '../../src/providers/swarm/raw-get.js';

let body: Buffer = Buffer.alloc(0);
let status = 200;
const server = http.createServer((_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  // Several writes, so the client sees several chunks.
  for (let i = 0; i < body.length; i += 100_000) res.write(body.subarray(i, i + 100_000));
  res.end();
});
let raw: RawDockerGet;

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  raw = new RawDockerGet({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, protocol: 'http' }, 5000);
});

after(() => {
  raw.close();
  server.close();
});

test('unchanged answers are null; a change anywhere, or another length, gives the new body whole', async () => {
  body = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `task-${i}` }))));
  const first = await raw.get('/tasks');
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
  status = 500;
  body = Buffer.from('{"message":"boom"}');
  await assert.rejects(raw.get('/tasks', body), /HTTP 500: \{"message":"boom"\}/);
  status = 200;
});
