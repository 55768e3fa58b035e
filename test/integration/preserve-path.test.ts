// Server urls with a path, as Traefik v3 treats them: the path is ignored
// unless the server has preservePath, which puts it before the request's
// path with one slash between (plain requests and WebSocket handshakes).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';
import { closed, connect, echoServer, type EchoServer } from '../helpers/websocket.js';

describe('server urls with a path, and preservePath', () => {
  let backend: http.Server;
  let echo: EchoServer;
  let p: TestPortero;
  let base = '';

  before(async () => {
    backend = http.createServer((req, res) => res.end(req.url));
    const port = await listenLocal(backend);
    base = `http://127.0.0.1:${port}`;
    echo = await echoServer('ws');
    const server = (path: string, preservePath?: boolean) => ({ url: `http://127.0.0.1:${port}${path}`, ...(preservePath === undefined ? {} : { preservePath }) });
    p = await startPortero({
      http: {
        routers: {
          kept: { rule: 'Host(`kept.test`)', service: 'kept' },
          slash: { rule: 'Host(`slash.test`)', service: 'slash' },
          ignored: { rule: 'Host(`ignored.test`)', service: 'ignored' },
          ws: { rule: 'Host(`ws.test`)', service: 'ws' },
        },
        services: {
          kept: { loadBalancer: { servers: [server('/base', true)] } },
          slash: { loadBalancer: { servers: [server('/base/', true)] } },
          ignored: { loadBalancer: { servers: [server('/base', false)] } },
          ws: { loadBalancer: { servers: [{ url: `${echo.url}/socket`, preservePath: true }] } },
        },
        middlewares: {},
      },
    });
  });

  after(async () => {
    await p.stop();
    backend.close();
    await echo.close();
  });

  const seen = async (host: string, path: string) => (await request(p.webPort, { path, headers: { host } })).body.toString();

  test('preservePath puts the server path first, with one slash between; without it the path is ignored', async () => {
    assert.equal(await seen('kept.test', '/x/y?q=1'), '/base/x/y?q=1');
    assert.equal(await seen('kept.test', '/'), '/base/');
    assert.equal(await seen('slash.test', '/x'), '/base/x');
    assert.equal(await seen('ignored.test', '/x?q=1'), '/x?q=1');
  });

  test('a WebSocket handshake to a preservePath server gets the path too', async () => {
    const { ws } = await connect(p.webPort, '/chat?room=1', { host: 'ws.test' });
    assert.equal(echo.handshakes.at(-1)!.url, '/socket/chat?room=1');
    ws.close();
    await closed(ws);
  });

  test('the API shows preservePath on the server', async () => {
    const svc = JSON.parse((await request(p.apiPort, { path: '/api/http/services/kept@file' })).body.toString()) as { loadBalancer: { servers: unknown[] } };
    assert.deepEqual(svc.loadBalancer.servers, [{ url: `${base}/base`, preservePath: true }]);
  });
});
