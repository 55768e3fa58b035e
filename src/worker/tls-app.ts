// One TLS entry point in one worker: a uWS SSLApp whose SNI names follow the
// certificates the main thread serves. uWS binds the default certificate to
// the app when it is made, and routes each added server name by its own
// router, so every name gets the entry point's handler. Names are added and
// removed live; a new default certificate means a new app listening beside
// the old one, whose connections finish on it.
import uWS from 'uWebSockets.js';
import type { ServedCertificates } from '../tls/store.js';
import { listenApp } from './plain-app.js';

type Handler = (res: uWS.HttpResponse, req: uWS.HttpRequest) => void;

function options(files: { cert: string; key: string }): uWS.AppOptions {
  return { cert_file_name: files.cert, key_file_name: files.key };
}

export class TlsEntryPoint {
  /** Every app made, the current one last; all are closed with the worker. */
  private readonly apps: uWS.TemplatedApp[] = [];
  private app: uWS.TemplatedApp;
  private defaultKey: string;
  /** Name -> the certificate file it was added with. */
  private names = new Map<string, string>();
  private listenSocket: uWS.us_listen_socket | null = null;
  private where: { host: string; port: number } | null = null;

  constructor(
    private readonly handler: Handler,
    served: ServedCertificates,
    private readonly report: (msg: string) => void,
  ) {
    this.defaultKey = served.default.cert;
    this.app = this.makeApp(served);
  }

  private makeApp(served: ServedCertificates): uWS.TemplatedApp {
    // No WebSocket route here yet: with one, this uWS build's SSL app now and then hangs up a keep-alive
    // TLS connection (test/integration/https.test.ts failed 3 times in 28 runs with it, never without).
    const app = uWS.SSLApp(options(served.default)).any('/*', this.handler);
    this.apps.push(app);
    this.names = new Map();
    for (const { name, files } of served.names) this.add(app, name, files);
    return app;
  }

  private add(app: uWS.TemplatedApp, name: string, files: { cert: string; key: string }): void {
    app.addServerName(name, options(files));
    // Routes registered after domain() belong to that name.
    app.domain(name).any('/*', this.handler);
    this.names.set(name, files.cert);
  }

  listen(host: string, port: number, done: (ok: boolean) => void): void {
    this.where = { host, port };
    listenApp(this.app, host, port, (s) => {
      if (s !== null) this.listenSocket = s;
      done(s !== null);
    });
  }

  /** Brings the served names (and the default certificate) up to date. */
  apply(served: ServedCertificates): void {
    if (served.default.cert !== this.defaultKey) {
      this.replaceApp(served);
      return;
    }
    const wanted = new Map(served.names.map((n) => [n.name, n.files]));
    for (const [name, cert] of this.names) {
      const next = wanted.get(name);
      if (next === undefined || next.cert !== cert) {
        this.app.removeServerName(name);
        this.names.delete(name);
      }
    }
    for (const [name, files] of wanted) if (!this.names.has(name)) this.add(this.app, name, files);
  }

  private replaceApp(served: ServedCertificates): void {
    const next = this.makeApp(served);
    this.defaultKey = served.default.cert;
    const old = this.listenSocket;
    this.app = next;
    if (this.where === null) return;
    // SO_REUSEPORT: the new app listens beside the old one, which then stops accepting.
    this.listen(this.where.host, this.where.port, (ok) => {
      if (!ok) {
        this.report(`cannot listen on ${this.where!.host || '*'}:${this.where!.port} with the new default certificate; the old one stays`);
        return;
      }
      if (old !== null) uWS.us_listen_socket_close(old);
    });
  }

  closeListener(): void {
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  closeAll(): void {
    this.closeListener();
    for (const a of this.apps) (a as uWS.TemplatedApp & { close(): void }).close();
  }
}
