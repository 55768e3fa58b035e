// Worker: a router's descriptors built into what its requests run, and the
// request stage of the handler: run the stages in order, answer when one does.
import type { HttpResponse } from 'uWebSockets.js';
import { STATUS_CODES } from 'node:http';
import { kindOf } from './registry.js';
import type { Answer, BuildContext, ForwardedRequest, MiddlewareDescriptor, RequestOutcome, RequestStage, RetrySpec } from './types.js';

export interface BuiltChain {
  /** null when no middleware acts on requests. */
  request: RequestStage[] | null;
  retry: RetrySpec | null;
}

const NONE: BuiltChain = { request: null, retry: null };

/**
 * Runs request stages from `from`: synchronously while they answer at once,
 * then on the promise of the first that does not.
 */
/** Tells a request's ended listeners how it ended; whoever ends the request calls it once. */
export function tellEnded(req: ForwardedRequest | null, status: number, originStatus = 0, originMs = -1): void {
  const ended = req?.ended;
  if (ended == null) return;
  const o: RequestOutcome = { status, originStatus, originMs };
  for (const f of ended) f(o);
}

export function runStages(stages: readonly RequestStage[], req: ForwardedRequest, from = 0): Answer | null | Promise<Answer | null> {
  for (let i = from; i < stages.length; i++) {
    const r = stages[i]!(req);
    if (r === null) continue;
    if (r instanceof Promise) return r.then((a) => (a !== null ? a : runStages(stages, req, i + 1)));
    return r;
  }
  return null;
}

export function buildMiddlewares(descriptors: readonly MiddlewareDescriptor[] | undefined, ctx: BuildContext): BuiltChain {
  if (descriptors === undefined || descriptors.length === 0) return NONE;
  const request: RequestStage[] = [];
  let retry: RetrySpec | null = null;
  for (const d of descriptors) {
    const built = kindOf(d.kind).build(d.options, ctx, d.name);
    if (built.request !== undefined) request.push(built.request);
    if (built.retry !== undefined) retry = built.retry;
  }
  return { request: request.length === 0 ? null : request, retry };
}

/**
 * Sends a middleware's answer. `edits` (response edits of the stages before
 * it, such as CORS or security headers) apply to it as to a proxied answer.
 */
export function sendAnswer(res: HttpResponse, a: Answer, edits: ((h: string[]) => void)[] | null, close: boolean, head: boolean): void {
  const headers: string[] = [];
  for (const [k, v] of a.headers) headers.push(k, v);
  if (edits !== null) for (const e of edits) e(headers);
  res.cork(() => {
    res.writeStatus(`${a.status} ${STATUS_CODES[a.status] ?? ''}`);
    let typed = false;
    for (let i = 0; i < headers.length; i += 2) {
      res.writeHeader(headers[i]!, headers[i + 1]!);
      if (headers[i]!.toLowerCase() === 'content-type') typed = true;
    }
    if (!typed && a.body.length > 0) res.writeHeader('content-type', 'text/plain; charset=utf-8');
    if (close) res.writeHeader('connection', 'close');
    // This uWS build aborts the process on endWithoutBody(length): the header is written by hand.
    if (head) res.writeHeader('content-length', String(Buffer.byteLength(a.body))).endWithoutBody();
    else res.end(a.body);
  });
}
