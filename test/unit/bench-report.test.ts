// The bench's pure parts: flags, body cases, peer configs, ratios, the
// chart, the progress estimate, the scale helpers. No processes, no load.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { BODY, bodyOf, bodyText, parseBodyCase } from '../../bench/body.js';
import type { DiscoveryReport } from '../../bench/discovery.js';
import { backendNginxConfig, type HeadlinePeer, type HeadlineReport, type HeadlineRow, headlineMarkdown, headlineNginxConfig, headlineRatios } from '../../bench/headline.js';
import type { Environment } from '../../bench/env.js';
import type { Measurement } from '../../bench/measure.js';
import { middlewaresConfig, middlewaresMarkdown, middlewaresRatio, ROWS } from '../../bench/middlewares.js';
import { caddyfile } from '../../bench/peers/caddy.js';
import { haproxyConfig } from '../../bench/peers/haproxy.js';
import { nginxConfig } from '../../bench/peers/nginx.js';
import { PORTERO_NODE_FLAGS, PORTERO_VARIANTS, porteroPeer } from '../../bench/peers/portero.js';
import { duration, Progress } from '../../bench/progress.js';
import type { Report, Row } from '../../bench/report-data.js';
import { cellRatio, markdown, ratios, saturated, textReport } from '../../bench/report.js';
import { FULL, parseOptions, QUICK } from '../../bench/run.js';
import { overlapping, routersYaml, spreadHosts } from '../../bench/scale.js';
import { axis, chartSvg } from '../../bench/svg.js';

test('body cases: sizes by name, bodies cut from the pattern', () => {
  assert.deepEqual(parseBodyCase('20'), { name: '20', method: 'GET', path: '/bytes/20', requestBytes: 0, responseBytes: 20 });
  assert.equal(parseBodyCase('16k').responseBytes, 16384);
  assert.equal(parseBodyCase('1M').responseBytes, 1 << 20);
  assert.deepEqual(parseBodyCase('post16k'), { name: 'post16k', method: 'POST', path: '/upload/16384', requestBytes: 16384, responseBytes: BODY.length });
  assert.throws(() => parseBodyCase('big'), /bad body case/);
  assert.throws(() => parseBodyCase('0'), /size/);
  assert.equal(bodyOf(20), BODY);
  assert.equal(bodyOf(45).length, 45);
  assert.ok(bodyOf(45).startsWith(BODY + BODY));
  assert.equal(bodyText('post16k'), 'POST 16 KiB');
  assert.equal(bodyText('1m'), 'GET 1 MiB');
});

test('flags: the headline cells by default, --full the matrix, --quick reduced, lists and aliases', () => {
  const headline = parseOptions([], '/repo');
  assert.deepEqual([headline.headline, headline.rounds, headline.durationS, headline.out], [true, 3, 4, 'headline']);
  assert.throws(() => parseOptions(['--workers=2'], '/repo'), /--workers choose cells of the matrix: add --full/);
  assert.equal(parseOptions(['--rounds=5'], '/repo').rounds, 5);
  for (const mode of ['--full', '--quick', '--scale', '--scale-only', '--soak=1', '--https', '--discovery', '--middlewares', '--websocket']) assert.equal(parseOptions([mode], '/repo').headline, false, mode);
  const full = parseOptions(['--full'], '/repo');
  assert.deepEqual(full.replicas, [1, 2, 4, 8]);
  assert.deepEqual(full.workers, [1, 2]);
  assert.deepEqual(full.bodies, ['20', '16k', '1m', 'post16k']);
  assert.deepEqual(full.peers, ['direct', 'nginx', 'haproxy', 'caddy', 'portero', 'portero-metrics', 'portero-accesslog']);
  assert.equal(full.durationS, FULL.durationS);
  assert.equal(full.scale, 'no');
  assert.equal(full.resultsDir, '/repo/bench/results');
  const quick = parseOptions(['--quick'], '/repo');
  assert.deepEqual([quick.replicas, quick.workers, quick.bodies, quick.durationS], [[4], [1], ['20'], QUICK.durationS]);
  const some = parseOptions(['--quick', '--backends=1,8', '--workers=2', '--bodies=20,16k', '--post', '--duration=7', '--scale'], '/repo');
  assert.deepEqual([some.replicas, some.workers, some.bodies, some.durationS, some.scale], [[1, 8], [2], ['20', '16k', 'post16k'], 7, 'also']);
  assert.equal(parseOptions(['--scale-only'], '/repo').scale, 'only');
  assert.deepEqual([parseOptions(['--soak=10'], '/repo').soakMinutes, parseOptions(['--soak=10'], '/repo').out], [10, 'soak']);
  assert.equal(parseOptions(['--full'], '/repo').soakMinutes, 0);
  assert.throws(() => parseOptions(['--soak=0'], '/repo'), /soak/);
  assert.throws(() => parseOptions(['--peers=traefik'], '/repo'), /unknown peer/);
  assert.throws(() => parseOptions(['--replicas=0'], '/repo'), /replicas/);
  assert.throws(() => parseOptions(['--out=../x'], '/repo'), /--out/);
});

