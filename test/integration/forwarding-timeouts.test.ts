// serversTransport.forwardingTimeouts as they bear on one exchange:
// responseHeaderTimeout counts from the moment the whole request (body
// included) was sent, and readTimeout cuts a response body that stops
// arriving, without counting the time a slow client keeps reads paused.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { simpleConfig, startPortero } from '../helpers/portero.js';
import { RawClient } from '../helpers/raw-client.js';
import { listenLocal as listen, writeBytes } from '../helpers/streams.js';


test('responseHeaderTimeout starts once the request body is sent, not when its head is', async () => {
  // Answers as soon as the body is in: the wait for its response head is short however slow the upload.
  const backend = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('got it'));
  });
  const port = await listen(backend);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => (c.serversTransport.responseHeaderTimeoutMs = 500),
  });
  const c = await RawClient.open(p.webPort);
  try {
    c.write('POST /slow-upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 150));
      c.write('x');
    }
    const r = await c.read(3000);
    assert.equal(r.status, 200, 'a 1.5 s upload is not a 500 ms header timeout');
    assert.equal(r.body.toString(), 'got it');
  } finally {
    c.destroy();
    await p.stop();
    backend.close();
  }
});

test('responseHeaderTimeout still answers 504 when the head does not come after the request was sent', async () => {
  const silent = net.createServer((s) => s.resume());
  const port = await listen(silent);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => (c.serversTransport.responseHeaderTimeoutMs = 300),
  });
  const c = await RawClient.open(p.webPort);
  try {
    const t0 = Date.now();
    c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
    const r = await c.read(3000);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 >= 250);
  } finally {
    c.destroy();
    await p.stop();
    silent.close();
  }
});

test('a response body that stops arriving is cut after readTimeout: the client sees a broken connection, not a short body', async () => {
  // Sends the head and half the body, then nothing, holding the connection open.
  const stalling = net.createServer((s) => {
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf.'));
    s.on('error', () => {});
  });
  const port = await listen(stalling);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => (c.serversTransport.readTimeoutMs = 400),
  });
  const c = await RawClient.open(p.webPort);
  try {
    c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const t0 = Date.now();
    assert.ok(await c.waitClosed(3000), 'the client connection is cut');
    const waited = Date.now() - t0;
    assert.ok(waited >= 350 && waited < 3000, `cut after ${waited} ms (checked once a second)`);
  } finally {
    c.destroy();
    await p.stop();
    stalling.close();
  }
});

test('readTimeout does not count time the client keeps reads paused', async () => {
  // More than the kernel buffers on both sides hold, so portero must stop reading the backend while the client stalls.
  const total = 64 * 1024 * 1024;
  const backend = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(total) });
    writeBytes(res, total);
  });
  const port = await listen(backend);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => (c.serversTransport.readTimeoutMs = 300),
  });
  const s = net.connect(p.webPort, '127.0.0.1');
  try {
    let got = 0;
    let stalled = false;
    const done = new Promise<void>((resolve, reject) => {
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (!stalled) {
          stalled = true;
          s.pause();
          setTimeout(() => s.resume(), 1200);
        }
        if (got > total) resolve();
      });
      s.on('close', () => (got > total ? resolve() : reject(new Error(`cut after ${got} bytes`))));
    });
    s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await done;
  } finally {
    s.destroy();
    await p.stop();
    backend.close();
  }
});
