// Debian's Chromium for the browser tests (driven by playwright-core): where
// it is, how it is started, and whether a test runs without it (skipped with
// the reason on a developer's machine, a failure in CI).
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why `what` cannot run here, or undefined when Chromium is installed. */
export function chromiumMissing(what: string): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found: install Debian's chromium package (apt-get install -y chromium) to run ${what}`;
}

/** The test's `skip` option: the reason outside CI, none in CI (where the test then fails). */
export function skipWithout(missing: string | undefined): string | undefined {
  return missing !== undefined && process.env.CI !== 'true' ? missing : undefined;
}
