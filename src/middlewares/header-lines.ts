// Editing headers where the request path keeps them: the forwarded request's
// "name: value\r\n" lines (names lower-cased), and a response head's flat
// [name, value, ...] list (names as the server sent them).

/** `lines` without any `name` line (name lower-cased). */
export function removeLine(lines: string, name: string): string {
  const prefix = `${name}:`;
  if (!lines.startsWith(prefix) && !lines.includes(`\n${prefix}`)) return lines;
  return lines
    .split('\r\n')
    .filter((l) => !l.startsWith(prefix))
    .join('\r\n');
}

/** The first value of `name` (lower-cased) in `lines`, trimmed, or ''. */
export function lineValue(lines: string, name: string): string {
  const first = `${name}:`;
  let start = first.length;
  if (!lines.startsWith(first)) {
    const at = lines.indexOf(`\n${first}`);
    if (at < 0) return '';
    start = at + 1 + first.length;
  }
  const end = lines.indexOf('\r\n', start);
  return lines.slice(start, end < 0 ? lines.length : end).trim();
}

/** `lines` with `name` set to `value` alone. */
export function setLine(lines: string, name: string, value: string): string {
  return `${removeLine(lines, name)}${name}: ${value}\r\n`;
}

export function removeHeader(headers: string[], name: string): void {
  const lower = name.toLowerCase();
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === lower) headers.splice(i, 2);
}

export function setHeader(headers: string[], name: string, value: string): void {
  removeHeader(headers, name);
  headers.push(name, value);
}

export function getHeader(headers: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lower) return headers[i + 1];
  return undefined;
}
