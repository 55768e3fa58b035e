// What every provider of dynamic configuration implements.
import type { ConfigError, DynamicConfig } from '../dynamic/model.js';

/** A source of dynamic configuration (file, swarm). */
export interface Provider {
  readonly name: string;
  start(emit: (config: DynamicConfig, errors: ConfigError[]) => void): Promise<void>;
  stop(): Promise<void> | void;
}
