// Traefik 1.7 labels (`traefik.frontend.rule`, `traefik.port`, segments such as
// `traefik.web.port`), read into the same element specs as v2/v3 labels.
//
// As in Traefik 1.7: a label `traefik.<segment>.{port,weight,protocol,backend,
// frontend.*}` belongs to a segment; the other labels are the default
// segment's and also apply to every segment that does not set them; when
// there are segments, the default segment makes no router of its own.
// Each segment makes a router `<service>-<segment>` and a service
// `<service>-<traefik.backend or segment>`; without segments the router is
// `<service>` and the service `<traefik.backend or service>` (all normalized).
// Unlike 1.7, keys match in any case, bad values are errors (1.7 logged them
// and used the default), and without a rule or domain the default rule applies.
//
// Labels portero does not implement (per segment, or for all of them):
//
//   label                                   outcome   why
//   frontend.whiteList.useXForwardedFor     error     the IP restriction would be applied to the wrong address
//   frontend.headers.SSLRedirect & co.      error     deprecated; use frontend.redirect.entryPoint
//   other frontend.rateLimit.* keys         error     the rate limit would be lifted (labels-v1-limits.ts reads the known ones)
//   other backend.maxconn.* keys            error     the connection limit promised to the backend would be lifted
//   portIndex, portName                     error     Swarm tasks publish no ports to pick from: use traefik.port
//   frontend.passTLSCert, passTLSClientCert warning   portero serves no TLS, so there is no client certificate
//   backend.loadbalancer.method             warning   only the spreading of requests differs (portero: weighted round robin)
//   backend.responseForwarding.*            warning   flush interval only
//   tags                                    warning   v1 tag constraints; portero's constraints use Label(...) expressions
//   other frontend.* / backend.* keys       warning   unknown to Traefik 1.7 as well (probably a typo)
import { normalize } from './default-rule.js';
import { v1Forwarding } from './labels-v1-forwarding.js';
import { v1Limits } from './labels-v1-limits.js';
import { byteOrder, goBool, LabelProblem, splitAndTrim, type Leaf, type RouterSpec, type ServiceSpec, type SpecSet } from './labels-common.js';

type Props = Map<string, { label: string; value: string }>;

const SEGMENT = /^traefik\.(.+?)\.(port|portindex|portname|weight|protocol|backend|frontend\..+)$/i;

/** Provider-level labels read elsewhere (enablement, network, lbswarm). */
const PROVIDER_LABELS = new Set(['traefik.enable', 'traefik.docker.network', 'traefik.backend.loadbalancer.swarm']);

/** Traefik 1.7's backend.healthcheck.* properties and their v3 loadBalancer.healthCheck names. */
const HEALTH_CHECK_FIELDS: Record<string, string> = {
  path: 'path',
  port: 'port',
  scheme: 'scheme',
  interval: 'interval',
  timeout: 'timeout',
  hostname: 'hostname',
};

const HANDLED = new Set([
  'traefik.port',
  'traefik.protocol',
  'traefik.weight',
  'traefik.backend',
  'traefik.domain',
  'traefik.frontend.rule',
  'traefik.frontend.priority',
  'traefik.frontend.entrypoints',
  'traefik.frontend.passhostheader',
  ...Object.keys(HEALTH_CHECK_FIELDS).map((f) => `traefik.backend.healthcheck.${f}`),
  'traefik.backend.healthcheck.headers',
  'traefik.backend.loadbalancer.stickiness',
  'traefik.backend.loadbalancer.sticky',
  'traefik.backend.loadbalancer.stickiness.cookiename',
]);

interface Unsupported {
  /** Lower-cased property, or a prefix ending in '.' or '*'. */
  match: string;
  outcome: 'router' | 'service' | 'warning';
  why: string;
}

