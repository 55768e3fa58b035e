// circuitBreaker expressions as oxy's cbreaker reads them (Go expression
// syntax through vulcand/predicate): metric calls compared with a number,
// joined by && and || with Go's precedence, in parentheses at will. Typing is
// oxy's too, so a configuration Traefik refuses is refused here: ratios are
// compared with decimals (0.5, 1.0), LatencyAtQuantileMS and RequestThreshold
// with integers, and the quantile is a decimal (50.0).
import { MiddlewareError } from './types.js';

export type Metric = 'NetworkErrorRatio' | 'ResponseCodeRatio' | 'LatencyAtQuantileMS' | 'RequestThreshold';
export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** A parsed expression, JSON-safe (it travels to workers in the table). */
export type BreakerExpr = { all: BreakerExpr[] } | { any: BreakerExpr[] } | { metric: Metric; args: number[]; op: Comparison; value: number };

/** What an expression reads, over the breaker's window. */
export interface BreakerMetrics {
  networkErrorRatio(): number;
  responseCodeRatio(from: number, to: number, dividedByFrom: number, dividedByTo: number): number;
  latencyAtQuantileMs(quantile: number): number;
  totalCount(): number;
}

interface Signature {
  args: readonly ('int' | 'float')[];
  /** The literal type the result is compared with. */
  result: 'int' | 'float';
  example: string;
}

