// Traefik's TCP and UDP sections of the API. portero routes HTTP only, so
// every TCP or UDP router, service and middleware a provider read (Swarm
// labels) is listed here disabled, with the reason, rather than hidden: a
// stack that relied on one sees at once that portero does not serve it.
import type { ConfigError, TcpUdpKind } from '../dynamic/model.js';
import { qualify } from '../table/compile.js';

export interface TcpUdpInfo {
  error: string[];
  status: 'disabled';
}

/** API path (under /api/) -> the element kind listed there. */
export const TCP_UDP_SECTIONS: Record<string, TcpUdpKind> = {
  'tcp/routers': 'tcpRouter',
  'tcp/services': 'tcpService',
  'tcp/middlewares': 'tcpMiddleware',
  'udp/routers': 'udpRouter',
  'udp/services': 'udpService',
};

export type TcpUdpRuntime = Record<TcpUdpKind, Map<string, TcpUdpInfo>>;

export function tcpUdpRuntime(providerErrors: readonly ConfigError[]): TcpUdpRuntime {
  const runtime: TcpUdpRuntime = { tcpRouter: new Map(), tcpService: new Map(), tcpMiddleware: new Map(), udpRouter: new Map(), udpService: new Map() };
  for (const e of providerErrors) {
    if (e.element === undefined || !Object.hasOwn(runtime, e.element.kind)) continue;
    const map = runtime[e.element.kind as TcpUdpKind];
    const name = qualify(e.element.name, e.provider);
    const info = map.get(name);
    if (info === undefined) map.set(name, { error: [e.message], status: 'disabled' });
    else if (!info.error.includes(e.message)) info.error.push(e.message);
  }
  return runtime;
}

/** Traefik's representation of a listed element: its fields, name and provider. */
export function tcpUdpRepresentations(map: Map<string, TcpUdpInfo>, only?: string): object[] {
  const entries = only === undefined ? [...map] : map.has(only) ? [[only, map.get(only)!] as const] : [];
  return entries.map(([name, info]) => ({ ...info, name, provider: name.slice(name.lastIndexOf('@') + 1) }));
}
