// A stand-in Docker API for discovery at scale: N Swarm services and their
// tasks, with the JSON shapes and sizes Docker Engine 20.10 answers
// (services carry their full Spec and PreviousSpec, tasks their Spec and a
// full Network object per attachment). It serves GET /services, /tasks,
// /networks, /containers/<id>/json (404), /_ping and the /events stream, and
// counts the bytes it sends per path. Used by the discovery bench and by the
// smaller discovery test.
import http from 'node:http';

export interface StandinOptions {
  services: number;
  tasksPerService: number;
}

interface StandinTask {
  id: string;
  slot: number;
  ip: string;
}

export interface StandinService {
  id: string;
  name: string;
  version: number;
  tasks: StandinTask[];
}

const NET_ID = 'k1b2c3d4e5f6a7b8c9d0e1f2a';
const NET_NAME = 'apps_traefik-net';
const CREATED = '2026-11-30T08:00:00.123456789Z';

function hex(n: number, len: number): string {
  let s = '';
  let x = n * 2654435761;
  while (s.length < len) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    s += x.toString(16);
  }
  return s.slice(0, len);
}

/** A task's address: 10.<1+i/65000>.x.y on the overlay, distinct for every task. */
function ipFor(n: number): string {
  const a = 10 + Math.floor(n / 65_000);
  const r = n % 65_000;
  return `10.${a}.${Math.floor(r / 250)}.${(r % 250) + 2}`;
}

function containerSpec(name: string): object {
  return {
    Image: `registry.example.com/team/${name}:1.4.2@sha256:${hex(name.length * 7, 64)}`,
    Labels: { 'com.docker.stack.namespace': 'apps' },
    Env: ['NODE_ENV=production', `SERVICE_NAME=${name}`, 'LOG_LEVEL=info', 'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:4317'],
    Privileges: { CredentialSpec: null, SELinuxContext: null },
    StopGracePeriod: 10_000_000_000,
    DNSConfig: {},
    Isolation: 'default',
    Mounts: [{ Type: 'volume', Source: `apps_${name}-data`, Target: '/data', VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'apps' } } }],
  };
}

function taskTemplate(name: string): object {
  return {
    ContainerSpec: containerSpec(name),
    Resources: { Limits: { MemoryBytes: 536870912 }, Reservations: { MemoryBytes: 134217728 } },
    RestartPolicy: { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0 },
    Placement: { Constraints: ['node.role == worker'], Platforms: [{ Architecture: 'amd64', OS: 'linux' }] },
    Networks: [{ Target: NET_ID, Aliases: [name] }],
    ForceUpdate: 0,
    Runtime: 'container',
  };
}

function serviceJson(s: StandinService): object {
  const spec = {
    Name: s.name,
    Labels: {
      'com.docker.stack.image': `registry.example.com/team/${s.name}:1.4.2`,
      'com.docker.stack.namespace': 'apps',
      'traefik.enable': 'true',
      [`traefik.http.routers.${s.name}.rule`]: `Host(\`${s.name}.apps.example.com\`)`,
      [`traefik.http.routers.${s.name}.entrypoints`]: 'web',
      [`traefik.http.services.${s.name}.loadbalancer.server.port`]: '8080',
    },
    TaskTemplate: taskTemplate(s.name),
    Mode: { Replicated: { Replicas: s.tasks.length } },
    UpdateConfig: { Parallelism: 1, Delay: 1_000_000_000, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'start-first' },
    RollbackConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
    EndpointSpec: { Mode: 'vip' },
  };
  return {
    ID: s.id,
    Version: { Index: s.version },
    CreatedAt: CREATED,
    UpdatedAt: CREATED,
    Spec: spec,
    PreviousSpec: spec,
    Endpoint: { Spec: { Mode: 'vip' }, VirtualIPs: [{ NetworkID: NET_ID, Addr: `10.250.${Math.floor(s.version / 250) % 250}.${(s.version % 250) + 2}/16` }] },
  };
}

const NETWORK = {
  ID: NET_ID,
  Version: { Index: 12 },
  CreatedAt: CREATED,
  UpdatedAt: CREATED,
  Spec: {
    Name: NET_NAME,
    Labels: { 'com.docker.stack.namespace': 'apps' },
    DriverConfiguration: { Name: 'overlay' },
    Attachable: true,
    IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.0.0.0/8', Gateway: '10.0.0.1' }] },
    Scope: 'swarm',
  },
  DriverState: { Name: 'overlay', Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } },
  IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.0.0.0/8', Gateway: '10.0.0.1' }] },
};

/** A network as GET /networks lists it (NetworkResource: Id and Name at the top, unlike a task's attachment). */
function networkResource(id: string, name: string, ingress: boolean): object {
  return {
    Name: name,
    Id: id,
    Created: CREATED,
    Scope: 'swarm',
    Driver: 'overlay',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: ingress ? '10.255.0.0/16' : '10.0.0.0/8', Gateway: ingress ? '10.255.0.1' : '10.0.0.1' }] },
    Internal: false,
    Attachable: !ingress,
    Ingress: ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: null,
    Options: { 'com.docker.network.driver.overlay.vxlanid_list': ingress ? '4096' : '4097' },
    Labels: ingress ? {} : { 'com.docker.stack.namespace': 'apps' },
  };
}

