// Pending HTTP-01 challenges: token -> key authorization. The instance that
// orders writes each challenge into a folder beside the shared acme.json;
// every instance reads that folder, so the CA's request is answered by
// whichever manager it reaches.
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class ChallengeBoard {
  private readonly local = new Map<string, string>();
  private published = '';

  /** `dirs`: the shared challenge folders (one per storage file); `publish` gets every pending challenge. */
  constructor(
    private readonly dirs: readonly string[],
    private readonly publish: (challenges: [string, string][]) => void,
  ) {}

  add(dir: string, token: string, keyAuthorization: string): void {
    if (!TOKEN.test(token)) throw new Error(`unexpected challenge token ${JSON.stringify(token)}`);
    this.local.set(token, keyAuthorization);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, token), keyAuthorization, { mode: 0o600 });
    this.refresh();
  }

  remove(dir: string, token: string): void {
    this.local.delete(token);
    try {
      unlinkSync(join(dir, token));
    } catch {
      /* gone already */
    }
    this.refresh();
  }

  /** Reads the shared folders again; publishes when the set changed. */
  refresh(): void {
    const all = new Map(this.local);
    for (const dir of this.dirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const token of names) {
        if (!TOKEN.test(token) || all.has(token)) continue;
        try {
          all.set(token, readFileSync(join(dir, token), 'utf8'));
        } catch {
          /* removed meanwhile */
        }
      }
    }
    const list = [...all].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const key = JSON.stringify(list);
    if (key === this.published) return;
    this.published = key;
    this.publish(list);
  }
}
