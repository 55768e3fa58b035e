// The Swarm provider's default rule: a Go text/template evaluated for every
// router that has no rule, as Traefik does (--providers.swarm.defaultRule,
// default "Host(`{{ normalize .Name }}`)").
//
// Traefik runs the full text/template engine with the sprig functions. portero
// implements the subset its documentation uses, and rejects anything else when
// the template is compiled (at startup), never while routing:
//
//   literal text                    Host(`
//   {{ .Name }}                     the service name, already normalized (see serviceName)
//   {{ .ContainerName }}            the task's name, as Traefik names a Swarm task's container:
//                                   <service>.<slot>, <service>.<task ID> (global), <service> (lbswarm)
//   {{ .Labels.key }}               a label whose key is a Go identifier
//   {{ index .Labels "com.x" }}     any label ("" when absent, as a Go map gives)
//   {{ normalize ARG }}             Traefik's Normalize (see normalize below)
//   ( ... ), ARG | normalize        grouping and a pipe into normalize/index
//   {{- ... -}}, {{/* comment */}}  whitespace trimming and comments
//
// Strings are Go literals: "interpreted" (with escapes) or `raw`.
import { tokenize } from '../../rules/lexer.js';
import type { SwarmService } from './model.js';

/** What the template sees of a Swarm service. */
export type DefaultRuleInput = Pick<SwarmService, 'name' | 'labels'>;

/**
 * Traefik's provider.Normalize: every run of characters that are neither
 * letters nor numbers (Unicode categories L and N, as Go's unicode.IsLetter /
 * unicode.IsNumber) separates fields; the fields are joined with '-'. Leading
 * and trailing separators vanish: "/my_app..v2/" -> "my-app-v2".
 */
export function normalize(name: string): string {
  return name.split(/[^\p{L}\p{N}]+/u).filter((f) => f !== '').join('-');
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

/**
 * The name Traefik gives a Swarm service's routers and services (and `.Name`
 * in the default rule): the normalized service name, or "<service>_<project>"
 * normalized when both Compose labels are set (Traefik's getServiceName).
 */
export function serviceName(service: DefaultRuleInput): string {
  const project = service.labels[COMPOSE_PROJECT];
  const composeService = service.labels[COMPOSE_SERVICE];
  if (project && composeService) return normalize(`${composeService}_${project}`);
  return normalize(service.name);
}

export class DefaultRuleError extends Error {}

/** A compiled default rule: the rule for a service, or for one of its tasks when the template reads .ContainerName (`perTask`). */
export interface DefaultRule {
  (service: DefaultRuleInput, containerName?: string): string;
  readonly perTask: boolean;
}

type Model = { name: string; containerName: string; labels: Record<string, string> };
type Expr = (m: Model) => Value;
type Value = { kind: 'string'; v: string } | { kind: 'labels'; v: Record<string, string> };

type Tok =
  | { t: 'field'; path: string[]; pos: number }
  | { t: 'ident'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: '(' | ')' | '|'; pos: number };

const FUNCTIONS = ['normalize', 'index'];
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

function fail(template: string, message: string): never {
  throw new DefaultRuleError(`default rule template ${JSON.stringify(template)}: ${message}`);
}

function lexAction(template: string, src: string, base: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const pos = base + i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '|') {
      out.push({ t: c, pos });
      i++;
    } else if (c === '"' || c === '`') {
      const end = c === '`' ? src.indexOf('`', i + 1) : findQuoteEnd(src, i);
      if (end < 0) fail(template, `unterminated string at position ${pos}`);
      let value: string;
      try {
        value = tokenize(src.slice(i, end + 1))[0].value;
      } catch (err) {
        fail(template, `invalid string at position ${pos}: ${(err as Error).message}`);
      }
      out.push({ t: 'string', v: value, pos });
      i = end + 1;
    } else if (c === '.') {
      const m = /^(?:\.[\p{L}_][\p{L}\p{Nd}_]*)+/u.exec(src.slice(i));
      if (!m) fail(template, `"." alone (the whole model) is not supported at position ${pos}; use .Name or .Labels`);
      out.push({ t: 'field', path: m[0].slice(1).split('.'), pos });
      i += m[0].length;
    } else if (c === '$') {
      fail(template, `variables are not supported (position ${pos})`);
    } else {
      const m = /^[\p{L}_][\p{L}\p{Nd}_]*/u.exec(src.slice(i));
      if (!m) fail(template, `unexpected ${JSON.stringify(c)} at position ${pos}`);
      out.push({ t: 'ident', v: m[0], pos });
      i += m[0].length;
    }
  }
  return out;
}

function findQuoteEnd(src: string, start: number): number {
  for (let i = start + 1; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '"') return i;
  }
  return -1;
}

