import { AppError } from '../domain/errors.js';

/**
 * Shape limits of a request body, checked once before anything else reads it. The body limit (64 KiB) bounds
 * the bytes but not the shape: 3,000 nested arrays fit in 6 KB and blew the stack of every recursive reader
 * downstream (canonical JSON for the idempotency hash, the audit hash), answering 500 after the effect.
 * No operator body is deeper than 4 levels or holds more than a few dozen values; the limits leave a wide margin.
 */
export interface JsonLimits {
  /** Nesting of objects and arrays; the top-level value is depth 1. */
  maxDepth: number;
  /** Object members plus array items, across the whole body. */
  maxNodes: number;
  /** Characters in one string or one key. */
  maxStringChars: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxNodes: 10_000, maxStringChars: 16 * 1024 };

/**
 * Nesting depth of JSON text, counted without parsing (strings skipped), so a deep body is refused before
 * `JSON.parse` builds it. Stops counting once past `max`.
 */
export function textDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Walks a parsed body iteratively and throws a 400 naming the first limit it breaks, or a forbidden key:
 * `__proto__` (however it was spelled in the text: `"\u005f\u005fproto__"` parses to the same key) and a
 * `constructor` holding a `prototype` (secure-json-parse's rules).
 */
export function checkJsonShape(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 1, path: 'body' }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringChars)
        throw new AppError('BAD_REQUEST', `${path} is a string over ${limits.maxStringChars} characters`);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > limits.maxDepth)
      throw new AppError('BAD_REQUEST', `request body is nested deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(v)) {
      nodes += v.length;
      if (nodes > limits.maxNodes)
        throw new AppError('BAD_REQUEST', `request body holds more than ${limits.maxNodes} values`);
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    const keys = Object.keys(v);
    nodes += keys.length;
    if (nodes > limits.maxNodes)
      throw new AppError('BAD_REQUEST', `request body holds more than ${limits.maxNodes} values`);
    for (const key of keys) {
      if (key.length > limits.maxStringChars)
        throw new AppError('BAD_REQUEST', `${path} has a key over ${limits.maxStringChars} characters`);
      const member = (v as Record<string, unknown>)[key];
      if (key === '__proto__') throw new AppError('BAD_REQUEST', 'request body contains a forbidden "__proto__" key');
      if (key === 'constructor' && member !== null && typeof member === 'object' && Object.hasOwn(member, 'prototype'))
        throw new AppError('BAD_REQUEST', 'request body contains a forbidden "constructor.prototype" key');
      stack.push({ v: member, depth: depth + 1, path: `${path}.${key.slice(0, 40)}` });
    }
  }
}
