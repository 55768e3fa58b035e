// Keep-alive pool behaviour seen from the backend's side.
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { simpleConfig, startPortero } from '../helpers/portero.js';
import { request } from '../helpers/http.js';

function countingBackend(delayMs = 0) {
  let open = 0;
  let maxOpen = 0;
  let accepted = 0;
  let closed = 0;
  const server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), delayMs));
  server.on('connection', (s) => {
    accepted++;
    maxOpen = Math.max(maxOpen, ++open);
    s.on('close', () => {
      open--;
      closed++;
    });
  });
  return { server, stats: () => ({ open, maxOpen, accepted, closed }) };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

test('connections are reused across requests (keep-alive upstream)', async () => {
  const b = countingBackend();
  const port = await listen(b.server);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]));
  try {
    for (let i = 0; i < 20; i++) assert.equal((await request(p.webPort)).body, 'ok');
    assert.equal(b.stats().accepted, 1);
  } finally {
    await p.stop();
    b.server.close();
  }
});

test('maxConnsPerHost caps open upstream connections; requests beyond it wait, none fail', async () => {
  const b = countingBackend(30);
  const port = await listen(b.server);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => (c.serversTransport.maxConnsPerHost = 2),
  });
  try {
    const replies = await Promise.all(Array.from({ length: 20 }, () => request(p.webPort)));
    assert.ok(replies.every((r) => r.status === 200));
    assert.ok(b.stats().maxOpen <= 2, `max open ${b.stats().maxOpen}`);
  } finally {
    await p.stop();
    b.server.close();
  }
});

test('idle upstream connections are closed after idleConnTimeout; maxIdleConnsPerHost bounds the idle ones', async () => {
  const b = countingBackend(50);
  const port = await listen(b.server);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
    tweak: (c) => {
      c.serversTransport.idleConnTimeoutMs = 300;
      c.serversTransport.maxIdleConnsPerHost = 2;
    },
  });
  try {
    await Promise.all(Array.from({ length: 6 }, () => request(p.webPort)));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(b.stats().open <= 2, `idle kept: ${b.stats().open}`);
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(b.stats().open, 0, 'idle connections closed by the sweeper');
  } finally {
    await p.stop();
    b.server.close();
  }
});

test('a keep-alive connection the upstream closed is not used; a reset before any response is retried', async () => {
  // Answers one request per connection, then resets the connection the next time it is used.
  let served = 0;
  const flaky = net.createServer((s) => {
    let n = 0;
    s.on('data', () => {
      n++;
      if (n === 1) {
        served++;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      } else {
        s.resetAndDestroy();
      }
    });
    s.on('error', () => {});
  });
  const port = await listen(flaky);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]));
  try {
    for (let i = 0; i < 5; i++) {
      const r = await request(p.webPort);
      assert.equal(r.status, 200, `request ${i}`);
    }
    assert.equal(served, 5);
  } finally {
    await p.stop();
    flaky.close();
  }
});

test('interim 1xx responses from the upstream are not forwarded; the final one is', async () => {
  const early = net.createServer((s) =>
    s.once('data', () => s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal')),
  );
  const port = await listen(early);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]));
  try {
    const r = await request(p.webPort);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'final');
  } finally {
    await p.stop();
    early.close();
  }
});

test('a request stuck on a server that left the table (a killed replica) is retried elsewhere when safe', async () => {
  // Accepts and never answers, like a container killed mid-request whose connections get no reset.
  const silent = net.createServer(() => {});
  const silentPort = await listen(silent);
  const good = countingBackend();
  const goodPort = await listen(good.server);
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${silentPort}`, `http://127.0.0.1:${goodPort}`]));
  try {
    const stuck = request(p.webPort); // round robin: the silent server first
    const posted = request(p.webPort, { method: 'POST', path: '/p', body: 'x' }); // the good one
    assert.equal((await posted).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    p.provider.set(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${goodPort}`]));
    const r = await stuck;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
    const waited = Date.now() - t0;
    assert.ok(waited >= 1500 && waited < 5000, `retried after ${waited} ms`);
  } finally {
    await p.stop();
    silent.close();
    good.server.close();
  }
});

test('a connect in progress to a server that leaves the table is given up for another server', async () => {
  // A listener with a full backlog never completes new connects, like an address with no host behind it.
  const good = countingBackend();
  const goodPort = await listen(good.server);
  const blackhole = await freeBlackholePort();
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${blackhole.port}`, `http://127.0.0.1:${goodPort}`]));
  try {
    const pending = request(p.webPort); // round robin: the black hole first
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    p.provider.set(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${goodPort}`]));
    const r = await pending;
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 1500, `answered ${Date.now() - t0} ms after the change`);
  } finally {
    await p.stop();
    good.server.close();
    blackhole.close();
  }
});

/**
 * A port where connects hang, like an address with no host behind it: a
 * listener with a one-slot backlog in a stopped process, its queue filled.
 */
async function freeBlackholePort(): Promise<{ port: number; close(): void }> {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  child.kill('SIGSTOP');
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    close: () => {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    },
  };
}
