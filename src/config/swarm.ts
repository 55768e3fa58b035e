// The Swarm provider's static settings, in the three spellings Traefik has
// used for it:
//   v3  --providers.swarm, --providers.swarm.<option>
//   v2  --providers.docker --providers.docker.swarmMode=true, --providers.docker.<option>
//   v1  --docker --docker.swarmMode, --docker.<option>
// Each spelling fills its own draft; finalizeSwarm() checks that only one is
// in use and turns it into SwarmStaticConfig. As in Traefik, setting any
// option of a provider enables it (paerser in v2/v3 allocates the provider
// when a child is set; flaeg in v1 does the same for a pointer whose
// sub-flag is given).
import { ConfigUsageError } from './errors.js';
import type { FlagSpec as FlagRow } from './flag-spec.js';
import type { SwarmDialect, SwarmStaticConfig } from './static.js';
import { parseBool, parseDockerEndpoint, parseDuration, parseText } from './values.js';

export const DEFAULT_SWARM_ENDPOINT = 'unix:///var/run/docker.sock';
export const DEFAULT_SWARM_RULE = 'Host(`{{ normalize .Name }}`)';
/** Portero polls tasks every second; Traefik's default is 15s. */
export const DEFAULT_SWARM_REFRESH_SECONDS = 1;
/** The service label v1 constraints match against. */
export const V1_TAGS_LABEL = 'traefik.tags';

/** What one spelling has set so far. */
export interface SwarmDraft {
  /** The first setting seen in this spelling, for messages. */
  firstSeen: string;
  /** Last value of the bare enabling flag (--providers.swarm=false turns it off). */
  enabled?: boolean;
  /** Whether any option other than the enabling flag was set. */
  hasOptions: boolean;
  /** v1 and v2: portero needs it true. */
  swarmMode?: boolean;
  endpoint?: string;
  exposedByDefault?: boolean;
  network?: string;
  refreshSeconds?: number;
  /** v2 and v3. */
  defaultRule?: string;
  /** v1: services without a rule get Host(`<name>.<domain>`). */
  domain?: string;
  /** A v2/v3 label expression (v1 constraints are translated on input). */
  constraints?: string;
  watch?: boolean;
}

export type SwarmDrafts = Partial<Record<SwarmDialect, SwarmDraft>>;

/** The part of flags.ts's Draft the Swarm rows fill in. */
interface Draft {
  swarm: SwarmDrafts;
}
type FlagSpec = FlagRow<Draft>;

export const SWARM_GROUPS = {
  v3: 'Swarm provider, Traefik v3 spelling:',
  v2: 'Swarm provider, Traefik v2 spelling (needs --providers.docker.swarmMode=true):',
  v1: 'Swarm provider, Traefik v1 spelling (needs --docker.swarmMode):',
} as const;

/** Each spelling's enabling flag, which is also the prefix of its options. */
const ENABLE_FLAG: Record<SwarmDialect, string> = {
  v3: 'providers.swarm',
  v2: 'providers.docker',
  v1: 'docker',
};

function draftFor(d: Draft, dialect: SwarmDialect, what: string): SwarmDraft {
  return (d.swarm[dialect] ??= { firstSeen: what, hasOptions: false });
}

/** A row for one option of one spelling. */
function option(
  dialect: SwarmDialect,
  name: string,
  type: FlagSpec['type'],
  describe: string,
  set: (s: SwarmDraft, raw: unknown, what: string) => void,
  defaultText?: string,
): FlagSpec {
  return {
    flag: `${ENABLE_FLAG[dialect]}.${name}`,
    type,
    group: SWARM_GROUPS[dialect],
    describe,
    ...(defaultText === undefined ? {} : { defaultText }),
    apply: (d, raw, _n, what) => {
      const s = draftFor(d, dialect, what);
      set(s, raw, what);
      s.hasOptions = true;
    },
  };
}

function enableRow(dialect: SwarmDialect, describe: string): FlagSpec {
  return {
    flag: ENABLE_FLAG[dialect],
    type: 'boolean',
    group: SWARM_GROUPS[dialect],
    describe,
    apply: (d, raw, _n, what) => {
      draftFor(d, dialect, what).enabled = parseBool(raw, what);
    },
  };
}

