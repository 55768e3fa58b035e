// Starts a real portero (main thread + worker threads) on loopback for tests.
import { DEFAULT_WEBSOCKET } from '../../src/config/websocket.js';
import net from 'node:net';
import { pino } from 'pino';
import type { StaticConfig } from '../../src/config/static.js';
import type { ConfigError, DynamicConfig } from '../../src/dynamic/model.js';
import { Portero } from '../../src/portero.js';
import type { Provider } from '../../src/providers/provider.js';

export class MemoryProvider implements Provider {
  readonly name: string;
  private emit: ((c: DynamicConfig, e: ConfigError[]) => void) | null = null;
  constructor(
    private config: DynamicConfig,
    name = 'file',
  ) {
    this.name = name;
  }
  async start(emit: (c: DynamicConfig, e: ConfigError[]) => void): Promise<void> {
    this.emit = emit;
    emit(this.config, []);
  }
  stop(): void {}
  set(config: DynamicConfig): void {
    this.config = config;
    this.emit?.(config, []);
  }
}

/** `n` distinct free ports: all are held until every one is chosen, so none comes twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPortero {
  portero: Portero;
  provider: MemoryProvider;
  webPort: number;
  apiPort: number;
  url(path?: string): string;
  stop(): Promise<void>;
}

export function testStaticConfig(webPort: number, apiPort: number, workers: number): StaticConfig {
  const ep = (name: string, port: number) => ({
    name,
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    trustedIPs: [],
    forwardedHeadersInsecure: false,
    graceTimeoutMs: 10_000,
    // No body deadline: the 1 GiB upload tests must not depend on the machine's speed.
    readTimeoutMs: 0,
    tls: null,
  });
  return {
    entryPoints: { web: ep('web', webPort), traefik: ep('traefik', apiPort) },
    providers: {},
    api: { enabled: true, insecure: true, dashboard: true },
    ping: true,
    log: { level: 'error' },
    workers,
    serversTransport: {
      maxIdleConnsPerHost: 200,
      maxConnsPerHost: 0,
      dialTimeoutMs: 30_000,
      responseHeaderTimeoutMs: 0,
      idleConnTimeoutMs: 90_000,
      readTimeoutMs: 60_000,
      pipelining: Number(process.env.PORTERO_TEST_PIPELINING ?? 0),
      insecureSkipVerify: false,
      rootCAs: [],
    },
    websocket: { ...DEFAULT_WEBSOCKET },
    certificatesResolvers: [],
    staticCertificates: [],
  };
}

export interface StartOptions {
  workers?: number;
  tweak?: (c: StaticConfig, extraPorts: number[]) => void;
  extraPorts?: number;
  /** Collects portero's log lines (JSON, warn and above) here. */
  logs?: string[];
}

export async function startPortero(
  dynamic: DynamicConfig,
  options: StartOptions = {},
): Promise<TestPortero> {
  // A port found free can be taken before portero binds it (as the local port
  // of an outgoing connection): then portero refuses to start, stops what it
  // started, and the test tries other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(dynamic, options);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE|cannot listen/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnFreePorts(dynamic: DynamicConfig, options: StartOptions): Promise<TestPortero> {
  const [webPort, apiPort, ...extraPorts] = await freePorts(2 + (options.extraPorts ?? 0));
  const config = testStaticConfig(webPort!, apiPort!, options.workers ?? 1);
  options.tweak?.(config, extraPorts);
  const provider = new MemoryProvider(dynamic);
  const logs = options.logs;
  const log = logs === undefined ? pino({ level: process.env.PORTERO_TEST_LOG ?? 'silent' }) : pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
  const portero = new Portero({ config, log, providers: [provider], testHooks: true });
  await portero.start();
  return {
    portero,
    provider,
    webPort: webPort!,
    apiPort: apiPort!,
    url: (path = '/') => `http://127.0.0.1:${webPort}${path}`,
    stop: () => portero.stop(),
  };
}

/** One service `svc` with the given server URLs, routed by `rule`. */
export function simpleConfig(rule: string, urls: string[], extra: Partial<DynamicConfig['http']> = {}): DynamicConfig {
  return {
    http: {
      routers: { r: { rule, service: 'svc' }, ...(extra.routers ?? {}) },
      services: { svc: { loadBalancer: { servers: urls.map((url) => ({ url })) } }, ...(extra.services ?? {}) },
      middlewares: { ...(extra.middlewares ?? {}) },
    },
  };
}
