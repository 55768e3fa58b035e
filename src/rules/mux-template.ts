// gorilla/mux route templates as Traefik v2 (and v1) use them:
// "/articles/{cat:[a-z]+}/{id}" — literal text plus {name} / {name:regexp}
// variables, turned into one anchored regexp (host templates ignore case).
import { compileGoRegexp, quoteMeta } from './goregexp.js';

export type TemplateKind = 'host' | 'path' | 'prefix' | 'query';

const DEFAULT_PATTERN: Record<TemplateKind, string> = {
  host: '[^.]+',
  path: '[^/]+',
  prefix: '[^/]+',
  query: '.*',
};

/** Start/end offsets of top-level {...} groups; throws on unbalanced braces. */
function braceIndices(tpl: string): number[] {
  const idxs: number[] = [];
  let level = 0;
  let start = 0;
  for (let i = 0; i < tpl.length; i++) {
    if (tpl[i] === '{') {
      if (++level === 1) start = i;
    } else if (tpl[i] === '}') {
      if (--level === 0) idxs.push(start, i + 1);
      else if (level < 0) throw new Error(`unbalanced braces in "${tpl}"`);
    }
  }
  if (level !== 0) throw new Error(`unbalanced braces in "${tpl}"`);
  return idxs;
}

/**
 * The Go regexp source for a template (exported for tests). Errors are plain
 * Errors with mux's wording; the caller turns them into RuleErrors.
 */
export function templateSource(tpl: string, kind: TemplateKind): string {
  if ((kind === 'path' || kind === 'prefix') && !tpl.startsWith('/')) {
    throw new Error(`path must start with a slash, got "${tpl}"`);
  }
  const idxs = braceIndices(tpl);
  let pattern = kind === 'host' ? '(?i)^' : '^';
  let end = 0;
  for (let k = 0; k < idxs.length; k += 2) {
    const inner = tpl.slice(idxs[k] + 1, idxs[k + 1] - 1);
    const colon = inner.indexOf(':');
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const patt = colon < 0 ? DEFAULT_PATTERN[kind] : inner.slice(colon + 1);
    if (name === '' || patt === '') throw new Error(`missing name or pattern in "${tpl.slice(idxs[k], idxs[k + 1])}"`);
    pattern += `${quoteMeta(tpl.slice(end, idxs[k]))}(${patt})`;
    end = idxs[k + 1];
  }
  pattern += quoteMeta(tpl.slice(end));
  // Query templates are "key=value"; an empty value matches any value.
  if (kind === 'query' && tpl.slice(tpl.indexOf('=') + 1) === '') pattern += DEFAULT_PATTERN.query;
  if (kind !== 'prefix') pattern += '$';
  return pattern;
}

export function compileTemplate(tpl: string, kind: TemplateKind): RegExp {
  return compileGoRegexp(templateSource(tpl, kind));
}
