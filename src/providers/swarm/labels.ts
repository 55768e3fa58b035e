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
// What one Swarm service gives (its elements, errors and warnings) depends on
// that service and the provider's options alone, so it is kept between syncs
// and built again only when the service changes: a sync of a Swarm with a
// thousand services, one of them changed, builds one. Then the elements of
// all services are merged by name (labels-merge.ts).
import { emptyDynamicConfig, type ConfigError, type DynamicConfig, type MiddlewareConfig, type RouterConfig, type ServiceConfig } from '../../dynamic/model.js';
import { pipeliningDepth } from '../../dynamic/normalize.js';
import { compileConstraints, type ConstraintMatcher } from './constraints.js';
import { compileDefaultRule, serviceName, type DefaultRule } from './default-rule.js';
import { buildMiddleware, buildRouter, buildService, type BuildContext } from './labels-build.js';
import { byteOrder, goBool, indexLabels, LabelProblem, type LabelIndex, pick, type SpecSet } from './labels-common.js';
import { Collector, elementError, type Kind } from './labels-merge.js';
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
const PIPELINING_LABEL = 'portero.pipelining';

/** portero's own label portero.pipelining; Traefik ignores labels outside traefik.*, so the stack file stays Traefik's. */
function readPipelining(index: LabelIndex): number | null {
  const label = pick(index, PIPELINING_LABEL);
  if (label === undefined) return null;
  try {
    return pipeliningDepth(label.value, 'the value');
  } catch (err) {
    throw new LabelProblem(`${(err as Error).message}; its services are served without pipelining`, label.key);
  }
}

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

/** What one Swarm service gives, replayed into each sync's merge. */
interface ServiceFragment {
  elements: { kind: Kind; name: string; value: RouterConfig | ServiceConfig | MiddlewareConfig }[];
  /** HTTP services this one defines that are disabled (their routers go with them in the merge). */
  failedServices: string[];
  errors: ConfigError[];
  warnings: string[];
  notices: ConfigError[];
}

/** One Swarm service's elements, errors and warnings. */
function processService(service: SwarmService, options: SwarmProviderOptions, ownNetworks: string[] | null, keep: ConstraintMatcher): ServiceFragment {
  const fragment: ServiceFragment = { elements: [], failedServices: [], errors: [], warnings: [], notices: [] };
  const defined = readService(service, options, ownNetworks, keep, fragment);
  for (const message of fragment.warnings) {
    if (defined.length === 0) fragment.notices.push({ provider: PROVIDER, message, level: 'warning' });
    for (const name of defined) fragment.notices.push({ provider: PROVIDER, element: { kind: 'service', name }, message, level: 'warning' });
  }
  return fragment;
}

/** Fills `fragment` from one Swarm service; returns the names of the HTTP services it defines. */
function readService(
  service: SwarmService,
  options: SwarmProviderOptions,
  ownNetworks: string[] | null,
  keep: ConstraintMatcher,
  fragment: ServiceFragment,
): string[] {
  const origin = service.name;
  const warn = (m: string): void => {
    fragment.warnings.push(`Swarm service "${origin}": ${m}`);
  };
  const serviceError = (problem: LabelProblem): void => {
    fragment.errors.push({ provider: PROVIDER, message: `Swarm service "${origin}": ${withLabel(problem)}` });
  };
  const fail = (kind: Kind, name: string, message: string): void => {
    if (kind === 'service') fragment.failedServices.push(name);
    fragment.errors.push(elementError(kind, name, origin, message));
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
    fragment.notices.push({ provider: PROVIDER, element: { kind, name }, message: `${what} "${name}" (Swarm service "${origin}"): not served: portero routes HTTP only`, level: 'warning' });
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

  let pipelining: number | null = null;
  try {
    pipelining = readPipelining(index);
  } catch (err) {
    serviceError(err as LabelProblem);
  }

  const render = defaultRuleFor(options.defaultRule);
  const ctx: BuildContext = {
    defaultRule: () => {
      if (render instanceof Error) throw new LabelProblem(`no rule, and the default rule cannot be used: ${render.message}`);
      if (!render.perTask) return render(service);
      return perTaskRule(service, render, provider instanceof LabelProblem ? false : provider.lbswarm?.value === true);
    },
    hosts: memo(() => {
      if (provider instanceof LabelProblem) throw provider;
      const choice = chooseNetwork(service, provider, options.network, ownNetworks, fragment.warnings);
      return serverHosts(service, choice, provider.lbswarm, fragment.warnings);
    }),
  };

  const build = <S extends { name: string }>(kind: Kind, list: S[], make: (spec: S) => RouterConfig | ServiceConfig | MiddlewareConfig): void => {
    for (const spec of list) {
      const bad = nameProblem(spec.name);
      if (bad !== null) {
        fail(kind, spec.name, bad);
        continue;
      }
      if (portless !== undefined && !(kind === 'service' && spec.name === portless.name)) {
        fail(kind, spec.name, `not defined: service "${portless.name}" has no port, and Traefik then drops everything the Swarm service's labels define (see its error)`);
        continue;
      }
      try {
        fragment.elements.push({ kind, name: spec.name, value: make(spec) });
      } catch (err) {
        if (!(err instanceof LabelProblem)) throw err;
        fail(kind, spec.name, withLabel(err));
      }
    }
  };
  // Traefik 2 and 3 skip the whole container when a service has no port ("port is missing"). Traefik 1.7
  // filters per segment, which its reader already does: the segment's router goes with its service.
  const portless = v1 ? undefined : specs.services.find((s) => s.problem === undefined && s.server.url === undefined && s.server.port === undefined);
  build('service', specs.services, (s) => {
    const service = buildService(s, ctx);
    if (pipelining !== null && service.loadBalancer !== undefined) service.loadBalancer.pipelining = pipelining;
    return service;
  });
  build('middleware', specs.middlewares, buildMiddleware);
  build('router', specs.routers, (s) => buildRouter(s, ctx));
  return specs.services.map((s) => s.name);
}

/** Fragments by Swarm service, valid while the options and portero's own networks are those of `context`. */
let fragments: { context: string; byService: WeakMap<SwarmService, ServiceFragment> } = { context: '', byService: new WeakMap() };

/**
 * Builds the Swarm provider's dynamic configuration from a snapshot. Never
 * throws for bad labels: each problem is an error naming the element, the
 * Swarm service and the label, and only that element is left out. A
 * malformed constraints expression exposes nothing (the provider should
 * have refused it at startup with compileConstraints). A service object
 * seen by an earlier call with the same options is not read again: the
 * provider replaces a service's object when it changes, never modifies it.
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
  const context = JSON.stringify([options.exposedByDefault, options.network, options.defaultRule, options.constraints, snapshot.ownNetworks]);
  if (fragments.context !== context) fragments = { context, byService: new WeakMap() };
  const collector = new Collector(result.errors);
  const services = [...snapshot.services].sort((a, b) => byteOrder(a.name, b.name) || byteOrder(a.id, b.id));
  for (const service of services) {
    let fragment = fragments.byService.get(service);
    if (fragment === undefined) {
      fragment = processService(service, options, snapshot.ownNetworks, keep);
      fragments.byService.set(service, fragment);
    }
    for (const e of fragment.elements) collector.add(e.kind, e.name, service.name, e.value);
    for (const name of fragment.failedServices) collector.failed.add(name);
    result.errors.push(...fragment.errors);
    result.warnings.push(...fragment.warnings);
    result.notices.push(...fragment.notices);
  }
  collector.finish(result.config);
  return result;
}
