// The WebSocket bench's load generator (--websocket), run as its own process
// so that its CPU is never counted as the proxy's: `connections` WebSockets
// (the `ws` library, no permessage-deflate) to one URL, each keeping `window`
// text messages of `payloadBytes` in flight; every echo is checked (the
// same bytes, in order) and answered with the next message. A warm-up whose
// figures are dropped, then the measured run, then a clean close (1000) of
// every connection. Talks to the parent over IPC:
//   <- argv[2]: WsLoadSpec as JSON
//   -> { type: 'measuring' } just before the measured run starts
//   -> { type: 'result', result: WsLoadResult } when it is over (the
//      connections close after that; the process exits once they have)
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Samples } from './samples.js';

export interface WsLoadSpec {
  url: string;
  connections: number;
  /** Messages each connection keeps in flight. */
  window: number;
  /** Bytes of each (text) message. */
  payloadBytes: number;
  warmupS: number;
  durationS: number;
}

export interface WsLoadResult {
  /** Wall seconds of the measured run, as this process timed it. */
  durationS: number;
  /** Echoes received during the measured run (each message crossed the proxy twice). */
  messages: number;
  msgsPerSec: number;
  /** From a message's send to its echo, measured run only. */
  latencyMs: { p50: number; p99: number; max: number };
  /** Connections open when the measured run started. */
  connected: number;
  /** Handshakes that failed (the run goes on with the others). */
  connectFailures: number;
  /** Connections that errored or closed before the end. */
  dropped: number;
  /** Echoes whose bytes were not the message sent next on that connection. */
  mismatches: number;
  warmupMsgsPerSec: number;
  /** Milliseconds to open every connection. */
  connectMs: number;
}

export type WsLoadMessage = { type: 'measuring' } | { type: 'result'; result: WsLoadResult };

/** Handshakes in progress at once while connecting. */
const CONNECT_CONCURRENCY = 100;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** After the result: time allowed for messages still in flight to come back, then for the closes. */
const DRAIN_MS = 5_000;
const CLOSE_MS = 5_000;

/** The n-th message of connection id: decimal counters padded to payloadBytes with '.'. */
export function wsPayload(id: number, n: number, payloadBytes: number): string {
  return `${id}:${n}:`.padEnd(payloadBytes, '.');
}

type Phase = 'warmup' | 'measure' | 'stop';

interface Conn {
  id: number;
  ws: WebSocket;
  sent: number;
  received: number;
  /** Send time of each message in flight, by its number modulo the window. */
  sentAt: Float64Array;
  closed: boolean;
}

function connect(url: string, id: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      resolve(ws);
    });
    ws.once('error', (err) => reject(new Error(`connection ${id}: ${err.message}`)));
  });
}

export async function runWsLoad(spec: WsLoadSpec, onMeasuring: () => Promise<void>): Promise<{ result: WsLoadResult; finish: () => Promise<void> }> {
  const conns: Conn[] = [];
  let connectFailures = 0;
  let lastFailure = '';
  const c0 = performance.now();
  for (let next = 0; next < spec.connections; ) {
    const batch: Promise<void>[] = [];
    for (; next < spec.connections && batch.length < CONNECT_CONCURRENCY; next++) {
      const id = next;
      batch.push(
        connect(spec.url, id).then(
          (ws) => void conns.push({ id, ws, sent: 0, received: 0, sentAt: new Float64Array(spec.window), closed: false }),
          (err: Error) => {
            connectFailures++;
            lastFailure = err.message;
          },
        ),
      );
    }
    await Promise.all(batch);
  }
  const connectMs = Math.round(performance.now() - c0);
  if (conns.length === 0) throw new Error(`no connection opened (${connectFailures} failed; last: ${lastFailure})`);

  let phase: Phase = 'warmup';
  let counted = 0;
  let warmCounted = 0;
  let mismatches = 0;
  let dropped = 0;
  let inFlight = 0;
  let drained: (() => void) | null = null;
  const latencies = new Samples();
  const { payloadBytes, window } = spec;

  const send = (c: Conn) => {
    c.sentAt[c.sent % window] = performance.now();
    c.ws.send(wsPayload(c.id, c.sent, payloadBytes));
    c.sent++;
    inFlight++;
  };
  for (const c of conns) {
    c.ws.on('message', (data: Buffer) => {
      const n = c.received++;
      inFlight--;
      if (data.length !== payloadBytes || data.toString('latin1') !== wsPayload(c.id, n, payloadBytes)) mismatches++;
      if (phase === 'measure') {
        counted++;
        latencies.push(performance.now() - c.sentAt[n % window]!);
      } else if (phase === 'warmup') warmCounted++;
      if (phase !== 'stop') send(c);
      else if (inFlight === 0) drained?.();
    });
    c.ws.on('error', () => {});
    c.ws.on('close', () => {
      if (!c.closed && phase !== 'stop') dropped++;
      c.closed = true;
      inFlight -= c.sent - c.received;
      c.received = c.sent;
      if (phase === 'stop' && inFlight === 0) drained?.();
    });
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const w0 = performance.now();
  for (const c of conns) for (let i = 0; i < window; i++) send(c);
  if (spec.warmupS > 0) await sleep(spec.warmupS * 1000);
  const warmupS = (performance.now() - w0) / 1000;
  await onMeasuring();
  phase = 'measure';
  const t0 = performance.now();
  await sleep(spec.durationS * 1000);
  phase = 'stop';
  const durationS = (performance.now() - t0) / 1000;
  const result: WsLoadResult = {
    durationS,
    messages: counted,
    msgsPerSec: counted / durationS,
    latencyMs: latencies.summary(),
    connected: conns.length,
    connectFailures,
    dropped,
    mismatches,
    warmupMsgsPerSec: spec.warmupS > 0 ? warmCounted / warmupS : 0,
    connectMs,
  };

  /** p, or undefined after ms; the timer never holds the process open. */
  const within = (p: Promise<unknown>, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
  };
  // Bounded: what is still in flight comes back, then every connection closes cleanly.
  const finish = async () => {
    if (inFlight > 0) await within(new Promise<void>((r) => (drained = r)), DRAIN_MS);
    const open = conns.filter((c) => !c.closed);
    const closed = Promise.all(open.map((c) => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : c.ws.once('close', () => r())))));
    for (const c of open) c.ws.close(1000);
    await within(closed, CLOSE_MS);
    for (const c of conns) if (!c.closed) c.ws.terminate();
  };
  return { result, finish };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as WsLoadSpec;
  const send = (m: WsLoadMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const { result, finish } = await runWsLoad(spec, () => send({ type: 'measuring' }));
  await send({ type: 'result', result });
  await finish();
  process.disconnect();
  process.exit(0);
}

if (process.send !== undefined) await main();
