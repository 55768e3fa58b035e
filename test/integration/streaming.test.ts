// Streaming responses on real sockets: Server-Sent Events and bodies without
// Content-Length reach the client as the server writes them (never held for
// more), and a stream that goes on longer than any idle timeout stays up
// while data flows. responseForwarding.flushInterval is accepted, as Traefik
// writes it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

/** Reads a streamed response, noting when each piece arrived (ms after the head). */
function stream(port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; pieces: { at: number; text: string }[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: 'stream.test' }, agent: false }, (res) => {
      const t0 = performance.now();
      const pieces: { at: number; text: string }[] = [];
      res.on('data', (c: Buffer) => pieces.push({ at: performance.now() - t0, text: c.toString() }));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, pieces }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('streaming responses through portero', () => {
  let backend: http.Server;
  let p: TestPortero;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  before(async () => {
    backend = http.createServer((req, res) => {
      if (req.url === '/events') {
        // One event at once, then one every 3 s for 12 s: longer than any idle timeout on either side.
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        for (let i = 1; i <= 4; i++) later(3000 * i, () => (i === 4 ? res.end(`data: ${i}\n\n`) : res.write(`data: ${i}\n\n`)));
        return;
      }
      if (req.url === '/slow-text') {
        // No Content-Length: chunked; the second half comes 1.5 s after the first.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first half;');
        later(1500, () => res.end('second half'));
        return;
      }
      res.end('ok');
    });
    const port = await listenLocal(backend);
    p = await startPortero(
      {
        http: {
          routers: { s: { rule: 'Host(`stream.test`)', service: 's' } },
          services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }], responseForwarding: { flushInterval: '100ms' } } } },
          middlewares: {},
        },
      },
      { workers: 2 },
    );
  });

  after(async () => {
    for (const t of timers) clearTimeout(t);
    await p.stop();
    backend.close();
  });

  test('an event stream: each event reaches the client as it is sent, and the stream outlives any idle timeout', async () => {
    const r = await stream(p.webPort, '/events');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    const text = r.pieces.map((x) => x.text).join('');
    assert.equal(text, 'data: first\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
    // The first event arrives with the head, not with the next one 3 s later.
    assert.match(r.pieces[0]!.text, /^data: first/);
    // Counted from the head, which the server wrote just before it: a held event would wait for the next one (3 s).
    assert.ok(r.pieces[0]!.at < 100, `first event ${r.pieces[0]!.at.toFixed(0)} ms after the head`);
    // Later events arrive about when sent, never bunched at the end.
    const second = r.pieces.find((x) => x.text.includes('data: 1'))!;
    assert.ok(second.at > 2000 && second.at < 5000, `second event after ${second.at.toFixed(0)} ms`);
  });

  test('a body without Content-Length: the first part arrives before the server writes the rest', async () => {
    const r = await stream(p.webPort, '/slow-text');
    assert.equal(r.pieces.map((x) => x.text).join(''), 'first half;second half');
    assert.equal(r.pieces[0]!.text, 'first half;');
    const last = r.pieces.at(-1)!;
    assert.ok(last.at - r.pieces[0]!.at > 1000, 'the second half came later, as the server sent it');
  });
});
