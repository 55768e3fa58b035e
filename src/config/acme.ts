// Static settings of Let's Encrypt (any ACME CA) resolvers:
// --certificatesresolvers.<name>.acme.*, in Traefik's spellings.
import { readFileSync } from 'node:fs';
import { ConfigUsageError } from './errors.js';
import type { FlagSpec as FlagRow } from './flag-spec.js';
import { parseBool, parseInteger, parsePemList, parseText } from './values.js';

export type AcmeKeyType = 'EC256' | 'EC384' | 'RSA2048' | 'RSA3072' | 'RSA4096' | 'RSA8192';
export const ACME_KEY_TYPES: readonly AcmeKeyType[] = ['EC256', 'EC384', 'RSA2048', 'RSA3072', 'RSA4096', 'RSA8192'];

export interface AcmeResolverConfig {
  name: string;
  email: string;
  /** acme.json path (default "acme.json", as in Traefik). */
  storage: string;
  caServer: string;
  /** PEM texts trusted for the ACME server's own HTTPS (a private CA such as pebble). */
  caCertificates: string[];
  /** Entry point answering HTTP-01 challenges. */
  httpChallengeEntryPoint: string;
  keyType: AcmeKeyType;
  /** Hours a certificate lives (default 2160 = 90 days); renewal at a third of it before expiry. */
  certificatesDurationHours: number;
}

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export interface AcmeDraft {
  name: string;
  email?: string;
  storage?: string;
  caServer?: string;
  caCertificates?: string[];
  httpChallenge?: boolean;
  httpChallengeEntryPoint?: string;
  keyType?: AcmeKeyType;
  certificatesDuration?: number;
}

/** The part of flags.ts's Draft (tls.ts's HasTls) the ACME rows fill in. */
interface HasTls {
  tls: { resolvers: Map<string, AcmeDraft> };
}
type FlagSpec = FlagRow<HasTls>;

function resolver(d: HasTls, name: string): AcmeDraft {
  const key = name.toLowerCase();
  let r = d.tls.resolvers.get(key);
  if (r === undefined) {
    r = { name };
    d.tls.resolvers.set(key, r);
  }
  return r;
}

const GROUP_ACME = "Let's Encrypt (ACME resolvers):";