function taskJson(s: StandinService, t: StandinTask): object {
  return {
    ID: t.id,
    Version: { Index: s.version + t.slot },
    CreatedAt: CREATED,
    UpdatedAt: CREATED,
    Labels: {},
    Spec: taskTemplate(s.name),
    ServiceID: s.id,
    Slot: t.slot,
    NodeID: hex(t.slot, 25),
    Status: {
      Timestamp: CREATED,
      State: 'running',
      Message: 'started',
      ContainerStatus: { ContainerID: hex(t.slot * 31 + s.version, 64), PID: 4000 + t.slot, ExitCode: 0 },
      PortStatus: {},
    },
    DesiredState: 'running',
    NetworksAttachments: [{ Network: NETWORK, Addresses: [`${t.ip}/8`] }],
  };
}

export class DockerStandin {
  readonly services: StandinService[] = [];
  /** Bytes sent, by path ("/services", "/tasks", ...), and requests by path. */
  readonly bytes = new Map<string, number>();
  readonly requests = new Map<string, number>();
  private readonly streams = new Set<http.ServerResponse>();
  /** Serialized answers until the next change: the stand-in's own cost stays out of the measurement. */
  private readonly cache = new Map<string, Buffer>();
  private nextTask = 0;
  readonly server: http.Server;

  constructor(o: StandinOptions) {
    for (let i = 0; i < o.services; i++) {
      const s: StandinService = { id: hex(i + 1, 25), name: `svc${i}`, version: 100 + i, tasks: [] };
      for (let k = 0; k < o.tasksPerService; k++) this.addTaskTo(s);
      this.services.push(s);
    }
    this.server = http.createServer((req, res) => this.answer(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  private addTaskTo(s: StandinService): StandinTask {
    const n = this.nextTask++;
    const t: StandinTask = { id: hex(n + 7919, 25), slot: s.tasks.length + 1, ip: ipFor(n) };
    s.tasks.push(t);
    return t;
  }

  /** A new running task for service `i` (a scale-up), returning the URL portero should route to. */
  startTask(i: number): string {
    const s = this.services[i]!;
    const t = this.addTaskTo(s);
    s.version++;
    this.cache.clear();
    return `http://${t.ip}:8080`;
  }

  /** Service `i` is removed (`docker service rm`); returns it, for its event. */
  removeService(i: number): StandinService {
    const [s] = this.services.splice(i, 1);
    this.cache.clear();
    return s!;
  }

  /** A service event, as `docker service update` sends one. */
  emitServiceEvent(which: number | StandinService): void {
    const s = typeof which === 'number' ? this.services[which]! : which;
    const nano = BigInt(Date.now()) * 1_000_000n;
    const line = `{"Type":"service","Action":"update","Actor":{"ID":"${s.id}","Attributes":{"name":"${s.name}"}},"scope":"swarm","time":${nano / 1_000_000_000n},"timeNano":${nano}}\n`;
    for (const r of this.streams) r.write(line);
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  close(): void {
    for (const r of this.streams) r.destroy();
    this.server.close();
    this.server.closeAllConnections();
  }

  private send(path: string, key: string, res: http.ServerResponse, body: () => unknown): void {
    let bytes = this.cache.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(body()));
      this.cache.set(key, bytes);
    }
    this.bytes.set(path, (this.bytes.get(path) ?? 0) + bytes.length);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL((req.url ?? '/').replace(/^\/v[\d.]+/, ''), 'http://standin');
    const path = url.pathname;
    const counted = path.startsWith('/containers/') ? '/containers' : path.startsWith('/services/') ? '/services/<id>' : path;
    this.requests.set(counted, (this.requests.get(counted) ?? 0) + 1);
    const key = `${path}?${url.searchParams.get('filters') ?? ''}`;
    if (path === '/services') return this.send(path, key, res, () => this.services.map(serviceJson));
    if (path.startsWith('/services/')) {
      const id = decodeURIComponent(path.slice('/services/'.length));
      const s = this.services.find((x) => x.id === id || x.name === id);
      if (s !== undefined) return this.send('/services/<id>', key, res, () => serviceJson(s));
    }
    if (path === '/tasks') {
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { service?: string[] };
      const wanted = filters.service === undefined ? null : new Set(filters.service);
      return this.send(path, key, res, () => {
        const out: object[] = [];
        for (const s of this.services) if (wanted === null || wanted.has(s.id) || wanted.has(s.name)) for (const t of s.tasks) out.push(taskJson(s, t));
        return out;
      });
    }
    if (path === '/networks') return this.send(path, key, res, () => [networkResource(NET_ID, NET_NAME, false), networkResource('ingressid0000000000000000a', 'ingress', true)]);
    if (path === '/_ping') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('OK');
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"not found"}');
  }
}
