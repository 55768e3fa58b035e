// --entrypoints.<n>.http.middlewares on real sockets: every router on the
// entry point runs them before its own, a router on two entry points is two
// routers (Traefik's "<entry point>-<router>" copy), and a bad reference
// disables only the routers of its entry point, with the error in the API.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { StaticConfig } from '../../src/config/static.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

interface RouterJson {
  name: string;
  entryPoints: string[];
  middlewares?: string[];
  status: string;
  error?: string[];
}

describe('entry point middlewares through portero', () => {
  let backend: http.Server;
  let port = 0;
  let edgePort = 0;
  let p: TestPortero;

  const config = (): DynamicConfig => ({
    http: {
      routers: {
        // No entryPoints: on web and edge alike.
        app: { rule: 'Host(`app.test`)', service: 's', middlewares: ['strip'] },
        plain: { rule: 'Host(`plain.test`)', service: 's', entryPoints: ['web'] },
      },
      services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
      middlewares: {
        tag: { headers: { customResponseHeaders: { 'X-Entry-Point': 'web' } } },
        'edge-strip': { stripPrefix: { prefixes: ['/edge'] } },
        strip: { stripPrefix: { prefixes: ['/api'] } },
      },
    },
  });

  before(async () => {
    backend = http.createServer((req, res) => res.end(req.url ?? ''));
    port = await listenLocal(backend);
    p = await startPortero(config(), {
      extraPorts: 1,
      tweak: (c: StaticConfig, [extra]) => {
        edgePort = extra!;
        // Bare names are the router's provider's: tag@file, edge-strip@file.
        c.entryPoints.web!.middlewares = ['tag', 'edge-strip'];
        c.entryPoints.edge = { ...c.entryPoints.web!, name: 'edge', address: `127.0.0.1:${edgePort}`, port: edgePort, middlewares: ['missing@file'] };
      },
    });
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  test("the entry point's middlewares run first, then the router's own", async () => {
    // edge-strip then strip: /edge/api/x -> /api/x -> /x. The other order would leave /api/x.
    const r = await request(p.webPort, { path: '/edge/api/x?q=1', headers: { host: 'app.test' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, '/x?q=1');
    assert.equal(r.headers['x-entry-point'], 'web');
  });

  test('a router without middlewares of its own gets the entry point ones', async () => {
    const r = await request(p.webPort, { path: '/edge/page', headers: { host: 'plain.test' } });
    assert.equal(r.body, '/page');
    assert.equal(r.headers['x-entry-point'], 'web');
  });

  test('a bad reference disables the routers of its entry point only', async () => {
    const r = await request(edgePort, { path: '/api/x', headers: { host: 'app.test' } });
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-entry-point'], undefined);
  });

  test('the API lists the copies with their effective middlewares, and the error', async () => {
    const res = await fetch(`http://127.0.0.1:${p.apiPort}/api/http/routers`);
    const routers = new Map(((await res.json()) as RouterJson[]).map((r) => [r.name, r]));
    assert.equal(routers.has('app@file'), false, 'a router on two entry points with middlewares is two routers');
    const web = routers.get('web-app@file')!;
    assert.deepEqual([web.status, web.entryPoints, web.middlewares], ['enabled', ['web'], ['tag@file', 'edge-strip@file', 'strip@file']]);
    const edge = routers.get('edge-app@file')!;
    assert.equal(edge.status, 'disabled');
    assert.deepEqual(edge.middlewares, ['missing@file', 'strip@file']);
    assert.match(edge.error!.join('\n'), /entry point "edge"'s middlewares \(--entrypoints\.edge\.http\.middlewares\): unknown middleware "missing@file"/);
    assert.deepEqual(routers.get('plain@file')!.middlewares, ['tag@file', 'edge-strip@file']);

    const mw = (await (await fetch(`http://127.0.0.1:${p.apiPort}/api/http/middlewares/tag@file`)).json()) as { usedBy: string[] };
    assert.deepEqual(mw.usedBy, ['plain@file', 'web-app@file']);
    const ep = (await (await fetch(`http://127.0.0.1:${p.apiPort}/api/entrypoints/edge`)).json()) as { http: unknown };
    assert.deepEqual(ep.http, { middlewares: ['missing@file'] });
  });
});
