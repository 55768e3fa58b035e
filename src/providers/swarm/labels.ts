// Swarm services' labels to a DynamicConfig, with the semantics of Traefik's
// Swarm provider: v2/v3 labels (`traefik.http.*`) as in Traefik v3, and
// Traefik 1.7 labels (`traefik.frontend.rule`, `traefik.port`, segments) as
// in Traefik 1.7's Swarm mode. Names are bare; the caller qualifies them
// ("whoami@swarm"). Pure: no I/O, and the output is sorted.
//
// Per Swarm service:
//   1. traefik.enable (else exposedByDefault) and the constraints decide whether it counts;
//   2. its labels become element specs (labels-v2.ts or labels-v1.ts; v2/v3 labels
//      win when both kinds are present);
//   3. each spec becomes an element (labels-build.ts), with servers on the chosen
//      network (labels-network.ts); a bad label disables only its element.
// Then elements of the same name from several Swarm services merge as in
// Traefik's provider.Merge: identical routers and middlewares are kept once,
// services with the same options pool their servers (so two stacks can share
// one service during a blue-green deploy), and different definitions of one
// name disable it. Finally a router whose service was disabled is disabled too,
// with an error that says so rather than "unknown service".
import { isDeepStrictEqual } from 'node:util';
import { emptyDynamicConfig, type ConfigError, type DynamicConfig, type MiddlewareConfig, type RouterConfig, type ServiceConfig } from '../../dynamic/model.js';
import { compileConstraints, type ConstraintMatcher } from './constraints.js';
import { compileDefaultRule, serviceName, type DefaultRule } from './default-rule.js';
import { buildMiddleware, buildRouter, buildService, type BuildContext } from './labels-build.js';
import { byteOrder, goBool, indexLabels, LabelProblem, pick, type SpecSet } from './labels-common.js';
import { chooseNetwork, readProviderLabels, serverHosts, type ProviderLabels } from './labels-network.js';
import { isV1Label, readV1Labels } from './labels-v1.js';
import { isV2Label, readV2Labels } from './labels-v2.js';
import type { SwarmProviderOptions, SwarmService, SwarmSnapshot } from './model.js';

export { compileConstraints } from './constraints.js';
export { compileDefaultRule, normalize } from './default-rule.js';

export interface SwarmConfigResult {
  config: DynamicConfig;
  /** One per disabled element (with `element`), plus Swarm-service-level problems. */
  errors: ConfigError[];
  /** What is ignored or done differently without disabling anything (labels ignored, a network fallback), for the log. */
  warnings: string[];
  /** The same warnings for the API: on each HTTP service the Swarm service defines, or on none when it defines none. */
  notices: ConfigError[];
}

const PROVIDER = 'swarm';

type Kind = 'router' | 'service' | 'middleware';

function withLabel(problem: LabelProblem): string {
  return problem.label ? `label "${problem.label}": ${problem.message}` : problem.message;
}

// The provider calls buildSwarmConfig on every sync with the same options.
let constraintsCache: { expr: string; matcher: ConstraintMatcher } | null = null;
let defaultRuleCache: { template: string; render: ReturnType<typeof compileDefaultRule> | Error } | null = null;

function constraintsFor(expr: string): ConstraintMatcher {
  if (constraintsCache?.expr !== expr) constraintsCache = { expr, matcher: compileConstraints(expr) };
  return constraintsCache.matcher;
}

function defaultRuleFor(template: string): ReturnType<typeof compileDefaultRule> | Error {
  if (defaultRuleCache?.template !== template) {
    let render: ReturnType<typeof compileDefaultRule> | Error;
    try {
      render = compileDefaultRule(template);
    } catch (err) {
      render = err as Error;
    }
    defaultRuleCache = { template, render };
  }
  return defaultRuleCache.render;
}

interface Entry<T> {
  value: T;
  origins: string[];
  conflict: boolean;
}

