import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FileProviderConfig } from '../../src/config/static.js';
import type { ConfigError, DynamicConfig } from '../../src/dynamic/model.js';
import { createLogger } from '../../src/log.js';
import { FileProvider, loadFileProviderConfig } from '../../src/providers/file.js';

const quiet = createLogger('silent');
const root = mkdtempSync(join(tmpdir(), 'portero-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

function freshDir(): string {
  const dir = join(root, `case${++dirCount}`);
  mkdirSync(dir);
  return dir;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

interface Update {
  config: DynamicConfig;
  errors: ConfigError[];
}

/** A FileProvider whose listener calls are queued for the test to take. */
class Harness {
  readonly updates: Update[] = [];
  private waiter?: () => void;
  readonly provider: FileProvider;

  constructor(config: FileProviderConfig) {
    this.provider = new FileProvider(
      config,
      (c, errors) => {
        this.updates.push({ config: c, errors });
        this.waiter?.();
      },
      { logger: quiet },
    );
  }

  /** The next listener call, failing after `ms`. */
  async next(ms = 1000): Promise<Update> {
    const deadline = Date.now() + ms;
    while (this.updates.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no configuration update within ${ms} ms`);
      await new Promise<void>((done) => {
        const t = setTimeout(done, left);
        this.waiter = () => {
          clearTimeout(t);
          done();
        };
      });
    }
    return this.updates.shift()!;
  }
}

const YAML_CONFIG = `
http:
  routers:
    whoami:
      rule: "Host(\`whoami.local\`)"
      entryPoints: [web]
      service: whoami
  services:
    whoami:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:8081"
`;

const WHOAMI: DynamicConfig = {
  http: {
    routers: { whoami: { rule: 'Host(`whoami.local`)', entryPoints: ['web'], service: 'whoami' } },
    services: { whoami: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:8081' }] } } },
    middlewares: {},
  },
};

function routerRule(rule: string): string {
  return `http:\n  routers:\n    r:\n      rule: "${rule}"\n`;
}

describe('file provider: one file', () => {
  test('YAML', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, YAML_CONFIG);
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    assert.deepEqual(h.updates, [{ config: WHOAMI, errors: [] }]);
    assert.equal(h.provider.lastError, undefined);
    assert.deepEqual(h.provider.current, { config: WHOAMI, errors: [] });
    await h.provider.stop();
  });

  test('JSON', async () => {
    const file = join(freshDir(), 'dynamic.json');
    writeFileSync(file, JSON.stringify(WHOAMI, null, 2));
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    assert.deepEqual(h.updates, [{ config: WHOAMI, errors: [] }]);
    await h.provider.stop();
  });

  test('.yaml extension and case-insensitive keys', async () => {
    const file = join(freshDir(), 'dynamic.yaml');
    writeFileSync(file, YAML_CONFIG.replace('loadBalancer', 'loadbalancer').replace('entryPoints', 'entrypoints'));
    const r = await loadFileProviderConfig({ filename: file, watch: false });
    assert.deepEqual(r.config, WHOAMI);
  });

  test('TOML is refused with a clear error', async () => {
    const file = join(freshDir(), 'dynamic.toml');
    writeFileSync(file, '[http.routers.r]\nrule = "Path(`/`)"\n');
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    assert.equal(h.updates.length, 0);
    assert.match(h.provider.lastError!.message, /TOML is not supported/);
  });

  test('normalization errors are reported per element, the rest is served', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(
      file,
      `
http:
  routers:
    good: {rule: "Path(\`/\`)", service: svc}
    norule: {service: svc}
  services:
    svc: {loadBalancer: {servers: [{url: "http://10.0.0.1"}]}}
    badweight: {loadBalancer: {servers: [{url: "http://10.0.0.1", weight: -2}]}}
tcp:
  routers: {}
`,
    );
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    const [update] = h.updates;
    assert.deepEqual(Object.keys(update!.config.http.routers), ['good']);
    assert.deepEqual(Object.keys(update!.config.http.services), ['svc']);
    assert.deepEqual(
      update!.errors.map((e) => [e.provider, e.element]),
      [
        ['file', { kind: 'router', name: 'norule' }],
        ['file', { kind: 'service', name: 'badweight' }],
      ],
    );
    assert.ok(update!.errors.every((e) => e.message.includes(file)));
  });

  test('a broken file at start: no configuration, lastError with position', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, 'http:\n  routers:\n    r: {rule: "x"\n');
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    assert.equal(h.updates.length, 0);
    const err = h.provider.lastError!;
    assert.equal(err.file, file);
    assert.equal(typeof err.line, 'number');
    assert.equal(typeof err.column, 'number');
    assert.ok(err.message.startsWith(`${file}:${err.line}:${err.column}: `), err.message);
  });

  test('a JSON syntax error has a position too', async () => {
    const file = join(freshDir(), 'dynamic.json');
    writeFileSync(file, '{\n  "http": {\n    "routers": {,}\n  }\n}\n');
    const h = new Harness({ filename: file, watch: false });
    await h.provider.start();
    const err = h.provider.lastError!;
    assert.deepEqual([err.line, err.column], [3, 17]);
  });

  test('a missing file is an error, not a crash', async () => {
    const h = new Harness({ filename: join(freshDir(), 'nope.yml'), watch: false });
    await h.provider.start();
    assert.match(h.provider.lastError!.message, /cannot read/);
  });
});

describe('file provider: directory', () => {
  test('files are merged, recursively; dot files are skipped', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'routers.yml'), 'http:\n  routers:\n    whoami: {rule: "Path(`/`)", service: whoami}\n');
    mkdirSync(join(dir, 'services'));
    writeFileSync(
      join(dir, 'services', 'whoami.json'),
      JSON.stringify({ http: { services: { whoami: { loadBalancer: { servers: [{ url: 'http://10.0.0.1' }] } } } } }),
    );
    writeFileSync(join(dir, '.hidden.yml'), 'http:\n  routers:\n    hidden: {rule: "Path(`/h`)"}\n');
    writeFileSync(join(dir, 'notes.txt'), 'not configuration');
    const h = new Harness({ directory: dir, watch: false });
    await h.provider.start();
    const [update] = h.updates;
    assert.deepEqual(update!.errors, []);
    assert.deepEqual(Object.keys(update!.config.http.routers), ['whoami']);
    assert.deepEqual(Object.keys(update!.config.http.services), ['whoami']);
  });

  test('a name defined differently in two files is an error for that element', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.yml'), 'http:\n  routers:\n    dup: {rule: "Path(`/a`)"}\n    same: {rule: "Path(`/s`)"}\n');
    writeFileSync(join(dir, 'b.yml'), 'http:\n  routers:\n    dup: {rule: "Path(`/b`)"}\n    same: {rule: "Path(`/s`)"}\n    onlyb: {rule: "Path(`/o`)"}\n');
    const r = await loadFileProviderConfig({ directory: dir, watch: false });
    assert.deepEqual(Object.keys(r.config.http.routers).sort(), ['onlyb', 'same']);
    assert.equal(r.errors.length, 1);
    assert.deepEqual(r.errors[0]!.element, { kind: 'router', name: 'dup' });
    assert.ok(r.errors[0]!.message.includes(join(dir, 'a.yml')) && r.errors[0]!.message.includes(join(dir, 'b.yml')));
  });

  test('a TOML file in the directory is skipped with an error', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.yml'), routerRule('Path(`/`)'));
    writeFileSync(join(dir, 'old.toml'), '[http]\n');
    const r = await loadFileProviderConfig({ directory: dir, watch: false });
    assert.deepEqual(Object.keys(r.config.http.routers), ['r']);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /old\.toml.*TOML/);
  });

  test('one broken file keeps the whole last good configuration', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.yml'), routerRule('Path(`/a`)'));
    writeFileSync(join(dir, 'b.yml'), 'http: [\n');
    await assert.rejects(loadFileProviderConfig({ directory: dir, watch: false }), (err: Error) =>
      err.message.startsWith(join(dir, 'b.yml') + ':'),
    );
  });
});

describe('file provider: watching', () => {
  test('an edit is live within 1 s', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, routerRule('Path(`/one`)'));
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    try {
      assert.equal((await h.next()).config.http.routers.r!.rule, 'Path(`/one`)');
      const t0 = Date.now();
      writeFileSync(file, routerRule('Path(`/two`)'));
      assert.equal((await h.next(1000)).config.http.routers.r!.rule, 'Path(`/two`)');
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      await h.provider.stop();
    }
  });

  test('rename-on-save (how many editors write) is picked up', async () => {
    const dir = freshDir();
    const file = join(dir, 'dynamic.yml');
    writeFileSync(file, routerRule('Path(`/one`)'));
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    try {
      await h.next();
      for (const n of ['two', 'three']) {
        writeFileSync(join(dir, '.dynamic.yml.tmp'), routerRule(`Path(\`/${n}\`)`));
        renameSync(join(dir, '.dynamic.yml.tmp'), file);
        assert.equal((await h.next(1000)).config.http.routers.r!.rule, `Path(\`/${n}\`)`);
      }
    } finally {
      await h.provider.stop();
    }
  });

  test('a Kubernetes ConfigMap update (..data symlink swap) is picked up', async () => {
    const dir = freshDir();
    for (const v of ['v1', 'v2']) {
      mkdirSync(join(dir, `..${v}`));
      writeFileSync(join(dir, `..${v}`, 'dynamic.yml'), routerRule(`Path(\`/${v}\`)`));
    }
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'dynamic.yml'), join(dir, 'dynamic.yml'));
    for (const config of [{ filename: join(dir, 'dynamic.yml') }, { directory: dir }]) {
      const h = new Harness({ ...config, watch: true });
      await h.provider.start();
      try {
        const before = (await h.next()).config.http.routers.r!.rule;
        const next = before === 'Path(`/v1`)' ? 'v2' : 'v1';
        symlinkSync(`..${next}`, join(dir, '..data_tmp'));
        renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
        assert.equal((await h.next()).config.http.routers.r!.rule, `Path(\`/${next}\`)`);
      } finally {
        await h.provider.stop();
      }
    }
  });

  test('directory: new, changed and removed files', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.yml'), 'http:\n  routers:\n    a: {rule: "Path(`/a`)"}\n');
    const h = new Harness({ directory: dir, watch: true });
    await h.provider.start();
    try {
      assert.deepEqual(Object.keys((await h.next()).config.http.routers), ['a']);
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'b.yaml'), 'http:\n  routers:\n    b: {rule: "Path(`/b`)"}\n');
      assert.deepEqual(Object.keys((await h.next()).config.http.routers), ['a', 'b']);
      rmSync(join(dir, 'a.yml'));
      assert.deepEqual(Object.keys((await h.next()).config.http.routers), ['b']);
    } finally {
      await h.provider.stop();
    }
  });

  test('a broken edit keeps the last good configuration until fixed', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, routerRule('Path(`/good`)'));
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    try {
      await h.next();
      writeFileSync(file, 'http:\n  routers:\n    r:\n      rule: "Path(`/broken`)\n      service: [\n');
      const deadline = Date.now() + 1000;
      while (!h.provider.lastError && Date.now() < deadline) await sleep(20);
      const err = h.provider.lastError;
      assert.ok(err, 'the broken file should be reported');
      assert.equal(err.file, file);
      assert.ok(err.line! >= 1 && err.column! >= 1);
      assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
      await sleep(200);
      assert.equal(h.updates.length, 0, 'the listener must not see a broken configuration');
      assert.equal(h.provider.current!.config.http.routers.r!.rule, 'Path(`/good`)');

      writeFileSync(file, routerRule('Path(`/fixed`)'));
      assert.equal((await h.next()).config.http.routers.r!.rule, 'Path(`/fixed`)');
      assert.equal(h.provider.lastError, undefined);
    } finally {
      await h.provider.stop();
    }
  });

  test('touching a file without changing it does not call the listener', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, routerRule('Path(`/same`)'));
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    try {
      await h.next();
      writeFileSync(file, routerRule('Path(`/same`)') + '# a comment\n');
      await sleep(400);
      assert.equal(h.updates.length, 0);
    } finally {
      await h.provider.stop();
    }
  });

  test('a file created after start is picked up', async () => {
    const dir = freshDir();
    const file = join(dir, 'later.yml');
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    try {
      assert.ok(h.provider.lastError);
      writeFileSync(file, routerRule('Path(`/later`)'));
      assert.equal((await h.next()).config.http.routers.r!.rule, 'Path(`/later`)');
    } finally {
      await h.provider.stop();
    }
  });

  test('no listener call after stop()', async () => {
    const file = join(freshDir(), 'dynamic.yml');
    writeFileSync(file, routerRule('Path(`/a`)'));
    const h = new Harness({ filename: file, watch: true });
    await h.provider.start();
    await h.next();
    await h.provider.stop();
    writeFileSync(file, routerRule('Path(`/b`)'));
    await sleep(300);
    assert.equal(h.updates.length, 0);
  });
});
