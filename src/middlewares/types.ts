// Middlewares, one descriptor path: the main thread validates a router's
// middlewares into descriptors (kind + checked options, plain JSON), the
// table carries them to workers, and each worker builds every descriptor once
// per table version into stages the request path runs. Adding a kind is a
// file exporting a MiddlewareKind, listed in registry.ts.
import type { RequestView } from '../rules/types.js';

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
  build(options: O): BuiltMiddleware;
}
