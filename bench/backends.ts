// Starts the bench backends: one process per replica, so a backend's CPU is
// accounted to itself, never to a proxy or to the load generator.
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild, waitForOutput } from './spawn.js';

export interface Backends {
  readonly ports: readonly number[];
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const BACKEND_SCRIPT = fileURLToPath(new URL('./backend.js', import.meta.url));

/** Starts count backends on free loopback ports; their stderr goes to logFile. */
export async function startBackends(count: number, logFile: string): Promise<Backends> {
  const children: Child[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()));
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const child = spawnChild(`backend ${i}`, process.execPath, [BACKEND_SCRIPT, '0'], { logFile, pipeStdout: true });
      children.push(child);
      const m = await waitForOutput(child, /listening (\d+)\n/);
      ports.push(Number(m[1]));
    }
    return { ports, pids: children.map((c) => c.pid), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
