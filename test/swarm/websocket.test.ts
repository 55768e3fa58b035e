// WebSockets during a rolling update on a real Swarm: portero deployed with
// the walkthrough's stack file, whoami with 3 replicas, and 200 WebSocket
// clients on 127.0.0.1:80 to whoami's /echo while `docker service update
// --image` replaces the replicas one at a time. Each client sends numbered
// messages at a steady pace; when its WebSocket closes it reconnects and
// sends again what was not acknowledged. Nothing the server acknowledged may
// be lost, every message must end acknowledged, and sessions may end only
// with clean codes: 1001 from a replica going away (whoami closes its
// WebSockets on SIGTERM, and portero passes the code on), 1000 at the end.
//
// whoami's echo (src/demo/whoami.ts) answers a text message M with
// `ack <M> <replica> <n>`, n being the message's place among those the
// replica received on that WebSocket, and closes on SIGTERM with the reason
// "going away: received <r>, answered <a>". So on every WebSocket a client
// checks that each ack answers the n-th message it sent there (nothing lost
// or reordered on the way in, no ack lost or reordered on the way back), and
// that it got as many acks as the replica says it sent before closing (no
// ack lost just before the close).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { request } from '../helpers/http.js';
import { buildImages, cleanup, createNetwork, docker, IMAGE, portInUse, PREFIX, removeStack, REPO, sleep, swarmSuiteOptions, waitFor, WHOAMI_IMAGE } from './harness.js';

const NET = `${PREFIX}ws-net`;
const PROXY_STACK = `${PREFIX}ws`;
const APP = `${PREFIX}ws-whoami`;
const HOST = 'ws.docker.localhost';
/** A second tag of the whoami image, for `service update --image`. */
const V2 = `${PREFIX}whoami:v2`;
const REPLICAS = 3;
const CLIENTS = 200;
/** Each client sends a message this often. */
const PACE_MS = 150;

const options = await swarmSuiteOptions();

/** What one client saw. */
interface ClientReport {
  sent: number;
  resent: number;
  acked: number;
  /** Acks beyond the first for one message. */
  duplicates: number;
  unacked: number[];
  sessions: number;
  /** Close codes of sessions that had opened, with how many. */
  closes: Map<number, number>;
  /** The same with their reasons, numbers left out. */
  reasons: Map<string, number>;
  /** Sessions a replica closed saying how many acks it sent, and all of them arrived. */
  closesChecked: number;
  /** Handshakes that did not open a session, by why. */
  handshakeFailures: Map<string, number>;
  violations: string[];
  /** Replicas that acknowledged, with how many acks. */
  replicas: Map<string, number>;
  /** The replica of the last session. */
  lastReplica: string;
  /** Longest time between a session closing and the next one opening. */
  longestGapMs: number;
  /** Longest time from a message's first send to its ack. */
  longestAckMs: number;
  /** Handshakes that took over a second: when they started, how long they took. */
  slowHandshakes: { at: number; ms: number }[];
  longestHandshakeMs: number;
}

const count = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** One client: numbered messages every PACE_MS, reconnecting and re-sending the unacknowledged on close. */
class EchoClient {
  private ws: WebSocket | null = null;
  private nextSeq = 1;
  /** Messages not acknowledged yet (in order): when each was made, and how often it went out. */
  private readonly unacked = new Map<number, { at: number; sends: number }>();
  private readonly acks = new Map<number, number>();
  /** Messages sent on the current WebSocket, in order, and the acks received on it. */
  private onSession: number[] = [];
  private ackedOnSession = 0;
  private replica = '';
  private open = false;
  private generating = true;
  private stopping = false;
  private attempts = 0;
  private failuresInARow = 0;
  private closedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closedWaiters: (() => void)[] = [];
  readonly r: ClientReport = {
    sent: 0,
    resent: 0,
    acked: 0,
    duplicates: 0,
    unacked: [],
    sessions: 0,
    closes: new Map(),
    reasons: new Map(),
    closesChecked: 0,
    handshakeFailures: new Map(),
    violations: [],
    replicas: new Map(),
    lastReplica: '',
    longestGapMs: 0,
    longestAckMs: 0,
    slowHandshakes: [],
    longestHandshakeMs: 0,
  };

