// Static configuration from the command line, TRAEFIK_* environment variables
// and an optional YAML config file (--configFile), in Traefik's spellings.
// Precedence: defaults < config file < environment < flags.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import yargs, { type Argv } from 'yargs';
import { ConfigUsageError, HelpRequested } from './errors.js';
import { emptyDraft, FLAG_SPECS, GROUPS, isSectionPath, matchFlag, suggestFlag, type Draft, type FlagMatch } from './flags.js';
import { parseSource, SourceError } from './source.js';
import type { EntryPointConfig, StaticConfig } from './static.js';
import { finalizeObservability, wantsTraefikEntryPoint } from './observability.js';
import { finalizeSwarm } from './swarm.js';
import { finalizeTls } from './tls.js';
import { parseBool, type ListenAddress } from './values.js';
import { finalizeWebSocket } from './websocket.js';

export const DEFAULT_LOG_LEVEL: StaticConfig['log']['level'] = 'error'; // Traefik's default
export const DEFAULT_GRACE_TIMEOUT_MS = 10_000;
/** Traefik v3's respondingTimeouts.readTimeout. */
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
export const ENV_PREFIX = 'TRAEFIK_';
// Wide enough that the longest flag names are not broken mid-word.
const HELP_WIDTH = 130;

/** One value for one setting, from any source. */
interface Setting {
  match: FlagMatch;
  raw: unknown;
  /** How to name the setting in an error: "--entrypoints.web.address", "TRAEFIK_PING", "file.yml:3:7: ping". */
  what: string;
}

/**
 * Builds the static configuration. `argv` excludes node and the script
 * (process.argv.slice(2)). Throws ConfigUsageError on an unknown flag, a bad
 * value or an unreadable config file, and HelpRequested for --help/-h.
 */
export function parseStaticConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StaticConfig {
  const flags = settingsFromArgv(argv);
  const fromEnv = settingsFromEnv(env);
  const configFile = lastValue(flags, 'configFile') ?? lastValue(fromEnv, 'configFile');
  const fromFile = configFile === undefined ? [] : settingsFromFile(configFile);
  const draft = emptyDraft();
  for (const s of [...fromFile, ...fromEnv, ...flags]) s.match.spec.apply(draft, s.raw, s.match.names, s.what);
  return finalize(draft);
}

function lastValue(settings: Setting[], flag: string): string | undefined {
  const draft = emptyDraft();
  for (const s of settings) if (s.match.spec.flag === flag) s.match.spec.apply(draft, s.raw, s.match.names, s.what);
  return draft.configFile;
}

// --- command line ------------------------------------------------------------

function settingsFromArgv(argv: readonly string[]): Setting[] {
  // yargs does the parsing; before that, flag names are rewritten to their
  // canonical spelling so that matching is case-insensitive (as in Traefik)
  // and yargs knows which of them are booleans. Boolean values given with
  // "=" are checked here because yargs would quietly turn "=maybe" into false.
  const args: string[] = [];
  const seen = new Map<string, FlagMatch>();
  const repeated = new Map<string, { match: FlagMatch; values: string[] }>();
  let help = false;
  let firstError: ConfigUsageError | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token === '-h') {
      help = true;
      continue;
    }
    if (!token.startsWith('--') || token.length === 2) {
      args.push(token);
      continue;
    }
    const body = token.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let value = eq < 0 ? undefined : body.slice(eq + 1);
    if (name.toLowerCase() === 'help') {
      help = true;
      continue;
    }
    const match = matchFlag(name.split('.'));
    if (!match) {
      firstError ??= unknownFlag(name);
      continue;
    }
    if (match.spec.type === 'boolean' && value !== undefined) {
      try {
        value = String(parseBool(value, `--${match.key}`));
      } catch (err) {
        firstError ??= err as ConfigUsageError;
        continue;
      }
    }
    if (match.spec.repeatable && value !== undefined) {
      // Every occurrence counts (v1's --entryPoints); yargs would keep the last.
      const r = repeated.get(match.key) ?? { match, values: [] };
      r.values.push(value);
      repeated.set(match.key, r);
      continue;
    }
    seen.set(match.key, match);
    args.push(value === undefined ? `--${match.key}` : `--${match.key}=${value}`);
  }
  args.push(...argv.slice(i));
  if (help) throw new HelpRequested(helpText());
  if (firstError) throw firstError;

  const parser = baseParser(args);
  for (const [key, match] of seen) parser.option(key, { type: match.spec.type, hidden: true });
  const parsed = parser.parseSync() as Record<string, unknown> & { _: (string | number)[] };
  if (parsed._.length > 0) {
    throw new ConfigUsageError(`unexpected argument ${JSON.stringify(String(parsed._[0]))}; flags look like --name=value`);
  }
  const settings: Setting[] = [];
  for (const [key, raw] of Object.entries(parsed)) {
    if (key === '_' || key === '$0' || raw === undefined) continue;
    const match = seen.get(key);
    if (!match) throw unknownFlag(key, key.length === 1 ? '-' : '--');
    settings.push({ match, raw, what: `--${key}` });
  }
  for (const [key, { match, values }] of repeated) settings.push({ match, raw: values, what: `--${key}` });
  return settings;
}

