// --entrypoints.<n>.http.middlewares: the static setting in its three
// spellings, and how the compiler puts them in front of each router's own
// middlewares, copying a router per entry point as Traefik does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigUsageError, parseStaticConfig } from '../../src/config/index.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { compileTable } from '../../src/table/compile.js';
import { routerCopies } from '../../src/table/entry-point-middlewares.js';
import { LoadBalancerCompiler } from '../../src/table/load-balancers.js';
import { SlotAllocator, SlotPool } from '../../src/shared/slots.js';

const tmp = mkdtempSync(join(tmpdir(), 'portero-ep-mw-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseStaticConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigUsageError, String(err));
    return err.message;
  }
  assert.fail(`expected a usage error for ${argv.join(' ')}`);
}

describe('static configuration', () => {
  test('flag: a comma-separated list, kept in order, names with or without @provider', () => {
    const c = parseStaticConfig(['--entrypoints.web.address=:80', '--entrypoints.web.http.middlewares=auth@file, strip@docker,,local'], {});
    assert.deepEqual(c.entryPoints.web!.middlewares, ['auth@file', 'strip@docker', 'local']);
  });

  test('flag names are case-insensitive and the entry point is matched by name', () => {
    const c = parseStaticConfig(['--entryPoints.Web.address=:80', '--ENTRYPOINTS.web.HTTP.Middlewares=a@file'], {});
    assert.deepEqual(c.entryPoints.Web!.middlewares, ['a@file']);
  });

  test('environment variable', () => {
    const c = parseStaticConfig([], { TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':80', TRAEFIK_ENTRYPOINTS_WEB_HTTP_MIDDLEWARES: 'a@file,b@file' });
    assert.deepEqual(c.entryPoints.web!.middlewares, ['a@file', 'b@file']);
  });

  test('config file: a YAML list; the flag overrides it', () => {
    const file = join(tmp, 'static.yml');
    writeFileSync(file, 'entryPoints:\n  web:\n    address: ":80"\n    http:\n      middlewares:\n        - auth@file\n        - strip@file\n  other:\n    address: ":81"\n');
    const c = parseStaticConfig([`--configFile=${file}`], {});
    assert.deepEqual(c.entryPoints.web!.middlewares, ['auth@file', 'strip@file']);
    assert.equal(c.entryPoints.other!.middlewares, undefined, 'entry points without the setting have none');
    const overridden = parseStaticConfig([`--configFile=${file}`, '--entrypoints.web.http.middlewares=x@file'], {});
    assert.deepEqual(overridden.entryPoints.web!.middlewares, ['x@file']);
  });

  test('bad names and misplaced settings are usage errors', () => {
    assert.match(usageError(['--entrypoints.web.address=:80', '--entrypoints.web.http.middlewares=a@b@c']), /--entrypoints\.web\.http\.middlewares: invalid middleware name "a@b@c"/);
    assert.match(usageError(['--entrypoints.web.address=:80', '--entrypoints.web.http.middlewares=@file']), /invalid middleware name "@file"/);
    assert.match(usageError(['--entrypoints.web.address=:80', '--entrypoints.nope.http.middlewares=a@file']), /entry point "nope" has no address/);
  });

  test('refused on the entry points portero answers itself, where no router could run them', () => {
    const api = usageError(['--entrypoints.web.address=:80', '--entrypoints.traefik.address=:8080', '--api.insecure', '--entrypoints.traefik.http.middlewares=auth@file']);
    assert.match(api, /--entrypoints\.traefik\.http\.middlewares: .*without routers.*api@internal/);
    const metrics = usageError(['--entrypoints.web.address=:80', '--entrypoints.metrics.address=:8082', '--metrics.prometheus.entryPoint=metrics', '--entrypoints.metrics.http.middlewares=auth@file']);
    assert.match(metrics, /--entrypoints\.metrics\.http\.middlewares/);
  });
});

