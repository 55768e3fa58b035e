// portero's version for /api/version: package.json's, read once (the image
// ships package.json beside dist/). "dev" if it cannot be read.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function porteroVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      cached = pkg.name === 'portero' && typeof pkg.version === 'string' ? pkg.version : 'dev';
    } catch {
      cached = 'dev';
    }
  }
  return cached;
}