/** Parses one action's pipeline: command ('|' command)*. */
/** `uses.containerName` is set when the action reads .ContainerName. */
function parseAction(template: string, toks: Tok[], uses: { containerName: boolean }): Expr {
  let k = 0;
  const describe = (t: Tok | undefined): string =>
    t === undefined ? 'the end of the action' : t.t === 'ident' ? `"${t.v}"` : t.t === 'field' ? `.${t.path.join('.')}` : t.t === 'string' ? 'a string' : `"${t.t}"`;

  const operand = (): Expr => {
    const t = toks[k];
    if (t === undefined) fail(template, 'missing value in action');
    if (t.t === 'string') {
      k++;
      const v = t.v;
      return () => ({ kind: 'string', v });
    }
    if (t.t === 'field') {
      k++;
      return field(t.path, t.pos);
    }
    if (t.t === '(') {
      k++;
      const inner = pipeline();
      if (toks[k]?.t !== ')') fail(template, `expected ")" but found ${describe(toks[k])}`);
      k++;
      return inner;
    }
    fail(template, `unexpected ${describe(t)} at position ${t.pos}`);
  };

  const field = (path: string[], pos: number): Expr => {
    const [head, ...rest] = path;
    if (head === 'Name' && rest.length === 0) return (m) => ({ kind: 'string', v: m.name });
    if (head === 'Labels' && rest.length === 0) return (m) => ({ kind: 'labels', v: m.labels });
    if (head === 'Labels' && rest.length === 1) {
      const key = rest[0];
      return (m) => ({ kind: 'string', v: Object.hasOwn(m.labels, key) ? m.labels[key] : '' });
    }
    if (head === 'ContainerName' && rest.length === 0) {
      uses.containerName = true;
      return (m) => ({ kind: 'string', v: m.containerName });
    }
    fail(template, `unknown field .${path.join('.')} at position ${pos} (available: .Name, .ContainerName, .Labels)`);
  };

  // A command: a function applied to its arguments (plus the piped value), or a lone operand.
  const command = (piped: Expr | null): Expr => {
    const t = toks[k];
    if (t?.t === 'ident') {
      k++;
      if (KEYWORDS.has(t.v)) fail(template, `"${t.v}" is not supported (only .Name, .Labels, normalize and index)`);
      if (!FUNCTIONS.includes(t.v)) {
        fail(template, `function "${t.v}" is not supported by portero (supported: ${FUNCTIONS.join(', ')})`);
      }
      const args: Expr[] = [];
      while (k < toks.length && toks[k].t !== ')' && toks[k].t !== '|') args.push(operand());
      if (piped !== null) args.push(piped);
      return call(t.v, args, t.pos);
    }
    if (piped !== null) fail(template, `cannot pipe into ${describe(t)}; only into a function`);
    return operand();
  };

  const call = (fn: string, args: Expr[], pos: number): Expr => {
    if (fn === 'normalize') {
      if (args.length !== 1) fail(template, `normalize takes one argument, got ${args.length} (position ${pos})`);
      const [arg] = args;
      return (m) => ({ kind: 'string', v: normalize(asString(template, arg(m), 'normalize')) });
    }
    // index .Labels "key"
    if (args.length !== 2) fail(template, `index takes a map and one key here (index .Labels "key"), got ${args.length} arguments (position ${pos})`);
    const [map, key] = args;
    return (m) => {
      const labels = map(m);
      if (labels.kind !== 'labels') fail(template, 'index needs .Labels as its first argument');
      const k2 = asString(template, key(m), 'index');
      return { kind: 'string', v: Object.hasOwn(labels.v, k2) ? labels.v[k2] : '' };
    };
  };

  const pipeline = (): Expr => {
    let expr = command(null);
    while (toks[k]?.t === '|') {
      k++;
      expr = command(expr);
    }
    return expr;
  };

  if (toks.length === 0) fail(template, 'empty action "{{ }}"');
  const expr = pipeline();
  if (k < toks.length) fail(template, `unexpected ${describe(toks[k])} at position ${toks[k].pos}`);
  return expr;
}

function asString(template: string, v: Value, where: string): string {
  if (v.kind !== 'string') fail(template, `${where} needs a string, got .Labels (a map)`);
  return v.v;
}

/**
 * Compiles a default-rule template. Throws DefaultRuleError (with the reason)
 * for templates outside the supported subset. The result gives the rule for a
 * service; an empty result means "no rule" (Traefik then drops the router).
 */
export function compileDefaultRule(template: string): DefaultRule {
  const parts: (string | Expr)[] = [];
  const uses = { containerName: false };
  let i = 0;
  let trimNext = false;
  while (i <= template.length) {
    const open = template.indexOf('{{', i);
    let text = template.slice(i, open < 0 ? template.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) parts.push(text);
      break;
    }
    // "{{- " trims the text before; the dash must be followed by a space.
    let start = open + 2;
    if (/^-\s/.test(template.slice(start, start + 2))) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push(text);
    const close = template.indexOf('}}', start);
    if (close < 0) fail(template, `unclosed action starting at position ${open}`);
    let end = close;
    if (/\s-$/.test(template.slice(close - 2, close))) {
      trimNext = true;
      end = close - 1;
    }
    const body = template.slice(start, end);
    if (/^\s*\/\*[\s\S]*\*\/\s*$/.test(body)) {
      // A comment; Go requires it to fill the whole action.
    } else {
      parts.push(parseAction(template, lexAction(template, body, start), uses));
    }
    i = close + 2;
  }
  const render = (model: Model): string => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else out += asString(template, p(model), 'the action');
    }
    return out;
  };
  // Values have fixed types (.Name a string, .Labels a map), so one run
  // finds every type mistake ({{ .Labels }}, normalize .Labels) now.
  render({ name: 'x', containerName: 'x', labels: {} });
  const rule = (service: DefaultRuleInput, containerName = service.name) => render({ name: serviceName(service), containerName, labels: service.labels });
  return Object.assign(rule, { perTask: uses.containerName });
}
