// Reading configuration text (YAML or JSON) with positions for error
// messages. Shared by the static config file and the file provider.
import { extname } from 'node:path';
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

function parseYaml(text: string, file: string): ParsedSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  const at = (offset: number): Position => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const first = doc.errors[0];
  if (first) throw new SourceError(file, first.message, at(first.pos[0]));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new SourceError(file, (err as Error).message);
  }
  return {
    data: data ?? null,
    positionOf: (path) => {
      const node = nodeAt(doc, path);
      return node?.range ? at(node.range[0]) : undefined;
    },
  };
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
