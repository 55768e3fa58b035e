// Small HTTP clients for tests: node:http for ordinary requests, raw sockets
// for the byte-exact cases.
import http from 'node:http';
import net from 'node:net';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

export function request(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body: raw.toString(), raw });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends bytes, collects everything until the server closes or `idleMs` passes without data. */
export function rawExchange(port: number, data: string | Buffer, idleMs = 500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    let text = '';
    let timer = setTimeout(done, idleMs, false);
    function done(closed: boolean) {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    }
    s.on('data', (d) => {
      text += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, idleMs, false);
    });
    s.on('close', () => done(true));
    s.on('error', () => {});
  });
}
