// Main thread: owns the shared buffers, turns provider configurations into
// table versions, and publishes a version only when its content changed.
import { createHash } from 'node:crypto';
import type { ConfigError, DynamicConfig } from '../dynamic/model.js';
import type { HealthTarget } from '../health/checker.js';
import { compileTable, type CompiledTable, type CompileInput } from './compile.js';
import { LoadBalancerCompiler } from './load-balancers.js';
import { createStateBuffer, SharedState, type StateLayout } from '../shared/shared-state.js';
import { createTableBuffer, TableWriter } from '../shared/shared-table.js';
import { SlotAllocator, SlotPool } from '../shared/slots.js';
import { encodeTable } from './wire.js';

export interface PublisherOptions {
  entryPoints: readonly string[];
  /** TLS entry points, resolvers and certificate loading (compile.ts). */
  tls?: Pick<CompileInput, 'entryPointTls' | 'defaultEntryPoints' | 'resolvers' | 'certificates' | 'staticCertificates'>;
  /** --entrypoints.<n>.http.middlewares by entry point. */
  entryPointMiddlewares?: ReadonlyMap<string, readonly string[]>;
  tableSlotBytes?: number;
  layout?: StateLayout;
}

export interface PublishResult {
  /** False when the configuration compiled to the table already published. */
  changed: boolean;
  generation: number;
  errors: ConfigError[];
}

export class TablePublisher {
  readonly tableBuffer: SharedArrayBuffer;
  readonly stateBuffer: SharedArrayBuffer;
  readonly layout: StateLayout;
  readonly state: SharedState;
  private readonly writer: TableWriter;
  private readonly providers = new Map<string, DynamicConfig>();
  private readonly loadBalancers: LoadBalancerCompiler;
  private readonly serviceSlots: SlotAllocator;
  /** Digest of the last published text: keeping the text itself would hold megabytes. */
  private lastDigest = '';
  /** Services portero serves itself (api@internal, ping@internal, prometheus@internal): name -> URL. */
  internalServices: ReadonlyMap<string, string> = new Map();
  /** The most recent compilation, for the API. */
  current: CompiledTable | null = null;
  reloads = 0;

  constructor(private readonly options: PublisherOptions) {
    this.layout = options.layout ?? { maxServers: 65536, maxServices: 65536 };
    this.tableBuffer = createTableBuffer(options.tableSlotBytes ?? 32 * 1024 * 1024);
    this.stateBuffer = createStateBuffer(this.layout);
    this.state = new SharedState(this.stateBuffer, this.layout);
    this.writer = new TableWriter(this.tableBuffer);
    this.loadBalancers = new LoadBalancerCompiler(
      new SlotPool(
        this.layout.maxServers,
        (slot) => this.state.inflight(slot) === 0,
        (slot) => this.state.resetServer(slot),
      ),
    );
    this.serviceSlots = new SlotAllocator(this.layout.maxServices, () => true, (slot) => this.state.resetService(slot));
  }

  /** Servers to check actively, as of the last compilation. */
  healthTargets(): HealthTarget[] {
    return this.loadBalancers.healthTargets();
  }

  get generation(): number {
    return this.writer.generation;
  }

  /** Replaces one provider's configuration and publishes the result. */
  update(provider: string, config: DynamicConfig): PublishResult {
    this.providers.set(provider, config);
    return this.publish();
  }

  remove(provider: string): PublishResult {
    this.providers.delete(provider);
    return this.publish();
  }

  private publish(): PublishResult {
    const compiled = compileTable({
      providers: this.providers,
      entryPoints: this.options.entryPoints,
      loadBalancers: this.loadBalancers,
      serviceSlots: (keys) => this.serviceSlots.assign(keys),
      ...this.options.tls,
      internalServices: this.internalServices,
      ...(this.options.entryPointMiddlewares === undefined ? {} : { entryPointMiddlewares: this.options.entryPointMiddlewares }),
    });
    this.current = compiled;
    // Encoded with version 0 so that an unchanged table compares equal to the published one; to UTF-8
    // once, for both the digest and the shared buffer (a 1,000-service table is 1.5 MB).
    const bytes = Buffer.from(encodeTable(0, compiled.spec), 'utf8');
    // SHA-1 as a change detector, not for security: 4 ms for 6 MB where SHA-256 takes 15.
    const digest = createHash('sha1').update(bytes).digest('base64');
    if (digest === this.lastDigest) return { changed: false, generation: this.writer.generation, errors: compiled.errors };
    // The text begins `{"version":0,`: the published one carries its real version.
    const rest = bytes.subarray(bytes.indexOf(0x2c) + 1);
    const generation = this.writer.publish(Buffer.concat([Buffer.from(`{"version":${this.writer.generation + 1},`), rest]));
    this.lastDigest = digest;
    this.reloads++;
    return { changed: true, generation, errors: compiled.errors };
  }
}