/** The options all three spellings share, under their names in `dialect`. */
function commonRows(dialect: SwarmDialect, refreshName: string): FlagSpec[] {
  return [
    option(
      dialect,
      'endpoint',
      'string',
      'Docker API endpoint: unix:///path/to/docker.sock or tcp://host:port (http:// is taken as tcp://)',
      (s, raw, what) => {
        s.endpoint = parseDockerEndpoint(raw, what);
      },
      DEFAULT_SWARM_ENDPOINT,
    ),
    option(
      dialect,
      'exposedByDefault',
      'boolean',
      'Route services that have no traefik.enable label (false: only traefik.enable=true ones)',
      (s, raw, what) => {
        s.exposedByDefault = parseBool(raw, what);
      },
      'true',
    ),
    option(dialect, 'network', 'string', "Network whose task addresses are used (a service's network label overrides it)", (s, raw, what) => {
      s.network = parseText(raw, what);
    }),
    option(
      dialect,
      refreshName,
      'string',
      'How often Swarm tasks are polled: a duration (500ms, 2s) or a number of seconds',
      (s, raw, what) => {
        s.refreshSeconds = parseRefresh(raw, what);
      },
      `${DEFAULT_SWARM_REFRESH_SECONDS}s (Traefik: 15s)`,
    ),
    option(
      dialect,
      'watch',
      'boolean',
      'Follow changes in the swarm (false: read the services once at start)',
      (s, raw, what) => {
        s.watch = parseBool(raw, what);
      },
      'true',
    ),
  ];
}

function swarmModeRow(dialect: 'v1' | 'v2', describe: string): FlagSpec {
  return option(dialect, 'swarmMode', 'boolean', describe, (s, raw, what) => {
    s.swarmMode = parseBool(raw, what);
  });
}

function v2v3Rows(dialect: 'v2' | 'v3'): FlagSpec[] {
  return [
    option(
      dialect,
      'defaultRule',
      'string',
      'Rule (Go template) for services without a router rule label',
      (s, raw, what) => {
        s.defaultRule = parseText(raw, what);
      },
      DEFAULT_SWARM_RULE,
    ),
    option(
      dialect,
      'constraints',
      'string',
      'Only services whose labels match, e.g. "Label(`a`,`b`) && !LabelRegex(`c`,`x.*`)"',
      (s, raw, what) => {
        s.constraints = parseText(raw, what);
      },
    ),
  ];
}

export const SWARM_FLAG_SPECS: readonly FlagSpec[] = [
  enableRow('v3', 'Enable the Swarm provider (any --providers.swarm.* option also enables it)'),
  ...commonRows('v3', 'refreshSeconds'),
  ...v2v3Rows('v3'),

  enableRow('v2', 'Enable the Docker provider; portero needs it in swarm mode (any option also enables it)'),
  swarmModeRow('v2', 'Read Swarm services (required: portero does not watch standalone containers)'),
  ...commonRows('v2', 'swarmModeRefreshSeconds'),
  ...v2v3Rows('v2'),

  enableRow('v1', 'Enable the Docker provider; portero needs it in swarm mode (any --docker.* option also enables it)'),
  swarmModeRow('v1', 'Read Swarm services (required: portero does not watch standalone containers)'),
  ...commonRows('v1', 'swarmModeRefreshSeconds'),
  option('v1', 'domain', 'string', "Services without a rule label get Host(`{{ normalize .Name }}.<domain>`) (v1's Host:<name>.<domain>)", (s, raw, what) => {
    s.domain = parseDomain(raw, what);
  }),
  option(
    'v1',
    'constraints',
    'string',
    `Only services whose ${V1_TAGS_LABEL} label matches: tag==api, tag!=internal, tag==us-*; comma-separated, all must hold`,
    (s, raw, what) => {
      s.constraints = translateV1Constraints(raw, what);
    },
  ),
];

function parseRefresh(raw: unknown, what: string): number {
  const ms = parseDuration(raw, what);
  if (!(ms > 0)) throw new ConfigUsageError(`${what}: must be more than 0, got ${JSON.stringify(raw)}`);
  return ms / 1000;
}

// Letters, digits, "-" and "_" in dot-separated labels: it ends up inside a
// rule template, so backquotes and braces must not get through.
const DOMAIN = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/i;

function parseDomain(raw: unknown, what: string): string {
  const text = parseText(raw, what).replace(/\.$/, '');
  if (!DOMAIN.test(text)) throw new ConfigUsageError(`${what}: invalid domain ${JSON.stringify(raw)}`);
  return text;
}

const GO_REGEXP_SPECIAL = /[\\.+*?()|[\]{}^$]/g;

/**
 * Traefik v1 constraints ("tag==api,tag!=us-*") as a v2 label expression.
 * In v1 a service's tags are its traefik.tags label split on commas, each
 * trimmed, empty ones dropped; `tag==G` holds when some tag matches the glob
 * G (only `*` is special) and `tag!=G` when none does; every constraint
 * must hold. Each becomes a LabelRegex on traefik.tags that finds a
 * comma-delimited item matching G.
 */
