// One row of the static settings table (flags.ts): a Traefik flag, how --help
// shows it, and how its value lands in the draft. Rows are written next to
// the settings they fill in (swarm.ts, tls.ts, ...); `D` is the part of the
// draft a row writes, so those modules need not import flags.ts.

export interface FlagSpec<D> {
  /** Canonical spelling, dotted, without dashes; a `<name>` segment matches any user-chosen name. */
  readonly flag: string;
  /** 'boolean' flags may be given bare (`--ping`); 'string' flags take a value. */
  readonly type: 'boolean' | 'string';
  /** Heading in --help. */
  readonly group: string;
  readonly describe: string;
  /** Default as shown in --help. */
  readonly defaultText?: string;
  /** Left out of --help (still accepted). */
  readonly hidden?: boolean;
  /** Not accepted in the config file. */
  readonly notInFile?: boolean;
  /** May be given several times on the command line; apply() then gets every value, in order. */
  readonly repeatable?: boolean;
  /** Convert `raw` and store it; throws ConfigUsageError naming `what`. `names` fills the `<name>` segments, then the `[]` indexes. */
  apply(draft: D, raw: unknown, names: readonly string[], what: string): void;
}
