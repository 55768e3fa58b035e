// The request pipeline of one entry point: check the table version, parse,
// match a router, rewrite, and hand the request to an Exchange.
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { WorkerObserver } from '../metrics/observe.js';
import { After, closesAfterEarlyAnswer, Exchange, type ExchangeContext, sendError } from './exchange.js';
import { parseRequest, type EntryPointContext, type ParsedRequest } from './request-head.js';
import type { RouteEntry, RouteTable } from './routes.js';
import { CHALLENGE_PREFIX, challengeAnswer, entryPointRedirect } from './redirect.js';
import { runStages, sendAnswer, tellEnded } from '../middlewares/pipeline.js';
import { stickyServer } from '../balancer/sticky.js';
import type { Answer, ForwardedRequest, ResponseEdit } from '../middlewares/types.js';
import { invalidHandshake, startWebSocket, type WebSocketRuntime } from './websocket.js';

export interface WorkerRuntime extends ExchangeContext {
  /** Returns the current table, decoding a new version first if one was published. */
  table(): RouteTable | null;
  /** Requests being proxied and WebSocket sessions open. */
  inflight: number;
  observer: WorkerObserver | null;
  websockets: WebSocketRuntime;
}

/** The entry point's handler for plain requests (uWS calls it without a context). */
export function createHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest) => void {
  return guardedHandler(rt, ep);
}

/** The entry point's handler for WebSocket handshakes (uWS's upgrade handler). */
export function createUpgradeHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void {
  return guardedHandler(rt, ep);
}

function guardedHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest, context?: us_socket_context_t) => void {
  const handle = requestHandler(rt, ep);
  // The one entry from uWS for a new request: what portero's code throws
  // here ends this request alone (500, connection closed), never the worker.
  const app = ep.appInflight;
  return (res, req, context) => {
    if (app !== null) app.started++;
    try {
      handle(res, req, context);
    } catch (err) {
      rt.internalError(err);
      try {
        sendError(res, 500, 'Internal Server Error', After.Close);
      } catch {
        // The response was already answered or handed to an exchange: cut the connection.
        try {
          res.close();
        } catch {
          /* uWS already let go of it */
        }
      }
    }
  };
}

/** `context` is uWS's WebSocket context for a handshake, undefined for a plain request. */
function requestHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest, context?: us_socket_context_t) => void {
  // Checked once per request: with metrics and the access log off, nothing is measured.
  const obs = rt.observer;
  return (res, req, context) => {
    const t0 = obs === null ? 0 : performance.now();
    const method = req.getCaseSensitiveMethod();
    if (method === 'CONNECT') {
      // Observed first: a response must not be touched once it has ended.
      if (obs !== null) obs.answered(ep, req, res, null, method, 405, 18, t0);
      sendError(res, 405, 'Method Not Allowed');
      return;
    }
    const parsed = parseRequest(req, res, ep);
    if (parsed.invalid !== null) {
      const status = parsed.invalidStatus;
      const body = `${STATUS_CODES[status]}: ${parsed.invalid}`;
      if (obs !== null) obs.answered(ep, req, res, parsed, method, status, body.length, t0);
      sendError(res, status, body, After.Close);
      return;
    }
    if (parsed.view.path.charCodeAt(0) !== 47 /* / */) {
      if (obs !== null) obs.answered(ep, req, res, parsed, method, 400, 42, t0);
      sendError(res, 400, 'Bad Request: request target must be a path', After.Close);
      return;
    }
    if (context !== undefined) {
      const bad = invalidHandshake(parsed);
      if (bad !== null) {
        if (obs !== null) obs.answered(ep, req, res, parsed, method, bad.status, bad.body.length, t0);
        sendError(res, bad.status, bad.body, After.Close);
        return;
      }
    }
    if (ep.challenges !== null && parsed.view.path.startsWith(CHALLENGE_PREFIX)) {
      // HTTP-01 outranks every router and the redirection, as Traefik's challenge router does.
      answerNow(rt, ep, req, res, parsed, challengeAnswer(ep.challenges.get(parsed.view.path.slice(CHALLENGE_PREFIX.length))), null, t0);
      return;
    }
    const table = rt.table();
    const route = table === null ? null : table.match(ep.name, parsed.view);
    if (ep.redirect !== null && (route === null || route.priority <= ep.redirect.priority)) {
      answerNow(rt, ep, req, res, parsed, entryPointRedirect(ep.redirect, method, parsed.hostHeader, parsed.target), null, t0);
      return;
    }
    if (route === null) {
      if (obs !== null) obs.answered(ep, req, res, parsed, method, 404, 19, t0);
      // The body, if any, is read and dropped by uWS; the client is told to close when too much of it is to come.
      const after = closesAfterAnswer(rt, parsed) ? After.Tell : After.Keep;
      sendError(res, 404, '404 page not found\n', after, method === 'HEAD');
      return;
    }
    if (route.request === null) {
      enter(rt, ep);
      proceed(rt, ep, res, req, parsed, route, null, t0, null, context);
      return;
    }
    const fr: ForwardedRequest = { method, view: parsed.view, tls: ep.proto === 'https', path: parsed.view.path, query: parsed.view.query, lines: parsed.lines, hostHeader: parsed.hostHeader, responseEdits: null, ended: null, responseFilters: null, maxBodyBytes: 0 };
    let outcome: Answer | null | Promise<Answer | null>;
    try {
      outcome = runStages(route.request, fr);
    } catch (err) {
      // What earlier stages took (an in-flight slot) is given back before the 500.
      tellEnded(fr, 500);
      throw err;
    }
    if (outcome === null) {
      enter(rt, ep);
      proceed(rt, ep, res, req, parsed, route, fr, t0, null, context);
    } else if (outcome instanceof Promise) {
      later(rt, ep, res, parsed, route, fr, outcome, t0, context);
    } else {
      answerNow(rt, ep, req, res, parsed, outcome, fr.responseEdits, t0);
      tellEnded(fr, outcome.status);
    }
  };
}

