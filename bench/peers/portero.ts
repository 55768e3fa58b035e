// portero from this checkout's build (dist/src/cli.js), with a file
// provider routing everything to the backends (round robin).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY } from '../body.js';
import { checkout, describeCheckout, findRoot } from '../env.js';
import { freePorts, waitForBody } from '../net.js';
import { peakRssKiB } from '../proc.js';
import { type Child, spawnChild } from '../spawn.js';
import type { Cell, Peer, PeerContext, RunningPeer } from './peer.js';

/** dist/bench/peers/portero.js -> dist/src/cli.js: this checkout's build. */
export const DEFAULT_CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** Node flags portero runs with: the Dockerfile's ENTRYPOINT has the same (a unit test checks). */
export const PORTERO_NODE_FLAGS = ['--max-semi-space-size=2'];

/** Traefik dynamic configuration; JSON is valid YAML. */
export function porteroDynamicConfig(ctx: Pick<PeerContext, 'backends'>): string {
  const config = {
    http: {
      routers: { bench: { rule: 'PathPrefix(`/`)', service: 'bench', entryPoints: ['web'] } },
      services: { bench: { loadBalancer: { servers: ctx.backends.map((p) => ({ url: `http://127.0.0.1:${p}` })) } } },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export interface PorteroProcess extends RunningPeer {
  readonly child: Child;
  readonly port: number;
}

export interface StartOptions {
  /** More portero flags (a variant's). */
  extraArgs?: readonly string[];
  /** The dynamic configuration file's content (default: porteroDynamicConfig). */
  dynamic?: string;
  /** Host header of the readiness request (default: the URL's). */
  readyHost?: string;
  readyTimeoutMs?: number;
}

/** Starts portero from cli and waits until it answers BODY. */
export async function startPortero(cli: string, ctx: PeerContext, options: StartOptions = {}): Promise<PorteroProcess> {
  const [port, apiPort] = await freePorts(2);
  mkdirSync(ctx.dir, { recursive: true });
  const file = join(ctx.dir, 'dynamic.yml');
  writeFileSync(file, options.dynamic ?? porteroDynamicConfig(ctx));
  const nodeArgs: string[] = [...PORTERO_NODE_FLAGS];
  if (ctx.cpuProf) {
    const dir = join(ctx.dir, 'cpuprof');
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = spawnChild('portero', process.execPath, [
    ...nodeArgs,
    cli,
    `--entrypoints.web.address=127.0.0.1:${port}`,
    `--entrypoints.traefik.address=127.0.0.1:${apiPort}`,
    `--providers.file.filename=${file}`,
    `--workers=${ctx.workers}`,
    ...(options.extraArgs ?? []),
  ], { logFile: join(ctx.dir, 'portero.log') });
  const url = `http://127.0.0.1:${port}/`;
  try {
    await Promise.race([
      waitForBody(url, BODY, options.readyTimeoutMs, options.readyHost),
      child.exited.then((code) => {
        throw new Error(`portero exited (${code}); see ${ctx.dir}/portero.log`);
      }),
    ]);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    child,
    port,
    urls: [url],
    pids: () => [child.pid],
    peakRssKiB: () => peakRssKiB(child.pid),
    // SIGTERM: portero drains, lets its workers close their sockets, then exits
    // (and writes its CPU profiles on the way out).
    stop: () => child.stop('SIGTERM', 15_000),
  };
}

/**
 * portero with observability on, to show what it costs: run beside plain
 * portero in the 20-byte cells, where a per-request cost shows most.
 */
export const PORTERO_VARIANTS: Record<string, (dir: string) => string[]> = {
  'portero-metrics': () => ['--metrics.prometheus'],
  'portero-accesslog': (dir) => ['--accesslog', `--accesslog.filepath=${join(dir, 'access.log')}`],
};

/** cli: a built dist/src/cli.js (another checkout's, to compare builds); variant: a PORTERO_VARIANTS name. */
export const porteroPeer = (cli = DEFAULT_CLI, variant?: string): Peer => ({
  name: variant ?? 'portero',
  ...(variant === undefined ? {} : { runsIn: (cell: Cell) => cell.body === '20' }),
  available: () => {
    if (!existsSync(cli)) return Promise.resolve({ ok: false, reason: `${cli} missing: build first (npx tsc -p tsconfig.json)` });
    // <root>/dist/src/cli.js
    let root: string;
    try {
      root = findRoot(dirname(cli));
    } catch (err) {
      return Promise.resolve({ ok: false, reason: (err as Error).message });
    }
    const where = cli === DEFAULT_CLI ? '' : ` (${root})`;
    return Promise.resolve({ ok: true, version: `${describeCheckout(checkout(root))}${where}` });
  },
  start: (ctx) => startPortero(cli, ctx, { extraArgs: variant === undefined ? [] : PORTERO_VARIANTS[variant]!(ctx.dir) }),
});
