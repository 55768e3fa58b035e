// WebSockets through portero on real sockets: the handshake goes to the
// server first and its choices come back, messages of every kind and size
// are relayed both ways, pings and close codes pass, a message over the limit
// gets 1009, and a server's refusal or absence gets an HTTP answer.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { makeCert, type TestCert } from '../helpers/certs.js';
import { request } from '../helpers/http.js';
import { DEFAULT_WEBSOCKET } from '../../src/config/websocket.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';
import { closed, connect, echoServer, nextMessage, type EchoServer } from '../helpers/websocket.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';

/** The default --websocket.maxMessageSize. */
const LIMIT = DEFAULT_WEBSOCKET.maxMessageBytes;
const ACCESS_LOG = path.join(os.tmpdir(), `portero-websocket-access-${process.pid}.log`);

describe('WebSockets through portero', () => {
  let echo: EchoServer;
  let deflating: EchoServer;
  let sticky: EchoServer[];
  let big: EchoServer;
  let refusing: http.Server;
  let odd: net.Server;
  let p: TestPortero;
  const logs: string[] = [];

  before(async () => {
    echo = await echoServer('echo', {
      handleProtocols: (set) => (set.has('chat.v2') ? 'chat.v2' : false),
    });
    echo.wss.on('headers', (headers) => headers.push('Set-Cookie: session=abc; Path=/'));
    deflating = await echoServer('deflating', { perMessageDeflate: true });
    sticky = [await echoServer('s0'), await echoServer('s1'), await echoServer('s2')];
    // Answers any message with one byte more than the limit.
    big = await echoServer('big');
    big.wss.on('connection', (s) => s.on('message', () => s.send(Buffer.alloc(LIMIT + 1))));
    refusing = http.createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end('who are you?');
    });
    refusing.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nwww-authenticate: Bearer\r\ncontent-length: 12\r\n\r\nwho are you?');
    });
    const refusingPort = await listenLocal(refusing);
    // A raw server: answers 101 to a plain GET on /switch, and never answers a handshake on /silent.
    odd = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (head: Buffer) => {
        if (head.toString('latin1').startsWith('GET /switch ')) socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: something\r\nConnection: Upgrade\r\n\r\n');
      });
    });
    const oddPort = await listenLocal(odd);
    const dynamic: DynamicConfig = {
      http: {
        routers: {
          echo: { rule: 'Host(`ws.test`)', service: 'echo', middlewares: ['tag'] },
          deflate: { rule: 'Host(`deflate.test`)', service: 'deflate' },
          sticky: { rule: 'Host(`sticky.test`)', service: 'sticky' },
          refuse: { rule: 'Host(`refuse.test`)', service: 'refuse' },
          down: { rule: 'Host(`down.test`)', service: 'down' },
          strip: { rule: 'Host(`strip.test`)', service: 'echo', middlewares: ['strip'] },
          auth: { rule: 'Host(`auth.test`)', service: 'echo', middlewares: ['auth'] },
          big: { rule: 'Host(`big.test`)', service: 'big' },
          half: { rule: 'Host(`half.test`)', service: 'half' },
          odd: { rule: 'Host(`odd.test`)', service: 'odd' },
        },
        services: {
          echo: { loadBalancer: { servers: [{ url: echo.url }] } },
          deflate: { loadBalancer: { servers: [{ url: deflating.url }] } },
          sticky: { loadBalancer: { servers: sticky.map((s) => ({ url: s.url })), sticky: { cookie: { name: 'pin', httpOnly: true } } } },
          refuse: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${refusingPort}` }] } },
          // Port 9 (discard) on loopback: nothing listens, the connect is refused.
          down: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } },
          big: { loadBalancer: { servers: [{ url: big.url }] } },
          half: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }, { url: echo.url }] } },
          odd: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${oddPort}` }] } },
        },
        middlewares: {
          tag: { headers: { customResponseHeaders: { 'X-Proxied-By': 'portero' } } },
          strip: { stripPrefix: { prefixes: ['/api'] } },
          // user:secret (htpasswd SHA1)
          auth: { basicAuth: { users: ['user:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='] } },
        },
      },
    };
    p = await startPortero(dynamic, {
      workers: 2,
      logs,
      tweak: (c) => {
        c.metrics = { prometheus: { entryPoint: 'traefik', buckets: [0.1, 0.3, 1.2, 5], addEntryPointsLabels: true, addServicesLabels: true } };
        c.accessLog = { format: 'json', filePath: ACCESS_LOG, bufferingSize: 0 };
        // A handshake the server never answers gets 504 after this (dial and response head).
        c.serversTransport.dialTimeoutMs = 1000;
      },
    });
  });

  after(async () => {
    await p.stop();
    await Promise.all([echo, deflating, big, ...sticky].map((s) => s.close()));
    rmSync(ACCESS_LOG, { force: true });
    refusing.close();
    odd.close();
  });

  test('text and binary messages are echoed; the server chose the subprotocol and saw the forwarded headers', async () => {
    const { ws, upgrade } = await connect(p.webPort, '/chat?room=1', { protocols: ['chat.v1', 'chat.v2'] });
    assert.equal(ws.protocol, 'chat.v2');
    assert.deepEqual(upgrade.headers['set-cookie'], ['session=abc; Path=/']);
    assert.equal(upgrade.headers['x-proxied-by'], 'portero');
    const hs = echo.handshakes.at(-1)!;
    assert.equal(hs.url, '/chat?room=1');
    assert.equal(hs.headers.host, 'ws.test');
    assert.equal(hs.headers['x-forwarded-proto'], 'ws');
    assert.equal(hs.headers['x-forwarded-for'], '127.0.0.1');
    ws.send('hello');
    const text = await nextMessage(ws);
    assert.deepEqual([text.data.toString(), text.isBinary], ['hello', false]);
    ws.send(Buffer.from([0, 1, 2, 255]));
    const bin = await nextMessage(ws);
    assert.deepEqual([[...bin.data], bin.isBinary], [[0, 1, 2, 255], true]);
    ws.close(1000, 'done');
    assert.deepEqual(await closed(ws), { code: 1000, reason: 'done' });
  });

  test('64 KiB and 16 MiB (the default limit) messages arrive whole, in order, both ways', async () => {
    const { ws } = await connect(p.webPort, '/');
    for (const size of [64 * 1024, LIMIT]) {
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4096) out[i] = (i / 4096) & 0xff;
      ws.send(out);
      const back = await nextMessage(ws, 30_000);
      assert.equal(back.data.length, size);
      assert.ok(back.data.equals(out), `${size}-byte message changed on the way`);
    }
    ws.close();
  });

  test('a message over --websocket.maxMessageSize closes the session with 1009, from either side', async () => {
    const { ws } = await connect(p.webPort, '/');
    ws.send(Buffer.alloc(LIMIT + 1));
    const c = await closed(ws);
    assert.equal(c.code, 1009);
    // The other way: a server that sends more than the limit.
    const client = (await connect(p.webPort, '/', { host: 'big.test' })).ws;
    client.send('go');
    assert.equal((await closed(client)).code, 1009);
  });

  test('close codes and reasons pass both ways', async () => {
    const { ws } = await connect(p.webPort, '/');
    ws.send('close:4001:server says bye');
    assert.deepEqual(await closed(ws), { code: 4001, reason: 'server says bye' });
    const before = echo.closes.length;
    const second = await connect(p.webPort, '/');
    second.ws.close(4002, 'client says bye');
    await closed(second.ws);
    for (let i = 0; i < 50 && echo.closes.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(echo.closes.at(-1), { code: 4002, reason: 'client says bye' });
  });

  test('a server that vanishes without a close frame: the client sees the same (1006), and the log says which server', async () => {
    const { ws } = await connect(p.webPort, '/');
    ws.send('vanish');
    assert.equal((await closed(ws)).code, 1006);
    for (let i = 0; i < 100 && !logs.some((l) => l.includes('lost its server')); i++) await new Promise((r) => setTimeout(r, 20));
    const line = logs.find((l) => l.includes('lost its server'));
    assert.ok(line !== undefined, `logged: ${logs.join('')}`);
    const entry = JSON.parse(line) as { level: number; msg: string };
    assert.equal(entry.level, 40, 'a warning');
    assert.match(entry.msg, new RegExp(`WebSocket session to ${echo.url} lost its server without a close frame: connection closed \\(1006\\)`));
  });

  test("pings: the client's are answered, the server's reach the client and its pong goes back", async () => {
    const { ws } = await connect(p.webPort, '/');
    // Bounded waits: a lost ping or pong fails here, saying which, rather than at the suite's timeout.
    const within = <T>(what: string, p: Promise<T>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5000).unref())]);
    const pong = new Promise<string>((resolve) => ws.once('pong', (d: Buffer) => resolve(d.toString())));
    ws.ping('are you there');
    assert.equal(await within("pong to the client's ping", pong), 'are you there');
    const seen = new Promise<string>((resolve) => ws.once('ping', (d: Buffer) => resolve(d.toString())));
    ws.send('ping:from-server');
    assert.equal(await within("the server's ping", seen), 'from-server');
    // The echo server answers "pong:<data>" once the client's pong reached it.
    assert.equal((await nextMessage(ws)).data.toString(), 'pong:from-server');
    ws.close();
  });

  test('permessage-deflate is negotiated on each side when client and server both offer it', async () => {
    const { ws } = await connect(p.webPort, '/', { host: 'deflate.test', perMessageDeflate: true });
    assert.match(ws.extensions, /permessage-deflate/);
    const hs = deflating.handshakes.at(-1)!;
    assert.match(hs.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);
    const text = 'compressible '.repeat(10_000);
    ws.send(text);
    assert.equal((await nextMessage(ws)).data.toString(), text);
    ws.close();
    // A server without deflate: the client gets none either.
    const plain = await connect(p.webPort, '/', { perMessageDeflate: true });
    assert.equal(plain.ws.extensions, '');
    plain.ws.close();
  });

  test('a sticky service pins a WebSocket with its cookie, and a handshake without one gets one', async () => {
    const first = await connect(p.webPort, '/', { host: 'sticky.test' });
    const cookie = String(first.upgrade.headers['set-cookie']);
    assert.match(cookie, /^pin=[0-9a-f]{16}; Path=\/; HttpOnly$/);
    first.ws.send('name');
    const name = (await nextMessage(first.ws)).data.toString();
    first.ws.close();
    for (let i = 0; i < 6; i++) {
      const again = await connect(p.webPort, '/', { host: 'sticky.test', headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(again.upgrade.headers['set-cookie'], undefined);
      again.ws.send('name');
      assert.equal((await nextMessage(again.ws)).data.toString(), name);
      again.ws.close();
    }
  });

  test("middlewares run on the handshake: stripPrefix rewrites the server's path, basicAuth answers 401", async () => {
    const { ws } = await connect(p.webPort, '/api/socket', { host: 'strip.test' });
    assert.equal(echo.handshakes.at(-1)!.url, '/socket');
    ws.close();
    await assert.rejects(connect(p.webPort, '/', { host: 'auth.test' }), (err: { status?: number }) => err.status === 401);
    const ok = await connect(p.webPort, '/', { host: 'auth.test', headers: { authorization: `Basic ${Buffer.from('user:secret').toString('base64')}` } });
    ok.ws.close();
  });

  test("a server's refusal reaches the client as it came; no server, no route and a bad handshake get portero's answers", async () => {
    await assert.rejects(connect(p.webPort, '/', { host: 'refuse.test' }), (err: { status?: number; headers?: http.IncomingHttpHeaders; body?: string }) => {
      assert.equal(err.status, 401);
      assert.equal(err.headers?.['www-authenticate'], 'Bearer');
      assert.equal(err.body, 'who are you?');
      return true;
    });
    await assert.rejects(connect(p.webPort, '/', { host: 'down.test' }), (err: { status?: number }) => err.status === 502);
    await assert.rejects(connect(p.webPort, '/', { host: 'nowhere.test' }), (err: { status?: number }) => err.status === 404);
    // Upgrade: websocket without a valid key (or without one at all) is a plain GET, answered by the server as such.
    const r = await request(p.webPort, { path: '/', headers: { host: 'refuse.test', upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'short' } });
    assert.equal(r.status, 401);
    const noKey = await request(p.webPort, { path: '/', headers: { host: 'refuse.test', upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-version': '13' } });
    assert.equal(noKey.status, 401);
  });

  test('a server that never answers a handshake: 504 after the dial timeout; one that answers 101 to a plain GET: 502', async () => {
    const t0 = performance.now();
    await assert.rejects(connect(p.webPort, '/silent', { host: 'odd.test' }), (err: { status?: number }) => err.status === 504);
    assert.ok(performance.now() - t0 >= 900, 'answered before the timeout');
    const r = await request(p.webPort, { path: '/switch', headers: { host: 'odd.test' } });
    assert.equal(r.status, 502);
  });

  test('a server that refuses the connection: the handshake goes to the next server, as a request would', async () => {
    for (let i = 0; i < 6; i++) {
      const { ws } = await connect(p.webPort, '/', { host: 'half.test' });
      ws.send('name');
      assert.equal((await nextMessage(ws)).data.toString(), 'echo');
      ws.close();
    }
  });

  test('sessions are counted: status 101 with protocol websocket, and an access log line with the bytes each way', async () => {
    const { ws } = await connect(p.webPort, '/counted');
    ws.send('x');
    await nextMessage(ws);
    ws.close();
    await closed(ws);
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = (await request(p.apiPort, { path: '/metrics' })).body.toString();
      if (/traefik_service_requests_total\{code="101",method="GET",protocol="websocket",service="echo@file"\} [1-9]/.test(text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /traefik_service_requests_total\{code="101",method="GET",protocol="websocket",service="echo@file"\} [1-9]/);
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && line === undefined; i++) {
      const lines = readFileSync(ACCESS_LOG, 'utf8').split('\n').filter((l) => l.includes('/counted'));
      if (lines.length > 0) line = JSON.parse(lines[0]!) as Record<string, unknown>;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(line !== undefined, 'no access log line for the session');
    assert.equal(line.DownstreamStatus, 101);
    assert.equal(line.RequestMethod, 'GET');
    assert.equal(line.ServiceName, 'echo@file');
    assert.equal(line.DownstreamContentSize, 1);
  });

  test("the dashboard's per-service traffic counts sessions, and handshakes no server could take as errors", async () => {
    const traffic = async () => JSON.parse((await request(p.apiPort, { path: '/api/traffic' })).body.toString()) as { services: Record<string, { requests: number; errors: number }> };
    const before = await traffic();
    const { ws } = await connect(p.webPort, '/', { host: 'deflate.test' });
    ws.close();
    await closed(ws);
    await assert.rejects(connect(p.webPort, '/', { host: 'down.test' }), /502/);
    // A session or handshake is counted when portero is done with it, which can be just after the client saw its end.
    const counted = (t: Awaited<ReturnType<typeof traffic>>) =>
      t.services['deflate@file']!.requests > before.services['deflate@file']!.requests && t.services['down@file']!.requests > before.services['down@file']!.requests;
    let after = await traffic();
    for (let i = 0; i < 50 && !counted(after); i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await traffic();
    }
    assert.equal(after.services['deflate@file']!.requests - before.services['deflate@file']!.requests, 1);
    assert.equal(after.services['deflate@file']!.errors, before.services['deflate@file']!.errors);
    assert.equal(after.services['down@file']!.requests - before.services['down@file']!.requests, 1);
    assert.equal(after.services['down@file']!.errors - before.services['down@file']!.errors, 1);
  });
});

describe('WebSockets on a TLS entry point', () => {
  let echo: EchoServer;
  let p: TestPortero;
  let securePort = 0;
  const secureConfig = (cert: TestCert): DynamicConfig => ({
    http: {
      routers: { app: { rule: 'Host(`wss.test`)', service: 'echo', tls: {} } },
      services: { echo: { loadBalancer: { servers: [{ url: echo.url }] } } },
      middlewares: {},
    },
    tls: { certificates: [{ certFile: cert.certFile, keyFile: cert.keyFile }] },
  });
  const open = async (servername: string | undefined) => {
    // ws passes TLS options through to tls.connect (its typings leave servername out).
    const options: WebSocket.ClientOptions & ConnectionOptions = { headers: { host: 'wss.test' }, servername, rejectUnauthorized: false };
    const ws = new WebSocket(`wss://127.0.0.1:${securePort}/secure`, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return ws;
  };
  const echoed = async (ws: WebSocket, text: string) => {
    ws.send(text);
    assert.equal((await nextMessage(ws)).data.toString(), text);
  };

  before(async () => {
    echo = await echoServer('secure-echo');
    p = await startPortero(
      secureConfig(makeCert({ names: ['wss.test'], key: 'ec' })),
      {
        extraPorts: 1,
        tweak: (c, [port]) => {
          securePort = port!;
          c.entryPoints.websecure = { ...c.entryPoints.web!, name: 'websecure', address: `127.0.0.1:${port}`, port: port!, tls: { explicit: true, domains: [] } };
        },
      },
    );
  });

  after(async () => {
    await p.stop();
    await echo.close();
  });

  test('wss:// with SNI (a named certificate) and without (the default one): the server sees X-Forwarded-Proto wss', async () => {
    for (const servername of ['wss.test', undefined]) {
      const ws = await open(servername);
      await echoed(ws, `over tls ${servername ?? 'without sni'}`);
      assert.equal(echo.handshakes.at(-1)!.headers['x-forwarded-proto'], 'wss');
      ws.close();
      await closed(ws);
    }
  });

  test('a session made before its certificate is renewed goes on; new sessions get the new certificate', async () => {
    const before = await open('wss.test');
    await echoed(before, 'before the renewal');
    const renewed = makeCert({ names: ['wss.test'], key: 'ec', days: 60 });
    p.provider.set(secureConfig(renewed));
    const serial = new X509Certificate(renewed.cert).serialNumber;
    const deadline = Date.now() + 5000;
    for (;;) {
      const ws = await open('wss.test');
      const seen = ((ws as unknown as { _socket: TLSSocket })._socket).getPeerCertificate().serialNumber;
      await echoed(ws, 'after the renewal');
      ws.close();
      await closed(ws);
      if (seen === serial) break;
      assert.ok(Date.now() < deadline, 'the renewed certificate is served');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 10; i++) await echoed(before, `still here ${i}`);
    const done = closed(before);
    before.close(1000, 'done');
    assert.equal((await done).code, 1000);
  });
});
