// npm run bench: the matrix (replicas x proxy workers x bodies) through
// portero and its peers (direct, nginx, HAProxy, Caddy), with every proxy's
// CPU accounted from /proc; optionally the scale cases (bench/scale.ts).
// Flags: see usage() below and bench/README.md.
// Writes <results-dir>/<out>.json, .md and .svg (default bench/results/latest.*);
// scratch files (configs, logs, CPU profiles) go to bench/results/tmp/<date>/.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startBackends } from './backends.js';
import { BODY, parseBodyCase, type BodyCase } from './body.js';
import { describeCheckout, environment, findRoot } from './env.js';
import { measure } from './measure.js';
import { waitForBody } from './net.js';
import { caddy } from './peers/caddy.js';
import { direct } from './peers/direct.js';
import { haproxy } from './peers/haproxy.js';
import { nginx } from './peers/nginx.js';
import type { Peer, PeerContext } from './peers/peer.js';
import { DEFAULT_CLI, PORTERO_VARIANTS, porteroPeer } from './peers/portero.js';
import { formatSummary, profilesIn, summarize } from './profile.js';
import { duration, Progress } from './progress.js';
import { waitForQuiet } from './quiet.js';
import { cellText, headline, markdown, NOISY_CORES, ratios, textReport, textRow, textTable } from './report.js';
import type { Report, Row, Settings } from './report-data.js';
import { runScale, scaleSteps } from './scale.js';
import { runSoak, soakMarkdown, soakSummary } from './soak.js';
import { discoveryMarkdown, runDiscovery, type DiscoveryOptions } from './discovery.js';
import { headlineMarkdown, headlineRatios, runHeadline } from './headline.js';
import { httpsMarkdown, runHttps } from './https.js';
import { middlewaresMarkdown, runMiddlewares } from './middlewares.js';
import { runWebSocket, websocketMarkdown, WS_CONNECTIONS, WS_PAYLOAD_BYTES, WS_WINDOW } from './websocket.js';
import { installCleanup, stopAll } from './spawn.js';
import { chartSvg } from './svg.js';

export const PEER_NAMES = ['direct', 'nginx', 'haproxy', 'caddy', 'portero', 'portero-metrics', 'portero-accesslog'];
/** Wait before a measurement while processes outside the bench use this much CPU. */
const QUIET_CORES = 0.1;

export const FULL = { replicas: '1,2,4,8', workers: '1,2', bodies: '20,16k,1m,post16k', rounds: 1, durationS: 5, warmupS: 2, quietWaitS: 30 };
export const QUICK = { replicas: '4', workers: '1', bodies: '20', rounds: 1, durationS: 3, warmupS: 1, quietWaitS: 10 };

