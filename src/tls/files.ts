// uWebSockets.js takes certificates and keys as file names, so the PEMs
// portero serves are written to a private directory (0700, files 0600)
// that is removed when the process exits. Files are named by content, and a
// file no longer served is deleted only after workers had time to load its
// successor.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedCertificate } from './certificate.js';

export interface CertificateFilePair {
  cert: string;
  key: string;
}

const REMOVE_AFTER_MS = 60_000;

export class CertificateFiles {
  readonly dir: string;
  private readonly written = new Map<string, CertificateFilePair>();
  private readonly removeOnExit = () => rmSync(this.dir, { recursive: true, force: true });

  constructor(parent = tmpdir()) {
    this.dir = mkdtempSync(join(parent, 'portero-tls-'));
    process.once('exit', this.removeOnExit);
  }

  pair(c: LoadedCertificate): CertificateFilePair {
    let p = this.written.get(c.id);
    if (p === undefined) {
      p = { cert: join(this.dir, `${c.id}.crt`), key: join(this.dir, `${c.id}.key`) };
      writeFileSync(p.key, c.keyPem, { mode: 0o600, flag: 'w' });
      writeFileSync(p.cert, c.certPem, { mode: 0o600, flag: 'w' });
      this.written.set(c.id, p);
    }
    return p;
  }

  /** Deletes, later, the files of certificates not in `inUse`. */
  retain(inUse: ReadonlySet<string>): void {
    for (const [id, p] of this.written) {
      if (inUse.has(id)) continue;
      this.written.delete(id);
      setTimeout(() => {
        if (this.written.has(id)) return;
        for (const f of [p.cert, p.key]) {
          try {
            unlinkSync(f);
          } catch {
            /* already gone */
          }
        }
      }, REMOVE_AFTER_MS).unref();
    }
  }

  close(): void {
    process.off('exit', this.removeOnExit);
    this.removeOnExit();
  }
}
