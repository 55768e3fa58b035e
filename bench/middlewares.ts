// npm run bench -- --middlewares: what middlewares cost portero, with the
// proxy saturated (bench/saturated.ts: one worker pinned to core 0 and
// capped, wrk and 4 backends on core 1). One portero process per round
// serves every row, each row on its own router chosen by Host header: the
// rows differ only by their middlewares, not by process start-up, JIT or GC
// history, and one process serving routers with and without middlewares is
// how portero runs in production. The row order rotates each round, so a
// drifting machine favours no row. Rows:
//   none       no middleware, GET / (20 bytes)
//   chain      headers + stripPrefix(/api) + ipAllowList(127.0.0.1/32), GET /api/
//   basicAuth  a bcrypt (cost 10) user, wrk sends the credentials; portero
//              remembers verified credentials, so the steady state is measured
//   none-16k   no middleware, GET /bytes/16384, Accept-Encoding: gzip
//   compress   the same through compress: gzip on the fly
// Every row is checked once with curl before anything is measured.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { startBackends } from './backends.js';
import { BODY, bodyOf, bytesPath } from './body.js';
import { freePorts, waitForBody } from './net.js';
import { PORTERO_NODE_FLAGS } from './peers/portero.js';
import { processTree } from './proc.js';
import { LOAD_CORE, measureCapped, median, pinned, pinPids, PROXY_CORE, type Saturated, WRK, wrk } from './saturated.js';
import { spawnChild } from './spawn.js';

const run = promisify(execFile);
/** portero's CPU cap: well under a core, so that wrk and the backends on core 1 keep it saturated. */
const CAP_CORES = 0.5;
const CONNECTIONS = 64;
const BCRYPT_COST = 10;
const USER = 'bench';
const PASSWORD = 'bench-password';
const CREDENTIALS = `Authorization: Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const BIG = 16384;

/** What one curl got back: status, headers (lower-case names) and the body's bytes. */
interface Answer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

interface RowSpec {
  name: string;
  host: string;
  path: string;
  headers: string[];
  /** The row its ratio is taken against (the same request without the middleware). */
  baseline: string;
  /** Requests that must answer as described before anything is measured; a problem, or null. */
  checks: { path?: string; headers?: string[]; expect: (a: Answer) => string | null }[];
}

const has = (a: Answer, name: string, value: string) => (a.headers.get(name) === value ? null : `${name}: ${JSON.stringify(a.headers.get(name))}, expected ${JSON.stringify(value)}`);
const okBody = (a: Answer, body: string) => (a.status !== 200 ? `status ${a.status}` : a.body.toString() !== body ? `body ${JSON.stringify(a.body.toString().slice(0, 40))}` : null);
const first = (...problems: (string | null)[]) => problems.find((p) => p !== null) ?? null;

export const ROWS: RowSpec[] = [
  { name: 'none', host: 'none.bench.test', path: '/', headers: [], baseline: 'none', checks: [{ expect: (a) => okBody(a, BODY) }] },
  {
    name: 'chain',
    host: 'chain.bench.test',
    path: '/api/',
    headers: [],
    baseline: 'none',
    checks: [
      { expect: (a) => first(okBody(a, BODY), has(a, 'x-frame-options', 'DENY'), has(a, 'x-content-type-options', 'nosniff'), has(a, 'x-bench-response', 'chain')) },
      // The backend answers BODY for any path but /bytes/<n>: 32 bytes back prove the prefix went.
      { path: `/api${bytesPath(32)}`, expect: (a) => okBody(a, bodyOf(32)) },
    ],
  },
  {
    name: 'basicAuth',
    host: 'auth.bench.test',
    path: '/',
    headers: [CREDENTIALS],
    baseline: 'none',
    checks: [
      { expect: (a) => okBody(a, BODY) },
      { headers: [], expect: (a) => first(a.status === 401 ? null : `status ${a.status} without credentials, expected 401`, has(a, 'www-authenticate', 'Basic realm="traefik"')) },
    ],
  },
  { name: 'none-16k', host: 'none.bench.test', path: bytesPath(BIG), headers: ['Accept-Encoding: gzip'], baseline: 'none', checks: [{ expect: (a) => first(okBody(a, bodyOf(BIG)), a.headers.has('content-encoding') ? 'content-encoding without compress' : null) }] },
  {
    name: 'compress',
    host: 'compress.bench.test',
    path: bytesPath(BIG),
    headers: ['Accept-Encoding: gzip'],
    baseline: 'none-16k',
    checks: [{ expect: (a) => first(a.status === 200 ? null : `status ${a.status}`, has(a, 'content-encoding', 'gzip'), gunzipSync(a.body).toString() === bodyOf(BIG) ? null : 'gunzipped body differs') }],
  },
];

/** The file provider's configuration: one router per Host, Traefik's option names. */
export function middlewaresConfig(backends: readonly number[], bcryptHash: string): object {
  const router = (host: string, middlewares?: string[]) => ({ rule: `Host(\`${host}\`)`, service: 'bench', entryPoints: ['web'], ...(middlewares ? { middlewares } : {}) });
  return {
    http: {
      routers: {
        none: router('none.bench.test'),
        chain: router('chain.bench.test', ['headers', 'strip', 'allow']),
        basicAuth: router('auth.bench.test', ['auth']),
        compress: router('compress.bench.test', ['compress']),
      },
      middlewares: {
        headers: { headers: { customRequestHeaders: { 'X-Bench': 'chain' }, customResponseHeaders: { 'X-Bench-Response': 'chain' }, frameDeny: true, contentTypeNosniff: true } },
        strip: { stripPrefix: { prefixes: ['/api'] } },
        allow: { ipAllowList: { sourceRange: ['127.0.0.1/32'] } },
        auth: { basicAuth: { users: [`${USER}:${bcryptHash}`] } },
        compress: { compress: {} },
      },
      services: { bench: { loadBalancer: { servers: backends.map((p) => ({ url: `http://127.0.0.1:${p}` })) } } },
    },
  };
}

