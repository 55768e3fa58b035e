// Middlewares, one descriptor path: the main thread validates a router's
// middlewares into descriptors (kind + checked options, plain JSON), the
// table carries them to workers, and each worker builds every descriptor once
// per table version into stages the request path runs. Adding a kind is a
// file exporting a MiddlewareKind, listed in registry.ts.
import type { RequestView } from '../rules/types.js';
import type { ServerPool } from '../upstream/pool.js';
import type { ServerRuntime } from '../balancer/runtime.js';
import type { MiddlewareMemory } from './shared-memory.js';

/** A middleware as the table carries it. */
export interface MiddlewareDescriptor {
  /** Qualified name ("auth@file"), for errors and logs. */
  name: string;
  /** The kind's canonical name ("basicAuth"). */
  kind: string;
  /** What the kind's parse() returned: JSON-safe. */
  options: unknown;
}

/** The request a router forwards, as middlewares may change it. Valid during the handler only. */
export interface ForwardedRequest {
  readonly method: string;
  /** The request as received: host, path, query, headers (lower-cased names), client IP. */
  readonly view: RequestView;
  /** Served on a TLS entry point. */
  readonly tls: boolean;
  /** The path to forward (percent-encoded, as received unless a stage rewrote it). */
  path: string;
  /** The query to forward, without "?". */
  query: string;
  /** The header lines to forward: "name: value\r\n" each, names lower-cased. */
  lines: string;
  /** The Host header to forward, as received unless a stage set it. */
  hostHeader: string;
  /** Changes to the response head, applied in order when it arrives; null until a stage adds one. */
  responseEdits: ResponseEdit[] | null;
  /**
   * Told once how the request ended, however it ended (forwarded, answered by
   * a later stage, client gone); null until a stage adds one. What a stage
   * takes per request (an in-flight slot) it gives back here.
   */
  ended: ((o: RequestOutcome) => void)[] | null;
  /** Middlewares that may take over the response (compress, errors, buffering), in chain order; null until a stage adds one. */
  responseFilters: ResponseOpener[] | null;
  /** The most request body bytes forwarded (buffering); 0: no limit. */
  maxBodyBytes: number;
}

/**
 * Where a response goes on its way to the client: the next filter out, or
 * the client itself. The head comes first, then data, then end, once each.
 */
export interface ResponseOut {
  /** `headers`: flat [name, value, ...] without framing headers (the body's length is the writer's business). */
  head(status: number, headers: string[]): void;
  /** Body bytes, owned by the callee from now on. false: wait for onDrain before more. */
  data(chunk: Buffer): boolean;
  /** The body ends, with `last` as its last bytes. A body given whole here goes out with its Content-Length. */
  end(last?: Buffer): void;
  /** `fn` runs once, when data() may be called again after it returned false. */
  onDrain(fn: () => void): void;
}

/** A middleware's hold on one response: what arrives goes in, what it makes goes to `out`. */
export interface ResponseFilter extends ResponseOut {
  /** The response is abandoned (the client left, the server failed mid-body): free what is held; `out` is no longer usable. */
  destroy(): void;
}

/**
 * Asked when the server's head arrives: how to make a filter that takes the
 * response over, or null to leave it alone. `length`: the body's declared
 * length, -1 when unknown; `bodiless`: no body follows (HEAD, 204, 304).
 */
export type ResponseOpener = (status: number, headers: readonly string[], length: number, bodiless: boolean) => ((out: ResponseOut) => ResponseFilter) | null;

/** How a request ended, for stages that count or judge (inFlightReq, circuitBreaker). */
export interface RequestOutcome {
  /** Status sent (or being sent) to the client; 0 when none was (the client left first). With originStatus 0, a 5xx means the server failed (no answer, a timeout). */
  status: number;
  /** Status the server answered with; 0 when no server answered (a network error, a timeout, or portero answered). */
  originStatus: number;
  /** ms from forwarding to the server's response head (or to the failure); -1 when the request was not forwarded. */
  originMs: number;
}

/** What the main thread offers a kind's parse(): the configuration around the middleware. */
export interface ParseContext {
  /** A service name as the middleware's provider means it ("pages" in a label means "pages@docker"). */
  qualify(service: string): string;
  /** Why a (qualified) service cannot take requests ("unknown service ..."), or null when it can. */
  serviceProblem(service: string): string | null;
}

/** What a worker offers a kind's build(): things outside the descriptor. */
export interface BuildContext {
  /** Memory shared by every worker of this instance (secrets, limits that hold across workers). */
  readonly memory: MiddlewareMemory;
  /** A server of a service of the serving table, picked as its load balancer picks; null when it has none up (errors' pages). */
  server(service: string): ServerRuntime | null;
  /** An upstream pool of this worker to a server outside the table (forwardAuth's address). */
  pool(host: string, port: number, tls: boolean): ServerPool;
}

/** An answer a stage gives instead of forwarding (401, 403, a redirect, a CORS preflight). */
export interface Answer {
  status: number;
  headers: [string, string][];
  body: string | Buffer;
}

/**
 * Runs before forwarding, in chain order; an Answer ends the request there.
 * A stage may take its time (a promise): it must read the request's headers
 * before it returns, since the view is only valid during the handler.
 */
export type RequestStage = (req: ForwardedRequest) => Answer | null | Promise<Answer | null>;

/** Edits a response head's flat [name, value, ...] list in place. */
export type ResponseEdit = (headers: string[]) => void;

export interface RetrySpec {
  attempts: number;
  initialIntervalMs: number;
}

/** A descriptor built for a worker. */
export interface BuiltMiddleware {
  request?: RequestStage;
  /** Read by the exchange (Traefik's retry middleware). */
  retry?: RetrySpec;
}

/** A readable reason a middleware's options cannot be used; it disables the routers that use it. */
export class MiddlewareError extends Error {}

export interface MiddlewareKind<O = unknown> {
  /** Traefik's key, e.g. "stripPrefix". */
  readonly name: string;
  /** Older names of the same kind ("ipWhiteList"). */
  readonly aliases?: readonly string[];
  /** Main thread: checks the options as configured; throws MiddlewareError. `at`: absent in unit tests of kinds that need none. */
  parse(raw: unknown, at?: ParseContext): O;
  /** Worker: the stages for checked options. `name`: the descriptor's, which keys what the kind keeps across workers (rateLimit's buckets). */
  build(options: O, ctx: BuildContext, name?: string): BuiltMiddleware;
}
