// compress: gzip or brotli (zstd where this Node has it), chosen from the
// request's Accept-Encoding in the order of `encodings`. Streamed through
// node's zlib, which works off the event loop: the server's body goes in as
// it comes, with backpressure both ways, so memory per response stays at
// zlib's buffers whatever the body's size. A body the server already encoded
// passes untouched (compress never decodes, so a gzip bomb stays a small one).
import zlib from 'node:zlib';
import { getHeader, removeHeader } from './header-lines.js';
import { int, list, options, text } from './options.js';
import { MiddlewareError, type MiddlewareKind, type ResponseFilter, type ResponseOut } from './types.js';

type Encoding = 'zstd' | 'br' | 'gzip';

/** Traefik v3's default, in its order of preference (its Compress.SetDefaults). */
export const COMPRESS_DEFAULT_ENCODINGS: readonly Encoding[] = ['gzip', 'br', 'zstd'];

interface Options {
  encodings: Encoding[];
  defaultEncoding: string;
  excluded: string[];
  included: string[];
  minResponseBodyBytes: number;
}

const ZSTD = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
/** gRPC frames its messages itself: never compressed, as in Traefik. */
const GRPC = 'application/grpc';

/** A content type as compared: media type alone, lower case, no spaces. */
function mediaType(v: string): string {
  return v.split(';')[0]!.replace(/\s+/g, '').toLowerCase();
}

/**
 * The encoding to use for an Accept-Encoding value, as Traefik chooses: the
 * highest q the client gives one of `encodings` (q > 0), ties going to the
 * earlier in `encodings`; or ''.
 */
export function chooseEncoding(accept: string, encodings: readonly Encoding[]): Encoding | '' {
  const q = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name === undefined || name === '') continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m !== null) weight = Number(m[1]);
    }
    q.set(name.trim(), Number.isFinite(weight) ? weight : 0);
  }
  const star = q.get('*');
  let best: Encoding | '' = '';
  let bestWeight = 0;
  for (const e of encodings) {
    const w = q.get(e) ?? star;
    if (w !== undefined && w > bestWeight) {
      best = e;
      bestWeight = w;
    }
  }
  return best;
}

/** Brotli's default quality (11) costs ~10x gzip's CPU: 4 is what servers use on the fly. */
const BROTLI_QUALITY = 4;

function compressor(e: Encoding): zlib.Gzip | zlib.BrotliCompress {
  if (e === 'gzip') return zlib.createGzip();
  if (e === 'br') return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } });
  return (zlib as unknown as { createZstdCompress(): zlib.Gzip }).createZstdCompress();
}

/**
 * A declared body up to this size is compressed in one call when it is all
 * in: a zlib stream costs ~0.35 ms of CPU to set up and drive through the
 * thread pool, ~3x what compressing 16 KiB of text costs.
 */
const WHOLE_MAX = 256 * 1024;

function compressWhole(e: Encoding, body: Buffer): Buffer {
  if (e === 'gzip') return zlib.gzipSync(body);
  if (e === 'br') return zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
  return (zlib as unknown as { zstdCompressSync(b: Buffer): Buffer }).zstdCompressSync(body);
}

/** One response of known, small length: held until it is all in, then compressed in one call and sent with its length. */
class WholeCompression implements ResponseFilter {
  private held: Buffer[] = [];

  constructor(
    private readonly out: ResponseOut,
    private readonly encoding: Encoding,
  ) {}

  head(status: number, headers: string[]): void {
    this.out.head(status, encodedHead(headers, this.encoding));
  }

  data(chunk: Buffer): boolean {
    this.held.push(chunk);
    return true;
  }

  end(last?: Buffer): void {
    if (last !== undefined) this.held.push(last);
    const body = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.out.end(compressWhole(this.encoding, body));
  }

  onDrain(fn: () => void): void {
    fn();
  }

  destroy(): void {
    this.held = [];
  }
}

/** The head of an encoded response: its length unknown, ranges off, Content-Encoding set, Vary naming Accept-Encoding. */
function encodedHead(headers: string[], encoding: Encoding): string[] {
  removeHeader(headers, 'content-length');
  removeHeader(headers, 'accept-ranges');
  headers.push('content-encoding', encoding);
  const vary = getHeader(headers, 'vary');
  if (vary === undefined) headers.push('vary', 'Accept-Encoding');
  else if (!/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary)) {
    removeHeader(headers, 'vary');
    headers.push('vary', `${vary}, Accept-Encoding`);
  }
  return headers;
}

/** One response being compressed; the server's body in, the encoded body to `out`. */
class Compression implements ResponseFilter {
  private readonly z: zlib.Gzip | zlib.BrotliCompress;
  private destroyed = false;

  constructor(
    private readonly out: ResponseOut,
    private readonly encoding: Encoding,
  ) {
    const z = compressor(encoding);
    this.z = z;
    z.on('data', (chunk: Buffer) => {
      if (!this.out.data(chunk)) {
        z.pause();
        this.out.onDrain(() => {
          if (!this.destroyed) z.resume();
        });
      }
    });
    z.once('end', () => {
      if (!this.destroyed) this.out.end();
    });
    z.on('error', () => this.destroy());
  }

