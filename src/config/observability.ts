// Static settings for what portero reports about itself: the log format,
// Prometheus metrics and the access log, in Traefik's spellings. As with
// Traefik, setting any option of a section enables it (--accesslog.filepath=x
// alone turns the access log on); an explicit --accesslog=false wins.
import { ConfigUsageError } from './errors.js';
import type { FlagSpec as FlagRow } from './flag-spec.js';
import type { AccessLogConfig, AccessLogFormat, EntryPointConfig, LogFormat, PrometheusConfig } from './static.js';
import { parseBool, parseInteger, parseText } from './values.js';

export const DEFAULT_BUCKETS: readonly number[] = [0.1, 0.3, 1.2, 5.0];
export const DEFAULT_METRICS_ENTRY_POINT = 'traefik';

export interface ObservabilityDraft {
  logFormat?: LogFormat;
  prometheus?: {
    enabled?: boolean;
    hasOptions?: boolean;
    entryPoint?: string;
    buckets?: number[];
    addEntryPointsLabels?: boolean;
    addServicesLabels?: boolean;
  };
  accessLog?: {
    enabled?: boolean;
    hasOptions?: boolean;
    format?: AccessLogFormat;
    filePath?: string;
    bufferingSize?: number;
  };
}

/** The part of flags.ts's Draft these rows fill in. */
interface Draft {
  observability: ObservabilityDraft;
  /** Accepted-but-ignored settings in effect: flag -> warning. */
  ignored: Map<string, string>;
}
type FlagSpec = FlagRow<Draft>;

const GROUP_LOG = 'Logs:';
const GROUP_METRICS = 'Metrics:';
// flags.ts's GROUPS.ignored (not imported: flags.ts imports this module).
const GROUP_IGNORED = 'Accepted for compatibility and ignored:';

