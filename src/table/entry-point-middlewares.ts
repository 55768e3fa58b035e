// --entrypoints.<n>.http.middlewares: every router on entry point n runs
// these before its own. Traefik applies them as an entry point "model"
// (pkg/server/aggregator.go, applyModel): a router gets one copy per entry
// point that has middlewares, named "<entry point>-<router>" when the router
// serves on several entry points; the entry points without middlewares keep
// the router under its own name. Copies are separate routers everywhere
// (API, metrics, access log), as in Traefik.

export interface RouterCopy {
  /** Qualified: "web-app@docker", or the router's own name. */
  name: string;
  entryPoints: string[];
  /** The entry point whose middlewares come first; null for the copy without any. */
  entryPoint: string | null;
  /** That entry point's middlewares, as configured (a name without @provider is the router's provider's). */
  prepended: readonly string[];
}

/**
 * Splits a router placed on `entryPoints` into the routers Traefik serves.
 * One copy, the router itself, when none of its entry points has middlewares.
 */
export function routerCopies(name: string, entryPoints: readonly string[], middlewares: ReadonlyMap<string, readonly string[]> | undefined): RouterCopy[] {
  const unique = [...new Set(entryPoints)];
  const copies: RouterCopy[] = [];
  const rest: string[] = [];
  for (const ep of unique) {
    const prepended = middlewares?.get(ep) ?? [];
    if (prepended.length === 0) rest.push(ep);
    else copies.push({ name: unique.length > 1 ? `${ep}-${name}` : name, entryPoints: [ep], entryPoint: ep, prepended });
  }
  if (rest.length > 0) copies.push({ name, entryPoints: rest, entryPoint: null, prepended: [] });
  return copies;
}
