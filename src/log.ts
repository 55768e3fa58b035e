// Logging: pino on stderr. Stdout stays free for --help, for whatever a
// wrapper script wants to print, and for the access log.
// --log.format=common (the default, as in Traefik) writes one readable line
// per event: `2026-11-26T03:06:21Z ERR message key=value`; json writes pino's
// JSON lines unchanged.
import { writeSync } from 'node:fs';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export type LogLevel = LevelWithSilent;
export type LogFormat = 'common' | 'json';

const LEVEL_TAGS: Record<number, string> = { 10: 'TRC', 20: 'DBG', 30: 'INF', 40: 'WRN', 50: 'ERR', 60: 'FTL' };
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') {
    // pino's err serializer: the message says it; the stack is for json.
    const e = v as { type?: unknown; message?: unknown; stack?: unknown };
    if (typeof e.message === 'string' && typeof e.stack === 'string') return JSON.stringify(e.message);
  }
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as a common-format line (without the newline). */
export function commonLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
  const level = LEVEL_TAGS[o.level as number] ?? String(o.level);
  let line = `${time} ${level} ${typeof o.msg === 'string' ? o.msg : ''}`;
  for (const [k, v] of Object.entries(o)) {
    if (OMITTED.has(k) || v === undefined) continue;
    line += ` ${k}=${fieldValue(v)}`;
  }
  return line;
}

/** Writes each event on fd 2 as it comes (sync: a proxy that crashes must not lose its last lines). */
const commonDestination = {
  write(chunk: string): void {
    let out = '';
    for (const json of chunk.split('\n')) if (json !== '') out += `${commonLogLine(json)}\n`;
    writeSync(2, out);
  },
};

/** A logger writing to stderr (fd 2) at `level`, in `format`. */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'json'): Logger {
  if (format === 'common') return pino({ level }, commonDestination);
  // sync: a proxy that crashes or exits must not lose its last lines.
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** The process-wide logger; its level follows `--log.level` via setLogLevel. */
export const log: Logger = createLogger('info');

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}
