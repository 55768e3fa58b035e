// Pieces shared by the v1 and v2/v3 label readers: what a reader produces for
// one Swarm service (element specs made of labels), problems that name the
// label at fault, and Go's value parsing.
import type { RuleSyntax, TcpUdpKind } from '../../dynamic/model.js';

/** A problem with one element, naming the label at fault when there is one. */
export class LabelProblem extends Error {
  constructor(
    message: string,
    readonly label?: string,
  ) {
    super(message);
  }
}

/**
 * One label's contribution to an element: `path` is where its value goes in
 * the file-provider shape that normalize.ts reads (["priority"],
 * ["loadBalancer", "passHostHeader"]); `value` is the label's text, or a list
 * or boolean when the reader already converted it.
 */
export interface Leaf {
  label: string;
  path: string[];
  value: unknown;
}

export interface RouterSpec {
  name: string;
  leaves: Leaf[];
  /** ruleSyntax to set when the default rule is used (v1 labels: 'v3'). */
  defaultRuleSyntax?: RuleSyntax;
  /** Set when the reader already knows the router cannot work. */
  problem?: LabelProblem;
  /** Reported when the labels are otherwise valid: no service and no single one to default to. */
  unlinked?: LabelProblem;
}

/** `loadBalancer.server.*` from labels: the Swarm-only part portero resolves itself. */
export interface ServerLabels {
  port?: Leaf;
  scheme?: Leaf;
  url?: Leaf;
  weight?: Leaf;
  preservePath?: Leaf;
}

export interface ServiceSpec {
  name: string;
  /** Everything under `loadBalancer` except `server` (passHostHeader, sticky, ...). */
  leaves: Leaf[];
  server: ServerLabels;
  /** The label that would carry the port, for the "missing" error. */
  portLabel: string;
  /** Added to that error (e.g. the v1 spelling). */
  portHint?: string;
  problem?: LabelProblem;
}

export interface MiddlewareSpec {
  name: string;
  leaves: Leaf[];
  problem?: LabelProblem;
}

/** What a label reader makes of one Swarm service's labels. */
export interface SpecSet {
  routers: RouterSpec[];
  services: ServiceSpec[];
  middlewares: MiddlewareSpec[];
  /** Problems that belong to no element (e.g. an unknown `traefik.http.<section>`). */
  problems: LabelProblem[];
  warnings: string[];
  /** TCP and UDP routers, services and middlewares the labels define, which portero does not serve. */
  tcpUdp: { kind: TcpUdpKind; name: string }[];
}

/** Go's strconv.ParseBool spellings, plus true/false in any case. */
export function goBool(value: string): boolean | undefined {
  const v = value.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v) || /^true$/i.test(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v) || /^false$/i.test(v)) return false;
  return undefined;
}

/** Labels by lower-cased key. Keys differing only in case are kept together. */
export type LabelIndex = Map<string, { key: string; value: string }[]>;

/** Go's sort.Strings order (byte order; the same as UTF-16 order for the BMP). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function indexLabels(labels: Readonly<Record<string, string>>): LabelIndex {
  const index: LabelIndex = new Map();
  for (const key of Object.keys(labels).sort(byteOrder)) {
    const lower = key.toLowerCase();
    const list = index.get(lower) ?? [];
    list.push({ key, value: labels[key] });
    index.set(lower, list);
  }
  return index;
}

/**
 * The label whose key is `lowerKey` in any case. Two spellings with different
 * values are a problem: portero does not guess which one was meant.
 */
export function pick(index: LabelIndex, lowerKey: string): { key: string; value: string } | undefined {
  const list = index.get(lowerKey);
  if (list === undefined) return undefined;
  if (list.some((l) => l.value !== list[0].value)) {
    throw new LabelProblem(`labels ${list.map((l) => JSON.stringify(l.key)).join(' and ')} differ only in case but have different values`, list[0].key);
  }
  return list[0];
}

/** Traefik v1's SplitAndTrimString: comma-separated, trimmed, empty items dropped. */
export function splitAndTrim(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** paerser's list decoding (v2/v3 labels): comma-separated and trimmed; empty items stay (and are then rejected). */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim());
}

/** A TCP port as Go's strconv.Atoi would read it, limited to 1..65535. */
export function parsePort(leaf: Leaf): number {
  const text = String(leaf.value).trim();
  const n = /^[+]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new LabelProblem(`must be a port number (1-65535), got ${JSON.stringify(leaf.value)}`, leaf.label);
  }
  return n;
}
