// package.json points at files the build produces.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

test('package.json main and bin name files that the build produced', () => {
  // Tests run from the repository root, after `npm run build`.
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string; bin: Record<string, string> };
  assert.ok(existsSync(pkg.main), pkg.main);
  for (const file of Object.values(pkg.bin)) assert.ok(existsSync(file), file);
});
