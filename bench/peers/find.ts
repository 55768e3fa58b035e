// Finds a peer's executable: an environment variable naming it wins, then
// PATH, then the usual sbin folders (Debian puts nginx and haproxy there).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function findBinary(name: string, envVar: string): string | null {
  const env = process.env[envVar];
  if (env !== undefined && env !== '') return existsSync(env) ? env : null;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', `/usr/local/${name}/sbin`];
  for (const d of dirs) {
    if (d !== '' && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

/** What to tell the user when a peer is missing. */
export function installHint(name: string, envVar: string, pkg = name): string {
  return `${name} not found (set ${envVar}, or install it: apt-get update && apt-get install -y ${pkg})`;
}