function unknownFlag(name: string, dashes = '--'): ConfigUsageError {
  const suggestion = dashes === '--' ? suggestFlag(name.split('.')) : undefined;
  return new ConfigUsageError(
    `unknown flag ${dashes}${name}` + (suggestion ? ` (did you mean --${suggestion}?)` : ''),
  );
}

function baseParser(args: string[]): Argv {
  return yargs(args)
    .parserConfiguration({
      'dot-notation': false,
      'camel-case-expansion': false,
      'boolean-negation': false,
      'duplicate-arguments-array': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'short-option-groups': false,
      'greedy-arrays': false,
    })
    .help(false)
    .version(false)
    .strict(false)
    .exitProcess(false)
    .fail((message, err) => {
      throw new ConfigUsageError(err?.message ?? message);
    });
}

/** The --help text: every flag with its description and default. */
export function helpText(): string {
  const parser = baseParser([])
    .usage('Usage: portero [flags]\n\nA reverse proxy for Docker Swarm that speaks Traefik\'s configuration.')
    .wrap(HELP_WIDTH);
  parser.option('h', { alias: 'help', type: 'boolean', describe: 'Show this help', group: GROUPS.general });
  for (const spec of FLAG_SPECS) {
    if (spec.hidden) continue;
    parser.option(spec.flag, {
      type: spec.type,
      describe: spec.describe,
      group: spec.group,
      ...(spec.defaultText === undefined ? {} : { defaultDescription: spec.defaultText }),
    });
  }
  parser.epilogue(
    [
      'Flag names are case-insensitive (--entryPoints.web.address = --entrypoints.web.address).',
      'Booleans: --flag, --flag=true, --flag=false. Durations: 10s, 1m30s, 500ms, or a number of seconds.',
      `Every flag can also be set as an environment variable (${ENV_PREFIX}ENTRYPOINTS_WEB_ADDRESS=:80)`,
      'or as a key in the --configFile YAML (entryPoints: {web: {address: ":80"}}).',
      'Flags override environment variables, which override the config file.',
      'The Swarm provider takes one of Traefik\'s spellings: v3 (--providers.swarm), v2 (--providers.docker',
      '--providers.docker.swarmMode=true) or v1 (--docker --docker.swarmMode); setting any of its options enables it.',
    ].join('\n'),
  );
  let text = '';
  parser.showHelp((s: string) => {
    text = s;
  });
  return text;
}

// --- environment ---------------------------------------------------------------

function settingsFromEnv(env: NodeJS.ProcessEnv): Setting[] {
  const settings: Setting[] = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || raw === undefined) continue;
    // Traefik lower-cases variable names, entry point names included.
    const match = matchFlag(key.slice(ENV_PREFIX.length).toLowerCase().split('_'), '_');
    if (!match) throw new ConfigUsageError(`unknown environment variable ${key}`);
    settings.push({ match, raw, what: key });
  }
  return settings;
}

// --- config file ---------------------------------------------------------------

