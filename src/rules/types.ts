// What a compiled rule sees of a request. The worker builds one per request
// from what uWebSockets.js parsed; matchers must not mutate it.
export interface RequestView {
  /** As sent by the client, e.g. "GET". */
  method: string;
  /** Host header (or absolute-form authority), lower-cased, port and trailing dot removed. */
  host: string;
  /** The path as received (still percent-encoded), without the query. */
  path: string;
  /** The raw query string without the leading "?" ("" when absent). */
  query: string;
  /** Lower-cased header names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** The client's address as text: "127.0.0.1" or "::1" (no brackets). */
  clientIp: string;
}

export type Matcher = (req: RequestView) => boolean;

// Request rewrites that Traefik v1 rules carry inside the rule itself
// (PathPrefixStrip, PathStrip, PathStripRegex, PathPrefixStripRegex, AddPrefix,
// ReplacePath, ReplacePathRegex). Regexps here are Go syntax, as written.
export interface RuleRewrites {
  stripPrefixes?: string[];
  stripPaths?: string[];
  /** v1 PathStripRegex / PathPrefixStripRegex: mux templates ({name:re}) to strip. */
  stripPrefixesRegex?: string[];
  addPrefix?: string;
  replacePath?: string;
  replacePathRegex?: { regex: string; replacement: string };
}

export interface CompiledRule {
  match: Matcher;
  /**
   * Exact host names (lower-cased) one of which every matching request must
   * carry, or null when the rule does not pin the host. The worker indexes
   * routers by these so that Host-routed tables cost one hash lookup.
   */
  hosts: string[] | null;
  rewrites?: RuleRewrites;
}

export class RuleError extends Error {
  constructor(
    message: string,
    /** 0-based offset into the rule text where the problem is. */
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'RuleError';
  }
}