export const usage = `node dist/bench/run.js [options]        (npm run bench -- [options])
  (no mode flag)             the headline cells: portero vs nginx, each pinned to core 0 (not capped), wrk and the
                             backends on core 1; 1 and 2 workers over 4 replicas, 1 worker over 1 replica, and portero
                             with upstream pipelining in the 1-worker cells; 3 rotating rounds of 4 s, then p50/p99 at half
                             of nginx's rate (about 3 min; needs wrk and nginx; writes <out>.md/.json, default out: headline)
  --full                     the matrix below against every peer installed (about 30 min)
  --quick                    reduced matrix: 4 replicas, 1 worker, 20 B, 1 s + 3 s, 1 round (< 2 min)
  --replicas=1,2,4,8         backend processes (--backends is the same)
  --workers=1,2              proxy workers/threads (every peer gets the same count)
  --bodies=20,16k,1m,post16k response body sizes; postN: POST an N-byte body, 20-byte answer
  --post                     add post16k to --bodies
  --peers=direct,nginx,haproxy,caddy,portero,portero-metrics,portero-accesslog
                             (the last two: portero with --metrics.prometheus / --accesslog, 20 B cells only)
  --rounds=1 --duration=5 --warmup=2 --connections=64
  --quiet-wait=30            seconds (at most) to wait for other processes to go quiet before each measurement
  --retries=1                repeat a measurement during which other processes used >= ${NOISY_CORES} cores
  --scale                    then the scale cases (10,000 routers, table update, memory, 1 GiB stream, and the
                             Swarm discovery case of --discovery)
  --scale-only               only the scale cases
  --https                    only the HTTPS cells: portero vs nginx terminating TLS 1.3, 1 worker pinned to core 0,
                             wrk on core 1; keep-alive and new-handshake rounds, alternating (needs wrk, nginx, taskset)
  --middlewares              only the middleware rows: portero with none, a headers+stripPrefix+ipAllowList chain,
                             basicAuth, compress (16 KiB), saturated as --https; --rounds defaults to 3 here
  --websocket                only the WebSocket echo cells: portero vs nginx, 1 worker pinned to core 0, the ws load
                             generator and echo backend on core 1; 64 and 1,000 connections; --rounds defaults to 3 here
  --ws-connections=64,1000   --websocket: the cells (connections each)
  --ws-window=${WS_WINDOW}              --websocket: messages each connection keeps in flight
  --ws-cap=0                 --websocket: cap the proxy with a cgroup at this many cores (0: no cap, pinned only)
  --discovery                only the Swarm discovery case: portero's Swarm provider against a stand-in Docker API with
                             1,000 services and 10,000 tasks: CPU and bytes per poll, /ping latency, a new task's time to
                             routable and to every worker (writes <out>.md/.json, default out: discovery)
  --soak=MINUTES              only the soak: portero (2 workers, 4 replicas) at half its measured capacity for MINUTES,
                             RSS and open fds sampled every 10 s; writes <out>.md/.json (default out: soak)
  --portero-cli=PATH         another checkout's dist/src/cli.js
  --cpu-prof                 V8 profiles of portero (its rows leave the ratios)
  --results-dir=bench/results --out=latest --keep-tmp`;

export interface RunOptions extends Settings {
  /** No mode flag: the headline cells (bench/headline.ts). */
  headline: boolean;
  /** --soak=MINUTES: only the soak case (0: not asked). */
  soakMinutes: number;
  /** --discovery: only the Swarm discovery case (bench/discovery.ts). */
  discovery: boolean;
  /** --https: only the HTTPS cells against nginx. */
  https: boolean;
  /** --middlewares: only the middleware rows (bench/middlewares.ts). */
  middlewares: boolean;
  /** --websocket: only the WebSocket echo cells (bench/websocket.ts), with their own settings. */
  websocket: { connections: number[]; window: number; capCores: number } | null;
  keepTmp: boolean;
  porteroCli: string | undefined;
  resultsDir: string;
  out: string;
}

