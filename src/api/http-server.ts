// Listening and closing for the main thread's node:http servers (API, metrics).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on host:port ("" = all interfaces); resolves with the bound port. */
export function listenOn(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting and drops kept-alive connections; resolves once closed. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
