import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigError } from '../../src/dynamic/model.js';
import { buildSwarmConfig } from '../../src/providers/swarm/labels.js';
import type { SwarmProviderOptions, SwarmService, SwarmSnapshot, SwarmTask } from '../../src/providers/swarm/model.js';

const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

function options(extra: Partial<SwarmProviderOptions> = {}): SwarmProviderOptions {
  return { exposedByDefault: false, defaultRule: DEFAULT_RULE, ...extra };
}

function task(service: string, slot: number, addresses: Record<string, string[]>): SwarmTask {
  return { id: `${service}-task-${slot}`, name: `${service}.${slot}`, addresses };
}

interface ServiceOptions {
  networks?: string[];
  /** A number of tasks, or the tasks themselves. */
  tasks?: number | SwarmTask[];
  vips?: Record<string, string>;
}

/** Task `slot` (1-based) has IP 10.0.<k+1>.<slot+1> on the k-th network. */
function service(name: string, labels: Record<string, string>, opts: ServiceOptions = {}): SwarmService {
  const networks = opts.networks ?? ['net'];
  const tasks =
    typeof opts.tasks === 'object'
      ? opts.tasks
      : Array.from({ length: opts.tasks ?? 2 }, (_, i) =>
          task(name, i + 1, Object.fromEntries(networks.map((n, k) => [n, [`10.0.${k + 1}.${i + 2}`]]))),
        );
  return { id: `id-${name}`, name, labels, networks, vips: opts.vips ?? {}, tasks };
}

function snapshot(services: SwarmService[], ownNetworks: string[] | null = null): SwarmSnapshot {
  return { services, ownNetworks };
}

/** Server URLs of n tasks on the k-th network. */
function urls(n: number, port: number, k = 1, scheme = 'http'): { url: string }[] {
  return Array.from({ length: n }, (_, i) => ({ url: `${scheme}://10.0.${k}.${i + 2}:${port}` }));
}

function build(services: SwarmService[], extra: Partial<SwarmProviderOptions> = {}, ownNetworks: string[] | null = null) {
  return buildSwarmConfig(snapshot(services, ownNetworks), options(extra));
}

function messages(errors: ConfigError[]): string[] {
  return errors.map((e) => e.message);
}

const ENABLE = { 'traefik.enable': 'true' };

describe('the walkthrough (Traefik 1.7 labels)', () => {
  // ../shared/seed/traefik-on-docker-swarm.md: `docker stack deploy` of the whoami
  // stack with 4 replicas on traefik-net, and the traefik stack itself (no labels),
  // with --docker.exposedbydefault=false.
  const whoamiTasks = [1, 2, 3, 4].map((slot) =>
    task('whoami_whoami', slot, { 'traefik-net': [`10.0.1.${slot + 10}`], ingress: [`10.255.0.${slot + 10}`] }),
  );
  const stack = [
    service(
      'whoami_whoami',
      { 'traefik.frontend.rule': 'Host:whoami.docker.localhost', 'traefik.port': '80', 'traefik.enable': 'true' },
      { networks: ['traefik-net'], tasks: whoamiTasks, vips: { 'traefik-net': '10.0.1.2' } },
    ),
    service('traefik_traefik', {}, { networks: ['traefik-net', 'ingress'], tasks: 1 }),
  ];

  test('one router with the v1 rule and one service with the 4 task IPs on port 80', () => {
    for (const own of [['traefik-net', 'ingress'], null]) {
      const { config, errors, warnings } = build(stack, {}, own);
      assert.deepEqual(errors, []);
      assert.deepEqual(warnings, []);
      assert.deepEqual(config, {
        http: {
          routers: {
            'whoami-whoami': { rule: 'Host:whoami.docker.localhost', ruleSyntax: 'v1', service: 'whoami-whoami' },
          },
          services: {
            'whoami-whoami': {
              loadBalancer: {
                servers: [
                  { url: 'http://10.0.1.11:80' },
                  { url: 'http://10.0.1.12:80' },
                  { url: 'http://10.0.1.13:80' },
                  { url: 'http://10.0.1.14:80' },
                ],
              },
            },
          },
          middlewares: {},
        },
      });
    }
  });

  test('a service scaled to zero keeps its router, with no servers (503)', () => {
    const [whoami] = stack;
    const { config, errors } = build([{ ...whoami, tasks: [] }]);
    assert.deepEqual(errors, []);
    assert.deepEqual(config.http.services['whoami-whoami'], { loadBalancer: { servers: [] } });
    assert.equal(config.http.routers['whoami-whoami'].rule, 'Host:whoami.docker.localhost');
  });
});

describe('enablement', () => {
  const labels = { 'traefik.http.services.web.loadbalancer.server.port': '80' };

  test('exposedByDefault=false: only services with traefik.enable=true', () => {
    const r = build([service('a_web', labels), service('b_web', { ...labels, 'traefik.enable': 'true' })]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['b-web']);
    assert.deepEqual(r.errors, []);
  });

  test('exposedByDefault=true: all but traefik.enable=false', () => {
    const r = build([service('a_web', labels), service('b_web', { ...labels, 'traefik.enable': 'false' })], { exposedByDefault: true });
    assert.deepEqual(Object.keys(r.config.http.routers), ['a-web']);
  });

  test('traefik.enable accepts Go boolean spellings in any case', () => {
    for (const v of ['true', 'TRUE', 'True', 'tRuE', '1', 't', 'T']) {
      assert.deepEqual(Object.keys(build([service('s', { ...labels, 'traefik.enable': v })]).config.http.routers), ['s'], v);
    }
    for (const v of ['false', 'FALSE', 'fAlSe', '0', 'f']) {
      assert.deepEqual(Object.keys(build([service('s', { ...labels, 'traefik.enable': v })], { exposedByDefault: true }).config.http.routers), [], v);
    }
  });

  test('an invalid traefik.enable exposes nothing for that service and says why', () => {
    const r = build([service('s', { ...labels, 'Traefik.Enable': 'yes' }), service('ok', { ...labels, ...ENABLE })]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['ok']);
    assert.deepEqual(messages(r.errors), ['Swarm service "s": label "Traefik.Enable": must be true or false, got "yes"; the service is not exposed']);
  });

  test('with Traefik v1 labels, an invalid traefik.enable falls back to exposedByDefault with a warning, as in Traefik 1.7', () => {
    const v1 = { 'traefik.frontend.rule': 'Host:v1.test', 'traefik.port': '80', 'traefik.enable': 'anything' };
    const hidden = build([service('v1_web', v1)]);
    assert.deepEqual(Object.keys(hidden.config.http.routers), []);
    assert.deepEqual(hidden.errors, []);
    assert.deepEqual(hidden.warnings, ['Swarm service "v1_web": label "traefik.enable": must be true or false, got "anything"; exposedByDefault (false) applies, as in Traefik 1.7']);
    // Nothing defined, so the API has it on no element (only in the provider's warnings).
    assert.deepEqual(hidden.notices, [{ provider: 'swarm', message: hidden.warnings[0], level: 'warning' }]);
    const shown = build([service('v1_web', v1)], { exposedByDefault: true });
    assert.deepEqual(Object.keys(shown.config.http.routers), ['v1-web']);
    assert.equal(shown.warnings.length, 1);
    // With v2 labels beside the v1 ones, v2's rule holds: the service is not exposed, with an error.
    const mixed = build([service('mixed', { ...v1, ...labels })], { exposedByDefault: true });
    assert.deepEqual(Object.keys(mixed.config.http.routers), []);
    assert.equal(mixed.errors.length, 1);
  });

  test('without any label and exposedByDefault=true, Traefik requires a port', () => {
    const r = build([service('lonely', {})], { exposedByDefault: true });
    assert.deepEqual(r.config.http, { routers: {}, services: {}, middlewares: {} });
    assert.deepEqual(r.errors, [
      {
        provider: 'swarm',
        element: { kind: 'service', name: 'lonely' },
        message:
          'service "lonely" (Swarm service "lonely"): label "traefik.http.services.lonely.loadbalancer.server.port": missing (the port is required in Swarm mode; or traefik.port with Traefik v1 labels)',
      },
      {
        provider: 'swarm',
        element: { kind: 'router', name: 'lonely' },
        message: 'router "lonely" (Swarm service "lonely"): not defined: service "lonely" has no port, and Traefik then drops everything the Swarm service\'s labels define (see its error)',
      },
    ]);
  });

  test('constraints filter services', () => {
    const r = build(
      [
        service('a', { ...labels, ...ENABLE, 'traefik.tier': 'public' }),
        service('b', { ...labels, ...ENABLE, 'traefik.tier': 'internal' }),
        service('c', { ...labels, ...ENABLE }),
      ],
      { constraints: 'Label(`traefik.tier`, `public`) || !LabelRegex(`traefik.tier`, `.+`)' },
    );
    assert.deepEqual(Object.keys(r.config.http.routers), ['a', 'c']);
  });

  test('a malformed constraints expression exposes nothing', () => {
    const r = build([service('a', { ...labels, ...ENABLE })], { constraints: 'Label(`a`' });
    assert.deepEqual(r.config.http.routers, {});
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0].message, /^invalid constraints expression .*; no Swarm service is exposed until it is fixed$/);
  });
});

