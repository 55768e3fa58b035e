// A seeded chaos run: for CHAOS_SECONDS, clients that misbehave at random
// (aborts at random byte offsets, pipelining, trickled bodies, half heads,
// early-answer routes, slow readers) against a backend that misbehaves at
// random (early answers, resets, stalls, garbage, truncated bodies), next to
// bystanders on every worker. Whatever the mix, the bystanders lose nothing,
// no worker restarts, no request hits an internal error, no pooled upstream
// socket is paused or carries a request, and memory comes back.
//
// The seed is printed; PORTERO_CHAOS_SEED=<n> replays a run.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { startBystanders } from '../helpers/bystanders.js';
import { freePort, startPortero } from '../helpers/portero.js';
import { get, RawClient } from '../helpers/raw-client.js';
import { writeBytes } from '../helpers/streams.js';

const CHAOS_SECONDS = Number(process.env.PORTERO_CHAOS_SECONDS ?? 40);
const CLIENTS = 16;
/** Longest any one chaos client may take before it gives up (a hang would show as a bystander failure anyway). */
const CLIENT_DEADLINE_MS = 8000;
const KiB = 1024;
const FILL = Buffer.alloc(512 * KiB, 120);

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The misbehaving backend: what it does to each request is drawn from `rand`. */
function chaosBackend(rand: () => number): http.Server {
  return http.createServer((req, res) => {
    const socket = req.socket;
    const r = rand();
    if (r < 0.35) {
      // Well-behaved: read the body, answer with a body of random size.
      req.resume();
      req.on('end', () => res.end(FILL.subarray(0, Math.floor(rand() * 64 * KiB))));
    } else if (r < 0.45) {
      // Early answer, the body unread.
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('unauthorized');
    } else if (r < 0.55) {
      setTimeout(() => socket.resetAndDestroy(), Math.floor(rand() * 50));
    } else if (r < 0.62) {
      // Stall, then answer.
      req.resume();
      setTimeout(() => res.end('late'), 300 + Math.floor(rand() * 1200));
    } else if (r < 0.68) {
      socket.write('HTXP/9.9 what is this\r\n\r\n');
      setTimeout(() => socket.destroy(), 200);
    } else if (r < 0.76) {
      // Promises more than it sends.
      req.resume();
      res.writeHead(200, { 'content-length': '100000' });
      res.write(FILL.subarray(0, 1000));
      setTimeout(() => socket.destroy(), Math.floor(rand() * 100));
    } else if (r < 0.88) {
      // Chunked, in pieces over time.
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 1 + Math.floor(rand() * 5);
      const tick = () => {
        if (res.destroyed) return;
        if (n-- === 0) return void res.end('end');
        res.write(FILL.subarray(0, Math.floor(rand() * 32 * KiB) + 1));
        setTimeout(tick, Math.floor(rand() * 100));
      };
      tick();
    } else {
      // A large body for slow readers and aborted downloads.
      req.resume();
      const total = 512 * KiB + Math.floor(rand() * 1024 * KiB);
      res.writeHead(200, { 'content-length': String(total) });
      writeBytes(res, total, FILL);
    }
  });
}

