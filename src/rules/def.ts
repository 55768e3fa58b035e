// What a matcher table entry looks like, plus small helpers the v1/v2/v3
// tables share for turning bad values into positioned RuleErrors.
import { GoRegexpError, compileGoRegexp } from './goregexp.js';
import { compileTemplate, type TemplateKind } from './mux-template.js';
import type { Arg } from './parser.js';
import { RuleError, type Matcher, type RuleRewrites } from './types.js';

export interface Built {
  match: Matcher;
  /** Exact hosts one of which every match carries, or null. */
  hosts: string[] | null;
  /** Matches every request (v1 modifiers such as AddPrefix); lets AND drop it. */
  always?: boolean;
}

export interface BuildContext {
  /** v1 modifiers record their rewrites here. */
  rewrites: RuleRewrites;
}

export interface MatcherDef {
  /** Canonical name, used in messages. */
  name: string;
  minArgs: number;
  maxArgs: number;
  build(args: Arg[], ctx: BuildContext): Built;
}

export const ALWAYS: Built = { match: () => true, hosts: null, always: true };

export function fail(message: string, pos: number): never {
  throw new RuleError(message, pos);
}

/** A Go regexp value, compiled, or a RuleError at the value's position. */
export function regexpArg(arg: Arg, matcher: string): RegExp {
  try {
    return compileGoRegexp(arg.value);
  } catch (e) {
    if (e instanceof GoRegexpError) fail(`invalid regexp ${JSON.stringify(arg.value)} in ${matcher}: ${e.message}`, arg.pos);
    throw e;
  }
}

/** A gorilla/mux template value ({name:regexp} variables), compiled. */
export function templateArg(arg: Arg, kind: TemplateKind, matcher: string): RegExp {
  try {
    return compileTemplate(arg.value, kind);
  } catch (e) {
    const why = e instanceof GoRegexpError ? `invalid regexp: ${e.message}` : (e as Error).message;
    return fail(`invalid value ${JSON.stringify(arg.value)} for ${matcher}: ${why}`, arg.pos);
  }
}

/** Splits "k=v" arguments the way Traefik's Query does, then pairs them up. */
export function pairs(args: Arg[], matcher: string, splitEquals: boolean): [Arg, Arg][] {
  const flat: Arg[] = [];
  for (const a of args) {
    const eq = splitEquals ? a.value.indexOf('=') : -1;
    if (eq === -1) flat.push(a);
    else flat.push({ value: a.value.slice(0, eq), pos: a.pos }, { value: a.value.slice(eq + 1), pos: a.pos });
  }
  if (flat.length % 2 !== 0) {
    const what = splitEquals ? 'key=value arguments' : 'key, value pairs';
    fail(`${matcher} expects ${what}, got an odd number of values (${flat.length})`, flat[flat.length - 1].pos);
  }
  const out: [Arg, Arg][] = [];
  for (let k = 0; k < flat.length; k += 2) out.push([flat[k], flat[k + 1]]);
  return out;
}

// Combinators with fixed-arity fast paths: one closure per operator chain
// instead of nested pairs, so a rule costs one indirect call per operand.

/** OR of several matchers. */
export function anyOf(ms: Matcher[]): Matcher {
  const [a, b, c] = ms;
  switch (ms.length) {
    case 1:
      return a;
    case 2:
      return (req) => a(req) || b(req);
    case 3:
      return (req) => a(req) || b(req) || c(req);
    default:
      return (req) => {
        for (const m of ms) if (m(req)) return true;
        return false;
      };
  }
}

/** AND of several matchers. */
export function allOf(ms: Matcher[]): Matcher {
  const [a, b, c] = ms;
  switch (ms.length) {
    case 1:
      return a;
    case 2:
      return (req) => a(req) && b(req);
    case 3:
      return (req) => a(req) && b(req) && c(req);
    default:
      return (req) => {
        for (const m of ms) if (!m(req)) return false;
        return true;
      };
  }
}
