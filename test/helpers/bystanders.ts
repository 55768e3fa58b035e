// Well-behaved clients that keep requesting over their own keep-alive
// connections while a test misbehaves next to them. SO_REUSEPORT spreads
// connections over the workers by hash, so 8 per worker land on every worker
// but with odds of 2^-15 for two workers. Each connection must stay open and
// every one of its answers must be the backend's.
import { RawClient, get } from './raw-client.js';

export interface BystanderReport {
  requests: number;
  failures: string[];
  /** Requests completed on each connection. */
  perConnection: number[];
}

export interface Bystanders {
  /** Stops the loops, closes the connections, and says what they saw. */
  stop(): Promise<BystanderReport>;
}

export async function startBystanders(
  port: number,
  options: { host: string; path?: string; expect?: string; workers: number; perWorker?: number; pauseMs?: number },
): Promise<Bystanders> {
  const count = options.workers * (options.perWorker ?? 8);
  const clients = await Promise.all(Array.from({ length: count }, () => RawClient.open(port)));
  const perConnection = clients.map(() => 0);
  const failures: string[] = [];
  let running = true;
  const loops = clients.map(async (c, i) => {
    while (running) {
      try {
        const r = await get(c, options.host, options.path ?? '/bystander', 5000);
        if (r.status !== 200 || (options.expect !== undefined && r.body.toString() !== options.expect)) {
          failures.push(`connection ${i}: status ${r.status}, body ${JSON.stringify(r.body.toString().slice(0, 80))}`);
        }
        if (r.headers.connection === 'close') failures.push(`connection ${i}: told to close`);
        perConnection[i]++;
      } catch (err) {
        failures.push(`connection ${i}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 20));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const c of clients) c.destroy();
      return { requests: perConnection.reduce((a, b) => a + b, 0), failures, perConnection };
    },
  };
}
