// Sticky sessions on real sockets, as Traefik configures them: the cookie's
// value is derived from the server's URL (SHA-256, as Traefik's), so every
// worker and a second portero agree on it; a cookie whose server is gone gets
// the balancer's next pick and a fresh cookie.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

const WORKERS = 2;
const valueOf = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 16);

describe('sticky sessions through portero', () => {
  const backends: http.Server[] = [];
  const urls: string[] = [];
  let p: TestPortero;
  let twin: TestPortero;

  const config = (servers: string[]): DynamicConfig => ({
    http: {
      routers: {
        app: { rule: 'Host(`app.test`)', service: 'app' },
        plain: { rule: 'Host(`plain.test`)', service: 'plain' },
        canary: { rule: 'Host(`canary.test`)', service: 'canary' },
        mix: { rule: 'Host(`mix.test`)', service: 'mix' },
      },
      services: {
        app: { loadBalancer: { servers: servers.map((url) => ({ url })), sticky: { cookie: { name: 'app_session', httpOnly: true, sameSite: 'lax' } } } },
        plain: { loadBalancer: { servers: servers.map((url) => ({ url })), sticky: { cookie: {} } } },
        // Nested cookies: the weighted service's names a child, the sticky child's names a server in it.
        blue: { loadBalancer: { servers: servers.slice(0, 2).map((url) => ({ url })), sticky: { cookie: { name: 'blue_server' } } } },
        green: { loadBalancer: { servers: servers.slice(2).map((url) => ({ url })) } },
        canary: { weighted: { services: [{ name: 'blue', weight: 1 }, { name: 'green', weight: 1 }], sticky: { cookie: { name: 'canary_color' } } } },
        // Not sticky itself: a request the weighted pick sends to blue keeps blue's own cookie.
        mix: { weighted: { services: [{ name: 'blue', weight: 1 }, { name: 'green', weight: 1 }] } },
      },
      middlewares: {},
    },
  });

  before(async () => {
    for (let i = 0; i < 4; i++) {
      const s = http.createServer((_req, res) => res.end(`server ${i}`));
      backends.push(s);
      urls.push(`http://127.0.0.1:${await listenLocal(s)}`);
    }
    p = await startPortero(config(urls), { workers: WORKERS });
    twin = await startPortero(config(urls), { workers: 1 });
  });

  after(async () => {
    await p.stop();
    await twin.stop();
    for (const s of backends) s.close();
  });

  const get = (port: number, cookie?: string, host = 'app.test') => request(port, { headers: cookie === undefined ? { host } : { host, cookie } });

  test("a first request gets a cookie naming its server, Traefik's value; with it, every request on any worker goes there", async () => {
    const first = await get(p.webPort);
    const server = Number(/server (\d)/.exec(first.body)![1]);
    const setCookie = first.headers['set-cookie'] ?? [];
    assert.deepEqual(setCookie, [`app_session=${valueOf(urls[server]!)}; Path=/; HttpOnly; SameSite=Lax`]);
    const cookie = `other=1; app_session=${valueOf(urls[server]!)}`;
    // New connections each: SO_REUSEPORT spreads them over both workers.
    const replies = await Promise.all(Array.from({ length: 100 }, () => get(p.webPort, cookie)));
    for (const r of replies) {
      assert.equal(r.body, `server ${server}`);
      assert.equal(r.headers['set-cookie'], undefined, 'a cookie that still points at a live server is not rewritten');
    }
    // Without the cookie, round robin goes on.
    const spread = new Set((await Promise.all(Array.from({ length: 8 }, () => get(p.webPort)))).map((r) => r.body));
    assert.ok(spread.size > 1);
  });

  test("a sticky weighted service: its cookie names the child (SHA-256 of the child's name), the child's own cookie the server", async () => {
    const colorOf = (server: number) => (server < 2 ? 'blue' : 'green');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const first = await get(p.webPort, undefined, 'canary.test');
      const server = Number(/server (\d)/.exec(first.body)![1]);
      const color = colorOf(server);
      seen.add(color);
      const cookies = first.headers['set-cookie'] ?? [];
      const expected = [`canary_color=${valueOf(color)}; Path=/`];
      if (color === 'blue') expected.push(`blue_server=${valueOf(urls[server]!)}; Path=/`);
      assert.deepEqual(cookies, expected);
      const jar = cookies.map((c) => c.split(';')[0]).join('; ');
      const again = await Promise.all(Array.from({ length: 20 }, () => get(p.webPort, jar, 'canary.test')));
      for (const r of again) {
        if (color === 'blue') assert.equal(r.body, `server ${server}`);
        else assert.equal(colorOf(Number(/server (\d)/.exec(r.body)![1])), 'green');
        assert.equal(r.headers['set-cookie'], undefined);
      }
    }
    assert.equal(seen.size, 2, 'both children were picked without a cookie');
    // Only the color cookie, for blue: the child is kept and blue's balancer picks a server, which gets its cookie.
    const r = await get(p.webPort, `canary_color=${valueOf('blue')}`, 'canary.test');
    const server = Number(/server (\d)/.exec(r.body)![1]);
    assert.equal(colorOf(server), 'blue');
    assert.deepEqual(r.headers['set-cookie'], [`blue_server=${valueOf(urls[server]!)}; Path=/`]);
  });

  test("below a weighted service that is not sticky, a sticky child's cookie holds whenever the pick lands on that child", async () => {
    const cookie = `blue_server=${valueOf(urls[1]!)}`;
    const replies = await Promise.all(Array.from({ length: 20 }, () => get(p.webPort, cookie, 'mix.test')));
    const servers = replies.map((r) => Number(/server (\d)/.exec(r.body)![1]));
    assert.ok(servers.some((s) => s >= 2), 'green still gets its share');
    assert.ok(servers.some((s) => s < 2), 'blue still gets its share');
    for (const [i, s] of servers.entries()) {
      if (s < 2) {
        assert.equal(s, 1, 'a request on blue goes to the server its cookie names');
        assert.equal(replies[i]!.headers['set-cookie'], undefined);
      }
    }
  });

  test('a second portero with the same configuration maps the cookie to the same server', async () => {
    for (const [i, url] of urls.entries()) assert.equal((await get(twin.webPort, `app_session=${valueOf(url)}`)).body, `server ${i}`);
  });

  test("without a name, the cookie is named as Traefik names it: _ and SHA-1 of the service's name", async () => {
    const r = await get(p.webPort, undefined, 'plain.test');
    const name = `_${createHash('sha1').update('_TRAEFIK_BACKEND_plain@file').digest('hex')}`.slice(0, 6);
    assert.match(String(r.headers['set-cookie']), new RegExp(`^${name}=[0-9a-f]{16}; Path=/$`));
  });

  test('a cookie for an unknown or removed server gets the next pick and a fresh cookie', async () => {
    const unknown = await get(p.webPort, 'app_session=0123456789abcdef');
    const fresh = (unknown.headers['set-cookie'] ?? [])[0] ?? '';
    assert.match(fresh, /^app_session=[0-9a-f]{16};/);
    const pinned = Number(/server (\d)/.exec(unknown.body)![1]);
    assert.ok(fresh.startsWith(`app_session=${valueOf(urls[pinned]!)};`));

    // The pinned server leaves the service (a task replaced): the cookie now re-pins.
    p.provider.set(config(urls.filter((_, i) => i !== pinned)));
    const cookie = `app_session=${valueOf(urls[pinned]!)}`;
    let moved: Awaited<ReturnType<typeof get>> | null = null;
    for (let i = 0; i < 50 && moved === null; i++) {
      const r = await get(p.webPort, cookie);
      if (r.body !== `server ${pinned}`) moved = r;
      else await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(moved !== null, 'requests left the removed server');
    const now = Number(/server (\d)/.exec(moved.body)![1]);
    assert.notEqual(now, pinned);
    assert.deepEqual(moved.headers['set-cookie'], [`app_session=${valueOf(urls[now]!)}; Path=/; HttpOnly; SameSite=Lax`]);
    p.provider.set(config(urls));
  });
});