const UNSUPPORTED: Unsupported[] = [
  { match: 'traefik.frontend.auth.', outcome: 'router', why: 'requests would reach the service unauthenticated' },
  { match: 'traefik.frontend.whitelist*', outcome: 'router', why: 'the IP restriction would be lifted' },
  { match: 'traefik.frontend.headers.', outcome: 'router', why: 'security and custom headers would not be applied' },
  { match: 'traefik.frontend.redirect.', outcome: 'router', why: 'the redirect would not happen' },
  { match: 'traefik.frontend.ratelimit.', outcome: 'router', why: 'the rate limit would be lifted' },
  { match: 'traefik.backend.maxconn.', outcome: 'service', why: 'the connection limit would be lifted' },
  { match: 'traefik.portindex', outcome: 'service', why: 'Swarm tasks publish no ports to pick from; use traefik.port' },
  { match: 'traefik.portname', outcome: 'service', why: 'Swarm tasks publish no ports to pick from; use traefik.port' },
  { match: 'traefik.frontend.passtls*', outcome: 'warning', why: 'portero serves no TLS, so there is no client certificate to pass' },
  { match: 'traefik.backend.loadbalancer.method', outcome: 'warning', why: 'portero balances with weighted round robin' },
  { match: 'traefik.backend.responseforwarding.', outcome: 'warning', why: 'responses are streamed as they come' },
  { match: 'traefik.tags', outcome: 'warning', why: "v1 tag constraints do not apply; portero's constraints use Label(...) expressions" },
];

function matches(prop: string, pattern: string): boolean {
  if (pattern.endsWith('*')) return prop.startsWith(pattern.slice(0, -1));
  if (pattern.endsWith('.')) return prop.startsWith(pattern);
  return prop === pattern;
}

/** The segment and the property ("traefik.port") of a segment label, or null for a default-segment label. */
function segmentOf(key: string): { segment: string; prop: string } | null {
  const lower = key.toLowerCase();
  if (lower.startsWith('traefik.frontend.') || lower.startsWith('traefik.backend.')) return null;
  const m = SEGMENT.exec(key);
  if (m === null) return null;
  return { segment: m[1], prop: `traefik.${m[2].toLowerCase()}` };
}

/** True for labels that only mean something in Traefik 1.7 (they select this reader). */
export function isV1Label(key: string): boolean {
  const lower = key.toLowerCase();
  if (PROVIDER_LABELS.has(lower) || !lower.startsWith('traefik.')) return false;
  if (/^traefik\.(http|tcp|udp|tls|docker|swarm)\./.test(lower)) return false;
  if (lower.startsWith('traefik.frontend.') || lower.startsWith('traefik.backend.')) return true;
  if (['traefik.port', 'traefik.protocol', 'traefik.weight', 'traefik.backend', 'traefik.domain', 'traefik.portindex', 'traefik.portname', 'traefik.tags'].includes(lower)) {
    return true;
  }
  return segmentOf(key) !== null;
}

export interface V1Names {
  /** The Swarm service's Traefik name (normalized). */
  base: string;
  /** Traefik 1.7's getSubDomain of the service name, for `traefik.domain`. */
  subDomain: string;
}

