// Middlewares: options checked on the main thread (Traefik's names, any case,
// label strings), chains flattened, and each kind's request stage and
// response edits as a worker runs them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MiddlewareCompiler, retryIn } from '../../src/middlewares/compile.js';
import { buildMiddlewares } from '../../src/middlewares/pipeline.js';
import { createMiddlewareMemory, MiddlewareMemory } from '../../src/middlewares/shared-memory.js';
import type { Answer, BuildContext, ForwardedRequest, MiddlewareDescriptor } from '../../src/middlewares/types.js';
import type { RequestView } from '../../src/rules/types.js';

/** Unit tests build kinds that need no upstream pool. */
const NO_POOLS: BuildContext = {
  memory: new MiddlewareMemory(createMiddlewareMemory()),
  server: () => null,
  pool: () => {
    throw new Error('no upstream pools in unit tests');
  },
};

function compiler(entries: Record<string, Record<string, unknown>>) {
  return new MiddlewareCompiler(new Map(Object.entries(entries)), (m, owner) => (m.includes('@') ? m : `${m}@${owner.split('@')[1]}`));
}

/** Runs a chain's request stages on a request; returns the answer (or null) and the request as forwarded. */
function run(descriptors: MiddlewareDescriptor[], req: Partial<RequestView> & { tls?: boolean; lines?: string; hostHeader?: string } = {}) {
  const view: RequestView = { method: req.method ?? 'GET', host: req.host ?? 'a.test', path: req.path ?? '/', query: req.query ?? '', headers: req.headers ?? {}, clientIp: req.clientIp ?? '10.0.0.1' };
  const fr: ForwardedRequest = {
    method: view.method,
    view,
    tls: req.tls ?? false,
    path: view.path,
    query: view.query,
    lines: req.lines ?? `x-forwarded-for: ${view.clientIp}\r\n`,
    hostHeader: req.hostHeader ?? view.host,
    responseEdits: null,
    ended: null,
    responseFilters: null,
    maxBodyBytes: 0,
  };
  let answer: Answer | null = null;
  for (const stage of buildMiddlewares(descriptors, NO_POOLS).request ?? []) {
    const r = stage(fr);
    if (r instanceof Promise) assert.fail('an asynchronous stage: use runStages');
    answer = r;
    if (answer !== null) break;
  }
  const responseHeaders = (start: string[] = []) => {
    const h = [...start];
    for (const e of fr.responseEdits ?? []) e(h);
    return h;
  };
  return { answer, fr, responseHeaders };
}

function one(kind: string, options: unknown): MiddlewareDescriptor[] {
  const d = compiler({ 'm@file': { [kind]: options } }).router(['m@file']);
  if (typeof d === 'string') assert.fail(d);
  return d;
}

function error(kind: string, options: unknown): string {
  const d = compiler({ 'm@file': { [kind]: options } }).router(['m@file']);
  assert.equal(typeof d, 'string', `expected an error for ${kind} ${JSON.stringify(options)}`);
  return d as string;
}

