// Traefik v1 `frontend.rule` syntax, e.g. "Host:a.com,b.com;PathPrefixStrip:/api".
// Segments separated by ';' are ANDed, comma-separated values are ORed.
// The text becomes the same AST as v3/v2 rules (an AND chain of calls) and
// is compiled with the v2 matchers; the modifiers (…Strip, AddPrefix,
// ReplacePath…) record RuleRewrites. Names are accepted in any case.
import { ALWAYS, fail, regexpArg, type Built, type BuildContext, type MatcherDef } from './def.js';
import { headersMatcher, hostRegexpMatcher, hostsMatcher, methodsMatcher, pathsMatcher, queryMatcher } from './matchers-v2.js';
import type { Arg, CallNode, Node } from './parser.js';

/** Modifiers whose value is taken whole (a regexp may contain commas). */
const WHOLE_VALUE = new Set(['addprefix', 'replacepath', 'replacepathregex']);

function bySizeDesc(args: Arg[]): string[] {
  return args.map((a) => a.value).sort((x, y) => y.length - x.length);
}

function strip(built: Built, ctx: BuildContext, field: 'stripPaths' | 'stripPrefixes' | 'stripPrefixesRegex', args: Arg[]): Built {
  ctx.rewrites[field] = bySizeDesc(args);
  return built;
}

const MANY = Number.POSITIVE_INFINITY;

function def(name: string, minArgs: number, maxArgs: number, build: MatcherDef['build']): MatcherDef {
  return { name, minArgs, maxArgs, build };
}

export const V1_MATCHERS: MatcherDef[] = [
  def('Host', 1, MANY, (args) => hostsMatcher(args, 'Host', false)),
  def('HostRegexp', 1, MANY, (args) => hostRegexpMatcher(args, 'HostRegexp', false)),
  def('Path', 1, MANY, (args) => pathsMatcher(args, 'Path', false)),
  def('PathStrip', 1, MANY, (args, ctx) => strip(pathsMatcher(args, 'PathStrip', false), ctx, 'stripPaths', args)),
  def('PathStripRegex', 1, MANY, (args, ctx) => strip(pathsMatcher(args, 'PathStripRegex', false), ctx, 'stripPrefixesRegex', args)),
  def('PathPrefix', 1, MANY, (args) => pathsMatcher(args, 'PathPrefix', true)),
  def('PathPrefixStrip', 1, MANY, (args, ctx) => strip(pathsMatcher(args, 'PathPrefixStrip', true), ctx, 'stripPrefixes', args)),
  def('PathPrefixStripRegex', 1, MANY, (args, ctx) =>
    strip(pathsMatcher(args, 'PathPrefixStripRegex', true), ctx, 'stripPrefixesRegex', args)),
  def('Method', 1, MANY, (args) => methodsMatcher(args)),
  def('Headers', 2, MANY, (args) => headersMatcher(args, 'Headers', false)),
  def('HeadersRegexp', 2, MANY, (args) => headersMatcher(args, 'HeadersRegexp', true)),
  def('Query', 1, MANY, (args) => queryMatcher(args, 'Query')),
  def('AddPrefix', 1, 1, ([a], ctx) => {
    ctx.rewrites.addPrefix = a.value;
    return ALWAYS;
  }),
  def('ReplacePath', 1, 1, ([a], ctx) => {
    ctx.rewrites.replacePath = a.value;
    return ALWAYS;
  }),
  def('ReplacePathRegex', 1, 1, ([a], ctx) => {
    const parts = a.value.split(/\s+/);
    if (parts.length !== 2) {
      fail(`ReplacePathRegex expects "<regexp> <replacement>" separated by a space, got ${JSON.stringify(a.value)}`, a.pos);
    }
    regexpArg({ value: parts[0], pos: a.pos }, 'ReplacePathRegex');
    ctx.rewrites.replacePathRegex = { regex: parts[0], replacement: parts[1] };
    return ALWAYS;
  }),
];

/** Offset of the first non-blank character of text[from, to), or `to`. */
function skipBlank(text: string, from: number, to: number): number {
  while (from < to && /\s/.test(text[from])) from++;
  return from;
}

/** Splits text[from, to) at commas outside {...}, trimming values and dropping empty ones. */
function splitValues(text: string, from: number, to: number): Arg[] {
  const args: Arg[] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text[i] : ',';
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (c === ',' && (depth === 0 || i === to)) {
      const value = text.slice(start, i).trim();
      if (value !== '') args.push({ value, pos: skipBlank(text, start, i) });
      start = i + 1;
    }
  }
  return args;
}

export function parseV1(rule: string): Node {
  const calls: CallNode[] = [];
  let start = 0;
  while (start <= rule.length) {
    let end = rule.indexOf(';', start);
    if (end === -1) end = rule.length;
    const namePos = skipBlank(rule, start, end);
    if (namePos < end) {
      const colon = rule.indexOf(':', namePos);
      if (colon === -1 || colon > end) {
        fail(`expected '<matcher>:<values>' but found ${JSON.stringify(rule.slice(namePos, end).trim())}`, namePos);
      }
      const name = rule.slice(namePos, colon).trim();
      if (name === '') fail("missing matcher name before ':'", namePos);
      let args: Arg[];
      if (WHOLE_VALUE.has(name.toLowerCase())) {
        const value = rule.slice(colon + 1, end).trim();
        args = value === '' ? [] : [{ value, pos: skipBlank(rule, colon + 1, end) }];
      } else {
        args = splitValues(rule, colon + 1, end);
      }
      calls.push({ type: 'call', name, pos: namePos, args, end });
    }
    start = end + 1;
  }
  if (calls.length === 0) fail('empty rule', 0);
  return calls.slice(1).reduce<Node>((left, right) => ({ type: 'and', left, right }), calls[0]);
}
