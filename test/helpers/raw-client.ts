// A byte-exact HTTP/1.1 client on one socket, for tests that care which
// connection a request used and what exactly came back: interim 100s,
// Connection: close, a clean close or a reset. Responses must carry a
// Content-Length or be chunked.
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** A "100 Continue" came before it. */
  sawContinue: boolean;
}

export class RawClient {
  readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  /** The server closed (FIN or reset). */
  closed = false;
  /** The socket failed (ECONNRESET, EPIPE): recorded, never thrown. */
  error: string | null = null;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.poke();
    });
    this.socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??= e.code ?? e.message;
      this.poke();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
  }

  static async open(port: number): Promise<RawClient> {
    const c = new RawClient(port);
    await c.connected;
    return c;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits until the server closes the connection (true) or `ms` pass (false). */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.wait(deadline - Date.now());
    return this.closed;
  }

  /** Whether a "100 Continue" has arrived (waits up to `ms`); it stays in the buffer for read(). */
  async continued(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.buf.toString('latin1', 0, 12) === 'HTTP/1.1 100') return true;
      if (this.buf.length >= 12 || this.closed || Date.now() >= deadline) return false;
      await this.wait(deadline - Date.now());
    }
  }

  /** Reads one final response (skipping 1xx), or throws after `ms` or on a close before it is whole. */
  async read(ms = 5000, headRequest = false): Promise<RawResponse> {
    const deadline = Date.now() + ms;
    let sawContinue = false;
    for (;;) {
      const parsed = this.tryParse(headRequest);
      if (parsed === 'continue') {
        sawContinue = true;
        continue;
      }
      if (parsed !== null) return { ...parsed, sawContinue };
      if (this.closed) throw new Error(`connection closed before a whole response (${this.error ?? 'FIN'}; had ${JSON.stringify(this.buf.toString('latin1', 0, 120))})`);
      if (Date.now() >= deadline) throw new Error(`no whole response within ${ms} ms (had ${JSON.stringify(this.buf.toString('latin1', 0, 120))})`);
      await this.wait(deadline - Date.now());
    }
  }

  private tryParse(headRequest: boolean): Omit<RawResponse, 'sawContinue'> | 'continue' | null {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const lines = this.buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(lines[0].slice(9, 12));
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let rest = this.buf.subarray(end + 4);
    if (status >= 100 && status < 200) {
      this.buf = rest;
      return 'continue';
    }
    if (headRequest || status === 204 || status === 304) {
      this.buf = rest;
      return { status, headers, body: Buffer.alloc(0) };
    }
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lf = rest.indexOf('\r\n');
        if (lf === -1) return null;
        const size = parseInt(rest.toString('latin1', 0, lf), 16);
        if (rest.length < lf + 2 + size + 2) return null;
        if (size === 0) {
          // No trailers in these tests.
          this.buf = rest.subarray(lf + 4);
          return { status, headers, body: Buffer.concat(parts) };
        }
        parts.push(rest.subarray(lf + 2, lf + 2 + size));
        rest = rest.subarray(lf + 2 + size + 2);
      }
    }
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < length) return null;
    this.buf = rest.subarray(length);
    return { status, headers, body: Buffer.from(rest.subarray(0, length)) };
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, Math.max(1, ms));
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private poke(): void {
    this.wake?.();
  }
}

/** One GET on the client's connection. */
export async function get(c: RawClient, host: string, path = '/', ms = 5000): Promise<RawResponse> {
  c.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  return c.read(ms);
}
