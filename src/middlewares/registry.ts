// Every middleware kind portero applies, by the names users write (any case).
import { basicAuth } from './basic-auth.js';
import { buffering } from './buffering.js';
import { compress } from './compress.js';
import { errors } from './errors.js';
import { forwardAuth } from './forward-auth.js';
import { circuitBreaker } from './circuit-breaker.js';
import { digestAuth } from './digest-auth.js';
import { headers } from './headers.js';
import { inFlightReq } from './in-flight-req.js';
import { ipAllowList } from './ip-allow-list.js';
import { addPrefix, replacePath, replacePathRegex, stripPrefix, stripPrefixRegex } from './path.js';
import { rateLimit } from './rate-limit.js';
import { redirectRegex, redirectScheme } from './redirect.js';
import { retry } from './retry.js';
import type { MiddlewareKind } from './types.js';
import { v1RuleRewrites } from './v1-rewrites.js';

/** Kinds a configuration may name. */
const KINDS: readonly MiddlewareKind<never>[] = [
  basicAuth,
  digestAuth,
  headers,
  ipAllowList,
  stripPrefix,
  stripPrefixRegex,
  addPrefix,
  replacePath,
  replacePathRegex,
  redirectScheme,
  redirectRegex,
  retry,
  forwardAuth,
  compress,
  buffering,
  errors,
  circuitBreaker,
  rateLimit,
  inFlightReq,
] as unknown as MiddlewareKind<never>[];

/** Kinds portero adds itself (never named in a configuration). */
const INTERNAL: readonly MiddlewareKind<never>[] = [v1RuleRewrites] as unknown as MiddlewareKind<never>[];

const byName = new Map<string, MiddlewareKind<never>>();
for (const k of KINDS) for (const n of [k.name, ...(k.aliases ?? [])]) byName.set(n.toLowerCase(), k);

/** The kind a configuration names ("stripprefix", "ipWhiteList"), or undefined. */
export function kindNamed(name: string): MiddlewareKind<unknown> | undefined {
  return byName.get(name.toLowerCase()) as MiddlewareKind<unknown> | undefined;
}

/** The kind of a descriptor, internal ones included. */
export function kindOf(canonical: string): MiddlewareKind<unknown> {
  const k = byName.get(canonical.toLowerCase()) ?? INTERNAL.find((i) => i.name === canonical);
  if (k === undefined) throw new Error(`unknown middleware kind ${JSON.stringify(canonical)}`);
  return k as MiddlewareKind<unknown>;
}

/** Traefik kinds portero does not apply yet: named in errors. */
export const NOT_YET = ['contentType', 'grpcWeb', 'passTLSClientCert', 'plugin'];
