// Static configuration: types, parsing, errors.
export type {
  EntryPointConfig,
  FileProviderConfig,
  StaticConfig,
  SwarmDialect,
  SwarmStaticConfig,
  TransportConfig,
} from './static.js';
export { ConfigUsageError, HelpRequested } from './errors.js';
export { helpText, parseStaticConfig, staticConfigForCli, type CliOutput } from './parse.js';
export { formatOf, parseSource, SourceError, type ParsedSource, type Position } from './source.js';
