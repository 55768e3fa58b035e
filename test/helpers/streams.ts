// Small pieces the loopback tests share: a listener on 127.0.0.1, and a body
// of n bytes written with backpressure (to a response or an upload alike).
import type net from 'node:net';
import type { Writable } from 'node:stream';

/** Listens on an ephemeral 127.0.0.1 port; returns it. */
export async function listenLocal(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

const DEFAULT_BLOCK = Buffer.alloc(1024 * 1024, 120);

/** Writes `total` bytes in blocks, waiting for 'drain' whenever the stream asks, then ends it. */
export function writeBytes(out: Writable, total: number, block: Buffer = DEFAULT_BLOCK): void {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(block.length, total - sent);
      sent += n;
      if (!out.write(n === block.length ? block : block.subarray(0, n))) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}