/** A request is proxied or a session opened: counted until its Exchange or Handshake finishes. */
function enter(rt: WorkerRuntime, ep: EntryPointContext): void {
  rt.inflight++;
  if (ep.appInflight !== null) ep.appInflight.n++;
}

/**
 * Whether the client connection closes after an answer portero gives before
 * reading the body: the client asked to, or too much of it is still to come.
 */
function closesAfterAnswer(rt: WorkerRuntime, parsed: ParsedRequest): boolean {
  return parsed.clientClose || closesAfterEarlyAnswer(rt.draining, parsed.bodyLength, 0);
}

/** An answer of portero's own (challenge, redirection, a middleware's), observed and sent. */
function answerNow(rt: WorkerRuntime, ep: EntryPointContext, req: HttpRequest, res: HttpResponse, parsed: ParsedRequest, a: Answer, edits: ResponseEdit[] | null, t0: number): void {
  if (rt.observer !== null) rt.observer.answered(ep, req, res, parsed, parsed.method, a.status, a.body.length, t0);
  sendAnswer(res, a, edits, closesAfterAnswer(rt, parsed), parsed.method === 'HEAD');
}

/** A request that passed its router's middlewares: forwarded, or a WebSocket handshake started. */
function proceed(
  rt: WorkerRuntime,
  ep: EntryPointContext,
  res: HttpResponse,
  req: HttpRequest,
  parsed: ParsedRequest,
  route: RouteEntry,
  fr: ForwardedRequest | null,
  t0: number,
  early: EarlyBody | null,
  context: us_socket_context_t | undefined,
): void {
  if (context !== undefined) startWebSocket(rt, ep, res, req, parsed, route, fr, t0, context);
  else forward(rt, ep, res, req, parsed, route, fr, t0, early);
}

/**
 * Hands the request to an Exchange: as received, or as its middlewares left
 * it (`fr`). The caller counted it in rt.inflight.
 */