/** Elements from all Swarm services, merged by name. */
class Collector {
  readonly routers = new Map<string, Entry<RouterConfig>>();
  readonly services = new Map<string, Entry<ServiceConfig>>();
  readonly middlewares = new Map<string, Entry<MiddlewareConfig>>();
  readonly failed = new Set<string>();

  constructor(private readonly errors: ConfigError[]) {}

  fail(kind: Kind, name: string, origin: string, message: string): void {
    if (kind === 'service') this.failed.add(name);
    this.errors.push({ provider: PROVIDER, element: { kind, name }, message: `${kind} "${name}" (Swarm service "${origin}"): ${message}` });
  }

  add(kind: Kind, name: string, origin: string, value: RouterConfig | ServiceConfig | MiddlewareConfig): void {
    const map = (kind === 'router' ? this.routers : kind === 'service' ? this.services : this.middlewares) as Map<string, Entry<unknown>>;
    const entry = map.get(name);
    if (entry === undefined) {
      map.set(name, { value, origins: [origin], conflict: false });
      return;
    }
    entry.origins.push(origin);
    if (kind === 'service') {
      const mine = (entry.value as ServiceConfig).loadBalancer!;
      const theirs = (value as ServiceConfig).loadBalancer!;
      if (isDeepStrictEqual({ ...mine, servers: [] }, { ...theirs, servers: [] })) {
        for (const s of theirs.servers) if (!mine.servers.some((m) => m.url === s.url)) mine.servers.push(s);
        return;
      }
    } else if (isDeepStrictEqual(entry.value, value)) {
      return;
    }
    entry.conflict = true;
  }

  finish(config: DynamicConfig): void {
    const conflicts = (kind: Kind, map: Map<string, Entry<unknown>>): void => {
      for (const [name, entry] of [...map].sort(([a], [b]) => byteOrder(a, b))) {
        if (!entry.conflict) continue;
        map.delete(name);
        if (kind === 'service') this.failed.add(name);
        const origins = [...new Set(entry.origins)].map((o) => JSON.stringify(o)).join(', ');
        this.errors.push({
          provider: PROVIDER,
          element: { kind, name },
          message: `${kind} "${name}": defined differently by Swarm services ${origins}; disabled until the definitions agree`,
        });
      }
    };
    conflicts('router', this.routers);
    conflicts('service', this.services);
    conflicts('middleware', this.middlewares);

    const out = config.http;
    for (const [name, entry] of [...this.services].sort(([a], [b]) => byteOrder(a, b))) out.services[name] = entry.value;
    for (const [name, entry] of [...this.middlewares].sort(([a], [b]) => byteOrder(a, b))) out.middlewares[name] = entry.value;
    for (const [name, entry] of [...this.routers].sort(([a], [b]) => byteOrder(a, b))) {
      const service = entry.value.service;
      if (service !== undefined && !service.includes('@') && !this.services.has(service) && this.failed.has(service)) {
        this.fail('router', name, entry.origins[0], `service "${service}" is disabled (see its error)`);
        continue;
      }
      out.routers[name] = entry.value;
    }
  }
}

function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'the name is empty (the Swarm service name has no letters or digits?)';
  if (name.includes('@')) return 'names must not contain "@" (it separates the provider)';
  return null;
}

function memo<T>(fn: () => T): () => T {
  let done = false;
  let value: T;
  let error: unknown;
  return () => {
    if (!done) {
      done = true;
      try {
        value = fn();
      } catch (err) {
        error = err;
      }
    }
    if (error !== undefined) throw error;
    return value;
  };
}

