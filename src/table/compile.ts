// Main thread: merges the providers' dynamic configurations, validates every
// reference, compiles every rule (to report errors; workers compile again for
// matching), and produces the TableSpec workers receive. An invalid element is
// left out with a named error; everything else keeps serving.
import { readFileSync } from 'node:fs';
import type { ConfigError, DynamicConfig, MiddlewareConfig, RouterConfig, RuleSyntax, ServersTransportConfig, ServiceConfig } from '../dynamic/model.js';
import { fileOrContent } from '../config/values.js';
import { compileRule, defaultPriority } from '../rules/index.js';
import { weightedOrder } from '../balancer/wrr.js';
import { stickySpec, stickyValue } from '../balancer/sticky.js';
import type { LoadBalancerCompiler } from './load-balancers.js';
import { MiddlewareCompiler } from '../middlewares/compile.js';
import type { MiddlewareDescriptor } from '../middlewares/types.js';
import type { RuleRewrites } from '../rules/types.js';
import type { SlotLookup } from '../shared/slots.js';
import type { RouterSpec, ServiceSpec, TableSpec, UpstreamTls } from './spec.js';
import type { EntryPointTls, TlsDomain } from '../config/tls.js';
import type { LoadedCertificate } from '../tls/certificate.js';
import type { CertificateLoader, CertificateSource } from '../tls/loader.js';
import { loadCertificates, placeRouter, tlsNeeds } from './tls-routers.js';
import { routerCopies } from './entry-point-middlewares.js';

export interface CompileInput {
  /** Provider name ("file", "swarm") to its current configuration. */
  providers: ReadonlyMap<string, DynamicConfig>;
  /** Entry points served by workers (routers without entryPoints attach to all of them). */
  entryPoints: readonly string[];
  /** Load balancers and their server slots, remembered across compilations. */
  loadBalancers: LoadBalancerCompiler;
  /** Slot lookup; called with every service name the table uses. */
  serviceSlots: (keys: string[]) => SlotLookup;
  /** Reads a servers transport's rootCAs file (tests replace it). */
  readFile?: (path: string) => string;
  /** Per entry point: its TLS settings, or null for plain HTTP. Absent: every entry point is plain. */
  entryPointTls?: ReadonlyMap<string, EntryPointTls | null>;
  /** Where routers without entryPoints go (v1's --defaultEntryPoints); default: every entry point. */
  defaultEntryPoints?: readonly string[];
  /** Names of the configured ACME resolvers. */
  resolvers?: readonly string[];
  /** Loads the dynamic configuration's certificates; absent: certificates are not read. */
  certificates?: CertificateLoader;
  /** Certificates from the static configuration (v1's TLS:cert,key). */
  staticCertificates?: readonly CertificateSource[];
  /** Services portero serves itself ("api@internal" -> its loopback URL): routers may name them. */
  internalServices?: ReadonlyMap<string, string>;
  /** --entrypoints.<n>.http.middlewares by entry point: run before the own middlewares of its routers. */
  entryPointMiddlewares?: ReadonlyMap<string, readonly string[]>;
}

export interface CompiledTls {
  /** The valid certificates of the dynamic (and static) configuration. */
  certificates: LoadedCertificate[];
  /** tls.stores.default.defaultCertificate when valid; null: generated. */
  defaultCertificate: LoadedCertificate | null;
  /** Per resolver: the domain sets its routers need. */
  acme: Map<string, TlsDomain[]>;
}

/**
 * Resolves servers transports by qualified name, once per compilation: the
 * TLS settings, with rootCAs read (inline PEM or a file), or why it cannot
 * be used.
 */