export function parseOptions(argv: string[], root: string): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      full: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      replicas: { type: 'string' },
      backends: { type: 'string' },
      workers: { type: 'string' },
      bodies: { type: 'string' },
      post: { type: 'boolean', default: false },
      peers: { type: 'string', default: PEER_NAMES.join(',') },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '64' },
      'quiet-wait': { type: 'string' },
      retries: { type: 'string', default: '1' },
      scale: { type: 'boolean', default: false },
      'scale-only': { type: 'boolean', default: false },
      soak: { type: 'string' },
      https: { type: 'boolean', default: false },
      discovery: { type: 'boolean', default: false },
      middlewares: { type: 'boolean', default: false },
      websocket: { type: 'boolean', default: false },
      'ws-connections': { type: 'string', default: WS_CONNECTIONS.join(',') },
      'ws-window': { type: 'string', default: String(WS_WINDOW) },
      'ws-cap': { type: 'string', default: '0' },
      'cpu-prof': { type: 'boolean', default: false },
      'keep-tmp': { type: 'boolean', default: false },
      'portero-cli': { type: 'string' },
      'results-dir': { type: 'string' },
      out: { type: 'string', default: 'latest' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(usage);
  const d = values.quick ? QUICK : FULL;
  const int = (name: string, v: string | number, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const wsCap = (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error('--ws-cap must be a number of cores from 0 (no cap) to 1');
    return n;
  };
  const list = (name: string, v: string, min: number) => [...new Set(v.split(',').filter((x) => x !== '').map((x) => int(name, x, min)))];
  const replicas = list('replicas', values.replicas ?? values.backends ?? d.replicas, 1);
  const workers = list('workers', values.workers ?? d.workers, 1);
  const bodies = (values.bodies ?? d.bodies).split(',').filter((b) => b !== '').map((b) => parseBodyCase(b).name);
  if (values.post && !bodies.some((b) => b.startsWith('post'))) bodies.push('post16k');
  const peers = values.peers.split(',').filter((p) => p !== '');
  for (const p of peers) if (!PEER_NAMES.includes(p)) throw new Error(`unknown peer ${p} (known: ${PEER_NAMES.join(', ')})`);
  if (!/^[\w.-]+$/.test(values.out)) throw new Error('--out is a file name without extension, like latest');
  const headline = !values.full && !values.quick && !values.scale && !values['scale-only'] && values.soak === undefined && !values.https && !values.discovery && !values.middlewares && !values.websocket;
  const matrixFlags = ['replicas', 'backends', 'workers', 'bodies', 'post', 'peers'].filter((f) => argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`)));
  if (headline && matrixFlags.length > 0) throw new Error(`${matrixFlags.map((f) => `--${f}`).join(', ')} choose cells of the matrix: add --full (or --quick)`);
  return {
    headline,
    quick: values.quick,
    replicas,
    workers,
    bodies: [...new Set(bodies)],
    // Medians over rounds need a few of them.
    rounds: int('rounds', values.rounds ?? (values.middlewares || values.websocket || headline ? 3 : d.rounds), 1),
    // The headline's 27 measurements take 4 s each to stay under three minutes (5 s took 2m57s).
    durationS: int('duration', values.duration ?? (headline ? 4 : d.durationS), 1),
    warmupS: int('warmup', values.warmup ?? d.warmupS, 0),
    connections: int('connections', values.connections, 1),
    peers,
    cpuProf: values['cpu-prof'],
    quietWaitS: int('quiet-wait', values['quiet-wait'] ?? d.quietWaitS, 0),
    retries: int('retries', values.retries, 0),
    scale: values['scale-only'] ? 'only' : values.scale ? 'also' : 'no',
    keepTmp: values['keep-tmp'],
    porteroCli: values['portero-cli'],
    resultsDir: resolve(values['results-dir'] ?? join(root, 'bench', 'results')),
    out: values.out !== 'latest' ? values.out : values.soak !== undefined ? 'soak' : values.https ? 'https' : values.middlewares ? 'middlewares' : values.websocket ? 'websocket' : values.discovery ? 'discovery' : headline ? 'headline' : values.out,
    soakMinutes: values.soak === undefined ? 0 : int('soak', values.soak, 1),
    https: values.https ?? false,
    discovery: values.discovery,
    middlewares: values.middlewares,
    websocket: values.websocket ? { connections: list('ws-connections', values['ws-connections'], 1), window: int('ws-window', values['ws-window'], 1), capCores: wsCap(values['ws-cap']) } : null,
  };
}

/** Writes <out>.json ({ env, [key]: report }) and <out>.md (the markdown and the machine), and prints the markdown. */
function writeResults(opts: RunOptions, root: string, key: string, report: unknown, markdown: string): void {
  const env = environment(root);
  const base = join(opts.resultsDir, opts.out);
  const text = `${markdown}\nMachine: ${env.cpuModel}, ${env.cores} cores; node ${env.node}; portero ${describeCheckout(env.portero)}.\n`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ env, [key]: report }, null, 2)}\n`);
  writeFileSync(`${base}.md`, text);
  console.log(`\n${text}\nwrote ${base}.md and .json`);
}

/** --soak: the soak case alone, with its own report. */
async function soakOnly(opts: RunOptions, root: string): Promise<number> {
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(tmp, { recursive: true });
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const report = await runSoak(opts.soakMinutes, tmp, opts.connections, opts.porteroCli, (l) => console.error(l));
  const env = environment(root);
  const base = join(opts.resultsDir, opts.out);
  writeFileSync(`${base}.json`, `${JSON.stringify({ env, soak: report }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${soakMarkdown(report)}\nMachine: ${env.cpuModel}, ${env.cores} cores; node ${env.node}.\n`);
  console.log(`\n${soakSummary(report).join('\n')}\n\nwrote ${base}.md and .json`);
  if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  const l = report.run.load;
  return l.errors + l.timeouts + l.non2xx + l.mismatches > 0 ? 1 : 0;
}

/** No mode flag: the headline cells against nginx, proxy saturated (bench/headline.ts). */
async function headlineOnly(opts: RunOptions, root: string): Promise<number> {
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const report = await runHeadline({ tmp, cli: opts.porteroCli ?? DEFAULT_CLI, rounds: opts.rounds, durationS: opts.durationS, log: (l) => console.error(l) });
  writeResults(opts, root, 'headline', report, headlineMarkdown(report));
  if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  // A cell without one saturated pair has no ratio to report.
  return headlineRatios(report).some((c) => c.pairs === 0) ? 1 : 0;
}

/** --https: TLS termination against nginx, proxy saturated (bench/https.ts). */
async function httpsOnly(opts: RunOptions, root: string): Promise<number> {
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const report = await runHttps({ tmp, cli: opts.porteroCli ?? DEFAULT_CLI, rounds: Math.max(opts.rounds, 3), durationS: opts.durationS, log: (l) => console.error(l) });
  writeResults(opts, root, 'https', report, httpsMarkdown(report));
  if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  return report.rounds.some((r) => r.reqPerSec === 0) ? 1 : 0;
}

function discoveryOptions(o: { durationS: number; rounds: number }, cli: string): DiscoveryOptions {
  return { cli, services: 1000, tasksPerService: 10, quietSeconds: Math.max(o.durationS, 30), taskStarts: Math.max(o.rounds, 5), log: (l) => console.error(l) };
}

/** --discovery: the Swarm provider against a stand-in Docker API (bench/discovery.ts). */
async function discoveryOnly(opts: RunOptions, root: string): Promise<number> {
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const report = await runDiscovery(discoveryOptions(opts, opts.porteroCli ?? DEFAULT_CLI));
  writeResults(opts, root, 'discovery', report, discoveryMarkdown(report));
  return 0;
}

/** --middlewares: portero with and without middlewares, proxy saturated (bench/middlewares.ts). */
async function middlewaresOnly(opts: RunOptions, root: string): Promise<number> {
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const report = await runMiddlewares({ tmp, cli: opts.porteroCli ?? DEFAULT_CLI, rounds: opts.rounds, durationS: opts.durationS, log: (l) => console.error(l) });
  writeResults(opts, root, 'middlewares', report, middlewaresMarkdown(report));
  if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  // A row that answered anything but 2xx was not measuring the middleware it names.
  return report.rows.some((r) => r.reqPerSec === 0 || r.errors.includes('non-2xx')) ? 1 : 0;
}

/** --websocket: WebSocket echo through portero and nginx, proxy pinned to its own core (bench/websocket.ts). */
async function websocketOnly(opts: RunOptions, root: string): Promise<number> {
  const ws = opts.websocket!;
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(opts.resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));
  const settings = { rounds: opts.rounds, durationS: opts.durationS, warmupS: opts.warmupS, connections: ws.connections, window: ws.window, payloadBytes: WS_PAYLOAD_BYTES, capCores: ws.capCores, quietWaitS: opts.quietWaitS, retries: opts.retries };
  const report = await runWebSocket({ tmp, cli: opts.porteroCli ?? DEFAULT_CLI, settings, log: (l) => console.error(l) });
  writeResults(opts, root, 'websocket', report, websocketMarkdown(report));
  if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  // A row with a wrong or missing echo was not measuring a working relay.
  return report.rows.some((r) => r.errors !== '') ? 1 : 0;
}

