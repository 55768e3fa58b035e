// Traefik's own web UI pointed at portero: every API request its pages make
// (webui/src in Traefik v3: the version context, the dashboard's overview and
// entry points, the paged lists with their search, status and sort, each
// element's detail page and the elements it links to, certificates) answers
// 200 with JSON, so no page of it shows an error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { startPortero } from '../helpers/portero.js';

interface Answer {
  status: number;
  type: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

test("every request of Traefik's web UI pages answers 200 JSON", async () => {
  const users = [`admin:{SHA}${createHash('sha1').update('pw').digest('base64')}`];
  const p = await startPortero({
    http: {
      routers: {
        whoami: { rule: 'Host(`whoami.localhost`)', service: 'whoami', middlewares: ['auth'] },
        canary: { rule: 'Host(`canary.localhost`)', service: 'canary', entryPoints: ['web', 'nope'] },
        broken: { rule: 'Host(`x`', service: 'whoami' },
      },
      services: {
        whoami: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9301' }, { url: 'http://127.0.0.1:9302', weight: 2 }] } },
        canary: { weighted: { services: [{ name: 'whoami', weight: 3 }] } },
        spare: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9303' }] } },
      },
      middlewares: { auth: { basicAuth: { users } } },
    },
  });
  const failures: string[] = [];
  let requests = 0;
  const get = async (path: string): Promise<Answer> => {
    requests++;
    const r = await fetch(`http://127.0.0.1:${p.apiPort}/api${path}`);
    const text = await r.text();
    const answer = { status: r.status, type: r.headers.get('content-type'), json: r.status === 200 ? JSON.parse(text) : text };
    if (answer.status !== 200 || answer.type !== 'application/json') failures.push(`${path}: ${answer.status} ${answer.type} ${r.status === 200 ? '' : text}`);
    return answer;
  };
  try {
    // The version context and the dashboard page.
    const version = (await get('/version')).json;
    assert.equal(typeof version.Version, 'string');
    const overview = (await get('/overview')).json;
    for (const section of ['http', 'tcp', 'udp']) assert.equal(typeof overview[section].routers.total, 'number', section);
    assert.deepEqual(Object.keys(overview.certificates), ['total', 'warnings', 'errors']);
    await get('/entrypoints');

    // The list pages: every protocol and kind, each status tab, each column's sort, both directions.
    const lists: Record<string, string[]> = {
      http: ['routers', 'services', 'middlewares'],
      tcp: ['routers', 'services', 'middlewares'],
      udp: ['routers', 'services'],
    };
    const sorts: Record<string, string[]> = {
      routers: ['name', 'status', 'provider', 'priority', 'rule', 'service', 'entryPoints'],
      services: ['name', 'status', 'provider', 'type', 'servers'],
      middlewares: ['name', 'status', 'provider', 'type'],
    };
    for (const [proto, kinds] of Object.entries(lists)) {
      for (const kind of kinds) {
        for (const status of ['', 'enabled', 'warning', 'disabled']) {
          await get(`/${proto}/${kind}?page=1&per_page=10&search=&status=${status}&sortBy=name&direction=asc`);
        }
        for (const sortBy of sorts[kind]!) {
          for (const direction of ['asc', 'desc']) await get(`/${proto}/${kind}?page=1&per_page=10&sortBy=${sortBy}&direction=${direction}`);
        }
        await get(`/${proto}/${kind}?page=1&per_page=10&search=who`);
      }
    }

    // Each element's detail page, with the entry points, middlewares, routers and services it links to.
    const qualify = (name: string, provider: string) => (name.includes('@') ? name : `${name}@${provider}`);
    const routers = (await get('/http/routers?per_page=100')).json as { name: string; provider: string; service?: string; using?: string[]; middlewares?: string[] }[];
    assert.ok(routers.length >= 6, 'the three configured and the internal ones');
    for (const r of routers) {
      await get(`/http/routers/${encodeURIComponent(r.name)}`);
      for (const ep of r.using ?? []) await get(`/entrypoints/${encodeURIComponent(ep)}`);
      for (const m of r.middlewares ?? []) await get(`/http/middlewares/${encodeURIComponent(m)}`);
      if (r.service !== undefined) await get(`/http/services/${encodeURIComponent(qualify(r.service, r.provider))}`);
    }
    for (const kind of ['services', 'middlewares']) {
      const items = (await get(`/http/${kind}?per_page=100`)).json as { name: string; usedBy?: string[] }[];
      for (const item of items) {
        await get(`/http/${kind}/${encodeURIComponent(item.name)}`);
        for (const r of item.usedBy ?? []) await get(`/http/routers/${encodeURIComponent(r)}`);
      }
    }

    // The certificates page: an empty list here (no TLS entry point), still a list.
    assert.deepEqual((await get('/certificates?page=1&per_page=10')).json, []);

    assert.deepEqual(failures, []);
    assert.ok(requests > 100, `${requests} requests`);
  } finally {
    await p.stop();
  }
});
