// Request path rewrites carried by Traefik v1 rules (PathPrefixStrip,
// PathStrip, AddPrefix, ReplacePath, ReplacePathRegex). Compiled once per
// router; applied after matching, before the request head is built.
import { compileGoRegexp } from '../rules/index.js';
import { jsReplacement } from './go-replacement.js';
import { compileTemplate } from '../rules/mux-template.js';
import type { RuleRewrites } from '../rules/types.js';
import type { MiddlewareKind } from './types.js';


export interface PathRewrite {
  (path: string): { path: string; headers: string };
}

export function compileRewrites(r: RuleRewrites | undefined): PathRewrite | null {
  if (r === undefined) return null;
  const steps: ((path: string, out: string[]) => string)[] = [];
  if (r.stripPaths !== undefined && r.stripPaths.length > 0) {
    const paths = r.stripPaths;
    steps.push((path, out) => {
      const hit = paths.find((p) => path === p);
      if (hit === undefined) return path;
      out.push(`x-forwarded-prefix: ${hit}\r\n`);
      return '/';
    });
  }
  if (r.stripPrefixes !== undefined && r.stripPrefixes.length > 0) {
    // Longest prefix first, as Traefik's stripPrefix does.
    const prefixes = [...r.stripPrefixes].sort((a, b) => b.length - a.length);
    steps.push((path, out) => {
      const hit = prefixes.find((p) => path.startsWith(p));
      if (hit === undefined) return path;
      out.push(`x-forwarded-prefix: ${hit}\r\n`);
      const rest = path.slice(hit.length);
      return rest.startsWith('/') ? rest : `/${rest}`;
    });
  }
  if (r.stripPrefixesRegex !== undefined && r.stripPrefixesRegex.length > 0) {
    const templates = r.stripPrefixesRegex.map((t) => compileTemplate(t, 'prefix'));
    steps.push((path, out) => {
      for (const re of templates) {
        const m = re.exec(path);
        if (m === null) continue;
        out.push(`x-forwarded-prefix: ${m[0]}\r\n`);
        const rest = path.slice(m[0].length);
        return rest.startsWith('/') ? rest : `/${rest}`;
      }
      return path;
    });
  }
  if (r.replacePath !== undefined) {
    const value = r.replacePath;
    steps.push((path, out) => {
      out.push(`x-replaced-path: ${path}\r\n`);
      return value;
    });
  }
  if (r.replacePathRegex !== undefined) {
    const re = compileGoRegexp(r.replacePathRegex.regex);
    const replacement = jsReplacement(r.replacePathRegex.replacement);
    steps.push((path, out) => {
      if (!re.test(path)) return path;
      out.push(`x-replaced-path: ${path}\r\n`);
      return path.replace(re, replacement);
    });
  }
  if (r.addPrefix !== undefined) {
    const prefix = r.addPrefix;
    steps.push((path) => prefix + path);
  }
  if (steps.length === 0) return null;
  return (path) => {
    const out: string[] = [];
    let p = path;
    for (const step of steps) p = step(p, out);
    return { path: p, headers: out.join('') };
  };
}

/**
 * The rewrites a v1 rule carries, as a middleware of its own: compile.ts puts
 * it first in the router's chain. Not a kind users can name.
 */
export const v1RuleRewrites: MiddlewareKind<RuleRewrites> = {
  name: 'v1RuleRewrites',
  parse: (raw) => raw as RuleRewrites,
  build(options) {
    const rewrite = compileRewrites(options);
    if (rewrite === null) return {};
    return {
      request(req) {
        const r = rewrite(req.path);
        req.path = r.path;
        req.lines += r.headers;
        return null;
      },
    };
  },
};