async function curl(dir: string, url: string, headers: readonly string[]): Promise<Answer> {
  const bodyFile = join(dir, 'curl.body');
  // --compressed is not given: the compress row's check gunzips the bytes itself.
  const { stdout } = await run('curl', ['-sS', '--max-time', '5', '-o', bodyFile, '-D', '-', ...headers.flatMap((h) => ['-H', h]), url]);
  const lines = stdout.split('\r\n');
  const status = Number(/^HTTP\/\S+ (\d+)/.exec(lines[0] ?? '')?.[1] ?? 0);
  const map = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const colon = l.indexOf(':');
    if (colon > 0) map.set(l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
  }
  return { status, headers: map, body: readFileSync(bodyFile) };
}

/** Every row's checks; throws naming the first row that answers wrong. */
async function checkRows(dir: string, port: number): Promise<void> {
  for (const row of ROWS) {
    for (const c of row.checks) {
      const url = `http://127.0.0.1:${port}${c.path ?? row.path}`;
      const a = await curl(dir, url, [`Host: ${row.host}`, ...(c.headers ?? row.headers)]);
      const problem = c.expect(a);
      if (problem !== null) throw new Error(`middlewares row ${row.name}: GET ${c.path ?? row.path} (Host ${row.host}): ${problem}`);
    }
  }
}

export interface MiddlewaresRow extends Saturated {
  row: string;
  round: number;
}

export interface MiddlewaresReport {
  rows: MiddlewaresRow[];
  settings: { durationS: number; connections: number; rounds: number; capCores: number; bcryptCost: number };
}

