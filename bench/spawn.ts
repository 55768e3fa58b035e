// Every process the bench starts goes through here, so that one cleanup can
// stop them all: on normal completion, on an error, and on Ctrl-C. Where
// util-linux's setpriv exists, children also get a parent-death signal, so
// even a bench killed with SIGKILL leaves no nginx or backend behind.
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { isAlive, processTree } from './proc.js';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (or the given signal), then SIGKILL after timeoutMs; also kills descendants left behind. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

const live = new Set<Child>();
/** Set once cleanup has begun: nothing new may start after that. */
let closing = false;
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: stdout piped, stderr to logFile (or piped when there is none). */
  stdio?: StdioOptions;
  /** Appended to by the child's stderr, and its stdout unless stdout is 'pipe'. */
  logFile?: string;
  /** Keep stdout piped (to wait for a ready line) even with a logFile. */
  pipeStdout?: boolean;
}

export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  if (closing) throw new Error(`not starting ${name}: the bench is shutting down`);
  const [cmd, argv] = SETPRIV === undefined ? [command, args] : [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', command, ...args]];
  const log = options.logFile === undefined ? null : openSync(options.logFile, 'a');
  const stdio: StdioOptions = options.stdio ?? ['ignore', log === null || options.pipeStdout === true ? 'pipe' : log, log ?? 'pipe'];
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, argv, { stdio, env: options.env ?? process.env });
  } finally {
    if (log !== null) closeSync(log);
  }
  if (proc.pid === undefined) throw new Error(`cannot start ${name} (${command})`);
  const pid = proc.pid;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', () => resolve('spawn error'));
  });
  let stopping: Promise<void> | null = null;
  const child: Child = {
    name,
    pid,
    proc,
    exited,
    stop(signal = 'SIGTERM', timeoutMs = 5000) {
      stopping ??= (async () => {
        const tree = processTree(pid);
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill(signal);
          const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
          await exited;
          clearTimeout(timer);
        }
        // A parent that died without taking its children along (nginx
        // workers after a SIGKILLed master, for example).
        const deadline = Date.now() + 1000;
        for (const p of tree.slice(1)) {
          while (isAlive(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          if (isAlive(p)) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
        live.delete(child);
      })();
      return stopping;
    },
  };
  live.add(child);
  void exited.then(() => {
    if (stopping === null) live.delete(child);
  });
  return child;
}

/** Stops every child still running, newest first. */
export async function stopAll(): Promise<void> {
  closing = true;
  await Promise.all([...live].reverse().map((c) => c.stop()));
}

/** Ctrl-C / SIGTERM: stop all children, then exit with 130 / 143. */
export function installCleanup(onSignal?: (signal: NodeJS.Signals) => void): void {
  const handler = (signal: NodeJS.Signals) => {
    onSignal?.(signal);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/** Resolves with the first match of pattern on the child's stdout; rejects on exit or timeout. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const out = child.proc.stdout;
  if (out === null) return Promise.reject(new Error(`${child.name}: stdout is not piped`));
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = pattern.exec(seen);
      if (m !== null) done(null, m);
    };
    const timer = setTimeout(() => done(new Error(`${child.name}: no ${pattern} within ${timeoutMs} ms; output: ${seen.slice(-500)}`)), timeoutMs);
    const onExit = () => done(new Error(`${child.name} exited before printing ${pattern}; output: ${seen.slice(-500)}`));
    function done(err: Error | null, m?: RegExpExecArray) {
      clearTimeout(timer);
      out!.off('data', onData);
      child.proc.off('exit', onExit);
      if (err !== null) reject(err);
      else resolve(m!);
    }
    out.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

/** This process and every process the bench started that is still running (with their children). */
export function ourPids(): number[] {
  return [process.pid, ...[...live].flatMap((c) => processTree(c.pid))];
}