/** Runs one misbehaving client to its end (or its deadline). */
async function chaosClient(port: number, rand: () => number): Promise<void> {
  const hosts = ['chaos', 'chaos', 'chaos', 'none', 'refused'];
  const host = hosts[Math.floor(rand() * hosts.length)];
  const c = await RawClient.open(port);
  const deadline = setTimeout(() => c.destroy(), CLIENT_DEADLINE_MS);
  try {
    const kind = Math.floor(rand() * 9);
    const size = Math.floor(rand() * 300 * KiB);
    const chunked = rand() < 0.4;
    const expect = rand() < 0.3 ? 'Expect: 100-continue\r\n' : '';
    const head = `POST /x HTTP/1.1\r\nHost: ${host}\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n${expect}\r\n`;
    const body = (n: number) => (chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), FILL.subarray(0, n), Buffer.from('\r\n')]) : FILL.subarray(0, n));
    switch (kind) {
      case 0: // plain GETs on one connection
        for (let i = 0; i < 3 && !c.closed; i++) await get(c, host, `/get-${i}`, CLIENT_DEADLINE_MS);
        break;
      case 1: // a whole upload
        c.write(head);
        if (size > 0) c.write(body(size));
        if (chunked) c.write('0\r\n\r\n');
        await c.read(CLIENT_DEADLINE_MS);
        break;
      case 2: {
        // abort mid-upload at a random byte offset, sometimes with a reset
        c.write(head);
        c.write(body(Math.floor(rand() * size)));
        await sleep(Math.floor(rand() * 50));
        if (rand() < 0.5) c.socket.resetAndDestroy();
        else c.destroy();
        break;
      }
      case 3: // abort mid-download
        c.write(`GET /download HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        await sleep(Math.floor(rand() * 100));
        if (rand() < 0.5) c.socket.resetAndDestroy();
        else c.destroy();
        break;
      case 4: // pipelined requests in one write
        c.write(`GET /p1 HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /p2 HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        await c.read(CLIENT_DEADLINE_MS);
        break;
      case 5: {
        // a very slow body: 100 bytes every 100 ms, then finished or dropped
        const total = 100 * (1 + Math.floor(rand() * 15));
        c.write(head.replace(/Content-Length: \d+/, `Content-Length: ${total}`));
        for (let sent = 0; sent < total && !c.closed; sent += 100) {
          c.write(chunked ? body(100) : FILL.subarray(0, 100));
          await sleep(100);
        }
        if (rand() < 0.3) break;
        if (chunked) c.write('0\r\n\r\n');
        await c.read(CLIENT_DEADLINE_MS);
        break;
      }
      case 6: // half a head, then gone
        c.write(`GET /half HTTP/1.1\r\nHo`);
        await sleep(Math.floor(rand() * 50));
        c.destroy();
        break;
      case 7: {
        // a slow reader: stops reading for a second
        c.socket.pause();
        c.write(`GET /slow HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        await sleep(1000);
        c.socket.resume();
        await c.read(CLIENT_DEADLINE_MS);
        break;
      }
      default: // garbage
        c.write('\x00\x01 NOT HTTP \r\n\r\n');
        await c.waitClosed(1000);
    }
  } catch {
    // Any answer, a close or a reset is fine for a misbehaving client: the invariants are about everyone else.
  } finally {
    clearTimeout(deadline);
    c.destroy();
  }
}

test(`chaos: ${CHAOS_SECONDS} s of misbehaving clients and backends; bystanders lose nothing`, async (t) => {
  const seed = process.env.PORTERO_CHAOS_SEED !== undefined ? Number(process.env.PORTERO_CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`chaos seed ${seed} (replay: PORTERO_CHAOS_SEED=${seed})`);
  const rand = prng(seed);
  const good = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const chaos = chaosBackend(prng(seed ^ 0x5bd1e995));
  await new Promise<void>((r) => good.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => chaos.listen(0, '127.0.0.1', r));
  const url = (s: net.Server) => `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  const p = await startPortero(
    {
      http: {
        routers: {
          by: { rule: 'Host(`by`)', service: 'by' },
          chaos: { rule: 'Host(`chaos`)', service: 'chaos' },
          none: { rule: 'Host(`none`)', service: 'none' },
          refused: { rule: 'Host(`refused`)', service: 'refused' },
        },
        services: {
          by: { loadBalancer: { servers: [{ url: url(good) }] } },
          chaos: { loadBalancer: { servers: [{ url: url(chaos) }] } },
          none: { loadBalancer: { servers: [] } },
          refused: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${await freePort()}` }] } },
        },
        middlewares: {},
      },
    },
    { workers: 2 },
  );
  try {
    const bystanders = await startBystanders(p.webPort, { host: 'by', expect: 'ok', workers: 2 });
    await sleep(1000);
    const rssStart = process.memoryUsage().rss;
    const end = Date.now() + CHAOS_SECONDS * 1000;
    // Heaps grow while they warm up; after a third of the run memory must stay level.
    let rssWarm = 0;
    const warm = setTimeout(() => (rssWarm = process.memoryUsage().rss), (CHAOS_SECONDS * 1000) / 3);
    let clients = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < end) {
          clients++;
          await chaosClient(p.webPort, rand);
        }
      }),
    );
    // In-flight exchanges settle (stalled backends answer within 1.5 s).
    let stats = await p.portero.supervisor.poolStats();
    for (let i = 0; i < 50 && stats.some((s) => s.inflight > 0); i++) {
      await sleep(100);
      stats = await p.portero.supervisor.poolStats();
    }
    clearTimeout(warm);
    const report = await bystanders.stop();
    const rssEnd = process.memoryUsage().rss;
    const why = `seed ${seed}, ${clients} chaos clients`;
    assert.deepEqual(report.failures, [], why);
    assert.ok(report.perConnection.every((n) => n > 0), `${why}: every bystander connection was served: ${report.perConnection.join(',')}`);
    assert.ok(clients > CLIENTS, why);
    assert.equal(p.portero.supervisor.restarts, 0, why);
    assert.equal(p.portero.publisher.state.internalErrors(), 0, why);
    for (const s of stats) {
      assert.equal(s.inflight, 0, `${why}: ${JSON.stringify(s)}`);
      assert.equal(s.idleBusy, 0, `${why}: ${JSON.stringify(s)}`);
    }
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    t.diagnostic(`${clients} chaos clients, ${report.requests} bystander requests, RSS ${mib(rssStart)} at start, ${mib(rssWarm)} warm, ${mib(rssEnd)} at the end`);
    // Everything (portero's threads, backends, clients) shares this process;
    // thousands of requests leaking a little each would keep it climbing.
    assert.ok(rssEnd - rssWarm < 48 * 2 ** 20, `${why}: RSS went on growing after warm-up: ${mib(rssWarm)} -> ${mib(rssEnd)}`);
    assert.ok(rssEnd - rssStart < 160 * 2 ** 20, `${why}: RSS ${mib(rssStart)} -> ${mib(rssEnd)}`);
  } finally {
    await p.stop();
    good.close();
    chaos.close();
  }
});
