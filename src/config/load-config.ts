import { parseEnv } from 'node:util';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { type EnvConfig, EnvSchema, EnvShape } from './env.schema.js';
import { flagMeta } from './env-flag.js';

export { ConfigError } from './config-error.js';

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated, frozen configuration from env flags. Keys are the env names (`config.OPS_PORT`). */
export type Config = DeepReadonly<EnvConfig>;

/** Every env flag name the schema knows, in schema order. */
export const ENV_FLAG_NAMES: readonly string[] = Object.keys(EnvShape);

const KNOWN = new Set(ENV_FLAG_NAMES);

/** Parses `.env` text (KEY=value lines, `#` comments, quotes, `export ` prefix; no `${VAR}` expansion). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) out[k] = v;
  return out;
}

/** Names that are not Bosun flags (typos in `.env`, e.g. `TRADING_ENABLE`), for a start-up warning. */
export function unknownFlagNames(names: Iterable<string>): string[] {
  return [...names].filter((n) => !KNOWN.has(n));
}

/** A value is set only if it has something besides whitespace (compose's `VAR=${VAR}` yields ""). */
function present(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * Validates the env flags and returns the frozen config. `env` wins over `.env` (`dotenvText`); an empty
 * value counts as unset. Throws `ConfigError` naming every bad variable and what was expected.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, dotenvText?: string): Config {
  const dot = dotenvText === undefined ? {} : parseDotEnv(dotenvText);
  const raw: Record<string, string> = {};
  const fromDotEnv = new Set<string>();
  for (const name of ENV_FLAG_NAMES) {
    const own = present(env[name]);
    const file = present(dot[name]);
    if (own !== undefined) raw[name] = own;
    else if (file !== undefined) {
      raw[name] = file;
      fromDotEnv.add(name);
    }
  }
  const r = EnvSchema.safeParse(raw);
  if (!r.success) throw configErrorFrom(r.error, raw, fromDotEnv);
  return deepFreeze(r.data) as Config;
}

function describeValue(name: string, raw: Record<string, string>, fromDotEnv: Set<string>): string {
  const v = raw[name];
  if (v === undefined) return `${name} (unset)`;
  const schema = (EnvShape as Record<string, z.ZodType>)[name];
  const secret = schema !== undefined && flagMeta(name, schema).secret === true;
  const shown = secret ? '<redacted>' : JSON.stringify(v);
  return `${name}=${shown}${fromDotEnv.has(name) ? ' (from .env)' : ''}`;
}

function configErrorFrom(err: z.ZodError, raw: Record<string, string>, fromDotEnv: Set<string>): ConfigError {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const i of err.issues) {
    const name = String(i.path[0] ?? '(config)');
    const key = `${name}\0${i.message}`;
    if (seen.has(key)) continue; // a bad list reports once, not once per item
    seen.add(key);
    issues.push({ path: name, message: i.message });
  }
  const lines = issues.map((i) => `  ✖ ${describeValue(i.path, raw, fromDotEnv)}: ${i.message}`);
  const n = issues.length;
  const message = `Invalid configuration (${n} problem${n === 1 ? '' : 's'}; see docs/FEATURE_FLAGS.md):\n${lines.join('\n')}`;
  return new ConfigError(message, issues, { cause: err });
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
