// A real ACME server for tests: Debian's pebble and pebble-challtestsrv, on
// loopback only. challtestsrv answers every DNS name with 127.0.0.1, so
// pebble's HTTP-01 validation reaches portero's challenge entry point on
// `httpPort`. Every listener is pinned to 127.0.0.1 or turned off (the
// defaults bind all interfaces, and -management "" would take :80).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './portero.js';

export const PEBBLE = '/usr/bin/pebble';
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

export function pebbleInstalled(): boolean {
  return existsSync(PEBBLE) && existsSync(CHALLTESTSRV);
}

export interface Pebble {
  directory: string;
  /** PEM of the certificate pebble's own API presents (trust it with caCertificates). */
  apiCert: string;
  /** The root that signs the certificates pebble issues (new at every start). */
  root(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: new Agent({ ca }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(url: string, ca: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if ((await get(url, ca)).status === 200) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pebble did not answer at ${url}: ${String(last)}`);
}

/** Starts challtestsrv and pebble; certificates it issues live `validitySeconds`. */
export async function startPebble(httpPort: number, validitySeconds = 3600): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'portero-pebble-'));
  const [api, management, dns, challMgmt, tlsPort] = await freePorts(5);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=pebble', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  const apiCert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${api}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: validitySeconds,
      },
    }),
  );
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const keep = (c: ChildProcess) => {
    c.stdout?.on('data', (d: Buffer) => logs.push(String(d)));
    c.stderr?.on('data', (d: Buffer) => logs.push(String(d)));
    children.push(c);
  };
  keep(
    spawn(CHALLTESTSRV, ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challMgmt}`], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  keep(
    spawn(PEBBLE, ['-config', join(dir, 'config.json'), '-dnsserver', `127.0.0.1:${dns}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    }),
  );
  const stop = async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`https://127.0.0.1:${api}/dir`, apiCert, 15_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${logs.join('')}`, { cause: err });
  }
  return {
    directory: `https://127.0.0.1:${api}/dir`,
    apiCert,
    root: async () => (await get(`https://127.0.0.1:${management}/roots/0`, apiCert)).body,
    stop,
  };
}
