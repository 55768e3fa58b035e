// digestAuth: HTTP Digest authentication (RFC 2617: MD5, qop=auth) against
// users in htdigest format (user:realm:MD5(user:realm:password)), answering
// as Traefik does through go-http-auth: the same challenge, stale="true" when
// the password was right but the nonce is no longer good.
//
// Nonces are stateless so that any worker accepts what another issued: issue
// time and random bytes, signed with the instance's shared secret. They live
// NONCE_LIFETIME_MS, Apache's default: long enough for a page's burst of
// requests to reuse one, short enough to bound what a captured one is worth;
// browsers retry a stale="true" answer with the same credentials, without
// asking the user again. Nonce counts (replays) are checked per worker, for a
// bounded number of nonces, and only after the password was proved, so a flood
// of bad credentials costs no memory.
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { acceptUser, authUsers } from './auth-users.js';
import { bool, headerName, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

interface Options {
  /** user -> HA1 (lower-case hex) of the users in `realm`. */
  users: [string, string][];
  realm: string;
  headerField: string;
  removeHeader: boolean;
}

export const NONCE_LIFETIME_MS = 300_000;
/** Nonces whose highest count a worker remembers, least recently used dropped first. */
export const TRACKED_NONCES = 4096;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** htdigest lines as `user:realm` -> HA1. */
function entries(lines: readonly string[], at: string): [string, string][] {
  const out: [string, string][] = [];
  for (const l of lines) {
    const parts = l.split(':');
    const [user, realm, hash] = parts as [string, string, string];
    if (parts.length !== 3 || user === '' || realm === '') throw new MiddlewareError(`${at}: ${JSON.stringify(l.slice(0, 40))} is not user:realm:hash (as htdigest writes them)`);
    // The user name is forwarded in headerField: no control characters may reach a header.
    if (/\p{Cc}/u.test(user + realm)) throw new MiddlewareError(`${at}: the user or realm of ${JSON.stringify(user)} contains control characters`);
    if (!/^[0-9a-f]{32}$/i.test(hash)) throw new MiddlewareError(`${at}: the hash of ${JSON.stringify(user)} is not 32 hex digits (MD5 of user:realm:password, as htdigest writes it)`);
    out.push([`${user}:${realm}`, hash.toLowerCase()]);
  }
  return out;
}

const NONCE_HEAD = 12; // 6 bytes of issue time (ms), 6 random
const NONCE_MAC = 12;

function nonceMac(secret: Buffer, realm: string, head: Buffer): Buffer {
  return createHmac('sha256', secret).update('digestAuth nonce\0').update(realm).update('\0').update(head).digest().subarray(0, NONCE_MAC);
}

/** A nonce every worker of this instance can check. */
export function issueNonce(secret: Buffer, realm: string, now: number): string {
  const head = Buffer.alloc(NONCE_HEAD);
  head.writeUIntBE(now, 0, 6);
  randomFillSync(head, 6, 6);
  return Buffer.concat([head, nonceMac(secret, realm, head)]).toString('base64url');
}

/** 'bad' when this instance did not issue the nonce for this realm, 'stale' when it expired. */
export function checkNonce(secret: Buffer, realm: string, nonce: string, now: number): 'fresh' | 'stale' | 'bad' {
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== NONCE_HEAD + NONCE_MAC || raw.toString('base64url') !== nonce) return 'bad';
  const head = raw.subarray(0, NONCE_HEAD);
  if (!timingSafeEqual(raw.subarray(NONCE_HEAD), nonceMac(secret, realm, head))) return 'bad';
  // Both ways: a clock set back must not make a nonce good for longer.
  return Math.abs(now - head.readUIntBE(0, 6)) <= NONCE_LIFETIME_MS ? 'fresh' : 'stale';
}

const PARAM = /[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\[\s\S])*)"|([^\s,"]*))[ \t]*(?:,|$)/y;

/** The parameters of a `Digest` Authorization header (names lower-cased), or null when it is not one. */
export function digestParams(header: string): Map<string, string> | null {
  const scheme = /^digest[ \t]+/i.exec(header);
  if (scheme === null) return null;
  const out = new Map<string, string>();
  for (let at = scheme[0].length; at < header.length; at = PARAM.lastIndex) {
    PARAM.lastIndex = at;
    const m = PARAM.exec(header);
    const key = m?.[1]?.toLowerCase();
    // A repeated parameter is ambiguous: which one did the client hash?
    if (m === null || key === undefined || out.has(key)) return null;
    out.set(key, m[2] !== undefined ? m[2].replace(/\\([\s\S])/g, '$1') : (m[3] ?? ''));
  }
  return out;
}

