// Forwarding end to end on loopback: real uWS workers, real backends.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startWhoami, type Whoami } from '../../src/demo/whoami.js';
import { freePort, simpleConfig, startPortero, type TestPortero } from '../helpers/portero.js';
import { rawExchange, request } from '../helpers/http.js';

const HOST = 'whoami.docker.localhost';

function hostnameOf(body: string): string {
  return /^Hostname: (.*)$/m.exec(body)?.[1] ?? '';
}

function headerOf(body: string, name: string): string | undefined {
  const re = new RegExp(`^${name}: (.*)\\r?$`, 'mi');
  return re.exec(body)?.[1];
}

describe('forwarding to whoami replicas', () => {
  let replicas: Whoami[];
  let p: TestPortero;

  before(async () => {
    replicas = await Promise.all([1, 2, 3, 4].map((i) => startWhoami(`whoami-${i}`)));
    p = await startPortero(simpleConfig(`Host(\`${HOST}\`)`, replicas.map((r) => `http://127.0.0.1:${r.port}`)), { workers: 2 });
  });
  after(async () => {
    await p.stop();
    await Promise.all(replicas.map((r) => r.close()));
  });

  test('round robin visits the four replicas in turn, across workers', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await request(p.webPort, { headers: { host: HOST } });
      assert.equal(r.status, 200);
      seen.push(hostnameOf(r.body));
    }
    assert.equal(new Set(seen).size, 4, `four distinct replicas: ${seen}`);
    assert.deepEqual(seen.slice(4), seen.slice(0, 4), `same order twice: ${seen}`);
  });

  test('Host matching ignores case and port; unknown hosts get 404', async () => {
    const r = await request(p.webPort, { headers: { host: `WhoAmI.Docker.LocalHost:${p.webPort}` } });
    assert.equal(r.status, 200);
    const miss = await request(p.webPort, { headers: { host: 'other.localhost' } });
    assert.equal(miss.status, 404);
    assert.equal(miss.body, '404 page not found\n');
  });

  test('request line, query and headers reach the backend; X-Forwarded-* are set', async () => {
    const r = await request(p.webPort, { path: '/a/b%20c?x=1&y=%2F', headers: { host: HOST, 'x-custom': 'v1' } });
    assert.match(r.body, /^GET \/a\/b%20c\?x=1&y=%2F HTTP\/1\.1\r?$/m);
    assert.equal(headerOf(r.body, 'x-custom'), 'v1');
    assert.equal(headerOf(r.body, 'host'), HOST);
    assert.equal(headerOf(r.body, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(headerOf(r.body, 'x-real-ip'), '127.0.0.1');
    assert.equal(headerOf(r.body, 'x-forwarded-host'), HOST);
    assert.equal(headerOf(r.body, 'x-forwarded-proto'), 'http');
    assert.equal(headerOf(r.body, 'x-forwarded-port'), String(p.webPort));
    assert.ok(headerOf(r.body, 'x-forwarded-server'));
  });

  test('responses do not advertise the server library', async () => {
    const r = await request(p.webPort, { headers: { host: HOST } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.uwebsockets, undefined);
    const missing = await request(p.webPort, { headers: { host: 'nobody.example' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.uwebsockets, undefined);
  });

  test('a client that sends Connection: close is told so in the answer (proxied, 404 and HEAD alike), then the connection closes', async () => {
    for (const [head, status] of [
      [`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`, '200'],
      ['GET / HTTP/1.1\r\nHost: nobody.test\r\nConnection: close\r\n\r\n', '404'],
      ['HEAD / HTTP/1.1\r\nHost: nobody.test\r\nConnection: close\r\n\r\n', '404'],
    ] as const) {
      const r = await rawExchange(p.webPort, head, 2000);
      assert.match(r.text, new RegExp(`^HTTP/1.1 ${status} `));
      assert.match(r.text, /\r\nconnection: close\r\n/i, head);
      assert.equal(r.closed, true);
    }
    const head404 = await rawExchange(p.webPort, 'HEAD / HTTP/1.1\r\nHost: nobody.test\r\nConnection: close\r\n\r\n', 2000);
    assert.ok(head404.text.endsWith('\r\n\r\n'), 'no body after a HEAD answer');
  });

  test('incoming X-Forwarded-* from an untrusted client are replaced', async () => {
    const r = await request(p.webPort, {
      headers: { host: HOST, 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-real-ip': '6.6.6.6', 'x-forwarded-host': 'evil' },
    });
    assert.equal(headerOf(r.body, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(headerOf(r.body, 'x-forwarded-proto'), 'http');
    assert.equal(headerOf(r.body, 'x-real-ip'), '127.0.0.1');
    assert.equal(headerOf(r.body, 'x-forwarded-host'), HOST);
  });

  test('hop-by-hop headers, and those named in Connection, are removed', async () => {
    const { text } = await rawExchange(
      p.webPort,
      `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: keep-alive, x-secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nUpgrade: foo\r\nX-Kept: k\r\n\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 200 /);
    for (const h of ['x-secret', 'keep-alive', 'te', 'proxy-authorization', 'upgrade', 'connection']) {
      assert.equal(headerOf(text, h), undefined, `${h} must not reach the backend`);
    }
    assert.equal(headerOf(text, 'x-kept'), 'k');
  });

  test('CONNECT and absolute-form requests never reach a backend: not an open proxy', async () => {
    let seen = 0;
    const spy = http.createServer((_req, res) => {
      seen++;
      res.end('forwarded');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
    p.provider.set(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${(spy.address() as net.AddressInfo).port}`]));
    try {
      // uWebSockets.js v20.30 routes neither form to a handler (it leaves them
      // unanswered until its idle timeout); what matters is that nothing is forwarded.
      for (const raw of ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n']) {
        const { text } = await rawExchange(p.webPort, raw, 300);
        assert.doesNotMatch(text, /^HTTP\/1\.1 [23]\d\d/, raw);
      }
      assert.equal(seen, 0);
      assert.equal((await request(p.webPort)).body, 'forwarded');
    } finally {
      p.provider.set(simpleConfig(`Host(\`${HOST}\`)`, replicas.map((r) => `http://127.0.0.1:${r.port}`)));
      spy.close();
    }
  });

  test('many concurrent requests on keep-alive connections all succeed', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const replies = await Promise.all(Array.from({ length: 400 }, () => request(p.webPort, { headers: { host: HOST }, agent })));
    agent.destroy();
    assert.ok(replies.every((r) => r.status === 200));
    const counts = new Map<string, number>();
    for (const r of replies) counts.set(hostnameOf(r.body), (counts.get(hostnameOf(r.body)) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [100, 100, 100, 100]);
  });
});

describe('answers when upstreams fail', () => {
  test('no server: 503; all refuse: 502; one refuses: the next one answers', async () => {
    const good = await startWhoami('good');
    const dead = await freePort(); // nothing listens here
    const p = await startPortero({
      http: {
        routers: {
          empty: { rule: 'Host(`empty`)', service: 'empty' },
          dead: { rule: 'Host(`dead`)', service: 'dead' },
          mixed: { rule: 'Host(`mixed`)', service: 'mixed' },
        },
        services: {
          empty: { loadBalancer: { servers: [] } },
          dead: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${dead}` }] } },
          mixed: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${dead}` }, { url: `http://127.0.0.1:${good.port}` }] } },
        },
        middlewares: {},
      },
    });
    try {
      assert.equal((await request(p.webPort, { headers: { host: 'empty' } })).status, 503);
      assert.equal((await request(p.webPort, { headers: { host: 'dead' } })).status, 502);
      for (let i = 0; i < 6; i++) {
        const r = await request(p.webPort, { headers: { host: 'mixed' } });
        assert.equal(r.status, 200);
        assert.equal(hostnameOf(r.body), 'good');
      }
    } finally {
      await p.stop();
      await good.close();
    }
  });

  test('a backend that does not answer in time: 504', async () => {
    const hang = net.createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as net.AddressInfo).port;
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]), {
      tweak: (c) => (c.serversTransport.responseHeaderTimeoutMs = 300),
    });
    try {
      const r = await request(p.webPort);
      assert.equal(r.status, 504);
    } finally {
      await p.stop();
      hang.close();
    }
  });

  test('a malformed upstream response: 502, and the client connection stays usable', async () => {
    const bad = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 2x0 Nope\r\n\r\n')));
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    const port = (bad.address() as net.AddressInfo).port;
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]));
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const first = await request(p.webPort, { agent });
      const second = await request(p.webPort, { agent });
      agent.destroy();
      assert.equal(first.status, 502);
      assert.equal(second.status, 502);
    } finally {
      await p.stop();
      bad.close();
    }
  });

  test('a backend dying mid-response closes the client connection (no truncated body that looks complete)', async () => {
    const dying = net.createServer((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
        s.write(Buffer.alloc(1000, 97));
        setTimeout(() => s.destroy(), 50);
      }),
    );
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const port = (dying.address() as net.AddressInfo).port;
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${port}`]));
    try {
      await assert.rejects(request(p.webPort), /aborted|socket hang up|ECONNRESET/);
    } finally {
      await p.stop();
      dying.close();
    }
  });
});

describe('service options', () => {
  test('weighted services split traffic by weight (blue-green)', async () => {
    const blue = await startWhoami('blue');
    const green = await startWhoami('green');
    const p = await startPortero({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 'bg' } },
        services: {
          bg: { weighted: { services: [{ name: 'blue', weight: 3 }, { name: 'green', weight: 1 }] } },
          blue: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${blue.port}` }] } },
          green: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${green.port}` }] } },
        },
        middlewares: {},
      },
    });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) seen.push(hostnameOf((await request(p.webPort)).body));
      assert.equal(seen.filter((h) => h === 'blue').length, 6);
      assert.equal(seen.filter((h) => h === 'green').length, 2);
    } finally {
      await p.stop();
      await blue.close();
      await green.close();
    }
  });

  test('passHostHeader: false sends the server its own address as Host', async () => {
    const w = await startWhoami('w');
    const p = await startPortero({
      http: {
        routers: { r: { rule: 'Host(`front`)', service: 's' } },
        services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${w.port}` }], passHostHeader: false } } },
        middlewares: {},
      },
    });
    try {
      const r = await request(p.webPort, { headers: { host: 'front' } });
      assert.equal(headerOf(r.body, 'host'), `127.0.0.1:${w.port}`);
      assert.equal(headerOf(r.body, 'x-forwarded-host'), 'front');
    } finally {
      await p.stop();
      await w.close();
    }
  });

  test('X-Forwarded-* from trusted addresses are kept and extended', async () => {
    const w = await startWhoami('w');
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${w.port}`]), {
      tweak: (c) => (c.entryPoints.web.trustedIPs = ['127.0.0.0/8']),
    });
    try {
      const r = await request(p.webPort, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.9' } });
      assert.equal(headerOf(r.body, 'x-forwarded-for'), '203.0.113.9, 127.0.0.1');
      assert.equal(headerOf(r.body, 'x-forwarded-proto'), 'https');
      assert.equal(headerOf(r.body, 'x-real-ip'), '203.0.113.9');
    } finally {
      await p.stop();
      await w.close();
    }
  });

  test('routers with the same rule (blue-green stacks) stand in for each other while one has no answering server', async () => {
    const green = await startWhoami('green');
    const dead = await freePort();
    const p = await startPortero({
      http: {
        // "blue" sorts first and so is preferred; its service is empty, then refuses.
        routers: { blue: { rule: 'Host(`app`)', service: 'blue' }, green: { rule: 'Host(`app`)', service: 'green' } },
        services: { blue: { loadBalancer: { servers: [] } }, green: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${green.port}` }] } } },
        middlewares: {},
      },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal(hostnameOf((await request(p.webPort, { headers: { host: 'app' } })).body), 'green');
      p.provider.set({
        http: {
          routers: { blue: { rule: 'Host(`app`)', service: 'blue' }, green: { rule: 'Host(`app`)', service: 'green' } },
          services: {
            blue: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${dead}` }] } },
            green: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${green.port}` }] } },
          },
          middlewares: {},
        },
      });
      for (let i = 0; i < 3; i++) assert.equal(hostnameOf((await request(p.webPort, { headers: { host: 'app' } })).body), 'green');
    } finally {
      await p.stop();
      await green.close();
    }
  });
});

