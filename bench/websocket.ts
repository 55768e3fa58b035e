// npm run bench -- --websocket: a WebSocket echo through portero and through
// nginx, one worker each pinned to core 0 (bench/saturated.ts), the load
// generator (ws-load.ts) and the echo backend (ws-backend.ts, the `ws`
// library) pinned to core 1. Two cells: 64 and 1,000 connections, each
// connection keeping a fixed window of 32-byte text messages in flight.
// portero relays messages (uWS ends the client's WebSocket, `ws` dials the
// server); nginx passes the upgraded connection's bytes through. Rounds
// alternate which proxy goes first, and each proxy starts fresh per round.
// Reported per proxy and cell: echoed messages/s, messages per proxy
// CPU-second, the share of its core the proxy used (saturated at >= 0.95 of
// it, or of its cap with --ws-cap), and the portero / nginx ratios per round.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { freePort, freePorts } from './net.js';
import { findBinary, installHint } from './peers/find.js';
import { PORTERO_NODE_FLAGS } from './peers/portero.js';
import { CLK_TCK, cpuTimesOf, machineCpu, processTree } from './proc.js';
import { waitForQuiet } from './quiet.js';
import { NOISY_CORES } from './report.js';
import { capCpu, LOAD_CORE, median, pinned, PROXY_CORE } from './saturated.js';
import { type Child, ourPids, spawnChild, waitForOutput } from './spawn.js';
import type { WsLoadMessage, WsLoadResult, WsLoadSpec } from './ws-load.js';

const BACKEND_SCRIPT = fileURLToPath(new URL('./ws-backend.js', import.meta.url));
const LOAD_SCRIPT = fileURLToPath(new URL('./ws-load.js', import.meta.url));
export const WS_PEERS = ['portero', 'nginx'] as const;
export type WsPeer = (typeof WS_PEERS)[number];
export const WS_CONNECTIONS = [64, 1000];
export const WS_WINDOW = 1;
export const WS_PAYLOAD_BYTES = 32;
/** Wait before a measurement while processes outside the bench use this much CPU. */
const QUIET_CORES = 0.1;
/** A proxy using this share of its core (or of its cap) was the bottleneck. */
export const SATURATED = 0.95;

export interface WsSettings {
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number[];
  window: number;
  payloadBytes: number;
  /** cgroup cap on the proxy, cores; 0: none (pinned to one core only). */
  capCores: number;
  /** Seconds (at most) to wait before each measurement for processes outside the bench to go quiet. */
  quietWaitS: number;
  /** Times a measurement during which other processes used >= NOISY_CORES is repeated. */
  retries: number;
}

export interface WsRow {
  peer: WsPeer;
  connections: number;
  round: number;
  msgsPerSec: number;
  messages: number;
  proxyCpuSeconds: number;
  /** User and kernel parts of proxyCpuSeconds. */
  proxyUserS: number;
  proxySysS: number;
  msgsPerCpuSecond: number;
  /** Share of one core the proxy used over the measured window. */
  proxyCores: number;
  /** The cap actually applied (0: none). */
  capCores: number;
  saturated: boolean;
  /** The load core: the load generator and the backend, in cores. */
  loadCores: number;
  backendCores: number;
  /** CPU of processes the bench did not start, cores (>= NOISY_CORES: noisy, repeated up to --retries). */
  othersCores: number;
  /** Measurements of this row thrown away as noisy before this one. */
  discarded: number;
  latencyMs: WsLoadResult['latencyMs'];
  connected: number;
  warmupMsgsPerSec: number;
  connectMs: number;
  /** '' when every message came back right on every connection. */
  errors: string;
}

export interface WebSocketReport {
  versions: Record<string, string>;
  /** Peers that could not run here, with how to install them. */
  skipped: { peer: WsPeer; reason: string }[];
  settings: WsSettings;
  rows: WsRow[];
}

interface Proxy {
  name: WsPeer;
  url: string;
  pids(): number[];
  stop(): Promise<void>;
}

