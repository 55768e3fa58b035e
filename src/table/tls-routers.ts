// The TLS side of compiling the table: which entry points a router serves
// on (TLS routers on TLS entry points only), the certificates of the dynamic
// configuration (checked, the bad ones reported), and the domains each ACME
// resolver must order for the routers that name it.
import type { EntryPointTls, TlsDomain } from '../config/tls.js';
import type { ConfigError, DynamicConfig, RouterConfig } from '../dynamic/model.js';
import { covers, type LoadedCertificate } from '../tls/certificate.js';
import type { CertificateLoader, CertificateProblem, CertificateSource } from '../tls/loader.js';

export interface CertificateInput {
  providers: ReadonlyMap<string, DynamicConfig>;
  certificates?: CertificateLoader;
  staticCertificates?: readonly CertificateSource[];
}

export interface RouterTls {
  certResolver?: string;
  domains: TlsDomain[];
}

export interface Certificates {
  certificates: LoadedCertificate[];
  defaultCertificate: LoadedCertificate | null;
  problems: CertificateProblem[];
}

/** The configured certificates, checked; each bad one is an error of the provider that configured it. */
export function loadCertificates(input: CertificateInput, errors: ConfigError[]): Certificates {
  const report = (provider: string, name: string, message: string) => errors.push({ provider, element: { kind: 'certificate', name }, message });
  const out: Certificates = { certificates: [], defaultCertificate: null, problems: [] };
  if (input.certificates === undefined) return out;
  const sources: CertificateSource[] = [...(input.staticCertificates ?? [])];
  const owners: string[] = sources.map(() => 'static');
  let defaultSource: { provider: string; source: CertificateSource } | null = null;
  for (const [provider, config] of input.providers) {
    for (const c of config.tls?.certificates ?? []) {
      sources.push(c);
      owners.push(provider);
    }
    if (config.tls?.defaultCertificate !== undefined) defaultSource ??= { provider, source: config.tls.defaultCertificate };
  }
  const loaded = input.certificates.load(sources);
  out.certificates = loaded.certificates;
  out.problems = loaded.problems;
  for (const p of loaded.problems) report(owners[p.source]!, p.names.length > 0 ? p.names.join(',') : 'certificate', p.message);
  if (defaultSource !== null) {
    const d = input.certificates.peek(defaultSource.source);
    if ('message' in d) report(defaultSource.provider, 'defaultCertificate', `default certificate: ${d.message}; the generated one is served instead`);
    else out.defaultCertificate = d;
  }
  return out;
}

/** A router's entry points, and the TLS settings it has on the TLS ones; or why it cannot be placed. */
export function placeRouter(
  r: RouterConfig,
  listed: readonly string[],
  explicit: boolean,
  epTls: ReadonlyMap<string, EntryPointTls | null> | undefined,
): { entryPoints: string[]; tls: RouterTls[] } | string {
  const tlsOf = (ep: string) => epTls?.get(ep) ?? null;
  const entryPoints: string[] = [];
  const tls: RouterTls[] = [];
  for (const ep of listed) {
    const t = tlsOf(ep);
    if (r.tls !== undefined) {
      // A TLS router serves on TLS entry points only, as in Traefik.
      if (t === null) continue;
      entryPoints.push(ep);
      tls.push({
        ...(r.tls.certResolver !== undefined ? { certResolver: r.tls.certResolver } : {}),
        domains: (r.tls.domains ?? []).map((d) => ({ main: d.main, sans: d.sans ?? [] })),
      });
    } else if (t === null) {
      entryPoints.push(ep);
    } else if (explicit || t.explicit) {
      // A TLS entry point makes its routers TLS routers with its defaults
      // (http.tls); one that is TLS for its port 443 alone takes only routers that name it.
      entryPoints.push(ep);
      tls.push({ ...(t.certResolver !== undefined ? { certResolver: t.certResolver } : {}), domains: t.domains });
    }
  }
  if (entryPoints.length === 0) {
    if (r.tls !== undefined) {
      const plain = listed.join(', ');
      return `the router has tls but its entry point(s) ${plain} serve plain HTTP: set --entrypoints.<name>.http.tls=true on one of them, or give it a TLS entry point`;
    }
    return `no entry point serves plain HTTP among ${listed.join(', ')}`;
  }
  return { entryPoints, tls };
}

/**
 * Registers the domains a TLS router's resolvers must order, or says why
 * the router cannot serve: an unknown resolver, or a certificate for its
 * names that is present but bad.
 */
export function tlsNeeds(
  settings: readonly RouterTls[],
  ruleHosts: string[] | null,
  resolvers: readonly string[],
  certs: Certificates,
  acme: Map<string, TlsDomain[]>,
): string | null {
  for (const t of settings) {
    const names = t.domains.length > 0 ? t.domains.flatMap((d) => [d.main, ...d.sans]) : (ruleHosts ?? []);
    if (t.certResolver !== undefined) {
      const resolver = resolvers.find((n) => n.toLowerCase() === t.certResolver!.toLowerCase());
      if (resolver === undefined) return `unknown certificate resolver ${JSON.stringify(t.certResolver)}${resolvers.length ? ` (configured: ${resolvers.join(', ')})` : ''}`;
      // As Traefik: without tls.domains, one certificate for the rule's Host names, the first as main.
      const hosts = (ruleHosts ?? []).filter((h) => !h.includes('*'));
      const wanted = t.domains.length > 0 ? t.domains : hosts.length > 0 ? [{ main: hosts[0]!, sans: hosts.slice(1) }] : [];
      const wildcard = wanted.flatMap((d) => [d.main, ...d.sans]).find((n) => n.startsWith('*.'));
      if (wildcard !== undefined) return `${wildcard}: a wildcard certificate needs the DNS-01 challenge, which portero does not support (use a certificate from the file provider)`;
      const list = acme.get(resolver) ?? [];
      for (const d of wanted) if (!list.some((x) => x.main === d.main && x.sans.join() === d.sans.join())) list.push(d);
      acme.set(resolver, list);
      continue;
    }
    for (const host of names) {
      if (certs.certificates.some((c) => covers(c, host))) continue;
      const bad = certs.problems.find((p) => covers(p, host));
      if (bad !== undefined) return `no valid certificate for ${host}: ${bad.message}`;
    }
  }
  return null;
}
