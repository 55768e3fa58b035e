// The users of basicAuth and digestAuth as Traefik reads them: the lines of
// `usersFile` first, then `users`, so a user in both is the one in `users`;
// and what both do to a request they let through.
import { readFileSync } from 'node:fs';
import { removeLine, setLine } from './header-lines.js';
import { list, text } from './options.js';
import { MiddlewareError, type ForwardedRequest } from './types.js';

/** The lines that say something: trimmed, without blanks and # comments. */
function meaningful(lines: readonly string[]): string[] {
  return lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** user (or user:realm) -> stored hash; `entries` checks each kind's line format, given meaningful lines only. */
export function authUsers(o: ReadonlyMap<string, unknown>, kind: string, entries: (lines: readonly string[], at: string) => [string, string][]): Map<string, string> {
  const users = new Map<string, string>();
  if (o.has('usersFile')) {
    const file = text(o.get('usersFile'), `${kind}.usersFile`);
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      throw new MiddlewareError(`${kind}.usersFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    for (const [u, h] of entries(meaningful(content.split('\n')), `${kind}.usersFile ${file}`)) users.set(u, h);
  }
  if (o.has('users')) for (const [u, h] of entries(meaningful(list(o.get('users'), `${kind}.users`)), `${kind}.users`)) users.set(u, h);
  if (users.size === 0) throw new MiddlewareError(`${kind} needs users or usersFile`);
  return users;
}

/** A user let through: the credentials removed (removeHeader), the user's name passed on in headerField. */
export function acceptUser(req: ForwardedRequest, user: string, removeHeader: boolean, headerField: string): null {
  if (removeHeader) req.lines = removeLine(req.lines, 'authorization');
  if (headerField !== '') req.lines = setLine(req.lines, headerField, user);
  return null;
}