function settingsFromFile(file: string): Setting[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigUsageError(`--configFile: cannot read ${file}: ${(err as Error).message}`);
  }
  let source;
  try {
    source = parseSource(text, file);
  } catch (err) {
    if (err instanceof SourceError) throw new ConfigUsageError(`--configFile: ${err.message}`);
    throw err;
  }
  const settings: Setting[] = [];
  const where = (path: string[]): string => {
    const pos = source.positionOf(path);
    return `${file}${pos ? `:${pos.line}:${pos.column}` : ''}: ${path.join('.')}`;
  };
  const walk = (value: unknown, path: string[]): void => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
      return;
    }
    const match = matchFlag(path);
    const empty = value === null || isPlainObject(value);
    if (!match) {
      // An empty section ("serversTransport: {}") sets nothing.
      if (empty && isSectionPath(path)) return;
      if (isSectionPath(path)) throw new ConfigUsageError(`${where(path)}: expected a mapping`);
      const suggestion = suggestFlag(path);
      throw new ConfigUsageError(`${where(path)}: unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    }
    if (match.spec.notInFile) throw new ConfigUsageError(`${where(path)}: not allowed in the config file`);
    // "ping: {}" or "api:" turns the feature on, as in Traefik's YAML.
    settings.push({ match, raw: empty && match.spec.type === 'boolean' ? true : value, what: where(path) });
  };
  if (source.data === null) return settings;
  if (!isPlainObject(source.data)) throw new ConfigUsageError(`--configFile: ${file}: expected a mapping at the top level`);
  walk(source.data, []);
  return settings;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// --- defaults and cross-checks ---------------------------------------------------

function defineOwn<T>(record: Record<string, T>, key: string, value: T): void {
  // defineProperty, so that a name such as "__proto__" is just a name.
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function makeEntryPoint(name: string, listen: ListenAddress): EntryPointConfig {
  return {
    name,
    address: listen.address,
    host: listen.host,
    port: listen.port,
    trustedIPs: [],
    forwardedHeadersInsecure: false,
    graceTimeoutMs: DEFAULT_GRACE_TIMEOUT_MS,
    readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
    tls: null,
  };
}

function finalize(d: Draft): StaticConfig {
  // Traefik v2/v3: --api makes the api@internal service, --api.insecure also serves it on the traefik
  // entry point. v1 had no api@internal: its --api (the walkthrough's) serves on the entry point.
  const swarm = finalizeSwarm(d.swarm);
  const v1 = swarm?.dialect === 'v1';
  const api = {
    enabled: d.api.enabled === true || d.api.insecure === true,
    insecure: d.api.insecure ?? (d.api.enabled === true && v1),
    dashboard: d.api.dashboard ?? true,
  };
  const ping = d.ping ?? true;

  // v1's --entryPoints='Name:https Address::443 TLS' declares entry points too.
  for (const v1 of d.tls.v1EntryPoints) {
    const key = v1.name.toLowerCase();
    const ep = d.entryPoints.get(key) ?? { name: v1.name };
    ep.listen ??= v1.listen;
    d.entryPoints.set(key, ep);
  }
  const entryPoints: Record<string, EntryPointConfig> = {};
  if (d.entryPoints.size === 0) {
    // Traefik's implicit entry point, only when the user defines none.
    defineOwn(entryPoints, 'web', makeEntryPoint('web', { address: ':80', host: '', port: 80 }));
  }
  for (const ep of d.entryPoints.values()) {
    if (!ep.listen) {
      throw new ConfigUsageError(`entry point "${ep.name}" has no address; set --entrypoints.${ep.name}.address`);
    }
    const config = makeEntryPoint(ep.name, ep.listen);
    config.trustedIPs = ep.trustedIPs ?? [];
    config.forwardedHeadersInsecure = ep.forwardedHeadersInsecure ?? false;
    config.graceTimeoutMs = ep.graceTimeoutMs ?? DEFAULT_GRACE_TIMEOUT_MS;
    config.readTimeoutMs = ep.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    if (ep.middlewares !== undefined && ep.middlewares.length > 0) config.middlewares = ep.middlewares;
    defineOwn(entryPoints, ep.name, config);
  }
  // The API and ping live on the "traefik" entry point, :8080 unless defined.
  const traefikImplicit = !d.entryPoints.has('traefik') && (api.insecure || ping || wantsTraefikEntryPoint(d.observability));
  if (traefikImplicit) {
    defineOwn(entryPoints, 'traefik', makeEntryPoint('traefik', { address: ':8080', host: '', port: 8080 }));
  }
  checkListenConflicts(entryPoints, traefikImplicit);
  const tls = finalizeTls(d.tls, new Map(Object.values(entryPoints).map((e) => [e.name, e.port])));
  for (const e of Object.values(entryPoints)) {
    // The API entry point stays plain HTTP (Traefik serves it on :8080 without TLS too).
    if (e.name !== 'traefik' || d.tls.entryPoints.has('traefik')) e.tls = tls.entryPointTls.get(e.name) ?? null;
    const redirect = tls.redirects.get(e.name);
    if (redirect !== undefined) e.redirect = redirect;
  }
  const observability = finalizeObservability(d.observability, entryPoints);

  const config: StaticConfig = {
    entryPoints,
    providers: {},
    api,
    ping,
    log: { level: d.logLevel ?? DEFAULT_LOG_LEVEL, format: observability.logFormat },
    workers: d.workers ?? availableParallelism(),
    serversTransport: {
      maxIdleConnsPerHost: d.transport.maxIdleConnsPerHost ?? 200,
      maxConnsPerHost: d.transport.maxConnsPerHost ?? 0,
      dialTimeoutMs: d.transport.dialTimeoutMs ?? 30_000,
      responseHeaderTimeoutMs: d.transport.responseHeaderTimeoutMs ?? 0,
      idleConnTimeoutMs: d.transport.idleConnTimeoutMs ?? 90_000,
      readTimeoutMs: d.transport.readTimeoutMs ?? 60_000,
      pipelining: d.transport.pipelining ?? 0,
      insecureSkipVerify: d.transport.insecureSkipVerify ?? false,
      rootCAs: d.transport.rootCAs ?? [],
    },
    websocket: finalizeWebSocket(d.websocket),
    certificatesResolvers: tls.resolvers,
    staticCertificates: tls.staticCertificates,
  };
  if (tls.defaultEntryPoints !== undefined) config.defaultEntryPoints = tls.defaultEntryPoints;
  if (d.fileProvider) {
    const { filename, directory, watch } = d.fileProvider;
    if (filename === undefined && directory === undefined) {
      throw new ConfigUsageError('--providers.file needs --providers.file.filename or --providers.file.directory');
    }
    if (filename !== undefined && directory !== undefined) {
      throw new ConfigUsageError('--providers.file.filename and --providers.file.directory cannot both be set');
    }
    config.providers.file = { ...(filename === undefined ? { directory } : { filename }), watch: watch ?? true };
  }
  if (observability.prometheus) config.metrics = { prometheus: observability.prometheus };
  if (observability.accessLog) config.accessLog = observability.accessLog;
  if (swarm) config.providers.swarm = swarm;
  if (d.configFile !== undefined) config.configFile = d.configFile;
  if (d.ignored.size > 0) config.warnings = [...d.ignored.values()];
  checkEntryPointMiddlewares(config);
  return config;
}

/**
 * Refuses middlewares on the entry points portero answers itself, without
 * routers (the API, ping, a metrics-only one): Traefik would run them there,
 * and an auth middleware quietly left off the dashboard would expose it.
 */
function checkEntryPointMiddlewares(config: StaticConfig): void {
  const metricsOnly = config.metrics?.prometheus?.entryPoint;
  for (const ep of Object.values(config.entryPoints)) {
    if (ep.middlewares === undefined || (ep.name !== 'traefik' && ep.name !== metricsOnly)) continue;
    throw new ConfigUsageError(
      `--entrypoints.${ep.name}.http.middlewares: portero answers the ${ep.name} entry point itself (API, dashboard, ping, metrics), without routers, so no middleware can run there;` +
        ' to put middlewares in front of the API, serve it through a router with service api@internal on another entry point',
    );
  }
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

function checkListenConflicts(entryPoints: Record<string, EntryPointConfig>, traefikImplicit: boolean): void {
  const list = Object.values(entryPoints);
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      if (a.port === 0 || a.port !== b.port) continue;
      if (a.host !== b.host && !WILDCARD_HOSTS.has(a.host) && !WILDCARD_HOSTS.has(b.host)) continue;
      let message = `entry points "${a.name}" (${a.address}) and "${b.name}" (${b.address}) listen on the same port`;
      if (traefikImplicit && (a.name === 'traefik' || b.name === 'traefik')) {
        message +=
          '; the traefik entry point serves the API and ping on :8080 by default:' +
          ' move it with --entrypoints.traefik.address or turn it off with --ping=false';
      }
      throw new ConfigUsageError(message);
    }
  }
}

// --- for the CLI entry point ---------------------------------------------------------

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * For main(): the configuration, or the exit code after printing --help
 * (0, to stdout) or the usage error (2, to stderr). Warnings about ignored
 * settings go to stderr.
 */
export function staticConfigForCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: CliOutput = processOutput,
): { config: StaticConfig } | { exitCode: number } {
  try {
    const config = parseStaticConfig(argv, env);
    for (const warning of config.warnings ?? []) out.stderr(`portero: warning: ${warning}\n`);
    return { config };
  } catch (err) {
    if (err instanceof HelpRequested) {
      out.stdout(err.text + '\n');
      return { exitCode: 0 };
    }
    if (err instanceof ConfigUsageError) {
      out.stderr(`portero: ${err.message}\nRun "portero --help" to list the flags.\n`);
      return { exitCode: err.exitCode };
    }
    throw err;
  }
}
