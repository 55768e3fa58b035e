// The WebSocket bench's backend (--websocket): an echo server with the `ws`
// library, one process. Every message goes back on the connection it came
// from, text as text and binary as binary; no permessage-deflate. Prints
// "listening <port>" once ready; SIGTERM closes it.
//   node dist/bench/ws-backend.js [port]   (0 or absent: any free port)
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
// skipUTF8Validation: the load client sends ASCII; checking it again would
// only take CPU from the load core, the same for every proxy.
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, skipUTF8Validation: true, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  // A proxy that closes abruptly: nothing to do but drop the connection.
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => {
  const address = wss.address();
  process.stdout.write(`listening ${address !== null && typeof address === 'object' ? address.port : port}\n`);
});
wss.on('error', (err) => {
  console.error(`ws-backend: ${err.message}`);
  process.exit(1);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