/** Starts the peer, waits for a quiet machine, measures, stops the peer. */
async function runOnce(peer: Peer, ctx: PeerContext, body: BodyCase, backendPids: readonly number[], row: Row, s: Settings): Promise<Row> {
  mkdirSync(ctx.dir, { recursive: true });
  try {
    const running = await peer.start(ctx);
    try {
      if (s.quietWaitS > 0) {
        row.quiet = await waitForQuiet(QUIET_CORES, s.quietWaitS);
        if (row.quiet.othersCores >= QUIET_CORES) console.error(`note: other processes use ${row.quiet.othersCores.toFixed(2)} cores; measuring ${peer.name} anyway`);
      }
      row.measurement = await measure(
        {
          urls: running.urls.map((u) => new URL(body.path, u).href),
          connections: s.connections,
          warmupS: s.warmupS,
          durationS: s.durationS,
          method: body.method,
          requestBytes: body.requestBytes,
          expectBytes: body.responseBytes,
        },
        { proxy: running.pids, backends: () => backendPids },
      );
      row.peakRssKiB = running.peakRssKiB();
    } finally {
      await running.stop();
    }
  } catch (err) {
    row.status = 'failed';
    row.note = (err as Error).message;
  }
  return row;
}

async function main(): Promise<number> {
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  const opts = parseOptions(process.argv.slice(2), root);
  if (opts.headline) return headlineOnly(opts, root);
  if (opts.soakMinutes > 0) return soakOnly(opts, root);
  if (opts.https) return httpsOnly(opts, root);
  if (opts.discovery) return discoveryOnly(opts, root);
  if (opts.middlewares) return middlewaresOnly(opts, root);
  if (opts.websocket !== null) return websocketOnly(opts, root);
  const { keepTmp, porteroCli, resultsDir, out, headline: _headline, soakMinutes: _soak, https: _https, discovery: _discovery, middlewares: _middlewares, websocket: _websocket, ...settings } = opts;
  const peers: Record<string, Peer> = {
    direct,
    nginx,
    haproxy,
    caddy,
    portero: porteroPeer(porteroCli),
    ...Object.fromEntries(Object.keys(PORTERO_VARIANTS).map((v) => [v, porteroPeer(porteroCli, v)])),
  };
  const tmp = join(root, 'bench', 'results', 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(tmp, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));

  const env = environment(root);
  const versions: Record<string, string> = {};
  const usable: Peer[] = [];
  const skipped: Report['skipped'] = [];
  const wanted = settings.scale === 'only' ? [] : settings.peers;
  // The scale cases need portero even when the matrix does not run it.
  for (const name of settings.scale === 'no' ? wanted : [...new Set([...wanted, 'portero'])]) {
    const peer = peers[name]!;
    const a = await peer.available();
    if (a.ok) {
      if (wanted.includes(name)) usable.push(peer);
      if (name !== 'direct') versions[name] = a.version;
    } else {
      console.error(`skipping ${name}: ${a.reason}`);
      skipped.push({ peer: name, reason: a.reason });
    }
  }
  console.log(`${env.cpuModel}, ${env.cores} cores, node ${env.node}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const cells = settings.scale === 'only' ? [] : settings.replicas.flatMap((replicas) => settings.workers.flatMap((workers) => settings.bodies.map((body) => ({ replicas, workers, body }))));
  const steps = cells.reduce((n, cell) => n + usable.filter((p) => p.runsIn?.(cell) ?? true).length, 0) * settings.rounds;
  const scaleN = settings.scale === 'no' || !('portero' in versions) ? 0 : scaleSteps(settings);
  // Per measurement: start, quiet check, load start-up, warm-up, measured run, stop.
  const progress = new Progress(steps + scaleN, settings.warmupS + settings.durationS + 4);
  if (steps > 0) {
    console.log(`matrix: ${cells.length} cells x up to ${usable.length} peers x ${settings.rounds} round(s) = ${steps} measurements of ${settings.warmupS} s + ${settings.durationS} s, ${settings.connections} connections; about ${duration(progress.etaS())}`);
  }
  const rows: Row[] = [];
  const profiles: string[] = [];
  let cellIndex = 0;
  for (const replicas of settings.scale === 'only' ? [] : settings.replicas) {
    const backends = await startBackends(replicas, join(tmp, 'backends.log'));
    try {
      for (const p of backends.ports) await waitForBody(`http://127.0.0.1:${p}/`, BODY);
      for (const workers of settings.workers) {
        for (const bodyName of settings.bodies) {
          cellIndex++;
          const body = parseBodyCase(bodyName);
          const cell = { replicas, workers, body: body.name };
          for (let round = 1; round <= settings.rounds; round++) {
            for (const peer of usable) {
              if (peer.runsIn !== undefined && !peer.runsIn(cell)) continue;
              const profiled = settings.cpuProf && peer.name === 'portero';
              for (let attempt = 0; ; attempt++) {
                const what = `cell ${cellIndex}/${cells.length} (${cellText(cell)}): ${peer.name}${settings.rounds > 1 ? `, round ${round}/${settings.rounds}` : ''}${attempt > 0 ? `, retry ${attempt}` : ''}`;
                console.error(progress.begin(what));
                const dir = join(tmp, `${replicas}r-${workers}w-${body.name}-${round}-${peer.name}-${attempt}`);
                const row: Row = { ...cell, round, peer: peer.name, version: versions[peer.name] ?? '-', status: 'ok', profiled };
                await runOnce(peer, { backends: backends.ports, workers, dir, cpuProf: profiled }, body, backends.pids, row, settings);
                progress.end();
                const others = row.measurement?.machine.others ?? 0;
                const retry = row.status === 'ok' && others >= NOISY_CORES && attempt < settings.retries;
                if (retry) {
                  row.status = 'discarded';
                  row.note = `other processes used ${others.toFixed(2)} cores during the run`;
                  progress.addStep();
                }
                rows.push(row);
                console.log(textRow(row));
                if (profiled) profiles.push(...profilesIn(join(dir, 'cpuprof')));
                if (!retry) break;
              }
            }
          }
        }
      }
    } finally {
      await backends.stop();
    }
  }

  const report: Report = { schema: 2, env, versions, settings, skipped, rows, ratios: ratios(rows), elapsedS: 0 };
  if (scaleN > 0) {
    report.scale = await runScale({ settings, tmp, porteroCli, progress });
    progress.addStep();
    console.error(progress.begin('scale: Swarm discovery, 1,000 services and 10,000 tasks'));
    report.discovery = await runDiscovery(discoveryOptions(settings, porteroCli ?? DEFAULT_CLI));
    progress.end();
  }
  report.elapsedS = Math.round(progress.elapsedS);

  console.log(`\n${textReport(report)}`);
  const lines = headline(report);
  if (lines.length > 0) console.log(`\n${lines.join('\n')}`);
  const base = join(resultsDir, out);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.svg`, chartSvg(report));
  writeFileSync(`${base}.md`, markdown(report, `${out}.svg`));
  console.log(`\nwrote ${base}.md, .json and .svg in ${duration(progress.elapsedS)}`);

  const failed = rows.some((r) => r.status === 'failed') || report.scale?.failures.length;
  if (profiles.length > 0) {
    console.log('\nportero CPU profiles (self time; the profiler slows portero, so its rows are excluded from the ratios):');
    for (const f of profiles) console.log(`${formatSummary(summarize(f, 25))}\n`);
    console.log(`profiles kept in ${tmp}`);
  } else if (!keepTmp && !failed) {
    rmSync(tmp, { recursive: true, force: true });
  } else {
    console.log(`scratch files (configs, logs) kept in ${tmp}`);
  }
  if (rows.some((r) => r.status === 'failed')) console.error(`failed measurements:\n${textTable(rows.filter((r) => r.status === 'failed'))}`);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
  } finally {
    await stopAll();
  }
  process.exit(code);
}
