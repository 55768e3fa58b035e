// A raw HTTP/1.1 server for pipelining tests: it sees requests exactly as
// they arrive (several in one read when pipelined) and can misbehave the ways
// servers do behind a pipelining proxy: answer late, out of order, close or
// reset after some answers, or answer what nobody asked. Each answer's body
// is the request's path, so a test can tell whose answer a client got.
import net from 'node:net';

export interface PipelineServerOptions {
  /** Milliseconds before the answer to `path` (in order: later answers wait for it). */
  delayMs?: (path: string) => number;
  /** After this many answers on a connection: 'close' ends it (FIN), 'reset' resets it. */
  after?: { answers: number; then: 'close' | 'reset' };
  /** Holds answers until this many requests are waiting (or 300 ms pass), then answers them last first. */
  reverseBatches?: number;
  /** After its first answer on each connection, sends an answer nobody asked for. */
  stray?: boolean;
}

export interface PipelineServer {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  requests: number;
  /** The most requests one read carried: 2 or more means requests came pipelined. */
  maxPerRead: number;
  close(): Promise<void>;
}

function answer(path: string): string {
  const body = path.startsWith('/big') ? 'x'.repeat(8 * 1024 * 1024) : path;
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: text/plain\r\n\r\n${body}`;
}

export async function startPipelineServer(o: PipelineServerOptions = {}): Promise<PipelineServer> {
  const sockets = new Set<net.Socket>();
  const state: PipelineServer = {
    port: 0,
    connections: 0,
    requests: 0,
    maxPerRead: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    state.connections++;
    let pending = '';
    let answered = 0;
    let chain = Promise.resolve();
    let batch: string[] = [];
    let batchTimer: NodeJS.Timeout | null = null;
    const send = (path: string) => {
      if (socket.destroyed) return;
      socket.write(answer(path));
      answered++;
      if (o.stray === true && answered === 1) socket.write(answer('/stray'));
      if (o.after !== undefined && answered === o.after.answers) {
        if (o.after.then === 'close') socket.end();
        else socket.resetAndDestroy();
      }
    };
    const flushBatch = () => {
      if (batchTimer !== null) clearTimeout(batchTimer);
      batchTimer = null;
      const b = batch.reverse();
      batch = [];
      for (const p of b) send(p);
    };
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let inRead = 0;
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' HTTP/1.1'));
        inRead++;
        state.requests++;
        if (o.reverseBatches !== undefined) {
          batch.push(path);
          if (batch.length >= o.reverseBatches) flushBatch();
          else batchTimer ??= setTimeout(flushBatch, 300);
          continue;
        }
        const delay = o.delayMs?.(path) ?? 0;
        chain = chain.then(() => (delay > 0 ? new Promise<void>((r) => setTimeout(r, delay)) : undefined)).then(() => send(path));
      }
      state.maxPerRead = Math.max(state.maxPerRead, inRead);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}