/** Traefik 1.7's getSubDomain: the service name with '/' and '_' as '-'. */
function subDomain(service: SwarmService): string {
  const project = service.labels['com.docker.compose.project'];
  const compose = service.labels['com.docker.compose.service'];
  const name = project && compose ? `${compose}.${project}` : service.name;
  return name.replace(/^\//, '').replace(/[/_]/g, '-');
}

/**
 * A default rule that reads .ContainerName, as Traefik renders it: once per
 * task, named as Traefik names a Swarm task's container (one name, the
 * service's, with lbswarm). Tasks that get different rules define the router
 * differently, which Traefik's merge answers by dropping the router.
 */
function perTaskRule(service: SwarmService, render: DefaultRule, lbswarm: boolean): string {
  const names = lbswarm ? [service.name] : service.tasks.map((t) => t.name);
  if (names.length === 0) throw new LabelProblem('no rule: the default rule reads .ContainerName, and the service has no running task to name');
  const rules = [...new Set(names.map((n) => render(service, n)))];
  if (rules.length > 1) {
    throw new LabelProblem(
      `no rule: the default rule reads .ContainerName, which gives each of the ${names.length} tasks its own rule (${rules.slice(0, 3).map((r) => JSON.stringify(r)).join(', ')}${rules.length > 3 ? ', ...' : ''}); as in Traefik, a router its containers define differently is dropped (set a rule label, or use lbswarm)`,
    );
  }
  return rules[0]!;
}

/** The service speaks Traefik 1.7's labels: some of them, and none of v2/v3's (which would take precedence). */
function usesV1Labels(service: SwarmService): boolean {
  const keys = Object.keys(service.labels);
  return keys.some(isV1Label) && !keys.some((k) => isV2Label(k.toLowerCase()));
}

/** `v1Dialect`: the service speaks Traefik 1.7's labels (usesV1Labels). */
function readSpecs(service: SwarmService, v1Dialect: boolean, warn: (m: string) => void): SpecSet {
  const base = serviceName(service);
  if (v1Dialect) return readV1Labels(service.labels, { base, subDomain: subDomain(service) });
  const v1 = Object.keys(service.labels).sort(byteOrder).filter(isV1Label);
  if (v1.length > 0) {
    warn(`Traefik v1 labels ${v1.map((k) => JSON.stringify(k)).join(', ')} ignored: the service has traefik.http.* labels, which take precedence`);
  }
  return readV2Labels(service.labels, base);
}

/** Adds one Swarm service's elements; returns the names of the HTTP services it defines. */
function processService(
  service: SwarmService,
  options: SwarmProviderOptions,
  snapshot: SwarmSnapshot,
  keep: ConstraintMatcher,
  collector: Collector,
  result: SwarmConfigResult,
): string[] {
  const origin = service.name;
  const warn = (m: string): void => {
    result.warnings.push(`Swarm service "${origin}": ${m}`);
  };
  const serviceError = (problem: LabelProblem): void => {
    result.errors.push({ provider: PROVIDER, message: `Swarm service "${origin}": ${withLabel(problem)}` });
  };
  const index = indexLabels(service.labels);
  const v1 = usesV1Labels(service);

  let enabled = options.exposedByDefault;
  try {
    const label = pick(index, 'traefik.enable');
    if (label !== undefined) {
      const value = goBool(label.value);
      if (value !== undefined) enabled = value;
      // Traefik 1.7 falls back to exposedByDefault (and logs it); Traefik 2 and 3 skip the service.
      else if (v1) warn(`label "${label.key}": must be true or false, got ${JSON.stringify(label.value)}; exposedByDefault (${options.exposedByDefault}) applies, as in Traefik 1.7`);
      else throw new LabelProblem(`must be true or false, got ${JSON.stringify(label.value)}; the service is not exposed`, label.key);
    }
  } catch (err) {
    serviceError(err as LabelProblem);
    return [];
  }
  if (!enabled || !keep(service.labels)) return [];

  const specs = readSpecs(service, v1, warn);
  for (const w of specs.warnings) warn(w);
  for (const { kind, name } of specs.tcpUdp) {
    const what = `${kind.slice(0, 3).toUpperCase()} ${kind.slice(3).toLowerCase()}`;
    // Disabled in the API's TCP/UDP sections; the log has the warning about the labels once.
    result.notices.push({ provider: PROVIDER, element: { kind, name }, message: `${what} "${name}" (Swarm service "${origin}"): not served: portero routes HTTP only`, level: 'warning' });
  }
  for (const p of specs.problems) serviceError(p);

  const providerWarnings: string[] = [];
  let provider: ProviderLabels | LabelProblem;
  try {
    provider = readProviderLabels(index, providerWarnings);
  } catch (err) {
    provider = err as LabelProblem;
  }
  for (const w of providerWarnings) warn(w);

  const render = defaultRuleFor(options.defaultRule);
  const ctx: BuildContext = {
    defaultRule: () => {
      if (render instanceof Error) throw new LabelProblem(`no rule, and the default rule cannot be used: ${render.message}`);
      if (!render.perTask) return render(service);
      return perTaskRule(service, render, provider instanceof LabelProblem ? false : provider.lbswarm?.value === true);
    },
    hosts: memo(() => {
      if (provider instanceof LabelProblem) throw provider;
      const choice = chooseNetwork(service, provider, options.network, snapshot.ownNetworks, result.warnings);
      return serverHosts(service, choice, provider.lbswarm, result.warnings);
    }),
  };

  const build = <S extends { name: string }>(kind: Kind, list: S[], make: (spec: S) => RouterConfig | ServiceConfig | MiddlewareConfig): void => {
    for (const spec of list) {
      const bad = nameProblem(spec.name);
      if (bad !== null) {
        collector.fail(kind, spec.name, origin, bad);
        continue;
      }
      if (portless !== undefined && !(kind === 'service' && spec.name === portless.name)) {
        collector.fail(kind, spec.name, origin, `not defined: service "${portless.name}" has no port, and Traefik then drops everything the Swarm service's labels define (see its error)`);
        continue;
      }
      try {
        collector.add(kind, spec.name, origin, make(spec));
      } catch (err) {
        if (!(err instanceof LabelProblem)) throw err;
        collector.fail(kind, spec.name, origin, withLabel(err));
      }
    }
  };
  // Traefik 2 and 3 skip the whole container when a service has no port ("port is missing"). Traefik 1.7
  // filters per segment, which its reader already does: the segment's router goes with its service.
  const portless = v1 ? undefined : specs.services.find((s) => s.problem === undefined && s.server.url === undefined && s.server.port === undefined);
  build('service', specs.services, (s) => buildService(s, ctx));
  build('middleware', specs.middlewares, buildMiddleware);
  build('router', specs.routers, (s) => buildRouter(s, ctx));
  return specs.services.map((s) => s.name);
}

/**
 * Builds the Swarm provider's dynamic configuration from a snapshot. Never
 * throws for bad labels: each problem is an error naming the element, the
 * Swarm service and the label, and only that element is left out. A
 * malformed constraints expression exposes nothing (the provider should
 * have refused it at startup with compileConstraints).
 */
export function buildSwarmConfig(snapshot: SwarmSnapshot, options: SwarmProviderOptions): SwarmConfigResult {
  const result: SwarmConfigResult = { config: emptyDynamicConfig(), errors: [], warnings: [], notices: [] };
  let keep: ConstraintMatcher;
  try {
    keep = constraintsFor(options.constraints ?? '');
  } catch (err) {
    result.errors.push({ provider: PROVIDER, message: `${(err as Error).message}; no Swarm service is exposed until it is fixed` });
    return result;
  }
  const collector = new Collector(result.errors);
  const services = [...snapshot.services].sort((a, b) => byteOrder(a.name, b.name) || byteOrder(a.id, b.id));
  for (const service of services) {
    const first = result.warnings.length;
    const defined = processService(service, options, snapshot, keep, collector, result);
    for (const message of result.warnings.slice(first)) {
      if (defined.length === 0) result.notices.push({ provider: PROVIDER, message, level: 'warning' });
      for (const name of defined) result.notices.push({ provider: PROVIDER, element: { kind: 'service', name }, message, level: 'warning' });
    }
  }
  collector.finish(result.config);
  return result;
}
