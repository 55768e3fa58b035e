// The certificates every TLS entry point serves, from all sources (files,
// ACME resolvers) plus the default. For each name the certificate that
// lives longest wins; the result is what workers load, as file names.
import type { LoadedCertificate } from './certificate.js';
import { CertificateFiles, type CertificateFilePair } from './files.js';

/** What a worker's TLS entry points load: the default and one certificate per SNI name. */
export interface ServedCertificates {
  default: CertificateFilePair;
  /** Sorted by name; names are exact ("a.example.com") or wildcards ("*.example.com"). */
  names: { name: string; files: CertificateFilePair }[];
}

export class CertificateStore {
  private readonly sources = new Map<string, LoadedCertificate[]>();
  private defaultCert: LoadedCertificate | null = null;
  private lastKey = '';
  private listeners: ((served: ServedCertificates) => void)[] = [];
  current: ServedCertificates | null = null;

  constructor(private readonly files: CertificateFiles = new CertificateFiles()) {}

  /** Replaces one source's certificates ("file", "acme:le"). */
  set(source: string, certs: readonly LoadedCertificate[]): void {
    this.sources.set(source, [...certs]);
    this.publish();
  }

  setDefault(cert: LoadedCertificate): void {
    this.defaultCert = cert;
    this.publish();
  }

  /** Every loaded certificate, for coverage checks and the API. */
  all(): LoadedCertificate[] {
    return [...this.sources.values()].flat();
  }

  onChange(listener: (served: ServedCertificates) => void): void {
    this.listeners.push(listener);
  }

  private publish(): void {
    if (this.defaultCert === null) return;
    const best = new Map<string, LoadedCertificate>();
    for (const c of this.all()) {
      for (const name of c.names) {
        const seen = best.get(name);
        if (seen === undefined || c.notAfter > seen.notAfter) best.set(name, c);
      }
    }
    const names = [...best.keys()].sort();
    const key = `${this.defaultCert.id}|${names.map((n) => `${n}=${best.get(n)!.id}`).join(',')}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const served: ServedCertificates = {
      default: this.files.pair(this.defaultCert),
      names: names.map((name) => ({ name, files: this.files.pair(best.get(name)!) })),
    };
    this.files.retain(new Set([this.defaultCert.id, ...[...best.values()].map((c) => c.id)]));
    this.current = served;
    for (const l of this.listeners) l(served);
  }

  close(): void {
    this.files.close();
  }
}
