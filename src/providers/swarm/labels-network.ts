// Which addresses a Swarm service's servers get: the network to use and the
// task IPs (or the service's virtual IP with lbswarm) on it.
//
// Network choice, first that applies:
//   1. the `traefik.swarm.network` / `traefik.docker.network` label
//   2. --providers.swarm.network
//   3. the one network the service shares with portero's own container
//   4. the service's only network
// The "ingress" routing-mesh network never counts. A named network the
// service is not attached to gets Traefik's fallback, with a warning: the one
// shared with portero, else the service's first (Traefik's "first" is a Go
// map's, so any; a stack that relies on it works here too). When nothing is
// named and several networks qualify, Traefik picks one at random; portero
// refuses, naming the candidates, because that pick usually times out.
import { goBool, LabelProblem, pick, type LabelIndex } from './labels-common.js';
import type { SwarmService, SwarmTask } from './model.js';

export const INGRESS = 'ingress';

export interface ProviderLabels {
  network?: { value: string; label: string };
  lbswarm?: { value: boolean; label: string };
}

const NETWORK_LABELS = ['traefik.swarm.network', 'traefik.docker.network'];
const LBSWARM_LABELS = ['traefik.swarm.lbswarm', 'traefik.docker.lbswarm', 'traefik.backend.loadbalancer.swarm'];
const KNOWN = new Set([...NETWORK_LABELS, ...LBSWARM_LABELS]);

/**
 * Reads the provider labels. Traefik refuses a service with both
 * `traefik.docker.*` and `traefik.swarm.*` labels; portero accepts them
 * when they agree and refuses only when they set different values.
 * Unknown `traefik.swarm.*`/`traefik.docker.*` keys are warnings.
 */
export function readProviderLabels(index: LabelIndex, warnings: string[]): ProviderLabels {
  const out: ProviderLabels = {};
  for (const [lower, list] of index) {
    if (/^traefik\.(swarm|docker)\./.test(lower) && !KNOWN.has(lower)) {
      const why = lower === 'traefik.docker.allownonrunning' ? 'a Docker (not Swarm) provider option' : 'not a Swarm provider label';
      warnings.push(`label "${list[0].key}" ignored: ${why}`);
    }
  }
  for (const name of NETWORK_LABELS) {
    const l = pick(index, name);
    if (l === undefined) continue;
    if (out.network !== undefined && out.network.value !== l.value) {
      throw new LabelProblem(`conflicts with label "${out.network.label}" (${JSON.stringify(out.network.value)})`, l.key);
    }
    out.network ??= { value: l.value, label: l.key };
  }
  for (const name of LBSWARM_LABELS) {
    const l = pick(index, name);
    if (l === undefined) continue;
    const value = goBool(l.value);
    if (value === undefined) throw new LabelProblem(`must be true or false, got ${JSON.stringify(l.value)}`, l.key);
    if (out.lbswarm !== undefined && out.lbswarm.value !== value) {
      throw new LabelProblem(`conflicts with label "${out.lbswarm.label}"`, l.key);
    }
    out.lbswarm ??= { value, label: l.key };
  }
  return out;
}

export interface NetworkChoice {
  network: string;
  /** The label (or option) that named it, for later errors. */
  label?: string;
}

function list(names: string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => JSON.stringify(n)).join(', ');
}