/** Highest count seen per nonce, in this worker (nonces carry the realm: one map serves every middleware). */
const counts = new Map<string, number>();

/** Whether `count` is new for `nonce`: 'replay' when seen, 'older' when a higher one was (out of order). */
function admitCount(nonce: string, count: number): 'new' | 'replay' | 'older' {
  const last = counts.get(nonce);
  if (last !== undefined && count <= last) return count === last ? 'replay' : 'older';
  counts.delete(nonce);
  counts.set(nonce, count);
  if (counts.size > TRACKED_NONCES) counts.delete(counts.keys().next().value!);
  return 'new';
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const digestAuth: MiddlewareKind<Options> = {
  name: 'digestAuth',
  parse(raw) {
    const o = options(raw, 'digestAuth', ['users', 'usersFile', 'realm', 'headerField', 'removeHeader']);
    const users = authUsers(o, 'digestAuth', entries);
    const realm = o.has('realm') ? text(o.get('realm'), 'digestAuth.realm') : 'traefik';
    if (/["\\\p{Cc}]/u.test(realm)) throw new MiddlewareError('digestAuth.realm must not contain quotes, backslashes or control characters');
    const inRealm: [string, string][] = [];
    for (const [key, ha1] of users) {
      const colon = key.indexOf(':');
      if (key.slice(colon + 1) === realm) inRealm.push([key.slice(0, colon), ha1]);
    }
    if (inRealm.length === 0) throw new MiddlewareError(`digestAuth: no user is in the realm ${JSON.stringify(realm)} (lines are user:realm:hash; the realm option defaults to traefik)`);
    return {
      users: inRealm,
      realm,
      headerField: o.has('headerField') ? headerName(text(o.get('headerField'), 'digestAuth.headerField'), 'digestAuth.headerField').toLowerCase() : '',
      removeHeader: o.has('removeHeader') ? bool(o.get('removeHeader'), 'digestAuth.removeHeader') : false,
    };
  },
  build({ users, realm, headerField, removeHeader }, ctx) {
    const ha1s = new Map(users);
    const secret = ctx.memory.secret;
    // go-http-auth insists on its opaque; derived from the secret, every worker sends the same.
    const opaque = createHmac('sha256', secret).update('digestAuth opaque\0').update(realm).digest().subarray(0, 12).toString('base64url');
    const challenge = (stale: boolean): Answer => ({
      status: 401,
      headers: [
        ['WWW-Authenticate', `Digest realm="${realm}", nonce="${issueNonce(secret, realm, Date.now())}", opaque="${opaque}", ${stale ? 'stale="true", ' : ''}algorithm="MD5", qop="auth"`],
        ['Content-Type', 'text/plain'],
      ],
      body: '401 Unauthorized\n',
    });
    const accept = (req: ForwardedRequest, user: string): null => acceptUser(req, user, removeHeader, headerField);
    return {
      request(req) {
        const p = digestParams(req.view.headers.authorization ?? '');
        if (p === null) return challenge(false);
        const [user, nonce, uri, nc, cnonce, response] = ['username', 'nonce', 'uri', 'nc', 'cnonce', 'response'].map((k) => p.get(k) ?? '') as [string, string, string, string, string, string];
        if (p.get('realm') !== realm || p.get('opaque') !== opaque || (p.get('algorithm') ?? 'MD5') !== 'MD5' || p.get('qop') !== 'auth') return challenge(false);
        // The URI the client hashed must be the one it asked for, as received (before any rewrite).
        const target = req.view.query === '' ? req.view.path : `${req.view.path}?${req.view.query}`;
        if (uri !== target || !/^[0-9a-f]{1,8}$/i.test(nc) || cnonce === '' || nonce === '') return challenge(false);
        const ha1 = ha1s.get(user);
        // An unknown user costs the same work as a known one.
        const expected = md5(`${ha1 ?? '0'.repeat(32)}:${nonce}:${nc}:${cnonce}:auth:${md5(`${req.view.method}:${uri}`)}`);
        if (!sameText(expected, response) || ha1 === undefined) return challenge(false);
        const state = checkNonce(secret, realm, nonce, Date.now());
        if (state !== 'fresh') return challenge(state === 'stale');
        const count = admitCount(nonce, parseInt(nc, 16));
        // As go-http-auth: a repeated count is a replay; a lower one came out of order and is retried.
        if (count !== 'new') return challenge(count === 'older');
        return accept(req, user);
      },
    };
  },
};
