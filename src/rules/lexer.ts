// Tokenizer for v3/v2 rule text. Traefik parses rules as Go expressions
// (go/parser via vulcand/predicate), so values are Go string literals:
// `raw` strings in backticks or "interpreted" strings in double quotes.
import { RuleError } from './types.js';

export type TokenType = 'ident' | 'string' | '(' | ')' | ',' | '&&' | '||' | '!' | 'eof';

export interface Token {
  type: TokenType;
  /** Identifier name or the decoded string value. */
  value: string;
  /** 0-based offset of the token's first character in the rule. */
  pos: number;
}

const IDENT = /[\p{L}_][\p{L}\p{Nd}_]*/uy;

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(' || c === ')' || c === ',' || c === '!') {
      tokens.push({ type: c, value: c, pos });
      i++;
    } else if (c === '&' || c === '|') {
      if (src[i + 1] !== c) throw new RuleError(`unexpected character '${c}' (did you mean '${c}${c}'?)`, pos);
      tokens.push({ type: c === '&' ? '&&' : '||', value: c + c, pos });
      i += 2;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new RuleError('unterminated backtick string', pos);
      // Go drops carriage returns from raw string literals.
      tokens.push({ type: 'string', value: src.slice(i + 1, end).replace(/\r/g, ''), pos });
      i = end + 1;
    } else if (c === '"') {
      const [value, end] = readQuoted(src, i);
      tokens.push({ type: 'string', value, pos });
      i = end;
    } else if (c === "'") {
      throw new RuleError('single-quoted values are not supported, use backticks or double quotes', pos);
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(src);
      if (!m) throw new RuleError(`unexpected character '${String.fromCodePoint(src.codePointAt(i)!)}'`, pos);
      tokens.push({ type: 'ident', value: m[0], pos });
      i += m[0].length;
    }
  }
  tokens.push({ type: 'eof', value: '', pos: src.length });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34,
};

/**
 * Decodes a double-quoted Go string literal starting at `start` (the quote),
 * like strconv.Unquote: \a \b \f \n \r \t \v \\ \" \xHH \ooo \uHHHH \UHHHHHHHH.
 * \x and octal escapes produce bytes, so the result is assembled as UTF-8.
 */
function readQuoted(src: string, start: number): [string, number] {
  const bytes: number[] = [];
  let i = start + 1;
  let run = i;
  const flush = (to: number): void => {
    if (to > run) bytes.push(...Buffer.from(src.slice(run, to), 'utf8'));
  };
  for (;;) {
    if (i >= src.length || src[i] === '\n') throw new RuleError('unterminated double-quoted string', start);
    const c = src[i];
    if (c === '"') {
      flush(i);
      return [Buffer.from(bytes).toString('utf8'), i + 1];
    }
    if (c !== '\\') {
      i++;
      continue;
    }
    flush(i);
    const esc = src[i + 1] ?? '';
    const bad = (): never => {
      throw new RuleError(`invalid escape sequence '\\${esc}' in double-quoted string`, i);
    };
    if (esc in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[esc]);
      i += 2;
    } else if (esc === 'x' || esc === 'u' || esc === 'U') {
      const n = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) bad();
      const v = parseInt(hex, 16);
      if (esc === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) bad();
      else bytes.push(...Buffer.from(String.fromCodePoint(v), 'utf8'));
      i += 2 + n;
    } else if (esc >= '0' && esc <= '7') {
      const oct = src.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) bad();
      bytes.push(parseInt(oct, 8));
      i += 4;
    } else {
      bad();
    }
    run = i;
  }
}