describe('v2/v3 labels', () => {
  test('two routers and two services', () => {
    const r = build([
      service(
        'shop_app',
        {
          ...ENABLE,
          'traefik.http.routers.web.rule': 'Host(`shop.example`) && PathPrefix(`/`)',
          'traefik.http.routers.web.entrypoints': 'web, admin',
          'traefik.http.routers.web.service': 'front',
          'traefik.http.routers.web.middlewares': 'strip,auth@file',
          'traefik.http.routers.api.rule': 'Host(`shop.example`) && PathPrefix(`/api`)',
          'traefik.http.routers.api.ruleSyntax': 'v2',
          'traefik.http.routers.api.priority': '100',
          'traefik.http.routers.api.service': 'back',
          'traefik.http.services.front.loadbalancer.server.port': '8080',
          'traefik.http.services.front.loadbalancer.passhostheader': 'false',
          'traefik.http.services.back.loadbalancer.server.port': '9000',
          'traefik.http.services.back.loadbalancer.server.scheme': 'https',
          'traefik.http.services.back.loadbalancer.server.weight': '3',
          'traefik.http.middlewares.strip.stripprefix.prefixes': '/shop',
        },
        { tasks: 3 },
      ),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config, {
      http: {
        routers: {
          api: { rule: 'Host(`shop.example`) && PathPrefix(`/api`)', ruleSyntax: 'v2', priority: 100, service: 'back' },
          web: {
            rule: 'Host(`shop.example`) && PathPrefix(`/`)',
            entryPoints: ['web', 'admin'],
            service: 'front',
            middlewares: ['strip', 'auth@file'],
          },
        },
        services: {
          back: { loadBalancer: { servers: urls(3, 9000, 1, 'https').map((s) => ({ ...s, weight: 3 })) } },
          front: { loadBalancer: { servers: urls(3, 8080), passHostHeader: false } },
        },
        middlewares: { strip: { stripprefix: { prefixes: '/shop' } } },
      },
    });
    // Sorted output.
    assert.deepEqual(Object.keys(r.config.http.routers), ['api', 'web']);
  });

  test('Traefik defaults: router named after the service, default rule, the only service', () => {
    const r = build([service('blog_wordpress', { ...ENABLE, 'traefik.http.services.wp.loadbalancer.server.port': '80' })]);
    assert.deepEqual(r.config.http.routers, { 'blog-wordpress': { rule: 'Host(`blog-wordpress`)', service: 'wp' } });

    const r2 = build([service('blog_wordpress', { ...ENABLE, 'traefik.http.routers.r.rule': 'Path(`/`)', 'traefik.http.services.blog.loadbalancer.server.port': '80' })]);
    assert.deepEqual(r2.config.http.routers, { r: { rule: 'Path(`/`)', service: 'blog' } });

    // A router with labels but no rule gets the default rule.
    const r3 = build([service('blog', { ...ENABLE, 'traefik.http.routers.r.entrypoints': 'web', 'traefik.http.services.blog.loadbalancer.server.port': '80' })]);
    assert.deepEqual(r3.config.http.routers, { r: { rule: 'Host(`blog`)', entryPoints: ['web'], service: 'blog' } });

    // No service labels: a service named after the Swarm service.
    const r4 = build([service('blog', { ...ENABLE, 'traefik.http.routers.r.rule': 'Path(`/`)' })]);
    assert.deepEqual(Object.keys(r4.config.http.services), []);
    assert.match(r4.errors[0].message, /^service "blog" \(Swarm service "blog"\): label "traefik.http.services.blog.loadbalancer.server.port": missing/);
  });

  test('no router labels and several services: no router (as Traefik), with a warning', () => {
    const r = build([
      service('s', { ...ENABLE, 'traefik.http.services.a.loadbalancer.server.port': '80', 'traefik.http.services.b.loadbalancer.server.port': '81' }),
    ]);
    assert.deepEqual(r.config.http.routers, {});
    assert.deepEqual(Object.keys(r.config.http.services), ['a', 'b']);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, ['Swarm service "s": no default router: several services ("a", "b") and no router labels']);
  });

  test('a router without service and two services is an error; the rest works', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.routers.lost.rule': 'Path(`/lost`)',
        'traefik.http.routers.found.rule': 'Path(`/found`)',
        'traefik.http.routers.found.service': 'b',
        'traefik.http.services.a.loadbalancer.server.port': '80',
        'traefik.http.services.b.loadbalancer.server.port': '81',
      }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['found']);
    assert.deepEqual(Object.keys(r.config.http.services), ['a', 'b']);
    assert.deepEqual(r.errors, [
      {
        provider: 'swarm',
        element: { kind: 'router', name: 'lost' },
        message: 'router "lost" (Swarm service "s"): cannot be linked automatically to one of several services ("a", "b"): set traefik.http.routers.lost.service',
      },
    ]);
  });

  test("a missing port names the label, and drops everything the Swarm service's labels define, its middlewares included, as Traefik does; other Swarm services keep serving", () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.routers.a.rule': 'Path(`/a`)',
        'traefik.http.routers.a.service': 'a',
        'traefik.http.routers.b.rule': 'Path(`/b`)',
        'traefik.http.routers.b.service': 'b',
        'traefik.http.routers.b.middlewares': 'auth',
        'traefik.http.middlewares.auth.basicauth.users': 'u:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/',
        'traefik.http.services.a.loadbalancer.passhostheader': 'true',
        'traefik.http.services.b.loadbalancer.server.port': '81',
      }),
      service('t', { ...ENABLE, 'traefik.http.services.t.loadbalancer.server.port': '80' }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['t']);
    assert.deepEqual(Object.keys(r.config.http.services), ['t']);
    assert.deepEqual(r.config.http.middlewares, {});
    assert.deepEqual(messages(r.errors), [
      'service "a" (Swarm service "s"): label "traefik.http.services.a.loadbalancer.server.port": missing (the port is required in Swarm mode)',
      'service "b" (Swarm service "s"): not defined: service "a" has no port, and Traefik then drops everything the Swarm service\'s labels define (see its error)',
      'middleware "auth" (Swarm service "s"): not defined: service "a" has no port, and Traefik then drops everything the Swarm service\'s labels define (see its error)',
      'router "a" (Swarm service "s"): not defined: service "a" has no port, and Traefik then drops everything the Swarm service\'s labels define (see its error)',
      'router "b" (Swarm service "s"): not defined: service "a" has no port, and Traefik then drops everything the Swarm service\'s labels define (see its error)',
    ]);
  });

  test('an https service names a servers transport of the file provider', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.services.s.loadbalancer.server.port': '8443',
        'traefik.http.services.s.loadbalancer.server.scheme': 'https',
        'traefik.http.services.s.loadbalancer.serverstransport': 'internal-ca@file',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    const lb = r.config.http.services.s.loadBalancer!;
    assert.equal(lb.serversTransport, 'internal-ca@file');
    assert.ok(lb.servers.every((srv) => srv.url.startsWith('https://') && srv.url.endsWith(':8443')));
  });

  test('a router may use a service of another provider or of another Swarm service', () => {
    const r = build([
      service('a', { ...ENABLE, 'traefik.http.routers.a.rule': 'Path(`/`)', 'traefik.http.routers.a.service': 'api@internal', 'traefik.http.services.x.loadbalancer.server.port': '1' }),
      service('b', { ...ENABLE, 'traefik.http.routers.b.rule': 'Path(`/b`)', 'traefik.http.routers.b.service': 'x', 'traefik.http.services.y.loadbalancer.server.port': '2' }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.equal(r.config.http.routers.a.service, 'api@internal');
    assert.equal(r.config.http.routers.b.service, 'x');
  });

  test('h2c servers (gRPC) are refused with the reason: the entry points speak HTTP/1.1 only', () => {
    const scheme = build([service('grpc', { ...ENABLE, 'traefik.http.services.g.loadbalancer.server.port': '50051', 'traefik.http.services.g.loadbalancer.server.scheme': 'h2c' })]);
    assert.match(messages(scheme.errors)[0]!, /label "traefik.http.services.g.loadbalancer.server.scheme": h2c \(HTTP\/2 cleartext, as gRPC uses\) is not supported: portero's entry points speak HTTP\/1.1 only/);
    const url = build([service('grpc', { ...ENABLE, 'traefik.http.services.g.loadbalancer.server.url': 'h2c://10.0.0.5:50051' })]);
    assert.match(messages(url.errors)[0]!, /loadBalancer.servers\[0\].url: h2c \(HTTP\/2 cleartext, as gRPC uses\) is not supported/);
  });

  test('server.preservePath (v3) keeps the path of a server url, as Traefik documents it', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.services.ext.loadbalancer.server.url': 'http://backend.example:8080/base',
        'traefik.http.services.ext.loadbalancer.server.preservePath': 'true',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.services.ext!.loadBalancer!.servers, [{ url: 'http://backend.example:8080/base', preservePath: true }]);
  });

  test('server.url instead of task addresses', () => {
    const r = build([service('s', { ...ENABLE, 'traefik.http.services.ext.loadbalancer.server.url': 'http://backend.example:8080', 'traefik.http.services.ext.loadbalancer.server.weight': '2' })]);
    assert.deepEqual(r.config.http.services, { ext: { loadBalancer: { servers: [{ url: 'http://backend.example:8080', weight: 2 }] } } });
    const bad = build([service('s', { ...ENABLE, 'traefik.http.services.ext.loadbalancer.server.url': 'http://b', 'traefik.http.services.ext.loadbalancer.server.port': '80' })]);
    assert.deepEqual(messages(bad.errors)[0], 'service "ext" (Swarm service "s"): label "traefik.http.services.ext.loadbalancer.server.url": a server url cannot be combined with label "traefik.http.services.ext.loadbalancer.server.port"');
  });

  test('labels and Traefik field names match in any case; names keep theirs', () => {
    const r = build([
      service('s', {
        'Traefik.Enable': 'TRUE',
        'TRAEFIK.HTTP.ROUTERS.MyRouter.RULE': 'Path(`/x`)',
        'traefik.http.Routers.myrouter.EntryPoints': 'web',
        'traefik.http.routers.MyRouter.RuleSyntax': 'V2',
        'Traefik.Http.Services.MySvc.LoadBalancer.Server.Port': '80',
        'traefik.http.services.mysvc.loadBalancer.passHostHeader': 'FALSE',
        'traefik.http.middlewares.Auth.BasicAuth.Users': 'u:h',
        'traefik.http.middlewares.auth.basicauth.realm': 'r',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http, {
      routers: { MyRouter: { rule: 'Path(`/x`)', ruleSyntax: 'v2', entryPoints: ['web'], service: 'MySvc' } },
      services: { MySvc: { loadBalancer: { servers: urls(2, 80), passHostHeader: false } } },
      middlewares: { Auth: { BasicAuth: { Users: 'u:h', realm: 'r' } } },
    });
  });

  test('two spellings of one field are a conflict, not a guess', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.routers.r.rule': 'Path(`/a`)',
        'traefik.http.routers.r.Rule': 'Path(`/b`)',
        'traefik.http.services.s.loadbalancer.server.port': '80',
      }),
    ]);
    assert.deepEqual(r.config.http.routers, {});
    assert.deepEqual(messages(r.errors), ['router "r" (Swarm service "s"): label "traefik.http.routers.r.rule": conflicts with label "traefik.http.routers.r.Rule"']);
  });

  test('bad values disable only their element, naming the label', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.routers.prio.rule': 'Path(`/p`)',
        'traefik.http.routers.prio.priority': 'high',
        'traefik.http.routers.prio.service': 'ok',
        'traefik.http.routers.typo.rule': 'Path(`/t`)',
        'traefik.http.routers.typo.servce': 'ok',
        'traefik.http.routers.syntax.rule': 'Path(`/s`)',
        'traefik.http.routers.syntax.rulesyntax': 'v4',
        'traefik.http.routers.syntax.service': 'ok',
        'traefik.http.routers.heavy.rule': 'Path(`/h`)',
        'traefik.http.routers.heavy.service': 'heavy',
        'traefik.http.routers.pass.rule': 'Path(`/x`)',
        'traefik.http.routers.pass.service': 'pass',
        'traefik.http.routers.good.rule': 'Path(`/`)',
        'traefik.http.routers.good.service': 'ok',
        'traefik.http.services.ok.loadbalancer.server.port': '80',
        'traefik.http.services.heavy.loadbalancer.server.port': '80',
        'traefik.http.services.heavy.loadbalancer.server.weight': '-1',
        'traefik.http.services.pass.loadbalancer.server.port': '80',
        'traefik.http.services.pass.loadbalancer.passhostheader': 'maybe',
        'traefik.http.services.port.loadbalancer.server.port': 'http',
        'traefik.http.services.scheme.loadbalancer.server.port': '80',
        'traefik.http.services.scheme.loadbalancer.server.scheme': 'ftp',
        'traefik.http.services.what.loadbalancer.server.foo': '1',
        'traefik.http.services.sticky.loadbalancer.server.port': '80',
        'traefik.http.services.sticky.loadbalancer.sticky.cookie.samesite': 'sometimes',
      }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['good']);
    assert.deepEqual(Object.keys(r.config.http.services), ['ok']);
    assert.deepEqual(messages(r.errors), [
      'service "heavy" (Swarm service "s"): label "traefik.http.services.heavy.loadbalancer.server.weight": loadBalancer.servers[0].weight must be a non-negative integer, got string "-1"',
      'service "pass" (Swarm service "s"): label "traefik.http.services.pass.loadbalancer.passhostheader": loadBalancer.passHostHeader must be true or false, got string "maybe"',
      'service "port" (Swarm service "s"): label "traefik.http.services.port.loadbalancer.server.port": must be a port number (1-65535), got "http"',
      'service "scheme" (Swarm service "s"): label "traefik.http.services.scheme.loadbalancer.server.scheme": must be http or https, got "ftp"',
      'service "sticky" (Swarm service "s"): label "traefik.http.services.sticky.loadbalancer.sticky.cookie.samesite": loadBalancer.sticky.cookie.sameSite must be none, lax or strict, got "sometimes"',
      'service "what" (Swarm service "s"): label "traefik.http.services.what.loadbalancer.server.foo": unknown key (expected loadbalancer.server.{port,scheme,url,weight})',
      'router "prio" (Swarm service "s"): label "traefik.http.routers.prio.priority": priority must be an integer, got string "high"',
      'router "syntax" (Swarm service "s"): label "traefik.http.routers.syntax.rulesyntax": ruleSyntax must be one of v3, v2, v1, got "v4"',
      'router "typo" (Swarm service "s"): label "traefik.http.routers.typo.servce": unknown key "servce" (expected rule, ruleSyntax, service, priority, entryPoints, middlewares, tls)',
      'router "heavy" (Swarm service "s"): service "heavy" is disabled (see its error)',
      'router "pass" (Swarm service "s"): service "pass" is disabled (see its error)',
    ]);
    for (const e of r.errors) assert.equal(e.provider, 'swarm');
  });

  test('router tls: "true" makes a TLS router, with certresolver and domains[n] beside it; "false" means none', () => {
    const base = { ...ENABLE, 'traefik.http.routers.r.rule': 'Path(`/`)', 'traefik.http.services.s.loadbalancer.server.port': '80' };
    assert.deepEqual(build([service('s', { ...base, 'traefik.http.routers.r.tls': 'false' })]).config.http.routers, { r: { rule: 'Path(`/`)', service: 's' } });
    const on = build([service('s', { ...base, 'traefik.http.routers.r.tls': 'true' })]);
    assert.deepEqual(on.config.http.routers, { r: { rule: 'Path(`/`)', service: 's', tls: {} } });
    const resolver = build([
      service('s', {
        ...base,
        'traefik.http.routers.r.tls': 'true',
        'traefik.http.routers.r.tls.certresolver': 'le',
        'traefik.http.routers.r.tls.domains[0].main': 'Example.com',
        'traefik.http.routers.r.tls.domains[0].sans': 'www.example.com, api.example.com',
        'traefik.http.routers.r.tls.domains[1].main': '*.apps.example.com',
      }),
    ]);
    assert.deepEqual(resolver.errors, []);
    assert.deepEqual(resolver.config.http.routers.r!.tls, {
      certResolver: 'le',
      domains: [{ main: 'example.com', sans: ['www.example.com', 'api.example.com'] }, { main: '*.apps.example.com' }],
    });
    const options = build([service('s', { ...base, 'traefik.http.routers.r.tls.options': 'modern@file' })]);
    assert.deepEqual(messages(options.errors), [
      'router "r" (Swarm service "s"): label "traefik.http.routers.r.tls.options": tls.options "modern@file": TLS options are not supported by portero (only "default")',
    ]);
  });

  test('comma lists: entry points and middlewares are trimmed; an empty item is an error', () => {
    const base = { ...ENABLE, 'traefik.http.services.s.loadbalancer.server.port': '80', 'traefik.http.routers.r.rule': 'Path(`/`)' };
    const ok = build([service('s', { ...base, 'traefik.http.routers.r.entrypoints': ' web ,admin', 'traefik.http.routers.r.middlewares': 'a' })]);
    assert.deepEqual(ok.config.http.routers.r, { rule: 'Path(`/`)', entryPoints: ['web', 'admin'], middlewares: ['a'], service: 's' });
    const bad = build([service('s', { ...base, 'traefik.http.routers.r.entrypoints': 'web,' })]);
    assert.deepEqual(messages(bad.errors), ['router "r" (Swarm service "s"): label "traefik.http.routers.r.entrypoints": entryPoints[1] must be a non-empty string, got string ""']);
  });

  test('middlewares are kept nested as given; a malformed one is an error of its own', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.services.s.loadbalancer.server.port': '80',
        'traefik.http.middlewares.redirect.redirectscheme.scheme': 'https',
        'traefik.http.middlewares.redirect.redirectscheme.permanent': 'true',
        'traefik.http.middlewares.bad.headers': 'x',
        'traefik.http.middlewares.bad.headers.customrequestheaders.X-A': 'b',
      }),
    ]);
    assert.deepEqual(r.config.http.middlewares, { redirect: { redirectscheme: { permanent: 'true', scheme: 'https' } } });
    assert.deepEqual(messages(r.errors), [
      'middleware "bad" (Swarm service "s"): label "traefik.http.middlewares.bad.headers.customrequestheaders.X-A": conflicts with label "traefik.http.middlewares.bad.headers" (a value cannot also have fields)',
    ]);
  });

  test('labels outside routers/services/middlewares', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.http.services.s.loadbalancer.server.port': '80',
        'traefik.http.routes.r.rule': 'Path(`/`)',
        'traefik.http.routers.x': 'y',
        'traefik.http.serverstransports.t.insecureskipverify': 'true',
        'traefik.http.services.s.weighted.services': 'a',
        'traefik.constraint-label': 'public',
      }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.services), ['s']);
    assert.deepEqual(messages(r.errors), [
      'Swarm service "s": label "traefik.http.routes.r.rule": unknown section "routes" (expected routers, services or middlewares); ignored',
      'router "x" (Swarm service "s"): label "traefik.http.routers.x": sets no field (expected e.g. ".rule")',
    ]);
    assert.deepEqual(r.warnings, [
      'Swarm service "s": label "traefik.http.serverstransports.t.insecureskipverify" ignored: servers transports are not supported by portero',
      'Swarm service "s": label "traefik.http.services.s.weighted.services" ignored: Traefik does not read weighted services from labels (use the file provider)',
    ]);
  });

  test('TCP/UDP-only services get no HTTP router (as in Traefik), with a warning', () => {
    const r = build([service('db', { ...ENABLE, 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)', 'traefik.tcp.services.db.loadbalancer.server.port': '5432' })]);
    assert.deepEqual(r.config.http, { routers: {}, services: {}, middlewares: {} });
    assert.deepEqual(r.errors, []);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /portero routes HTTP only/);
  });

  test('TCP and UDP routers, services and middlewares are named for the API, disabled: not served', () => {
    const r = build([
      service('db', {
        ...ENABLE,
        'traefik.tcp.routers.pg.rule': 'HostSNI(`*`)',
        'traefik.TCP.Routers.pg.entrypoints': 'pg',
        'traefik.tcp.services.pg.loadbalancer.server.port': '5432',
        'traefik.tcp.middlewares.lan.ipallowlist.sourcerange': '10.0.0.0/8',
        'traefik.udp.routers.dns.entrypoints': 'dns',
        'traefik.udp.services.dns.loadbalancer.server.port': '53',
        'traefik.tls.stores.default.defaultgeneratedcert.resolver': 'le',
        'traefik.http.routers.web.rule': 'Host(`db.test`)',
        'traefik.http.services.web.loadbalancer.server.port': '8080',
      }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['web']);
    const notServed = r.notices.filter((n) => n.element !== undefined && n.element.kind !== 'service');
    assert.deepEqual(
      notServed.map((n) => [n.element!.kind, n.element!.name, n.message]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      [
        ['tcpMiddleware', 'lan', 'TCP middleware "lan" (Swarm service "db"): not served: portero routes HTTP only'],
        ['tcpRouter', 'pg', 'TCP router "pg" (Swarm service "db"): not served: portero routes HTTP only'],
        ['tcpService', 'pg', 'TCP service "pg" (Swarm service "db"): not served: portero routes HTTP only'],
        ['udpRouter', 'dns', 'UDP router "dns" (Swarm service "db"): not served: portero routes HTTP only'],
        ['udpService', 'dns', 'UDP service "dns" (Swarm service "db"): not served: portero routes HTTP only'],
      ],
    );
  });

  test('v2/v3 labels win over v1 labels, with a warning', () => {
    const r = build([
      service('s', { ...ENABLE, 'traefik.http.services.s.loadbalancer.server.port': '81', 'traefik.port': '80', 'traefik.frontend.rule': 'Host:a' }),
    ]);
    assert.deepEqual(r.config.http.routers, { s: { rule: 'Host(`s`)', service: 's' } });
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, urls(2, 81));
    assert.deepEqual(r.warnings, [
      'Swarm service "s": Traefik v1 labels "traefik.frontend.rule", "traefik.port" ignored: the service has traefik.http.* labels, which take precedence',
    ]);
  });
});

describe('networks and server addresses', () => {
  const port = { ...ENABLE, 'traefik.http.services.s.loadbalancer.server.port': '80' };
  const two = { networks: ['front', 'back'] };

  test('the traefik.swarm.network or traefik.docker.network label', () => {
    for (const label of ['traefik.swarm.network', 'traefik.docker.network', 'Traefik.Docker.Network']) {
      const r = build([service('s', { ...port, [label]: 'back' }, two)]);
      assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, urls(2, 80, 2), label);
    }
  });

  test('--providers.swarm.network, overridden by the label', () => {
    assert.deepEqual(build([service('s', port, two)], { network: 'front' }).config.http.services.s.loadBalancer!.servers, urls(2, 80, 1));
    assert.deepEqual(
      build([service('s', { ...port, 'traefik.swarm.network': 'back' }, two)], { network: 'front' }).config.http.services.s.loadBalancer!.servers,
      urls(2, 80, 2),
    );
  });

  test("the one network shared with portero's container", () => {
    const r = build([service('s', port, two)], {}, ['back', 'ingress', 'bridge']);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, urls(2, 80, 2));
    assert.deepEqual(r.warnings, []);
  });

  test("the service's only network (ingress does not count)", () => {
    const r = build([service('s', port, { networks: ['ingress', 'app'] })]);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, urls(2, 80, 2));
    // portero runs in a container that is not on it: used, with a warning.
    const r2 = build([service('s', port, { networks: ['app'] })], {}, ['other']);
    assert.deepEqual(r2.config.http.services.s.loadBalancer!.servers, urls(2, 80, 1));
    assert.deepEqual(r2.warnings, ['Swarm service "s": using network "app", which portero\'s container is not attached to; its tasks may be unreachable']);
  });

  test('ambiguous networks disable the service, listing the candidates', () => {
    const r = build([service('s', port, { networks: ['ingress', 'front', 'back'] })]);
    assert.deepEqual(r.config.http.services, {});
    assert.deepEqual(messages(r.errors), [
      'service "s" (Swarm service "s"): the service is attached to several networks ("back", "front"); choose one with the label traefik.swarm.network or --providers.swarm.network',
      'router "s" (Swarm service "s"): service "s" is disabled (see its error)',
    ]);
    const shared = build([service('s', port, two)], {}, ['front', 'back']);
    assert.match(shared.errors[0].message, /shares several networks with portero \("back", "front"\)/);
  });

  test("a named network the service is not attached to: Traefik's fallback (the network shared with portero, else the service's first), with a warning", () => {
    const r = build([service('s', { ...port, 'traefik.docker.network': 'traefik-net' }, { networks: ['whoami_traefik-net', 'ingress'] })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, urls(2, 80, 1));
    assert.deepEqual(r.warnings, [
      'Swarm service "s": label "traefik.docker.network": network "traefik-net" is not attached to the service (its networks: "whoami_traefik-net"; stack networks carry the stack name as prefix, e.g. "mystack_net"); using "whoami_traefik-net", as Traefik does',
    ]);
    // For the API: the warning on the HTTP service it concerns, which keeps serving.
    assert.deepEqual(r.notices, [{ provider: 'swarm', element: { kind: 'service', name: 's' }, message: r.warnings[0], level: 'warning' }]);
    const opt = build([service('s', port)], { network: 'elsewhere' });
    assert.deepEqual(opt.errors, []);
    assert.match(opt.warnings[0]!, /^Swarm service "s": --providers.swarm.network: network "elsewhere" is not attached to the service \(its networks: "net";.*using "net", as Traefik does$/);
    // Several networks: the one portero shares wins over the service's first.
    const several = build([service('s', { ...port, 'traefik.swarm.network': 'gone' }, { networks: ['front', 'back'] })], {}, ['back']);
    assert.match(several.warnings[0]!, /using "back", as Traefik does$/);
    const first = build([service('s', { ...port, 'traefik.swarm.network': 'gone' }, { networks: ['front', 'back'] })]);
    assert.match(first.warnings[0]!, /using "front", as Traefik does$/);
    const ingress = build([service('s', { ...port, 'traefik.swarm.network': 'ingress' }, { networks: ['ingress', 'net'] })]);
    assert.match(ingress.errors[0].message, /label "traefik.swarm.network": the ingress network cannot carry proxied traffic/);
  });

  test('no network besides ingress', () => {
    const r = build([service('s', port, { networks: ['ingress'] })]);
    assert.match(r.errors[0].message, /attached to no network besides ingress/);
  });

  test('conflicting docker/swarm network labels', () => {
    const r = build([service('s', { ...port, 'traefik.docker.network': 'front', 'traefik.swarm.network': 'back' }, two)]);
    assert.match(r.errors[0].message, /label "traefik.docker.network": conflicts with label "traefik.swarm.network" \("back"\)/);
    const same = build([service('s', { ...port, 'traefik.docker.network': 'back', 'traefik.swarm.network': 'back' }, two)]);
    assert.deepEqual(same.errors, []);
  });

  test('IPv6 task addresses are bracketed; a dual-stack task uses its IPv4 address; prefixes are dropped', () => {
    const tasks = [
      task('s', 1, { net: ['fd00::5'] }),
      task('s', 2, { net: ['fd00::6', '10.0.9.6'] }),
      task('s', 3, { net: ['10.0.9.7/24'] }),
    ];
    const r = build([service('s', port, { tasks })]);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, [{ url: 'http://[fd00::5]:80' }, { url: 'http://10.0.9.6:80' }, { url: 'http://10.0.9.7:80' }]);
  });

  test('tasks sort by slot; a task without an address on the network is skipped with a warning', () => {
    const tasks = [task('s', 10, { net: ['10.0.0.10'] }), task('s', 9, { net: ['10.0.0.9'] }), task('s', 2, { other: ['10.1.0.2'] })];
    const r = build([service('s', port, { tasks })]);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, [{ url: 'http://10.0.0.9:80' }, { url: 'http://10.0.0.10:80' }]);
    assert.deepEqual(r.warnings, ['Swarm service "s": task "s.2" has no address on network "net"; skipped']);
  });

  test("{{ .ContainerName }} in the default rule is the task's name, as Traefik names a Swarm task's container", () => {
    const options = { defaultRule: 'Host(`{{ .ContainerName }}.example.com`)' };
    const one = build([service('app_web', { ...ENABLE, ...port }, { tasks: 1 })], options);
    assert.deepEqual(one.errors, []);
    assert.equal(one.config.http.routers['app-web']!.rule, 'Host(`app_web.1.example.com`)');
    // A global service's task is named by its task ID.
    const global = build([service('agent', { ...ENABLE, ...port }, { tasks: [{ id: 'x7k2', name: 'agent.x7k2', addresses: { net: ['10.0.0.5'] } }] })], options);
    assert.equal(global.config.http.routers.agent!.rule, 'Host(`agent.x7k2.example.com`)');
    // lbswarm: one container, named after the service.
    const vip = build([service('app_web', { ...ENABLE, ...port, 'traefik.swarm.lbswarm': 'true' }, { tasks: 2, vips: { net: '10.0.1.100' } })], options);
    assert.equal(vip.config.http.routers['app-web']!.rule, 'Host(`app_web.example.com`)');
    // Two tasks, two rules: Traefik's merge drops a router its containers define differently; so does portero, saying why.
    const two = build([service('app_web', { ...ENABLE, ...port }, { tasks: 2 })], options);
    assert.deepEqual(Object.keys(two.config.http.routers), []);
    assert.match(messages(two.errors)[0]!, /router "app-web" .*the default rule reads \.ContainerName, which gives each of the 2 tasks its own rule \("Host\(`app_web\.1\.example\.com`\)", "Host\(`app_web\.2\.example\.com`\)"\)/);
    const none = build([service('app_web', { ...ENABLE, ...port }, { tasks: 0 })], options);
    assert.match(messages(none.errors)[0]!, /no running task to name/);
    // Labels that give the rule need no task.
    const ruled = build([service('app_web', { ...ENABLE, ...port, 'traefik.http.routers.r.rule': 'Host(`a`)' }, { tasks: 0 })], options);
    assert.deepEqual(ruled.errors, []);
  });

  test('lbswarm: one server at the virtual IP', () => {
    for (const label of ['traefik.swarm.lbswarm', 'traefik.docker.lbswarm']) {
      const r = build([service('s', { ...port, [label]: 'true' }, { ...two, vips: { front: '10.0.1.100', back: '10.0.2.100' } })], { network: 'back' });
      assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, [{ url: 'http://10.0.2.100:80' }], label);
    }
    const off = build([service('s', { ...port, 'traefik.swarm.lbswarm': 'false' }, { vips: { net: '10.0.1.100' } })]);
    assert.deepEqual(off.config.http.services.s.loadBalancer!.servers, urls(2, 80));
  });

  test('lbswarm without a virtual IP (endpoint mode dnsrr) or with a bad value is an error', () => {
    const r = build([service('s', { ...port, 'traefik.swarm.lbswarm': 'true' })]);
    assert.deepEqual(messages(r.errors)[0],
      'service "s" (Swarm service "s"): label "traefik.swarm.lbswarm": the service has no virtual IP on network "net" (endpoint mode dnsrr?), so lbswarm cannot be used');
    const bad = build([service('s', { ...port, 'traefik.swarm.lbswarm': 'yes' })]);
    assert.match(bad.errors[0].message, /label "traefik.swarm.lbswarm": must be true or false, got "yes"/);
  });

  test('unknown traefik.swarm.* labels are warnings', () => {
    const r = build([service('s', { ...port, 'traefik.swarm.netwrok': 'x' })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, ['Swarm service "s": label "traefik.swarm.netwrok" ignored: not a Swarm provider label']);
  });
});

