// What Traefik v3's own goldens (integration/testdata/rawdata-*.json) show
// for its internal elements under --api.insecure, shared by the tests that
// compare portero's API with them.

export const OBSERVABILITY = { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' };

export const INTERNAL_ROUTERS = {
  'api@internal': {
    entryPoints: ['traefik'],
    service: 'api@internal',
    rule: 'PathPrefix(`/api`)',
    ruleSyntax: 'default',
    priority: 9223372036854775806n,
    observability: OBSERVABILITY,
    status: 'enabled',
    using: ['traefik'],
  },
  'dashboard@internal': {
    entryPoints: ['traefik'],
    middlewares: ['dashboard_redirect@internal', 'dashboard_stripprefix@internal'],
    service: 'dashboard@internal',
    rule: 'PathPrefix(`/`)',
    ruleSyntax: 'default',
    priority: 9223372036854775805n,
    observability: OBSERVABILITY,
    status: 'enabled',
    using: ['traefik'],
  },
};

export const INTERNAL_MIDDLEWARES = {
  'dashboard_redirect@internal': {
    redirectRegex: { regex: '^(http:\\/\\/(\\[[\\w:.]+\\]|[\\w\\._-]+)(:\\d+)?)\\/$', replacement: '${1}/dashboard/', permanent: true },
    status: 'enabled',
    usedBy: ['dashboard@internal'],
  },
  'dashboard_stripprefix@internal': { stripPrefix: { prefixes: ['/dashboard/', '/dashboard'] }, status: 'enabled', usedBy: ['dashboard@internal'] },
};

export const INTERNAL_SERVICES = {
  'api@internal': { status: 'enabled', usedBy: ['api@internal'] },
  'dashboard@internal': { status: 'enabled', usedBy: ['dashboard@internal'] },
  'noop@internal': { status: 'enabled' },
};

/** JSON with its integers read exactly: int64 priorities do not fit a double. */
export function parseExact(text: string): unknown {
  return JSON.parse(text.replace(/("priority":)(\d{16,})/g, '$1"$2n"'), (_k, v: unknown) =>
    typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  );
}
