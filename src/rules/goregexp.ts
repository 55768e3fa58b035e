// Translates Go (RE2) regexp syntax to an equivalent JS RegExp with the 'u'
// flag. Everything Go accepts is rewritten explicitly, so JS-only syntax
// (lookarounds, backreferences) is rejected the way Go rejects it, and Go-only
// syntax (\A, \z, \Q..\E, [[:alpha:]], (?P<n>..), scoped (?imsU) flags) works.
// Flags are applied at translation time: (?i) expands letters to both cases,
// (?s)/(?m)/(?U) rewrite '.', '^'/'$' and quantifier greediness.
import {
  PERL_CLASSES, POSIX_CLASSES, emitLiteral, emitRanges, fold, negate, normalize, type Range,
} from './goregexp-class.js';

export class GoRegexpError extends Error {}

interface Flags { i: boolean; m: boolean; s: boolean; U: boolean }

type Last = 'none' | 'atom' | 'assert' | 'repeat';

const MAX_REPEAT = 1000;
// Go disallows leading zeros; an unparsable {...} is a literal '{'.
const REPEAT = /\{(0|[1-9]\d*)(,(0|[1-9]\d*)?)?\}/y;

/** A class member as Go adds it: case-folded first (under (?i)), then negated. */
function group(set: Range[], negated: boolean, foldCase: boolean): Range[] {
  const folded = foldCase ? fold(set) : set;
  return negated ? negate(folded) : folded;
}

/** The body of a class for \d \s \w (ASCII, as in Go) or their negations. */
function perlClass(letter: string, foldCase: boolean): string {
  const lower = letter.toLowerCase();
  return emitRanges(normalize(group(PERL_CLASSES[lower], letter !== lower, foldCase)));
}

/**
 * The JS property for a Go Unicode class name: general categories (L, Lu,
 * Letter), scripts (Greek -> Script=Greek), Any, ASCII. Go also ignores case,
 * '_', '-' and ' ' in names, so the canonical spelling is tried too.
 */
function jsProperty(name: string): string | null {
  const canonical = name.replace(/[-_ ]/g, '').toLowerCase().replace(/^./, (c) => c.toUpperCase());
  const special: Record<string, string> = { Lc: 'LC', Ascii: 'ASCII' };
  for (const candidate of [name, `Script=${name}`, special[canonical] ?? canonical, `Script=${canonical}`]) {
    if (!/^[A-Za-z_=]+$/.test(candidate)) continue;
    try {
      new RegExp(`\\p{${candidate}}`, 'u');
      return candidate;
    } catch {
      // not a property JS knows under this spelling
    }
  }
  return null;
}

class Translator {
  private i = 0;
  private depth = 0;
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {}

  run(): string {
    const out = this.sequence({ i: false, m: false, s: false, U: false });
    if (this.i < this.src.length) this.fail('unexpected )', this.src);
    return out;
  }

  private fail(what: string, text: string): never {
    throw new GoRegexpError(`${what}: \`${text}\``);
  }

