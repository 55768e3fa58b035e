// Traefik router rules compiled to request matchers.
//
//   compileRule("Host(`a.com`) && PathPrefix(`/api`)")          // v3 (default)
//   compileRule("Host(`a.com`,`b.com`)", 'v2')                   // ruleSyntax: v2
//   compileRule("Host:a.com;PathPrefixStrip:/api", 'v1')        // traefik.frontend.rule
import { compileNode, goSpellings, suggest, type SyntaxTable } from './compile.js';
import type { BuildContext, MatcherDef } from './def.js';
import { V2_MATCHERS } from './matchers-v2.js';
import { V3_MATCHERS } from './matchers-v3.js';
import { parseRule } from './parser.js';
import { RuleError, type CompiledRule } from './types.js';
import { V1_MATCHERS, parseV1 } from './v1.js';

export type RuleSyntax = 'v3' | 'v2' | 'v1';

export { RuleError } from './types.js';
export type { CompiledRule, Matcher, RequestView, RuleRewrites } from './types.js';
export { GoRegexpError, compileGoRegexp, translateGoRegexp } from './goregexp.js';
export { routingPath } from './request.js';

// Names that exist in the other syntax, to explain a likely mix-up.
const V2_ONLY: Record<string, string> = { Headers: 'Header', HeadersRegexp: 'HeaderRegexp', HostHeader: 'Host' };
const V3_ONLY = new Set(['Header', 'HeaderRegexp', 'PathRegexp', 'QueryRegexp']);

function goTable(defs: MatcherDef[], otherHint: (name: string) => string): SyntaxTable {
  const names = goSpellings(defs);
  return {
    lookup: (name) => names.get(name),
    hint: (name) => otherHint(name) || suggest(name, defs),
  };
}

const TABLES: Record<RuleSyntax, SyntaxTable> = {
  v3: goTable(V3_MATCHERS, (name) =>
    name in V2_ONLY ? ` ('${name}' is v2 syntax: use '${V2_ONLY[name]}', or set ruleSyntax to v2)` : ''),
  v2: goTable(V2_MATCHERS, (name) => (V3_ONLY.has(name) ? ` ('${name}' needs the v3 rule syntax)` : '')),
  v1: (() => {
    const byLower = new Map(V1_MATCHERS.map((d) => [d.name.toLowerCase(), d]));
    return { lookup: (name) => byLower.get(name.toLowerCase()), hint: (name) => suggest(name, V1_MATCHERS) };
  })(),
};

/**
 * Compiles a router rule. Throws RuleError (with a 0-based position into
 * `rule`) when the rule is malformed or a value is invalid.
 */
export function compileRule(rule: string, syntax: RuleSyntax = 'v3'): CompiledRule {
  const table = TABLES[syntax];
  if (table === undefined) throw new RuleError(`unknown rule syntax '${String(syntax)}' (expected v3, v2 or v1)`, 0);
  const ast = syntax === 'v1' ? parseV1(rule) : parseRule(rule);
  const ctx: BuildContext = { rewrites: {} };
  const built = compileNode(ast, table, ctx);
  const compiled: CompiledRule = { match: built.match, hosts: built.hosts };
  if (Object.keys(ctx.rewrites).length > 0) compiled.rewrites = ctx.rewrites;
  return compiled;
}

/** Traefik's default router priority: the rule's length (in UTF-8 bytes, as Go's len). */
export function defaultPriority(rule: string): number {
  return Buffer.byteLength(rule, 'utf8');
}