/** Reads the Traefik 1.7 labels of one Swarm service. */
export function readV1Labels(labels: Readonly<Record<string, string>>, names: V1Names): SpecSet {
  const set: SpecSet = { routers: [], services: [], middlewares: [], problems: [], warnings: [], tcpUdp: [] };
  const segments = new Map<string, Props>([['', new Map()]]);
  const clashes = new Map<string, LabelProblem>();

  for (const key of Object.keys(labels).sort(byteOrder)) {
    const lower = key.toLowerCase();
    if (!lower.startsWith('traefik.') || PROVIDER_LABELS.has(lower) || /^traefik\.(docker|swarm)\./.test(lower)) continue;
    const seg = segmentOf(key);
    const segment = seg?.segment ?? '';
    const prop = seg?.prop ?? lower;
    let props = segments.get(segment);
    if (props === undefined) segments.set(segment, (props = new Map()));
    const previous = props.get(prop);
    if (previous !== undefined && previous.value !== labels[key]) {
      clashes.set(segment, new LabelProblem(`differs only in case from label "${previous.label}" but has another value`, key));
    }
    if (previous === undefined) props.set(prop, { label: key, value: labels[key] });
  }

  // Default labels apply to every segment; with segments, the default makes no router.
  const defaults = segments.get('')!;
  const named = [...segments.keys()].filter((s) => s !== '').sort(byteOrder);
  for (const s of named) {
    const props = segments.get(s)!;
    for (const [prop, v] of defaults) if (!props.has(prop)) props.set(prop, v);
  }
  const list = named.length > 0 ? named : [''];

  const warned = new Set<string>();
  for (const segment of list) {
    const props = segments.get(segment)!;
    const get = (prop: string): { label: string; value: string } | undefined => props.get(prop);
    const backend = get('traefik.backend');
    const routerName = segment === '' ? names.base : normalize(`${names.base}-${segment}`);
    let serviceName: string;
    if (segment !== '') serviceName = normalize(`${names.base}-${backend?.value || segment}`);
    else serviceName = backend?.value ? normalize(backend.value) : names.base;

    const router: RouterSpec = { name: routerName, leaves: [], problem: clashes.get(segment) ?? clashes.get('') };
    const service: ServiceSpec = {
      name: serviceName,
      leaves: [],
      server: {},
      portLabel: segment === '' ? 'traefik.port' : `traefik.${segment}.port`,
      problem: router.problem,
    };

    const rule = get('traefik.frontend.rule');
    const domain = get('traefik.domain');
    if (rule?.value.trim()) {
      router.leaves.push({ label: rule.label, path: ['rule'], value: rule.value }, { label: rule.label, path: ['ruleSyntax'], value: 'v1' });
    } else if (domain?.value.trim()) {
      router.leaves.push(
        { label: domain.label, path: ['rule'], value: `Host:${names.subDomain}.${domain.value.trim()}` },
        { label: domain.label, path: ['ruleSyntax'], value: 'v1' },
      );
    } else {
      router.defaultRuleSyntax = 'v3';
    }
    const priority = get('traefik.frontend.priority');
    if (priority !== undefined) router.leaves.push({ label: priority.label, path: ['priority'], value: priority.value });
    const entryPoints = get('traefik.frontend.entrypoints');
    if (entryPoints !== undefined && splitAndTrim(entryPoints.value).length > 0) {
      router.leaves.push({ label: entryPoints.label, path: ['entryPoints'], value: splitAndTrim(entryPoints.value) });
    }
    router.leaves.push({ label: '', path: ['service'], value: serviceName });

    const pass = get('traefik.frontend.passhostheader');
    if (pass !== undefined) {
      const leaf: Leaf = { label: pass.label, path: ['loadBalancer', 'passHostHeader'], value: goBool(pass.value) ?? pass.value };
      service.leaves.push(leaf);
    }
    for (const [v1, v3] of Object.entries(HEALTH_CHECK_FIELDS)) {
      const hc = get(`traefik.backend.healthcheck.${v1}`);
      if (hc !== undefined) service.leaves.push({ label: hc.label, path: ['loadBalancer', 'healthCheck', v3], value: hc.value });
    }
    // "name:value||name:value", as Traefik 1.7 wrote headers in a label.
    const hcHeaders = get('traefik.backend.healthcheck.headers');
    if (hcHeaders !== undefined) {
      for (const pair of hcHeaders.value.split('||')) {
        const colon = pair.indexOf(':');
        if (colon <= 0) {
          service.problem ??= new LabelProblem(`expected name:value pairs separated by ||, got ${JSON.stringify(pair)}`, hcHeaders.label);
          continue;
        }
        service.leaves.push({ label: hcHeaders.label, path: ['loadBalancer', 'healthCheck', 'headers', pair.slice(0, colon).trim()], value: pair.slice(colon + 1).trim() });
      }
    }
    // 1.7's stickiness (and the older sticky=true): the v2+ sticky cookie, named as 1.7 named it when cookieName is set.
    const stickiness = get('traefik.backend.loadbalancer.stickiness') ?? get('traefik.backend.loadbalancer.sticky');
    const cookieName = get('traefik.backend.loadbalancer.stickiness.cookiename');
    if (cookieName !== undefined && cookieName.value.trim() !== '') service.leaves.push({ label: cookieName.label, path: ['loadBalancer', 'sticky', 'cookie', 'name'], value: cookieName.value.trim() });
    else if (stickiness !== undefined && goBool(stickiness.value) !== false) service.leaves.push({ label: stickiness.label, path: ['loadBalancer', 'sticky'], value: stickiness.value });
    const port = get('traefik.port');
    if (port !== undefined) service.server.port = { label: port.label, path: ['port'], value: port.value };
    const protocol = get('traefik.protocol');
    if (protocol !== undefined) service.server.scheme = { label: protocol.label, path: ['scheme'], value: protocol.value };
    const weight = get('traefik.weight');
    if (weight !== undefined) service.server.weight = { label: weight.label, path: ['weight'], value: weight.value };

    const mapped = v1Middlewares(routerName, get, set);
    router.problem ??= v1Limits(routerName, props, set, mapped);
    v1Forwarding(routerName, props, set, mapped);
    if (mapped.names.length > 0) router.leaves.push({ label: mapped.labels[0] ?? '', path: ['middlewares'], value: mapped.names });

    for (const [prop, { label }] of [...props].sort(([a], [b]) => byteOrder(a, b))) {
      if (HANDLED.has(prop) || mapped.handled.has(prop)) continue;
      const rule = UNSUPPORTED.find((u) => matches(prop, u.match));
      if (rule === undefined) {
        if ((prop.startsWith('traefik.frontend.') || prop.startsWith('traefik.backend.')) && !warned.has(label)) {
          warned.add(label);
          set.warnings.push(`label "${label}" ignored: not a Traefik 1.7 label`);
        }
        continue;
      }
      if (rule.outcome === 'warning') {
        if (!warned.has(label)) set.warnings.push(`label "${label}" ignored: not supported by portero (${rule.why})`);
        warned.add(label);
        continue;
      }
      const problem = new LabelProblem(`not supported by portero (${rule.why})`, label);
      if (rule.outcome === 'router') router.problem ??= problem;
      else service.problem ??= problem;
    }
    set.routers.push(router);
    set.services.push(service);
  }
  return set;
}

