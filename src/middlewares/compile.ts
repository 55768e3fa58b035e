// Main thread: a router's middleware names to descriptors. Each middleware's
// options are checked by its kind once per compilation; `chain` is flattened
// in place (cycles refused); an unknown name, an unknown kind or a bad option
// is the error that disables the router.
import type { MiddlewareConfig } from '../dynamic/model.js';
import { kindNamed, NOT_YET } from './registry.js';
import type { MiddlewareDescriptor, RetrySpec } from './types.js';

/** A middleware's kind as configured: its one key ("" when there is not exactly one). */
export function configuredKind(config: MiddlewareConfig): string {
  const keys = Object.keys(config);
  return keys.length === 1 ? keys[0]! : '';
}

/** Checks one middleware: its descriptor(s), or why it cannot be used. `resolve` finds a chain's members. */
export class MiddlewareCompiler {
  private readonly cache = new Map<string, MiddlewareDescriptor[] | string>();

  constructor(
    private readonly configs: ReadonlyMap<string, MiddlewareConfig>,
    private readonly qualify: (name: string, owner: string) => string,
    /** Why a qualified service cannot take requests, or null (services named by middlewares: errors). */
    private readonly serviceProblem: (service: string) => string | null = () => null,
  ) {}

  /** The descriptors of a router's middlewares (qualified names), or the error. */
  router(names: readonly string[]): MiddlewareDescriptor[] | string {
    const out: MiddlewareDescriptor[] = [];
    for (const name of names) {
      const d = this.one(name, []);
      if (typeof d === 'string') return d;
      out.push(...d);
    }
    if (out.filter((d) => d.kind === 'retry').length > 1) return 'more than one retry middleware';
    return out;
  }

  /** A middleware alone (the API's status of each). */
  one(name: string, path: readonly string[]): MiddlewareDescriptor[] | string {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const r = this.compile(name, path);
    if (path.length === 0 || typeof r !== 'string') this.cache.set(name, r);
    return r;
  }

  private compile(name: string, path: readonly string[]): MiddlewareDescriptor[] | string {
    const config = this.configs.get(name);
    if (config === undefined) return `unknown middleware ${JSON.stringify(name)}`;
    const key = configuredKind(config);
    if (key === '') return `middleware ${JSON.stringify(name)} must have exactly one kind (e.g. headers, stripPrefix)`;
    const raw = config[key];
    if (key.toLowerCase() === 'chain') {
      if (path.includes(name)) return `middleware chain cycle: ${[...path, name].join(' -> ')}`;
      const members = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw).find(([k]) => k.toLowerCase() === 'middlewares')?.[1] : undefined;
      const list = Array.isArray(members) ? members : typeof members === 'string' ? members.split(',').map((s) => s.trim()).filter(Boolean) : null;
      if (list === null || list.length === 0) return `middleware ${JSON.stringify(name)}: chain.middlewares must list middlewares`;
      const out: MiddlewareDescriptor[] = [];
      for (const m of list) {
        const d = this.one(this.qualify(String(m), name), [...path, name]);
        if (typeof d === 'string') return path.length === 0 ? `middleware ${JSON.stringify(name)}: ${d}` : d;
        out.push(...d);
      }
      return out;
    }
    const kind = kindNamed(key);
    if (kind === undefined) {
      const known = NOT_YET.find((k) => k.toLowerCase() === key.toLowerCase());
      return known !== undefined
        ? `middleware ${JSON.stringify(name)} (${known}) is not supported yet: the router is disabled rather than served without it`
        : `middleware ${JSON.stringify(name)}: unknown kind ${JSON.stringify(key)}`;
    }
    try {
      const at = { qualify: (service: string) => this.qualify(service, name), serviceProblem: this.serviceProblem };
      return [{ name, kind: kind.name, options: kind.parse(raw, at) }];
    } catch (err) {
      if (err instanceof TypeError || err instanceof ReferenceError) throw err;
      return `middleware ${JSON.stringify(name)}: ${(err as Error).message}`;
    }
  }
}

/** The retry settings among descriptors, for the API and the exchange. */
export function retryIn(descriptors: readonly MiddlewareDescriptor[]): RetrySpec | null {
  const d = descriptors.find((x) => x.kind === 'retry');
  return d === undefined ? null : (d.options as RetrySpec);
}
