// npm run bench: throughput of portero against nginx and against the
// backends directly, with the proxies' CPU accounted from /proc.
//   node dist/bench/run.js [--rounds=3] [--duration=10] [--warmup=3]
//     [--connections=64] [--backends=4] [--workers=1]
//     [--peers=direct,nginx,portero] [--cpu-prof] [--keep-tmp]
//     [--portero-cli=path/to/dist/src/cli.js]   (default: this checkout's build)
//     [--quiet-wait=30]   (seconds to wait for other processes to go quiet
//                          before each measurement; 0: don't)
//     [--retries=2]   (repeat a measurement during which other processes
//                      used >= 0.15 cores; the discarded one stays in the report)
// Writes bench/results/latest.json and latest.md; scratch files (configs,
// logs, CPU profiles) go to bench/results/tmp/<date>/.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBackends } from './backends.js';
import { BODY } from './body.js';
import { environment } from './env.js';
import { measure } from './measure.js';
import { waitForBody } from './net.js';
import { direct } from './peers/direct.js';
import { nginx } from './peers/nginx.js';
import type { Peer, PeerContext } from './peers/peer.js';
import { porteroPeer } from './peers/portero.js';
import { formatSummary, profilesIn, summarize } from './profile.js';
import { waitForQuiet } from './quiet.js';
import { markdown, NOISY_CORES, ratios, ratioText, type Report, type Row, type Settings, textTable } from './report.js';
import { installCleanup, stopAll } from './spawn.js';

/** dist/bench/run.js -> the repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PEER_NAMES = ['direct', 'nginx', 'portero'];
/** Wait before a measurement while processes outside the bench use this much CPU. */
const QUIET_CORES = 0.1;

function settingsFromArgs(): Settings & { keepTmp: boolean; porteroCli: string | undefined; quietWaitS: number; retries: number } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '64' },
      backends: { type: 'string', default: '4' },
      workers: { type: 'string', default: '1' },
      peers: { type: 'string', default: 'direct,nginx,portero' },
      'cpu-prof': { type: 'boolean', default: false },
      'keep-tmp': { type: 'boolean', default: false },
      'portero-cli': { type: 'string' },
      'quiet-wait': { type: 'string', default: '30' },
      retries: { type: 'string', default: '2' },
    },
    strict: true,
  });
  const num = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const peers = values.peers.split(',').filter((p) => p !== '');
  for (const p of peers) if (!PEER_NAMES.includes(p)) throw new Error(`unknown peer ${p} (known: ${PEER_NAMES.join(', ')})`);
  return {
    rounds: num('rounds', 1),
    durationS: num('duration', 1),
    warmupS: num('warmup', 0),
    connections: num('connections', 1),
    backends: num('backends', 1),
    workers: num('workers', 1),
    peers,
    cpuProf: values['cpu-prof'],
    keepTmp: values['keep-tmp'],
    porteroCli: values['portero-cli'],
    quietWaitS: num('quiet-wait', 0),
    retries: num('retries', 0),
  };
}

/** Starts the peer, waits for a quiet machine, measures, stops the peer. */
async function runOnce(peer: Peer, ctx: PeerContext, backendPids: readonly number[], round: number, settings: Settings, quietWaitS: number): Promise<Row> {
  mkdirSync(ctx.dir, { recursive: true });
  const row: Row = { round, peer: peer.name, version: '-', status: 'ok', profiled: ctx.cpuProf };
  try {
    const running = await peer.start(ctx);
    try {
      if (quietWaitS > 0) {
        row.quiet = await waitForQuiet(QUIET_CORES, quietWaitS);
        if (row.quiet.othersCores >= QUIET_CORES) console.error(`note: other processes use ${row.quiet.othersCores.toFixed(2)} cores; measuring ${peer.name} anyway`);
      }
      row.measurement = await measure(
        { urls: [...running.urls], connections: settings.connections, warmupS: settings.warmupS, durationS: settings.durationS, expectBody: BODY },
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
  const { keepTmp, porteroCli, quietWaitS, retries, ...settings } = settingsFromArgs();
  const peers: Record<string, Peer> = { direct, nginx, portero: porteroPeer(porteroCli) };
  const resultsDir = join(ROOT, 'bench', 'results');
  const tmp = join(resultsDir, 'tmp', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(tmp, { recursive: true });
  installCleanup(() => console.error('\ninterrupted: stopping every process the bench started'));

  const env = environment(ROOT);
  const versions: Record<string, string> = {};
  const usable: Peer[] = [];
  const rows: Row[] = [];
  for (const name of settings.peers) {
    const peer = peers[name]!;
    const a = await peer.available();
    if (a.ok) {
      usable.push(peer);
      if (name !== 'direct') versions[name] = a.version;
    } else {
      console.error(`skipping ${name}: ${a.reason}`);
      rows.push({ round: 0, peer: name, version: '', status: 'skipped', note: a.reason });
    }
  }
  console.log(`${env.cpuModel}, ${env.cores} cores, node ${env.node}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const backends = await startBackends(settings.backends, join(tmp, 'backends.log'));
  for (const p of backends.ports) await waitForBody(`http://127.0.0.1:${p}/`, BODY);
  console.log(`backends on ${backends.ports.join(', ')}; ${settings.warmupS} s warm-up + ${settings.durationS} s per run, ${settings.connections} connections`);

  const profiles: string[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const peer of usable) {
      const profiled = settings.cpuProf && peer.name === 'portero';
      for (let attempt = 0; ; attempt++) {
        const dir = join(tmp, `${round}-${peer.name}-${attempt}`);
        const row = await runOnce(peer, { backends: backends.ports, workers: settings.workers, dir, cpuProf: profiled }, backends.pids, round, settings, quietWaitS);
        row.version = versions[peer.name] ?? '-';
        const others = row.measurement?.machine.others ?? 0;
        const retry = row.status === 'ok' && others >= NOISY_CORES && attempt < retries;
        if (retry) {
          row.status = 'discarded';
          row.note = `other processes used ${others.toFixed(2)} cores during the run`;
        }
        rows.push(row);
        console.log(textTable([row]).split('\n')[1]);
        if (profiled) profiles.push(...profilesIn(join(dir, 'cpuprof')));
        if (!retry) break;
      }
    }
  }
  await backends.stop();

  const report: Report = { env, versions, settings, rows, ratios: ratios(rows) };
  console.log(`\n${textTable(rows)}\n\n${ratioText(report.ratios)}`);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'latest.md'), markdown(report));
  console.log(`\nwrote ${join(resultsDir, 'latest.md')} and latest.json`);

  if (profiles.length > 0) {
    console.log('\nportero CPU profiles (self time; the profiler slows portero, so its row is excluded from the ratios):');
    for (const f of profiles) console.log(`${formatSummary(summarize(f, 25))}\n`);
    console.log(`profiles kept in ${tmp}`);
  } else if (!keepTmp && rows.every((r) => r.status !== 'failed')) {
    rmSync(tmp, { recursive: true, force: true });
  } else {
    console.log(`scratch files (configs, logs) kept in ${tmp}`);
  }
  return rows.some((r) => r.status === 'failed') ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
} finally {
  await stopAll();
}
process.exit(code);
