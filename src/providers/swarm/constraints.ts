// Traefik's provider constraints (--providers.swarm.constraints): a boolean
// expression over a service's labels that decides whether the provider
// creates anything for it.
//
//   Label(`a.b`, `value`)        the label exists with exactly this value
//                                (Label(`x`, ``) also matches a missing label, as in Traefik)
//   LabelRegex(`a.b`, `re`)      the label's value matches the Go regexp (unanchored, like
//                                Go's regexp.MatchString; a missing label is "")
//   !, &&, ||, ( )               Go precedence: ! then && then ||
//
// Traefik parses the expression as Go (vulcand/predicate); portero uses the
// rule parser, which reads the same Go expression subset. Label names and
// values are case-sensitive, as in Traefik. Unlike Traefik, an invalid regexp
// is an error when compiling, not a silent "no match" for every service.
import { compileGoRegexp } from '../../rules/index.js';
import { parseRule, type Node } from '../../rules/parser.js';

export type ConstraintMatcher = (labels: Readonly<Record<string, string>>) => boolean;

export class ConstraintsError extends Error {}

function fail(expr: string, message: string): never {
  throw new ConstraintsError(`invalid constraints expression ${JSON.stringify(expr)}: ${message}`);
}

function label(labels: Readonly<Record<string, string>>, name: string): string {
  return Object.hasOwn(labels, name) ? labels[name] : '';
}

function build(expr: string, node: Node): ConstraintMatcher {
  switch (node.type) {
    case 'and': {
      const l = build(expr, node.left);
      const r = build(expr, node.right);
      return (labels) => l(labels) && r(labels);
    }
    case 'or': {
      const l = build(expr, node.left);
      const r = build(expr, node.right);
      return (labels) => l(labels) || r(labels);
    }
    case 'not': {
      const inner = build(expr, node.operand);
      return (labels) => !inner(labels);
    }
    case 'call': {
      if (node.name !== 'Label' && node.name !== 'LabelRegex') {
        const hint = ['label', 'labelregex'].includes(node.name.toLowerCase()) ? ' (names are case-sensitive)' : '';
        fail(expr, `unknown function '${node.name}' at position ${node.pos}${hint}; expected Label or LabelRegex`);
      }
      if (node.args.length !== 2) {
        fail(expr, `${node.name} takes 2 arguments (label name, ${node.name === 'Label' ? 'value' : 'regexp'}), got ${node.args.length} at position ${node.pos}`);
      }
      const [name, value] = node.args.map((a) => a.value);
      if (node.name === 'Label') return (labels) => label(labels, name) === value;
      let re: RegExp;
      try {
        re = compileGoRegexp(value);
      } catch (err) {
        fail(expr, `invalid regexp ${JSON.stringify(value)} in LabelRegex at position ${node.args[1].pos}: ${(err as Error).message}`);
      }
      return (labels) => re.test(label(labels, name));
    }
  }
}

/**
 * Compiles a constraints expression; throws ConstraintsError with the reason
 * and position when it is malformed. An empty expression matches everything.
 */
export function compileConstraints(expr: string): ConstraintMatcher {
  if (expr.trim() === '') return () => true;
  let ast: Node;
  try {
    ast = parseRule(expr);
  } catch (err) {
    fail(expr, (err as Error).message.replace(/\bmatcher\b/, 'Label or LabelRegex call').replace(/\bend of rule\b/, 'end of expression'));
  }
  return build(expr, ast);
}
