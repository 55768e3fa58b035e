// basicAuth: users in htpasswd format (bcrypt, apr1/MD5-crypt, SHA1), from
// `users` and `usersFile` (`users` wins for a user in both: Traefik reads the
// file first and appends `users`);
// 401 with `WWW-Authenticate: Basic realm="traefik"` otherwise. bcrypt runs
// asynchronously (bcryptjs yields to the event loop), so a flood of wrong
// passwords slows only itself; credentials already verified are remembered
// (a digest, never the password) so a dashboard's requests pay once.
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import md5 from 'apache-md5';
import { acceptUser, authUsers } from './auth-users.js';
import { bool, headerName, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

interface Options {
  /** user -> stored hash. */
  users: [string, string][];
  realm: string;
  headerField: string;
  removeHeader: boolean;
}

const HASH = /^(\$2[aby]\$\d\d\$.{53}|\$apr1\$[^$]{1,8}\$[./0-9A-Za-z]{22}|\$1\$[^$]{1,8}\$[./0-9A-Za-z]{22}|\{SHA\}[A-Za-z0-9+/]{27}=)$/;

function entries(lines: readonly string[], at: string): [string, string][] {
  const out: [string, string][] = [];
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon <= 0) throw new MiddlewareError(`${at}: ${JSON.stringify(l.slice(0, 40))} is not user:hash`);
    const hash = l.slice(colon + 1);
    if (!HASH.test(hash)) throw new MiddlewareError(`${at}: the password of ${JSON.stringify(l.slice(0, colon))} is not a bcrypt, MD5 (apr1) or SHA1 hash (htpasswd -nbB user password makes one)`);
    out.push([l.slice(0, colon), hash]);
  }
  return out;
}

/** Verifies a password against a stored hash: bcrypt asynchronously, the others at once. */
function verify(password: string, hash: string): boolean | Promise<boolean> {
  if (hash.startsWith('$2')) return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
  let computed: string;
  if (hash.startsWith('{SHA}')) computed = `{SHA}${createHash('sha1').update(password).digest('base64')}`;
  else computed = md5(password, hash);
  const a = Buffer.from(computed);
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Verified credentials a worker remembers per middleware; a flood of new ones only empties it. */
const CACHE_MAX = 1024;

export const basicAuth: MiddlewareKind<Options> = {
  name: 'basicAuth',
  parse(raw) {
    const o = options(raw, 'basicAuth', ['users', 'usersFile', 'realm', 'headerField', 'removeHeader']);
    const users = authUsers(o, 'basicAuth', entries);
    const realm = o.has('realm') ? text(o.get('realm'), 'basicAuth.realm') : 'traefik';
    if (/["\r\n\\]/.test(realm)) throw new MiddlewareError('basicAuth.realm must not contain quotes, backslashes or line breaks');
    return {
      users: [...users],
      realm,
      headerField: o.has('headerField') ? headerName(text(o.get('headerField'), 'basicAuth.headerField'), 'basicAuth.headerField').toLowerCase() : '',
      removeHeader: o.has('removeHeader') ? bool(o.get('removeHeader'), 'basicAuth.removeHeader') : false,
    };
  },
  build({ users, realm, headerField, removeHeader }) {
    const table = new Map(users);
    const verified = new Map<string, true>();
    const unauthorized: Answer = { status: 401, headers: [['WWW-Authenticate', `Basic realm="${realm}"`]], body: '401 Unauthorized\n' };
    const accept = (req: ForwardedRequest, user: string): null => acceptUser(req, user, removeHeader, headerField);
    return {
      request(req) {
        const auth = req.view.headers.authorization ?? '';
        if (auth.length < 7 || auth.slice(0, 6).toLowerCase() !== 'basic ') return unauthorized;
        const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) return unauthorized;
        const user = decoded.slice(0, colon);
        const password = decoded.slice(colon + 1);
        const hash = table.get(user);
        if (hash === undefined) return unauthorized;
        const key = `${user}\0${createHash('sha256').update(hash).update('\0').update(password).digest('base64')}`;
        if (verified.has(key)) return accept(req, user);
        const ok = verify(password, hash);
        const done = (good: boolean): Answer | null => {
          if (!good) return unauthorized;
          if (verified.size >= CACHE_MAX) verified.clear();
          verified.set(key, true);
          return accept(req, user);
        };
        return typeof ok === 'boolean' ? done(ok) : ok.then(done);
      },
    };
  },
};