describe('compiling middlewares', () => {
  test('retry: attempts and initialInterval, any case, label strings; one per router', () => {
    const c = compiler({ 'r@file': { Retry: { Attempts: '2' } }, 'r2@file': { retry: { attempts: 4, initialInterval: '50ms' } } });
    assert.deepEqual(retryIn(c.router(['r@file']) as MiddlewareDescriptor[]), { attempts: 2, initialIntervalMs: 100 });
    assert.deepEqual(retryIn(c.router(['r2@file']) as MiddlewareDescriptor[]), { attempts: 4, initialIntervalMs: 50 });
    assert.match(c.router(['r@file', 'r2@file']) as string, /more than one retry middleware/);
    assert.match(error('retry', { attempts: 0 }), /retry.attempts must be an integer >= 1/);
    assert.match(error('retry', { attempts: 2, backoff: 1 }), /unknown option "backoff"/);
  });

  test('chains are flattened in order, across providers; cycles, unknown names and kinds not yet applied are errors', () => {
    const c = compiler({
      'strip@file': { stripPrefix: { prefixes: ['/api'] } },
      'sec@swarm': { headers: { frameDeny: 'true' } },
      'all@file': { chain: { middlewares: ['strip', 'sec@swarm'] } },
      'loop@file': { chain: { middlewares: 'loop2' } },
      'loop2@file': { chain: { middlewares: 'loop' } },
      'auth@file': { plugin: { demo: {} } },
      'odd@file': { bogus: {} },
    });
    assert.deepEqual((c.router(['all@file']) as MiddlewareDescriptor[]).map((d) => [d.name, d.kind]), [['strip@file', 'stripPrefix'], ['sec@swarm', 'headers']]);
    assert.match(c.router(['loop@file']) as string, /chain cycle: loop@file -> loop2@file -> loop@file/);
    assert.match(c.router(['nope@file']) as string, /unknown middleware "nope@file"/);
    assert.match(c.router(['auth@file']) as string, /\(plugin\) is not supported yet/);
    assert.match(c.router(['odd@file']) as string, /unknown kind "bogus"/);
  });

  test('label shapes work as files do: lower-cased keys, booleans and lists as strings', () => {
    const c = compiler({
      'strip@swarm': { stripprefix: { prefixes: '/a,/b' } },
      'sec@swarm': { headers: { framedeny: 'true', customresponseheaders: { 'X-A': 'b' }, accesscontrolallowmethods: 'GET,PUT' } },
      'ips@swarm': { ipallowlist: { sourcerange: '10.0.0.0/8, 192.168.0.0/16', ipstrategy: { depth: '1' } } },
    });
    const d = c.router(['strip@swarm', 'sec@swarm', 'ips@swarm']) as MiddlewareDescriptor[];
    assert.deepEqual(d.map((x) => x.kind), ['stripPrefix', 'headers', 'ipAllowList']);
    assert.deepEqual(d[0]!.options, { prefixes: ['/a', '/b'] });
    assert.deepEqual((d[2]!.options as { sourceRange: string[]; depth: number }).sourceRange, ['10.0.0.0/8', '192.168.0.0/16']);
  });

  test('bad options name the option: header injection, bad CIDRs, bad regexps', () => {
    assert.match(error('headers', { customRequestHeaders: { 'X-A': 'a\r\nX-Evil: 1' } }), /must not contain CR, LF or NUL/);
    assert.match(error('headers', { customResponseHeaders: { 'Bad Name': 'x' } }), /not a valid header name/);
    assert.match(error('headers', { sslRedirect: true }), /deprecated .* redirectScheme/);
    assert.match(error('ipAllowList', { sourceRange: ['10.0.0.0/33'] }), /bad prefix length/);
    assert.match(error('ipWhiteList', { sourceRange: 'nope' }), /not an IP address or CIDR/);
    assert.match(error('stripPrefixRegex', { regex: ['(unclosed'] }), /stripPrefixRegex|regex|missing|unterminated/i);
    assert.match(error('redirectScheme', { scheme: 'ht tp' }), /not a URL scheme/);
  });
});

