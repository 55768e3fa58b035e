// Incremental HTTP/1.1 response parser for upstream connections.
// Owned hot-path code: it works on the connection's reused read buffer and
// hands body bytes out as views into it, so a sink must consume (or copy)
// them before returning. It parses only what forwarding needs.

export const enum BodyMode {
  /** No body: HEAD request, 204, 304. */
  None = 0,
  Length = 1,
  Chunked = 2,
  /** Ends when the upstream closes the connection. */
  Close = 3,
}

export interface ResponseHead {
  status: number;
  /** Reason phrase as sent (may be ""). */
  reason: string;
  /** Flat list [name, value, name, value, ...], names as sent, hop-by-hop headers and framing headers removed. */
  headers: string[];
  mode: BodyMode;
  /** Declared Content-Length (mode Length), else -1. */
  contentLength: number;
  /** Whether the connection can carry another request after this response. */
  keepAlive: boolean;
}

export interface ResponseSink {
  onHead(head: ResponseHead): void;
  /** A view into the read buffer: valid only during the call. */
  onBody(chunk: Buffer): void;
  onComplete(keepAlive: boolean): void;
}

export class UpstreamProtocolError extends Error {
  override name = 'UpstreamProtocolError';
}

const enum State {
  Head,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  BodyClose,
  Done,
}

const CR = 13;
const LF = 10;
const MAX_CHUNK_LINE = 4096;

// Hop-by-hop headers (RFC 9110 7.6.1) plus framing and Date, which uWS writes itself.
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'date',
]);

const DROPPED_LENGTH = new Uint8Array(64);
for (const name of DROPPED) DROPPED_LENGTH[name.length] = 1;

export class ResponseParser {
  private state = State.Done;
  private sink: ResponseSink | null = null;
  private headRequest = false;
  private pending: Buffer | null = null; // partial head or chunk-size line
  private remaining = 0;
  private keepAlive = true;
  private trailerLineEmpty = true;

  constructor(private readonly maxHeadBytes: number) {}

  /** Starts expecting a response to a request with the given method. */
  expect(sink: ResponseSink, headRequest: boolean): void {
    this.sink = sink;
    this.headRequest = headRequest;
    this.state = State.Head;
    this.pending = null;
    this.remaining = 0;
    this.keepAlive = true;
  }

  get idle(): boolean {
    return this.state === State.Done;
  }

  /** True when the response so far ends cleanly at EOF (close-delimited body). */
  get endsAtEof(): boolean {
    return this.state === State.BodyClose;
  }

  /** Whether any byte of the current response has been seen. */
  get started(): boolean {
    return this.state !== State.Head || this.pending !== null;
  }

  /** Upstream closed the connection. Completes a close-delimited body; otherwise the response is truncated. */
  eof(): void {
    if (this.state === State.BodyClose) {
      this.state = State.Done;
      this.sink!.onComplete(false);
      return;
    }
    if (this.state !== State.Done) throw new UpstreamProtocolError('upstream closed the connection before the response was complete');
  }