export const ACME_FLAG_SPECS: readonly FlagSpec[] = [
  {
    flag: 'certificatesResolvers.<name>.acme.email',
    type: 'string',
    group: GROUP_ACME,
    describe: 'ACME account e-mail of resolver <name>',
    apply: (d, raw, [name], what) => {
      resolver(d, name!).email = parseText(raw, what);
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.storage',
    type: 'string',
    group: GROUP_ACME,
    describe: 'acme.json of resolver <name> (Traefik\'s format; may be shared by several portero instances)',
    defaultText: 'acme.json',
    apply: (d, raw, [name], what) => {
      resolver(d, name!).storage = parseText(raw, what);
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.caServer',
    type: 'string',
    group: GROUP_ACME,
    describe: 'ACME directory URL',
    defaultText: LETS_ENCRYPT,
    apply: (d, raw, [name], what) => {
      const url = parseText(raw, what);
      if (!/^https:\/\//i.test(url)) throw new ConfigUsageError(`${what}: expected an https:// URL, got ${JSON.stringify(url)}`);
      resolver(d, name!).caServer = url;
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.caCertificates',
    type: 'string',
    group: GROUP_ACME,
    describe: 'PEM files (comma-separated) trusted for the ACME server\'s HTTPS, e.g. a private CA',
    apply: (d, raw, [name], what) => {
      resolver(d, name!).caCertificates = parsePemList(raw, what, (p) => readFileSync(p, 'utf8'));
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.httpChallenge',
    type: 'boolean',
    group: GROUP_ACME,
    describe: 'Use the HTTP-01 challenge (needs .httpChallenge.entryPoint)',
    apply: (d, raw, [name], what) => {
      resolver(d, name!).httpChallenge = parseBool(raw, what);
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.httpChallenge.entryPoint',
    type: 'string',
    group: GROUP_ACME,
    describe: 'Entry point (port 80) that answers HTTP-01 challenges',
    apply: (d, raw, [name], what) => {
      const r = resolver(d, name!);
      r.httpChallenge = true;
      r.httpChallengeEntryPoint = parseText(raw, what);
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.keyType',
    type: 'string',
    group: GROUP_ACME,
    describe: `Key type of the certificates: ${ACME_KEY_TYPES.join(', ')}`,
    defaultText: 'RSA4096',
    apply: (d, raw, [name], what) => {
      const v = parseText(raw, what).toUpperCase();
      const k = ACME_KEY_TYPES.find((t) => t === v);
      if (k === undefined) throw new ConfigUsageError(`${what}: expected one of ${ACME_KEY_TYPES.join(', ')}, got ${JSON.stringify(raw)}`);
      resolver(d, name!).keyType = k;
    },
  },
  {
    flag: 'certificatesResolvers.<name>.acme.certificatesDuration',
    type: 'string',
    group: GROUP_ACME,
    describe: 'Hours the CA issues certificates for; renewal comes at a third of it before expiry',
    defaultText: '2160',
    apply: (d, raw, [name], what) => {
      resolver(d, name!).certificatesDuration = parseInteger(raw, what, 1);
    },
  },
  refused('certificatesResolvers.<name>.acme.tlsChallenge', 'TLS-ALPN-01 needs ALPN, which the uWebSockets.js build portero uses does not expose: use httpChallenge'),
  refused('certificatesResolvers.<name>.acme.dnsChallenge', 'DNS-01 is not supported by portero yet: use httpChallenge'),
  refused('certificatesResolvers.<name>.acme.dnsChallenge.provider', 'DNS-01 is not supported by portero yet: use httpChallenge'),
  refused('certificatesResolvers.<name>.acme.tlsChallenge', 'TLS-ALPN-01 needs ALPN, which the uWebSockets.js build portero uses does not expose: use httpChallenge'),
  refused('certificatesResolvers.<name>.acme.dnsChallenge', 'DNS-01 is not supported by portero yet: use httpChallenge'),
  refused('certificatesResolvers.<name>.acme.dnsChallenge.provider', 'DNS-01 is not supported by portero yet: use httpChallenge'),
];

function refused(flag: string, why: string): FlagSpec {
  return {
    flag,
    type: 'string',
    group: GROUP_ACME,
    describe: why,
    hidden: true,
    apply: (_d, _raw, _n, what) => {
      throw new ConfigUsageError(`${what}: ${why}`);
    },
  };
}

/** Checks the resolvers and fills in Traefik's defaults; `known` resolves an entry point name or throws. */
export function finalizeResolvers(drafts: ReadonlyMap<string, AcmeDraft>, known: (name: string, what: string) => string): AcmeResolverConfig[] {
  const out: AcmeResolverConfig[] = [];
  for (const r of drafts.values()) {
    const what = `--certificatesresolvers.${r.name}.acme`;
    if (r.email === undefined) throw new ConfigUsageError(`${what}.email is required`);
    if (!r.httpChallenge || r.httpChallengeEntryPoint === undefined) {
      throw new ConfigUsageError(`${what}: set .httpChallenge.entryPoint (portero answers HTTP-01 only)`);
    }
    out.push({
      name: r.name,
      email: r.email,
      storage: r.storage ?? 'acme.json',
      caServer: r.caServer ?? LETS_ENCRYPT,
      caCertificates: r.caCertificates ?? [],
      httpChallengeEntryPoint: known(r.httpChallengeEntryPoint, `${what}.httpChallenge.entryPoint`),
      keyType: r.keyType ?? 'RSA4096',
      certificatesDurationHours: r.certificatesDuration ?? 2160,
    });
  }
  return out;
}
