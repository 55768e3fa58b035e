// acme.json in Traefik's format, so a Traefik instance's file is read as is:
//   { "<resolver>": { "Account": { "Email", "Registration": { "body", "uri" },
//     "PrivateKey": <base64 PKCS#1 DER>, "KeyType" }, "Certificates": [
//     { "domain": { "main", "sans" }, "certificate": <base64 PEM chain>,
//       "key": <base64 PEM key>, "Store": "default" } ] } }
// The file holds private keys: it is created 0600 and refused when others can
// read it, as Traefik does. Writes go to a temporary file renamed over it, so
// a reader (another instance on a shared volume) never sees half a file.
// One file may hold several resolvers; a write rewrites only its own.
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StoredDomain {
  main: string;
  sans?: string[];
}

export interface StoredCertificate {
  domain: StoredDomain;
  /** Base64 of the PEM chain. */
  certificate: string;
  /** Base64 of the PEM key. */
  key: string;
  Store: string;
}

export interface StoredAccount {
  Email: string;
  Registration: { body: Record<string, unknown>; uri: string } | null;
  /** Base64 of the PKCS#1 DER RSA key. */
  PrivateKey: string;
  KeyType: string;
}

export interface ResolverData {
  Account: StoredAccount | null;
  Certificates: StoredCertificate[] | null;
}

export class StorageError extends Error {}

export class AcmeStorage {
  constructor(readonly path: string) {}

  /** Checks permissions before anything is read (a missing file is fine). */
  check(): void {
    let mode: number;
    try {
      mode = statSync(this.path).mode;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StorageError(`cannot read ${this.path}: ${(err as Error).message}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new StorageError(`permissions ${(mode & 0o777).toString(8)} for ${this.path} are too open, please use 600`);
    }
  }

  /** The whole file; {} when it does not exist or is empty. */
  readAll(): Record<string, ResolverData> {
    this.check();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new StorageError(`cannot read ${this.path}: ${(err as Error).message}`);
    }
    if (text.trim() === '') return {};
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new StorageError(`${this.path} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new StorageError(`${this.path}: expected an object of resolvers`);
    return data as Record<string, ResolverData>;
  }

  read(resolver: string): ResolverData {
    const d = this.readAll()[resolver];
    return { Account: d?.Account ?? null, Certificates: d?.Certificates ?? null };
  }

  /** Replaces one resolver's data, keeping the others'. */
  write(resolver: string, data: ResolverData): void {
    const all = this.readAll();
    all[resolver] = data;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  /** Changes when the file does (for polling by other instances' writes). */
  stamp(): string {
    try {
      const s = statSync(this.path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'none';
    }
  }
}

export function decodePem(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

export function encodePem(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}
