// AST -> closures. Resolves matcher names against a syntax's table, checks
// argument counts, and derives the host set used by the worker's hash index.
import { allOf, anyOf, fail, type Built, type BuildContext, type MatcherDef } from './def.js';
import type { Node } from './parser.js';

export interface SyntaxTable {
  lookup(name: string): MatcherDef | undefined;
  /** Extra hint for an unknown name, e.g. " (did you mean 'Host'?)". */
  hint(name: string): string;
}

/** Traefik accepts Name, name, NAME and Name-title-cased (e.g. "Pathprefix"). */
export function goSpellings(defs: MatcherDef[]): Map<string, MatcherDef> {
  const map = new Map<string, MatcherDef>();
  for (const d of defs) {
    const lower = d.name.toLowerCase();
    for (const n of [d.name, lower, d.name.toUpperCase(), lower[0].toUpperCase() + lower.slice(1)]) map.set(n, d);
  }
  return map;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** " (did you mean 'X'?)" for a same-but-case or near-miss name, else "". */
export function suggest(name: string, defs: MatcherDef[]): string {
  const lower = name.toLowerCase();
  let best: MatcherDef | undefined;
  let bestDistance = 3;
  for (const d of defs) {
    const dist = distance(lower, d.name.toLowerCase());
    if (dist < bestDistance) {
      best = d;
      bestDistance = dist;
    }
  }
  return best ? ` (did you mean '${best.name}'?)` : '';
}

function argsDescription(d: MatcherDef): string {
  const plural = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;
  if (d.maxArgs === Number.POSITIVE_INFINITY) return `at least ${plural(d.minArgs)}`;
  if (d.minArgs === d.maxArgs) return plural(d.minArgs);
  return `${d.minArgs} or ${plural(d.maxArgs)}`;
}

/** The operands of a chain of the same operator: a && (b && c) && d -> [a, b, c, d]. */
function operands(node: Node, type: 'and' | 'or'): Node[] {
  return node.type === type ? [...operands(node.left, type), ...operands(node.right, type)] : [node];
}

function intersect(a: string[], b: string[]): string[] {
  return a.filter((h) => b.includes(h));
}

export function compileNode(node: Node, table: SyntaxTable, ctx: BuildContext): Built {
  switch (node.type) {
    case 'call': {
      const d = table.lookup(node.name) ?? fail(`unknown matcher '${node.name}'${table.hint(node.name)}`, node.pos);
      const n = node.args.length;
      if (n < d.minArgs || n > d.maxArgs) {
        fail(`${d.name} expects ${argsDescription(d)}, got ${n}`, n > d.maxArgs ? node.args[d.maxArgs].pos : node.end);
      }
      for (const a of node.args) if (a.value === '') fail(`empty value for ${d.name}`, a.pos);
      return d.build(node.args, ctx);
    }
    case 'not': {
      const inner = compileNode(node.operand, table, ctx).match;
      return { match: (req) => !inner(req), hosts: null };
    }
    case 'and': {
      const parts = operands(node, 'and').map((n) => compileNode(n, table, ctx));
      const kept = parts.filter((p) => !p.always);
      if (kept.length === 0) return parts[0];
      let hosts: string[] | null = null;
      for (const p of kept) if (p.hosts) hosts = hosts ? intersect(hosts, p.hosts) : p.hosts;
      return { match: allOf(kept.map((p) => p.match)), hosts };
    }
    case 'or': {
      const parts = operands(node, 'or').map((n) => compileNode(n, table, ctx));
      const always = parts.find((p) => p.always);
      if (always) return always;
      const pinned = parts.every((p) => p.hosts !== null);
      const hosts = pinned ? [...new Set(parts.flatMap((p) => p.hosts!))] : null;
      return { match: anyOf(parts.map((p) => p.match)), hosts };
    }
  }
}