  /**
   * Consumes buf[start, end) up to the end of the current response and
   * returns where it stopped: `end`, or the first byte after the response
   * (what follows belongs to the next response on a pipelined connection, or
   * is the upstream speaking out of turn: the caller decides). Throws
   * UpstreamProtocolError on malformed input.
   */
  feed(buf: Buffer, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case State.Head:
          pos = this.feedHead(buf, pos, end);
          break;
        case State.BodyLength: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          const chunk = buf.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) this.state = State.Done;
          this.sink!.onBody(chunk);
          if (this.state === State.Done) this.sink!.onComplete(this.keepAlive);
          break;
        }
        case State.BodyClose:
          this.sink!.onBody(buf.subarray(pos, end));
          pos = end;
          break;
        case State.ChunkSize:
          pos = this.feedChunkSize(buf, pos, end);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          const chunk = buf.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          this.sink!.onBody(chunk);
          break;
        }
        case State.ChunkDataEnd:
          // Expect exactly CRLF after chunk data.
          while (this.remaining > 0 && pos < end) {
            const expected = this.remaining === 2 ? CR : LF;
            if (buf[pos] !== expected) throw new UpstreamProtocolError('malformed chunk: missing CRLF after chunk data');
            pos++;
            this.remaining--;
          }
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        case State.Trailers:
          pos = this.feedTrailers(buf, pos, end);
          break;
        case State.Done:
          return pos;
      }
    }
    return pos;
  }

  private feedHead(buf: Buffer, pos: number, end: number): number {
    let data = buf;
    let from = pos;
    let to = end;
    let offsetBias = 0;
    if (this.pending !== null) {
      offsetBias = this.pending.length;
      data = Buffer.concat([this.pending, buf.subarray(pos, end)]);
      from = 0;
      to = data.length;
      this.pending = null;
    }
    const headEnd = data.indexOf('\r\n\r\n', from, 'latin1');
    if (headEnd === -1 || headEnd >= to) {
      if (to - from > this.maxHeadBytes) throw new UpstreamProtocolError('upstream response headers too large');
      this.pending = Buffer.from(data.subarray(from, to));
      return end;
    }
    if (headEnd - from > this.maxHeadBytes) throw new UpstreamProtocolError('upstream response headers too large');
    const consumedInData = headEnd + 4 - from;
    this.parseHead(data.toString('latin1', from, headEnd));
    // Position in the caller's buffer just past the head.
    return pos + consumedInData - offsetBias;
  }

  private parseHead(text: string): void {
    const lineEnd = text.indexOf('\r\n');
    const statusLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
    // "HTTP/1.1 200 OK"
    if (statusLine.length < 12 || !statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(12) !== 32 && statusLine.length > 12) {
      throw new UpstreamProtocolError(`malformed status line: ${JSON.stringify(statusLine.slice(0, 64))}`);
    }
    const minor = statusLine.charCodeAt(7) - 48;
    if ((minor !== 0 && minor !== 1) || statusLine.charCodeAt(8) !== 32) {
      throw new UpstreamProtocolError(`malformed status line: ${JSON.stringify(statusLine.slice(0, 64))}`);
    }
    const status = parseStatus(statusLine);
    const reason = statusLine.length > 13 ? statusLine.slice(13) : '';
    if (hasControl(reason)) throw new UpstreamProtocolError('malformed status line: control character in reason');

    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let hasTransferEncoding = false;
    let connectionClose = minor === 0;
    let extraHop: string[] | null = null;
    let p = lineEnd === -1 ? text.length : lineEnd + 2;
    while (p < text.length) {
      let e = text.indexOf('\r\n', p);
      if (e === -1) e = text.length;
      const colon = text.indexOf(':', p);
      if (colon === -1 || colon >= e || colon === p) throw new UpstreamProtocolError('malformed header line');
      const name = text.slice(p, colon);
      if (!isToken(name)) throw new UpstreamProtocolError(`malformed header name ${JSON.stringify(name.slice(0, 64))}`);
      let vs = colon + 1;
      let ve = e;
      while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
      while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
      const value = text.slice(vs, ve);
      if (hasControl(value)) throw new UpstreamProtocolError(`control character in header ${name}`);
      p = e + 2;
      // Lower-case (an allocation) only names as long as a dropped one.
      const lower = DROPPED_LENGTH[name.length] === 1 ? name.toLowerCase() : '';
      if (lower !== '' && DROPPED.has(lower)) {
        if (lower === 'content-length') {
          if (!/^\d{1,15}$/.test(value)) throw new UpstreamProtocolError(`invalid Content-Length ${JSON.stringify(value)}`);
          const n = Number(value);
          if (contentLength !== -1 && contentLength !== n) throw new UpstreamProtocolError('conflicting Content-Length headers');
          contentLength = n;
        } else if (lower === 'transfer-encoding') {
          hasTransferEncoding = true;
          const codings = value.toLowerCase().split(',');
          chunked = codings[codings.length - 1].trim() === 'chunked';
        } else if (lower === 'connection') {
          for (const token of value.toLowerCase().split(',')) {
            const t = token.trim();
            if (t === 'close') connectionClose = true;
            else if (t === 'keep-alive') {
              if (minor === 0) connectionClose = false;
            } else if (t !== '') (extraHop ??= []).push(t);
          }
        }
        continue;
      }
      headers.push(name, value);
    }
    if (extraHop !== null) {
      for (let i = headers.length - 2; i >= 0; i -= 2) {
        if (extraHop.includes(headers[i].toLowerCase())) headers.splice(i, 2);
      }
    }

    if (status >= 100 && status < 200) {
      // Interim responses (100 Continue, 103 Early Hints) are not forwarded:
      // uWS answers Expect itself. Wait for the final response.
      if (status === 101) throw new UpstreamProtocolError('unexpected 101 Switching Protocols');
      this.state = State.Head;
      return;
    }

    let mode: BodyMode;
    if (this.headRequest || status === 204 || status === 304) {
      mode = BodyMode.None;
    } else if (hasTransferEncoding) {
      // RFC 9112 6.3: Transfer-Encoding overrides Content-Length; such a
      // message must not be reused for another request.
      if (contentLength !== -1) connectionClose = true;
      mode = chunked ? BodyMode.Chunked : BodyMode.Close;
      if (!chunked) connectionClose = true;
      contentLength = -1;
    } else if (contentLength !== -1) {
      mode = BodyMode.Length;
    } else {
      mode = BodyMode.Close;
      connectionClose = true;
    }
    this.keepAlive = !connectionClose;
    const head: ResponseHead = { status, reason, headers, mode, contentLength, keepAlive: this.keepAlive };
    switch (mode) {
      case BodyMode.None:
        this.state = State.Done;
        break;
      case BodyMode.Length:
        this.remaining = contentLength;
        this.state = contentLength === 0 ? State.Done : State.BodyLength;
        break;
      case BodyMode.Chunked:
        this.state = State.ChunkSize;
        break;
      case BodyMode.Close:
        this.state = State.BodyClose;
        break;
    }
    this.sink!.onHead(head);
    if (this.state === State.Done) this.sink!.onComplete(this.keepAlive);
  }

  private feedChunkSize(buf: Buffer, pos: number, end: number): number {
    const lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= end) {
      const part = buf.subarray(pos, end);
      this.pending = this.pending === null ? Buffer.from(part) : Buffer.concat([this.pending, part]);
      if (this.pending.length > MAX_CHUNK_LINE) throw new UpstreamProtocolError('malformed chunk: size line too long');
      return end;
    }
    let line: string;
    if (this.pending !== null) {
      line = Buffer.concat([this.pending, buf.subarray(pos, lf + 1)]).toString('latin1');
      this.pending = null;
    } else {
      line = buf.toString('latin1', pos, lf + 1);
    }
    if (line.length < 3 || line.charCodeAt(line.length - 2) !== CR) throw new UpstreamProtocolError('malformed chunk: size line must end with CRLF');
    const semi = line.indexOf(';');
    const hex = (semi === -1 ? line.slice(0, -2) : line.slice(0, semi)).trimEnd();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new UpstreamProtocolError(`malformed chunk size ${JSON.stringify(hex.slice(0, 16))}`);
    const size = parseInt(hex, 16);
    if (size === 0) {
      this.state = State.Trailers;
      this.trailerLineEmpty = true;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return lf + 1;
  }

  // Trailers are read and dropped; the response ends at the empty line.
  private feedTrailers(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos++];
      if (c === LF) {
        if (this.trailerLineEmpty) {
          this.state = State.Done;
          this.sink!.onComplete(this.keepAlive);
          return pos;
        }
        this.trailerLineEmpty = true;
      } else if (c !== CR) {
        this.trailerLineEmpty = false;
      }
    }
    return pos;
  }
}

// RFC 9110 token characters, as a lookup table: cheaper per header than a regexp.
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHAR[c.charCodeAt(0)] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] === 0) return false;
  }
  return true;
}
// Field values may hold HTAB and visible/obs-text bytes, never other controls.
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

function parseStatus(line: string): number {
  const a = line.charCodeAt(9) - 48;
  const b = line.charCodeAt(10) - 48;
  const c = line.charCodeAt(11) - 48;
  if (a < 1 || a > 5 || b < 0 || b > 9 || c < 0 || c > 9) {
    throw new UpstreamProtocolError(`malformed status code in ${JSON.stringify(line.slice(0, 64))}`);
  }
  return a * 100 + b * 10 + c;
}
