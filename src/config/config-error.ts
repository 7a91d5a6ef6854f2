/** One problem with one configuration value: the variable (or file path) and what was expected. */
export interface ConfigIssue {
  /** Env variable name, or the dotted path inside a file (`limits.max_notional_usdt`). */
  path: string;
  message: string;
}

/**
 * A bad environment value. Thrown by `loadConfig` before any actor starts; the message lists every bad
 * variable with what was expected, so main.ts prints it and exits non-zero.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.issues = issues;
  }
}

/** What stays in force after a bad file: its last good version, the schema defaults, or nothing yet. */
export type ConfigFallback = 'last-good' | 'default' | 'none';

const FALLBACK_TEXT: Record<ConfigFallback, string> = {
  'last-good': 'keeping the last good version',
  default: 'using defaults',
  none: 'no valid version yet',
};

/** A hot-reloaded file that failed to read, parse or validate; the last good version stays in force. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  readonly code = 'CONFIG_INVALID';
  /** Logical name of the file (`policies`). */
  readonly file: string;
  readonly path: string;
  readonly issues: readonly ConfigIssue[];
  readonly fallback: ConfigFallback;

  constructor(
    file: string,
    path: string,
    issues: readonly ConfigIssue[],
    options: { cause?: unknown; fallback?: ConfigFallback } = {},
  ) {
    const fallback = options.fallback ?? 'last-good';
    const lines = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
    super(`${path}: ${lines.join('; ')}; ${FALLBACK_TEXT[fallback]}`, { cause: options.cause });
    this.file = file;
    this.path = path;
    this.issues = issues;
    this.fallback = fallback;
  }
}
