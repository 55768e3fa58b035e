// One-shot loading for the file provider: read `filename`, or every
// configuration file under `directory`, and normalize it into a DynamicConfig.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatOf, parseSource, SourceError } from '../config/source.js';
import type { FileProviderConfig } from '../config/static.js';
import { emptyDynamicConfig, type ConfigError, type DynamicConfig, type HttpConfig } from '../dynamic/model.js';
import { normalizeDynamicConfig } from '../dynamic/normalize.js';

export const PROVIDER_NAME = 'file';

export interface FileLoadResult {
  config: DynamicConfig;
  /** Elements left out, and why. */
  errors: ConfigError[];
  /** Ignored sections and keys. */
  warnings: string[];
  /** The files read, in merge order. */
  files: string[];
}

/**
 * Reads the configuration the file provider points at. Throws SourceError
 * (with line and column when the parser gives them) when a file cannot be
 * read or parsed: the caller should then keep its previous configuration.
 */
export async function loadFileProviderConfig(config: FileProviderConfig): Promise<FileLoadResult> {
  if (config.directory !== undefined) return loadDirectory(resolve(config.directory));
  if (config.filename !== undefined) {
    const file = resolve(config.filename);
    const { config: dynamic, errors, warnings } = await loadOne(file);
    return { config: dynamic, errors, warnings, files: [file] };
  }
  throw new Error('file provider: neither filename nor directory is set');
}

async function loadOne(file: string): Promise<Omit<FileLoadResult, 'files'>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SourceError(file, `cannot read: ${(err as Error).message}`);
  }
  const { data } = parseSource(text, file);
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    // Most likely a file that is not configuration at all: treat like a syntax error.
    throw new SourceError(file, 'expected a mapping at the top level (http: ...)', { line: 1, column: 1 });
  }
  return normalizeDynamicConfig(data, { provider: PROVIDER_NAME, source: file });
}

/** Configuration files under `dir`, recursively, sorted; dot entries skipped (editor files, Kubernetes' ..data). */
async function listFiles(dir: string, seen = new Set<string>()): Promise<{ files: string[]; skipped: string[] }> {
  const real = await realpath(dir);
  if (seen.has(real)) return { files: [], skipped: [] };
  seen.add(real);
  const files: string[] = [];
  const skipped: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      const sub = await listFiles(path, seen);
      files.push(...sub.files);
      skipped.push(...sub.skipped);
    } else if (isFile) {
      const format = formatOf(path);
      if (format === 'yaml' || format === 'json') files.push(path);
      else if (format === 'toml') skipped.push(path);
    }
  }
  return { files, skipped };
}

type Section = keyof HttpConfig;
const SECTIONS: readonly { key: Section; kind: 'router' | 'service' | 'middleware' | 'serversTransport' }[] = [
  { key: 'routers', kind: 'router' },
  { key: 'services', kind: 'service' },
  { key: 'middlewares', kind: 'middleware' },
  { key: 'serversTransports', kind: 'serversTransport' },
];

async function loadDirectory(dir: string): Promise<FileLoadResult> {
  let listing;
  try {
    listing = await listFiles(dir);
  } catch (err) {
    throw new SourceError(dir, `cannot read directory: ${(err as Error).message}`);
  }
  const result: FileLoadResult = { config: emptyDynamicConfig(), errors: [], warnings: [], files: listing.files };
  for (const file of listing.skipped) {
    result.errors.push({ provider: PROVIDER_NAME, message: `${file}: TOML is not supported (use YAML or JSON); file skipped` });
  }
  // Each file is normalized on its own; then elements are merged by name. A
  // name defined identically in several files is fine; defined differently,
  // it is ambiguous and left out with an error naming the files.
  const origin = new Map<string, { file: string; json: string }>();
  const conflicts = new Map<string, { kind: (typeof SECTIONS)[number]['kind']; key: Section; name: string; files: string[] }>();
  for (const file of listing.files) {
    const one = await loadOne(file);
    result.errors.push(...one.errors);
    result.warnings.push(...one.warnings);
    // Certificates add up across files, as in Traefik; the first default certificate wins.
    if (one.config.tls !== undefined) {
      const tls = (result.config.tls ??= {});
      if (one.config.tls.certificates !== undefined) (tls.certificates ??= []).push(...one.config.tls.certificates);
      if (one.config.tls.defaultCertificate !== undefined) {
        if (tls.defaultCertificate === undefined) tls.defaultCertificate = one.config.tls.defaultCertificate;
        else result.errors.push({ provider: PROVIDER_NAME, element: { kind: 'certificate', name: 'defaultCertificate' }, message: `${file}: a second tls.stores.default.defaultCertificate; the first one is kept` });
      }
    }
    for (const { key, kind } of SECTIONS) {
      const target = (result.config.http[key] ??= {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(one.config.http[key] ?? {})) {
        const id = `${kind}\u0000${name}`;
        const json = JSON.stringify(value);
        const first = origin.get(id);
        if (!first) {
          origin.set(id, { file, json });
          Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
        } else if (first.json !== json) {
          const conflict = conflicts.get(id) ?? { kind, key, name, files: [first.file] };
          conflict.files.push(file);
          conflicts.set(id, conflict);
        }
      }
    }
  }
  for (const { kind, key, name, files } of conflicts.values()) {
    delete (result.config.http[key] as Record<string, unknown>)[name];
    result.errors.push({
      provider: PROVIDER_NAME,
      element: { kind, name },
      message: `${kind} "${name}" is defined differently in ${files.join(' and ')}; left out`,
    });
  }
  return result;
}
