import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { DestinationStream } from 'pino';
import pino from 'pino';

export type Logger = pino.Logger;

/** Key names whose values are secrets wherever they appear in a log object (any depth). */
const SECRET_KEYS = new Set([
  'apikey',
  'api_key',
  'secret',
  'secretkey',
  'token',
  'password',
  'passphrase',
  'signature',
  'authorization',
  'x-ops-token',
  'x-events-signature',
  'x-mbx-apikey',
  'api-key',
  'api-sign',
  'ops_api_token',
  'external_events_secret',
  'telegram_bot_token',
  'binance_api_key',
  'binance_api_secret',
  'kraken_api_key',
  'kraken_api_secret',
  'bottoken',
  'privatekey',
]);

export const REDACTED = '[REDACTED]';

/** Fast path redaction by pino's compiled paths; `scrub` below is the safety net for deeper nesting. */
const REDACT_PATHS = [
  ...[...SECRET_KEYS].flatMap((k) => [`["${k}"]`, `*["${k}"]`]),
  'req.headers["x-ops-token"]',
  'req.headers["x-events-signature"]',
  'req.headers.authorization',
];

function isSecretKey(k: string): boolean {
  const l = k.toLowerCase();
  return SECRET_KEYS.has(l) || l.endsWith('_secret') || l.endsWith('_token') || l.endsWith('apikey');
}

/** Deep copy with secret-named keys replaced; bounded depth so a cyclic object cannot hang logging. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretKey(k) ? REDACTED : scrub(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** Directory for app.log (rotated by size and by day). Omit to log to stdout only. */
  logDir?: string;
  /** Human-readable output on stdout (when attached to a terminal). */
  pretty?: boolean;
  /** Rotate app.log past this many bytes. */
  rotateBytes?: number;
  /** Rotated files kept. */
  keepFiles?: number;
  /** Write here instead of stdout/file (tests). */
  stream?: DestinationStream;
  /** Also echo to stdout (default true). */
  stdout?: boolean;
}

const DEFAULTS = { level: 'info', rotateBytes: 20 * 1024 * 1024, keepFiles: 14, pretty: false } as const;

export interface RootLogger {
  log: Logger;
  /** Synchronously flushes every destination (used on the crash path before exit). */
  flushSync(): void;
}

/** Builds the one pino root; every actor logs through `log.child({ actor: id })`. */
export function createLogger(opts: LoggerOptions = {}): RootLogger {
  const level = opts.level ?? DEFAULTS.level;
  const base: pino.LoggerOptions = {
    level,
    base: { app: 'bosun' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.stream) return { log: pino(base, opts.stream), flushSync: () => {} };
  const streams: pino.StreamEntry[] = [];
  const flushers: Array<() => void> = [];
  if (opts.logDir) {
    const file = new RotatingFile(
      join(opts.logDir, 'app.log'),
      opts.rotateBytes ?? DEFAULTS.rotateBytes,
      opts.keepFiles ?? DEFAULTS.keepFiles,
    );
    streams.push({ level: level as pino.Level, stream: file });
    flushers.push(() => file.flushSync());
  }
  if (opts.stdout !== false) {
    if (opts.pretty) {
      // Loaded only for a terminal: it costs ~40 ms of startup that a service under a supervisor never needs.
      const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
      streams.push({
        level: level as pino.Level,
        stream: pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', sync: true }),
      });
    } else {
      const out = pino.destination({ dest: 1, sync: true });
      streams.push({ level: level as pino.Level, stream: out });
    }
  }
  const log = pino(base, pino.multistream(streams));
  return {
    log,
    flushSync: () => {
      for (const f of flushers) {
        try {
          f();
        } catch {
          // nothing useful to do while crashing
        }
      }
    },
  };
}

/**
 * app.log with rotation by size and by calendar day (UTC): the live file keeps its runbook name, rotated
 * files are `app.log.<YYYY-MM-DD>.<n>`. Synchronous writes so a crash loses no line.
 */
export class RotatingFile {
  private fd: number;
  private size: number;
  private day: string;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
    private readonly today: () => string = () => new Date().toISOString().slice(0, 10),
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.size = existsSync(path) ? statSync(path).size : 0;
    this.day = existsSync(path) ? statSync(path).mtime.toISOString().slice(0, 10) : this.today();
  }

  write(chunk: string): boolean {
    const day = this.today();
    if (this.size > 0 && (this.size + Buffer.byteLength(chunk) > this.maxBytes || day !== this.day)) this.rotate();
    this.day = day;
    this.size += writeSync(this.fd, chunk);
    return true;
  }

  flushSync(): void {
    fsyncSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    const prefix = `${basename(this.path)}.${this.day}.`;
    const dir = dirname(this.path);
    const existing = readdirSync(dir).filter((f) => f.startsWith(prefix));
    renameSync(this.path, join(dir, `${prefix}${existing.length + 1}`));
    const rotated = readdirSync(dir)
      .filter((f) => f.startsWith(`${basename(this.path)}.`))
      .sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs || a.localeCompare(b));
    for (const f of rotated.slice(0, Math.max(0, rotated.length - this.keep))) rmSync(join(dir, f), { force: true });
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}