test('flags: --middlewares runs alone, 3 rounds unless told, its own report file', () => {
  const m = parseOptions(['--middlewares'], '/repo');
  assert.deepEqual([m.middlewares, m.https, m.rounds, m.out], [true, false, 3, 'middlewares']);
  const smoke = parseOptions(['--middlewares', '--rounds=1', '--duration=2', '--out=mw'], '/repo');
  assert.deepEqual([smoke.rounds, smoke.durationS, smoke.out], [1, 2, 'mw']);
  assert.deepEqual([parseOptions(['--full'], '/repo').middlewares, parseOptions(['--full'], '/repo').rounds], [false, FULL.rounds]);
  assert.equal(parseOptions(['--https'], '/repo').out, 'https');
});

test('middlewares rows: Traefik options, a router per Host, ratios against each row baseline', () => {
  const config = middlewaresConfig([1001, 1002], '$2b$10$hash') as { http: { routers: Record<string, { rule: string; middlewares?: string[] }>; middlewares: Record<string, object> } };
  assert.deepEqual(Object.keys(config.http.routers), ['none', 'chain', 'basicAuth', 'compress']);
  assert.equal(config.http.routers.none!.middlewares, undefined);
  assert.deepEqual(config.http.routers.chain!.middlewares, ['headers', 'strip', 'allow']);
  assert.deepEqual(config.http.middlewares.auth, { basicAuth: { users: ['bench:$2b$10$hash'] } });
  for (const row of ROWS) assert.ok(Object.values(config.http.routers).some((r) => r.rule === `Host(\`${row.host}\`)`), row.name);
  const at = (row: string, round: number, reqPerSec: number, reqPerCpuSecond: number) => ({ row, round, reqPerSec, reqPerCpuSecond, proxyCpuSeconds: 1, proxyCores: 0.5, capCores: 0.5, errors: '' });
  const report = { rows: [at('none', 1, 1000, 2000), at('chain', 1, 900, 1900), at('none-16k', 1, 800, 1600), at('compress', 1, 200, 400)], settings: { durationS: 2, connections: 64, rounds: 1, capCores: 0.5, bcryptCost: 10 } };
  assert.deepEqual(middlewaresRatio(report, 'chain', 1), { reqPerSec: 0.9, reqPerCpuSecond: 0.95 });
  assert.deepEqual(middlewaresRatio(report, 'compress', 1), { reqPerSec: 0.25, reqPerCpuSecond: 0.25 });
  assert.equal(middlewaresRatio(report, 'basicAuth', 1), null);
  const md = middlewaresMarkdown(report);
  assert.match(md, /\| chain \| none \| 1 \| 900 \| 0\.900 \|/);
  assert.match(md, /\| \*\*compress\*\* \| none-16k \| median \|/);
});

