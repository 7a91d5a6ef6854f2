import { AppError } from './errors.js';

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Normalises a value to plain JSON before it is stored, so that what LMDB holds, what the JSONL mirror shows and
 * what a hash covers are the same thing (msgpack would otherwise keep `Date`, `Map`, `undefined`, which JSON drops).
 * Throws VALIDATION_FAILED for values JSON cannot hold (cycles, BigInt): bad input, not a store failure.
 *
 * The result is always a fresh copy equal to `JSON.parse(JSON.stringify(value))`. Values that are already plain
 * JSON (the usual case: object literals of strings and numbers) are copied in one pass without the intermediate
 * text, which was a third of the journal's own append cost (bench/journal.bench.ts); anything else (a `Date`, a
 * class instance, `toJSON`, BigInt, a cycle) goes through `JSON.stringify` itself, so its rules stay the only rules.
 */
export function toJson(value: unknown, what: string): Json {
  let copy: Json | undefined;
  try {
    copy = plainCopy(value, 0);
  } catch {
    // A throwing getter or a revoked proxy: the slow path below reports it as JSON.stringify would.
    copy = undefined;
  }
  return copy === undefined ? viaText(value, what) : copy;
}

function viaText(value: unknown, what: string): Json {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new AppError('VALIDATION_FAILED', `${what} is not JSON-serialisable`, { cause: e });
  }
  if (text === undefined) throw new AppError('VALIDATION_FAILED', `${what} is not JSON-serialisable`);
  return JSON.parse(text) as Json;
}

/** Deeper than this, the text path decides (it also reports cycles, which would otherwise recurse forever). */
const PLAIN_COPY_MAX_DEPTH = 64;

/**
 * A copy of `value` exactly as `JSON.parse(JSON.stringify(value))` would build it, or `undefined` when `value`
 * holds anything whose JSON form is not a straight copy (then the caller takes the text path). Only the
 * conversions that are plain to state are done here: a non-finite number becomes null, -0 becomes 0, an
 * undefined/function/symbol member is dropped from an object and becomes null in an array.
 */
function plainCopy(value: unknown, depth: number): Json | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'object': {
      if (value === null) return null;
      if (depth >= PLAIN_COPY_MAX_DEPTH) return undefined;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return undefined;
        const out: Json[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out[i] = null;
          else {
            const copy = plainCopy(item, depth + 1);
            if (copy === undefined) return undefined;
            out[i] = copy;
          }
        }
        return out;
      }
      if (proto !== Object.prototype && proto !== null) return undefined;
      const out: { [key: string]: Json } = {};
      for (const key of Object.keys(value)) {
        // Assigning `__proto__` would set the copy's prototype instead of a member (JSON.parse defines it).
        if (key === '__proto__') return undefined;
        const member: unknown = (value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        const copy = plainCopy(member, depth + 1);
        if (copy === undefined) return undefined;
        out[key] = copy;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Like `toJson`, but the result must be a JSON object (journal entries, audit records, orders). */
export function toJsonObject(value: unknown, what: string): { [key: string]: Json } {
  const json = toJson(value, what);
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new AppError('VALIDATION_FAILED', `${what} must be a JSON object`);
  return json;
}

/**
 * Canonical JSON: object keys sorted by code unit at every depth, no whitespace, `undefined` members dropped.
 * Two records with the same content always give the same text, whatever order their keys were built in, which is
 * what a hash chain and a request fingerprint need. (RFC 8785 also fixes number formatting; JavaScript's own
 * shortest round-trip formatting is already deterministic within one runtime, which is all we rely on.)
 */
export function canonicalJson(value: unknown): string {
  return canonicalAt(value, 0);
}

/**
 * Deeper than this, canonical JSON refuses (VALIDATION_FAILED) instead of recursing on: 3,000 nested arrays in a
 * request body overflowed the stack here (a 500 after the effect). Request bodies stop at 32 levels
 * (src/http/json-limits.ts); records built by Bosun are a few levels deep.
 */
export const CANONICAL_MAX_DEPTH = 256;

function canonicalAt(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (depth >= CANONICAL_MAX_DEPTH)
    throw new AppError('VALIDATION_FAILED', `value is nested deeper than ${CANONICAL_MAX_DEPTH} levels`);
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return canonicalAt(withToJson.toJSON(), depth + 1);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalAt(v, depth + 1)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalAt(v, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}
