// One TLS entry point in one worker: a uWS SSLApp whose SNI names follow the
// certificates the main thread serves.
//
// uWS keeps each added server name's router in its SSL_CTX, and every request
// of a connection made under that name is routed by it. removeServerName
// deletes that router while connections made under the name may still be
// open: their next request reads freed memory (seen as a keep-alive TLS
// connection hung up, and once as a crash). So a name is never removed from
// an app that may still have connections. New names are added in place; a
// removed or renewed certificate, or a new default one, makes a new app that
// listens beside the old one (SO_REUSEPORT). The old app stops accepting,
// serves its connections to their end, and is closed, its names removed, once
// it has been quiet for RETIRED_QUIET_MS.
import uWS from 'uWebSockets.js';
import type { ServedCertificates } from '../tls/store.js';
import type { AppInflight } from './request-head.js';
import { listenApp } from './plain-app.js';

type Handler = (res: uWS.HttpResponse, req: uWS.HttpRequest) => void;

/** The handler and WebSocket route of one app, counting that app's requests and sessions in `inflight`. */
export type AppRoutes = (inflight: AppInflight) => { handler: Handler; websockets: uWS.WebSocketBehavior<never> };

/**
 * How long a replaced app must have had no request in flight and none
 * started before it is closed. uWS closes a connection idle for 10 s, so by
 * then none is left but a client still reading a response's last bytes,
 * which gets the time nginx's send_timeout gives it.
 */
export const RETIRED_QUIET_MS = 60_000;

function options(files: { cert: string; key: string }): uWS.AppOptions {
  return { cert_file_name: files.cert, key_file_name: files.key };
}

interface AppGeneration {
  app: uWS.TemplatedApp;
  inflight: AppInflight;
  routes: ReturnType<AppRoutes>;
  /** Name -> the certificate file it was added with. */
  names: Map<string, string>;
  defaultCert: string;
  listenSocket: uWS.us_listen_socket | null;
  /** For a replaced app: `inflight.started` when last looked at, and since when nothing moved. */
  seenStarted: number;
  quietSince: number;
}

function stopListening(gen: AppGeneration): void {
  if (gen.listenSocket !== null) uWS.us_listen_socket_close(gen.listenSocket);
  gen.listenSocket = null;
}

export class TlsEntryPoint {
  private current: AppGeneration;
  /** Replaced apps whose connections are finishing. */
  private retired: AppGeneration[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private where: { host: string; port: number } | null = null;

  constructor(
    private readonly routes: AppRoutes,
    served: ServedCertificates,
    private readonly report: (msg: string) => void,
    private readonly quietMs = RETIRED_QUIET_MS,
  ) {
    this.current = this.makeApp(served);
  }

  private makeApp(served: ServedCertificates): AppGeneration {
    const inflight: AppInflight = { n: 0, started: 0 };
    const routes = this.routes(inflight);
    // uWS tries the WebSocket route first; a request that is no handshake falls through to any().
    const app = uWS.SSLApp(options(served.default)).ws('/*', routes.websockets).any('/*', routes.handler);
    const gen: AppGeneration = { app, inflight, routes, names: new Map(), defaultCert: served.default.cert, listenSocket: null, seenStarted: 0, quietSince: 0 };
    for (const { name, files } of served.names) this.addName(gen, name, files);
    return gen;
  }

  private addName(gen: AppGeneration, name: string, files: { cert: string; key: string }): void {
    gen.app.addServerName(name, options(files));
    // Routes registered after domain() belong to that name.
    gen.app.domain(name).ws('/*', gen.routes.websockets).any('/*', gen.routes.handler);
    gen.names.set(name, files.cert);
  }

  listen(host: string, port: number, done: (ok: boolean) => void): void {
    this.where = { host, port };
    const gen = this.current;
    listenApp(gen.app, host, port, (s) => {
      gen.listenSocket = s;
      done(s !== null);
    });
  }

  /** Brings the served names and the default certificate up to date. */
  apply(served: ServedCertificates): void {
    const gen = this.current;
    const wanted = new Map(served.names.map((n) => [n.name, n.files]));
    let replace = served.default.cert !== gen.defaultCert;
    for (const [name, cert] of gen.names) if (wanted.get(name)?.cert !== cert) replace = true;
    if (replace) {
      this.replaceApp(served);
      return;
    }
    for (const { name, files } of served.names) if (!gen.names.has(name)) this.addName(gen, name, files);
  }

  private replaceApp(served: ServedCertificates): void {
    const old = this.current;
    const next = this.makeApp(served);
    this.current = next;
    if (this.where === null) {
      this.retire(old);
      return;
    }
    const { host, port } = this.where;
    listenApp(next.app, host, port, (s) => {
      next.listenSocket = s;
      if (s === null) {
        // The old app keeps serving; the next change tries again.
        this.report(`cannot listen on ${host || '*'}:${port} with the new certificates; the old ones stay`);
        this.current = old;
        this.retire(next);
        return;
      }
      this.retire(old);
    });
  }

  private retire(gen: AppGeneration): void {
    stopListening(gen);
    gen.seenStarted = gen.inflight.started;
    gen.quietSince = gen.inflight.n === 0 ? Date.now() : 0;
    this.retired.push(gen);
    if (this.sweepTimer === null) {
      this.sweepTimer = setInterval(() => this.sweep(), Math.min(1000, this.quietMs / 4));
      this.sweepTimer.unref();
    }
  }

  /** Closes the replaced apps that have been quiet long enough. */
  private sweep(): void {
    const now = Date.now();
    this.retired = this.retired.filter((gen) => {
      const moved = gen.inflight.n > 0 || gen.inflight.started !== gen.seenStarted;
      gen.seenStarted = gen.inflight.started;
      if (moved) {
        gen.quietSince = 0;
        return true;
      }
      if (gen.quietSince === 0) gen.quietSince = now;
      if (now - gen.quietSince < this.quietMs) return true;
      this.close(gen);
      return false;
    });
    if (this.retired.length === 0 && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /** Closes an app's connections, then frees its names' certificates and routers (safe now: no connection is left). */
  private close(gen: AppGeneration): void {
    stopListening(gen);
    (gen.app as uWS.TemplatedApp & { close(): void }).close();
    for (const name of gen.names.keys()) gen.app.removeServerName(name);
    gen.names.clear();
  }

  /** Replaced apps not closed yet (for tests and stats). */
  retiredApps(): number {
    return this.retired.length;
  }

  closeListener(): void {
    stopListening(this.current);
  }

  closeAll(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const gen of [...this.retired, this.current]) {
      stopListening(gen);
      (gen.app as uWS.TemplatedApp & { close(): void }).close();
    }
  }
}
