// Reading configuration text (YAML or JSON) with positions for error
// messages. Shared by the static config file and the file provider.
import { extname } from 'node:path';
import jsyaml from 'js-yaml';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** A file that cannot be read or parsed; `message` is "file:line:col: reason". */
export class SourceError extends Error {
  readonly line?: number;
  readonly column?: number;
  constructor(
    readonly file: string,
    readonly reason: string,
    position?: Position,
  ) {
    super(position ? `${file}:${position.line}:${position.column}: ${reason}` : `${file}: ${reason}`);
    this.name = 'SourceError';
    this.line = position?.line;
    this.column = position?.column;
  }
}

export type SourceFormat = 'yaml' | 'json';

/** The format of a file by its extension, or undefined for extensions we do not read. */
export function formatOf(file: string): SourceFormat | 'toml' | undefined {
  switch (extname(file).toLowerCase()) {
    case '.yml':
    case '.yaml':
      return 'yaml';
    case '.json':
      return 'json';
    case '.toml':
      return 'toml';
    default:
      return undefined;
  }
}

export interface ParsedSource {
  /** Plain data; null for an empty document. */
  data: unknown;
  /** Where the value at `path` (keys as written) starts, when known. */
  positionOf(path: readonly (string | number)[]): Position | undefined;
}

/**
 * Parses `text` read from `file`. JSON for ".json", YAML otherwise; TOML is
 * refused with a clear message. Throws SourceError with line and column.
 */
export function parseSource(text: string, file: string): ParsedSource {
  const format = formatOf(file);
  if (format === 'toml') {
    throw new SourceError(file, 'TOML is not supported; write the configuration as YAML (.yml/.yaml) or JSON');
  }
  return format === 'json' ? parseJson(text, file) : parseYaml(text, file);
}

// js-yaml reads a 3 MB file of 10,000 routers in ~0.2 s where the yaml
// package, which keeps every node's source range, takes ~5 s and leaves
// hundreds of MB of garbage. So data comes from js-yaml; the yaml package
// is used only when positions are wanted (an error to report).
// Core schema (no timestamps), plus merge keys as the yaml package is configured. `types` is exported but missing from @types/js-yaml.
const FAST_SCHEMA = jsyaml.CORE_SCHEMA.extend({ implicit: [(jsyaml as unknown as { types: { merge: jsyaml.Type } }).types.merge] });
/** Alias expansion allowed beyond the document's own size, as the yaml package's maxAliasCount guards it. */
const MAX_ALIAS_COUNT = 1000;

function parseYaml(text: string, file: string): ParsedSource {
  let data: unknown;
  try {
    data = jsyaml.load(text, { schema: FAST_SCHEMA, filename: file });
  } catch {
    // Described by the yaml package, with the same messages and positions as before.
    const parsed = parseYamlDocument(text, file);
    return { data: parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown, positionOf: positionsOf(parsed) };
  }
  // Aliases share objects; a document that expands to far more nodes than it
  // has characters is an alias bomb, refused by the yaml package.
  if (expandsBeyond(data, text.length + MAX_ALIAS_COUNT)) {
    const { doc } = parseYamlDocument(text, file);
    try {
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      throw new SourceError(file, (err as Error).message);
    }
  }
  let positions: ParsedSource['positionOf'] | null = null;
  return {
    data: data ?? null,
    positionOf: (path) => {
      positions ??= positionsOf(parseYamlDocument(text, file));
      return positions(path);
    },
  };
}

/** The yaml package's document; throws SourceError at its first error. */
function parseYamlDocument(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  const first = doc.errors[0];
  if (first) {
    const p = lines.linePos(first.pos[0]);
    throw new SourceError(file, first.message, { line: p.line, column: p.col });
  }
  return { doc, lines };
}

function positionsOf({ doc, lines }: { doc: Document; lines: LineCounter }): ParsedSource['positionOf'] {
  return (path) => {
    const node = nodeAt(doc, path);
    if (!node?.range) return undefined;
    const p = lines.linePos(node.range[0]);
    return { line: p.line, column: p.col };
  };
}

/** True when walking `data` (aliases followed) visits more than `budget` values. */
function expandsBeyond(data: unknown, budget: number): boolean {
  let left = budget;
  const walk = (v: unknown): boolean => {
    if (--left < 0) return true;
    if (v === null || typeof v !== 'object') return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (walk(child)) return true;
    return false;
  };
  return walk(data);
}

function nodeAt(doc: Document, path: readonly (string | number)[]): { range?: [number, number, number] | null } | undefined {
  const node: unknown = doc.getIn(path, true);
  return isNode(node) ? node : undefined;
}

function parseJson(text: string, file: string): ParsedSource {
  if (text.trim() === '') return { data: null, positionOf: () => undefined };
  try {
    return { data: JSON.parse(text) as unknown, positionOf: () => undefined };
  } catch (err) {
    const message = (err as Error).message;
    throw new SourceError(file, message.replace(/ in JSON at position \d+.*$/, ''), jsonErrorPosition(text, message));
  }
}

/** V8 reports "at position N" (and, in newer versions, "(line L column C)"). */
function jsonErrorPosition(text: string, message: string): Position {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(message);
  const offset = pos ? Number(pos[1]) : text.length;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
