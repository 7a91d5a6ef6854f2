import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-events-signature';
export const TIMESTAMP_HEADER = 'x-events-timestamp';

const SIGNATURE_PATTERN = /^sha256=([0-9a-fA-F]{64})$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;

/**
 * What is signed: the raw body bytes exactly as sent (the runbook's `printf '%s' "$BODY" | openssl dgst -sha256
 * -hmac "$EXTERNAL_EVENTS_SECRET"`), or, when the sender adds `X-Events-Timestamp: <epoch seconds>`, the
 * bytes `<timestamp>.` followed by the raw body (Stripe's scheme), so the timestamp cannot be swapped.
 */
export function signedDigest(secret: string, raw: Buffer, timestamp?: string): Buffer {
  const h = createHmac('sha256', secret);
  if (timestamp !== undefined) h.update(`${timestamp}.`, 'utf8');
  return h.update(raw).digest();
}

/** `sha256=<64 hex>` to its 32 bytes, or null for anything else (wrong prefix, length, non-hex, list). */
export function parseSignatureHeader(header: unknown): Buffer | null {
  if (typeof header !== 'string') return null;
  const m = SIGNATURE_PATTERN.exec(header.trim());
  return m?.[1] ? Buffer.from(m[1], 'hex') : null;
}

/**
 * Constant-time check of a presented signature header against the HMAC of the raw body. Never throws: a
 * garbled or truncated header is simply false (it never reaches `timingSafeEqual` with unequal lengths).
 */
export function signatureMatches(secret: string, raw: Buffer, header: unknown, timestamp?: string): boolean {
  const presented = parseSignatureHeader(header);
  if (presented === null || presented.length !== 32) return false;
  return timingSafeEqual(presented, signedDigest(secret, raw, timestamp));
}

/** The `X-Events-Timestamp` value if well formed (epoch seconds, digits only), else null. */
export function parseTimestampHeader(header: unknown): number | null {
  if (typeof header !== 'string' || !TIMESTAMP_PATTERN.test(header)) return null;
  return Number(header);
}

/** The replay key of an event without an `id`: its signature, or the body's digest when nothing is signed. */
export function anonymousEventKey(raw: Buffer, signatureHeader: unknown): string {
  const sig = parseSignatureHeader(signatureHeader);
  return sig ? `sig:${sig.toString('hex')}` : `body:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * Event ids seen within `ttlMs`, at most `maxEntries` (oldest evicted first). Insertion order is expiry order
 * (one fixed TTL), so expiry and eviction both pop from the front of the Map.
 */
export function createReplayCache(opts: { ttlMs: number; maxEntries: number }) {
  const seen = new Map<string, number>();
  const sweep = (now: number) => {
    for (const [k, expires] of seen) {
      if (expires > now) break;
      seen.delete(k);
    }
  };
  return {
    /** Records `key`; false if it was already seen and has not expired. */
    claim(key: string, now: number): boolean {
      sweep(now);
      if (seen.has(key)) return false;
      if (seen.size >= opts.maxEntries) {
        const oldest = seen.keys().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      seen.set(key, now + opts.ttlMs);
      return true;
    },
    /** Forgets `key` (its event was refused after the claim, so a corrected resend is not a replay). */
    release(key: string): void {
      seen.delete(key);
    },
    size: () => seen.size,
  };
}
export type ReplayCache = ReturnType<typeof createReplayCache>;

/**
 * An in-memory `ReplayPort` with per-key expiry, for listeners built without a store (tests, tools). It forgets
 * on restart; `main.ts` passes the LMDB one (src/store/replay.store.ts).
 */
export function createMemoryReplay(maxEntries: number) {
  const seen = new Map<string, number>();
  return {
    async claim(key: string, expiresAt: number, now: number): Promise<boolean> {
      const exp = seen.get(key);
      if (exp !== undefined && exp > now) return false;
      for (const [k, e] of seen) {
        if (e > now) break;
        seen.delete(k);
      }
      if (seen.size >= maxEntries) {
        const oldest = seen.keys().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      seen.delete(key);
      seen.set(key, expiresAt);
      return true;
    },
    async release(key: string): Promise<void> {
      seen.delete(key);
    },
  };
}