function pick<T extends string>(raw: unknown, what: string, allowed: readonly T[]): T {
  const text = parseText(raw, what);
  const found = allowed.find((a) => a.toLowerCase() === text.toLowerCase());
  if (found === undefined) throw new ConfigUsageError(`${what}: invalid value ${JSON.stringify(text)} (use ${allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}` : allowed[0]})`);
  return found;
}

/** "0.1,0.3,1.2,5.0", or a YAML list of numbers: positive, finite, strictly increasing. */
export function parseBuckets(raw: unknown, what: string): number[] {
  const parts: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'number' ? [raw] : parseText(raw, what).split(',');
  const out = parts.map((p) => {
    const n = typeof p === 'number' ? p : typeof p === 'string' && p.trim() !== '' ? Number(p.trim()) : NaN;
    if (!Number.isFinite(n) || n <= 0) throw new ConfigUsageError(`${what}: invalid bucket ${JSON.stringify(p)} (use positive numbers of seconds, e.g. 0.1,0.3,1.2,5.0)`);
    return n;
  });
  if (out.length === 0) throw new ConfigUsageError(`${what}: needs at least one bucket`);
  for (let i = 1; i < out.length; i++) {
    if (out[i]! <= out[i - 1]!) throw new ConfigUsageError(`${what}: buckets must be in increasing order (${out[i - 1]} then ${out[i]})`);
  }
  return out;
}

function prom(d: Draft): NonNullable<ObservabilityDraft['prometheus']> {
  return (d.observability.prometheus ??= {});
}

function access(d: Draft): NonNullable<ObservabilityDraft['accessLog']> {
  return (d.observability.accessLog ??= {});
}

function promOption(name: string, type: FlagSpec['type'], describe: string, defaultText: string, set: (p: NonNullable<ObservabilityDraft['prometheus']>, raw: unknown, what: string) => void): FlagSpec {
  return {
    flag: `metrics.prometheus.${name}`,
    type,
    group: GROUP_METRICS,
    describe,
    defaultText,
    apply: (d, raw, _n, what) => {
      const p = prom(d);
      p.hasOptions = true;
      set(p, raw, what);
    },
  };
}

function accessOption(name: string, type: FlagSpec['type'], describe: string, defaultText: string, set: (a: NonNullable<ObservabilityDraft['accessLog']>, raw: unknown, what: string) => void): FlagSpec {
  return {
    flag: `accessLog.${name}`,
    type,
    group: GROUP_LOG,
    describe,
    defaultText,
    apply: (d, raw, _n, what) => {
      const a = access(d);
      a.hasOptions = true;
      set(a, raw, what);
    },
  };
}

export const OBSERVABILITY_FLAG_SPECS: readonly FlagSpec[] = [
  {
    flag: 'log.format',
    type: 'string',
    group: GROUP_LOG,
    describe: 'Log format on stderr: common (one readable line per event) or json (one JSON object per line)',
    defaultText: 'common',
    apply: (d, raw, _n, what) => {
      d.observability.logFormat = pick(raw, what, ['common', 'json'] as const);
    },
  },
  {
    flag: 'accessLog',
    type: 'boolean',
    group: GROUP_LOG,
    describe: 'Write an access log line for every request',
    defaultText: 'false',
    apply: (d, raw, _n, what) => {
      access(d).enabled = parseBool(raw, what);
    },
  },
  accessOption('filePath', 'string', 'Access log file (appended to)', 'stdout', (a, raw, what) => {
    a.filePath = parseText(raw, what);
  }),
  accessOption('format', 'string', 'Access log format: common (Traefik\'s CLF line), genericCLF (plain CLF) or json', 'common', (a, raw, what) => {
    a.format = pick(raw, what, ['common', 'genericCLF', 'json'] as const);
  }),
  accessOption('bufferingSize', 'string', 'Access log lines kept in memory before they are written (0: write as they come)', '0', (a, raw, what) => {
    a.bufferingSize = parseInteger(raw, what, 0);
  }),
  {
    flag: 'metrics.prometheus',
    type: 'boolean',
    group: GROUP_METRICS,
    describe: 'Serve Prometheus metrics at /metrics on the metrics entry point',
    defaultText: 'false',
    apply: (d, raw, _n, what) => {
      prom(d).enabled = parseBool(raw, what);
    },
  },
  promOption('entryPoint', 'string', 'Entry point serving /metrics (one other than traefik answers /metrics only)', DEFAULT_METRICS_ENTRY_POINT, (p, raw, what) => {
    p.entryPoint = parseText(raw, what);
  }),
  promOption('buckets', 'string', 'Latency histogram buckets, in seconds', DEFAULT_BUCKETS.join(','), (p, raw, what) => {
    p.buckets = parseBuckets(raw, what);
  }),
  promOption('addEntryPointsLabels', 'boolean', 'Report request metrics per entry point', 'true', (p, raw, what) => {
    p.addEntryPointsLabels = parseBool(raw, what);
  }),
  promOption('addServicesLabels', 'boolean', 'Report request metrics per service', 'true', (p, raw, what) => {
    p.addServicesLabels = parseBool(raw, what);
  }),
  {
    flag: 'metrics.prometheus.addRoutersLabels',
    type: 'boolean',
    group: GROUP_IGNORED,
    describe: 'Traefik reports request metrics per router; portero does not yet',
    apply: (d, raw, _n, what) => {
      prom(d).hasOptions = true;
      if (parseBool(raw, what)) d.ignored.set('metrics.prometheus.addRoutersLabels', `${what} is ignored: portero has no per-router metrics yet`);
      else d.ignored.delete('metrics.prometheus.addRoutersLabels');
    },
  },
  // Access log filters and field selection, common in Traefik stack files:
  // accepted (so those stacks start) and ignored, with a warning.
  ...[
    'accessLog.filters.statusCodes',
    'accessLog.filters.retryAttempts',
    'accessLog.filters.minDuration',
    'accessLog.fields.defaultMode',
    'accessLog.fields.names.<name>',
    'accessLog.fields.headers.defaultMode',
    'accessLog.fields.headers.names.<name>',
  ].map(
    (flag): FlagSpec => ({
      flag,
      type: 'string',
      group: GROUP_IGNORED,
      describe: 'Not supported yet: every request is logged with the default fields',
      apply: (d, _raw, names, what) => {
        access(d).hasOptions = true;
        d.ignored.set(flag.replace('<name>', names[0] ?? ''), `${what} is ignored: portero logs every request with the default fields`);
      },
    }),
  ),
];

export interface ObservabilityConfig {
  logFormat: LogFormat;
  prometheus?: PrometheusConfig;
  accessLog?: AccessLogConfig;
}

/** Whether --metrics.prometheus asks for the implicit `traefik` entry point. */
export function wantsTraefikEntryPoint(d: ObservabilityDraft): boolean {
  const p = d.prometheus;
  return p !== undefined && (p.enabled ?? p.hasOptions === true) && (p.entryPoint ?? DEFAULT_METRICS_ENTRY_POINT) === DEFAULT_METRICS_ENTRY_POINT;
}

export function finalizeObservability(d: ObservabilityDraft, entryPoints: Record<string, EntryPointConfig>): ObservabilityConfig {
  const out: ObservabilityConfig = { logFormat: d.logFormat ?? 'common' };
  const p = d.prometheus;
  if (p !== undefined && (p.enabled ?? p.hasOptions === true)) {
    const entryPoint = p.entryPoint ?? DEFAULT_METRICS_ENTRY_POINT;
    const found = Object.keys(entryPoints).find((n) => n.toLowerCase() === entryPoint.toLowerCase());
    if (found === undefined) {
      throw new ConfigUsageError(
        `--metrics.prometheus.entryPoint: no entry point named ${JSON.stringify(entryPoint)}; define it with --entrypoints.${entryPoint}.address`,
      );
    }
    out.prometheus = {
      entryPoint: found,
      buckets: p.buckets ?? [...DEFAULT_BUCKETS],
      addEntryPointsLabels: p.addEntryPointsLabels ?? true,
      addServicesLabels: p.addServicesLabels ?? true,
    };
  }
  const a = d.accessLog;
  if (a !== undefined && (a.enabled ?? a.hasOptions === true)) {
    out.accessLog = { format: a.format ?? 'common', bufferingSize: a.bufferingSize ?? 0, ...(a.filePath === undefined ? {} : { filePath: a.filePath }) };
  }
  return out;
}
