// One bench backend process: a uWebSockets.js app. Prints "listening <port>"
// once ready; SIGTERM closes it.
//   GET /bytes/<n>     n bytes of bodyOf(n); above 16 MiB streamed with
//                      backpressure (the 1 GiB memory case)
//   POST /upload/<n>   reads the whole body; BODY if it was n bytes, else 400
//   anything else      BODY (20 bytes)
//   node dist/bench/backend.js [port]   (0 or absent: any free port)
import uWS from 'uWebSockets.js';
import { BODY, bodyOf } from './body.js';

const port = Number(process.argv[2] ?? 0);
let token: uWS.us_listen_socket | null = null;

/** Bodies up to this size are kept in memory and sent with one end(). */
const CACHED_MAX = 16 * 1024 * 1024;
const cache = new Map<number, Buffer>();
function cached(n: number): Buffer {
  let b = cache.get(n);
  if (b === undefined) {
    b = Buffer.from(bodyOf(n), 'latin1');
    cache.set(n, b);
  }
  return b;
}

/** A multiple of BODY's length, so consecutive chunks continue the pattern. */
const CHUNK = Buffer.from(bodyOf(BODY.length * 3277), 'latin1');

/** Streams total bytes of the pattern, writing only as fast as the client reads. */
function stream(res: uWS.HttpResponse, total: number): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.writeStatus('200 OK').writeHeader('content-type', 'application/octet-stream');
  const pump = (): void => {
    for (;;) {
      const start = res.getWriteOffset();
      const from = start % CHUNK.length;
      const chunk = CHUNK.subarray(from, Math.min(CHUNK.length, from + total - start));
      const [ok, done] = res.tryEnd(chunk, total);
      if (done) return;
      if (!ok) {
        res.onWritable((offset) => {
          if (aborted) return true;
          const [ok2, done2] = res.tryEnd(chunk.subarray(offset - start), total);
          if (!done2 && ok2) pump();
          return ok2;
        });
        return;
      }
    }
  };
  pump();
}

uWS
  .App()
  .get('/bytes/:n', (res, req) => {
    const n = Number(req.getParameter(0));
    if (!Number.isSafeInteger(n) || n < 0) {
      res.writeStatus('400 Bad Request').end('bad size\n');
    } else if (n <= CACHED_MAX) {
      res.writeHeader('content-type', 'text/plain').end(cached(n));
    } else {
      stream(res, n);
    }
  })
  .post('/upload/:n', (res, req) => {
    const want = Number(req.getParameter(0));
    let got = 0;
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      got += chunk.byteLength;
      if (!isLast || aborted) return;
      res.cork(() => {
        if (got === want) res.writeHeader('content-type', 'text/plain').end(BODY);
        else res.writeStatus('400 Bad Request').end(`got ${got} bytes, expected ${want}\n`);
      });
    });
  })
  .any('/*', (res) => {
    res.writeHeader('content-type', 'text/plain').end(BODY);
  })
  .listen('127.0.0.1', port, (listenSocket) => {
    if (listenSocket === false) {
      console.error(`backend: cannot listen on 127.0.0.1:${port}`);
      process.exit(1);
    }
    token = listenSocket;
    process.stdout.write(`listening ${uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket)}\n`);
  });

const stop = () => {
  if (token !== null) uWS.us_listen_socket_close(token);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
