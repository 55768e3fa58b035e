// npm run bench -- --https: TLS termination, portero against nginx, with the
// proxy saturated. Each proxy gets one worker pinned to core 0; the load
// generator (Debian's wrk, which autocannon cannot replace here: it cannot
// saturate nginx) and 4 backends share core 1. Same certificate (ECDSA
// P-256) served as the default to every name, TLS 1.3 only, no session
// resumption on either side. Two cells, in alternating rounds:
//   keep-alive: wrk -c64 over long-lived TLS connections;
//   handshakes: every request on a new TLS connection (Connection: close),
//               wrk never resumes a session.
// Reported: requests/s, requests per proxy CPU-second, and their ratios per round.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBackends } from './backends.js';
import { BODY } from './body.js';
import { freePort, freePorts } from './net.js';
import { PORTERO_NODE_FLAGS } from './peers/portero.js';
import { NGINX_FORWARD_LOCATION, nginxConf, nginxUpstream, spawnPinnedNginx } from './peers/nginx-conf.js';
import { processTree } from './proc.js';
import { LOAD_CORE, measureCapped, median, pinned, pinPids, PROXY_CORE, WRK, wrk } from './saturated.js';
import { spawnChild } from './spawn.js';

const run = promisify(execFile);
/**
 * CPU the proxy may use per cell, so that it, not the load generator, is the
 * bottleneck: on one core wrk cannot keep a TLS server on the other one busy
 * (a handshake costs the client about what it costs the server).
 */
const CAP_CORES = { 'keep-alive': 0.6, handshakes: 0.3 } as const;

export interface HttpsCellResult {
  peer: string;
  cell: 'keep-alive' | 'handshakes';
  round: number;
  reqPerSec: number;
  proxyCpuSeconds: number;
  reqPerCpuSecond: number;
  /** Share of one core the proxy used: at its cap when saturated. */
  proxyCores: number;
  /** The proxy's CPU cap, cores (0: none). */
  capCores: number;
  errors: string;
}

export interface HttpsReport {
  cipher: Record<string, string>;
  rounds: HttpsCellResult[];
  settings: { durationS: number; connections: number; handshakeConnections: number; rounds: number };
}

async function waitTls(port: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const { stdout } = await run('curl', ['-sk', '--max-time', '2', `https://127.0.0.1:${port}/`]);
      if (stdout === BODY) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`nothing answers HTTPS on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proxy {
  name: string;
  port: number;
  pids(): number[];
  stop(): Promise<void>;
}

async function startPortero(cli: string, dir: string, backends: readonly number[], cert: { cert: string; key: string }): Promise<Proxy> {
  const [port, web, api] = await freePorts(3);
  const file = join(dir, 'portero-https.json');
  writeFileSync(
    file,
    JSON.stringify({
      http: {
        routers: { bench: { rule: 'PathPrefix(`/`)', service: 'bench', entryPoints: ['websecure'], tls: {} } },
        services: { bench: { loadBalancer: { servers: backends.map((p) => ({ url: `http://127.0.0.1:${p}` })) } } },
      },
      tls: { stores: { default: { defaultCertificate: { certFile: cert.cert, keyFile: cert.key } } } },
    }),
  );
  const [cmd, args] = pinned(PROXY_CORE, process.execPath, [
    ...PORTERO_NODE_FLAGS,
    cli,
    `--entrypoints.web.address=127.0.0.1:${web}`,
    `--entrypoints.websecure.address=127.0.0.1:${port}`,
    '--entrypoints.websecure.http.tls=true',
    `--entrypoints.traefik.address=127.0.0.1:${api}`,
    `--providers.file.filename=${file}`,
    '--workers=1',
  ]);
  const child = spawnChild('portero', cmd, args, { logFile: join(dir, 'portero-https.log') });
  await waitTls(port);
  return { name: 'portero', port, pids: () => processTree(child.pid), stop: () => child.stop('SIGTERM', 15_000) };
}

async function startNginx(dir: string, backends: readonly number[], cert: { cert: string; key: string }): Promise<Proxy> {
  const port = await freePort();
  // The headline's nginx, plus TLS 1.3 with the same certificate, resumption off.
  const conf = (ndir: string) =>
    nginxConf(ndir, 1, `${nginxUpstream(backends)}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.cert};
    ssl_certificate_key ${cert.key};
    ssl_protocols TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
${NGINX_FORWARD_LOCATION}
  }`);
  const child = spawnPinnedNginx('nginx', join(dir, 'nginx-https'), PROXY_CORE, conf);
  await waitTls(port);
  return { name: 'nginx', port, pids: () => processTree(child.pid), stop: () => child.stop('SIGTERM') };
}

