// With no default certificate configured, clients whose name no certificate
// covers get a generated self-signed one, as Traefik's "TRAEFIK DEFAULT CERT".
import { generate } from 'selfsigned';
import { loadCertificate, type LoadedCertificate } from './certificate.js';

export const DEFAULT_CERT_NAME = 'PORTERO DEFAULT CERT';

export async function generateDefaultCertificate(): Promise<LoadedCertificate> {
  const pems = await generate([{ name: 'commonName', value: DEFAULT_CERT_NAME }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'portero.default.invalid' }] },
    ],
  } as Parameters<typeof generate>[1]);
  return loadCertificate(pems.cert, pems.private, 'generated default certificate');
}
