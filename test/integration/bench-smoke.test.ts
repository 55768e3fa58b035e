// The bench runs end to end on a tiny matrix and writes a well-formed
// report. Nothing about speed is asserted: this only checks the bench works
// (and keeps working on a machine without nginx, HAProxy or Caddy).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../../bench/peers/find.js';
import type { Report } from '../../bench/report-data.js';
import type { WebSocketReport } from '../../bench/websocket.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), 80_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('bench: a tiny matrix runs and writes JSON, Markdown and SVG', { timeout: 100_000 }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'portero-bench-smoke-'));
  try {
    // HAProxy is made to look missing, so the skip path always runs; nginx
    // runs when it is installed and is skipped otherwise.
    const { code, out } = await run(
      ['--full', '--replicas=1', '--workers=1', '--bodies=20', '--duration=1', '--warmup=0', '--rounds=1', '--peers=direct,nginx,haproxy,portero', '--quiet-wait=0', '--retries=0', `--results-dir=${dir}`, '--out=smoke'],
      { ...process.env, HAPROXY_BIN: join(dir, 'no-haproxy-here') },
    );
    assert.equal(code, 0, out);
    assert.match(out, /\[1\/\d+\] cell 1\/1 \(1 replica, 1 worker, GET 20 B\): direct \| elapsed \d+s, ETA \d+s/);

    const rep = JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8')) as Report;
    assert.equal(rep.schema, 2);
    for (const k of ['date', 'cpuModel', 'node', 'autocannon'] as const) assert.ok(rep.env[k], `env.${k}`);
    assert.ok(rep.versions.portero, 'portero version');
    assert.deepEqual(rep.settings.replicas, [1]);
    assert.deepEqual(rep.settings.bodies, ['20']);
    const skipped = rep.skipped.find((s) => s.peer === 'haproxy');
    assert.ok(skipped, 'haproxy skipped');
    assert.match(skipped.reason, /apt-get install -y haproxy/);

    const nginxRan = rep.rows.some((r) => r.peer === 'nginx');
    assert.equal(nginxRan, !rep.skipped.some((s) => s.peer === 'nginx'));
    for (const peer of ['direct', 'portero', ...(nginxRan ? ['nginx'] : [])]) {
      const row = rep.rows.find((r) => r.peer === peer);
      assert.ok(row, `a row for ${peer}`);
      assert.equal(row.status, 'ok', `${peer}: ${row.note}`);
      assert.deepEqual([row.replicas, row.workers, row.body], [1, 1, '20']);
      const m = row.measurement!;
      assert.ok(m.load.requests > 0, `${peer} answered`);
      assert.equal(m.load.errors + m.load.timeouts + m.load.non2xx + m.load.mismatches, 0, `${peer}: every answer right`);
      for (const k of ['p50', 'p90', 'p99', 'max'] as const) assert.equal(typeof m.load.latencyMs[k], 'number');
      if (peer !== 'direct') {
        assert.ok((m.cpuS.proxy ?? 0) >= 0);
        assert.ok((row.peakRssKiB ?? 0) > 0, `${peer} peak RSS`);
      }
    }
    assert.ok(rep.ratios.some((r) => r.peer === 'direct'));
    if (nginxRan) assert.ok(rep.ratios.some((r) => r.peer === 'nginx' && r.reqPerSec > 0));

    const svg = readFileSync(join(dir, 'smoke.svg'), 'utf8');
    assert.ok(svg.startsWith('<svg'), 'SVG starts with <svg');
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    const md = readFileSync(join(dir, 'smoke.md'), 'utf8');
    assert.match(md, /^# portero bench/);
    assert.match(md, /\(smoke\.svg\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench --websocket: one tiny round through portero (and nginx when installed) writes its report', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'portero-bench-ws-smoke-'));
  try {
    const { code, out } = await run(
      ['--websocket', '--ws-connections=8', '--duration=1', '--warmup=0', '--rounds=1', '--quiet-wait=0', '--retries=0', `--results-dir=${dir}`, '--out=ws-smoke'],
      process.env,
    );
    assert.equal(code, 0, out);
    const rep = (JSON.parse(readFileSync(join(dir, 'ws-smoke.json'), 'utf8')) as { websocket: WebSocketReport }).websocket;
    const nginx = findBinary('nginx', 'NGINX_BIN') !== null;
    assert.deepEqual(rep.skipped.map((s) => s.peer), nginx ? [] : ['nginx']);
    for (const peer of ['portero', ...(nginx ? ['nginx'] : [])]) {
      const row = rep.rows.find((r) => r.peer === peer);
      assert.ok(row, `a row for ${peer}`);
      assert.equal(row.connections, 8);
      assert.equal(row.connected, 8, `${peer}: every connection opened`);
      assert.ok(row.messages > 0, `${peer} echoed`);
      assert.equal(row.errors, '', `${peer}: every echo right`);
      for (const k of ['msgsPerSec', 'msgsPerCpuSecond', 'proxyCores', 'loadCores'] as const) assert.equal(typeof row[k], 'number', k);
    }
    assert.match(readFileSync(join(dir, 'ws-smoke.md'), 'utf8'), /^# WebSocket echo: portero vs nginx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
