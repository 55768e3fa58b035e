// Character-set helpers for the Go -> JS regexp translation: code point
// ranges, Go's ASCII/Perl classes, case folding and safe JS emission.

export type Range = [number, number];

const MAX_CP = 0x10ffff;

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

/** Go's Perl classes are ASCII-only; note \s has no \v. */
export const PERL_CLASSES: Record<string, Range[]> = {
  d: DIGIT,
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: WORD,
};

export const POSIX_CLASSES: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

export function normalize(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function negate(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

// Go folds k/K with the Kelvin sign and s/S with the long s.
const EXTRA_FOLDS: Record<number, number[]> = {
  0x4b: [0x212a], 0x6b: [0x212a], 0x53: [0x17f], 0x73: [0x17f], 0x212a: [0x4b, 0x6b], 0x17f: [0x53, 0x73],
};
/** Non-ASCII ranges wider than this are folded only up to this many code points. */
const FOLD_SCAN_LIMIT = 0x3000;

function caseVariants(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const out = [...(EXTRA_FOLDS[cp] ?? [])];
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    const vcp = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(vcp).length && vcp !== cp) out.push(vcp);
  }
  return out;
}

/** Adds the other-case counterparts of every letter in the set (Go's (?i)). */
export function fold(ranges: Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    for (const [a, z, shift] of [[0x41, 0x5a, 32], [0x61, 0x7a, -32]]) {
      const from = Math.max(lo, a);
      const to = Math.min(hi, z);
      if (from <= to) out.push([from + shift, to + shift]);
    }
    for (const cp of [0x4b, 0x53, 0x6b, 0x73]) if (cp >= lo && cp <= hi) for (const v of EXTRA_FOLDS[cp]) out.push([v, v]);
    const end = Math.min(hi, Math.max(lo, 0x80) + FOLD_SCAN_LIMIT);
    for (let cp = Math.max(lo, 0x80); cp <= end; cp++) for (const v of caseVariants(cp)) out.push([v, v]);
  }
  return normalize(out);
}

const SYNTAX = new Set('^$\\.*+?()[]{}|/');

/** A code point written so that a JS 'u'-flag regexp reads it literally. */
export function emitChar(cp: number, inClass: boolean): string {
  if (cp >= 0x20 && cp <= 0x7e) {
    const ch = String.fromCharCode(cp);
    return SYNTAX.has(ch) || (inClass && ch === '-') ? `\\${ch}` : ch;
  }
  return `\\u{${cp.toString(16)}}`;
}

export function emitRanges(ranges: Range[]): string {
  let out = '';
  for (const [lo, hi] of ranges) {
    out += emitChar(lo, true);
    if (hi > lo) out += (hi > lo + 1 ? '-' : '') + emitChar(hi, true);
  }
  return out;
}

/** A literal code point, expanded to a class under case folding. */
export function emitLiteral(cp: number, foldCase: boolean): string {
  if (!foldCase) return emitChar(cp, false);
  const set = fold([[cp, cp]]);
  if (set.length === 1 && set[0][0] === set[0][1]) return emitChar(cp, false);
  return `[${emitRanges(set)}]`;
}