  /** Alternatives up to an unmatched ')' or the end; (?flags) apply to the rest of this group. */
  private sequence(outer: Flags): string {
    const f = { ...outer };
    const src = this.src;
    let out = '';
    let last: Last = 'none';
    let lastStart = 0;
    let lastOp = '';
    const atom = (text: string, kind: Last = 'atom'): void => {
      lastStart = out.length;
      out += text;
      last = kind;
    };
    while (this.i < src.length) {
      const c = src[this.i];
      if (c === ')') {
        if (this.depth === 0) this.fail('unexpected )', src);
        break;
      }
      if (c === '|') {
        out += '|';
        last = 'none';
        this.i++;
      } else if (c === '(') {
        const group = this.group(f);
        if (group === null) last = 'none';
        else atom(group);
      } else if (c === '^' || c === '$') {
        this.i++;
        const multi = c === '^' ? '(?:^|(?<=\\n))' : '(?:$|(?=\\n))';
        atom(f.m ? multi : c, 'assert');
      } else if (c === '.') {
        this.i++;
        atom(f.s ? '[^]' : '[^\\n]');
      } else if (c === '[') {
        atom(this.charClass(f));
      } else if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeatAhead())) {
        const start = this.i;
        const op = this.quantifier();
        const lazy = src[this.i] === '?';
        if (lazy) this.i++;
        const text = src.slice(start, this.i);
        if (last === 'none') this.fail('missing argument to repetition operator', text);
        if (last === 'repeat') this.fail('invalid nested repetition operator', lastOp + text);
        if (last === 'assert') out = `${out.slice(0, lastStart)}(?:${out.slice(lastStart)})`;
        out += op + (lazy !== f.U ? '?' : '');
        last = 'repeat';
        lastOp = text;
      } else if (c === '\\') {
        const esc = this.escape(f);
        if (esc !== null) atom(esc[0], esc[1]);
      } else {
        const cp = src.codePointAt(this.i)!;
        this.i += cp > 0xffff ? 2 : 1;
        atom(emitLiteral(cp, f.i));
      }
    }
    return out;
  }

  private repeatAhead(): boolean {
    REPEAT.lastIndex = this.i;
    return REPEAT.test(this.src);
  }

  private quantifier(): string {
    const c = this.src[this.i];
    if (c !== '{') {
      this.i++;
      return c;
    }
    REPEAT.lastIndex = this.i;
    const m = REPEAT.exec(this.src)!;
    this.i = REPEAT.lastIndex;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) this.fail('invalid repeat count', m[0]);
    return m[0];
  }

  /** Returns the JS text for a group, or null for a bare flag group like (?i). */
  private group(f: Flags): string | null {
    const src = this.src;
    const start = this.i;
    if (src[start + 1] !== '?') {
      this.i++;
      return `(${this.groupBody(f)})`;
    }
    const named = /\(\?P?</y; // Go reads (?<= and (?<! as (invalid) group names too
    named.lastIndex = start;
    if (named.test(src)) {
      const close = src.indexOf('>', named.lastIndex);
      const name = close < 0 ? '' : src.slice(named.lastIndex, close);
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail('invalid named capture', src.slice(start, close + 1 || undefined));
      if (this.names.has(name)) this.fail('duplicate capture group name', name);
      this.names.add(name);
      this.i = close + 1;
      return `(${this.groupBody(f)})`;
    }
    const flags = /\(\?([imsU]*)(?:-([imsU]*))?([:)])/y;
    flags.lastIndex = start;
    const m = flags.exec(src);
    if (!m || (m[3] === ')' && m[1] === '' && m[2] === undefined) || m[2] === '') {
      this.fail('invalid or unsupported Perl syntax', src.slice(start, (m ? flags.lastIndex : start + 3)));
    }
    this.i = flags.lastIndex;
    const target = m[3] === ')' ? f : { ...f };
    for (const ch of m[1]) target[ch as keyof Flags] = true;
    for (const ch of m[2] ?? '') target[ch as keyof Flags] = false;
    return m[3] === ')' ? null : `(?:${this.groupBody(target)})`;
  }

  private groupBody(f: Flags): string {
    this.depth++;
    const open = this.i;
    const inner = this.sequence(f);
    if (this.src[this.i] !== ')') this.fail('missing closing )', this.src.slice(Math.max(0, open - 1)));
    this.i++;
    this.depth--;
    return inner;
  }

  /** Escape outside a class: [text, kind], or null for an empty \Q\E. */
  private escape(f: Flags): [string, Last] | null {
    const src = this.src;
    const c = src[this.i + 1];
    if (c === undefined) this.fail('trailing backslash at end of expression', '');
    const assertions: Record<string, string> = { A: '^', z: '$', b: '\\b', B: '\\B' };
    if (c in assertions) {
      this.i += 2;
      return [assertions[c], 'assert'];
    }
    if (/[dswDSW]/.test(c)) {
      this.i += 2;
      return [`[${perlClass(c, f.i)}]`, 'atom'];
    }
    if (c === 'p' || c === 'P') return [this.unicodeClass(), 'atom'];
    if (c === 'Q') {
      const end = src.indexOf('\\E', this.i + 2);
      const text = src.slice(this.i + 2, end < 0 ? undefined : end);
      this.i = end < 0 ? src.length : end + 2;
      const cps = [...text].map((ch) => emitLiteral(ch.codePointAt(0)!, f.i));
      if (cps.length === 0) return null;
      // A following quantifier applies to the last character only, as in Go.
      const lastChar = cps.pop()!;
      return [cps.length ? `${cps.join('')}(?:${lastChar})` : lastChar, 'atom'];
    }
    return [emitLiteral(this.escapedChar(), f.i), 'atom'];
  }

  /** \pN, \p{Name}, \PN, \P{^Name} -> JS \p{...} (scripts need Script=). */
  private unicodeClass(): string {
    const src = this.src;
    const start = this.i;
    let neg = src[this.i + 1] === 'P';
    let name: string;
    if (src[this.i + 2] === '{') {
      const close = src.indexOf('}', this.i + 3);
      if (close < 0) this.fail('invalid character class range', src.slice(start));
      name = src.slice(this.i + 3, close);
      this.i = close + 1;
    } else {
      name = src[this.i + 2] ?? '';
      this.i += 3;
    }
    if (name.startsWith('^')) {
      neg = !neg;
      name = name.slice(1);
    }
    const prop = jsProperty(name) ?? this.fail('invalid character class range', src.slice(start, this.i));
    return `\\${neg ? 'P' : 'p'}{${prop}}`;
  }

  /** A single escaped character (shared by literals and class members). */
  private escapedChar(): number {
    const src = this.src;
    const start = this.i;
    const c = src[start + 1] ?? '';
    const bad = (): never => this.fail('invalid escape sequence', src.slice(start, start + 2));
    const controls: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (c in controls) {
      this.i += 2;
      return controls[c];
    }
    if (c >= '0' && c <= '7') {
      // \1-\7 alone would be a backreference, which Go does not support.
      const m = /[0-7]{1,3}/y;
      m.lastIndex = start + 1;
      const digits = m.exec(src)![0];
      if (c !== '0' && digits.length === 1) bad();
      this.i = start + 1 + digits.length;
      return parseInt(digits, 8);
    }
    if (c === 'x') {
      const m = /\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{2})/y;
      m.lastIndex = start + 2;
      const hex = m.exec(src);
      const v = hex ? parseInt(hex[1] ?? hex[2], 16) : -1;
      if (!hex || v > 0x10ffff) this.fail('invalid escape sequence', src.slice(start, m.lastIndex || start + 2));
      this.i = m.lastIndex;
      return v;
    }
    if (c !== '' && c < '\x80' && !/[0-9A-Za-z]/.test(c)) {
      this.i += 2;
      return c.charCodeAt(0);
    }
    return bad();
  }

  private charClass(f: Flags): string {
    const src = this.src;
    const start = this.i++;
    const negated = src[this.i] === '^';
    if (negated) this.i++;
    const ranges: Range[] = [];
    const props: string[] = [];
    let first = true;
    for (;;) {
      if (this.i >= src.length) this.fail('missing closing ]', src.slice(start));
      const c = src[this.i];
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && src[this.i + 1] === ':') {
        const close = src.indexOf(':]', this.i + 2);
        if (close >= 0) {
          let name = src.slice(this.i + 2, close);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const set = POSIX_CLASSES[name];
          if (!set) this.fail('invalid character class range', src.slice(this.i, close + 2));
          ranges.push(...group(set, neg, f.i));
          this.i = close + 2;
          continue;
        }
      }
      if (c === '\\') {
        const e = src[this.i + 1];
        if (e === 'p' || e === 'P') {
          props.push(this.unicodeClass());
          continue;
        }
        if (e !== undefined && /[dswDSW]/.test(e)) {
          ranges.push(...group(PERL_CLASSES[e.toLowerCase()], e !== e.toLowerCase(), f.i));
          this.i += 2;
          continue;
        }
      }
      const lo = this.classChar(start);
      let hi = lo;
      if (src[this.i] === '-' && this.i + 1 < src.length && src[this.i + 1] !== ']') {
        const rangeStart = this.i;
        this.i++;
        hi = this.classChar(start);
        if (hi < lo) this.fail('invalid character class range', src.slice(rangeStart - 1, this.i));
      }
      ranges.push(...group([[lo, hi]], false, f.i));
    }
    this.i++;
    return `[${negated ? '^' : ''}${emitRanges(normalize(ranges))}${props.join('')}]`;
  }

  private classChar(classStart: number): number {
    const src = this.src;
    if (this.i >= src.length) this.fail('missing closing ]', src.slice(classStart));
    if (src[this.i] === '\\') return this.escapedChar();
    const cp = src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

/** JS source (for the 'u' flag) equivalent to a Go regexp; throws GoRegexpError. */
export function translateGoRegexp(src: string): string {
  return new Translator(src).run();
}

/** Compiles a Go regexp to a JS RegExp with Go's (unanchored MatchString) semantics. */
export function compileGoRegexp(src: string): RegExp {
  const js = translateGoRegexp(src);
  try {
    return new RegExp(js, 'u');
  } catch (e) {
    throw new GoRegexpError((e as Error).message);
  }
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