describe('Traefik 1.7 labels', () => {
  test('the default rule (v3 syntax) when there is no frontend.rule; traefik.domain makes a v1 Host rule', () => {
    const r = build([service('web_app', { ...ENABLE, 'traefik.port': '80' })]);
    assert.deepEqual(r.config.http.routers, { 'web-app': { rule: 'Host(`web-app`)', ruleSyntax: 'v3', service: 'web-app' } });
    const d = build([service('web_app', { ...ENABLE, 'traefik.port': '80', 'traefik.domain': 'example.com' })]);
    assert.deepEqual(d.config.http.routers, { 'web-app': { rule: 'Host:web-app.example.com', ruleSyntax: 'v1', service: 'web-app' } });
  });

  test('frontend options, backend name, protocol and weight', () => {
    const r = build([
      service('shop_web', {
        ...ENABLE,
        'traefik.frontend.rule': 'Host:shop.example;PathPrefixStrip:/shop',
        'traefik.frontend.priority': '10',
        'traefik.frontend.entryPoints': 'http, https,',
        'traefik.frontend.passHostHeader': 'false',
        'traefik.backend': 'shop_backend',
        'traefik.port': '8443',
        'traefik.protocol': 'https',
        'traefik.weight': '5',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http, {
      routers: {
        'shop-web': { rule: 'Host:shop.example;PathPrefixStrip:/shop', ruleSyntax: 'v1', priority: 10, entryPoints: ['http', 'https'], service: 'shop-backend' },
      },
      services: { 'shop-backend': { loadBalancer: { servers: urls(2, 8443, 1, 'https').map((s) => ({ ...s, weight: 5 })), passHostHeader: false } } },
      middlewares: {},
    });
  });

  test('a missing or bad port names the label', () => {
    const r = build([service('whoami_whoami', { ...ENABLE, 'traefik.frontend.rule': 'Host:a' })]);
    assert.deepEqual(r.errors[0], {
      provider: 'swarm',
      element: { kind: 'service', name: 'whoami-whoami' },
      message: 'service "whoami-whoami" (Swarm service "whoami_whoami"): label "traefik.port": missing (the port is required in Swarm mode)',
    });
    assert.deepEqual(r.config.http.routers, {});
    const bad = build([service('s', { ...ENABLE, 'traefik.port': '80a' })]);
    assert.match(bad.errors[0].message, /label "traefik.port": must be a port number \(1-65535\), got "80a"/);
  });

  test('bad values disable only their element', () => {
    const prio = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.priority': 'first' })]);
    assert.deepEqual(Object.keys(prio.config.http.services), ['s']);
    assert.deepEqual(prio.config.http.routers, {});
    assert.deepEqual(messages(prio.errors), ['router "s" (Swarm service "s"): label "traefik.frontend.priority": priority must be an integer, got string "first"']);

    const weight = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.weight': '-2' })]);
    assert.deepEqual(messages(weight.errors), [
      'service "s" (Swarm service "s"): label "traefik.weight": loadBalancer.servers[0].weight must be a non-negative integer, got string "-2"',
      'router "s" (Swarm service "s"): service "s" is disabled (see its error)',
    ]);

    const pass = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.passHostHeader': 'sometimes' })]);
    assert.match(pass.errors[0].message, /label "traefik.frontend.passHostHeader": loadBalancer.passHostHeader must be true or false/);

    const proto = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.protocol': 'h2c' })]);
    assert.match(proto.errors[0].message, /label "traefik.protocol": h2c \(HTTP\/2 cleartext, as gRPC uses\) is not supported/);
  });

  test('segments: one router and service each, default labels inherited', () => {
    const r = build([
      service('app_app', {
        ...ENABLE,
        'traefik.frontend.entryPoints': 'http',
        'traefik.frontend.rule': 'Host:app.example',
        'traefik.web.port': '80',
        'traefik.web.frontend.priority': '5',
        'traefik.admin.port': '8080',
        'traefik.admin.frontend.rule': 'Host:admin.example',
        'traefik.admin.weight': '2',
        'traefik.admin.backend': 'ops',
        'traefik.port': '9999',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http, {
      routers: {
        'app-app-admin': { rule: 'Host:admin.example', ruleSyntax: 'v1', entryPoints: ['http'], service: 'app-app-ops' },
        'app-app-web': { rule: 'Host:app.example', ruleSyntax: 'v1', priority: 5, entryPoints: ['http'], service: 'app-app-web' },
      },
      services: {
        'app-app-ops': { loadBalancer: { servers: urls(2, 8080).map((s) => ({ ...s, weight: 2 })) } },
        'app-app-web': { loadBalancer: { servers: urls(2, 80) } },
      },
      middlewares: {},
    });
  });

  test('a segment without a port (and no traefik.port) is an error for that segment only', () => {
    const r = build([service('s', { ...ENABLE, 'traefik.a.port': '80', 'traefik.b.frontend.rule': 'Host:b' })]);
    assert.deepEqual(Object.keys(r.config.http.routers), ['s-a']);
    assert.deepEqual(messages(r.errors), [
      'service "s-b" (Swarm service "s"): label "traefik.b.port": missing (the port is required in Swarm mode)',
      'router "s-b" (Swarm service "s"): service "s-b" is disabled (see its error)',
    ]);
  });

  test('unsupported labels: errors when they guard something, warnings when harmless', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.rule': 'Host:s',
        'traefik.frontend.whiteList.useXForwardedFor': 'true',
        'traefik.frontend.rules': 'typo',
        'traefik.tags': 'api',
      }),
    ]);
    assert.deepEqual(Object.keys(r.config.http.services), ['s']);
    assert.deepEqual(r.config.http.routers, {});
    assert.deepEqual(messages(r.errors), [
      'router "s" (Swarm service "s"): label "traefik.frontend.whiteList.useXForwardedFor": not supported by portero (the IP restriction would be lifted)',
    ]);
    assert.deepEqual(r.warnings, [
      'Swarm service "s": label "traefik.frontend.rules" ignored: not a Traefik 1.7 label',
      'Swarm service "s": label "traefik.tags" ignored: not supported by portero (v1 tag constraints do not apply; portero\'s constraints use Label(...) expressions)',
    ]);

    const portIndex = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.portIndex': '1' })]);
    assert.match(portIndex.errors[0].message, /^service "s" .*label "traefik.portIndex": not supported by portero/);

    const seg = build([service('s', { ...ENABLE, 'traefik.a.port': '80', 'traefik.b.port': '81', 'traefik.b.frontend.headers.SSLRedirect': 'true' })]);
    assert.deepEqual(Object.keys(seg.config.http.routers), ['s-a']);
    assert.match(seg.errors[0].message, /^router "s-b" .*label "traefik.b.frontend.headers.SSLRedirect": not supported by portero/);
  });

  test('frontend auth, whiteList, headers and redirect labels become middlewares of the router, the same code as v2/v3', async () => {
    const { MiddlewareCompiler } = await import('../../src/middlewares/compile.js');
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.rule': 'Host:s.test',
        'traefik.frontend.auth.basic.users': 'admin:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=,ops:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=',
        'traefik.frontend.auth.headerField': 'X-WebAuth-User',
        'traefik.frontend.whiteList.sourceRange': '10.0.0.0/8, 192.168.0.0/16',
        'traefik.frontend.headers.customResponseHeaders': 'X-A:1||X-B:two',
        'traefik.frontend.headers.STSSeconds': '315360000',
        'traefik.frontend.headers.frameDeny': 'true',
        'traefik.frontend.redirect.entryPoint': 'https',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.routers.s!.middlewares, ['s-whitelist', 's-auth', 's-headers', 's-redirect']);
    assert.deepEqual(r.config.http.middlewares['s-auth'], { basicAuth: { users: ['admin:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=', 'ops:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc='], headerField: 'X-WebAuth-User' } });
    assert.deepEqual(r.config.http.middlewares['s-redirect'], { redirectScheme: { scheme: 'https' } });
    const qualified = new Map(Object.entries(r.config.http.middlewares).map(([k, v]) => [`${k}@swarm`, v]));
    const compiled = new MiddlewareCompiler(qualified, (m) => `${m}@swarm`).router(r.config.http.routers.s!.middlewares!.map((m) => `${m}@swarm`));
    assert.ok(Array.isArray(compiled), String(compiled));
    assert.deepEqual((compiled as { kind: string }[]).map((d) => d.kind), ['ipAllowList', 'basicAuth', 'headers', 'redirectScheme']);
  });

  test('frontend digest auth labels become a digestAuth middleware; basic labels beside them win, as in 1.7', async () => {
    const { MiddlewareCompiler } = await import('../../src/middlewares/compile.js');
    // Traefik's documented users (test:traefik:test, test2:traefik:test2).
    const users = 'test:traefik:a2688e031edb4be6a3797f3882655c05,test2:traefik:518845800f9e2bfb1f1f740ec24f074e';
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.rule': 'Host:s.test',
        'traefik.frontend.auth.digest.users': users,
        'traefik.frontend.auth.digest.removeHeader': 'true',
        'traefik.frontend.auth.headerField': 'X-WebAuth-User',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.routers.s!.middlewares, ['s-auth']);
    assert.deepEqual(r.config.http.middlewares['s-auth'], { digestAuth: { users: users.split(','), removeHeader: 'true', headerField: 'X-WebAuth-User' } });
    const compiled = new MiddlewareCompiler(new Map([['s-auth@swarm', r.config.http.middlewares['s-auth']!]]), (m) => `${m}@swarm`).router(['s-auth@swarm']);
    assert.ok(Array.isArray(compiled), String(compiled));
    assert.deepEqual(compiled[0]!.options, { users: [['test', 'a2688e031edb4be6a3797f3882655c05'], ['test2', '518845800f9e2bfb1f1f740ec24f074e']], realm: 'traefik', headerField: 'x-webauth-user', removeHeader: true });

    const file = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.auth.digest.usersFile': '/run/secrets/htdigest' })]);
    assert.deepEqual(file.config.http.middlewares['s-auth'], { digestAuth: { usersFile: '/run/secrets/htdigest' } });

    const both = build([
      service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.auth.basic.users': 'admin:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=', 'traefik.frontend.auth.digest.users': users }),
    ]);
    assert.deepEqual(both.errors, []);
    assert.deepEqual(both.config.http.middlewares['s-auth'], { basicAuth: { users: ['admin:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc='] } });
  });

  test('sticky sessions: v3 cookie labels and 1.7 stickiness labels become loadBalancer.sticky.cookie', () => {
    const v3 = build([
      service('s', {
        ...ENABLE,
        'traefik.http.services.app.loadbalancer.server.port': '80',
        'traefik.http.services.app.loadbalancer.sticky.cookie.name': 'app_session',
        'traefik.http.services.app.loadbalancer.sticky.cookie.httponly': 'true',
        'traefik.http.services.app.loadbalancer.sticky.cookie.secure': 'true',
        'traefik.http.services.app.loadbalancer.sticky.cookie.samesite': 'lax',
        'traefik.http.services.app.loadbalancer.sticky.cookie.maxage': '3600',
      }),
    ]);
    assert.deepEqual(v3.errors, []);
    assert.deepEqual(v3.config.http.services.app!.loadBalancer!.sticky, { cookie: { name: 'app_session', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 3600 } });
    const plain = build([service('s', { ...ENABLE, 'traefik.http.services.app.loadbalancer.server.port': '80', 'traefik.http.services.app.loadbalancer.sticky.cookie': 'true' })]);
    assert.deepEqual(plain.errors, []);
    assert.deepEqual(plain.config.http.services.app!.loadBalancer!.sticky, { cookie: {} });

    const v1 = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.loadbalancer.stickiness': 'true', 'traefik.backend.loadbalancer.stickiness.cookieName': 'my_cookie' })]);
    assert.deepEqual(v1.errors, []);
    assert.deepEqual(v1.config.http.services.s!.loadBalancer!.sticky, { cookie: { name: 'my_cookie' } });
    const older = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.loadbalancer.sticky': 'true' })]);
    assert.deepEqual(older.config.http.services.s!.loadBalancer!.sticky, { cookie: {} });
    const off = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.loadbalancer.stickiness': 'false' })]);
    assert.equal(off.config.http.services.s!.loadBalancer!.sticky, undefined);
  });

  test('frontend auth.forward, errors and backend buffering labels become forwardAuth, errors and buffering middlewares', async () => {
    const { MiddlewareCompiler } = await import('../../src/middlewares/compile.js');
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.rule': 'Host:s.test',
        'traefik.frontend.auth.forward.address': 'http://auth:4181/verify',
        'traefik.frontend.auth.forward.authResponseHeaders': 'X-Auth-User, X-Auth-Token',
        'traefik.frontend.auth.forward.trustForwardHeader': 'true',
        'traefik.frontend.errors.network.status': '500-511, 404',
        'traefik.frontend.errors.network.backend': 'error_pages',
        'traefik.frontend.errors.network.query': '/{status}.html',
        'traefik.backend.buffering.maxRequestBodyBytes': '10485760',
        'traefik.backend.buffering.memRequestBodyBytes': '2097152',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.routers.s!.middlewares, ['s-forwardauth', 's-errors-network', 's-buffering']);
    assert.deepEqual(r.config.http.middlewares['s-forwardauth'], { forwardAuth: { address: 'http://auth:4181/verify', authResponseHeaders: ['X-Auth-User', 'X-Auth-Token'], trustForwardHeader: 'true' } });
    assert.deepEqual(r.config.http.middlewares['s-errors-network'], { errors: { status: ['500-511', '404'], service: 'error-pages', query: '/{status}.html' } });
    assert.deepEqual(r.config.http.middlewares['s-buffering'], { buffering: { maxRequestBodyBytes: '10485760', memRequestBodyBytes: '2097152' } });
    const qualified = new Map(Object.entries(r.config.http.middlewares).map(([k, v]) => [`${k}@swarm`, v]));
    const compiled = new MiddlewareCompiler(qualified, (m) => (m.includes('@') ? m : `${m}@swarm`), (s) => (s === 'error-pages@swarm' ? null : `unknown service ${s}`)).router(
      r.config.http.routers.s!.middlewares!.map((m) => `${m}@swarm`),
    );
    assert.ok(Array.isArray(compiled), String(compiled));
    assert.deepEqual((compiled as { kind: string }[]).map((d) => d.kind), ['forwardAuth', 'errors', 'buffering']);

    // A forward auth TLS client certificate is not supported: the router is disabled by the kind's check, with the reason.
    const tls = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.auth.forward.address': 'https://auth', 'traefik.frontend.auth.forward.tls.cert': '/c.pem' })]);
    const bad = new MiddlewareCompiler(new Map([['s-forwardauth@swarm', tls.config.http.middlewares['s-forwardauth']!]]), (m) => m).router(['s-forwardauth@swarm']);
    assert.match(String(bad), /forwardAuth.tls .* is not supported/);
  });

  test('backend.circuitbreaker.expression becomes a circuitBreaker, after the frontend middlewares (as 1.7 placed it)', async () => {
    const { MiddlewareCompiler } = await import('../../src/middlewares/compile.js');
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.a.port': '80',
        'traefik.b.port': '81',
        'traefik.frontend.whiteList.sourceRange': '10.0.0.0/8',
        'traefik.backend.circuitbreaker.expression': 'NetworkErrorRatio() > 0.5',
        'traefik.b.frontend.rule': 'Host:b.test',
      }),
      service('t', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.circuitBreaker.expression': 'NetworkErrorRatio() > 1' }),
      service('u', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.circuitbreaker.expression': ' ' }),
    ]);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.http.routers['s-a']!.middlewares, ['s-a-whitelist', 's-a-circuitbreaker']);
    assert.deepEqual(r.config.http.routers['s-b']!.middlewares, ['s-b-whitelist', 's-b-circuitbreaker']);
    assert.deepEqual(r.config.http.middlewares['s-a-circuitbreaker'], { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5' } });
    assert.equal(r.config.http.routers.u!.middlewares, undefined, 'an empty expression makes no breaker, as in 1.7');
    const qualified = new Map(Object.entries(r.config.http.middlewares).map(([k, v]) => [`${k}@swarm`, v]));
    const compiler = new MiddlewareCompiler(qualified, (m) => `${m}@swarm`);
    const compiled = compiler.router(['s-a-whitelist@swarm', 's-a-circuitbreaker@swarm']);
    assert.ok(Array.isArray(compiled), String(compiled));
    assert.deepEqual(compiled.map((d) => d.kind), ['ipAllowList', 'circuitBreaker']);
    // The expression is checked as Traefik checks it: 1 is not a decimal, so the router is disabled.
    assert.match(String(compiler.router(['t-circuitbreaker@swarm'])), /NetworkErrorRatio\(\) is compared with a decimal number/);
  });

  test('backend.maxconn and frontend.rateLimit rate sets become inFlightReq and one rateLimit per set, after the other middlewares', async () => {
    const { MiddlewareCompiler } = await import('../../src/middlewares/compile.js');
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.whiteList.sourceRange': '10.0.0.0/8',
        'traefik.backend.maxconn.amount': '10',
        'traefik.frontend.rateLimit.extractorFunc': 'request.header.X-Api-Key',
        'traefik.frontend.rateLimit.rateSet.Fast.period': '10s',
        'traefik.frontend.rateLimit.rateSet.Fast.average': '100',
        'traefik.frontend.rateLimit.rateSet.Fast.burst': '200',
        'traefik.frontend.rateLimit.rateSet.slow.period': '3',
        'traefik.frontend.rateLimit.rateSet.slow.average': '5',
        'traefik.frontend.rateLimit.rateSet.slow.burst': '10',
      }),
      service('ip', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.maxconn.amount': '2', 'traefik.backend.maxconn.extractorFunc': 'client.ip', 'traefik.frontend.rateLimit.extractorFunc': 'client.ip', 'traefik.frontend.rateLimit.rateSet.a.period': '1s', 'traefik.frontend.rateLimit.rateSet.a.average': '1', 'traefik.frontend.rateLimit.rateSet.a.burst': '1' }),
      service('off', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.maxconn.amount': '0' }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.http.routers.s!.middlewares, ['s-whitelist', 's-maxconn', 's-ratelimit-fast', 's-ratelimit-slow']);
    // 1.7's default extractorFunc for maxconn is request.host.
    assert.deepEqual(r.config.http.middlewares['s-maxconn'], { inFlightReq: { amount: '10', sourceCriterion: { requestHost: 'true' } } });
    assert.deepEqual(r.config.http.middlewares['s-ratelimit-fast'], { rateLimit: { average: '100', burst: '200', period: '10s', sourceCriterion: { requestHeaderName: 'X-Api-Key' } } });
    assert.deepEqual(r.config.http.middlewares['ip-maxconn'], { inFlightReq: { amount: '2', sourceCriterion: { ipStrategy: { depth: '0' } } } });
    assert.deepEqual(r.config.http.middlewares['ip-ratelimit-a'], { rateLimit: { average: '1', burst: '1', period: '1s' } }, 'client.ip is rateLimit\'s default');
    assert.equal(r.config.http.routers.off!.middlewares, undefined, 'amount 0 is no limit in 1.7');

    const qualified = new Map(Object.entries(r.config.http.middlewares).map(([k, v]) => [`${k}@swarm`, v]));
    const compiler = new MiddlewareCompiler(qualified, (m) => `${m}@swarm`);
    const compiled = compiler.router(r.config.http.routers.s!.middlewares!.map((m) => `${m}@swarm`));
    assert.ok(Array.isArray(compiled), String(compiled));
    assert.deepEqual(compiled.map((d) => d.kind), ['ipAllowList', 'inFlightReq', 'rateLimit', 'rateLimit']);
    assert.deepEqual(compiled[3]!.options, { average: 5, periodMs: 3000, burst: 10, sourceCriterion: { by: 'header', header: 'x-api-key' } }, 'a bare period is seconds, as flaeg read it');
    const ip = compiler.router(['ip-maxconn@swarm']);
    assert.ok(Array.isArray(ip), String(ip));
    assert.deepEqual(ip[0]!.options, { amount: 2, sourceCriterion: { by: 'ip', ipStrategy: { depth: 0, excludedIPs: [] } } });
  });

  test('rate sets and maxconn that 1.7 refused, or ignored and so lifted the limit, disable the router here', () => {
    const rate = (set: Record<string, string>, func: string | null = 'client.ip') =>
      build([service('s', { ...ENABLE, 'traefik.port': '80', ...(func === null ? {} : { 'traefik.frontend.rateLimit.extractorFunc': func }), ...Object.fromEntries(Object.entries(set).map(([k, v]) => [`traefik.frontend.rateLimit.rateSet.r.${k}`, v])) })]);
    const full = { period: '1s', average: '10', burst: '5' };
    assert.deepEqual(rate(full).errors, []);
    const cases: [ReturnType<typeof build>, RegExp][] = [
      [rate({ period: '1s', average: '10' }), /label "traefik.frontend.rateLimit.rateSet.r.average": rate set "r" needs burst/],
      [rate({ ...full, average: '0' }), /label "traefik.frontend.rateLimit.rateSet.r.average": must be a whole number above 0, got "0"/],
      [rate({ ...full, burst: 'lots' }), /label "traefik.frontend.rateLimit.rateSet.r.burst": must be a whole number above 0/],
      [rate({ ...full, period: '0s' }), /label "traefik.frontend.rateLimit.rateSet.r.period": must be a duration above 0/],
      [rate(full, null), /rate sets need traefik.frontend.rateLimit.extractorFunc/],
      [rate(full, 'request.cookie.sid'), /label "traefik.frontend.rateLimit.extractorFunc": must be client.ip, request.host or request.header.<name>/],
      [build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.maxconn.amount': 'ten' })]), /label "traefik.backend.maxconn.amount": must be a whole number of requests/],
      [build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.maxconn.amount': '5', 'traefik.backend.maxconn.extractorFunc': 'request.header.' })]), /label "traefik.backend.maxconn.extractorFunc": must be client.ip/],
    ];
    for (const [r, expected] of cases) {
      assert.ok(r.errors.some((e) => expected.test(e.message)), `${expected} in ${JSON.stringify(messages(r.errors))}`);
      assert.equal(r.config.http.routers.s, undefined, `${expected}: the router is disabled`);
    }
    const unknown = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.rateLimit.bogus': 'x' })]);
    assert.match(messages(unknown.errors).join('\n'), /label "traefik.frontend.rateLimit.bogus": not supported by portero \(the rate limit would be lifted\)/);
    const alone = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.maxconn.extractorFunc': 'client.ip', 'traefik.frontend.rateLimit.extractorFunc': 'client.ip' })]);
    assert.deepEqual(alone.errors, []);
    assert.equal(alone.warnings.length, 2, 'extractorFuncs without an amount or rate sets did nothing in 1.7 either');
  });

  test('v1 lbswarm and network labels', () => {
    const r = build([
      service(
        's',
        { ...ENABLE, 'traefik.port': '80', 'traefik.docker.network': 'back', 'traefik.backend.loadbalancer.swarm': 'true' },
        { networks: ['front', 'back'], vips: { back: '10.0.2.200' } },
      ),
    ]);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.servers, [{ url: 'http://10.0.2.200:80' }]);
  });

  test('v1 labels match in any case', () => {
    const r = build([service('s', { 'TRAEFIK.ENABLE': 'true', 'Traefik.Port': '80', 'traefik.FRONTEND.RULE': 'Host:s', 'traefik.frontend.entrypoints': 'http' })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.routers.s, { rule: 'Host:s', ruleSyntax: 'v1', entryPoints: ['http'], service: 's' });
  });
});

