// One plain-HTTP entry point in one worker; tls-app.ts is its TLS twin.
import uWS from 'uWebSockets.js';

/** Listens on host:port ("" host: every interface); `done` gets the socket, or null when the port was refused. */
export function listenApp(app: uWS.TemplatedApp, host: string, port: number, done: (socket: uWS.us_listen_socket | null) => void): void {
  const cb = (s: uWS.us_listen_socket | false) => done(s === false ? null : s);
  if (host === '') app.listen(port, cb);
  else app.listen(host, port, cb);
}

/** A plain HTTP entry point: one app, one listen socket. */
export class PlainEntryPoint {
  private socket: uWS.us_listen_socket | null = null;

  constructor(private readonly app: uWS.TemplatedApp) {}

  listen(host: string, port: number, done: (ok: boolean) => void): void {
    listenApp(this.app, host, port, (s) => {
      if (s !== null) this.socket = s;
      done(s !== null);
    });
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
