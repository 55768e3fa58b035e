// Static settings for proxied WebSockets. Traefik tunnels a WebSocket's bytes
// and has no such settings; portero relays messages (uWS ends the WebSocket
// at the proxy), so the largest message and how long a session may outlive
// its server are portero's own flags.
import type { FlagSpec as FlagRow } from './flag-spec.js';
import { ConfigUsageError } from './errors.js';
import { parseDuration, parseInteger } from './values.js';

export interface WebSocketConfig {
  /** --websocket.maxMessageSize (default 16 MiB): a longer message closes the session with 1009. */
  maxMessageBytes: number;
  /** --websocket.drainDelay (default 10s): how long a session outlives its server's removal before portero closes it with 1001. */
  drainDelayMs: number;
}

export const DEFAULT_WEBSOCKET: WebSocketConfig = { maxMessageBytes: 16 * 1024 * 1024, drainDelayMs: 10_000 };

/** uWS's message length is a 32-bit signed count; the relay allows twice the limit (see worker/websocket.ts). */
const MAX_MESSAGE_LIMIT = 1024 * 1024 * 1024;

interface Draft {
  websocket: Partial<WebSocketConfig>;
}
type FlagSpec = FlagRow<Draft>;

const GROUP = 'WebSockets:';

export const WEBSOCKET_FLAG_SPECS: FlagSpec[] = [
  {
    flag: 'websocket.maxMessageSize',
    type: 'string',
    group: GROUP,
    describe: 'Longest WebSocket message relayed, in bytes, either way; longer ones close the session with 1009',
    defaultText: String(DEFAULT_WEBSOCKET.maxMessageBytes),
    apply: (d, raw, _n, what) => {
      const n = parseInteger(raw, what, 1);
      if (n > MAX_MESSAGE_LIMIT) throw new ConfigUsageError(`${what}: at most ${MAX_MESSAGE_LIMIT} bytes`);
      d.websocket.maxMessageBytes = n;
    },
  },
  {
    flag: 'websocket.drainDelay',
    type: 'string',
    group: GROUP,
    describe: 'How long a WebSocket stays open after its server left the configuration (the server may close it first); then portero closes it with 1001',
    defaultText: '10s',
    apply: (d, raw, _n, what) => {
      d.websocket.drainDelayMs = parseDuration(raw, what);
    },
  },
];

export function finalizeWebSocket(d: Partial<WebSocketConfig>): WebSocketConfig {
  return { ...DEFAULT_WEBSOCKET, ...d };
}
