import { z } from 'zod';

/**
 * Builders for environment flags. Each builder returns a zod schema that takes the raw env string and
 * registers its documentation (area, type, default, description) in `flagRegistry`, so the schema is the one
 * source for parsing, `docs/FEATURE_FLAGS.md` and `.env.example`.
 *
 * Defaults are written as env strings and applied with `.prefault()`, which runs them through the same
 * parser as a real value: the documented default is exactly what an operator would type.
 * Every builder reports one message per flag ("expected …"), whatever the failure, so the start-up error
 * says what a good value looks like instead of zod's internal view of it.
 */

/** Documentation areas, in the order the docs print them. */
export const FLAG_AREAS = {
  mode: 'Mode and runtime',
  network: 'Listeners',
  paths: 'Files and directories',
  auth: 'Auth and external events',
  trading: 'Trading and executor',
  rails: 'Risk rails and breakers',
  guards: 'Guards (depeg, funding, stop validator)',
  strategies: 'Strategies, scanner and allocation',
  notify: 'Telegram notifications',
  venues: 'Venues and credentials',
  sim: 'Exchange simulator (paper mode)',
  supervision: 'Supervision',
} as const;

export type FlagArea = keyof typeof FLAG_AREAS;

export interface FlagMeta {
  area: FlagArea;
  description: string;
  /** Human type, e.g. `integer 1..65535`, `boolean`, `paper \| live`. */
  type: string;
  /** Default as an env string; for derived defaults a `$VAR/…` template; absent = unset. */
  default?: string;
  /** Never echo the value (error messages, docs). */
  secret?: boolean;
}

export const flagRegistry = z.registry<FlagMeta>();

type Range = { min?: number; max?: number };

function rangeText(r: Range): string {
  if (r.min !== undefined && r.max !== undefined) return `${r.min}..${r.max}`;
  if (r.min !== undefined) return `≥ ${r.min}`;
  if (r.max !== undefined) return `≤ ${r.max}`;
  return '';
}

function register<T extends z.ZodType>(schema: T, meta: FlagMeta): T {
  flagRegistry.add(schema, meta);
  return schema;
}

const INT_RE = /^-?\d+$/;
const NUM_RE = /^-?(\d+(\.\d*)?|\.\d+)$/;

function numeric(kind: 'integer' | 'number', r: Range) {
  const re = kind === 'integer' ? INT_RE : NUM_RE;
  const what = kind === 'integer' ? 'an integer' : 'a number';
  const range = rangeText(r);
  const expected = `expected ${what}${range === '' ? '' : range.includes('..') ? ` in ${range}` : ` ${range}`}`;
  return z.string().transform((s, ctx) => {
    const n = Number(s);
    // A strict pattern instead of z.coerce.number: coerce accepts "0x10", "1e3" and " " (= 0).
    const ok =
      re.test(s) && Number.isFinite(n) && (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
    if (!ok) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return n;
  });
}

/** A boolean flag (z.stringbool: true/false, 1/0, yes/no, on/off, y/n, enabled/disabled; case-insensitive). */
function bool(area: FlagArea, def: boolean, description: string) {
  const schema = z
    .stringbool({ error: 'expected a boolean: true or false (also 1/0, yes/no, on/off)' })
    .prefault(String(def));
  return register(schema, { area, description, type: 'boolean', default: String(def) });
}

/** An integer flag within a range. */
function int(area: FlagArea, def: number, r: Range, description: string) {
  const type = `integer ${rangeText(r)}`.trim();
  return register(numeric('integer', r).prefault(String(def)), { area, description, type, default: String(def) });
}

/** A decimal flag within a range. */
function num(area: FlagArea, def: number, r: Range, description: string) {
  const type = `number ${rangeText(r)}`.trim();
  return register(numeric('number', r).prefault(String(def)), { area, description, type, default: String(def) });
}

/** One of a fixed set of lowercase values (input is case-insensitive). */
function oneOf<const V extends readonly [string, ...string[]]>(
  area: FlagArea,
  values: V,
  def: V[number],
  description: string,
) {
  const expected = `expected one of: ${values.join(', ')}`;
  const schema = z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { error: expected }))
    .prefault(def);
  return register(schema, { area, description, type: values.join(' | '), default: def });
}

/** A free string with an optional pattern; `def` undefined means the flag may stay unset. */
function str(
  area: FlagArea,
  def: string,
  description: string,
  opts?: { pattern?: RegExp; expected?: string; type?: string },
) {
  const base = opts?.pattern ? z.string().regex(opts.pattern, opts.expected ?? 'invalid value') : z.string();
  return register(base.prefault(def), { area, description, type: opts?.type ?? 'string', default: def });
}

/** An optional string (unset = undefined), e.g. a secret. */
function optionalStr(
  area: FlagArea,
  description: string,
  opts?: { secret?: boolean; pattern?: RegExp; expected?: string; type?: string },
) {
  const base = opts?.pattern ? z.string().regex(opts.pattern, opts.expected ?? 'invalid value') : z.string();
  const meta: FlagMeta = { area, description, type: opts?.type ?? 'string' };
  if (opts?.secret) meta.secret = true;
  return register(base.optional(), meta);
}

/** An http(s) URL, with or without a default. */
function url(area: FlagArea, def: string | undefined, description: string) {
  const base = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. https://host:port' });
  if (def === undefined) return register(base.optional(), { area, description, type: 'URL' });
  return register(base.prefault(def), { area, description, type: 'URL', default: def });
}

/** A path whose default is derived from another flag (`$STATE_DIR/db`); resolved by the env schema. */
function derivedPath(area: FlagArea, from: string, suffix: string, description: string) {
  return register(z.string().optional(), { area, description, type: 'path', default: `$${from}/${suffix}` });
}

/** A comma list of items, trimmed, de-duplicated, normalised by `norm`, each checked by `item`. */
function list<T extends string>(
  area: FlagArea,
  def: string | undefined,
  description: string,
  opts: {
    norm: (s: string) => string;
    item: z.ZodType<T, string>;
    expected: string;
    type: string;
    /** Document `def` but leave the value unset so the schema can resolve it (legacy aliases). */
    defaultAppliedLater?: boolean;
  },
) {
  const base = z
    .string()
    .transform((s) => [...new Set(s.split(',').map((x) => opts.norm(x.trim())))].filter((x) => x.length > 0))
    .pipe(z.array(opts.item, { error: opts.expected }).min(1, opts.expected));
  const meta: FlagMeta = { area, description, type: opts.type };
  if (def === undefined) return register(base.optional(), meta);
  if (opts.defaultAppliedLater) return register(base.optional(), { ...meta, default: def });
  return register(base.prefault(def), { ...meta, default: def });
}

export const flag = { bool, int, num, oneOf, str, optionalStr, url, derivedPath, list };

/** The registered documentation of a flag schema (throws if a field was built without `flag.*`). */
export function flagMeta(name: string, schema: z.ZodType): FlagMeta {
  const meta = flagRegistry.get(schema);
  if (meta === undefined) throw new Error(`env flag ${name} has no documentation; build it with flag.*`);
  return meta;
}
