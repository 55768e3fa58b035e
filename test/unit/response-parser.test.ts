import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyMode, ResponseParser, type ResponseHead, UpstreamProtocolError } from '../../src/upstream/response-parser.js';

interface Seen {
  heads: ResponseHead[];
  body: string;
  completes: boolean[];
}

function parse(input: string | string[], head = false): Seen {
  const seen: Seen = { heads: [], body: '', completes: [] };
  const p = new ResponseParser(8192);
  p.expect({ onHead: (h) => seen.heads.push(h), onBody: (c) => (seen.body += c.toString('latin1')), onComplete: (k) => seen.completes.push(k) }, head);
  for (const part of Array.isArray(input) ? input : [input]) {
    const buf = Buffer.from(part, 'latin1');
    if (p.feed(buf, 0, buf.length) < buf.length) throw new UpstreamProtocolError('unexpected data after the response');
  }
  return seen;
}

test('content-length body, in one read or split at every byte', () => {
  const msg = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello';
  for (const input of [msg, msg.split('')]) {
    const s = parse(input);
    assert.equal(s.heads.length, 1);
    assert.equal(s.heads[0].status, 200);
    assert.equal(s.heads[0].reason, 'OK');
    assert.equal(s.heads[0].mode, BodyMode.Length);
    assert.deepEqual(s.heads[0].headers, ['X-A', 'b']);
    assert.equal(s.body, 'hello');
    assert.deepEqual(s.completes, [true]);
  }
});

test('chunked body with extensions and trailers, split anywhere', () => {
  const msg = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';
  for (let cut = 1; cut < msg.length; cut += 3) {
    const s = parse([msg.slice(0, cut), msg.slice(cut)]);
    assert.equal(s.body, 'hello world');
    assert.deepEqual(s.completes, [true]);
    assert.equal(s.heads[0].mode, BodyMode.Chunked);
  }
});

test('close-delimited body ends at EOF and forbids reuse', () => {
  const seen: string[] = [];
  let done: boolean | null = null;
  const p = new ResponseParser(8192);
  p.expect({ onHead: (h) => assert.equal(h.mode, BodyMode.Close), onBody: (c) => seen.push(c.toString()), onComplete: (k) => (done = k) }, false);
  const b = Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc');
  p.feed(b, 0, b.length);
  assert.equal(done, null);
  p.eof();
  assert.equal(seen.join(''), 'abc');
  assert.equal(done, false);
});

test('HEAD, 204 and 304 have no body; 1xx interim responses are skipped', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', true).heads[0].contentLength, 10);
  assert.deepEqual(parse('HTTP/1.1 204 No Content\r\n\r\n').completes, [true]);
  assert.deepEqual(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n').completes, [true]);
  const s = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nz');
  assert.equal(s.heads.length, 1);
  assert.equal(s.heads[0].status, 201);
  assert.equal(s.body, 'z');
});

test('hop-by-hop headers, those named in Connection, Date and framing are dropped', () => {
  const s = parse('HTTP/1.1 200 OK\r\nConnection: x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nDate: now\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(s.heads[0].headers, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
});

test('keep-alive: HTTP/1.0 and Connection: close are not reusable', () => {
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').completes, [false]);
  assert.deepEqual(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').completes, [false]);
  assert.deepEqual(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').completes, [true]);
});

test('malformed responses are rejected', () => {
  const bad = [
    'HTTP/2.0 200 OK\r\n\r\n',
    'HTTP/1.1 2x0 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n',
    'HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n',
    'garbage\r\n\r\n',
  ];
  for (const b of bad) assert.throws(() => parse(b), UpstreamProtocolError, JSON.stringify(b));
});

test('oversized heads are rejected', () => {
  assert.throws(() => parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(9000)}\r\n\r\n`), /too large/);
  assert.throws(() => parse(['HTTP/1.1 200 OK\r\n', `X: ${'a'.repeat(9000)}`]), /too large/);
});

test('feed stops at the end of a response and says where; truncation is detected at EOF', () => {
  assert.throws(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab'), /unexpected data/);
  // Two pipelined responses in one read: the first ends where the second begins.
  const two = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\n', 'latin1');
  const q = new ResponseParser(8192);
  const statuses: number[] = [];
  const sink = { onHead: (h: ResponseHead) => statuses.push(h.status), onBody() {}, onComplete() {} };
  q.expect(sink, false);
  const at = q.feed(two, 0, two.length);
  assert.equal(two.toString('latin1', at, at + 8), 'HTTP/1.1');
  q.expect(sink, false);
  assert.equal(q.feed(two, at, two.length), two.length);
  assert.deepEqual(statuses, [200, 204]);
  const p = new ResponseParser(8192);
  p.expect({ onHead() {}, onBody() {}, onComplete() {} }, false);
  const b = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  p.feed(b, 0, b.length);
  assert.throws(() => p.eof(), /before the response was complete/);
});
