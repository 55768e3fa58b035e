// Traefik's file provider: dynamic configuration from a YAML/JSON file or a
// directory of them, reloaded on change. A file that cannot be parsed never
// replaces the last good configuration; the error is logged with file, line
// and column and kept in `lastError`.
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { SourceError } from '../config/source.js';
import type { FileProviderConfig } from '../config/static.js';
import type { ConfigError, DynamicConfig } from '../dynamic/model.js';
import { log as defaultLog, type Logger } from '../log.js';
import { loadFileProviderConfig, PROVIDER_NAME, type FileLoadResult } from './file-load.js';

export { loadFileProviderConfig, type FileLoadResult } from './file-load.js';

/** Longest wait between a change and the reload, however busy the directory. */
const MAX_DELAY_MS = 300;

export type DynamicConfigListener = (config: DynamicConfig, errors: ConfigError[]) => void;

export interface FileProviderOptions {
  /** Quiet time after a change before reloading (default 75 ms). */
  debounceMs?: number;
  logger?: Logger;
  /** Called when a load fails (the last good configuration stays in effect). */
  onLoadError?: (error: SourceError) => void;
}

export class FileProvider {
  readonly name = PROVIDER_NAME;
  private readonly config: FileProviderConfig;
  private readonly debounceMs: number;
  private readonly logger: Logger;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private pendingSince = 0;
  private running?: Promise<void>;
  private rerun = false;
  private started = false;
  private stopped = false;
  private emittedKey?: string;
  private good?: FileLoadResult;
  private error?: SourceError;

  constructor(
    config: FileProviderConfig,
    private readonly listener: DynamicConfigListener,
    private readonly options: FileProviderOptions = {},
  ) {
    if (config.filename === undefined && config.directory === undefined) {
      throw new Error('file provider: set filename or directory');
    }
    this.config = {
      ...config,
      ...(config.filename === undefined ? {} : { filename: resolve(config.filename) }),
      ...(config.directory === undefined ? {} : { directory: resolve(config.directory) }),
    };
    this.debounceMs = options.debounceMs ?? 75;
    this.logger = options.logger ?? defaultLog;
  }

  /** Why the last load failed, while the files stay broken; undefined once a load succeeds. */
  get lastError(): SourceError | undefined {
    return this.error;
  }

  /** The last configuration handed to the listener. */
  get current(): { config: DynamicConfig; errors: ConfigError[] } | undefined {
    return this.good && { config: this.good.config, errors: this.good.errors };
  }

  /** Loads once (calling the listener if the files are good) and, with `watch`, starts watching. */
  async start(): Promise<void> {
    if (this.started) throw new Error('file provider already started');
    this.started = true;
    // Watch first, so that an edit made during the initial load is not missed.
    if (this.config.watch) await this.startWatching();
    await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
    await this.running;
  }

  /** Reads the files now. Concurrent calls share one pass (plus one more if asked during it). */
  reload(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.loadOnce();
        } while (this.rerun && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async loadOnce(): Promise<void> {
    let result: FileLoadResult;
    try {
      result = await loadFileProviderConfig(this.config);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      if (this.error?.message !== err.message) {
        this.logger.error(
          { provider: this.name, file: err.file, line: err.line, column: err.column },
          `${err.message}; keeping the last good configuration`,
        );
      }
      this.error = err;
      this.options.onLoadError?.(err);
      return;
    }
    if (this.stopped) return;
    if (this.error) this.logger.info({ provider: this.name }, 'configuration files readable again');
    this.error = undefined;
    // Editors and config management touch files without changing them.
    const key = JSON.stringify([result.config, result.errors]);
    if (key === this.emittedKey) return;
    this.emittedKey = key;
    this.good = result;
    for (const warning of result.warnings) this.logger.warn({ provider: this.name }, warning);
    // Its errors are logged where every provider's are, when portero applies them.
    this.listener(result.config, result.errors);
  }

  private async startWatching(): Promise<void> {
    // For a single file, watch its directory: editors that save by writing a
    // new file and renaming it over the old one replace the inode, and the
    // file may not exist yet. (chokidar also watches each file of a watched
    // directory, so in-place writes through another path, as with a bind
    // mount, are seen too.) Any event triggers a reload; unchanged results
    // are not passed on.
    const target = this.config.directory ?? dirname(this.config.filename!);
    const watcher = watch(target, {
      ignoreInitial: true,
      depth: this.config.directory !== undefined ? undefined : 0,
      ignorePermissionErrors: true,
    });
    this.watcher = watcher;
    const wanted = this.config.filename === undefined ? undefined : basename(this.config.filename);
    watcher.on('all', (_event, path) => {
      // Single file: ignore the neighbours.
      if (wanted === undefined || basename(path) === wanted) this.schedule();
    });
    // A mounted Kubernetes ConfigMap changes by swapping its "..data"
    // symlink, for which chokidar emits only raw events.
    watcher.on('raw', (_event, path: unknown) => {
      if (typeof path === 'string' && basename(path).startsWith('..')) this.schedule();
    });
    watcher.on('error', (err) => this.logger.warn({ provider: this.name, err }, 'file watcher error'));
    await new Promise<void>((done) => watcher.once('ready', () => done()));
  }

  private schedule(): void {
    if (this.stopped) return;
    // Debounce, but a steady trickle of events must not postpone the reload
    // for ever: after MAX_DELAY_MS the pending timer is left to fire.
    const now = Date.now();
    if (this.timer !== undefined && now - this.pendingSince >= MAX_DELAY_MS) return;
    if (this.timer === undefined) this.pendingSince = now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload().catch((err: unknown) => this.logger.error({ provider: this.name, err }, 'file provider reload failed'));
    }, this.debounceMs);
  }
}
