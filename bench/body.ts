// What the bench backends answer, and what the load generator expects back
// through each proxy (a response with any other body counts as a mismatch).
// Bodies are BODY repeated and cut to size, so every proxy must deliver the
// bytes in order; sizes are chosen by path.

export const BODY = 'Hello from backend!\n';

/** GET /bytes/<n>: n bytes of bodyOf(n). GET / (and any other path): BODY. */
export const bytesPath = (n: number): string => `/bytes/${n}`;
/** POST /upload/<n>: the backend reads the whole request body and answers BODY when it got n bytes, 400 otherwise. */
export const uploadPath = (n: number): string => `/upload/${n}`;

export function bodyOf(n: number): string {
  return BODY.repeat(Math.ceil(n / BODY.length)).slice(0, n);
}

/** One case of the matrix: what is asked for and what must come back. */
export interface BodyCase {
  /** As written in --bodies and in the report: 20, 16k, 1m, post16k. */
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Request body bytes (POST), 0 for GET. */
  requestBytes: number;
  /** Response body bytes expected. */
  responseBytes: number;
}

/** "20", "16k", "1m", "post16k" (any size: 512, 64k, 2m, post1m ...). */
export function parseBodyCase(name: string): BodyCase {
  const m = /^(post)?(\d+)([km]?)$/i.exec(name.trim());
  if (m === null) throw new Error(`bad body case ${JSON.stringify(name)} (examples: 20, 16k, 1m, post16k)`);
  const unit = { '': 1, k: 1024, m: 1024 * 1024 }[m[3]!.toLowerCase() as '' | 'k' | 'm'];
  const n = Number(m[2]) * unit;
  if (n < 1 || n > 64 * 1024 * 1024) throw new Error(`body case ${name}: size must be 1 byte to 64 MiB`);
  const label = name.trim().toLowerCase();
  return m[1] === undefined
    ? { name: label, method: 'GET', path: bytesPath(n), requestBytes: 0, responseBytes: n }
    : { name: label, method: 'POST', path: uploadPath(n), requestBytes: n, responseBytes: BODY.length };
}

/** "16k" -> "GET 16 KiB", "post16k" -> "POST 16 KiB". */
export function bodyText(body: string): string {
  try {
    const b = parseBodyCase(body);
    const size = (n: number) => (n >= 1 << 20 && n % (1 << 20) === 0 ? `${n >> 20} MiB` : n >= 1024 && n % 1024 === 0 ? `${n >> 10} KiB` : `${n} B`);
    return b.method === 'POST' ? `POST ${size(b.requestBytes)}` : `GET ${size(b.responseBytes)}`;
  } catch {
    return body;
  }
}
