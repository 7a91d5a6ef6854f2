import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.js';

/** Canonical JSON is domain's (pure); the store's records and hash chain use it from here. */
export { CANONICAL_MAX_DEPTH, canonicalJson, type Json, toJson, toJsonObject } from '../domain/canonical-json.js';

/** SHA-256 (hex) of the canonical JSON of a value. */
export function sha256Canonical(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
