// buffering: size limits on request and response bodies, with Traefik's
// answers: 413 for a request body over maxRequestBodyBytes, 500 for a
// response body over maxResponseBodyBytes (the client never sees a part of
// it). Traefik buffers whole bodies (to disk past mem*BodyBytes); portero
// streams requests and holds a response only while its length is unknown and
// a limit is set, so memory stays bounded by the limit.
import { int, options, text } from './options.js';
import { MiddlewareError, type Answer, type MiddlewareKind, type ResponseFilter, type ResponseOut } from './types.js';

interface Options {
  maxRequestBodyBytes: number;
  maxResponseBodyBytes: number;
}

const TOO_LARGE: Answer = { status: 413, headers: [], body: 'Request Entity Too Large\n' };
const BODY_500 = 'Internal Server Error\n';

/** Answers 500 in place of a response too large to pass; what the server still sends is dropped. */
class Refused implements ResponseFilter {
  constructor(private readonly out: ResponseOut) {}

  head(): void {}

  data(): boolean {
    return true;
  }

  end(): void {
    sendWhole(this.out, 500, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(BODY_500));
  }

  onDrain(fn: () => void): void {
    fn();
  }

  destroy(): void {}
}

/** Holds a body of unknown length until it ends (then passes it whole) or passes the limit (then 500). */
class Held implements ResponseFilter {
  private status = 0;
  private headers: string[] = [];
  private chunks: Buffer[] = [];
  private size = 0;
  private over = false;

  constructor(
    private readonly out: ResponseOut,
    private readonly max: number,
  ) {}

  head(status: number, headers: string[]): void {
    this.status = status;
    this.headers = headers;
  }

  data(chunk: Buffer): boolean {
    if (this.over) return true;
    return this.take(chunk);
  }

  private take(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.max) {
      this.over = true;
      this.chunks = [];
      return true;
    }
    this.chunks.push(chunk);
    return true;
  }

  end(last?: Buffer): void {
    if (last !== undefined && !this.over) this.take(last);
    if (this.over) sendWhole(this.out, 500, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(BODY_500));
    else sendWhole(this.out, this.status, this.headers, Buffer.concat(this.chunks));
    this.chunks = [];
  }

  onDrain(fn: () => void): void {
    fn();
  }

  destroy(): void {
    this.chunks = [];
  }
}

/** A whole body to `out`, sent with its length. Bounded by the limits of whoever holds it (this middleware's, errors' page size). */
export function sendWhole(out: ResponseOut, status: number, headers: string[], body: Buffer): void {
  out.head(status, headers);
  out.end(body);
}

export const buffering: MiddlewareKind<Options> = {
  name: 'buffering',
  parse(raw) {
    const o = options(raw, 'buffering', ['maxRequestBodyBytes', 'memRequestBodyBytes', 'maxResponseBodyBytes', 'memResponseBodyBytes', 'retryExpression']);
    if (o.has('retryExpression') && text(o.get('retryExpression'), 'buffering.retryExpression', true).trim() !== '') {
      throw new MiddlewareError('buffering.retryExpression is not supported: use the retry middleware (network errors) instead');
    }
    // mem*BodyBytes say when Traefik spills to disk; portero never does, so they are checked and otherwise unused.
    for (const k of ['memRequestBodyBytes', 'memResponseBodyBytes']) if (o.has(k)) int(o.get(k), `buffering.${k}`, 0);
    return {
      maxRequestBodyBytes: o.has('maxRequestBodyBytes') ? int(o.get('maxRequestBodyBytes'), 'buffering.maxRequestBodyBytes', 0) : 0,
      maxResponseBodyBytes: o.has('maxResponseBodyBytes') ? int(o.get('maxResponseBodyBytes'), 'buffering.maxResponseBodyBytes', 0) : 0,
    };
  },
  build({ maxRequestBodyBytes, maxResponseBodyBytes }) {
    const opener =
      maxResponseBodyBytes === 0
        ? null
        : (_status: number, _headers: readonly string[], length: number, bodiless: boolean) => {
            if (bodiless || (length >= 0 && length <= maxResponseBodyBytes)) return null;
            return length > maxResponseBodyBytes ? (out: ResponseOut) => new Refused(out) : (out: ResponseOut) => new Held(out, maxResponseBodyBytes);
          };
    return {
      request(req) {
        if (maxRequestBodyBytes > 0) {
          const declared = req.view.headers['content-length'];
          if (declared !== undefined && Number(declared) > maxRequestBodyBytes) return TOO_LARGE;
          // A chunked body is counted as it streams (the exchange answers 413 once it passes the limit).
          req.maxBodyBytes = req.maxBodyBytes === 0 ? maxRequestBodyBytes : Math.min(req.maxBodyBytes, maxRequestBodyBytes);
        }
        if (opener !== null) (req.responseFilters ??= []).push(opener);
        return null;
      },
    };
  },
};
