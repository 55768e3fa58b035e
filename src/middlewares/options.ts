// Reading a middleware's options as Traefik does: keys in any case, values
// from files (typed) or labels (strings, lists as comma-separated text).
import { parseDuration } from '../config/values.js';
import { MiddlewareError } from './types.js';

export type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The options mapping, its keys matched against `known` ignoring case; unknown keys are errors naming the kind. */
export function options(raw: unknown, kind: string, known: readonly string[]): Map<string, unknown> {
  if (raw === null || raw === undefined || raw === '') return new Map();
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new MiddlewareError(`${kind} must be a mapping, got ${describe(raw)}`);
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(raw as Obj)) {
    const canonical = known.find((k) => k.toLowerCase() === key.toLowerCase());
    if (canonical === undefined) throw new MiddlewareError(`${kind}: unknown option ${JSON.stringify(key)} (expected ${known.join(', ')})`);
    out.set(canonical, value);
  }
  return out;
}

export function text(v: unknown, at: string, allowEmpty = false): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string' || (!allowEmpty && v.trim() === '')) throw new MiddlewareError(`${at} must be a non-empty string, got ${describe(v)}`);
  return v;
}

export function bool(v: unknown, at: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^\s*(true|false)\s*$/i.test(v)) return v.trim().toLowerCase() === 'true';
  throw new MiddlewareError(`${at} must be true or false, got ${describe(v)}`);
}

export function int(v: unknown, at: string, min: number): number {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new MiddlewareError(`${at} must be an integer >= ${min}, got ${describe(v)}`);
  return n;
}

/** A list: a YAML list, or labels' comma-separated text (empty items dropped). */
export function list(v: unknown, at: string): string[] {
  if (Array.isArray(v)) return v.map((x, i) => text(x, `${at}[${i}]`).trim());
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  throw new MiddlewareError(`${at} must be a list, got ${describe(v)}`);
}

/** A mapping of header names to values; an empty value means "remove". */
export function headerMap(v: unknown, at: string): [string, string][] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MiddlewareError(`${at} must be a mapping of header names to values, got ${describe(v)}`);
  return Object.entries(v as Obj).map(([name, value]) => [headerName(name, `${at}`), headerValue(value ?? '', `${at}.${name}`)]);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function headerName(name: string, at: string): string {
  if (!TOKEN.test(name)) throw new MiddlewareError(`${at}: ${JSON.stringify(name)} is not a valid header name`);
  return name;
}

/** A header value on one line: CR, LF and NUL would split or smuggle headers. */
export function headerValue(v: unknown, at: string): string {
  const s = text(v, at, true);
  if (/[\r\n\0]/.test(s)) throw new MiddlewareError(`${at} must not contain CR, LF or NUL`);
  return s.trim();
}

export function durationMs(v: unknown, at: string): number {
  try {
    return parseDuration(v, at);
  } catch {
    throw new MiddlewareError(`${at} must be a duration such as 100ms or 1s, got ${describe(v)}`);
  }
}
