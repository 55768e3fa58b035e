// What a result depends on besides the code: machine, runtimes, and which
// portero (commit, and whether src/ had uncommitted changes).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';

export interface Environment {
  date: string;
  cpuModel: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  autocannon: string;
  uWebSockets: string;
  /** This checkout (the bench's own code, and portero unless --portero-cli). */
  portero: Checkout;
}

export interface Checkout {
  version: string;
  commit: string;
  uncommittedSrcFiles: number;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function packageVersion(require: NodeJS.Require, name: string): string {
  try {
    const pkg = require(`${name}/package.json`) as { name?: string; version?: string };
    return pkg.name !== undefined && pkg.name !== name ? `${pkg.name}@${pkg.version}` : (pkg.version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** package.json version and git state of a portero checkout. */
export function checkout(root: string): Checkout {
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not a checkout
  }
  const dirty = git(root, ['status', '--porcelain', '--', 'src']);
  return {
    version,
    commit: git(root, ['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedSrcFiles: dirty === '' ? 0 : dirty.split('\n').length,
  };
}

export function describeCheckout(c: Checkout): string {
  return `${c.version} at ${c.commit}${c.uncommittedSrcFiles > 0 ? ` with ${c.uncommittedSrcFiles} uncommitted file(s) under src/` : ''}`;
}

/** root: the repository (where package.json is). */
export function environment(root: string): Environment {
  const require = createRequire(join(root, 'package.json'));
  return {
    date: new Date().toISOString(),
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    autocannon: packageVersion(require, 'autocannon'),
    uWebSockets: packageVersion(require, 'uWebSockets.js'),
    portero: checkout(root),
  };
}

/** The nearest folder at or above from holding portero's package.json (a checkout's root). */
export function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'portero') return dir;
      } catch {
        // not ours
      }
    }
    if (dirname(dir) === dir) throw new Error(`no portero checkout at or above ${from}`);
  }
}
