// A Digest client as curl --digest is one (RFC 2617, MD5, qop=auth): reads a
// WWW-Authenticate challenge and writes the Authorization header that answers it.
import { createHash } from 'node:crypto';

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** The quoted parameters of a challenge (realm, nonce, opaque, stale, ...). */
export function challengeParams(header: string): Record<string, string> {
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

export interface DigestAnswer {
  user: string;
  password: string;
  method?: string;
  uri?: string;
  nc?: string;
  cnonce?: string;
  /** Overrides of what the challenge said (a tampered nonce, another realm). */
  nonce?: string;
  realm?: string;
  opaque?: string;
}

/** The response value: MD5(HA1:nonce:nc:cnonce:auth:HA2). */
export function digestResponse(a: Required<Omit<DigestAnswer, 'opaque'>>): string {
  const ha1 = md5(`${a.user}:${a.realm}:${a.password}`);
  const ha2 = md5(`${a.method}:${a.uri}`);
  return md5(`${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`);
}

/** The Authorization header answering `challenge`, in curl's order and quoting. */
export function authorization(challenge: string, a: DigestAnswer): string {
  const c = challengeParams(challenge);
  const full = { method: 'GET', uri: '/', nc: '00000001', cnonce: 'MTIzNDU2Nzg5MA', nonce: c.nonce!, realm: c.realm!, ...a };
  const opaque = a.opaque ?? c.opaque!;
  return `Digest username="${full.user}", realm="${full.realm}", nonce="${full.nonce}", uri="${full.uri}", cnonce="${full.cnonce}", nc=${full.nc}, qop=auth, response="${digestResponse(full)}", opaque="${opaque}", algorithm=MD5`;
}
