// Certificates for tests, made with openssl (Debian's, always present where
// the tests run): self-signed leaf certificates, or a CA and leaves it signs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

let dir: string | null = null;
let n = 0;

function workDir(): string {
  dir ??= mkdtempSync(join(tmpdir(), 'portero-certs-'));
  return dir;
}

export interface CertOptions {
  /** DNS names (the first is the CN). */
  names: string[];
  key?: 'ec' | 'rsa';
  days?: number;
  /** Sign with this CA instead of self-signing. */
  ca?: TestCert;
  isCa?: boolean;
}

export function makeCert(o: CertOptions): TestCert {
  const base = join(workDir(), `c${n++}`);
  const keyFile = `${base}.key`;
  const certFile = `${base}.crt`;
  const keyArgs = o.key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const san = o.names.length > 0 ? o.names.map((x) => `DNS:${x}`).join(',') : '';
  const ext = [...(san ? ['-addext', `subjectAltName=${san}`] : []), ...(o.isCa ? ['-addext', 'basicConstraints=critical,CA:TRUE'] : [])];
  const subj = `/CN=${o.names[0] ?? 'test'}`;
  const days = String(o.days ?? 30);
  if (o.ca === undefined) {
    execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', days, '-subj', subj, ...ext], { stdio: 'ignore' });
  } else {
    const csr = `${base}.csr`;
    execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', csr, '-subj', subj], { stdio: 'ignore' });
    const extFile = `${base}.ext`;
    writeFileSync(extFile, san ? `subjectAltName=${san}\n` : '');
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', o.ca.certFile, '-CAkey', o.ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', days, '-extfile', extFile], { stdio: 'ignore' });
  }
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** A certificate that expired in 2020 (openssl 3.0's req cannot backdate; selfsigned can). */
export async function makeExpiredCert(name: string): Promise<TestCert> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    notBeforeDate: new Date('2020-01-01T00:00:00Z'),
    notAfterDate: new Date('2020-02-01T00:00:00Z'),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }],
  } as Parameters<typeof generate>[1]);
  const base = join(workDir(), `e${n++}`);
  writeFileSync(`${base}.crt`, pems.cert);
  writeFileSync(`${base}.key`, pems.private);
  return { certFile: `${base}.crt`, keyFile: `${base}.key`, cert: pems.cert, key: pems.private };
}
