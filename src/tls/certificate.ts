// A certificate and its key, checked before anything serves them: the chain
// parses, the key belongs to the first certificate, and it has not expired.
// What fails is a CertificateError with a sentence a user can act on.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';

export class CertificateError extends Error {}

export interface LoadedCertificate {
  /** Content digest: the same certificate and key from two sources are one. */
  id: string;
  certPem: string;
  keyPem: string;
  /** DNS names it covers, lower-cased ("*.example.com" for a wildcard); the CN when it has no SAN. */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** "rsa", "ec", "ed25519"... */
  keyType: string;
  /** Where it came from, for logs and the API: "file /certs/a.pem", "acme le". */
  source: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Names of a certificate: its DNS subject alternative names, else its common name. */
export function certificateNames(x509: X509Certificate): string[] {
  const names = new Set<string>();
  for (const part of (x509.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) names.add(part.slice(4).toLowerCase());
  }
  if (names.size === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject);
    if (cn !== null) names.add(cn[1]!.trim().toLowerCase());
  }
  return [...names];
}

export function loadCertificate(certPem: string, keyPem: string, source: string, now = Date.now()): LoadedCertificate {
  const chain = certPem.match(PEM_CERT);
  if (chain === null) throw new CertificateError(`${source}: no PEM certificate found`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(chain[0]);
    for (const c of chain.slice(1)) new X509Certificate(c);
  } catch (err) {
    throw new CertificateError(`${source}: the certificate cannot be parsed: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CertificateError(`${source}: the private key cannot be read: ${(err as Error).message}`);
  }
  const names = certificateNames(x509);
  const label = names.length > 0 ? names.join(', ') : x509.subject;
  if (!x509.checkPrivateKey(key)) throw new CertificateError(`${source}: the private key does not match the certificate for ${label}`);
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now) throw new CertificateError(`${source}: the certificate for ${label} expired on ${notAfter.toISOString()}`);
  return {
    id: createHash('sha256').update(certPem).update('\0').update(keyPem).digest('hex').slice(0, 32),
    certPem,
    keyPem,
    names,
    notBefore: new Date(x509.validFrom),
    notAfter,
    keyType: key.asymmetricKeyType ?? 'unknown',
    source,
  };
}

/** Whether a certificate name ("*.example.com" or exact) covers a host name. */
export function nameCovers(certName: string, host: string): boolean {
  if (certName === host) return true;
  if (!certName.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === certName.slice(2);
}

export function covers(cert: Pick<LoadedCertificate, 'names'>, host: string): boolean {
  return cert.names.some((n) => nameCovers(n, host));
}
