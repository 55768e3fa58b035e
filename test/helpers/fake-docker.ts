// A stand-in for the Docker API of a Swarm manager, on loopback: one service
// (whoami_whoami) with Traefik 1.7 labels, its tasks' addresses, an events
// stream, and a switch that makes it drop every connection (the API gone).
import http from 'node:http';

export interface FakeState {
  replicas: string[];
  rule: string;
  /** traefik.port (default 80). */
  port?: number;
  /** More labels on the service. */
  labels?: Record<string, string>;
  /** A global service: its tasks have a node, not a slot. */
  global?: boolean;
  down: boolean;
  requests: string[];
  events: http.ServerResponse[];
  /** Events the engine has seen (for `since`): each is replayed to an /events request whose `since` is before it. */
  eventLog?: { timeNano: bigint; line: string }[];
  /** The `since` of each /events request ("" without one). */
  eventSince?: string[];
}

/** Docker's "<seconds>.<nanoseconds>" (or plain seconds) as nanoseconds. */
function sinceNano(since: string): bigint {
  const [s, ns = ''] = since.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt(ns.padEnd(9, '0').slice(0, 9) || '0');
}

export function fakeDocker(state: FakeState): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[\d.]+/, '').split('?')[0];
    state.requests.push(`${req.method} ${path}`);
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const service = () => ({
      ID: 'svc1',
      Spec: {
        Name: 'whoami_whoami',
        Labels: { 'traefik.enable': 'true', 'traefik.frontend.rule': state.rule, 'traefik.port': String(state.port ?? 80), ...state.labels },
        TaskTemplate: { Networks: [{ Target: 'net1' }] },
      },
      Endpoint: { VirtualIPs: [{ NetworkID: 'net1', Addr: '10.0.9.2/24' }] },
    });
    switch (path) {
      case '/services':
        return json([service()]);
      case '/services/svc1':
        return json(service());
      case '/tasks':
        return json(
          state.replicas.map((ip, i) => ({
            ID: `task${i}`,
            ServiceID: 'svc1',
            ...(state.global ? { NodeID: `node${i}` } : { Slot: i + 1 }),
            DesiredState: 'running',
            Status: { State: 'running' },
            NetworksAttachments: [{ Network: { ID: 'net1', Spec: { Name: 'traefik-net' } }, Addresses: [`${ip}/24`] }],
          })),
        );
      case '/networks':
        return json([{ Id: 'net1', Name: 'traefik-net' }]);
      case '/events': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const since = new URL(req.url ?? '/', 'http://x').searchParams.get('since') ?? '';
        state.eventSince?.push(since);
        if (since !== '') for (const e of state.eventLog ?? []) if (e.timeNano >= sinceNano(since)) res.write(e.line + '\n');
        state.events.push(res);
        return;
      }
      default:
        if (path.startsWith('/containers/')) {
          res.writeHead(404, { 'content-type': 'application/json' });
          return res.end('{"message":"no such container"}');
        }
        res.writeHead(404);
        res.end();
    }
  });
}