function transportResolver(transports: ReadonlyMap<string, ServersTransportConfig>, readFile: (path: string) => string): (name: string) => UpstreamTls | string {
  const resolved = new Map<string, UpstreamTls | string>();
  return (name) => {
    let r = resolved.get(name);
    if (r !== undefined) return r;
    const t = transports.get(name);
    if (t === undefined) r = `unknown servers transport ${JSON.stringify(name)}`;
    else {
      const rootCAs: string[] = [];
      for (const item of t.rootCAs ?? []) {
        try {
          rootCAs.push(fileOrContent(item, readFile));
        } catch (err) {
          r = `servers transport ${JSON.stringify(name)}: cannot read rootCAs file ${JSON.stringify(item)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
          break;
        }
      }
      r ??= { name, serverName: t.serverName ?? null, insecureSkipVerify: t.insecureSkipVerify ?? false, rootCAs, pipelining: t.pipelining ?? null };
    }
    resolved.set(name, r);
    return r;
  };
}

export interface CompiledTable {
  spec: Omit<TableSpec, 'version'>;
  errors: ConfigError[];
  /**
   * Qualified router name -> its status, for the API. A "warning" router
   * serves; its errors say how it falls short of what was written.
   */
  routerStatus: Map<string, { status: 'enabled' | 'warning' | 'disabled'; errors: string[] }>;
  serviceStatus: Map<string, { status: 'enabled' | 'disabled'; errors: string[] }>;
  tls: CompiledTls;
  /**
   * Every merged element as configured, by qualified name, the disabled ones
   * included: the API shows them with their errors. Not part of `spec`.
   * A router copied per entry point for its middlewares is here as its copies,
   * each with its entry point and the middlewares it starts with.
   */
  configs: {
    routers: ReadonlyMap<string, RouterConfig>;
    services: ReadonlyMap<string, ServiceConfig>;
    middlewares: ReadonlyMap<string, MiddlewareConfig>;
  };
}

// Traefik's words (pkg/config/runtime/runtime_http.go).
export const entryPointMissing = (name: string): string => `entryPoint ${JSON.stringify(name)} doesn't exist`;
export const NO_VALID_ENTRY_POINT = 'no valid entryPoint for this router';

export function qualify(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

function providerOf(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf('@') + 1);
}

// Rule compilation results of the previous compilation: the hosts the rule
// pins (null: any), or its error. Most rules are the same from one update to the next.
type RuleResult = { hosts: string[] | null; rewrites?: RuleRewrites } | { error: string };
let ruleCache = new Map<string, RuleResult>();
let nextRuleCache = new Map<string, RuleResult>();

function checkRule(rule: string, syntax: RuleSyntax): RuleResult {
  const key = `${syntax}\0${rule}`;
  let result = nextRuleCache.get(key);
  if (result !== undefined) return result;
  result = ruleCache.get(key);
  if (result === undefined) {
    try {
      const c = compileRule(rule, syntax);
      result = c.rewrites === undefined ? { hosts: c.hosts } : { hosts: c.hosts, rewrites: c.rewrites };
    } catch (err) {
      result = { error: (err as Error).message };
    }
  }
  nextRuleCache.set(key, result);
  return result;
}

export function compileTable(input: CompileInput): CompiledTable {
  try {
    return compileUncached(input);
  } finally {
    // Keep only what this compilation used.
    [ruleCache, nextRuleCache] = [nextRuleCache, new Map()];
  }
}

function compileUncached(input: CompileInput): CompiledTable {
  const errors: ConfigError[] = [];
  const routerStatus: CompiledTable['routerStatus'] = new Map();
  const serviceStatus: CompiledTable['serviceStatus'] = new Map();

  // 1. Merge, qualifying names.
  const routers = new Map<string, RouterConfig>();
  const services = new Map<string, ServiceConfig>();
  const middlewares = new Map<string, MiddlewareConfig>();
  const transports = new Map<string, ServersTransportConfig>();
  for (const [provider, config] of input.providers) {
    for (const [name, r] of Object.entries(config.http.routers)) routers.set(qualify(name, provider), r);
    for (const [name, s] of Object.entries(config.http.services)) services.set(qualify(name, provider), s);
    for (const [name, m] of Object.entries(config.http.middlewares)) middlewares.set(qualify(name, provider), m);
    for (const [name, t] of Object.entries(config.http.serversTransports ?? {})) transports.set(qualify(name, provider), t);
  }
  for (const [name, url] of input.internalServices ?? []) services.set(name, { loadBalancer: { servers: [{ url }] } });
  const transportOf = transportResolver(transports, input.readFile ?? ((path) => readFileSync(path, 'utf8')));

  const fail = (kind: 'router' | 'service', name: string, message: string) => {
    errors.push({ provider: providerOf(name), element: { kind, name }, message });
    const map: Map<string, { status: 'enabled' | 'warning' | 'disabled'; errors: string[] }> = kind === 'router' ? routerStatus : serviceStatus;
    const entry = map.get(name) ?? { status: 'disabled' as const, errors: [] };
    entry.status = 'disabled';
    entry.errors.push(message);
    map.set(name, entry);
  };
  const warnRouter = (name: string, message: string) => {
    errors.push({ provider: providerOf(name), element: { kind: 'router', name }, message, level: 'warning' });
    const entry = routerStatus.get(name) ?? { status: 'warning' as const, errors: [] };
    entry.errors.push(message);
    routerStatus.set(name, entry);
  };

  // 2. Load balancers.
  const lbc = input.loadBalancers;
  const loadBalancers = new Set<string>();
  lbc.begin();
  for (const [name, svc] of services) {
    if (svc.loadBalancer !== undefined && svc.weighted !== undefined) {
      fail('service', name, 'a service must have exactly one of loadBalancer or weighted');
      continue;
    }
    if (svc.loadBalancer === undefined) continue;
    let transport: UpstreamTls | null = null;
    if (svc.loadBalancer.serversTransport !== undefined) {
      const t = transportOf(qualify(svc.loadBalancer.serversTransport, providerOf(name)));
      if (typeof t === 'string') {
        fail('service', name, t);
        continue;
      }
      transport = t;
    }
    const problems = lbc.compile(name, svc.loadBalancer, transport);
    for (const p of problems) fail('service', name, p);
    if (problems.length === 0) loadBalancers.add(name);
  }
  lbc.end();

  // 3. Weighted services: children must resolve, without cycles.
  const weighted = new Map<string, { name: string; weight: number }[]>();
  for (const [name, svc] of services) {
    if (svc.weighted === undefined || svc.loadBalancer !== undefined) continue;
    const provider = providerOf(name);
    weighted.set(
      name,
      svc.weighted.services.map((c) => ({ name: qualify(c.name, provider), weight: c.weight ?? 1 })),
    );
  }
  const usable = new Map<string, boolean>();
  const resolve = (name: string, path: string[]): boolean => {
    const known = usable.get(name);
    if (known !== undefined) return known;
    if (loadBalancers.has(name)) return usable.set(name, true), true;
    const children = weighted.get(name);
    if (children === undefined) return false;
    if (path.includes(name)) {
      fail('service', name, `weighted service cycle: ${[...path, name].join(' -> ')}`);
      return usable.set(name, false), false;
    }
    let ok = true;
    for (const c of children) {
      if (!services.has(c.name)) {
        fail('service', name, `weighted service refers to unknown service ${JSON.stringify(c.name)}`);
        ok = false;
      } else if (!resolve(c.name, [...path, name])) {
        if (!usable.has(name)) fail('service', name, `weighted service refers to disabled service ${JSON.stringify(c.name)}`);
        ok = false;
      }
    }
    usable.set(name, ok);
    return ok;
  };
  for (const name of weighted.keys()) resolve(name, []);

  // 4. Service specs, with stable slots.
  const serviceNames = [...services.keys()].filter((n) => loadBalancers.has(n) || usable.get(n) === true).sort();
  const serviceSlots = input.serviceSlots(serviceNames);
  const serviceIndex = new Map(serviceNames.map((n, i) => [n, i]));
  const serviceSpecs: ServiceSpec[] = serviceNames.map((name) => {
    if (loadBalancers.has(name)) return lbc.spec(name, serviceSlots.get(name)!);
    const children = weighted.get(name)!;
    const sticky = services.get(name)!.weighted!.sticky;
    return {
      kind: 'weighted',
      name,
      children: children.map((c) => serviceIndex.get(c.name)!),
      rr: serviceSlots.get(name)!,
      order: weightedOrder(children.map((c) => c.weight)),
      // Traefik's cookie names a child by a hash of its name as the weighted service lists it.
      sticky: sticky === undefined ? null : { ...stickySpec(sticky.cookie, name), values: services.get(name)!.weighted!.services.map((c) => stickyValue(c.name)) },
    };
  });
  for (const name of serviceNames) if (!serviceStatus.has(name)) serviceStatus.set(name, { status: 'enabled', errors: [] });

  // 5. Certificates: the valid ones are served, the others disable the TLS routers that need them.
  const certs = loadCertificates(input, errors);
  const acme = new Map<string, TlsDomain[]>();

  // 6. Routers.
  const mwCompiler = new MiddlewareCompiler(
    middlewares,
    (m, owner) => qualify(m, providerOf(owner)),
    (s) => (serviceIndex.has(s) ? null : services.has(s) ? `service ${JSON.stringify(s)} is disabled` : `unknown service ${JSON.stringify(s)}`),
  );
  const routerSpecs: RouterSpec[] = [];
  const effectiveRouters = new Map(routers);
  for (const [name, r] of [...routers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const provider = providerOf(name);
    const explicit = r.entryPoints !== undefined && r.entryPoints.length > 0;
    const listed = explicit ? r.entryPoints! : [...(input.defaultEntryPoints ?? input.entryPoints)];
    const valid = listed.filter((e) => input.entryPoints.includes(e));
    const unknown = [...new Set(listed.filter((e) => !input.entryPoints.includes(e)))];
    // As Traefik (runtime.GetRoutersByEntryPoints): an entry point that does
    // not exist costs the router only that entry point; with none left, it is
    // disabled. Checked first, as Traefik does before building the router.
    for (const e of unknown) warnRouter(name, entryPointMissing(e));
    if (valid.length === 0) {
      fail('router', name, NO_VALID_ENTRY_POINT);
      continue;
    }
    const syntax: RuleSyntax = r.ruleSyntax ?? 'v3';
    const checked = checkRule(r.rule, syntax);
    if ('error' in checked) {
      fail('router', name, `invalid rule ${JSON.stringify(r.rule)}: ${checked.error}`);
      continue;
    }
    if (r.service === undefined || r.service === '') {
      fail('router', name, 'the router has no service');
      continue;
    }
    const service = qualify(r.service, provider);
    const index = serviceIndex.get(service);
    if (index === undefined) {
      fail('router', name, services.has(service) ? `service ${JSON.stringify(service)} is disabled` : `unknown service ${JSON.stringify(service)}`);
      continue;
    }
    const placed = placeRouter(r, valid, explicit, input.entryPointTls);
    if (typeof placed === 'string') {
      fail('router', name, placed);
      continue;
    }
    const eps = placed.entryPoints;
    const tlsProblem = placed.tls.length === 0 ? null : tlsNeeds(placed.tls, checked.hosts, input.resolvers ?? [], certs, acme);
    if (tlsProblem !== null) {
      fail('router', name, tlsProblem);
      continue;
    }
    // The missing entry points go into the split too: Traefik splits a router
    // before it looks for its entry points, so the copy left with only
    // missing ones is disabled while the others serve.
    const copies = routerCopies(name, [...eps, ...unknown], input.entryPointMiddlewares);
    const clash = copies.find((c) => c.name !== name && routers.has(c.name));
    if (clash !== undefined) {
      fail('router', name, `its copy for entry point ${JSON.stringify(clash.entryPoint)}'s middlewares would be named ${JSON.stringify(clash.name)}, as another router is`);
      continue;
    }
    if (copies.some((c) => c.entryPoint !== null)) {
      effectiveRouters.delete(name);
      for (const c of copies) {
        const chained = [...c.prepended, ...(r.middlewares ?? [])];
        effectiveRouters.set(c.name, { ...r, entryPoints: c.entryPoints, ...(chained.length > 0 ? { middlewares: chained } : {}) });
      }
    }
    for (const copy of copies) {
      const served = copy.entryPoints.filter((e) => !unknown.includes(e));
      if (served.length === 0) {
        fail('router', copy.name, NO_VALID_ENTRY_POINT);
        continue;
      }
      if (copy.entryPoint !== null) {
        const first = mwCompiler.router(copy.prepended.map((m) => qualify(m, provider)));
        if (typeof first === 'string') {
          fail('router', copy.name, `entry point ${JSON.stringify(copy.entryPoint)}'s middlewares (--entrypoints.${copy.entryPoint}.http.middlewares): ${first}`);
          continue;
        }
      }
      const mw = mwCompiler.router([...copy.prepended, ...(r.middlewares ?? [])].map((m) => qualify(m, provider)));
      if (typeof mw === 'string') {
        fail('router', copy.name, mw);
        continue;
      }
      // A v1 rule's rewrites (PathPrefixStrip and friends) run as the chain's first middleware.
      const chain: MiddlewareDescriptor[] = checked.rewrites === undefined ? mw : [{ name: `${name}-rule`, kind: 'v1RuleRewrites', options: checked.rewrites }, ...mw];
      routerSpecs.push({
        name: copy.name,
        rule: r.rule,
        syntax,
        priority: r.priority !== undefined && r.priority > 0 ? r.priority : defaultPriority(r.rule),
        entryPoints: served,
        service: index,
        middlewares: chain,
      });
      if (!routerStatus.has(copy.name)) routerStatus.set(copy.name, { status: 'enabled', errors: [] });
    }
  }

  return {
    spec: { routers: routerSpecs, services: serviceSpecs },
    errors,
    routerStatus,
    serviceStatus,
    tls: { certificates: certs.certificates, defaultCertificate: certs.defaultCertificate, acme },
    configs: { routers: effectiveRouters, services, middlewares },
  };
}
