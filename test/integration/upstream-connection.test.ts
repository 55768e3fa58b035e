// The upstream connection's reuse rules, driven directly with a recording
// exchange against backends on loopback: a socket goes back to the pool only
// when its request was written to the last byte and its response read to
// the last byte, and it is never pooled paused.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { ExchangeSink, UpstreamConnection } from '../../src/upstream/connection.js';
import { ServerPool } from '../../src/upstream/pool.js';
import type { ResponseHead } from '../../src/upstream/response-parser.js';
import { listenLocal as listen } from '../helpers/streams.js';

const OPTIONS = { maxIdle: 10, maxConns: 0, dialTimeoutMs: 1000, idleTimeoutMs: 60_000, maxHeadBytes: 65536, readTimeoutMs: 0, pipelining: 0, tls: { insecureSkipVerify: false, rootCAs: [] } };

/** An exchange that records events; `slow` makes it refuse more body (a client that reads slowly). */
class Recorder implements ExchangeSink {
  status = 0;
  body = '';
  completed = false;
  error: Error | null = null;
  sent = false;
  constructor(private readonly slow = false) {}
  onHead(head: ResponseHead): void {
    this.status = head.status;
  }
  onBody(chunk: Buffer): boolean {
    this.body += chunk.toString();
    return !this.slow;
  }
  onComplete(): void {
    this.completed = true;
  }
  onRequestSent(): void {
    this.sent = true;
  }
  onDrain(): void {}
  onConnectionError(err: Error): void {
    this.error = err;
  }
  onInternalError(err: unknown): void {
    this.error = err as Error;
  }
  abandonable(): boolean {
    return false;
  }
}

function connection(pool: ServerPool): Promise<UpstreamConnection> {
  return new Promise((resolve, reject) => {
    const conn = pool.acquire({ onConnection: resolve, onConnectError: reject });
    if (conn !== null) resolve(conn);
  });
}

async function until(what: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}


const cork = (fn: () => void) => fn();

test('a socket paused by a slow client in the very read that completed its response is resumed before it is pooled', async () => {
  // Each request gets its whole response in one write, so the read that pauses is the one that completes.
  const server = net.createServer((s) => s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')));
  const pool = new ServerPool('127.0.0.1', await listen(server), null, OPTIONS);
  try {
    const first = new Recorder(true);
    const conn = await connection(pool);
    conn.send(first, false, cork, 'GET /1 HTTP/1.1\r\nhost: a\r\n\r\n', -1);
    await until(() => first.completed);
    assert.equal(first.body, 'hello');
    assert.equal(pool.idleCount, 1);
    assert.equal(pool.idleBusyCount, 0, 'pooled neither paused nor busy');
    // The next request on the pooled socket is answered: it was not left paused.
    const second = new Recorder();
    const again = await connection(pool);
    assert.equal(again, conn, 'the same socket');
    again.send(second, false, cork, 'GET /2 HTTP/1.1\r\nhost: a\r\n\r\n', -1);
    await until(() => second.completed);
    assert.equal(second.status, 200);
  } finally {
    pool.retire();
    server.close();
  }
});

test('a socket whose request body was not all written is never pooled, even when the response was complete and keep-alive', async () => {
  // Answers at the head, before the body: an early 401.
  const server = net.createServer((s) => {
    s.once('data', () => s.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope'));
    s.on('error', () => {});
  });
  const pool = new ServerPool('127.0.0.1', await listen(server), null, OPTIONS);
  try {
    const x = new Recorder();
    const conn = await connection(pool);
    conn.send(x, false, cork, 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\n', 10);
    conn.sendBody(Buffer.from('12345'));
    await until(() => x.completed);
    assert.equal(x.status, 401);
    assert.ok(!x.sent, 'the request was never fully sent');
    // The other 5 bytes would be read by the server as the start of the next request.
    assert.equal(pool.idleCount, 0);
    assert.equal(pool.openCount, 0);
    assert.ok(conn.isDead);
  } finally {
    pool.retire();
    server.close();
  }
});

test('a request fully written and answered in full goes back to the pool; onRequestSent comes once the body is out', async () => {
  const server = net.createServer((s) => {
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.endsWith('0\r\n\r\n')) {
        got = '';
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  const pool = new ServerPool('127.0.0.1', await listen(server), null, OPTIONS);
  try {
    const x = new Recorder();
    const conn = await connection(pool);
    conn.send(x, false, cork, 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n', -2);
    assert.ok(!x.sent, 'not sent before the body');
    conn.sendBody(Buffer.from('abc'));
    assert.ok(!x.sent);
    conn.endBody();
    await until(() => x.completed);
    assert.ok(x.sent);
    assert.equal(x.body, 'ok');
    assert.equal(pool.idleCount, 1);
  } finally {
    pool.retire();
    server.close();
  }
});