/** One echo through url, on a fresh connection; the reason when it fails. */
export function echoOnce(url: string, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const timer = setTimeout(() => done('no echo in time'), timeoutMs);
    const done = (problem: string | null) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      resolve(problem);
    };
    ws.on('open', () => ws.send('bench echo'));
    ws.on('message', (data: Buffer) => done(data.toString() === 'bench echo' ? null : `echo ${JSON.stringify(data.toString().slice(0, 40))}`));
    ws.on('unexpected-response', (_req, res) => done(`answer ${res.statusCode ?? '?'} instead of 101`));
    ws.on('error', (err) => done(err.message));
  });
}

async function waitForEcho(url: string, child: Child, log: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | null = null;
  void child.exited.then((c) => (exited = c));
  for (;;) {
    const problem = await echoOnce(url);
    if (problem === null) return;
    if (exited !== null) throw new Error(`${child.name} exited (${exited}); see ${log}`);
    if (Date.now() > deadline) throw new Error(`no WebSocket echo through ${url} within ${timeoutMs} ms (last: ${problem}); see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function porteroWsConfig(backend: number): object {
  return {
    http: {
      routers: { bench: { rule: 'PathPrefix(`/`)', service: 'bench', entryPoints: ['web'] } },
      services: { bench: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backend}` }] } } },
    },
  };
}

