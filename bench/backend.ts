// One bench backend process: a uWebSockets.js app answering every request
// with BODY. Prints "listening <port>" once ready; SIGTERM closes it.
//   node dist/bench/backend.js [port]   (0 or absent: any free port)
import uWS from 'uWebSockets.js';
import { BODY } from './body.js';

const port = Number(process.argv[2] ?? 0);
let token: uWS.us_listen_socket | null = null;

uWS
  .App()
  .any('/*', (res) => {
    res.writeHeader('content-type', 'text/plain').end(BODY);
  })
  .listen('127.0.0.1', port, (listenSocket) => {
    if (listenSocket === false) {
      console.error(`backend: cannot listen on 127.0.0.1:${port}`);
      process.exit(1);
    }
    token = listenSocket;
    process.stdout.write(`listening ${uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket)}\n`);
  });

const stop = () => {
  if (token !== null) uWS.us_listen_socket_close(token);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