export function translateV1Constraints(raw: unknown, what: string): string {
  const text = parseText(raw, what);
  const usage = 'v1 constraints look like tag==api or tag!=us-*, comma-separated';
  if (/Label(Regex)?\s*\(/.test(text)) {
    throw new ConfigUsageError(
      `${what}: ${JSON.stringify(text)} is a Traefik v2/v3 label expression, which the v1 spelling does not take` +
        ` (${usage}); use --providers.swarm.constraints instead`,
    );
  }
  const parts: string[] = [];
  for (const item of text.split(',')) {
    const exp = item.trim();
    // v1 checks "==" first, so "tag!=a==b" is a "==" constraint on key "tag!".
    const eq = exp.indexOf('==');
    const ne = exp.indexOf('!=');
    const [at, negate] = eq >= 0 ? [eq, false] : ne >= 0 ? [ne, true] : [-1, false];
    if (at < 0) throw new ConfigUsageError(`${what}: ${JSON.stringify(exp)} has no == or != (${usage})`);
    const key = exp.slice(0, at).trim();
    const glob = exp.slice(at + 2).trim();
    if (key !== 'tag') throw new ConfigUsageError(`${what}: ${JSON.stringify(exp)}: only tag constraints exist (${usage})`);
    if (glob === '') throw new ConfigUsageError(`${what}: ${JSON.stringify(exp)} needs a tag pattern (${usage})`);
    if (glob.includes('`')) throw new ConfigUsageError(`${what}: ${JSON.stringify(exp)}: backquotes are not supported in tag patterns`);
    // A tag never contains a comma and, once trimmed, is not blank.
    const pattern = /^\*+$/.test(glob)
      ? '[^,]*[^,\\s][^,]*'
      : glob
          .split('*')
          .map((lit) => lit.replace(GO_REGEXP_SPECIAL, '\\$&'))
          .join('[^,]*');
    const test = `LabelRegex(\`${V1_TAGS_LABEL}\`, \`(^|,)\\s*${pattern}\\s*(,|$)\`)`;
    parts.push(negate ? `!${test}` : test);
  }
  return parts.join(' && ');
}

const DIALECT_NAME: Record<SwarmDialect, string> = { v1: 'Traefik v1', v2: 'Traefik v2', v3: 'Traefik v3' };

function isActive(dialect: SwarmDialect, s: SwarmDraft): boolean {
  // paerser (v2, v3): "--providers.swarm=false" disables the provider even
  // if options are set. flaeg (v1): any sub-flag sets the pointer anyway.
  if (dialect === 'v1') return s.enabled !== false || s.hasOptions;
  return s.enabled !== false;
}

/** The Swarm provider's settings, or undefined when no spelling enables it. */
export function finalizeSwarm(drafts: SwarmDrafts): SwarmStaticConfig | undefined {
  const active = (['v3', 'v2', 'v1'] as const).filter((v) => drafts[v] !== undefined && isActive(v, drafts[v]));
  if (active.length === 0) return undefined;
  if (active.length > 1) {
    const named = active.map((v) => `${drafts[v]!.firstSeen} (${DIALECT_NAME[v]})`);
    throw new ConfigUsageError(
      `${named.join(' and ')} both configure the Swarm provider; use one spelling` +
        ' (--providers.swarm.*, --providers.docker.* or --docker.*)',
    );
  }
  const dialect = active[0]!;
  const s = drafts[dialect]!;
  if (dialect !== 'v3' && s.swarmMode !== true) {
    const add = dialect === 'v1' ? '--docker.swarmMode' : '--providers.docker.swarmMode=true';
    throw new ConfigUsageError(
      `${s.firstSeen}: portero serves Docker Swarm services only and does not watch standalone containers;` +
        ` add ${add}${dialect === 'v2' ? ' (or use --providers.swarm)' : ''}`,
    );
  }
  let defaultRule = s.defaultRule ?? DEFAULT_SWARM_RULE;
  if (dialect === 'v1' && s.domain !== undefined) defaultRule = `Host(\`{{ normalize .Name }}.${s.domain}\`)`;
  const config: SwarmStaticConfig = {
    endpoint: s.endpoint ?? DEFAULT_SWARM_ENDPOINT,
    exposedByDefault: s.exposedByDefault ?? true,
    refreshSeconds: s.refreshSeconds ?? DEFAULT_SWARM_REFRESH_SECONDS,
    defaultRule,
    watch: s.watch ?? true,
    dialect,
  };
  if (s.network !== undefined) config.network = s.network;
  if (s.constraints !== undefined) config.constraints = s.constraints;
  return config;
}
