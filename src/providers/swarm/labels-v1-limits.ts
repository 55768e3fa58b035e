// Traefik 1.7's request limits as labels, read into v2+ middlewares of the
// router (after its other v1 middlewares, in 1.7's order: the connection
// limit first, then each rate set):
//
//   traefik.backend.maxconn.amount=N          inFlightReq (N = 0: no limit, as in 1.7)
//   traefik.backend.maxconn.extractorFunc=F   its sourceCriterion (1.7's default: request.host)
//   traefik.frontend.rateLimit.extractorFunc=F           the rateLimits' sourceCriterion
//   traefik.frontend.rateLimit.rateSet.<set>.period|average|burst   a rateLimit per set
//
// F is client.ip, request.host or request.header.<name>. 1.7 refused a
// frontend whose rate set lacked a positive period, average or burst, and
// portero does too; where 1.7 only logged (rate sets without extractorFunc,
// a bad amount), the middleware is an error here rather than a lifted limit.
import { parseDuration } from '../../config/values.js';
import { normalize } from './default-rule.js';
import { LabelProblem, byteOrder, type Leaf, type SpecSet } from './labels-common.js';

type Label = { label: string; value: string };

const RATE_SET = /^traefik\.frontend\.ratelimit\.rateset\.([^ .]+)\.([^ .]+)$/;

/** The sourceCriterion leaves of an extractorFunc; a problem for one 1.7 did not know. */
function criterion(kind: string, f: Label): Leaf[] | LabelProblem {
  const v = f.value.trim();
  const at = [kind, 'sourceCriterion'];
  if (v === 'client.ip') return [{ label: f.label, path: [...at, 'ipStrategy', 'depth'], value: '0' }];
  if (v === 'request.host') return [{ label: f.label, path: [...at, 'requestHost'], value: 'true' }];
  if (v.startsWith('request.header.') && v.length > 'request.header.'.length) {
    return [{ label: f.label, path: [...at, 'requestHeaderName'], value: v.slice('request.header.'.length) }];
  }
  return new LabelProblem(`must be client.ip, request.host or request.header.<name>, got ${JSON.stringify(f.value)}`, f.label);
}

/** A Go integer (strconv.ParseInt) above 0, or null. */
function positive(v: string): number | null {
  const t = v.trim();
  return /^[+-]?\d+$/.test(t) && Number(t) > 0 ? Number(t) : null;
}

/**
 * Adds the router's limit middlewares to `set` and to what v1Middlewares
 * returned (`mapped`): their names, first labels and the properties used.
 * Returns what disables the router, if anything does.
 */
export function v1Limits(
  routerName: string,
  props: ReadonlyMap<string, Label>,
  set: SpecSet,
  mapped: { names: string[]; labels: string[]; handled: Set<string> },
): LabelProblem | undefined {
  const take = (prop: string): Label | undefined => {
    const v = props.get(prop);
    if (v !== undefined) mapped.handled.add(prop);
    return v;
  };
  let problem: LabelProblem | undefined;
  const add = (suffix: string, leaves: Leaf[], fault: LabelProblem | undefined) => {
    if (fault !== undefined) {
      problem ??= fault;
      return;
    }
    const name = normalize(`${routerName}-${suffix}`);
    set.middlewares.push({ name, leaves });
    mapped.names.push(name);
    mapped.labels.push(leaves[0]!.label);
  };

  const amount = take('traefik.backend.maxconn.amount');
  const connFunc = take('traefik.backend.maxconn.extractorfunc');
  if (amount === undefined) {
    if (connFunc !== undefined) set.warnings.push(`label "${connFunc.label}" ignored: no traefik.backend.maxconn.amount`);
  } else if (amount.value.trim() !== '0') {
    const leaves: Leaf[] = [{ label: amount.label, path: ['inFlightReq', 'amount'], value: amount.value.trim() }];
    const by = criterion('inFlightReq', connFunc ?? { label: amount.label, value: 'request.host' });
    if (positive(amount.value) === null) add('maxconn', leaves, new LabelProblem(`must be a whole number of requests, got ${JSON.stringify(amount.value)}`, amount.label));
    else if (by instanceof LabelProblem) add('maxconn', leaves, by);
    else add('maxconn', [...leaves, ...by], undefined);
  }

  const rateFunc = take('traefik.frontend.ratelimit.extractorfunc');
  const rateSets = new Map<string, Map<string, Label>>();
  for (const prop of [...props.keys()].sort(byteOrder)) {
    const m = RATE_SET.exec(prop);
    if (m === null) continue;
    const label = take(prop)!;
    if (!['period', 'average', 'burst'].includes(m[2]!)) {
      set.warnings.push(`label "${label.label}" ignored: a rate set has a period, an average and a burst`);
      continue;
    }
    if (!rateSets.has(m[1]!)) rateSets.set(m[1]!, new Map());
    rateSets.get(m[1]!)!.set(m[2]!, label);
  }
  if (rateSets.size === 0) {
    if (rateFunc !== undefined) set.warnings.push(`label "${rateFunc.label}" ignored: no traefik.frontend.rateLimit.rateSet.<name>.* labels`);
    return problem;
  }
  for (const [name, fields] of rateSets) {
    const leaves: Leaf[] = [...fields].map(([field, l]) => ({ label: l.label, path: ['rateLimit', field], value: l.value.trim() }));
    const first = leaves[0]!.label;
    let fault: LabelProblem | undefined;
    const missing = ['period', 'average', 'burst'].filter((f) => !fields.has(f));
    if (missing.length > 0) fault = new LabelProblem(`rate set "${name}" needs ${missing.join(' and ')} (Traefik 1.7 refused it too)`, first);
    for (const field of ['average', 'burst']) {
      const l = fields.get(field);
      if (fault === undefined && l !== undefined && positive(l.value) === null) fault = new LabelProblem(`must be a whole number above 0, got ${JSON.stringify(l.value)}`, l.label);
    }
    const period = fields.get('period');
    if (fault === undefined && period !== undefined && !(durationOrNaN(period.value) > 0)) fault = new LabelProblem(`must be a duration above 0 (10s, or 10 for seconds), got ${JSON.stringify(period.value)}`, period.label);
    if (fault === undefined && (rateFunc === undefined || rateFunc.value.trim() === '')) {
      fault = new LabelProblem('rate sets need traefik.frontend.rateLimit.extractorFunc (Traefik 1.7 silently lifted the limit without it)', first);
    }
    const by = rateFunc === undefined || rateFunc.value.trim() === 'client.ip' ? [] : criterion('rateLimit', rateFunc);
    if (fault === undefined && by instanceof LabelProblem) fault = by;
    add(`ratelimit-${name}`, by instanceof LabelProblem ? leaves : [...leaves, ...by], fault);
  }
  return problem;
}

function durationOrNaN(v: string): number {
  try {
    return parseDuration(v, 'period');
  } catch {
    return NaN;
  }
}
