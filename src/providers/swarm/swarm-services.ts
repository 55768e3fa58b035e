// The Docker API's service and task objects, reduced to the SwarmService
// shape routing needs (model.ts). Used for a whole poll and for one service
// that an event named.
import type Docker from 'dockerode';
import type { SwarmService, SwarmTask } from './model.js';

/** What dockerode's list call would have returned for the same answer. */
export type ListAnswer<K extends 'listServices' | 'listTasks' | 'listNetworks'> = Awaited<ReturnType<Docker[K]>>;

function stripPrefix(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash === -1 ? cidr : cidr.slice(0, slash);
}

interface Attachment {
  Network?: { ID?: string; Spec?: { Name?: string } };
  Addresses?: string[];
}

/** Services with their running tasks, sorted by name; `networkName` maps network IDs to names. */
export function swarmServices(services: ListAnswer<'listServices'>, tasks: ListAnswer<'listTasks'>, networkName: ReadonlyMap<string, string>): SwarmService[] {
  const tasksByService = new Map<string, SwarmTask[]>();
  for (const t of tasks) {
    if (t.Status?.State !== 'running' || t.DesiredState !== 'running' || t.ServiceID === undefined) continue;
    const addresses: Record<string, string[]> = {};
    for (const att of (t as { NetworksAttachments?: Attachment[] }).NetworksAttachments ?? []) {
      const name = att.Network?.Spec?.Name ?? networkName.get(att.Network?.ID ?? '');
      if (name === undefined) continue;
      addresses[name] = (att.Addresses ?? []).map(stripPrefix);
    }
    const list = tasksByService.get(t.ServiceID) ?? [];
    // Traefik's container name for a task: the service's name, then the slot, or the task ID for a global service's.
    list.push({ id: t.ID ?? '', name: `${t.ServiceID}.${t.Slot || t.ID || ''}`, addresses });
    tasksByService.set(t.ServiceID, list);
  }
  const out: SwarmService[] = services.map((s) => {
    const name = s.Spec?.Name ?? s.ID ?? '';
    const attached = (s.Spec?.TaskTemplate as { Networks?: { Target?: string }[] } | undefined)?.Networks ?? [];
    const vips: Record<string, string> = {};
    for (const v of s.Endpoint?.VirtualIPs ?? []) {
      const n = networkName.get(v.NetworkID ?? '');
      if (n !== undefined && v.Addr !== undefined) vips[n] = stripPrefix(v.Addr);
    }
    const serviceTasks = (tasksByService.get(s.ID ?? '') ?? []).map((t) => ({ ...t, name: t.name.replace(/^[^.]*/, name) }));
    return {
      id: s.ID ?? '',
      name,
      labels: s.Spec?.Labels ?? {},
      networks: attached.map((a) => networkName.get(a.Target ?? '') ?? a.Target ?? '').filter((n) => n !== ''),
      vips,
      tasks: serviceTasks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
