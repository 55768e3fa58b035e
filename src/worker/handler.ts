// The request pipeline of one entry point: check the table version, parse,
// match a router, rewrite, and hand the request to an Exchange.
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { WorkerObserver } from '../metrics/observe.js';
import { After, closesAfterEarlyAnswer, Exchange, type ExchangeContext, sendError } from './exchange.js';
import { parseRequest, type EntryPointContext } from './request-head.js';
import type { RouteTable } from './routes.js';
import { CHALLENGE_PREFIX, redirectLocation, redirectStatus, sendChallenge, sendRedirect } from './redirect.js';
import { sendAnswer } from '../middlewares/pipeline.js';
import type { ForwardedRequest, ResponseEdit } from '../middlewares/types.js';

export interface WorkerRuntime extends ExchangeContext {
  /** Returns the current table, decoding a new version first if one was published. */
  table(): RouteTable | null;
  inflight: number;
  observer: WorkerObserver | null;
}

export function createHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest) => void {
  const handle = requestHandler(rt, ep);
  // The one entry from uWS for a new request: what portero's code throws
  // here ends this request alone (500, connection closed), never the worker.
  return (res, req) => {
    try {
      handle(res, req);
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

function requestHandler(rt: WorkerRuntime, ep: EntryPointContext): (res: HttpResponse, req: HttpRequest) => void {
  // Checked once per request: with metrics and the access log off, nothing is measured.
  const obs = rt.observer;
  return (res, req) => {
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
    if (ep.challenges !== null && parsed.view.path.startsWith(CHALLENGE_PREFIX)) {
      // HTTP-01 outranks every router and the redirection, as Traefik's challenge router does.
      const auth = ep.challenges.get(parsed.view.path.slice(CHALLENGE_PREFIX.length));
      const close = parsed.clientClose || closesAfterEarlyAnswer(rt.draining, parsed.bodyLength, 0);
      if (obs !== null) obs.answered(ep, req, res, parsed, method, auth === undefined ? 404 : 200, auth?.length ?? 19, t0);
      sendChallenge(res, auth, close);
      return;
    }
    const table = rt.table();
    const route = table === null ? null : table.match(ep.name, parsed.view);
    if (ep.redirect !== null && (route === null || route.priority <= ep.redirect.priority)) {
      const status = redirectStatus(ep.redirect, method);
      const close = parsed.clientClose || closesAfterEarlyAnswer(rt.draining, parsed.bodyLength, 0);
      if (obs !== null) obs.answered(ep, req, res, parsed, method, status, 0, t0);
      sendRedirect(res, status, redirectLocation(ep.redirect, parsed.hostHeader, parsed.target), close, method === 'HEAD');
      return;
    }
    if (route === null) {
      if (obs !== null) obs.answered(ep, req, res, parsed, method, 404, 19, t0);
      // The body, if any, is read and dropped by uWS; the client is told to close when too much of it is to come.
      const after = parsed.clientClose || closesAfterEarlyAnswer(rt.draining, parsed.bodyLength, 0) ? After.Tell : After.Keep;
      sendError(res, 404, '404 page not found\n', after, method === 'HEAD');
      return;
    }
    let target = parsed.target;
    let lines = parsed.lines;
    let host = parsed.hostHeader;
    let edits: ResponseEdit[] | null = null;
    if (route.request !== null) {
      const fr: ForwardedRequest = { method, view: parsed.view, tls: ep.proto === 'https', path: parsed.view.path, query: parsed.view.query, lines, hostHeader: host, responseEdits: null };
      for (const stage of route.request) {
        const answer = stage(fr);
        if (answer === null) continue;
        const close = parsed.clientClose || closesAfterEarlyAnswer(rt.draining, parsed.bodyLength, 0);
        if (obs !== null) obs.answered(ep, req, res, parsed, method, answer.status, answer.body.length, t0);
        sendAnswer(res, answer, fr.responseEdits, close, method === 'HEAD');
        return;
      }
      target = fr.query === '' ? fr.path : `${fr.path}?${fr.query}`;
      lines = fr.lines;
      host = fr.hostHeader;
      edits = fr.responseEdits;
    }
    let framing = '';
    if (parsed.bodyLength === -2) framing = 'transfer-encoding: chunked\r\n';
    else if (parsed.bodyLength >= 0) framing = `content-length: ${parsed.bodyLength}\r\n`;
    rt.inflight++;
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
    x.responseEdits = edits;
    if (obs !== null) x.trace = obs.begin(ep, req, parsed, route.name, t0);
    x.start();
  };
}
