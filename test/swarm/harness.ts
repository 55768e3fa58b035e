// Shared pieces of the tests that need a real Docker engine in Swarm mode.
//
// They run when asked (PORTERO_SWARM_TESTS=1, or `npm run test:swarm`) and in
// CI (CI=true), where a missing engine fails them instead of skipping. They
// never turn an engine into a Swarm, and touch only what they create: every
// object they make is named with the `portero-t-` prefix.
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PREFIX = 'portero-t-';
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const IMAGE = 'portero:test';
export const WHOAMI_IMAGE = 'portero-whoami:test';
const BASE_IMAGE = 'portero-node-base:local';

export const wanted = process.env.PORTERO_SWARM_TESTS === '1' || process.env.CI === 'true';

export function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** Why the Swarm tests cannot run here, or null when they can. */
export async function swarmUnavailable(): Promise<string | null> {
  try {
    const state = await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'], 15_000);
    if (state !== 'active true') return `this Docker engine is not a Swarm manager (${state}); run 'docker swarm init' yourself`;
    return null;
  } catch (err) {
    return `no Docker engine: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * The test options for a Swarm suite: skipped with a reason unless wanted;
 * when wanted, an unusable engine is a failure, not a skip.
 */
export async function swarmSuiteOptions(): Promise<{ skip: string | false }> {
  if (!wanted) return { skip: 'Swarm tests skipped: set PORTERO_SWARM_TESTS=1 or run `npm run test:swarm` (needs a Docker engine in Swarm mode)' };
  const why = await swarmUnavailable();
  if (why !== null) throw new Error(`Swarm tests were asked for but cannot run: ${why}`);
  return { skip: false };
}

let built: Promise<void> | null = null;

/** Builds the portero image from the project's Dockerfile (on a local base) and the whoami image. */
export function buildImages(): Promise<void> {
  built ??= (async () => {
    await new Promise<void>((resolve, reject) =>
      execFile(path.join(REPO, 'test/swarm/make-base-image.sh'), [BASE_IMAGE], { timeout: 120_000 }, (err, _o, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(),
      ),
    );
    await docker(['build', '-q', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, REPO], 600_000);
    await docker(['build', '-q', '--build-arg', `BASE=${IMAGE}`, '-t', WHOAMI_IMAGE, '-f', path.join(REPO, 'test/swarm/whoami.Dockerfile'), REPO], 120_000);
  })();
  return built;
}

export async function removeServices(names: string[]): Promise<void> {
  const existing = (await docker(['service', 'ls', '--format', '{{.Name}}'])).split('\n').filter((n) => names.includes(n));
  if (existing.length > 0) await docker(['service', 'rm', ...existing]);
}

/** Removes everything named with the test prefix: services, stacks' services, then networks (retrying while tasks wind down). */
export async function cleanup(): Promise<void> {
  const services = (await docker(['service', 'ls', '--format', '{{.Name}}'])).split('\n').filter((n) => n.startsWith(PREFIX));
  if (services.length > 0) await docker(['service', 'rm', ...services]);
  const networks = (await docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter((n) => n.startsWith(PREFIX));
  for (const n of networks) {
    for (let i = 0; i < 60; i++) {
      try {
        await docker(['network', 'rm', n]);
        break;
      } catch {
        await sleep(500);
      }
    }
  }
}

export async function createNetwork(name: string): Promise<void> {
  await docker(['network', 'create', '--driver', 'overlay', '--attachable', name]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value other than undefined, or throws after `ms`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** IPs of a service's running tasks on a network, from the engine itself. */
export async function taskIps(service: string, network: string): Promise<string[]> {
  const ids = (await docker(['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.ID}}', '--no-trunc'])).split('\n').filter(Boolean);
  const ips: string[] = [];
  for (const id of ids) {
    const raw = await docker(['inspect', id, '--format', '{{json .}}']);
    const t = JSON.parse(raw) as { Status: { State: string }; NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses: string[] }[] };
    if (t.Status.State !== 'running') continue;
    for (const a of t.NetworksAttachments ?? []) if (a.Network.Spec.Name === network) ips.push(...a.Addresses.map((x) => x.split('/')[0]));
  }
  return ips.sort();
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** docker stack rm, then waits until its containers are gone. */
export async function removeStack(name: string): Promise<void> {
  await docker(['stack', 'rm', name]).catch(() => '');
  await waitFor(`stack ${name} gone`, async () => ((await docker(['ps', '-q', '--filter', `label=com.docker.stack.namespace=${name}`])) === '' ? true : undefined), 60_000, 250);
}
