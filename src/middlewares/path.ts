// Path middlewares: stripPrefix, stripPrefixRegex, addPrefix, replacePath,
// replacePathRegex, as Traefik applies them: prefixes compare with the
// decoded path, the removed prefix goes to X-Forwarded-Prefix and the
// replaced path to X-Replaced-Path, and a stripped path that would change
// when cleaned ("..", "//") is answered 400 rather than forwarded.
import { compileGoRegexp } from '../rules/index.js';
import { jsReplacement } from './go-replacement.js';
import { list, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

const BAD_REQUEST: Answer = { status: 400, headers: [], body: 'Bad Request\n' };

function decoded(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** How many raw characters spell the first `n` decoded bytes (a %XX is one). */
function rawLength(raw: string, n: number): number {
  let i = 0;
  for (let d = 0; i < raw.length && d < n; d++) i += raw[i] === '%' && i + 2 < raw.length ? 3 : 1;
  return i;
}

function leadingSlash(p: string): string {
  return p === '' || p.startsWith('/') ? p : `/${p}`;
}

/** Whether Go's path cleaning would change `p` (decoded). */
function unclean(p: string): boolean {
  return (p.includes('//') || p.includes('/.')) && cleanPath(p) !== p;
}

/** Go's path cleaning (no "." or ".." segments, no empty ones), keeping a trailing slash. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let clean = `/${out.join('/')}`;
  if (p.endsWith('/') && !clean.endsWith('/')) clean += '/';
  return clean;
}

/** Replaces the path by `raw` minus its first `decodedPrefix.length` decoded characters; 400 when cleaning would change it. */
function strip(req: ForwardedRequest, prefix: string): Answer | null {
  // The decoded prefix in UTF-8 bytes: each %XX of the raw path is one.
  const path = leadingSlash(req.path.slice(rawLength(req.path, Buffer.byteLength(prefix))));
  if (path !== '' && unclean(decoded(path))) return BAD_REQUEST;
  req.path = path === '' ? '/' : path;
  req.lines += `x-forwarded-prefix: ${prefix}\r\n`;
  return null;
}

export const stripPrefix: MiddlewareKind<{ prefixes: string[] }> = {
  name: 'stripPrefix',
  parse(raw) {
    const o = options(raw, 'stripPrefix', ['prefixes', 'forceSlash']);
    const prefixes = list(o.get('prefixes') ?? [], 'stripPrefix.prefixes');
    if (prefixes.length === 0) throw new MiddlewareError('stripPrefix.prefixes must list at least one prefix');
    return { prefixes };
  },
  build({ prefixes }) {
    return {
      request(req) {
        const path = decoded(req.path);
        // The first prefix that matches, in the configured order, as Traefik.
        for (const p of prefixes) if (path.startsWith(p)) return strip(req, p);
        return null;
      },
    };
  },
};

export const stripPrefixRegex: MiddlewareKind<{ regex: string[] }> = {
  name: 'stripPrefixRegex',
  parse(raw) {
    const o = options(raw, 'stripPrefixRegex', ['regex']);
    const regex = list(o.get('regex') ?? [], 'stripPrefixRegex.regex');
    if (regex.length === 0) throw new MiddlewareError('stripPrefixRegex.regex must list at least one expression');
    for (const r of regex) compileGoRegexp(r);
    return { regex };
  },
  build({ regex }) {
    const res = regex.map((r) => compileGoRegexp(r));
    return {
      request(req) {
        const path = decoded(req.path);
        for (const re of res) {
          const m = re.exec(path);
          if (m === null || m[0] === '' || !path.startsWith(m[0])) continue;
          return strip(req, m[0]);
        }
        return null;
      },
    };
  },
};

export const addPrefix: MiddlewareKind<{ prefix: string }> = {
  name: 'addPrefix',
  parse(raw) {
    const o = options(raw, 'addPrefix', ['prefix']);
    return { prefix: text(o.get('prefix'), 'addPrefix.prefix') };
  },
  build({ prefix }) {
    return {
      request(req) {
        req.path = leadingSlash(prefix + req.path);
        return null;
      },
    };
  },
};

export const replacePath: MiddlewareKind<{ path: string }> = {
  name: 'replacePath',
  parse(raw) {
    const o = options(raw, 'replacePath', ['path']);
    return { path: text(o.get('path'), 'replacePath.path') };
  },
  build({ path }) {
    return {
      request(req) {
        req.lines += `x-replaced-path: ${req.path}\r\n`;
        req.path = path;
        return null;
      },
    };
  },
};


export const replacePathRegex: MiddlewareKind<{ regex: string; replacement: string }> = {
  name: 'replacePathRegex',
  parse(raw) {
    const o = options(raw, 'replacePathRegex', ['regex', 'replacement']);
    const regex = text(o.get('regex'), 'replacePathRegex.regex');
    compileGoRegexp(regex);
    return { regex, replacement: text(o.get('replacement') ?? '', 'replacePathRegex.replacement', true) };
  },
  build({ regex, replacement }) {
    const one = compileGoRegexp(regex);
    const all = new RegExp(one.source, one.flags.includes('g') ? one.flags : `${one.flags}g`);
    const js = jsReplacement(replacement);
    return {
      request(req) {
        if (!one.test(req.path)) return null;
        req.lines += `x-replaced-path: ${req.path}\r\n`;
        const next = req.path.replace(all, js);
        if (next !== '' && unclean(decoded(next))) return BAD_REQUEST;
        req.path = next === '' ? '/' : next;
        return null;
      },
    };
  },
};