  head(status: number, headers: string[]): void {
    this.out.head(status, encodedHead(headers, this.encoding));
  }

  data(chunk: Buffer): boolean {
    const ok = this.z.write(chunk);
    // Sent as it comes (an event stream, a slow page): what was written so far goes out now.
    this.z.flush(this.encoding === 'gzip' ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.BROTLI_OPERATION_FLUSH);
    return ok;
  }

  end(last?: Buffer): void {
    if (last !== undefined) this.z.write(last);
    this.z.end();
  }

  onDrain(fn: () => void): void {
    this.z.once('drain', fn);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.z.destroy();
  }
}

/** Waits for minResponseBodyBytes of a body of unknown length before deciding, as Traefik does. */
class Undecided implements ResponseFilter {
  private status = 0;
  private headers: string[] = [];
  private held: Buffer[] = [];
  private size = 0;
  private next: ResponseOut | null = null;

  constructor(
    private readonly out: ResponseOut,
    private readonly encoding: Encoding,
    private readonly min: number,
  ) {}

  head(status: number, headers: string[]): void {
    this.status = status;
    this.headers = headers;
  }

  data(chunk: Buffer): boolean {
    if (this.next !== null) return this.next.data(chunk);
    this.held.push(chunk);
    this.size += chunk.length;
    return this.size < this.min || this.decide(true);
  }

  end(last?: Buffer): void {
    if (last !== undefined) this.data(last);
    if (this.next === null) this.decide(false);
    this.next!.end();
  }

  onDrain(fn: () => void): void {
    if (this.next !== null) this.next.onDrain(fn);
    else fn();
  }

  destroy(): void {
    if (this.next instanceof Compression) this.next.destroy();
    this.held = [];
  }

  private decide(compress: boolean): boolean {
    const next = compress ? new Compression(this.out, this.encoding) : this.out;
    this.next = next;
    next.head(this.status, this.headers);
    let ok = true;
    for (const b of this.held) ok = next.data(b);
    this.held = [];
    return ok;
  }
}

export const compress: MiddlewareKind<Options> = {
  name: 'compress',
  parse(raw) {
    // Labels write `compress=true` for a compress middleware with defaults.
    const o = raw === true || raw === 'true' ? new Map<string, unknown>() : options(raw, 'compress', ['excludedContentTypes', 'includedContentTypes', 'minResponseBodyBytes', 'encodings', 'defaultEncoding']);
    const types = (key: string) => (o.has(key) ? list(o.get(key), `compress.${key}`).map(mediaType) : []);
    const excluded = types('excludedContentTypes');
    const included = types('includedContentTypes');
    if (excluded.length > 0 && included.length > 0) throw new MiddlewareError('compress: excludedContentTypes and includedContentTypes are mutually exclusive');
    const encodings = (o.has('encodings') ? list(o.get('encodings'), 'compress.encodings').map((e) => e.toLowerCase()) : [...COMPRESS_DEFAULT_ENCODINGS]) as Encoding[];
    if (encodings.length === 0) throw new MiddlewareError('compress.encodings must list at least one of zstd, br, gzip');
    for (const e of encodings) if (e !== 'zstd' && e !== 'br' && e !== 'gzip') throw new MiddlewareError(`compress.encodings: unknown encoding ${JSON.stringify(e)} (expected zstd, br, gzip)`);
    const defaultEncoding = o.has('defaultEncoding') ? text(o.get('defaultEncoding'), 'compress.defaultEncoding').toLowerCase() : '';
    return {
      // zstd is offered only where this Node can make it (22.15 and later).
      encodings: encodings.filter((e) => e !== 'zstd' || ZSTD),
      defaultEncoding,
      excluded,
      included,
      minResponseBodyBytes: o.has('minResponseBodyBytes') ? int(o.get('minResponseBodyBytes'), 'compress.minResponseBodyBytes', 0) : 1024,
    };
  },
  build(o) {
    const min = o.minResponseBodyBytes;
    return {
      request(req) {
        if (req.method === 'HEAD' || req.view.headers.range !== undefined) return null;
        const accept = req.view.headers['accept-encoding'];
        const encoding = accept === undefined ? chooseEncoding(o.defaultEncoding, o.encodings) : chooseEncoding(accept, o.encodings);
        if (encoding === '') return null;
        (req.responseFilters ??= []).push((status, headers, length, bodiless) => {
          if (bodiless || status < 200 || status === 204 || status === 206 || length === 0) return null;
          if (length > 0 && length < min) return null;
          if (getHeader(headers, 'content-encoding') !== undefined) return null;
          const type = mediaType(getHeader(headers, 'content-type') ?? '');
          if (type.startsWith(GRPC)) return null;
          if (o.included.length > 0 ? !o.included.includes(type) : o.excluded.includes(type)) return null;
          if (length > 0 && length <= WHOLE_MAX) return (out) => new WholeCompression(out, encoding);
          return length > 0 || min === 0 ? (out) => new Compression(out, encoding) : (out) => new Undecided(out, encoding, min);
        });
        return null;
      },
    };
  },
};