/** Traefik 1.7's frontend.headers.* booleans and strings, by their v2+ headers option. */
const V1_HEADERS: Record<string, string> = {
  stsseconds: 'stsSeconds',
  stsincludesubdomains: 'stsIncludeSubdomains',
  stspreload: 'stsPreload',
  forcestsheader: 'forceSTSHeader',
  framedeny: 'frameDeny',
  customframeoptionsvalue: 'customFrameOptionsValue',
  contenttypenosniff: 'contentTypeNosniff',
  browserxssfilter: 'browserXssFilter',
  custombrowserxssvalue: 'customBrowserXSSValue',
  contentsecuritypolicy: 'contentSecurityPolicy',
  referrerpolicy: 'referrerPolicy',
  publickey: 'publicKey',
  isdevelopment: 'isDevelopment',
};
const V1_HEADER_LISTS: Record<string, string> = { allowedhosts: 'allowedHosts', hostsproxyheaders: 'hostsProxyHeaders' };
const V1_HEADER_MAPS: Record<string, string> = { customrequestheaders: 'customRequestHeaders', customresponseheaders: 'customResponseHeaders', sslproxyheaders: 'sslProxyHeaders' };

/**
 * The frontend labels Traefik 1.7 turned into behaviour (basic or digest auth, IP
 * white list, headers, redirects) and the backend's circuit breaker, as
 * middlewares of this router: the same code as v2/v3 middlewares. Returns
 * their names and the properties used.
 */