  constructor(readonly id: number) {}

  get isOpen(): boolean {
    return this.open;
  }

  get pending(): number {
    return this.unacked.size;
  }

  start(): void {
    this.connect();
    // Spread the clients' sends over the pace.
    setTimeout(() => {
      if (this.stopping) return;
      this.timer = setInterval(() => this.tick(), PACE_MS);
    }, Math.random() * PACE_MS);
  }

  private tick(): void {
    if (!this.generating) return;
    const seq = this.nextSeq++;
    this.unacked.set(seq, { at: Date.now(), sends: 0 });
    this.r.sent++;
    this.send(seq);
  }

  private send(seq: number): void {
    const ws = this.ws;
    if (!this.open || ws === null || ws.readyState !== WebSocket.OPEN) return;
    this.onSession.push(seq);
    const u = this.unacked.get(seq)!;
    if (++u.sends > 1) this.r.resent++;
    ws.send(`c${this.id}:${seq}`);
  }

  private connect(): void {
    if (this.stopping) return;
    // A bound: a client that cannot reconnect this often has failed anyway.
    if (++this.attempts > 1000) {
      this.r.violations.push(`client ${this.id}: gave up after 1000 connection attempts`);
      return;
    }
    const ws = new WebSocket('ws://127.0.0.1:80/echo', { headers: { host: HOST }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    const dialedAt = Date.now();
    let opened = false;
    let failure = '';
    ws.on('error', (err) => {
      if (!opened && failure === '') failure = err.message;
    });
    ws.on('open', () => {
      opened = true;
      this.open = true;
      const took = Date.now() - dialedAt;
      this.r.longestHandshakeMs = Math.max(this.r.longestHandshakeMs, took);
      if (took > 1000) this.r.slowHandshakes.push({ at: dialedAt, ms: took });
      this.failuresInARow = 0;
      this.r.sessions++;
      if (this.closedAt !== 0) this.r.longestGapMs = Math.max(this.r.longestGapMs, Date.now() - this.closedAt);
      this.onSession = [];
      this.ackedOnSession = 0;
      this.replica = '';
      // What the last session left unacknowledged goes again, in order.
      for (const seq of this.unacked.keys()) this.send(seq);
    });
    ws.on('message', (data: Buffer) => this.onAck(data.toString()));
    ws.on('close', (code: number, reason: Buffer) => {
      this.open = false;
      this.ws = null;
      if (opened) {
        count(this.r.closes, code);
        count(this.r.reasons, `${code} ${JSON.stringify(reason.toString().replace(/\d+/g, 'N'))}`);
        this.closedAt = Date.now();
        this.checkClose(code, reason.toString());
      } else {
        count(this.r.handshakeFailures, failure || `closed ${code} before opening`);
        this.failuresInARow++;
      }
      if (this.stopping) {
        for (const w of this.closedWaiters.splice(0)) w();
        return;
      }
      const backoff = Math.min(2000, 100 * 2 ** Math.min(this.failuresInARow, 5)) + Math.random() * 100;
      this.reconnectTimer = setTimeout(() => this.connect(), backoff);
    });
  }

  private onAck(text: string): void {
    const m = /^ack c(\d+):(\d+) (\S+) (\d+)$/.exec(text);
    if (m === null || Number(m[1]) !== this.id) {
      this.r.violations.push(`client ${this.id}: unexpected message ${JSON.stringify(text)}`);
      return;
    }
    const seq = Number(m[2]);
    const replica = m[3]!;
    const n = Number(m[4]);
    this.ackedOnSession++;
    const expected = this.onSession[this.ackedOnSession - 1];
    if (n !== this.ackedOnSession || seq !== expected) {
      this.r.violations.push(`client ${this.id} on ${replica}: ack #${this.ackedOnSession} was for ${seq} (the replica's message ${n}), expected ${expected} (message ${this.ackedOnSession})`);
    }
    if (this.replica !== '' && this.replica !== replica) this.r.violations.push(`client ${this.id}: acks from ${this.replica} and ${replica} on one WebSocket`);
    this.replica = replica;
    this.r.lastReplica = replica;
    count(this.r.replicas, replica);
    const prior = this.acks.get(seq) ?? 0;
    this.acks.set(seq, prior + 1);
    if (prior > 0) this.r.duplicates++;
    else this.r.acked++;
    const first = this.unacked.get(seq);
    if (first !== undefined) {
      this.r.longestAckMs = Math.max(this.r.longestAckMs, Date.now() - first.at);
      this.unacked.delete(seq);
    }
  }

  /** A replica's closing reason says how many acks it sent on this WebSocket: all must have arrived. */
  private checkClose(code: number, reason: string): void {
    const m = /^going away: received (\d+), answered (\d+)$/.exec(reason);
    if (m === null) return;
    const answered = Number(m[2]);
    if (answered !== this.ackedOnSession) {
      this.r.violations.push(`client ${this.id} on ${this.replica}: closed ${code} after ${answered} acks sent, ${this.ackedOnSession} received`);
    } else this.r.closesChecked++;
  }

  /** Stops making new messages; those pending still go out. */
  stopGenerating(): void {
    this.generating = false;
  }

  /** Closes with 1000 and stops reconnecting; resolves when closed (or after 10 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (ws !== null) {
      const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
      ws.close(1000, 'done');
      await Promise.race([closed, sleep(10_000)]);
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }
    this.r.unacked = [...this.unacked.keys()];
  }
}

function stackFile(dir: string): string {
  const text = readFileSync(path.join(REPO, 'examples/walkthrough/portero.yml'), 'utf8').replace(/image: portero$/m, `image: ${IMAGE}`).replaceAll('traefik-net', NET);
  const file = path.join(dir, 'portero.yml');
  writeFileSync(file, text);
  return file;
}

async function replicasRunning(n: number): Promise<void> {
  await waitFor(`${APP} at ${n}/${n}`, async () => ((await docker(['service', 'ls', '--filter', `name=${APP}`, '--format', '{{.Replicas}}'])) === `${n}/${n}` ? true : undefined), 120_000, 250);
}

/** The hostnames (short container IDs) of the app's running containers. */
async function runningReplicas(): Promise<Set<string>> {
  const ids = await docker(['ps', '--filter', `label=com.docker.swarm.service.name=${APP}`, '--filter', 'status=running', '--format', '{{.ID}}']);
  return new Set(ids.split('\n').filter(Boolean));
}

const hostnameOf = (body: string) => /^Hostname: (.*)$/m.exec(body)?.[1]?.trim() ?? '';

function merge<K>(into: Map<K, number>, from: Map<K, number>): void {
  for (const [k, v] of from) count(into, k, v);
}

const show = (m: Map<unknown, number>) => [...m].map(([k, v]) => `${String(k)}: ${v}`).join(', ') || 'none';

describe('WebSockets during a rolling update on a real Swarm', options, () => {
  let dir = '';

  before(async () => {
    for (const port of [80, 8080]) {
      if (await portInUse(port)) throw new Error(`port ${port} on 127.0.0.1 is in use: the stack publishes portero there`);
    }
    await removeStack(PROXY_STACK);
    await cleanup();
    await buildImages();
    await docker(['tag', WHOAMI_IMAGE, V2]);
    await createNetwork(NET);
    dir = mkdtempSync(path.join(os.tmpdir(), 'portero-swarm-ws-'));
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir), PROXY_STACK]);
    await docker([
      'service', 'create', '--detach', '--name', APP, '--network', NET, '--replicas', String(REPLICAS),
      '--update-parallelism', '1', '--update-delay', '1s', '--update-failure-action', 'pause',
      '--label', 'traefik.enable=true', '--label', `traefik.frontend.rule=Host:${HOST}`, '--label', 'traefik.port=80',
      WHOAMI_IMAGE,
    ]);
  });

  after(async () => {
    await removeStack(PROXY_STACK);
    await cleanup();
    await docker(['rmi', V2]).catch(() => '');
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('portero routes to the three replicas', async () => {
    await waitFor('portero to answer /ping on 127.0.0.1:8080', async () => ((await request(8080, { path: '/ping' })).body === 'OK' ? true : undefined), 120_000, 250);
    await replicasRunning(REPLICAS);
    await waitFor(`${REPLICAS} whoami replicas behind portero`, async () => {
      const names = new Set<string>();
      for (let i = 0; i < 2 * REPLICAS; i++) {
        const r = await request(80, { headers: { host: HOST } });
        if (r.status === 200) names.add(hostnameOf(r.body));
      }
      return names.size === REPLICAS ? true : undefined;
    }, 120_000, 250);
  });

  // stop-first is what `docker service update --image` does by default, and
  // the harder case: a replica is gone before its successor runs. Then
  // start-first, back to the first tag. Handshakes that fail (a client
  // dialing a replica portero still lists) are retried and reported, not
  // failures: the issue's point is that no acknowledged message is lost.
  for (const [order, image] of [['stop-first', V2], ['start-first', WHOAMI_IMAGE]] as const) {
    test(`${CLIENTS} WebSocket clients during docker service update --image (${order}): no acknowledged message lost, clean closes only`, { timeout: 150_000 }, async () => {
      const t0 = Date.now();
      await replicasRunning(REPLICAS);
      const before = await runningReplicas();
      const clients = Array.from({ length: CLIENTS }, (_, i) => new EchoClient(i));
      // Connect over about a second, not all at once.
      for (const c of clients) {
        c.start();
        await sleep(1000 / CLIENTS);
      }
      let updateMs: number;
      let updateStart = 0;
      try {
        await waitFor(`${CLIENTS} WebSockets open`, async () => (clients.every((c) => c.isOpen) ? true : undefined), 30_000, 100);
        await sleep(2000);
        const u0 = Date.now();
        updateStart = u0;
        await docker(['service', 'update', '--detach', '--image', image, '--update-order', order, APP]);
        await waitFor('the update to complete', async () => {
          const state = await docker(['service', 'inspect', APP, '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}']);
          if (state === 'paused' || state === 'rollback_started') throw new Error(`update ${state}`);
          return state === 'completed' ? true : undefined;
        }, 120_000, 250);
        updateMs = Date.now() - u0;
        await replicasRunning(REPLICAS);
        // A few more seconds of traffic on the new replicas.
        await sleep(4000);
      } finally {
        for (const c of clients) c.stopGenerating();
        // Everything sent gets its ack (or the wait ends and the test says what is missing).
        await waitFor('every message acknowledged', async () => (clients.every((c) => c.pending === 0) ? true : undefined), 20_000, 100).catch(() => undefined);
        await Promise.all(clients.map((c) => c.stop()));
      }
      const after = await runningReplicas();

      const closes = new Map<number, number>();
      const reasons = new Map<string, number>();
      let closesChecked = 0;
      const failures = new Map<string, number>();
      const replicas = new Map<string, number>();
      let sent = 0;
      let resent = 0;
      let acked = 0;
      let duplicates = 0;
      let sessions = 0;
      let longestGapMs = 0;
      let longestAckMs = 0;
      let longestHandshakeMs = 0;
      const slow: { at: number; ms: number }[] = [];
      const unacked: string[] = [];
      const violations: string[] = [];
      for (const c of clients) {
        const r = c.r;
        sent += r.sent;
        resent += r.resent;
        acked += r.acked;
        duplicates += r.duplicates;
        sessions += r.sessions;
        longestGapMs = Math.max(longestGapMs, r.longestGapMs);
        longestAckMs = Math.max(longestAckMs, r.longestAckMs);
        longestHandshakeMs = Math.max(longestHandshakeMs, r.longestHandshakeMs);
        slow.push(...r.slowHandshakes);
        merge(closes, r.closes);
        merge(reasons, r.reasons);
        closesChecked += r.closesChecked;
        merge(failures, r.handshakeFailures);
        merge(replicas, r.replicas);
        unacked.push(...r.unacked.map((s) => `c${c.id}:${s}`));
        violations.push(...r.violations);
      }
      const onOld = [...replicas].filter(([h]) => before.has(h)).reduce((n, [, v]) => n + v, 0);
      const onNew = [...replicas].filter(([h]) => after.has(h)).reduce((n, [, v]) => n + v, 0);
      const lastOnNew = clients.filter((c) => after.has(c.r.lastReplica)).length;
      console.log(`# WebSockets, update --image ${order} of ${REPLICAS} replicas (took ${(updateMs / 1000).toFixed(1)} s), ${CLIENTS} clients, test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      console.log(`#   messages: ${sent} sent, ${acked} acknowledged, ${unacked.length} never acknowledged, ${duplicates} acknowledged twice, ${resent} sent again after a reconnect`);
      console.log(`#   acks from the old replicas: ${onOld}, from the new: ${onNew}; last session on a new replica: ${lastOnNew}/${CLIENTS}`);
      console.log(`#   sessions: ${sessions} (${sessions - CLIENTS} reconnects); close codes: ${show(closes)}`);
      console.log(`#   closes with their reasons: ${show(reasons)}; closed by a replica with all its acks received: ${closesChecked}`);
      console.log(`#   handshakes that failed: ${show(failures)}`);
      console.log(`#   longest time without a session: ${longestGapMs} ms; longest time to an ack: ${longestAckMs} ms; longest handshake: ${longestHandshakeMs} ms`);
      slow.sort((a, b) => a.at - b.at);
      console.log(`#   handshakes over 1 s: ${slow.length}${slow.length > 0 ? ` (started at ${slow.slice(0, 10).map((h) => `${((h.at - updateStart) / 1000).toFixed(1)} s taking ${h.ms} ms`).join(', ')}${slow.length > 10 ? ', ...' : ''} from the update's start)` : ''}`);
      if (violations.length > 0) console.log(`#   violations (${violations.length}):\n#     ${violations.slice(0, 20).join('\n#     ')}`);
      if ([...closes.keys()].some((code) => code !== 1000 && code !== 1001)) {
        // What portero saw of it: a session whose server connection ended without a close frame is logged.
        const logs = await docker(['service', 'logs', '--raw', '--since', '10m', `${PROXY_STACK}_traefik`]).catch((err: Error) => err.message);
        const seen = logs.split('\n').filter((l) => /WebSocket|"level":(40|50)/.test(l));
        console.log(`#   portero's warnings and errors (${seen.length}):\n#     ${seen.slice(-20).join('\n#     ')}`);
      }

      assert.deepEqual(violations, [], 'every ack answers the message sent in its place, and none is missing before a close');
      assert.deepEqual(unacked.slice(0, 20), [], `${unacked.length} messages never acknowledged`);
      assert.equal(acked, sent);
      assert.equal(duplicates, 0);
      assert.deepEqual([...closes.keys()].filter((code) => code !== 1000 && code !== 1001), [], `close codes: ${show(closes)}`);
      assert.equal(closes.get(1000), CLIENTS, 'each client closed its last session itself');
      assert.ok((closes.get(1001) ?? 0) >= CLIENTS / REPLICAS, `sessions closed by the replicas going away: ${closes.get(1001) ?? 0}`);
      assert.equal(lastOnNew, CLIENTS, 'every client ended on a new replica');
      assert.ok(sent > CLIENTS * 50, `messages sent: ${sent}`);
    });
  }
});
