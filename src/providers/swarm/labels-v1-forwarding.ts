// Traefik 1.7's labels for what happens around forwarding a request, read
// into v2+ middlewares of the router (in 1.7's order: the auth check, then
// error pages, then the backend's buffering):
//
//   traefik.frontend.auth.forward.address=URL              forwardAuth
//   traefik.frontend.auth.forward.authResponseHeaders=A,B   its authResponseHeaders
//   traefik.frontend.auth.forward.trustForwardHeader=B      its trustForwardHeader
//   traefik.frontend.auth.forward.tls.*                     its tls (refused by forwardAuth, with why)
//   traefik.frontend.errors.<name>.status|backend|query     an errors middleware per name (backend: a v1 backend name)
//   traefik.backend.buffering.<option>                     buffering (maxRequestBodyBytes, memRequestBodyBytes, ...)
import { normalize } from './default-rule.js';
import { byteOrder, splitAndTrim, type Leaf, type SpecSet } from './labels-common.js';

type Label = { label: string; value: string };

const ERRORS = /^traefik\.frontend\.errors\.([^ .]+)\.(status|backend|query)$/;
const FORWARD_OPTIONS: Record<string, string> = {
  address: 'address',
  authresponseheaders: 'authResponseHeaders',
  trustforwardheader: 'trustForwardHeader',
};
const BUFFERING_OPTIONS: Record<string, string> = {
  maxrequestbodybytes: 'maxRequestBodyBytes',
  memrequestbodybytes: 'memRequestBodyBytes',
  maxresponsebodybytes: 'maxResponseBodyBytes',
  memresponsebodybytes: 'memResponseBodyBytes',
  retryexpression: 'retryExpression',
};

/** Adds the router's forwardAuth, errors and buffering middlewares to `set` and to what v1Middlewares returned (`mapped`). */
export function v1Forwarding(routerName: string, props: ReadonlyMap<string, Label>, set: SpecSet, mapped: { names: string[]; labels: string[]; handled: Set<string> }): void {
  const add = (suffix: string, leaves: Leaf[]) => {
    if (leaves.length === 0) return;
    const name = `${routerName}-${suffix}`;
    set.middlewares.push({ name, leaves });
    mapped.names.push(name);
    mapped.labels.push(leaves[0]!.label);
  };

  const forward: Leaf[] = [];
  const pages = new Map<string, Leaf[]>();
  const buffering: Leaf[] = [];
  for (const [prop, l] of [...props].sort(([a], [b]) => byteOrder(a, b))) {
    if (prop.startsWith('traefik.frontend.auth.forward.')) {
      const option = prop.slice('traefik.frontend.auth.forward.'.length);
      mapped.handled.add(prop);
      if (option.startsWith('tls.')) forward.push({ label: l.label, path: ['forwardAuth', 'tls', option.slice(4)], value: l.value });
      else if (option === 'authresponseheaders') forward.push({ label: l.label, path: ['forwardAuth', 'authResponseHeaders'], value: splitAndTrim(l.value) });
      else forward.push({ label: l.label, path: ['forwardAuth', FORWARD_OPTIONS[option] ?? option], value: l.value });
      continue;
    }
    const page = ERRORS.exec(prop);
    if (page !== null) {
      mapped.handled.add(prop);
      const leaves = pages.get(page[1]!) ?? [];
      pages.set(page[1]!, leaves);
      const option = page[2] === 'backend' ? 'service' : page[2]!;
      const value = page[2] === 'backend' ? normalize(l.value) : page[2] === 'status' ? splitAndTrim(l.value) : l.value;
      leaves.push({ label: l.label, path: ['errors', option], value });
      continue;
    }
    if (prop.startsWith('traefik.backend.buffering.')) {
      const option = prop.slice('traefik.backend.buffering.'.length);
      mapped.handled.add(prop);
      buffering.push({ label: l.label, path: ['buffering', BUFFERING_OPTIONS[option] ?? option], value: l.value });
    }
  }
  // Without an address, forwardAuth's own check says so and the router is disabled.
  add('forwardauth', forward);
  for (const [name, leaves] of pages) add(`errors-${normalize(name)}`, leaves);
  add('buffering', buffering);
}
