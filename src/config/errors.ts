// Errors raised while building the static configuration.

/**
 * A problem with what the user gave us (unknown flag, bad value, unreadable
 * config file). The message names the flag, variable or file key at fault.
 */
export class ConfigUsageError extends Error {
  constructor(
    message: string,
    /** Process exit code the CLI should use. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'ConfigUsageError';
  }
}

/** Thrown by parseStaticConfig when --help/-h is given; `text` is the help. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}