describe('router copies', () => {
  const mws = new Map([['web', ['a']]]);

  test('no entry point middlewares: the router as it is', () => {
    assert.deepEqual(routerCopies('r@file', ['web', 'websecure'], new Map()), [{ name: 'r@file', entryPoints: ['web', 'websecure'], entryPoint: null, prepended: [] }]);
  });

  test('one entry point: the router keeps its name', () => {
    assert.deepEqual(routerCopies('r@file', ['web'], mws), [{ name: 'r@file', entryPoints: ['web'], entryPoint: 'web', prepended: ['a'] }]);
  });

  test('several entry points: "<entry point>-<router>" for those with middlewares, the router for the rest', () => {
    assert.deepEqual(routerCopies('r@file', ['web', 'websecure', 'web'], mws), [
      { name: 'web-r@file', entryPoints: ['web'], entryPoint: 'web', prepended: ['a'] },
      { name: 'r@file', entryPoints: ['websecure'], entryPoint: null, prepended: [] },
    ]);
  });
});

describe('compiling', () => {
  const http = (p: Partial<DynamicConfig['http']>): DynamicConfig['http'] => ({ routers: {}, services: {}, middlewares: {}, ...p });
  const svc = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } };

  function compile(providers: Record<string, DynamicConfig['http']>, entryPointMiddlewares: Record<string, string[]>, entryPoints = ['web', 'admin']) {
    const services = new SlotAllocator(100);
    return compileTable({
      providers: new Map(Object.entries(providers).map(([k, h]) => [k, { http: h }])),
      entryPoints,
      loadBalancers: new LoadBalancerCompiler(new SlotPool(100)),
      serviceSlots: (k) => services.assign(k),
      entryPointMiddlewares: new Map(Object.entries(entryPointMiddlewares)),
    });
  }

  const file = http({
    routers: {
      both: { rule: 'Host(`both`)', service: 'svc', middlewares: ['strip'] },
      adminonly: { rule: 'Host(`admin`)', service: 'svc', entryPoints: ['admin'], middlewares: ['strip'] },
      webonly: { rule: 'Host(`web`)', service: 'svc', entryPoints: ['web'] },
    },
    services: { svc },
    middlewares: { strip: { stripPrefix: { prefixes: ['/api'] } }, tag: { headers: { customResponseHeaders: { 'X-Entry': 'web' } } } },
  });

  test("the entry point's middlewares come first; a router on several entry points is copied for the one that has them", () => {
    const c = compile({ file }, { web: ['tag@file'] });
    assert.deepEqual(c.errors, []);
    const byName = new Map(c.spec.routers.map((r) => [r.name, r]));
    assert.deepEqual([...byName.keys()].sort(), ['adminonly@file', 'both@file', 'web-both@file', 'webonly@file']);
    assert.deepEqual(byName.get('web-both@file')!.entryPoints, ['web']);
    assert.deepEqual(byName.get('web-both@file')!.middlewares.map((m) => [m.name, m.kind]), [['tag@file', 'headers'], ['strip@file', 'stripPrefix']]);
    assert.deepEqual(byName.get('both@file')!.entryPoints, ['admin']);
    assert.deepEqual(byName.get('both@file')!.middlewares.map((m) => m.name), ['strip@file']);
    assert.deepEqual(byName.get('webonly@file')!.middlewares.map((m) => m.name), ['tag@file']);
    assert.deepEqual(byName.get('adminonly@file')!.middlewares.map((m) => m.name), ['strip@file']);
    // The API shows the routers Traefik has, each with its effective list.
    assert.deepEqual(c.configs.routers.get('web-both@file')!.middlewares, ['tag@file', 'strip']);
    assert.equal(c.configs.routers.has('both@file'), true);
    assert.deepEqual(c.configs.routers.get('both@file')!.entryPoints, ['admin']);
  });

  test('a name without @provider is the router\'s provider\'s', () => {
    const swarm = http({
      routers: { app: { rule: 'Host(`app`)', service: 'svc', entryPoints: ['web'] } },
      services: { svc },
      middlewares: { tag: { headers: { customResponseHeaders: { 'X-From': 'swarm' } } } },
    });
    const c = compile({ file, swarm }, { web: ['tag'] });
    const byName = new Map(c.spec.routers.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('app@swarm')!.middlewares.map((m) => m.name), ['tag@swarm']);
    assert.deepEqual(byName.get('webonly@file')!.middlewares.map((m) => m.name), ['tag@file']);
  });

  test('an unknown or bad entry point middleware disables the routers on that entry point only, with a readable error', () => {
    for (const [reference, expected] of [
      ['missing@file', /entry point "web"'s middlewares \(--entrypoints\.web\.http\.middlewares\): unknown middleware "missing@file"/],
      ['bad@file', /entry point "web"'s middlewares .*middleware "bad@file": unknown kind "nonsense"/],
    ] as const) {
      const broken = { ...file, middlewares: { ...file.middlewares, bad: { nonsense: {} } } };
      const c = compile({ file: broken }, { web: [reference] });
      const errors = new Map(c.errors.map((e) => [e.element!.name, e.message]));
      assert.match(errors.get('web-both@file')!, expected);
      assert.match(errors.get('webonly@file')!, expected);
      assert.equal(c.routerStatus.get('webonly@file')!.status, 'disabled');
      assert.deepEqual(c.spec.routers.map((r) => r.name).sort(), ['adminonly@file', 'both@file'], 'the admin entry point keeps serving');
    }
  });

  test('an entry point that does not exist stays with the uncopied router, as Traefik splits before it looks entry points up', () => {
    const routers = {
      split: { rule: 'Host(`s`)', service: 'svc', entryPoints: ['web', 'nope'] },
      rest: { rule: 'Host(`r`)', service: 'svc', entryPoints: ['web', 'admin', 'nope'] },
    };
    const c = compile({ file: http({ routers, services: { svc }, middlewares: file.middlewares }) }, { web: ['tag@file'] });
    assert.deepEqual(c.spec.routers.map((r) => [r.name, r.entryPoints]).sort(), [
      ['rest@file', ['admin']],
      ['web-rest@file', ['web']],
      ['web-split@file', ['web']],
    ]);
    assert.deepEqual(c.routerStatus.get('web-split@file'), { status: 'enabled', errors: [] });
    assert.deepEqual(c.routerStatus.get('split@file'), { status: 'disabled', errors: ['entryPoint "nope" doesn\'t exist', 'no valid entryPoint for this router'] });
    assert.deepEqual(c.configs.routers.get('split@file')!.entryPoints, ['nope']);
    assert.deepEqual(c.routerStatus.get('rest@file'), { status: 'warning', errors: ['entryPoint "nope" doesn\'t exist'] });
    assert.deepEqual(c.configs.routers.get('rest@file')!.entryPoints, ['admin', 'nope']);
  });

  test('a copy named like another router disables the router it copies', () => {
    const clashing = http({ ...file, routers: { ...file.routers, 'web-both': { rule: 'Host(`x`)', service: 'svc', entryPoints: ['admin'] } } });
    const c = compile({ file: clashing }, { web: ['tag@file'] });
    assert.match(c.routerStatus.get('both@file')!.errors[0]!, /copy for entry point "web"'s middlewares would be named "web-both@file"/);
    assert.equal(c.routerStatus.get('web-both@file')!.status, 'enabled');
  });

  test('two retry middlewares across the entry point and the router are refused as on a router', () => {
    const retrying = http({ ...file, routers: { r: { rule: 'Host(`r`)', service: 'svc', entryPoints: ['web'], middlewares: ['again'] } }, middlewares: { again: { retry: { attempts: 2 } } } });
    const c = compile({ file: retrying }, { web: ['again@file'] });
    assert.match(c.routerStatus.get('r@file')!.errors[0]!, /more than one retry middleware/);
  });
});