function forward(
  rt: WorkerRuntime,
  ep: EntryPointContext,
  res: HttpResponse,
  req: HttpRequest,
  parsed: ParsedRequest,
  route: RouteEntry,
  fr: ForwardedRequest | null,
  t0: number,
  early: EarlyBody | null = null,
): void {
  const method = parsed.method;
  const target = fr === null ? parsed.target : fr.query === '' ? fr.path : `${fr.path}?${fr.query}`;
  const lines = fr === null ? parsed.lines : fr.lines;
  const host = fr === null ? parsed.hostHeader : fr.hostHeader;
  let framing = '';
  if (parsed.bodyLength === -2) framing = 'transfer-encoding: chunked\r\n';
  else if (parsed.bodyLength >= 0) framing = `content-length: ${parsed.bodyLength}\r\n`;
  const x = new Exchange(
    rt,
    res,
    route.services,
    route.retry,
    method === 'HEAD',
    method,
    `${method} ${target} HTTP/1.1\r\nhost: `,
    host,
    `\r\n${lines}${framing}\r\n`,
    parsed.bodyLength,
    ep.readTimeoutMs,
  );
  x.clientClose = parsed.clientClose;
  x.appInflight = ep.appInflight;
  const first = route.services[0]!;
  if (first.usesCookies) {
    const cookies = parsed.view.headers.cookie ?? '';
    x.stickyPick = stickyServer(first, cookies, rt.state);
    x.stickyCookies = cookies;
  }
  x.mw = fr;
  if (rt.observer !== null) x.trace = rt.observer.begin(ep, req, parsed, route.name, t0);
  if (early !== null) for (let i = 0; i < early.chunks.length; i++) x.feed(early.chunks[i]!, early.last && i === early.chunks.length - 1);
  if (early !== null && early.last && early.chunks.length === 0) x.feed(Buffer.alloc(0), true);
  x.start();
}

/** Request body that arrived while a middleware was still deciding. */
interface EarlyBody {
  chunks: Buffer[];
  last: boolean;
}

/** Body held while a middleware decides; beyond it, the client is paused. */
const EARLY_BODY_MAX = 64 * 1024;

/**
 * A middleware takes its time (bcrypt): the request outlives its handler.
 * The body waits (paused) so nothing is lost, the client may leave meanwhile,
 * and what the access log reads of the request is kept from the view, since
 * uWS's request object is gone once the handler returns.
 */
function later(
  rt: WorkerRuntime,
  ep: EntryPointContext,
  res: HttpResponse,
  parsed: ParsedRequest,
  route: RouteEntry,
  fr: ForwardedRequest,
  pending: Promise<Answer | null>,
  t0: number,
  context: us_socket_context_t | undefined,
): void {
  const headers = parsed.view.headers;
  const detached = { getHeader: (name: string) => headers[name] ?? '' } as unknown as HttpRequest;
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const hasBody = parsed.bodyLength === -2 || parsed.bodyLength > 0;
  // uWS delivers body bytes that came with the head right after this handler: kept (copied) until
  // the exchange exists; past EARLY_BODY_MAX the client is paused.
  const early: EarlyBody = { chunks: [], last: false };
  let held = 0;
  let paused = false;
  if (hasBody) {
    res.onData((chunk, isLast) => {
      if (chunk.byteLength > 0) early.chunks.push(Buffer.from(new Uint8Array(chunk)));
      held += chunk.byteLength;
      if (isLast) early.last = true;
      if (held > EARLY_BODY_MAX && !paused && !isLast) {
        paused = true;
        res.pause();
      }
    });
  }
  enter(rt, ep);
  const fail = (err: unknown) => {
    tellEnded(fr, 0);
    rt.internalError(err);
    if (!aborted) {
      try {
        res.close();
      } catch {
        /* already gone */
      }
    }
    rt.onFinish(ep.appInflight);
  };
  pending.then((answer) => {
    if (aborted) {
      tellEnded(fr, 0);
      rt.onFinish(ep.appInflight);
      return;
    }
    try {
      res.cork(() => {
        if (answer === null) {
          proceed(rt, ep, res, detached, parsed, route, fr, t0, hasBody ? early : null, context);
          if (paused) res.resume();
          return;
        }
        // Resumed first: the rest of the body is read and dropped, as after any early answer.
        if (paused) res.resume();
        if (hasBody) res.onData(() => {});
        answerNow(rt, ep, detached, res, parsed, answer, fr.responseEdits, t0);
        tellEnded(fr, answer.status);
        rt.onFinish(ep.appInflight);
      });
    } catch (err) {
      fail(err);
    }
  }, fail);
}