describe('request stages', () => {
  test('stripPrefix: first matching prefix in configured order, X-Forwarded-Prefix, a leading slash kept; dot segments 400', () => {
    const d = one('stripPrefix', { prefixes: '/api,/api/v1' });
    const r = run(d, { path: '/api/v1/users' });
    assert.equal(r.fr.path, '/v1/users');
    assert.match(r.fr.lines, /x-forwarded-prefix: \/api\r\n/);
    assert.equal(run(d, { path: '/api' }).fr.path, '/');
    assert.equal(run(d, { path: '/apix' }).fr.path, '/x');
    assert.equal(run(d, { path: '/other' }).fr.path, '/other');
    assert.equal(run(d, { path: '/api/../admin' }).answer?.status, 400);
    assert.equal(run(one('stripPrefix', { prefixes: ['/caf\u00e9'] }), { path: '/caf%C3%A9/x' }).fr.path, '/x', 'compared decoded, cut in the raw path');
  });

  test('stripPrefixRegex, addPrefix, replacePath, replacePathRegex', () => {
    const s = run(one('stripPrefixRegex', { regex: ['/users/[a-z]+'] }), { path: '/users/bob/profile' });
    assert.equal(s.fr.path, '/profile');
    assert.match(s.fr.lines, /x-forwarded-prefix: \/users\/bob\r\n/);
    assert.equal(run(one('addPrefix', { prefix: '/v2' }), { path: '/x' }).fr.path, '/v2/x');
    const rp = run(one('replacePath', { path: '/new' }), { path: '/old' });
    assert.equal(rp.fr.path, '/new');
    assert.match(rp.fr.lines, /x-replaced-path: \/old\r\n/);
    const rr = run(one('replacePathRegex', { regex: '^/foo/(.*)', replacement: '/bar/$1' }), { path: '/foo/a/b' });
    assert.equal(rr.fr.path, '/bar/a/b');
    assert.match(rr.fr.lines, /x-replaced-path: \/foo\/a\/b\r\n/);
    assert.equal(run(one('replacePathRegex', { regex: '^/x', replacement: '/y' }), { path: '/z' }).fr.path, '/z');
  });

  test('redirectScheme: 302/307 by default, 301/308 permanent, port kept or set, a request already there passes', () => {
    const d = one('redirectScheme', { scheme: 'https' });
    const r = run(d, { hostHeader: 'a.test:8080', path: '/p', query: 'q=1' });
    assert.deepEqual([r.answer?.status, r.answer?.headers], [302, [['location', 'https://a.test/p?q=1']]]);
    assert.equal(run(d, { method: 'POST' }).answer?.status, 307);
    assert.equal(run(d, { tls: true }).answer, null);
    const p = one('redirectScheme', { scheme: 'https', port: '8443', permanent: 'true' });
    assert.deepEqual([run(p).answer?.status, run(p, { method: 'PUT' }).answer?.status], [301, 308]);
    assert.equal(run(p).answer?.headers[0]![1], 'https://a.test:8443/');
  });

  test('redirectRegex: on the whole URL, Go replacement syntax; no match passes; a Location with CR/LF is refused', () => {
    const d = one('redirectRegex', { regex: '^http://localhost/(.*)', replacement: 'http://mydomain/${1}', permanent: true });
    assert.deepEqual(run(d, { hostHeader: 'localhost', path: '/a/b' }).answer?.headers, [['location', 'http://mydomain/a/b']]);
    assert.equal(run(d, { hostHeader: 'other', path: '/a' }).answer, null);
    const injected = run(one('redirectRegex', { regex: '^http://x/(.*)', replacement: 'http://y/$1' }), { hostHeader: 'x', path: '/%0d%0a' });
    assert.equal(injected.answer?.status, 302, 'percent-encoded CR/LF stay encoded');
  });

  test('redirectRegex: captured request text cannot move a redirect to another host (open redirect)', () => {
    const fixedHost = one('redirectRegex', { regex: '^http://old.test(.*)', replacement: 'http://new.test${1}' });
    assert.deepEqual(run(fixedHost, { hostHeader: 'old.test', path: '/a' }).answer?.headers, [['location', 'http://new.test/a']]);
    assert.equal(run(fixedHost, { hostHeader: 'old.test', path: '/x', query: '' }).answer?.status, 302);
    // "old.test@evil.example/..." would make new.test the user name and evil.example the host.
    const userinfo = one('redirectRegex', { regex: '^http://[^/]*/go/(.*)', replacement: 'http://new.test${1}' });
    assert.equal(run(userinfo, { hostHeader: 'old.test', path: '/go/@evil.example/' }).answer?.status, 400);
    assert.equal(run(userinfo, { hostHeader: 'old.test', path: '/go/.evil.example/' }).answer?.status, 400);
    const relative = one('redirectRegex', { regex: '^http://[^/]*/old/(.*)', replacement: '/${1}' });
    assert.deepEqual(run(relative, { hostHeader: 'a.test', path: '/old/page' }).answer?.headers, [['location', '/page']]);
    assert.equal(run(relative, { hostHeader: 'a.test', path: '/old//evil.example/' }).answer?.status, 400, 'protocol-relative');
    assert.equal(run(relative, { hostHeader: 'a.test', path: '/old/\\evil.example/' }).answer?.status, 400);
    // A replacement whose authority is a capture keeps the request's host: the router already matched it.
    const keepHost = one('redirectRegex', { regex: '^http://([^/]+)/(.*)', replacement: 'https://${1}/${2}' });
    assert.deepEqual(run(keepHost, { hostHeader: 'a.test', path: '/p' }).answer?.headers, [['location', 'https://a.test/p']]);
  });

  test('ipAllowList: the connection address, or X-Forwarded-For by depth or excluded IPs; 403 otherwise', () => {
    const d = one('ipAllowList', { sourceRange: ['10.0.0.0/8', '::1'] });
    assert.equal(run(d, { clientIp: '10.1.2.3' }).answer, null);
    assert.equal(run(d, { clientIp: '::1' }).answer, null);
    assert.equal(run(d, { clientIp: '192.168.1.1' }).answer?.status, 403);
    const depth = one('ipWhiteList', { sourceRange: '10.0.0.0/8', ipStrategy: { depth: 2 } });
    // As the entry point forwards it: the trusted chain, then the client portero appends.
    const lines = 'x-forwarded-for: 10.9.9.9, 192.168.0.1, 172.16.0.1\r\n';
    assert.equal(run(depth, { clientIp: '172.16.0.1', lines }).answer, null, 'depth 2: 10.9.9.9');
    assert.equal(run(depth, { clientIp: '172.16.0.1', lines: 'x-forwarded-for: 172.16.0.1\r\n' }).answer?.status, 403, 'too shallow: rejected');
    const excluded = one('ipAllowList', { sourceRange: '192.168.0.0/16', ipStrategy: { excludedIPs: '10.0.0.0/8' } });
    assert.equal(run(excluded, { lines: 'x-forwarded-for: 192.168.5.5, 10.0.0.2, 10.0.0.9\r\n' }).answer, null);
  });

  test('headers: custom request headers set or removed (Host too), response headers and security headers edited', () => {
    const d = one('headers', {
      customRequestHeaders: { 'X-Script-Name': 'test', 'X-Remove': '', Host: 'backend.internal' },
      customResponseHeaders: { 'X-Custom': 'v', Server: '' },
      frameDeny: true,
      contentTypeNosniff: 'true',
      browserXssFilter: true,
      referrerPolicy: 'same-origin',
      contentSecurityPolicy: "default-src 'self'",
      stsSeconds: 31536000,
      stsIncludeSubdomains: true,
      stsPreload: true,
    });
    const r = run(d, { lines: 'x-remove: a\r\nx-script-name: old\r\nx-forwarded-for: 1.2.3.4\r\n' });
    assert.equal(r.fr.lines, 'x-forwarded-for: 1.2.3.4\r\nx-script-name: test\r\n');
    assert.equal(r.fr.hostHeader, 'backend.internal');
    const h = r.responseHeaders(['Server', 'nginx', 'X-Frame-Options', 'SAMEORIGIN']);
    assert.deepEqual(h, ['X-Custom', 'v', 'X-Frame-Options', 'DENY', 'X-Content-Type-Options', 'nosniff', 'X-XSS-Protection', '1; mode=block', 'Content-Security-Policy', "default-src 'self'", 'Referrer-Policy', 'same-origin']);
    const tls = run(d, { tls: true }).responseHeaders();
    assert.ok(tls.includes('max-age=31536000; includeSubDomains; preload'), 'HSTS on HTTPS only');
  });

  test('headers: allowedHosts answers 400 to other hosts; CORS preflight answered, simple requests get the allow headers', () => {
    assert.equal(run(one('headers', { allowedHosts: ['a.test'] }), { host: 'b.test' }).answer?.status, 400);
    const cors = one('headers', {
      accessControlAllowMethods: 'GET,OPTIONS,PUT',
      accessControlAllowHeaders: '*',
      accessControlAllowOriginList: 'https://foo.bar.org,https://example.org',
      accessControlMaxAge: 100,
      addVaryHeader: true,
    });
    const pre = run(cors, { method: 'OPTIONS', headers: { origin: 'https://example.org', 'access-control-request-method': 'PUT' } });
    assert.equal(pre.answer?.status, 200);
    assert.deepEqual(pre.answer?.headers, [
      ['Access-Control-Allow-Headers', '*'],
      ['Access-Control-Allow-Methods', 'GET,OPTIONS,PUT'],
      ['Access-Control-Allow-Origin', 'https://example.org'],
      ['Access-Control-Max-Age', '100'],
    ]);
    const simple = run(cors, { headers: { origin: 'https://foo.bar.org' } }).responseHeaders(['Vary', 'Accept-Encoding']);
    assert.deepEqual(simple, ['Access-Control-Allow-Origin', 'https://foo.bar.org', 'Vary', 'Accept-Encoding,Origin']);
    assert.deepEqual(run(cors, { headers: { origin: 'https://evil.example' } }).responseHeaders(), ['Vary', 'Origin']);
  });
});