/** The TLS version and cipher a proxy negotiates with openssl s_client's defaults. */
async function negotiated(port: number): Promise<string> {
  try {
    const { stdout } = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} 2>/dev/null`]);
    const m = /New, (\S+), Cipher is (\S+)/.exec(stdout);
    return m === null ? 'unknown' : `${m[1]} ${m[2]}`;
  } catch {
    return 'unknown';
  }
}

export async function runHttps(options: { tmp: string; cli: string; rounds: number; durationS: number; log: (line: string) => void }): Promise<HttpsReport> {
  const { tmp, log } = options;
  mkdirSync(tmp, { recursive: true });
  if (!existsSync(WRK)) throw new Error('the HTTPS cells need Debian\'s wrk (apt-get install wrk)');
  const cert = { cert: join(tmp, 'bench.crt'), key: join(tmp, 'bench.key') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', cert.key, '-out', cert.cert, '-days', '2', '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test'], { stdio: 'ignore' });
  const backends = await startBackends(4, join(tmp, 'backends.log'));
  pinPids(LOAD_CORE, backends.pids);
  const report: HttpsReport = { cipher: {}, rounds: [], settings: { durationS: options.durationS, connections: 64, handshakeConnections: 32, rounds: options.rounds } };
  try {
    const starters: Record<string, () => Promise<Proxy>> = {
      portero: () => startPortero(options.cli, tmp, backends.ports, cert),
      nginx: () => startNginx(tmp, backends.ports, cert),
    };
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate which goes first, so a drifting machine favours neither.
      const order = round % 2 === 1 ? ['portero', 'nginx'] : ['nginx', 'portero'];
      for (const name of order) {
        const proxy = await starters[name]!();
        try {
          report.cipher[name] ??= await negotiated(proxy.port);
          const url = `https://127.0.0.1:${proxy.port}/`;
          await wrk(url, 1, 64); // warm-up
          for (const cell of ['keep-alive', 'handshakes'] as const) {
            const close = cell === 'handshakes';
            const m = await measureCapped(proxy.pids, CAP_CORES[cell], options.durationS, () => wrk(url, options.durationS, close ? 32 : 64, close ? ['Connection: close'] : []));
            const row: HttpsCellResult = { peer: name, cell, round, reqPerSec: m.reqPerSec, proxyCpuSeconds: m.proxyCpuSeconds, reqPerCpuSecond: m.reqPerCpuSecond, proxyCores: m.proxyCores, capCores: m.capCores, errors: m.errors };
            report.rounds.push(row);
            log(`round ${round} ${name} ${cell}: ${Math.round(row.reqPerSec)} req/s, ${Math.round(row.reqPerCpuSecond)} req per CPU-s, proxy at ${row.proxyCores.toFixed(2)} cores (cap ${row.capCores || 'none'})${row.errors ? ` (${row.errors})` : ''}`);
          }
        } finally {
          await proxy.stop();
        }
      }
    }
  } finally {
    await backends.stop();
  }
  return report;
}

export function httpsMarkdown(r: HttpsReport): string {
  const lines = [
    '# HTTPS: portero vs nginx, proxy saturated',
    '',
    `One worker each pinned to core 0 and capped (cgroup) at ${CAP_CORES['keep-alive']} cores for keep-alive and ${CAP_CORES.handshakes} for handshakes, so that the proxy is the bottleneck; wrk and 4 backends on core 1; ${r.settings.durationS} s per cell, ${r.settings.rounds} alternating rounds. Same ECDSA P-256 certificate, TLS 1.3, no session resumption.`,
    `Negotiated (openssl s_client): ${Object.entries(r.cipher).map(([k, v]) => `${k} ${v}`).join('; ')}.`,
    '',
    '| cell | round | portero req/s | nginx req/s | ratio | portero req/CPU-s | nginx req/CPU-s | ratio | portero cores | nginx cores |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const cell of ['keep-alive', 'handshakes'] as const) {
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let round = 1; round <= r.settings.rounds; round++) {
      const p = r.rounds.find((x) => x.peer === 'portero' && x.cell === cell && x.round === round);
      const n = r.rounds.find((x) => x.peer === 'nginx' && x.cell === cell && x.round === round);
      if (!p || !n) continue;
      ratios.push(p.reqPerSec / n.reqPerSec);
      cpuRatios.push(p.reqPerCpuSecond / n.reqPerCpuSecond);
      lines.push(`| ${cell} | ${round} | ${Math.round(p.reqPerSec)} | ${Math.round(n.reqPerSec)} | ${(p.reqPerSec / n.reqPerSec).toFixed(2)} | ${Math.round(p.reqPerCpuSecond)} | ${Math.round(n.reqPerCpuSecond)} | ${(p.reqPerCpuSecond / n.reqPerCpuSecond).toFixed(2)} | ${p.proxyCores.toFixed(2)} | ${n.proxyCores.toFixed(2)} |`);
    }
    lines.push(`| **${cell}, median** | | | | **${median(ratios).toFixed(2)}** | | | **${median(cpuRatios).toFixed(2)}** | | |`);
  }
  return `${lines.join('\n')}\n`;
}