async function startPortero(cli: string, dir: string, backend: number): Promise<Proxy> {
  const [port, api] = await freePorts(2);
  const file = join(dir, 'portero-websocket.json');
  writeFileSync(file, JSON.stringify(porteroWsConfig(backend), null, 2));
  const log = join(dir, 'portero-websocket.log');
  const [cmd, args] = pinned(PROXY_CORE, process.execPath, [...PORTERO_NODE_FLAGS, cli, `--entrypoints.web.address=127.0.0.1:${port}`, `--entrypoints.traefik.address=127.0.0.1:${api}`, `--providers.file.filename=${file}`, '--workers=1']);
  const child = spawnChild('portero', cmd, args, { logFile: log });
  const url = `ws://127.0.0.1:${port}/echo`;
  const stop = () => child.stop('SIGTERM', 15_000);
  try {
    await waitForEcho(url, child, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'portero', url, pids: () => processTree(child.pid), stop };
}

/** nginx as a WebSocket proxy: HTTP/1.1 upstream, Upgrade and Connection passed on, idle timeouts out of the way. */
export function nginxWsConfig(dir: string, port: number, backend: number): string {
  return `# Generated by portero's bench (bench/websocket.ts).
worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/cb; proxy_temp_path ${dir}/tmp/p; fastcgi_temp_path ${dir}/tmp/f; uwsgi_temp_path ${dir}/tmp/u; scgi_temp_path ${dir}/tmp/s;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
  upstream backends {
    server 127.0.0.1:${backend};
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
}

async function startNginx(dir: string, backend: number): Promise<Proxy> {
  const bin = findBinary('nginx', 'NGINX_BIN');
  if (bin === null) throw new Error(installHint('nginx', 'NGINX_BIN'));
  const port = await freePort();
  const ndir = join(dir, 'nginx-websocket');
  mkdirSync(join(ndir, 'tmp'), { recursive: true });
  writeFileSync(join(ndir, 'nginx.conf'), nginxWsConfig(ndir, port, backend));
  const [cmd, args] = pinned(PROXY_CORE, bin, ['-p', `${ndir}/`, '-e', join(ndir, 'error.log'), '-c', join(ndir, 'nginx.conf')]);
  const child = spawnChild('nginx', cmd, args, { logFile: join(ndir, 'nginx.out') });
  const url = `ws://127.0.0.1:${port}/echo`;
  const stop = () => child.stop('SIGTERM');
  try {
    await waitForEcho(url, child, join(ndir, 'error.log'));
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'nginx', url, pids: () => processTree(child.pid), stop };
}

interface Snapshot {
  at: bigint;
  proxy: { user: number; sys: number };
  load: number;
  backend: number;
  ours: number;
  tasks: number;
}

/** One load run against a proxy, with the CPU of every party read over exactly the measured run. */
async function measureWs(proxy: Proxy, backendPid: number, spec: WsLoadSpec, capCores: number): Promise<Omit<WsRow, 'peer' | 'round' | 'discarded'>> {
  const [cmd, args] = pinned(LOAD_CORE, process.execPath, [LOAD_SCRIPT, JSON.stringify(spec)]);
  const child = spawnChild('ws load generator', cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const sum = (pids: readonly number[]) => {
    const t = cpuTimesOf(pids);
    return t.user + t.sys;
  };
  const snapshot = (): Snapshot => ({
    at: process.hrtime.bigint(),
    proxy: cpuTimesOf(proxy.pids()),
    load: sum([child.pid]),
    backend: sum([backendPid]),
    ours: sum(ourPids()),
    tasks: machineCpu().tasks / CLK_TCK,
  });
  const uncap = capCores > 0 ? capCpu(proxy.pids(), capCores) : null;
  // Bounded: connecting, warm-up, run, and the report.
  const limitMs = (spec.warmupS + spec.durationS) * 1000 + 60_000;
  let start: Snapshot | null = null;
  try {
    const { result, end } = await new Promise<{ result: WsLoadResult; end: Snapshot }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ws load generator still running after ${limitMs} ms`)), limitMs);
      child.proc.on('message', (m: WsLoadMessage) => {
        if (m.type === 'measuring') start = snapshot();
        else if (m.type === 'result' && start !== null) {
          const end = snapshot();
          clearTimeout(timer);
          resolve({ result: m.result, end });
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`ws load generator exited (${code}) before its result`));
      });
    });
    const s = start!;
    // Its connections close cleanly before the next run (bounded: the load process gives up after 10 s).
    await Promise.race([child.exited, new Promise((r) => setTimeout(r, 15_000))]);
    const windowS = Number(end.at - s.at) / 1e9;
    const user = end.proxy.user - s.proxy.user;
    const sys = end.proxy.sys - s.proxy.sys;
    const cpu = user + sys;
    const proxyCores = cpu / windowS;
    const applied = uncap === null ? 0 : capCores;
    const errors = [
      result.connectFailures > 0 ? `${result.connectFailures} connections failed` : '',
      result.dropped > 0 ? `${result.dropped} connections dropped` : '',
      result.mismatches > 0 ? `${result.mismatches} wrong echoes` : '',
      result.messages === 0 ? 'no echo' : '',
    ].filter(Boolean);
    return {
      connections: spec.connections,
      msgsPerSec: result.msgsPerSec,
      messages: result.messages,
      proxyCpuSeconds: cpu,
      proxyUserS: user,
      proxySysS: sys,
      // The load process's rate over the proxy's CPU in the parent's window (the two windows differ by the IPC delay).
      msgsPerCpuSecond: cpu > 0 ? (result.msgsPerSec * windowS) / cpu : 0,
      proxyCores,
      capCores: applied,
      saturated: proxyCores >= SATURATED * (applied || 1),
      loadCores: (end.load - s.load) / windowS,
      backendCores: (end.backend - s.backend) / windowS,
      othersCores: Math.max(0, (end.tasks - s.tasks - (end.ours - s.ours)) / windowS),
      latencyMs: result.latencyMs,
      connected: result.connected,
      warmupMsgsPerSec: result.warmupMsgsPerSec,
      connectMs: result.connectMs,
      errors: errors.join('; '),
    };
  } finally {
    uncap?.();
    await child.stop();
  }
}

/** nginx's version, or null when it is not installed. */
async function nginxVersion(): Promise<string | null> {
  const bin = findBinary('nginx', 'NGINX_BIN');
  if (bin === null) return null;
  const { stderr } = await promisify(execFile)(bin, ['-v']);
  return stderr.trim().replace(/^nginx version:\s*/, '');
}

export async function runWebSocket(options: { tmp: string; cli: string; settings: WsSettings; log: (line: string) => void }): Promise<WebSocketReport> {
  const { tmp, log, settings: s } = options;
  mkdirSync(tmp, { recursive: true });
  const require = createRequire(import.meta.url);
  const report: WebSocketReport = { versions: { ws: (require('ws/package.json') as { version: string }).version }, skipped: [], settings: s, rows: [] };
  const nginx = await nginxVersion();
  if (nginx === null) {
    report.skipped.push({ peer: 'nginx', reason: installHint('nginx', 'NGINX_BIN') });
    log(`skipping nginx: ${installHint('nginx', 'NGINX_BIN')}`);
  } else report.versions.nginx = nginx;
  const peers = WS_PEERS.filter((p) => !report.skipped.some((x) => x.peer === p));
  const [bcmd, bargs] = pinned(LOAD_CORE, process.execPath, [BACKEND_SCRIPT, '0']);
  const backend = spawnChild('ws backend', bcmd, bargs, { logFile: join(tmp, 'ws-backend.log'), pipeStdout: true });
  try {
    const port = Number((await waitForOutput(backend, /listening (\d+)\n/))[1]);
    const starters: Record<WsPeer, () => Promise<Proxy>> = {
      portero: () => startPortero(options.cli, tmp, port),
      nginx: () => startNginx(tmp, port),
    };
    for (let round = 1; round <= s.rounds; round++) {
      // Alternate which goes first, so a drifting machine favours neither.
      const order = round % 2 === 1 ? peers : [...peers].reverse();
      for (const name of order) {
        const proxy = await starters[name]();
        try {
          for (const connections of s.connections) {
            const spec: WsLoadSpec = { url: proxy.url, connections, window: s.window, payloadBytes: s.payloadBytes, warmupS: s.warmupS, durationS: s.durationS };
            let row: WsRow;
            for (let attempt = 0; ; attempt++) {
              if (s.quietWaitS > 0) {
                const q = await waitForQuiet(QUIET_CORES, s.quietWaitS);
                if (q.othersCores >= QUIET_CORES) log(`note: other processes use ${q.othersCores.toFixed(2)} cores; measuring ${name} anyway`);
              }
              row = { peer: name, round, discarded: attempt, ...(await measureWs(proxy, backend.pid, spec, s.capCores)) };
              if (row.othersCores < NOISY_CORES || attempt >= s.retries) break;
              log(`round ${round} ${name} ${connections} conns: discarded, other processes used ${row.othersCores.toFixed(2)} cores`);
            }
            report.rows.push(row);
            log(
              `round ${round} ${name} ${connections} conns: ${Math.round(row.msgsPerSec)} msgs/s, ${Math.round(row.msgsPerCpuSecond)} msgs per CPU-s, proxy at ${row.proxyCores.toFixed(2)} cores${row.capCores ? ` (cap ${row.capCores})` : ''}${row.saturated ? ' (saturated)' : ''}, load core ${(row.loadCores + row.backendCores).toFixed(2)}, p50 ${row.latencyMs.p50} ms${row.errors ? ` (${row.errors})` : ''}`,
            );
          }
        } finally {
          await proxy.stop();
        }
      }
    }
  } finally {
    await backend.stop();
  }
  return report;
}

/** portero's figures over nginx's in the same round and cell; null when either is missing. */
export function wsRatio(r: WebSocketReport, connections: number, round: number): { msgsPerSec: number; msgsPerCpuSecond: number } | null {
  const p = r.rows.find((x) => x.peer === 'portero' && x.connections === connections && x.round === round);
  const n = r.rows.find((x) => x.peer === 'nginx' && x.connections === connections && x.round === round);
  if (!p || !n || n.msgsPerSec === 0 || n.msgsPerCpuSecond === 0) return null;
  return { msgsPerSec: p.msgsPerSec / n.msgsPerSec, msgsPerCpuSecond: p.msgsPerCpuSecond / n.msgsPerCpuSecond };
}

export function websocketMarkdown(r: WebSocketReport): string {
  const s = r.settings;
  const applied = r.rows.some((x) => x.capCores > 0);
  const cap = !(s.capCores > 0) ? '' : applied ? `, capped (cgroup) at ${s.capCores} cores` : ` (a cap of ${s.capCores} cores was asked, but no cgroup cpu controller could be written here: uncapped)`;
  const lines = [
    '# WebSocket echo: portero vs nginx',
    '',
    `One worker each pinned to core 0${cap}; the load generator (Node, \`ws\` ${r.versions.ws}) and one echo backend (\`ws\`) pinned to core 1. Each connection keeps ${s.window} text message(s) of ${s.payloadBytes} bytes in flight and sends the next when the echo is back; ${s.warmupS} s warm-up, then ${s.durationS} s measured; ${s.rounds} rounds alternating which proxy goes first, each proxy started fresh per round. A message is one echo: it crosses the proxy twice. portero relays messages (uWS ends the client's WebSocket, \`ws\` dials the backend); nginx (${r.versions.nginx ?? 'not installed'}) passes the upgraded connection's bytes. Saturated: the proxy used >= ${SATURATED} of ${applied ? 'its cap' : 'its core'}. "load core": the load generator and the backend together, in cores. "other procs cores": CPU used meanwhile by processes the bench did not start (${NOISY_CORES} or more: noisy, repeated up to ${s.retries} time(s), then kept and marked).`,
    '',
    '| connections | round | peer | msgs/s | proxy CPU-s (user + sys) | msgs per CPU-s | proxy cores | saturated | load core | p50 / p99 ms | other procs cores | errors |',
    '| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const connections of s.connections) {
    for (const x of r.rows.filter((y) => y.connections === connections)) {
      lines.push(
        `| ${connections} | ${x.round} | ${x.peer} | ${Math.round(x.msgsPerSec)} | ${x.proxyCpuSeconds.toFixed(2)} (${x.proxyUserS.toFixed(2)} + ${x.proxySysS.toFixed(2)}) | ${Math.round(x.msgsPerCpuSecond)} | ${x.proxyCores.toFixed(2)} | ${x.saturated ? 'yes' : 'no'} | ${(x.loadCores + x.backendCores).toFixed(2)} | ${x.latencyMs.p50} / ${x.latencyMs.p99} | ${x.othersCores.toFixed(2)}${x.othersCores >= NOISY_CORES ? ' (noisy)' : ''} | ${x.errors || '-'} |`,
      );
    }
  }
  for (const x of r.skipped) lines.push('', `Skipped ${x.peer}: ${x.reason}.`);
  lines.push('', '## portero / nginx', '', '| connections | round | msgs/s | msgs per proxy CPU-s | portero saturated | nginx saturated |', '| ---: | ---: | ---: | ---: | --- | --- |');
  for (const connections of s.connections) {
    const ratios: { msgsPerSec: number; msgsPerCpuSecond: number }[] = [];
    const sat = (peer: WsPeer, round: number) => {
      const x = r.rows.find((y) => y.peer === peer && y.connections === connections && y.round === round);
      return `${x?.saturated ? 'yes' : 'no'}${x !== undefined && x.othersCores >= NOISY_CORES ? ' (noisy)' : ''}`;
    };
    for (let round = 1; round <= s.rounds; round++) {
      const q = wsRatio(r, connections, round);
      if (q === null) continue;
      ratios.push(q);
      lines.push(`| ${connections} | ${round} | ${q.msgsPerSec.toFixed(2)} | ${q.msgsPerCpuSecond.toFixed(2)} | ${sat('portero', round)} | ${sat('nginx', round)} |`);
    }
    const rows = (peer: WsPeer) => r.rows.filter((x) => x.peer === peer && x.connections === connections);
    const med = (peer: WsPeer, k: 'msgsPerSec' | 'msgsPerCpuSecond' | 'proxyCores') => median(rows(peer).map((x) => x[k]));
    const mr = (k: 'msgsPerSec' | 'msgsPerCpuSecond') => (ratios.length === 0 ? '-' : median(ratios.map((q) => q[k])).toFixed(2));
    lines.push(
      `| **${connections}, median** | | **${mr('msgsPerSec')}** | **${mr('msgsPerCpuSecond')}** | ${rows('portero').filter((x) => x.saturated).length}/${rows('portero').length} (median ${med('portero', 'proxyCores').toFixed(2)} cores) | ${rows('nginx').filter((x) => x.saturated).length}/${rows('nginx').length} (median ${med('nginx', 'proxyCores').toFixed(2)} cores) |`,
    );
  }
  lines.push('', '## Medians per peer', '', '| connections | peer | msgs/s | msgs per proxy CPU-s | proxy cores |', '| ---: | --- | ---: | ---: | ---: |');
  for (const connections of s.connections) {
    for (const peer of WS_PEERS) {
      const rows = r.rows.filter((x) => x.peer === peer && x.connections === connections);
      if (rows.length === 0) continue;
      lines.push(`| ${connections} | ${peer} | ${Math.round(median(rows.map((x) => x.msgsPerSec)))} | ${Math.round(median(rows.map((x) => x.msgsPerCpuSecond)))} | ${median(rows.map((x) => x.proxyCores)).toFixed(2)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