function v1Middlewares(
  routerName: string,
  get: (prop: string) => { label: string; value: string } | undefined,
  set: SpecSet,
): { names: string[]; labels: string[]; handled: Set<string> } {
  const names: string[] = [];
  const labels: string[] = [];
  const handled = new Set<string>();
  const add = (suffix: string, leaves: Leaf[]) => {
    if (leaves.length === 0) return;
    const name = `${routerName}-${suffix}`;
    set.middlewares.push({ name, leaves });
    names.push(name);
    labels.push(leaves[0]!.label);
  };
  const take = (prop: string) => {
    const v = get(prop);
    if (v !== undefined) handled.add(prop);
    return v;
  };

  // whiteList.sourceRange (1.7) or whitelistSourceRange (older).
  const range = take('traefik.frontend.whitelist.sourcerange') ?? take('traefik.frontend.whitelistsourcerange');
  if (range !== undefined) add('whitelist', [{ label: range.label, path: ['ipAllowList', 'sourceRange'], value: splitAndTrim(range.value) }]);

  const authLeaves = (kind: string, props: readonly (readonly [string, string])[]): Leaf[] => {
    const leaves: Leaf[] = [];
    for (const [prop, option] of props) {
      const v = take(prop);
      if (v !== undefined && !leaves.some((l) => l.path[1] === option)) leaves.push({ label: v.label, path: [kind, option], value: option === 'users' ? splitAndTrim(v.value) : v.value });
    }
    return leaves;
  };
  const basic = authLeaves('basicAuth', [['traefik.frontend.auth.basic.users', 'users'], ['traefik.frontend.auth.basic', 'users'], ['traefik.frontend.auth.basic.usersfile', 'usersFile'], ['traefik.frontend.auth.basic.removeheader', 'removeHeader']]);
  const digest = authLeaves('digestAuth', [['traefik.frontend.auth.digest.users', 'users'], ['traefik.frontend.auth.digest.usersfile', 'usersFile'], ['traefik.frontend.auth.digest.removeheader', 'removeHeader']]);
  // As in 1.7: basic when it has labels (digest labels beside it are ignored), else digest.
  const authKind = basic.length > 0 || digest.length === 0 ? 'basicAuth' : 'digestAuth';
  const auth = authKind === 'basicAuth' ? basic : digest;
  const headerField = take('traefik.frontend.auth.headerfield');
  if (headerField !== undefined) auth.push({ label: headerField.label, path: [authKind, 'headerField'], value: headerField.value });
  // Without users, the kind's own check says so and the router is disabled.
  add('auth', auth);

  const headers: Leaf[] = [];
  for (const [key, option] of Object.entries(V1_HEADERS)) {
    const v = take(`traefik.frontend.headers.${key}`);
    if (v !== undefined) headers.push({ label: v.label, path: ['headers', option], value: v.value });
  }
  for (const [key, option] of Object.entries(V1_HEADER_LISTS)) {
    const v = take(`traefik.frontend.headers.${key}`);
    if (v !== undefined) headers.push({ label: v.label, path: ['headers', option], value: splitAndTrim(v.value) });
  }
  for (const [key, option] of Object.entries(V1_HEADER_MAPS)) {
    const v = take(`traefik.frontend.headers.${key}`);
    if (v === undefined) continue;
    // "name:value||name:value", as Traefik 1.7 wrote headers in a label.
    for (const pair of v.value.split('||')) {
      const colon = pair.indexOf(':');
      if (colon <= 0) continue;
      headers.push({ label: v.label, path: ['headers', option, pair.slice(0, colon).trim()], value: pair.slice(colon + 1).trim() });
    }
  }
  add('headers', headers);

  const regex = take('traefik.frontend.redirect.regex');
  const replacement = take('traefik.frontend.redirect.replacement');
  const permanent = take('traefik.frontend.redirect.permanent');
  const toEntryPoint = take('traefik.frontend.redirect.entrypoint');
  const perm: Leaf[] = permanent === undefined ? [] : [{ label: permanent.label, path: [regex ? 'redirectRegex' : 'redirectScheme', 'permanent'], value: permanent.value }];
  if (regex !== undefined || replacement !== undefined) {
    add('redirect', [
      ...(regex ? [{ label: regex.label, path: ['redirectRegex', 'regex'], value: regex.value }] : []),
      ...(replacement ? [{ label: replacement.label, path: ['redirectRegex', 'replacement'], value: replacement.value }] : []),
      ...perm,
    ]);
  } else if (toEntryPoint !== undefined) {
    // 1.7 redirected to the entry point's address; HTTPS entry points are on 443 in practice.
    add('redirect', [{ label: toEntryPoint.label, path: ['redirectScheme', 'scheme'], value: 'https' }, ...perm]);
  }

  // Last: 1.7 put the breaker between the frontend's middlewares and the servers. An empty expression made none.
  const breaker = take('traefik.backend.circuitbreaker.expression');
  if (breaker !== undefined && breaker.value.trim() !== '') add('circuitbreaker', [{ label: breaker.label, path: ['circuitBreaker', 'expression'], value: breaker.value }]);
  return { names, labels, handled };
}