describe('basicAuth', () => {
  test('bcrypt (asynchronously), apr1 and SHA1 hashes; 401 with the realm otherwise; headerField and removeHeader', async () => {
    const { default: bcrypt } = await import('bcryptjs');
    const { default: md5 } = await import('apache-md5');
    const { createHash } = await import('node:crypto');
    const { runStages } = await import('../../src/middlewares/pipeline.js');
    const users = [`bob:${bcrypt.hashSync('bpw', 4).replace(/^\$2b\$/, '$2y$')}`, `amy:${md5('apw')}`, `sam:{SHA}${createHash('sha1').update('spw').digest('base64')}`];
    const d = one('basicAuth', { users, realm: 'staff', headerField: 'X-WebAuth-User', removeHeader: true });
    const auth = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
    const stages = buildMiddlewares(d, NO_POOLS).request!;
    const attempt = async (headers: Record<string, string>) => {
      const r = run([], { headers });
      const fr = { ...r.fr, view: { ...r.fr.view, headers }, lines: 'authorization: x\r\nx-forwarded-for: 10.0.0.1\r\n' };
      const answer = await runStages(stages, fr);
      return { answer, lines: fr.lines };
    };
    for (const [u, pw] of [['bob', 'bpw'], ['amy', 'apw'], ['sam', 'spw']] as const) {
      const ok = await attempt(auth(u, pw));
      assert.equal(ok.answer, null, u);
      assert.equal(ok.lines, `x-forwarded-for: 10.0.0.1\r\nx-webauth-user: ${u}\r\n`);
    }
    assert.ok(stages[0]!({ ...run([]).fr, view: { ...run([]).fr.view, headers: auth('bob', 'bpw') } }) === null, 'verified bcrypt credentials are remembered: no second hash');
    for (const headers of [{}, auth('bob', 'wrong'), auth('nobody', 'x'), { authorization: 'Bearer abc' }, { authorization: 'Basic !!!' }]) {
      const { answer } = await attempt(headers);
      assert.equal(answer?.status, 401);
      assert.deepEqual(answer?.headers, [['WWW-Authenticate', 'Basic realm="staff"']]);
    }
  });

  test('users must be hashes; usersFile is read, and users win over it (Traefik appends users to the file)', async () => {
    assert.match(error('basicAuth', { users: ['bob:plaintext'] }), /not a bcrypt, MD5 \(apr1\) or SHA1 hash/);
    assert.match(error('basicAuth', { usersFile: '/nonexistent/htpasswd' }), /cannot read \/nonexistent\/htpasswd: ENOENT/);
    assert.match(error('basicAuth', {}), /needs users or usersFile/);
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { default: md5 } = await import('apache-md5');
    const dir = mkdtempSync(join(tmpdir(), 'portero-htpasswd-'));
    try {
      const file = join(dir, 'htpasswd');
      const fromFile = md5('new');
      writeFileSync(file, `# staff\nbob:${fromFile}\nann:${fromFile}\n\n`);
      const fromUsers = md5('old');
      const d = one('basicAuth', { users: [`bob:${fromUsers}`], usersFile: file });
      assert.deepEqual(new Map((d[0]!.options as { users: [string, string][] }).users), new Map([['bob', fromUsers], ['ann', fromFile]]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