/** Chooses the network; throws LabelProblem when it cannot be determined. */
export function chooseNetwork(
  service: SwarmService,
  provider: ProviderLabels,
  optionNetwork: string | undefined,
  ownNetworks: string[] | null,
  warnings: string[],
): NetworkChoice {
  const candidates = [...new Set(service.networks)].filter((n) => n !== INGRESS).sort();
  const named = provider.network ?? (optionNetwork ? { value: optionNetwork, label: undefined } : undefined);
  if (named !== undefined) {
    const where = named.label === undefined ? '--providers.swarm.network: ' : '';
    const value = named.value.trim();
    if (value === INGRESS) throw new LabelProblem(`${where}the ingress network cannot carry proxied traffic; name the service's overlay network`, named.label);
    if (!candidates.includes(value)) {
      // Traefik warns and takes another network; a stack that works there must work here.
      const shared = ownNetworks === null ? [] : candidates.filter((n) => ownNetworks.includes(n));
      const fallback = shared.length === 1 ? shared[0] : service.networks.find((n) => n !== INGRESS);
      if (fallback === undefined) throw new LabelProblem('the service is attached to no network besides ingress, so portero cannot reach its tasks');
      const by = named.label === undefined ? '--providers.swarm.network' : `label "${named.label}"`;
      warnings.push(
        `Swarm service "${service.name}": ${by}: network ${JSON.stringify(value)} is not attached to the service (its networks: ${list(candidates)}; stack networks carry the stack name as prefix, e.g. "mystack_net"); using "${fallback}", as Traefik does`,
      );
      return { network: fallback };
    }
    return { network: value, label: named.label };
  }
  if (ownNetworks !== null) {
    const shared = candidates.filter((n) => ownNetworks.includes(n));
    if (shared.length === 1) return { network: shared[0] };
    if (shared.length > 1) {
      throw new LabelProblem(
        `the service shares several networks with portero (${list(shared)}); choose one with the label traefik.swarm.network or --providers.swarm.network`,
      );
    }
  }
  if (candidates.length === 1) {
    if (ownNetworks !== null) {
      warnings.push(`Swarm service "${service.name}": using network "${candidates[0]}", which portero's container is not attached to; its tasks may be unreachable`);
    }
    return { network: candidates[0] };
  }
  if (candidates.length === 0) throw new LabelProblem('the service is attached to no network besides ingress, so portero cannot reach its tasks');
  throw new LabelProblem(
    `the service is attached to several networks (${list(candidates)}); choose one with the label traefik.swarm.network or --providers.swarm.network`,
  );
}

function stripPrefix(addr: string): string {
  const slash = addr.indexOf('/');
  return slash < 0 ? addr : addr.slice(0, slash);
}

/** "task.10" sorts after "task.9". */
function natural(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    if (i % 2 === 1) return Number(pa[i]) - Number(pb[i]) || (pa[i] < pb[i] ? -1 : 1);
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The task's address on the network: its first IPv4 one, else its first. */
function taskAddress(task: SwarmTask, network: string): string | undefined {
  const addrs = (task.addresses[network] ?? []).map(stripPrefix).filter((a) => a !== '');
  return addrs.find((a) => !a.includes(':')) ?? addrs[0];
}

/**
 * The hosts to send requests to: one per running task on the network, or the
 * service's virtual IP with lbswarm. Tasks without an address there are
 * skipped with a warning.
 */
export function serverHosts(service: SwarmService, choice: NetworkChoice, lbswarm: ProviderLabels['lbswarm'], warnings: string[]): string[] {
  if (lbswarm?.value) {
    const vip = service.vips[choice.network];
    if (vip === undefined || stripPrefix(vip) === '') {
      throw new LabelProblem(
        `the service has no virtual IP on network ${JSON.stringify(choice.network)} (endpoint mode dnsrr?), so lbswarm cannot be used`,
        lbswarm.label,
      );
    }
    return [stripPrefix(vip)];
  }
  const tasks = [...service.tasks].sort((a, b) => natural(a.name, b.name) || natural(a.id, b.id));
  const hosts: string[] = [];
  for (const task of tasks) {
    const addr = taskAddress(task, choice.network);
    if (addr === undefined) {
      warnings.push(`Swarm service "${service.name}": task "${task.name}" has no address on network "${choice.network}"; skipped`);
      continue;
    }
    if (!hosts.includes(addr)) hosts.push(addr);
  }
  return hosts;
}

/** "http://10.0.0.5:80", "http://[fd00::5]:80". */
export function serverUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