describe('router entry points', () => {
  test('a router with an entry point that does not exist answers on the others, shows status "warning" and logs a warning', async () => {
    const w = await startWhoami('partly');
    const logs: string[] = [];
    const p = await startPortero(
      {
        http: {
          routers: { partly: { rule: 'Host(`partly`)', service: 'svc', entryPoints: ['web', 'nope'] } },
          services: { svc: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${w.port}` }] } } },
          middlewares: {},
        },
      },
      { logs },
    );
    try {
      const r = await request(p.webPort, { headers: { host: 'partly' } });
      assert.equal(r.status, 200);
      assert.equal(hostnameOf(r.body), 'partly');

      const api = await fetch(`http://127.0.0.1:${p.apiPort}/api/http/routers/partly@file`);
      assert.equal(api.status, 200);
      const router = (await api.json()) as { status: string; error?: string[]; using?: string[] };
      assert.equal(router.status, 'warning');
      assert.deepEqual(router.error, ['entryPoint "nope" doesn\'t exist']);
      assert.deepEqual(router.using, ['web']);

      const line = logs.map((l) => JSON.parse(l) as { level: number; msg: string; router?: string }).find((l) => l.msg === 'entryPoint "nope" doesn\'t exist');
      assert.ok(line !== undefined, `logged: ${logs.join('')}`);
      assert.equal(line.level, 40, 'pino\'s warn level');
      assert.equal(line.router, 'partly@file');
    } finally {
      await p.stop();
      await w.close();
    }
  });
});
