// Traefik's /api/certificates: the certificates TLS entry points serve (the
// configuration's, the ACME resolvers', a configured default; not the
// generated one), each described as Traefik's API describes an x509
// certificate. Fields Node's X509Certificate does not give (the version, the
// signature algorithm) are read from the DER.
import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateRepresentation {
  /** SHA-256 of the DER certificate, hex: the id in /api/certificates/{id}. */
  name: string;
  sans: string[];
  notAfter: string;
  notBefore: string;
  serialNumber: string;
  commonName: string;
  issuerOrg?: string;
  issuerCN?: string;
  issuerCountry?: string;
  organization?: string;
  country?: string;
  version: string;
  keyType: string;
  keySize?: number;
  signatureAlgorithm: string;
  certFingerprint: string;
  publicKeyFingerprint: string;
  status: 'enabled' | 'warning' | 'expired';
}

/** Traefik warns 30 days before a certificate expires. */
const WARN_BEFORE_MS = 30 * 24 * 3600 * 1000;

// Go's x509.SignatureAlgorithm names, by OID.
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'MD5-RSA',
  '1.2.840.113549.1.1.5': 'SHA1-RSA',
  '1.2.840.113549.1.1.11': 'SHA256-RSA',
  '1.2.840.113549.1.1.12': 'SHA384-RSA',
  '1.2.840.113549.1.1.13': 'SHA512-RSA',
  '1.2.840.113549.1.1.10': 'SHA256-RSAPSS',
  '1.2.840.10045.4.1': 'ECDSA-SHA1',
  '1.2.840.10045.4.3.2': 'ECDSA-SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA-SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA-SHA512',
  '1.3.101.112': 'Ed25519',
};

const CURVE_BITS: Record<string, number> = { prime256v1: 256, 'P-256': 256, secp384r1: 384, 'P-384': 384, secp521r1: 521, 'P-521': 521, secp224r1: 224 };

/** One DER element at `at`: where its contents start and end. */
function element(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len };
}

function oid(bytes: Uint8Array): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    v = v * 128 + (bytes[i]! & 0x7f);
    if ((bytes[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }; tbs starts with [0] version when not v1. */
function derFacts(der: Uint8Array): { version: number; signatureOid: string } {
  const cert = element(der, 0);
  const tbs = element(der, cert.start);
  const first = element(der, tbs.start);
  // [0] EXPLICIT INTEGER: 0 = v1, 2 = v3; Go counts from 1.
  const version = first.tag === 0xa0 ? der[element(der, first.start).start]! + 1 : 1;
  const algorithm = element(der, tbs.end);
  const id = element(der, algorithm.start);
  return { version, signatureOid: oid(der.subarray(id.start, id.end)) };
}

/** "CN=a\nO=b" (Node's distinguished-name text): the first value of `key`. */
function dnField(dn: string, key: string): string | undefined {
  for (const line of dn.split('\n')) if (line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  return undefined;
}

/** Go's time.Time in JSON: RFC 3339, no fraction when it is zero. */
function goTime(text: string): string {
  return new Date(text).toISOString().replace('.000Z', 'Z');
}

export function certificateStatus(notAfter: Date, now = Date.now()): CertificateRepresentation['status'] {
  const left = notAfter.getTime() - now;
  return left < 0 ? 'expired' : left < WARN_BEFORE_MS ? 'warning' : 'enabled';
}

/** The first certificate of a PEM chain (the leaf), as Traefik's API shows it. */
export function describeCertificate(pem: string, now = Date.now()): CertificateRepresentation {
  const x509 = new X509Certificate(pem);
  const der = new Uint8Array(x509.raw);
  const fingerprint = createHash('sha256').update(der).digest('hex');
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  const { version, signatureOid } = derFacts(der);
  const sans: string[] = [];
  for (const part of (x509.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) sans.push(part.slice(4));
    else if (part.startsWith('IP Address:')) sans.push(part.slice('IP Address:'.length));
  }
  sans.sort();
  const key = x509.publicKey.asymmetricKeyType;
  const details = x509.publicKey.asymmetricKeyDetails;
  const keySize = key === 'rsa' ? details?.modulusLength : key === 'ec' ? CURVE_BITS[details?.namedCurve ?? ''] : undefined;
  const optional = (k: string, v: string | undefined) => (v !== undefined && v !== '' ? { [k]: v } : {});
  return {
    name: fingerprint,
    sans,
    notAfter: goTime(x509.validTo),
    notBefore: goTime(x509.validFrom),
    serialNumber: BigInt(`0x${x509.serialNumber}`).toString(),
    commonName: dnField(x509.subject, 'CN') ?? '',
    ...optional('issuerOrg', dnField(x509.issuer, 'O')),
    ...optional('issuerCN', dnField(x509.issuer, 'CN')),
    ...optional('issuerCountry', dnField(x509.issuer, 'C')),
    ...optional('organization', dnField(x509.subject, 'O')),
    ...optional('country', dnField(x509.subject, 'C')),
    version: `v${version}`,
    keyType: key === 'rsa' ? 'RSA' : key === 'ec' ? 'ECDSA' : 'Unknown',
    ...(keySize !== undefined && keySize > 0 ? { keySize } : {}),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[signatureOid] ?? signatureOid,
    certFingerprint: fingerprint,
    publicKeyFingerprint: createHash('sha256').update(spki).digest('hex'),
    status: certificateStatus(new Date(x509.validTo), now),
  };
}