test('peer configs: same backends, round robin, keep-alive, worker count, no access log', () => {
  const ctx = { backends: [1001, 1002, 1003], workers: 2, dir: '/tmp/x', cpuProf: false };
  const n = nginxConfig(ctx, 9000);
  assert.match(n, /worker_processes 2;/);
  assert.match(n, /access_log off;/);
  assert.match(n, /keepalive 64;/);
  assert.match(n, /proxy_request_buffering off;/);
  assert.equal(n.match(/server 127\.0\.0\.1:100\d;/g)?.length, 3);
  const h = haproxyConfig(ctx, 9000);
  assert.match(h, /nbthread 2/);
  assert.match(h, /mode http/);
  assert.match(h, /http-reuse always/);
  assert.match(h, /balance roundrobin/);
  assert.match(h, /bind 127\.0\.0\.1:9000/);
  assert.doesNotMatch(h, /^\s*log /m);
  assert.equal(h.match(/server b\d 127\.0\.0\.1:100\d/g)?.length, 3);
  const c = caddyfile(ctx, 9000);
  assert.match(c, /reverse_proxy 127\.0\.0\.1:1001 127\.0\.0\.1:1002 127\.0\.0\.1:1003 \{/);
  assert.match(c, /lb_policy round_robin/);
  assert.match(c, /keepalive 60s/);
  assert.match(c, /bind 127\.0\.0\.1/);
  assert.match(c, /admin off/);
});

function measurement(reqPerSec: number, proxyCpuS: number): Measurement {
  const lat = { mean: 1, p50: 1, p90: 2, p99: 3, max: 4 };
  return {
    load: { durationS: 10, requests: reqPerSec * 10, reqPerSec, latencyMs: lat, errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, warmupReqPerSec: 0 },
    windowS: 10,
    cpuS: { proxy: proxyCpuS, backends: 1, load: 1 },
    cpuSplitS: { proxy: { user: proxyCpuS / 2, sys: proxyCpuS / 2 } },
    machine: { tasks: 1, others: 0, irq: 0.1, steal: 0 },
  };
}

function row(peer: string, replicas: number, round: number, reqPerSec: number, cpu: number, extra: Partial<Row> = {}): Row {
  return { replicas, workers: 1, body: '20', round, peer, version: '-', status: 'ok', measurement: measurement(reqPerSec, cpu), peakRssKiB: peer === 'direct' ? null : 10240, ...extra };
}

const ENV: Environment = {
  date: '2026-01-01T00:00:00.000Z',
  cpuModel: 'Test <CPU> & co',
  cores: 2,
  memGiB: 4,
  kernel: '6.0',
  node: 'v20.0.0',
  autocannon: '9.0.0',
  uWebSockets: 'x',
  portero: { version: '0.1.0', commit: 'abc', uncommittedSrcFiles: 0 },
};

test('ratios: portero over each peer per cell and round, mean over rounds, failed and profiled rows left out', () => {
  const rows = [
    row('direct', 1, 1, 40000, 0),
    row('nginx', 1, 1, 20000, 10),
    row('portero', 1, 1, 10000, 10),
    row('nginx', 1, 2, 20000, 10),
    row('portero', 1, 2, 30000, 10),
    row('nginx', 4, 1, 20000, 10),
    row('portero', 4, 1, 99999, 1, { profiled: true }),
    row('caddy', 1, 1, 0, 0, { status: 'failed', measurement: undefined }),
  ];
  const rs = ratios(rows);
  const cell = { replicas: 1, workers: 1, body: '20' };
  const mean = cellRatio(rs, cell, 'nginx')!;
  assert.equal(mean.round, 'mean');
  assert.equal(mean.reqPerSec, 1);
  assert.equal(mean.reqPerCpuS, 1);
  assert.equal(cellRatio(rs, cell, 'direct')!.reqPerSec, 0.25);
  assert.equal(cellRatio(rs, cell, 'direct')!.reqPerCpuS, null);
  assert.equal(cellRatio(rs, { ...cell, replicas: 4 }, 'nginx'), undefined);
  assert.equal(cellRatio(rs, cell, 'caddy'), undefined);
});

test('report: Markdown and terminal text carry the ratios; the chart is SVG with one line per peer', () => {
  const rows = [row('direct', 1, 1, 40000, 0), row('nginx', 1, 1, 20000, 10), row('portero', 1, 1, 18000, 10), row('direct', 2, 1, 42000, 0), row('nginx', 2, 1, 21000, 10), row('portero', 2, 1, 21000, 10)];
  const rep: Report = {
    schema: 2,
    env: ENV,
    versions: { nginx: 'nginx/1.22.1', portero: '0.1.0' },
    settings: { quick: false, replicas: [1, 2], workers: [1], bodies: ['20'], rounds: 1, durationS: 5, warmupS: 2, connections: 64, peers: ['direct', 'nginx', 'portero'], cpuProf: false, quietWaitS: 0, retries: 0, scale: 'no' },
    skipped: [{ peer: 'caddy', reason: 'caddy not found' }],
    rows,
    ratios: ratios(rows),
    elapsedS: 60,
  };
  const md = markdown(rep, 'latest.svg');
  assert.match(md, /\| 1r 1w 20 \| 0\.45 \| 0\.90 \(0\.90\) \|/);
  assert.match(md, /\| 2r 1w 20 \| 0\.50 \| 1\.00 \(1\.00\) \|/);
  assert.match(md, /!\[requests\/s by replicas, one line per proxy\]\(latest\.svg\)/);
  assert.match(md, /not installed: caddy/);
  assert.match(textReport(rep), /portero \/ nginx req\/s \(per CPU-s\)/);
  const svg = chartSvg(rep);
  assert.ok(svg.startsWith('<svg'));
  assert.equal(svg.match(/<path /g)?.length, 3);
  assert.match(svg, /Test &lt;CPU&gt; &amp; co/);
  assert.doesNotMatch(svg, /NaN|undefined/);
  const empty = chartSvg({ ...rep, rows: [] });
  assert.ok(empty.startsWith('<svg') && !/NaN/.test(empty));
});

test('report: with the scale cases, the Swarm discovery figures, a missing log figure shown as unknown', () => {
  const change = (routableMs: number, workersMs: number | null) => ({ routableMs, workersMs, publishMs: workersMs === null ? null : 22.5, pingMaxMs: 40 });
  const discovery: DiscoveryReport = {
    services: 1000,
    tasks: 10000,
    workers: 1,
    firstSyncMs: 2800,
    quiet: { seconds: 30, polls: 2, cpuMsPerSecond: 70, bytesPerPoll: 24.9e6, bytesPerSecond: 1.66e6, ping: { p50: 1.1, p99: 6.6, max: 22 } },
    idle: { seconds: 30, polls: 3, cpuMsPerPoll: 137, mainCpuMsPerPoll: 3.2, threadCpuMs: [59, 63, 39] },
    taskStart: [change(280, 290), change(300, null)],
    pollFound: [change(12000, 12010)],
  };
  const rep: Report = {
    schema: 2,
    env: ENV,
    versions: { portero: '0.1.0' },
    settings: { quick: false, replicas: [], workers: [], bodies: [], rounds: 1, durationS: 5, warmupS: 2, connections: 64, peers: [], cpuProf: false, quietWaitS: 0, retries: 0, scale: 'only' },
    skipped: [],
    rows: [],
    ratios: ratios([]),
    elapsedS: 60,
    discovery,
  };
  const md = markdown(rep);
  assert.match(md, /## Discovery: 1000 services, 10000 tasks/);
  assert.match(md, /\| one quiet full poll: the poll thread's CPU, median \| 59 ms \(59 ms, 63 ms, 39 ms\) \|/);
  assert.match(md, /\| one quiet full poll: the main thread's CPU [^|]*\| 3\.2 ms \|/);
  assert.match(md, /served by every worker, median \| 290 ms \(290 ms, \?\) \|/);
  assert.match(md, /found by the full poll \(1\): routable \(in \/api\), median \| 12000 ms/);
  assert.match(textReport(rep), /## Discovery/);
  assert.doesNotMatch(md, /NaN|undefined/);
});

test('headline: ratios from saturated, error-free pairs only; nginx sends the six headers; the backends answer the body', () => {
  const row = (cell: string, peer: HeadlinePeer, round: number, reqPerSec: number, proxyCores: number, errors = ''): HeadlineRow => ({ cell, peer, round, reqPerSec, reqPerCpuSecond: reqPerSec / proxyCores, proxyCores, saturated: proxyCores >= 0.95, errors, rssIdleMiB: peer === 'nginx' ? 4 : 60, rssPeakMiB: peer === 'nginx' ? 6 : 90 });
  const r: HeadlineReport = {
    settings: { rounds: 3, durationS: 5, connections: 64, proxyCores: 1 },
    rows: [
      row('1 worker, 4 replicas', 'portero', 1, 24000, 0.99),
      row('1 worker, 4 replicas', 'nginx', 1, 40000, 0.98),
      // nginx not saturated: the pair does not count.
      row('1 worker, 4 replicas', 'portero', 2, 24000, 0.99),
      row('1 worker, 4 replicas', 'nginx', 2, 30000, 0.8),
      row('1 worker, 4 replicas', 'portero', 3, 30000, 0.99),
      row('1 worker, 4 replicas', 'nginx', 3, 40000, 0.99),
      row('1 worker, 4 replicas', 'portero, pipelining', 1, 44000, 0.99),
      row('1 worker, 4 replicas', 'portero, pipelining', 3, 48000, 0.99),
      // An error: the pair does not count.
      row('2 workers, 4 replicas', 'portero', 1, 24000, 0.99, 'read 3'),
      row('2 workers, 4 replicas', 'nginx', 1, 40000, 0.99),
    ],
    latency: [
      { peer: 'portero', round: 1, rate: 17500, reqPerSec: 17400, p50Ms: 1.5, p99Ms: 4.0, errors: 0 },
      { peer: 'nginx', round: 1, rate: 17500, reqPerSec: 17450, p50Ms: 1.0, p99Ms: 3.0, errors: 0 },
      { peer: 'portero', round: 2, rate: 17500, reqPerSec: 17500, p50Ms: 1.7, p99Ms: 5.0, errors: 0 },
      { peer: 'nginx', round: 2, rate: 17500, reqPerSec: 17500, p50Ms: 1.2, p99Ms: 3.4, errors: 0 },
    ],
  };
  const [one, piped, two, three] = headlineRatios(r);
  assert.equal(one!.pairs, 2);
  assert.ok(Math.abs(one!.reqPerSec! - (0.6 + 0.75) / 2) < 1e-9);
  assert.deepEqual([piped!.peer, piped!.pairs, piped!.reqPerSec], ['portero, pipelining', 2, (1.1 + 1.2) / 2]);
  assert.deepEqual([two!.pairs, two!.reqPerSec, three!.pairs], [0, null, 0]);
  const md = headlineMarkdown(r);
  assert.match(md, /\| 1 worker, 4 replicas \| portero \| \*\*0\.6\d\*\* \| 0\.68 \| 2 of 3 \| 0\.6\d \|/);
  assert.match(md, /\| 1 worker, 4 replicas \| portero, pipelining \| \*\*1\.1\d\*\* \| 1\.15 \| 2 of 3 \|/);
  assert.match(md, /\| 2 workers, 4 replicas \| portero \| \*\*n\/a\*\* \| n\/a \| 0 of 3 \| n\/a \|/);
  // nginx below saturation in round 2: left out of the ratios, counted in the last column (24000/37500 there).
  const perCpu = (rps: number, cores: number) => rps / cores;
  const all = [perCpu(24000, 0.99) / perCpu(40000, 0.98), perCpu(24000, 0.99) / perCpu(30000, 0.8), 0.75].sort((a, b) => a - b);
  assert.ok(Math.abs(one!.allPairsReqPerCpuSecond! - all[1]!) < 1e-9);
  assert.match(md, /Latency at 17500 req\/s/);
  assert.match(md, /\| portero \| 17450 \| 1\.60 ms \| 4\.50 ms \| 0 \|/);
  assert.match(md, /\| nginx \| 17475 \| 1\.10 ms \| 3\.20 ms \| 0 \|/);
  assert.match(md, /\| nginx \| 1 \| 4 MiB \| 6 MiB \|/);
  assert.match(md, /\| portero \| 1 \| 60 MiB \| 90 MiB \|/);
  assert.match(md, /\| 1 worker, 4 replicas \| 1 \| portero \| 24000 \| 24242 \| 0\.99 \| yes \| 60 \/ 90 \| {2}\|/);
  assert.match(headlineMarkdown({ ...r, latency: [] }), /No latency row/);
  assert.doesNotMatch(md, /NaN|undefined/);
  const proxy = headlineNginxConfig('/tmp/x', 8080, 2, [9001, 9002]);
  assert.match(proxy, /worker_processes 2;/);
  for (const h of ['X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Port', 'X-Forwarded-Proto', 'X-Forwarded-Server', 'X-Real-Ip']) assert.match(proxy, new RegExp(`proxy_set_header ${h} `));
  assert.match(proxy, /server 127\.0\.0\.1:9001;\n {4}server 127\.0\.0\.1:9002;/);
  const backends = backendNginxConfig('/tmp/b', [9001, 9002]);
  assert.equal(backends.match(/listen 127\.0\.0\.1:900\d; location \/ \{ return 200 "Hello from backend!\\n"; \}/g)?.length, 2);
});

test('matrix rows: saturated when the proxy kept 95% of a core per worker busy', () => {
  // measurement(): a 10 s window; proxy CPU-seconds as given.
  assert.equal(saturated(row('portero', 4, 1, 20000, 9.6)), true);
  assert.equal(saturated(row('portero', 4, 1, 20000, 8)), false);
  assert.equal(saturated(row('nginx', 4, 1, 20000, 9.6, { workers: 2 })), false);
  assert.equal(saturated(row('nginx', 4, 1, 20000, 19.2, { workers: 2 })), true);
  assert.equal(saturated(row('caddy', 1, 1, 0, 0, { status: 'failed', measurement: undefined })), false);
  const rows = [row('direct', 1, 1, 40000, 0), row('nginx', 1, 1, 20000, 9.9), row('portero', 1, 1, 18000, 6)];
  const md = markdown({ schema: 2, env: ENV, versions: {}, settings: { quick: true, replicas: [1], workers: [1], bodies: ['20'], rounds: 1, durationS: 5, warmupS: 2, connections: 64, peers: ['direct', 'nginx', 'portero'], cpuProf: false, quietWaitS: 0, retries: 0, scale: 'no' }, skipped: [], rows, ratios: ratios(rows), elapsedS: 1 });
  assert.match(md, /\| nginx \| 20,000 \|[^\n]*\| 0\.99 \| yes \|/);
  assert.match(md, /\| portero \| 18,000 \|[^\n]*\| 0\.60 \| no \|/);
  assert.match(md, /\| direct \| 40,000 \|[^\n]*\| - \| - \|/);
});

test('axis steps and durations', () => {
  assert.deepEqual(axis(0), { top: 0.2, step: 0.2 });
  assert.deepEqual(axis(17_000), { top: 20_000, step: 5000 });
  assert.deepEqual(axis(21_000), { top: 25_000, step: 5000 });
  assert.deepEqual(axis(41_000), { top: 50_000, step: 10_000 });
  assert.deepEqual(axis(100), { top: 100, step: 20 });
  assert.deepEqual(axis(230), { top: 250, step: 50 });
  assert.deepEqual(axis(12_000), { top: 12_500, step: 2500 });
  assert.equal(duration(59), '59s');
  assert.equal(duration(61), '1m01s');
  assert.equal(duration(3700), '1h01m');
});

test('progress: step count, elapsed time and an estimate from the steps done', () => {
  let now = 0;
  const p = new Progress(4, 10, () => now);
  assert.match(p.begin('cell 1/2: nginx'), /^\[1\/4\] cell 1\/2: nginx \| elapsed 0s, ETA 40s$/);
  now = 20_000;
  p.end();
  assert.match(p.begin('cell 1/2: portero'), /^\[2\/4\] .* elapsed 20s, ETA 1m00s$/);
  p.addStep();
  now = 40_000;
  p.end();
  assert.equal(p.etaS(), 60);
});

test('scale helpers: 10,000-router YAML, hosts spread over the routers, requests overlapping a window', () => {
  const doc = parseYaml(routersYaml(3, [7001, 7002])) as { http: { routers: Record<string, { rule: string; service: string }>; services: Record<string, { loadBalancer: { servers: { url: string }[] } }> } };
  assert.deepEqual(Object.keys(doc.http.routers), ['r0', 'r1', 'r2']);
  assert.equal(doc.http.routers.r2!.rule, 'Host(`r2.bench.test`)');
  assert.equal(doc.http.routers.r2!.service, 's2');
  assert.deepEqual(doc.http.services.s1!.loadBalancer.servers, [{ url: 'http://127.0.0.1:7001' }, { url: 'http://127.0.0.1:7002' }]);
  const hosts = spreadHosts(10_000);
  assert.equal(hosts.length, 100);
  assert.equal(hosts[0], 'r0.bench.test');
  assert.equal(hosts[99], 'r9999.bench.test');
  assert.equal(new Set(hosts).size, 100);
  assert.deepEqual(new Set(spreadHosts(1)), new Set(['r0.bench.test']));
  const probe = { startMs: [0, 10, 20, 30], latencyMs: [5, 15, 1, 1] };
  assert.deepEqual(overlapping(probe, 12, 22), [15, 1]);
  assert.deepEqual(overlapping(probe, 6, 9), []);
});

test('the bench runs portero with the node flags the Dockerfile runs it with', () => {
  const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
  assert.ok(entry, 'the Dockerfile has an exec-form ENTRYPOINT');
  const argv = JSON.parse(entry[1]) as string[];
  assert.equal(argv[0], 'node');
  assert.deepEqual(argv.slice(1, argv.indexOf('dist/src/cli.js')), PORTERO_NODE_FLAGS);
});

test('portero variants: observability flags, and only the 20-byte cells', () => {
  const metrics = porteroPeer('/x/cli.js', 'portero-metrics');
  assert.equal(metrics.name, 'portero-metrics');
  assert.equal(metrics.runsIn?.({ replicas: 4, workers: 1, body: '20' }), true);
  assert.equal(metrics.runsIn?.({ replicas: 4, workers: 1, body: '1m' }), false);
  assert.equal(porteroPeer('/x/cli.js').runsIn, undefined, 'plain portero runs everywhere');
  assert.deepEqual(PORTERO_VARIANTS['portero-metrics']!('/d'), ['--metrics.prometheus']);
  assert.deepEqual(PORTERO_VARIANTS['portero-accesslog']!('/d'), ['--accesslog', '--accesslog.filepath=/d/access.log']);
});
