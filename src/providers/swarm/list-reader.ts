// The poll thread's GETs of the Docker list answers (25 MB for a Swarm of
// 10,000 tasks), read into one reused buffer and compared with the last
// answer as they arrive. Node's http client allocates a fresh buffer for each
// 64 KB read: receiving 25 MB that way cost 40-140 ms of CPU when polls are
// seconds apart, most of it faulting in and freeing memory. Here a quiet poll
// allocates nothing and costs 5-15 ms. The response is parsed by portero's own
// upstream parser (chunked and close-delimited bodies included), which hands
// out views into the read buffer. One connection per GET (Connection: close):
// a poll every few seconds has nothing to gain from keeping it.
import net from 'node:net';
import type Docker from 'dockerode';
import { ResponseParser, type ResponseHead, type ResponseSink, UpstreamProtocolError } from '../../upstream/response-parser.js';
import { ChangedBody } from './changed-body.js';

const READ_BUFFER_BYTES = 256 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
/** Of an error answer, this much is kept for the message. */
const ERROR_BODY_BYTES = 512;

/** The answer's status and body, compared with `previous` as it arrives (ChangedBody). */
class ComparingSink implements ResponseSink {
  status = 0;
  done = false;
  readonly body: ChangedBody;

  constructor(previous: Buffer | null) {
    this.body = new ChangedBody(previous);
  }

  onHead(head: ResponseHead): void {
    this.status = head.status;
    if (head.status !== 200) this.body.unlike();
  }

  onBody(chunk: Buffer): void {
    if (this.status !== 200 && this.body.keptBytes >= ERROR_BODY_BYTES) return;
    // A view into the read buffer: copied if kept, before the next read reuses it.
    this.body.push(chunk, true);
  }

  onComplete(): void {
    this.done = true;
  }
}

export class DockerListReader {
  /** Shared by every GET: each read is consumed (compared, or copied) before the next one lands. */
  private readonly buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(
    private readonly target: Docker.DockerOptions,
    private readonly timeoutMs: number,
  ) {
    if (target.protocol === 'https') throw new Error('DockerListReader reads plain HTTP and unix sockets only');
  }

  /** GET `path`; resolves the body of a 200, or null when it is byte for byte `previous`; rejects on anything else. */
  get(path: string, previous: Buffer | null = null): Promise<Buffer | null> {
    const t = this.target;
    return new Promise((resolve, reject) => {
      const sink = new ComparingSink(previous);
      const parser = new ResponseParser(MAX_HEAD_BYTES);
      parser.expect(sink, false);
      let settled = false;
      const onread = {
        buffer: this.buffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          if (settled) return false;
          try {
            if (parser.feed(buf as Buffer, 0, n) < n) throw new UpstreamProtocolError('unexpected data after the response');
          } catch (err) {
            finish(new Error(`GET ${path}: ${(err as Error).message}`));
            return false;
          }
          if (sink.done) finish(null);
          return true;
        },
      };
      const socket = t.socketPath !== undefined ? net.connect({ path: t.socketPath, onread }) : net.connect({ host: t.host, port: Number(t.port), onread });
      const timer = setTimeout(() => finish(new Error(`GET ${path}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nAccept: application/json\r\nConnection: close\r\n\r\n`));
      socket.on('end', () => {
        try {
          parser.eof();
        } catch (err) {
          return finish(new Error(`GET ${path}: ${(err as Error).message}`));
        }
        finish(sink.done ? null : new Error(`GET ${path}: the connection ended before the answer did`));
      });
      socket.on('error', (err) => finish(new Error(`GET ${path}: ${err.message}`)));
      socket.on('close', () => finish(sink.done ? null : new Error(`GET ${path}: the connection closed before the answer ended`)));

      function finish(err: Error | null): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err !== null) return reject(err);
        const body = sink.body.result();
        if (sink.status === 200) return resolve(body);
        reject(Object.assign(new Error(`GET ${path}: HTTP ${sink.status}: ${body!.toString('utf8', 0, Math.min(body!.length, ERROR_BODY_BYTES))}`), { statusCode: sink.status }));
      }
    });
  }
}
