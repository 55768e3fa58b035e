// Middlewares that take a response over, on real sockets: compress (gzip and
// brotli by Accept-Encoding, Traefik's conditions, streamed with
// backpressure, a server's gzip bomb passed untouched), buffering (413 and
// 500 at the limits) and errors (a page from another service under the
// original status). Bystanders on another router lose nothing meanwhile.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { startBystanders } from '../helpers/bystanders.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

/** 256 MiB of zeros, gzipped to a quarter MiB: what a hostile server might send. */
const BOMB = zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
const TEXT = 'portero compresses what the server sends. '.repeat(400); // ~16 KiB
const WORKERS = 2;

describe('compress, buffering and errors through portero', () => {
  let backend: http.Server;
  let pages: http.Server;
  let port = 0;
  let pagesPort = 0;
  let p: TestPortero;
  const pageRequests: string[] = [];

  const config = (): DynamicConfig => ({
    http: {
      routers: {
        zip: { rule: 'Host(`zip.test`)', service: 's', middlewares: ['gz'] },
        brfirst: { rule: 'Host(`br.test`)', service: 's', middlewares: ['gz-br'] },
        limited: { rule: 'Host(`limit.test`)', service: 's', middlewares: ['limits'] },
        pretty: { rule: 'Host(`errors.test`)', service: 's', middlewares: ['pages'] },
        both: { rule: 'Host(`both.test`)', service: 's', middlewares: ['pages', 'gz'] },
        plain: { rule: 'Host(`plain.test`)', service: 's' },
      },
      services: {
        s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } },
        'error-pages': { loadBalancer: { servers: [{ url: `http://127.0.0.1:${pagesPort}` }] } },
      },
      middlewares: {
        gz: { compress: { excludedContentTypes: ['image/png'], encodings: ['gzip'] } },
        'gz-br': { compress: {} },
        limits: { buffering: { maxRequestBodyBytes: 1000, maxResponseBodyBytes: 2000 } },
        pages: { errors: { status: ['500-599', '404'], service: 'error-pages', query: '/{status}.html' } },
      },
    },
  });

  before(async () => {
    backend = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
        res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
        res.end(body);
      };
      if (url.pathname === '/bystander') return send('text/plain', 'ok');
      if (url.pathname === '/text') return send('text/html; charset=utf-8', TEXT);
      if (url.pathname === '/small') return send('text/plain', 'tiny');
      if (url.pathname === '/png') return send('image/png', Buffer.alloc(4096, 7));
      if (url.pathname === '/encoded') return send('text/plain', zlib.gzipSync(TEXT), { 'content-encoding': 'gzip' });
      if (url.pathname === '/echo') {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => send('text/plain', `got ${n}`));
        return;
      }
      if (url.pathname === '/stream') {
        // Unknown length (chunked), n KiB.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const n = Number(url.searchParams.get('kib') ?? 1);
        for (let i = 0; i < n; i++) res.write('x'.repeat(1024));
        res.end();
        return;
      }
      if (url.pathname === '/random') {
        // Incompressible and endless until the client goes: only backpressure keeps it bounded.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const block = randomBytes(64 * 1024);
        const pump = () => {
          while (!res.destroyed && res.write(block));
        };
        res.on('drain', pump);
        res.on('close', () => res.off('drain', pump));
        pump();
        return;
      }
      if (url.pathname === '/bomb') return send('text/plain', BOMB, { 'content-encoding': 'gzip' });
      send('text/plain', `backend says ${url.pathname}`);
    });
    pages = http.createServer((req, res) => {
      pageRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html', 'x-page': 'yes' });
      res.end(`<h1>sorry: ${req.url}</h1>`);
    });
    port = await listenLocal(backend);
    pagesPort = await listenLocal(pages);
    p = await startPortero(config(), { workers: WORKERS });
  });

  after(async () => {
    await p.stop();
    backend.close();
    pages.close();
  });

  test('compress: gzip when accepted, with Content-Encoding and Vary, and the body intact', async () => {
    const r = await request(p.webPort, { path: '/text', headers: { host: 'zip.test', 'accept-encoding': 'gzip, deflate' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(String(r.headers.vary), /Accept-Encoding/i);
    // A small declared body is compressed whole and sent with its new length.
    assert.equal(Number(r.headers['content-length']), r.raw.length);
    assert.ok(r.raw.length < TEXT.length / 10, `compressed to ${r.raw.length} bytes`);
    assert.equal(zlib.gunzipSync(r.raw).toString(), TEXT);
  });

  test("compress: Traefik v3's order by default (gzip, br), the client's q first, nothing when it accepts neither", async () => {
    const first = await request(p.webPort, { path: '/text', headers: { host: 'br.test', 'accept-encoding': 'br, gzip' } });
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(first.raw).toString(), TEXT);
    const br = await request(p.webPort, { path: '/text', headers: { host: 'br.test', 'accept-encoding': 'gzip;q=0.5, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(br.raw).toString(), TEXT);
    const gz = await request(p.webPort, { path: '/text', headers: { host: 'br.test', 'accept-encoding': 'br;q=0, gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const none = await request(p.webPort, { path: '/text', headers: { host: 'br.test', 'accept-encoding': 'identity' } });
    assert.equal(none.headers['content-encoding'], undefined);
    assert.equal(none.body, TEXT);
    const absent = await request(p.webPort, { path: '/text', headers: { host: 'br.test' } });
    assert.equal(absent.headers['content-encoding'], undefined);
  });

  test('compress: small bodies, excluded types and already-encoded bodies pass as they are', async () => {
    const small = await request(p.webPort, { path: '/small', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.body, 'tiny');
    const png = await request(p.webPort, { path: '/png', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.raw.length, 4096);
    const encoded = await request(p.webPort, { path: '/encoded', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(encoded.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(encoded.raw).toString(), TEXT, 'encoded once, not twice');
  });

  test('compress: a chunked body waits for minResponseBodyBytes before deciding', async () => {
    const under = await request(p.webPort, { path: '/stream?kib=0', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(under.headers['content-encoding'], undefined);
    const over = await request(p.webPort, { path: '/stream?kib=64', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(over.headers['content-encoding'], 'gzip');
    assert.equal(over.headers['transfer-encoding'], 'chunked', 'streamed as it is compressed');
    assert.equal(zlib.gunzipSync(over.raw).length, 64 * 1024);
  });

  test('compress: HEAD gets the head alone, uncompressed', async () => {
    const r = await request(p.webPort, { method: 'HEAD', path: '/text', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(r.raw.length, 0);
  });

  test('buffering: a declared body over maxRequestBodyBytes gets 413 and never reaches the server; under, it passes', async () => {
    const over = await request(p.webPort, { method: 'POST', path: '/echo', headers: { host: 'limit.test' }, body: Buffer.alloc(1500, 1) });
    assert.equal(over.status, 413);
    const under = await request(p.webPort, { method: 'POST', path: '/echo', headers: { host: 'limit.test' }, body: Buffer.alloc(900, 1) });
    assert.equal(under.status, 200);
    assert.equal(under.body, 'got 900');
  });

  test('buffering: a chunked body passing the limit gets 413', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: p.webPort, method: 'POST', path: '/echo', headers: { host: 'limit.test', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(800, 1));
      setTimeout(() => req.end(Buffer.alloc(800, 1)), 50);
    });
    assert.equal(r, 413);
  });

  test('buffering: a response over maxResponseBodyBytes becomes a 500, declared or chunked; one under passes whole', async () => {
    const declared = await request(p.webPort, { path: '/text', headers: { host: 'limit.test' } });
    assert.equal(declared.status, 500);
    const chunked = await request(p.webPort, { path: '/stream?kib=3', headers: { host: 'limit.test' } });
    assert.equal(chunked.status, 500);
    const fits = await request(p.webPort, { path: '/stream?kib=1', headers: { host: 'limit.test' } });
    assert.equal(fits.status, 200);
    assert.equal(fits.body, 'x'.repeat(1024));
  });

  test('errors: a status in range gets the page from the errors service, under the original status', async () => {
    const r = await request(p.webPort, { path: '/broken?status=503', headers: { host: 'errors.test' } });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-page'], 'yes');
    assert.equal(r.body, '<h1>sorry: /503.html</h1>');
    const missing = await request(p.webPort, { path: '/nothing?status=404', headers: { host: 'errors.test' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '<h1>sorry: /404.html</h1>');
    const fine = await request(p.webPort, { path: '/fine', headers: { host: 'errors.test' } });
    assert.equal(fine.status, 200);
    assert.equal(fine.body, 'backend says /fine');
    const teapot = await request(p.webPort, { path: '/x?status=418', headers: { host: 'errors.test' } });
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body, 'backend says /x');
  });

  test('errors inside compress: the page is what gets compressed', async () => {
    const r = await request(p.webPort, { path: '/x?status=502', headers: { host: 'both.test', 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-page'], 'yes');
  });

  test('a gzip bomb from the server passes as the server sent it: never inflated', async () => {
    const before = process.memoryUsage().rss;
    const r = await request(p.webPort, { path: '/bomb', headers: { host: 'zip.test', 'accept-encoding': 'gzip' } });
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.raw.length, BOMB.length);
    assert.ok(r.raw.equals(BOMB));
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 128 * 1024 * 1024, `rss grew by ${grown} bytes`);
  });

  test('compress streams with backpressure: a client that reads nothing holds a bounded amount, bystanders are served', async () => {
    const bystanders = await startBystanders(p.webPort, { host: 'plain.test', path: '/bystander', workers: WORKERS, expect: 'ok' });
    const before = process.memoryUsage().rss;
    // An endless incompressible body to a client that never reads: portero must pause the server, not buffer.
    const sock = net.connect(p.webPort, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    sock.write('GET /random HTTP/1.1\r\nhost: zip.test\r\naccept-encoding: gzip\r\n\r\n');
    await new Promise((r) => setTimeout(r, 2000));
    const grown = process.memoryUsage().rss - before;
    sock.destroy();
    const report = await bystanders.stop();
    assert.deepEqual(report.failures, []);
    assert.ok(report.requests > 0);
    assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${grown} bytes while the client read nothing`);
  });
});