describe('several Swarm services', () => {
  const labels = { ...ENABLE, 'traefik.http.routers.app.rule': 'Host(`app`)', 'traefik.http.services.app.loadbalancer.server.port': '80' };

  test('the same service from two stacks pools its servers (blue-green)', () => {
    const r = build([service('blue_app', labels, { networks: ['blue'] }), service('green_app', labels, { networks: ['green'] })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config.http.routers, { app: { rule: 'Host(`app`)', service: 'app' } });
    assert.deepEqual(r.config.http.services.app.loadBalancer!.servers, urls(2, 80));
    // Both stacks' tasks have 10.0.1.x in this test, so pooling dedupes; use distinct IPs:
    const green = service('green_app', labels, { tasks: [task('green_app', 1, { net: ['10.9.9.9'] })] });
    const r2 = build([service('blue_app', labels), green]);
    assert.deepEqual(r2.config.http.services.app.loadBalancer!.servers, [...urls(2, 80), { url: 'http://10.9.9.9:80' }]);
  });

  test('v1 traefik.backend shared by two services pools servers; routers stay apart', () => {
    const v1 = { ...ENABLE, 'traefik.port': '80', 'traefik.backend': 'web', 'traefik.frontend.rule': 'Host:web' };
    const r = build([service('v1_web', v1), service('v2_web', v1, { tasks: [task('v2_web', 1, { net: ['10.9.9.9'] })] })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(Object.keys(r.config.http.routers), ['v1-web', 'v2-web']);
    assert.deepEqual(r.config.http.services.web.loadBalancer!.servers, [...urls(2, 80), { url: 'http://10.9.9.9:80' }]);
  });

  test('different definitions of one name disable it, naming both Swarm services', () => {
    const r = build([
      service('a', { ...labels, 'traefik.http.services.app.loadbalancer.passhostheader': 'false' }),
      service('b', { ...labels, 'traefik.http.routers.app.rule': 'Host(`other`)' }),
    ]);
    assert.deepEqual(r.config.http.routers, {});
    assert.deepEqual(r.config.http.services, {});
    assert.deepEqual(messages(r.errors), [
      'router "app": defined differently by Swarm services "a", "b"; disabled until the definitions agree',
      'service "app": defined differently by Swarm services "a", "b"; disabled until the definitions agree',
    ]);
  });

  test('the output does not depend on the order of the snapshot', () => {
    const services = [
      service('c', { ...ENABLE, 'traefik.port': '80' }),
      service('a', labels),
      service('b', { ...ENABLE, 'traefik.http.routers.z.rule': 'Path(`/`)', 'traefik.http.routers.y.rule': 'Path(`/y`)', 'traefik.http.services.b.loadbalancer.server.port': '1' }),
    ];
    const forward = build(services);
    const backward = build([...services].reverse().map((s) => ({ ...s, tasks: [...s.tasks].reverse() })));
    assert.equal(JSON.stringify(backward), JSON.stringify(forward));
    assert.deepEqual(Object.keys(forward.config.http.routers), ['app', 'c', 'y', 'z']);
  });

  test('a service name with no letters or digits cannot name anything', () => {
    const r = build([service('___', { ...ENABLE, 'traefik.port': '80' })]);
    assert.deepEqual(r.config.http.routers, {});
    assert.match(r.errors[0].message, /the name is empty/);
  });
});

describe('the default rule', () => {
  test('.Name, labels and normalize', () => {
    const r = build(
      [service('shop_web', { ...ENABLE, 'traefik.port': '80', 'com.example.domain': 'example.org' })],
      { defaultRule: 'Host(`{{ .Name }}.{{ index .Labels "com.example.domain" }}`)' },
    );
    assert.equal(r.config.http.routers['shop-web'].rule, 'Host(`shop-web.example.org`)');
  });

  test('an invalid template disables only routers that need it', () => {
    const r = build(
      [
        service('a', { ...ENABLE, 'traefik.port': '80' }),
        service('b', { ...ENABLE, 'traefik.port': '80', 'traefik.frontend.rule': 'Host:b' }),
      ],
      { defaultRule: 'Host(`{{ lower .Name }}`)' },
    );
    assert.deepEqual(Object.keys(r.config.http.routers), ['b']);
    assert.match(r.errors[0].message, /^router "a" \(Swarm service "a"\): no rule, and the default rule cannot be used: default rule template .*function "lower" is not supported/);
  });

  test('an empty default rule is an error', () => {
    const r = build([service('a', { ...ENABLE, 'traefik.port': '80' })], { defaultRule: '{{ index .Labels "missing" }}' });
    assert.deepEqual(r.config.http.routers, {});
    assert.match(r.errors[0].message, /no rule, and the default rule template gives an empty rule/);
  });
});

describe('health check labels', () => {
  test('v2/v3: loadbalancer.healthcheck.* and passivehealthcheck.* reach the service', () => {
    const r = build([
      service('api', {
        ...ENABLE,
        'traefik.http.routers.api.rule': 'Host(`api`)',
        'traefik.http.services.api.loadbalancer.server.port': '8080',
        'traefik.http.services.api.loadbalancer.healthcheck.path': '/health',
        'traefik.http.services.api.loadbalancer.healthcheck.interval': '5s',
        'traefik.http.services.api.loadbalancer.healthcheck.headers.X-Probe': 'yes',
        'traefik.http.services.api.loadbalancer.passivehealthcheck.maxfailedattempts': '3',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    const lb = r.config.http.services.api.loadBalancer!;
    assert.deepEqual(lb.healthCheck, { path: '/health', interval: '5s', headers: { 'X-Probe': 'yes' } });
    assert.deepEqual(lb.passiveHealthCheck, { maxFailedAttempts: 3 });
  });

  test('Traefik 1.7: backend.healthcheck.* become the same health check', () => {
    const r = build([
      service('s', {
        ...ENABLE,
        'traefik.port': '80',
        'traefik.frontend.rule': 'Host:s',
        'traefik.backend.healthcheck.path': '/health',
        'traefik.backend.healthcheck.interval': '10s',
        'traefik.backend.healthcheck.port': '8081',
        'traefik.backend.healthcheck.headers': 'X-A:1||X-B: two',
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.http.services.s.loadBalancer!.healthCheck, { path: '/health', interval: '10s', port: 8081, headers: { 'X-A': '1', 'X-B': 'two' } });
    const bad = build([service('s', { ...ENABLE, 'traefik.port': '80', 'traefik.backend.healthcheck.interval': 'often' })]);
    assert.match(bad.errors[0].message, /healthCheck\.interval must be a duration/);
  });
});

describe("portero's own label portero.pipelining", () => {
  test('sets the pipelining depth of every service the Swarm service defines', () => {
    const r = build([service('web', { ...ENABLE, 'traefik.http.services.web.loadbalancer.server.port': '80', 'portero.pipelining': '8' })]);
    assert.deepEqual(messages(r.errors), []);
    assert.equal(r.config.http.services.web!.loadBalancer!.pipelining, 8);
  });

  test('a bad value is an error on the Swarm service; its services still serve, without pipelining', () => {
    const r = build([service('web', { ...ENABLE, 'traefik.http.services.web.loadbalancer.server.port': '80', 'portero.pipelining': 'lots' })]);
    assert.match(messages(r.errors).join('\n'), /Swarm service "web": label "portero\.pipelining": the value must be a whole number of requests per connection from 0 \(off\) to 1024, got string "lots"; its services are served without pipelining/);
    assert.equal(r.config.http.services.web!.loadBalancer!.pipelining, undefined);
    assert.equal(r.config.http.services.web!.loadBalancer!.servers.length, 2);
  });
});
