// Middlewares, one descriptor path: the main thread validates a router's
// middlewares into descriptors (kind + checked options, plain JSON), the
// table carries them to workers, and each worker builds every descriptor once
// per table version into stages the request path runs. Adding a kind is a
// file exporting a MiddlewareKind, listed in registry.ts.
import type { RequestView } from '../rules/types.js';
import type { ServerPool } from '../upstream/pool.js';
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
}

/** How a request ended, for stages that count or judge (inFlightReq, circuitBreaker). */
export interface RequestOutcome {
  /** Status sent (or being sent) to the client; 0 when none was (the client left first). With originStatus 0, a 5xx means the server failed (no answer, a timeout). */
  status: number;
  /** Status the server answered with; 0 when no server answered (a network error, a timeout, or portero answered). */
  originStatus: number;
  /** ms from forwarding to the server's response head (or to the failure); -1 when the request was not forwarded. */
  originMs: number;
}

/** What a worker offers a kind's build(): things outside the descriptor. */
export interface BuildContext {
  /** Memory shared by every worker of this instance (secrets, limits that hold across workers). */
  readonly memory: MiddlewareMemory;
  /** An upstream pool of this worker to a server outside the table (forwardAuth's address). */
  pool(host: string, port: number, tls: boolean): ServerPool;
}

/** An answer a stage gives instead of forwarding (401, 403, a redirect, a CORS preflight). */
export interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
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
  /** Main thread: checks the options as configured; throws MiddlewareError. */
  parse(raw: unknown): O;
  /** Worker: the stages for checked options. */
  build(options: O, ctx: BuildContext): BuiltMiddleware;
}
