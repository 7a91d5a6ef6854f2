import { createHash } from 'node:crypto';
import { AppError } from '../domain/errors.js';

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Normalises a value to plain JSON before it is stored, so that what LMDB holds, what the JSONL mirror shows and
 * what a hash covers are the same thing (msgpack would otherwise keep `Date`, `Map`, `undefined`, which JSON drops).
 * Throws VALIDATION_FAILED for values JSON cannot hold (cycles, BigInt): bad input, not a store failure.
 */
export function toJson(value: unknown, what: string): Json {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new AppError('VALIDATION_FAILED', `${what} is not JSON-serialisable`, { cause: e });
  }
  if (text === undefined) throw new AppError('VALIDATION_FAILED', `${what} is not JSON-serialisable`);
  return JSON.parse(text) as Json;
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
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return canonicalJson(withToJson.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON of a value. */
export function sha256Canonical(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
