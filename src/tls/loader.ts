// Reads the configured certificates (file paths or inline PEM) and checks
// them. One bad certificate is an error naming it; the others load.
import { readFileSync } from 'node:fs';
import { fileOrContent } from '../config/values.js';
import { CertificateError, certificateNames, loadCertificate, type LoadedCertificate } from './certificate.js';
import { X509Certificate } from 'node:crypto';

export interface CertificateSource {
  certFile: string;
  keyFile: string;
}

export interface CertificateProblem {
  message: string;
  /** The names the bad certificate would have covered, when it could be parsed. */
  names: string[];
}

export interface LoadedCertificates {
  certificates: LoadedCertificate[];
  /** With the position of the source each came from. */
  problems: (CertificateProblem & { source: number })[];
}

function describeSource(s: CertificateSource): string {
  const inline = (v: string) => v.includes('-----BEGIN');
  return inline(s.certFile) ? 'inline certificate' : `certificate ${s.certFile}`;
}

/** Loads certificates, keeping the parsed result of unchanged contents from the previous call. */
export class CertificateLoader {
  private cache = new Map<string, LoadedCertificate | CertificateProblem>();

  constructor(
    private readonly readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
    private readonly now: () => number = Date.now,
  ) {}

  load(sources: readonly CertificateSource[]): LoadedCertificates {
    const next = new Map<string, LoadedCertificate | CertificateProblem>();
    const out: LoadedCertificates = { certificates: [], problems: [] };
    for (const [source, s] of sources.entries()) {
      const what = describeSource(s);
      let certPem: string;
      let keyPem: string;
      try {
        certPem = fileOrContent(s.certFile, this.readFile);
        keyPem = fileOrContent(s.keyFile, this.readFile);
      } catch (err) {
        out.problems.push({ message: `${what}: cannot read ${(err as NodeJS.ErrnoException).path ?? 'a file'}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, names: [], source });
        continue;
      }
      const key = `${certPem}\0${keyPem}`;
      let r = next.get(key) ?? this.cache.get(key);
      // Expiry moves with the clock: a cached certificate is checked again.
      if (r === undefined || ('notAfter' in r && r.notAfter.getTime() <= this.now())) r = this.loadOne(certPem, keyPem, what);
      next.set(key, r);
      if ('id' in r) {
        if (!out.certificates.some((c) => c.id === r.id)) out.certificates.push(r);
      } else out.problems.push({ ...r, source });
    }
    this.cache = next;
    return out;
  }

  /** One certificate, outside the set `load` keeps (the default certificate). */
  peek(s: CertificateSource): LoadedCertificate | CertificateProblem {
    try {
      return this.loadOne(fileOrContent(s.certFile, this.readFile), fileOrContent(s.keyFile, this.readFile), describeSource(s));
    } catch (err) {
      return { message: `${describeSource(s)}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, names: [] };
    }
  }

  private loadOne(certPem: string, keyPem: string, what: string): LoadedCertificate | CertificateProblem {
    try {
      return loadCertificate(certPem, keyPem, what, this.now());
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err;
      let names: string[] = [];
      try {
        names = certificateNames(new X509Certificate(certPem));
      } catch {
        /* unparsable: its names are unknown */
      }
      return { message: err.message, names };
    }
  }
}
