// The file provider driving a real portero: edits are live within 1 s, and a
// broken file keeps the last good table.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { startWhoami } from '../../src/demo/whoami.js';
import { Portero } from '../../src/portero.js';
import { createProviders } from '../../src/providers/index.js';
import { freePort, testStaticConfig } from '../helpers/portero.js';
import { request } from '../helpers/http.js';

const yaml = (host: string, port: number) =>
  `http:\n  routers:\n    r:\n      rule: Host(\`${host}\`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:${port}\n`;

async function until(fn: () => Promise<boolean>, ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await fn()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

test('file provider: an edit is live within 1 s; a broken file keeps the last good configuration', async () => {
  const a = await startWhoami('a');
  const b = await startWhoami('b');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-file-'));
  const file = path.join(dir, 'dynamic.yml');
  writeFileSync(file, yaml('one', a.port));
  const config = testStaticConfig(await freePort(), await freePort(), 1);
  config.providers.file = { filename: file, watch: true };
  const log = pino({ level: 'silent' });
  const portero = new Portero({ config, log, providers: createProviders(config, log) });
  await portero.start();
  const web = config.entryPoints.web.port;
  try {
    assert.match((await request(web, { headers: { host: 'one' } })).body, /Hostname: a/);
    writeFileSync(file, yaml('two', b.port));
    const took = await until(async () => (await request(web, { headers: { host: 'two' } })).status === 200, 1000);
    assert.ok(took >= 0, 'the edit was live within 1 s');
    assert.match((await request(web, { headers: { host: 'two' } })).body, /Hostname: b/);

    writeFileSync(file, 'http:\n  routers: [this is: not valid\n');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await request(web, { headers: { host: 'two' } })).status, 200, 'last good configuration still serves');
  } finally {
    await portero.stop();
    await a.close();
    await b.close();
  }
});
