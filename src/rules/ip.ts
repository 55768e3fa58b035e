// ClientIP matching with Go's net semantics: IPv4 and IPv4-mapped IPv6
// addresses are the same thing; IPv4 networks never contain IPv6 clients and
// IPv6 networks never contain IPv4 clients. Addresses are held as four
// 32-bit words (IPv4 mapped into ::ffff:0:0/96), so matching allocates nothing.

export interface Network {
  v4: boolean;
  words: Uint32Array;
  /** Prefix length over all 128 bits (an IPv4 /24 is 120). */
  bits: number;
}

const scratch = new Uint32Array(4);
const groups = new Uint16Array(8);

/** Strict dotted quad (no leading zeros, as Go >= 1.17); -1 when invalid. */
function parseV4(s: string, from: number, to: number): number {
  let value = 0;
  let parts = 0;
  let i = from;
  while (parts < 4) {
    const start = i;
    let n = 0;
    while (i < to && i - start < 4) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + c - 48;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || n > 255 || (len > 1 && s.charCodeAt(start) === 48)) return -1;
    value = value * 256 + n;
    parts++;
    if (parts < 4) {
      if (s.charCodeAt(i) !== 46 /* . */ || i >= to) return -1;
      i++;
    }
  }
  return i === to ? value : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Fills `groups` from an IPv6 text (optionally ending in a dotted quad). */
function parseV6(s: string, to: number): boolean {
  let n = 0;
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < to && n < 8) {
    let j = i;
    let v = 0;
    while (j < to && j - i < 5) {
      const d = hexDigit(s.charCodeAt(j));
      if (d < 0) break;
      v = v * 16 + d;
      j++;
    }
    if (s.charCodeAt(j) === 46 /* . */ && n <= 6) {
      const v4 = parseV4(s, i, to);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = to;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups[n++] = v;
    i = j;
    if (i === to) break;
    if (s.charCodeAt(i) !== 58 /* : */) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === to) {
      return false;
    }
  }
  if (i !== to) return false;
  if (gap < 0) return n === 8;
  if (n === 8) return false;
  const tail = n - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k];
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

/** Parses into `out`; returns 4 or 6 (the family Go would see), or 0 if invalid. */
function parseIp(s: string, to: number, out: Uint32Array): 0 | 4 | 6 {
  if (s.indexOf(':') === -1 || s.indexOf(':') >= to) {
    const v4 = parseV4(s, 0, to);
    if (v4 < 0) return 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0xffff;
    out[3] = v4;
    return 4;
  }
  if (!parseV6(s, to)) return 0;
  for (let k = 0; k < 4; k++) out[k] = ((groups[2 * k] << 16) | groups[2 * k + 1]) >>> 0;
  return out[0] === 0 && out[1] === 0 && out[2] === 0xffff ? 4 : 6;
}

/** Parses "10.0.0.0/8", "fe80::/10" or a single address; null when invalid. */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const addrEnd = slash === -1 ? text.length : slash;
  const words = new Uint32Array(4);
  const family = parseIp(text, addrEnd, words);
  if (family === 0) return null;
  let bits = 128;
  if (slash !== -1) {
    const len = text.slice(slash + 1);
    const isV4Text = text.lastIndexOf(':', addrEnd) === -1;
    if (!/^[0-9]+$/.test(len) || Number(len) > (isV4Text ? 32 : 128)) return null;
    bits = Number(len) + (isV4Text ? 96 : 0);
  }
  for (let k = 0; k < 4; k++) words[k] = (words[k] & maskWord(bits, k)) >>> 0;
  // A masked network is IPv4 exactly when it still lies in ::ffff:0:0/96.
  const v4 = bits >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
  return { v4, words, bits };
}

function maskWord(bits: number, k: number): number {
  const b = Math.min(32, Math.max(0, bits - 32 * k));
  return b === 0 ? 0 : b === 32 ? 0xffffffff : ~(0xffffffff >>> b) >>> 0;
}

/** Whether a client address (as in RequestView.clientIp) is in one of the networks. */
export function containsIp(networks: Network[], clientIp: string): boolean {
  const zone = clientIp.indexOf('%');
  const family = parseIp(clientIp, zone === -1 ? clientIp.length : zone, scratch);
  if (family === 0) return false;
  const v4 = family === 4;
  for (const n of networks) {
    if (n.v4 !== v4) continue;
    let k = 0;
    for (; k < 4; k++) {
      if (((scratch[k] ^ n.words[k]) & maskWord(n.bits, k)) !== 0) break;
    }
    if (k === 4) return true;
  }
  return false;
}
