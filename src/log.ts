// Logging: pino JSON lines on stderr. Stdout stays free for --help and for
// whatever a wrapper script wants to print.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export type LogLevel = LevelWithSilent;

/** A logger writing JSON lines to stderr (fd 2) at `level`. */
export function createLogger(level: LogLevel = 'info'): Logger {
  // sync: a proxy that crashes or exits must not lose its last lines.
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** The process-wide logger; its level follows `--log.level` via setLogLevel. */
export const log: Logger = createLogger('info');

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}
