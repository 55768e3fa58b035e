// Recursive-descent parser for v3/v2 rules, with Go's operator precedence:
// `!` binds tightest, then `&&`, then `||`; binary operators are left-associative.
import { tokenize, type Token } from './lexer.js';
import { RuleError } from './types.js';

export interface Arg {
  value: string;
  /** Offset of the value (its opening quote) in the rule text. */
  pos: number;
}

export interface CallNode {
  type: 'call';
  /** The matcher name as written; resolved against a syntax's table at compile time. */
  name: string;
  pos: number;
  args: Arg[];
  /** Offset of the closing parenthesis (where missing arguments are reported). */
  end: number;
}

export interface BinaryNode {
  type: 'and' | 'or';
  left: Node;
  right: Node;
}

export interface NotNode {
  type: 'not';
  operand: Node;
  pos: number;
}

export type Node = CallNode | BinaryNode | NotNode;

function describe(t: Token): string {
  if (t.type === 'eof') return 'end of rule';
  if (t.type === 'string') return 'a string';
  return `'${t.value}'`;
}

export function parseRule(src: string): Node {
  const tokens = tokenize(src);
  let k = 0;
  const peek = (): Token => tokens[k];
  const next = (): Token => tokens[k++];

  const or = (): Node => {
    let left = and();
    while (peek().type === '||') {
      next();
      left = { type: 'or', left, right: and() };
    }
    return left;
  };

  const and = (): Node => {
    let left = unary();
    while (peek().type === '&&') {
      next();
      left = { type: 'and', left, right: unary() };
    }
    return left;
  };

  const unary = (): Node => {
    const t = peek();
    if (t.type === '!') {
      next();
      return { type: 'not', operand: unary(), pos: t.pos };
    }
    if (t.type === '(') {
      next();
      const inner = or();
      const close = next();
      if (close.type !== ')') throw new RuleError(`expected ')' but found ${describe(close)}`, close.pos);
      return inner;
    }
    if (t.type === 'ident') return call();
    throw new RuleError(`expected a matcher, '(' or '!' but found ${describe(t)}`, t.pos);
  };

  const call = (): CallNode => {
    const name = next();
    const open = next();
    if (open.type !== '(') {
      throw new RuleError(`expected '(' after '${name.value}' but found ${describe(open)}`, open.pos);
    }
    const args: Arg[] = [];
    for (;;) {
      let t = next();
      if (t.type === ')') return { type: 'call', name: name.value, pos: name.pos, args, end: t.pos };
      if (t.type !== 'string') {
        throw new RuleError(`expected a value in backticks or double quotes but found ${describe(t)}`, t.pos);
      }
      args.push({ value: t.value, pos: t.pos });
      t = peek();
      if (t.type === ',') next(); // Go accepts a trailing comma before ')'
      else if (t.type !== ')') throw new RuleError(`expected ',' or ')' but found ${describe(t)}`, t.pos);
    }
  };

  if (peek().type === 'eof') throw new RuleError('empty rule', 0);
  const root = or();
  const rest = peek();
  if (rest.type !== 'eof') throw new RuleError(`unexpected ${describe(rest)} after the end of the expression`, rest.pos);
  return root;
}