const METRICS: Record<Metric, Signature> = {
  NetworkErrorRatio: { args: [], result: 'float', example: 'NetworkErrorRatio() > 0.5' },
  ResponseCodeRatio: { args: ['int', 'int', 'int', 'int'], result: 'float', example: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25' },
  LatencyAtQuantileMS: { args: ['float'], result: 'int', example: 'LatencyAtQuantileMS(50.0) > 100' },
  RequestThreshold: { args: [], result: 'int', example: 'RequestThreshold() >= 20' },
};

type Token = { at: number; kind: 'ident' | 'punct'; text: string } | { at: number; kind: 'number'; text: string; value: number; float: boolean };

const TOKEN = /(?:([A-Za-z_][A-Za-z0-9_]*)|((?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)|(\d+)|(&&|\|\||>=|<=|==|!=|[><(),]))/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let at = 0;
  for (;;) {
    while (at < src.length && /\s/.test(src[at]!)) at++;
    if (at === src.length) return out;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(src);
    if (m === null) throw new MiddlewareError(`unexpected ${JSON.stringify(src[at])} at column ${at + 1}`);
    const n = m[2] ?? m[3];
    // Go's ParseFloat and Atoi refuse what does not fit; here it would turn into Infinity or lose digits.
    if (n !== undefined && !(m[3] !== undefined ? Number.isSafeInteger(Number(n)) : Number.isFinite(Number(n)))) {
      throw new MiddlewareError(`${n} at column ${at + 1} is out of range`);
    }
    if (m[1] !== undefined) out.push({ at, kind: 'ident', text: m[1] });
    else if (m[2] !== undefined) out.push({ at, kind: 'number', text: m[2], value: Number(m[2]), float: true });
    else if (m[3] !== undefined) out.push({ at, kind: 'number', text: m[3], value: Number(m[3]), float: false });
    else out.push({ at, kind: 'punct', text: m[4]! });
    at = TOKEN.lastIndex;
  }
}

/** What a sub-expression is while parsing: a condition, a metric call awaiting its comparison, or a number. */
type Node = { cond: BreakerExpr } | { call: Metric; args: number[] } | { number: Token & { kind: 'number' } };

const COMPARISONS = new Set(['>', '>=', '<', '<=', '==', '!=']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): BreakerExpr {
    if (this.tokens.length === 0) throw new MiddlewareError(`is empty (e.g. ${METRICS.NetworkErrorRatio.example})`);
    const node = this.or();
    const extra = this.tokens[this.i];
    if (extra !== undefined) throw new MiddlewareError(`unexpected ${JSON.stringify(extra.text)} at column ${extra.at + 1}`);
    return this.condition(node);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private expect(text: string): void {
    const t = this.tokens[this.i];
    if (t?.text !== text) throw new MiddlewareError(t === undefined ? `expected ${JSON.stringify(text)} at the end` : `expected ${JSON.stringify(text)} at column ${t.at + 1}, got ${JSON.stringify(t.text)}`);
    this.i++;
  }

  private or(): Node {
    const first = this.and();
    if (this.peek()?.text !== '||') return first;
    const any = [this.condition(first)];
    while (this.peek()?.text === '||') {
      this.i++;
      any.push(this.condition(this.and()));
    }
    return { cond: { any } };
  }

  private and(): Node {
    const first = this.comparison();
    if (this.peek()?.text !== '&&') return first;
    const all = [this.condition(first)];
    while (this.peek()?.text === '&&') {
      this.i++;
      all.push(this.condition(this.comparison()));
    }
    return { cond: { all } };
  }

  private comparison(): Node {
    let left = this.primary();
    while (this.peek() !== undefined && COMPARISONS.has(this.peek()!.text)) {
      const op = this.tokens[this.i++]!.text as Comparison;
      const right = this.primary();
      if (!('call' in left)) throw new MiddlewareError(`${op} compares a metric such as NetworkErrorRatio() with a number, e.g. ${METRICS.NetworkErrorRatio.example}`);
      if (!('number' in right)) throw new MiddlewareError(`${left.call}() must be compared with a number, e.g. ${METRICS[left.call].example}`);
      const want = METRICS[left.call].result;
      if (right.number.float !== (want === 'float')) {
        const hint = want === 'float' ? `a decimal number (write ${right.number.text}.0)` : 'an integer';
        throw new MiddlewareError(`${left.call}() is compared with ${hint}, got ${right.number.text} (e.g. ${METRICS[left.call].example})`);
      }
      left = { cond: { metric: left.call, args: left.args, op, value: right.number.value } };
    }
    return left;
  }

  private primary(): Node {
    const t = this.tokens[this.i++];
    if (t === undefined) throw new MiddlewareError('ends too early');
    if (t.kind === 'number') return { number: t };
    if (t.text === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (t.kind !== 'ident') throw new MiddlewareError(`unexpected ${JSON.stringify(t.text)} at column ${t.at + 1}`);
    if (!Object.hasOwn(METRICS, t.text)) throw new MiddlewareError(`unknown function ${JSON.stringify(t.text)} at column ${t.at + 1} (known: ${Object.keys(METRICS).join(', ')})`);
    const metric = t.text as Metric;
    const sig = METRICS[metric];
    this.expect('(');
    const args: (Token & { kind: 'number' })[] = [];
    while (this.peek()?.text !== ')') {
      if (args.length > 0) this.expect(',');
      const a = this.tokens[this.i++];
      if (a?.kind !== 'number') throw new MiddlewareError(`${metric}'s arguments are numbers, e.g. ${sig.example}`);
      args.push(a);
    }
    this.i++;
    const typesOk = args.length === sig.args.length && args.every((a, k) => a.float === (sig.args[k] === 'float'));
    if (!typesOk) {
      const wanted = sig.args.length === 0 ? 'no arguments' : sig.args.map((x) => (x === 'float' ? 'a decimal number' : 'an integer')).join(', ');
      throw new MiddlewareError(`${metric} takes ${wanted} (e.g. ${sig.example})`);
    }
    return { call: metric, args: args.map((a) => a.value) };
  }

  private condition(node: Node): BreakerExpr {
    if ('cond' in node) return node.cond;
    if ('call' in node) throw new MiddlewareError(`${node.call}() must be compared with a number, e.g. ${METRICS[node.call].example}`);
    throw new MiddlewareError(`${node.number.text} at column ${node.number.at + 1} is not a condition`);
  }
}

/** Parses an expression; throws MiddlewareError naming the problem. */
export function parseBreakerExpression(src: string): BreakerExpr {
  return new Parser(tokenize(src)).parse();
}

/** Whether the expression reads latencies (a histogram is kept only then). */
export function readsLatency(e: BreakerExpr): boolean {
  if ('all' in e) return e.all.some(readsLatency);
  if ('any' in e) return e.any.some(readsLatency);
  return e.metric === 'LatencyAtQuantileMS';
}

function measure(e: { metric: Metric; args: number[] }, m: BreakerMetrics): number {
  switch (e.metric) {
    case 'NetworkErrorRatio':
      return m.networkErrorRatio();
    case 'ResponseCodeRatio':
      return m.responseCodeRatio(e.args[0]!, e.args[1]!, e.args[2]!, e.args[3]!);
    case 'LatencyAtQuantileMS':
      return m.latencyAtQuantileMs(e.args[0]!);
    case 'RequestThreshold':
      return m.totalCount();
  }
}

export function evaluate(e: BreakerExpr, m: BreakerMetrics): boolean {
  if ('all' in e) return e.all.every((x) => evaluate(x, m));
  if ('any' in e) return e.any.some((x) => evaluate(x, m));
  const v = measure(e, m);
  switch (e.op) {
    case '>':
      return v > e.value;
    case '>=':
      return v >= e.value;
    case '<':
      return v < e.value;
    case '<=':
      return v <= e.value;
    case '==':
      return v === e.value;
    case '!=':
      return v !== e.value;
  }
}
