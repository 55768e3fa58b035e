// Process entry: static config -> logger -> providers -> Portero, with
// signal handling. Shared by the `portero` command and `npm run demo`.
import { staticConfigForCli } from './config/parse.js';
import { createLogger } from './log.js';
import { Portero } from './portero.js';
import { createProviders } from './providers/index.js';

/** Runs portero until SIGTERM/SIGINT; returns the exit code for a usage error or failed start. */
export async function main(argv: readonly string[], onStarted?: (p: Portero) => void): Promise<number | null> {
  const parsed = staticConfigForCli(argv);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { config } = parsed;
  const log = createLogger(config.log.level, config.log.format ?? 'common');
  let providers;
  try {
    providers = createProviders(config, log);
  } catch (err) {
    process.stderr.write(`portero: ${(err as Error).message}\n`);
    return 2;
  }
  const portero = new Portero({ config, log, providers, testHooks: process.env.PORTERO_TEST_HOOKS === '1' });
  const stop = (signal: string) => {
    log.info({ signal }, 'signal received');
    // Exit only once every worker has closed its sockets: ending the process
    // earlier would abort on the workers' open uWS handles.
    void portero.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await portero.start();
  } catch (err) {
    // start() has already stopped what it started.
    log.fatal({ err: (err as Error).message }, 'cannot start');
    return 1;
  }
  onStarted?.(portero);
  return null;
}
