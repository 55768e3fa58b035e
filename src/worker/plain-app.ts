// One plain-HTTP entry point in one worker; tls-app.ts is its TLS twin.
import uWS from 'uWebSockets.js';

/** A plain HTTP entry point: one app, one listen socket. */
export class PlainEntryPoint {
  private socket: uWS.us_listen_socket | null = null;

  constructor(private readonly app: uWS.TemplatedApp) {}

  listen(host: string, port: number, done: (ok: boolean) => void): void {
    const cb = (s: uWS.us_listen_socket | false) => {
      if (s !== false) this.socket = s;
      done(s !== false);
    };
    if (host === '') this.app.listen(port, cb);
    else this.app.listen(host, port, cb);
  }

  closeListener(): void {
    if (this.socket !== null) uWS.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  /** app.close() (present in the binary, missing from its typings) closes every connection. */
  closeAll(): void {
    this.closeListener();
    (this.app as uWS.TemplatedApp & { close(): void }).close();
  }
}
