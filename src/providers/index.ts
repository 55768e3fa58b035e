// The providers the static configuration enables, behind one interface.
import type { Logger } from 'pino';
import type { SourceError } from '../config/source.js';
import type { StaticConfig } from '../config/static.js';
import type { Provider } from './provider.js';
import { FileProvider } from './file.js';
import { SwarmProvider } from './swarm/provider.js';

export class FileSource implements Provider {
  readonly name = 'file';
  private provider: FileProvider | null = null;

  constructor(
    private readonly config: NonNullable<StaticConfig['providers']['file']>,
    private readonly log: Logger,
  ) {}

  start(emit: Parameters<Provider['start']>[0]): Promise<void> {
    this.provider = new FileProvider(this.config, emit, { logger: this.log });
    return this.provider.start();
  }

  async stop(): Promise<void> {
    await this.provider?.stop();
  }

  /** Why the last load failed (the previous configuration kept serving), if it did. */
  get lastError(): SourceError | undefined {
    return this.provider?.lastError;
  }
}

export function createProviders(config: StaticConfig, log: Logger): Provider[] {
  const out: Provider[] = [];
  if (config.providers.file !== undefined) out.push(new FileSource(config.providers.file, log));
  const swarm = config.providers.swarm;
  if (swarm !== undefined) {
    out.push(
      new SwarmProvider(
        {
          endpoint: swarm.endpoint,
          exposedByDefault: swarm.exposedByDefault,
          network: swarm.network,
          refreshSeconds: swarm.refreshSeconds,
          defaultRule: swarm.defaultRule,
          constraints: swarm.constraints,
          watch: swarm.watch,
        },
        log,
      ),
    );
  }
  return out;
}
