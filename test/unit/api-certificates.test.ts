// A certificate as Traefik's /api/certificates describes it, checked against
// what openssl reads from the same certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { certificateStatus, describeCertificate } from '../../src/api/certificates.js';
import { makeCert, makeExpiredCert } from '../helpers/certs.js';

function openssl(certFile: string, ...args: string[]): string {
  return execFileSync('openssl', ['x509', '-in', certFile, '-noout', ...args], { encoding: 'utf8' }).trim();
}

test('an EC leaf signed by a CA: names, issuer, key, algorithm, serial and fingerprints as openssl reads them', () => {
  const ca = makeCert({ names: ['Test CA'], isCa: true, key: 'rsa' });
  const leaf = makeCert({ names: ['b.example', 'a.example'], ca, key: 'ec', days: 90 });
  const d = describeCertificate(leaf.cert);

  const fingerprint = openssl(leaf.certFile, '-fingerprint', '-sha256').split('=')[1]!.replace(/:/g, '').toLowerCase();
  assert.equal(d.name, fingerprint);
  assert.equal(d.certFingerprint, fingerprint);
  assert.deepEqual(d.sans, ['a.example', 'b.example'], 'sorted');
  assert.equal(d.commonName, 'b.example');
  assert.equal(d.issuerCN, 'Test CA');
  assert.equal(d.issuerOrg, undefined, 'omitted when empty, as Traefik does');
  assert.deepEqual([d.version, d.keyType, d.keySize], ['v3', 'ECDSA', 256]);
  // A CA with an RSA key signs with SHA-256: Go calls it SHA256-RSA.
  assert.match(openssl(leaf.certFile, '-text'), /Signature Algorithm: sha256WithRSAEncryption/);
  assert.equal(d.signatureAlgorithm, 'SHA256-RSA');
  assert.equal(d.serialNumber, BigInt(`0x${openssl(leaf.certFile, '-serial').split('=')[1]}`).toString());
  const spki = execFileSync('sh', ['-c', `openssl x509 -in ${leaf.certFile} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r`], { encoding: 'utf8' });
  assert.equal(d.publicKeyFingerprint, spki.split(' ')[0]);
  assert.equal(d.notAfter, new Date(openssl(leaf.certFile, '-enddate').split('=')[1]!).toISOString().replace('.000Z', 'Z'));
  assert.match(d.notBefore, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(d.status, 'enabled');
});

test('a self-signed RSA certificate: its key type, size and signature algorithm', () => {
  const c = makeCert({ names: ['rsa.example'], key: 'rsa' });
  const d = describeCertificate(c.cert);
  assert.deepEqual([d.keyType, d.keySize, d.signatureAlgorithm], ['RSA', 2048, 'SHA256-RSA']);
  assert.equal(d.issuerCN, 'rsa.example');
});

test('status: expired, warning within 30 days, enabled after', async () => {
  const expired = await makeExpiredCert('old.example');
  assert.equal(describeCertificate(expired.cert).status, 'expired');
  const day = 24 * 3600 * 1000;
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(certificateStatus(new Date(now + 29 * day), now), 'warning');
  assert.equal(certificateStatus(new Date(now + 31 * day), now), 'enabled');
  assert.equal(certificateStatus(new Date(now - 1), now), 'expired');
});
