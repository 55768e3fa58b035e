// WebSockets under load and abuse, with 2 workers: a thousand sessions lose
// no message; a client that stops reading pauses its server instead of
// filling portero's memory; a server that stops reading gets its client
// closed with 1013 once the backlog passes the bound; hostile handshakes and
// frames end their own connection only, while bystanders (HTTP keep-alive
// connections and WebSocket sessions on every worker) lose nothing; a server
// that leaves the configuration has its sessions closed with 1001 after the
// drain delay; and shutdown closes what is left with 1001.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { startBystanders } from '../helpers/bystanders.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';
import { closed, connect, echoServer, nextMessage, type EchoServer } from '../helpers/websocket.js';

const MiB = 1024 * 1024;
const LIMIT = 1 * MiB;
const DRAIN_DELAY_MS = 1500;

/** WebSocket bystanders: sessions that keep exchanging numbered messages and check every echo. */
async function wsBystanders(port: number, count: number): Promise<{ stop(): Promise<{ echoed: number; failures: string[] }> }> {
  const failures: string[] = [];
  let echoed = 0;
  let running = true;
  const sessions = await Promise.all(Array.from({ length: count }, () => connect(port, '/', { host: 'ws.test' }).then((r) => r.ws)));
  const loops = sessions.map(async (ws, i) => {
    ws.on('close', (code) => running && failures.push(`session ${i} closed with ${code}`));
    for (let n = 0; running; n++) {
      ws.send(`b${i}:${n}`);
      try {
        const m = await nextMessage(ws, 5000);
        if (m.data.toString() !== `b${i}:${n}`) failures.push(`session ${i}: got ${m.data.toString()} for b${i}:${n}`);
        else echoed++;
      } catch (err) {
        failures.push(`session ${i}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const ws of sessions) ws.close();
      return { echoed, failures };
    },
  };
}

/** A raw TCP client that sends a valid handshake for ws.test, then whatever the test wants. */
function rawHandshake(port: number, host = 'ws.test'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        s.off('data', onData);
        if (head.startsWith('HTTP/1.1 101')) resolve(s);
        else reject(new Error(`no 101: ${head.slice(0, 40)}`));
      }
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

/** Resolves when the server closes `s`. */
function socketClosed(s: net.Socket, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.destroyed) return resolve();
    const t = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('WebSockets under load and abuse', () => {
  let echo: EchoServer;
  let spare: EchoServer;
  let pusher: EchoServer;
  let sink: EchoServer;
  let slow: http.Server;
  let bystanderBackend: http.Server;
  let p: TestPortero;
  let config: (withSpare: boolean) => DynamicConfig;

  before(async () => {
    echo = await echoServer('echo');
    spare = await echoServer('spare');
    // Sends `n` messages of 64 KiB as fast as its socket takes them, when asked "push:<n>".
    pusher = await echoServer('pusher');
    pusher.wss.on('connection', (ws) =>
      ws.on('message', (d: Buffer) => {
        const n = Number(d.toString().split(':')[1]);
        for (let i = 0; i < n; i++) ws.send(Buffer.alloc(64 * 1024, i & 0xff));
      }),
    );
    // Never reads: its socket is paused as soon as the session opens.
    sink = await echoServer('sink');
    sink.wss.on('connection', (ws) => (ws as unknown as { _socket: net.Socket })._socket.pause());
    // Takes 3 s to answer a handshake: a client can leave before.
    slow = http.createServer();
    slow.on('upgrade', (_req, socket: net.Socket) => {
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 3000);
    });
    bystanderBackend = http.createServer((_req, res) => res.end('bystander'));
    const slowPort = await listenLocal(slow);
    const bystanderPort = await listenLocal(bystanderBackend);
    config = (withSpare) => ({
      http: {
        routers: {
          ws: { rule: 'Host(`ws.test`)', service: 'ws' },
          leaving: { rule: 'Host(`leaving.test`)', service: 'leaving' },
          push: { rule: 'Host(`push.test`)', service: 'push' },
          sink: { rule: 'Host(`sink.test`)', service: 'sink' },
          slow: { rule: 'Host(`slow.test`)', service: 'slow' },
          by: { rule: 'Host(`bystander.test`)', service: 'by' },
        },
        services: {
          ws: { loadBalancer: { servers: [{ url: echo.url }] } },
          leaving: { loadBalancer: { servers: withSpare ? [{ url: spare.url }, { url: echo.url }] : [{ url: echo.url }] } },
          push: { loadBalancer: { servers: [{ url: pusher.url }] } },
          sink: { loadBalancer: { servers: [{ url: sink.url }] } },
          slow: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${slowPort}` }] } },
          by: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${bystanderPort}` }] } },
        },
        middlewares: {},
      },
    });
    p = await startPortero(config(true), {
      workers: 2,
      tweak: (c) => {
        c.websocket.maxMessageBytes = LIMIT;
        c.websocket.drainDelayMs = DRAIN_DELAY_MS;
        for (const ep of Object.values(c.entryPoints)) ep.graceTimeoutMs = 500;
      },
    });
  });

  after(async () => {
    await p.stop();
    await Promise.all([echo, spare, pusher, sink].map((s) => s.close()));
    slow.close();
    bystanderBackend.close();
  });

  test('1,000 concurrent sessions each exchange 20 messages: every one comes back, in order', async () => {
    const sessions = await Promise.all(Array.from({ length: 1000 }, () => connect(p.webPort, '/', { host: 'ws.test' }).then((r) => r.ws)));
    const lost: string[] = [];
    await Promise.all(
      sessions.map(async (ws, i) => {
        const got: string[] = [];
        const all = new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`session ${i}: ${got.length} of 20 after 60 s`)), 60_000);
          ws.on('message', (d: Buffer) => {
            got.push(d.toString());
            if (got.length === 20) {
              clearTimeout(t);
              resolve();
            }
          });
        });
        for (let n = 0; n < 20; n++) ws.send(`${i}:${n}`);
        await all;
        for (let n = 0; n < 20; n++) if (got[n] !== `${i}:${n}`) lost.push(`session ${i} message ${n}: ${got[n]}`);
      }),
    );
    assert.deepEqual(lost, []);
    await Promise.all(sessions.map((ws) => (ws.close(), closed(ws).catch(() => undefined))));
  });

  test('a client that stops reading pauses its server: the server is held back, then everything arrives in order', async () => {
    const { ws } = await connect(p.webPort, '/', { host: 'push.test' });
    const socket = (ws as unknown as { _socket: net.Socket })._socket;
    const received: Buffer[] = [];
    // The echo of the request itself is text; the pushed messages are binary.
    ws.on('message', (d: Buffer, isBinary: boolean) => isBinary && received.push(d));
    ws.send('push:512'); // 32 MiB
    await new Promise((r) => setTimeout(r, 200));
    socket.pause();
    await new Promise((r) => setTimeout(r, 1500));
    const server = [...pusher.wss.clients][0]!;
    // Had portero read everything, the server would have nothing left to send.
    assert.ok(server.bufferedAmount > 8 * MiB, `the server still had only ${server.bufferedAmount} bytes to send: portero read on`);
    socket.resume();
    const deadline = Date.now() + 30_000;
    while (received.length < 512 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 512);
    received.forEach((m, i) => assert.ok(m.length === 64 * 1024 && m[0] === (i & 0xff) && m[m.length - 1] === (i & 0xff), `message ${i} out of order`));
    ws.close();
  });

  test('a server that stops reading: its client is closed with 1013 once the backlog passes the bound, nothing else is hurt', async () => {
    const by = await startBystanders(p.webPort, { host: 'bystander.test', expect: 'bystander', workers: 2 });
    const wsBy = await wsBystanders(p.webPort, 8);
    const { ws } = await connect(p.webPort, '/', { host: 'sink.test' });
    const end = closed(ws, 30_000);
    const block = Buffer.alloc(LIMIT);
    // 16 MiB is the bound; the kernel's buffers hold a few MiB more.
    for (let i = 0; i < 64 && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(block);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await end).code, 1013);
    const r = await by.stop();
    const w = await wsBy.stop();
    assert.deepEqual(r.failures, []);
    assert.deepEqual(w.failures, []);
    assert.ok(w.echoed > 0 && r.requests > 0);
  });

  test('hostile handshakes and frames end their own connection only; bystanders on every worker lose nothing', async () => {
    const by = await startBystanders(p.webPort, { host: 'bystander.test', expect: 'bystander', workers: 2 });
    const wsBy = await wsBystanders(p.webPort, 8);
    for (let round = 0; round < 3; round++) {
      // Garbage instead of frames (an unmasked frame with reserved opcode 0x3).
      const garbage = await rawHandshake(p.webPort);
      garbage.write(Buffer.from([0x83, 0x05, 1, 2, 3, 4, 5]));
      await socketClosed(garbage);
      // A frame that declares 2^40 bytes.
      const huge = await rawHandshake(p.webPort);
      huge.write(Buffer.from([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
      await socketClosed(huge);
      // A client that leaves in the middle of a handshake the server takes its time over.
      const leaving = net.connect(p.webPort, '127.0.0.1');
      leaving.write('GET / HTTP/1.1\r\nHost: slow.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
      leaving.destroy();
      // A handshake whose key is not 16 bytes of base64, and one with an old version.
      const bad = await new Promise<string>((resolve) => {
        const s = net.connect(p.webPort, '127.0.0.1', () =>
          s.write('GET / HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
        );
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString()));
        s.on('close', () => resolve(text));
        s.on('error', () => {});
      });
      assert.match(bad, /^HTTP\/1\.1 426 /);
      // Open-and-drop churn.
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const { ws } = await connect(p.webPort, '/', { host: 'ws.test' });
          ws.terminate();
        }),
      );
    }
    const r = await by.stop();
    const w = await wsBy.stop();
    assert.deepEqual(r.failures, []);
    assert.deepEqual(w.failures, []);
    assert.ok(w.echoed > 0 && r.requests > 0);
  });

  test('a server that leaves the configuration: its sessions get 1001 after the drain delay, new ones go elsewhere', async () => {
    // Round robin over [spare, echo]: open sessions until some are on the spare.
    const sessions: { ws: WebSocket; name: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const { ws } = await connect(p.webPort, '/', { host: 'leaving.test' });
      ws.send('name');
      sessions.push({ ws, name: (await nextMessage(ws)).data.toString() });
    }
    const onSpare = sessions.filter((s) => s.name === 'spare');
    const onEcho = sessions.filter((s) => s.name === 'echo');
    assert.ok(onSpare.length > 0 && onEcho.length > 0);
    const ends = onSpare.map((s) => closed(s.ws, 10_000).then((c) => ({ ...c, at: performance.now() })));
    const removedAt = performance.now();
    p.provider.set(config(false));
    const seen = await Promise.all(ends);
    for (const c of seen) {
      assert.deepEqual({ code: c.code, reason: c.reason }, { code: 1001, reason: 'server going away' });
      // The table takes a moment to reach the workers; the delay is counted from there.
      assert.ok(c.at - removedAt >= DRAIN_DELAY_MS - 50, `closed ${Math.round(c.at - removedAt)} ms after the removal`);
    }
    // Sessions on the server that stayed are untouched.
    for (const s of onEcho) {
      s.ws.send('still here');
      assert.equal((await nextMessage(s.ws)).data.toString(), 'still here');
    }
    const fresh = await connect(p.webPort, '/', { host: 'leaving.test' });
    fresh.ws.send('name');
    assert.equal((await nextMessage(fresh.ws)).data.toString(), 'echo');
    fresh.ws.close();
    for (const s of onEcho) s.ws.close();
    p.provider.set(config(true));
  });

  test('a server that left and then vanishes without a close frame: its clients get 1001 at once, not a bare close', async () => {
    const onSpare: WebSocket[] = [];
    const others: WebSocket[] = [];
    for (let i = 0; i < 6; i++) {
      const { ws } = await connect(p.webPort, '/', { host: 'leaving.test' });
      ws.send('name');
      ((await nextMessage(ws)).data.toString() === 'spare' ? onSpare : others).push(ws);
    }
    assert.ok(onSpare.length > 0);
    const removedAt = performance.now();
    p.provider.set(config(false));
    // The new table is in every worker once fresh handshakes stop reaching the spare.
    for (let streak = 0; streak < 6; ) {
      const { ws } = await connect(p.webPort, '/', { host: 'leaving.test' });
      ws.send('name');
      streak = (await nextMessage(ws)).data.toString() === 'echo' ? streak + 1 : 0;
      ws.close();
    }
    const ends = onSpare.map((ws) => closed(ws, 5000));
    const cutAt = performance.now();
    assert.ok(cutAt - removedAt < DRAIN_DELAY_MS - 300, 'the table took too long to arrive for this test to tell the two closes apart');
    for (const c of spare.wss.clients) c.terminate();
    for (const c of await Promise.all(ends)) assert.deepEqual(c, { code: 1001, reason: 'server going away' });
    assert.ok(performance.now() - removedAt < DRAIN_DELAY_MS, 'closed by the drain delay, not when the server vanished');
    for (const ws of others) ws.close();
    p.provider.set(config(true));
  });

  test('shutdown: sessions still open at the end of the grace period are closed with 1001', async () => {
    const sessions = await Promise.all(Array.from({ length: 4 }, () => connect(p.webPort, '/', { host: 'ws.test' }).then((r) => r.ws)));
    const ends = sessions.map((ws) => closed(ws, 10_000));
    const t0 = performance.now();
    await p.stop();
    for (const c of await Promise.all(ends)) assert.deepEqual(c, { code: 1001, reason: 'portero is shutting down' });
    assert.ok(performance.now() - t0 >= 450, 'closed before the grace period ended');
  });
});