async function startPortero(cli: string, dir: string, file: string): Promise<{ port: number; pids: () => number[]; stop: () => Promise<void> }> {
  const [port, api] = await freePorts(2);
  const [cmd, args] = pinned(PROXY_CORE, process.execPath, [...PORTERO_NODE_FLAGS, cli, `--entrypoints.web.address=127.0.0.1:${port}`, `--entrypoints.traefik.address=127.0.0.1:${api}`, `--providers.file.filename=${file}`, '--workers=1']);
  const child = spawnChild('portero', cmd, args, { logFile: join(dir, 'portero-middlewares.log') });
  const stop = () => child.stop('SIGTERM', 15_000);
  try {
    await Promise.race([
      waitForBody(`http://127.0.0.1:${port}/`, BODY, 15_000, 'none.bench.test'),
      child.exited.then((code) => {
        throw new Error(`portero exited (${code}); see ${dir}/portero-middlewares.log`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pids: () => processTree(child.pid), stop };
}

export async function runMiddlewares(options: { tmp: string; cli: string; rounds: number; durationS: number; log: (line: string) => void }): Promise<MiddlewaresReport> {
  const { tmp, log, durationS } = options;
  mkdirSync(tmp, { recursive: true });
  if (!existsSync(WRK)) throw new Error("the middlewares rows need Debian's wrk (apt-get install wrk)");
  const backends = await startBackends(4, join(tmp, 'backends.log'));
  pinPids(LOAD_CORE, backends.pids);
  const file = join(tmp, 'portero-middlewares.json');
  writeFileSync(file, JSON.stringify(middlewaresConfig(backends.ports, bcrypt.hashSync(PASSWORD, BCRYPT_COST)), null, 2));
  const report: MiddlewaresReport = { rows: [], settings: { durationS, connections: CONNECTIONS, rounds: options.rounds, capCores: CAP_CORES, bcryptCost: BCRYPT_COST } };
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const proxy = await startPortero(options.cli, tmp, file);
      try {
        // Also fills basicAuth's cache of verified credentials before the warm-up.
        await checkRows(tmp, proxy.port);
        const url = (row: RowSpec) => `http://127.0.0.1:${proxy.port}${row.path}`;
        const shift = (round - 1) % ROWS.length;
        const order = [...ROWS.slice(shift), ...ROWS.slice(0, shift)];
        for (const row of order) await wrk(url(row), 1, CONNECTIONS, [`Host: ${row.host}`, ...row.headers]); // warm-up
        for (const row of order) {
          const m = await measureCapped(proxy.pids, CAP_CORES, durationS, () => wrk(url(row), durationS, CONNECTIONS, [`Host: ${row.host}`, ...row.headers]));
          report.rows.push({ row: row.name, round, ...m });
          log(`round ${round} ${row.name}: ${Math.round(m.reqPerSec)} req/s, ${Math.round(m.reqPerCpuSecond)} req per CPU-s, proxy at ${m.proxyCores.toFixed(2)} cores (cap ${m.capCores || 'none'})${m.errors ? ` (${m.errors})` : ''}`);
        }
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await backends.stop();
  }
  return report;
}

/** A row's figures divided by its baseline's in the same round; null when either is missing. */
export function middlewaresRatio(r: MiddlewaresReport, name: string, round: number): { reqPerSec: number; reqPerCpuSecond: number } | null {
  const spec = ROWS.find((x) => x.name === name);
  const row = r.rows.find((x) => x.row === name && x.round === round);
  const base = r.rows.find((x) => x.row === spec?.baseline && x.round === round);
  if (!row || !base || base.reqPerSec === 0 || base.reqPerCpuSecond === 0) return null;
  return { reqPerSec: row.reqPerSec / base.reqPerSec, reqPerCpuSecond: row.reqPerCpuSecond / base.reqPerCpuSecond };
}

export function middlewaresMarkdown(r: MiddlewaresReport): string {
  const s = r.settings;
  const lines = [
    '# Middlewares: their cost to portero, proxy saturated',
    '',
    `One portero worker pinned to core 0 and capped (cgroup) at ${s.capCores} cores, so that the proxy is the bottleneck; wrk (1 thread, ${s.connections} connections) and 4 backends on core 1; ${s.durationS} s per row, ${s.rounds} round(s), one fresh portero per round serving every row (a router per Host), row order rotating. basicAuth: bcrypt cost ${s.bcryptCost}, verified credentials cached (steady state). Ratios: the row against its baseline (the same request without the middleware) in the same round.`,
    '',
    '| row | vs | round | req/s | ratio | proxy CPU-s | req/CPU-s | ratio | proxy cores | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const medians: string[] = [];
  for (const spec of ROWS) {
    const rows = r.rows.filter((x) => x.row === spec.name);
    const ratios = rows.map((x) => middlewaresRatio(r, spec.name, x.round));
    rows.forEach((x, i) => {
      const q = ratios[i];
      lines.push(`| ${spec.name} | ${spec.baseline} | ${x.round} | ${Math.round(x.reqPerSec)} | ${q ? q.reqPerSec.toFixed(3) : '-'} | ${x.proxyCpuSeconds.toFixed(2)} | ${Math.round(x.reqPerCpuSecond)} | ${q ? q.reqPerCpuSecond.toFixed(3) : '-'} | ${x.proxyCores.toFixed(2)} | ${x.errors || '-'} |`);
    });
    const ok = ratios.filter((q) => q !== null);
    medians.push(`| **${spec.name}** | ${spec.baseline} | median | **${Math.round(median(rows.map((x) => x.reqPerSec)))}** | **${median(ok.map((q) => q.reqPerSec)).toFixed(3)}** | | **${Math.round(median(rows.map((x) => x.reqPerCpuSecond)))}** | **${median(ok.map((q) => q.reqPerCpuSecond)).toFixed(3)}** | ${median(rows.map((x) => x.proxyCores)).toFixed(2)} | |`);
  }
  return `${[...lines, ...medians].join('\n')}\n`;
}
