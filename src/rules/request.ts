// Per-request helpers for matchers. The common cases allocate nothing:
// routingPath returns its input when there is no '%', header lists are
// scanned in place, and the query is only read when a Query matcher runs.

// Percent-encoded characters that Traefik keeps encoded in the routing path
// (RFC 3986 reserved characters plus '%'). Like Traefik, only the upper-case
// spelling is kept: "%2f" is decoded.
const RESERVED = new Set(['3A', '2F', '3F', '23', '5B', '5D', '40', '21', '24', '26', '27', '28', '29', '2A', '2B', '2C', '3B', '3D', '25']);

const HEX = /^[0-9a-fA-F]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The path Traefik v3 routes on: percent-encoded unreserved characters are
 * decoded so that PathPrefix(`/foo bar`) matches "/foo%20bar", reserved ones
 * stay encoded so that "%2F" is not a path separator.
 */
export function routingPath(path: string): string {
  return path.indexOf('%') === -1 ? path : decodeUnreserved(path);
}

function decodeUnreserved(path: string): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    const pct = path.indexOf('%', i);
    if (pct === -1) break;
    out += path.slice(i, pct);
    // Collect a run of decodable escapes, so multi-byte UTF-8 decodes as one.
    const bytes: number[] = [];
    let j = pct;
    while (path[j] === '%') {
      const hex = path.slice(j + 1, j + 3);
      if (!HEX.test(hex) || RESERVED.has(hex)) break;
      bytes.push(parseInt(hex, 16));
      j += 3;
    }
    if (bytes.length === 0) {
      out += path.slice(pct, pct + 3);
      i = pct + 3;
      continue;
    }
    try {
      out += utf8.decode(new Uint8Array(bytes));
    } catch {
      out += path.slice(pct, j); // not UTF-8: leave it encoded
    }
    i = j;
  }
  return out + path.slice(i);
}

/**
 * Whether a header value, possibly several values joined with ", ", equals
 * `v` as a whole or in one of its comma-separated parts.
 */
export function listContains(joined: string, v: string): boolean {
  if (joined === v) return true;
  let start = 0;
  for (;;) {
    const sep = joined.indexOf(', ', start);
    const end = sep === -1 ? joined.length : sep;
    if (end - start === v.length && joined.startsWith(v, start)) return true;
    if (sep === -1) return false;
    start = sep + 2;
  }
}

/** Like listContains, with a regexp tested against the whole value and each part. */
export function listMatches(joined: string, re: RegExp): boolean {
  if (re.test(joined)) return true;
  if (joined.indexOf(', ') === -1) return false;
  return joined.split(', ').some((part) => re.test(part));
}

/** Go's url.QueryUnescape: '+' is a space, %XX are bytes; null when malformed. */
function queryUnescape(s: string): string | null {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b /* + */) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Whether `accept` holds for one of the decoded values of `key` in a raw
 * query string, tried in order. Follows Go's url.ParseQuery: pairs split on
 * '&'; pairs containing ';' or a malformed escape are skipped.
 */
export function someQueryValue(query: string, key: string, accept: (value: string) => boolean): boolean {
  let start = 0;
  while (start < query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const pair = query.slice(start, end);
      if (pair.indexOf(';') === -1) {
        const eq = pair.indexOf('=');
        if (queryUnescape(eq === -1 ? pair : pair.slice(0, eq)) === key) {
          const v = eq === -1 ? '' : queryUnescape(pair.slice(eq + 1));
          if (v !== null && accept(v)) return true;
        }
      }
    }
    start = end + 1;
  }
  return false;
}

/** The first decoded value of `key`, or null when absent (mux's getURLQuery). */
export function firstQueryValue(query: string, key: string): string | null {
  let first: string | null = null;
  someQueryValue(query, key, (v) => {
    first = v;
    return true;
  });
  return first;
}
