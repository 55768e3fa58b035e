// Element specs (labels with their place in the file-provider shape) to
// RouterConfig / ServiceConfig / MiddlewareConfig, through the file
// provider's normalizer, so labels and files accept exactly the same values.
// When the normalizer rejects an element, the label at fault is found by
// normalizing growing prefixes of the element's labels: the first prefix
// that fails ends with the culprit.
import { H2C_REFUSED, type MiddlewareConfig, type RouterConfig, type ServerConfig, type ServiceConfig } from '../../dynamic/model.js';
import { normalizeMiddleware, normalizeRouter, normalizeService } from '../../dynamic/normalize.js';
import { LabelProblem, parsePort, type Leaf, type MiddlewareSpec, type RouterSpec, type ServiceSpec } from './labels-common.js';
import { serverUrl } from './labels-network.js';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function findKey(obj: Obj, key: string): string | undefined {
  const lower = key.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function setOwn(obj: Obj, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The nested object the leaves describe; keys merge in any case (first spelling kept). */
export function nest(leaves: readonly Leaf[]): Obj {
  const root: Obj = {};
  const owner = new Map<unknown, string>();
  for (const leaf of leaves) {
    let node = root;
    for (let i = 0; i < leaf.path.length; i++) {
      const key = findKey(node, leaf.path[i]) ?? leaf.path[i];
      const last = i === leaf.path.length - 1;
      const existing = Object.hasOwn(node, key) ? node[key] : undefined;
      if (last) {
        if (existing !== undefined) {
          const other = isObject(existing) && !owner.has(existing) ? 'labels below it' : `label "${owner.get(existing) ?? '?'}"`;
          throw new LabelProblem(`conflicts with ${other}`, leaf.label);
        }
        const value = isObject(leaf.value) ? { ...leaf.value } : leaf.value;
        setOwn(node, key, value);
        owner.set(value, leaf.label);
      } else if (existing === undefined) {
        const child: Obj = {};
        setOwn(node, key, child);
        node = child;
      } else if (isObject(existing) && !owner.has(existing)) {
        node = existing;
      } else {
        throw new LabelProblem(`conflicts with label "${owner.get(existing) ?? '?'}" (a value cannot also have fields)`, leaf.label);
      }
    }
  }
  return root;
}

/** Runs the normalizer; on failure names the label at fault. */
function normalizeLeaves<T>(leaves: readonly Leaf[], build: (leaves: readonly Leaf[]) => unknown, normalizeFn: (raw: unknown) => T): T {
  try {
    return normalizeFn(build(leaves));
  } catch (err) {
    if (err instanceof TypeError || err instanceof ReferenceError) throw err;
    if (err instanceof LabelProblem) throw err;
    for (let i = 1; i <= leaves.length; i++) {
      try {
        normalizeFn(build(leaves.slice(0, i)));
      } catch (inner) {
        if (inner instanceof TypeError || inner instanceof ReferenceError) throw inner;
        if (inner instanceof LabelProblem) throw inner;
        throw new LabelProblem((inner as Error).message, leaves[i - 1].label || undefined);
      }
    }
    throw new LabelProblem((err as Error).message);
  }
}

export interface BuildContext {
  /** The default rule for this Swarm service; throws LabelProblem. */
  defaultRule: () => string;
  /** Hosts (task IPs or the VIP) on the chosen network; throws LabelProblem. */
  hosts: () => string[];
}

function hasField(leaves: readonly Leaf[], field: string): boolean {
  return leaves.some((l) => l.path.length === 1 && l.path[0].toLowerCase() === field);
}

export function buildRouter(spec: RouterSpec, ctx: BuildContext): RouterConfig {
  if (spec.problem) throw spec.problem;
  let fallback: string | undefined;
  if (!hasField(spec.leaves, 'rule')) {
    fallback = ctx.defaultRule();
    if (fallback.trim() === '') throw new LabelProblem('no rule, and the default rule template gives an empty rule');
  }
  const build = (leaves: readonly Leaf[]): unknown => {
    const obj = nest(leaves);
    if (findKey(obj, 'rule') === undefined) obj.rule = fallback ?? 'placeholder';
    if (fallback !== undefined && spec.defaultRuleSyntax && findKey(obj, 'ruleSyntax') === undefined) obj.ruleSyntax = spec.defaultRuleSyntax;
    return obj;
  };
  const router = normalizeLeaves(spec.leaves, build, normalizeRouter);
  if (spec.unlinked) throw spec.unlinked;
  return router;
}

const SCHEMES = ['http', 'https'];
const PROBE_URL = 'http://127.0.0.1';
/** Where server labels sit while validating; no label can produce this key. */
const SERVER = '\0server';

export function buildService(spec: ServiceSpec, ctx: BuildContext): ServiceConfig {
  if (spec.problem) throw spec.problem;
  const { port, scheme, url, weight, preservePath } = spec.server;
  let portNumber = 0;
  let schemeName = 'http';
  if (url !== undefined) {
    if (port !== undefined || scheme !== undefined) {
      throw new LabelProblem(`a server url cannot be combined with label "${(port ?? scheme)!.label}"`, url.label);
    }
  } else {
    if (port === undefined) {
      throw new LabelProblem(`missing (the port is required in Swarm mode${spec.portHint ? `; ${spec.portHint}` : ''})`, spec.portLabel);
    }
    portNumber = parsePort(port);
    if (scheme !== undefined) {
      schemeName = String(scheme.value).trim().toLowerCase();
      if (schemeName === 'h2c') throw new LabelProblem(H2C_REFUSED, scheme.label);
      if (!SCHEMES.includes(schemeName)) {
        throw new LabelProblem(`must be http or https, got ${JSON.stringify(scheme.value)}`, scheme.label);
      }
    }
  }

  // Validate with one probe server carrying the server labels; the real
  // servers (one per task) are added afterwards.
  const serverLeaves = [url, weight, preservePath].filter((l): l is Leaf => l !== undefined).map((l) => ({ ...l, path: ['loadBalancer', SERVER, ...l.path] }));
  const build = (leaves: readonly Leaf[]): unknown => {
    const obj = nest(leaves);
    const lbKey = findKey(obj, 'loadBalancer') ?? 'loadBalancer';
    if (!Object.hasOwn(obj, lbKey)) obj[lbKey] = {};
    const lb = obj[lbKey];
    if (isObject(lb)) {
      const server = isObject(lb[SERVER]) ? lb[SERVER] : {};
      delete lb[SERVER];
      if (findKey(server, 'url') === undefined) server.url = PROBE_URL;
      lb.servers = [server];
    }
    return obj;
  };
  const probe = normalizeLeaves([...spec.leaves, ...serverLeaves], build, normalizeService).loadBalancer!;
  const probeServer = probe.servers[0];

  let servers: ServerConfig[];
  if (url !== undefined) servers = [probeServer];
  else {
    servers = ctx.hosts().map((host) => {
      const s: ServerConfig = { url: serverUrl(schemeName, host, portNumber) };
      if (probeServer.weight !== undefined) s.weight = probeServer.weight;
      return s;
    });
  }
  const lb: ServiceConfig['loadBalancer'] = { servers };
  if (probe.passHostHeader !== undefined) lb.passHostHeader = probe.passHostHeader;
  if (probe.healthCheck !== undefined) lb.healthCheck = probe.healthCheck;
  if (probe.passiveHealthCheck !== undefined) lb.passiveHealthCheck = probe.passiveHealthCheck;
  if (probe.serversTransport !== undefined) lb.serversTransport = probe.serversTransport;
  if (probe.sticky !== undefined) lb.sticky = probe.sticky;
  if (probe.responseForwarding !== undefined) lb.responseForwarding = probe.responseForwarding;
  return { loadBalancer: lb };
}

export function buildMiddleware(spec: MiddlewareSpec): MiddlewareConfig {
  if (spec.problem) throw spec.problem;
  return normalizeLeaves(spec.leaves, nest, normalizeMiddleware);
}
