import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AlertRecord, AlertSeverity, AlertsStore } from '../store/index.js';
import { MAX_MESSAGE_CHARS, type SendOutcome, type TelegramClient } from './telegram-client.js';

export type { AlertSeverity } from '../store/index.js';

/** What any actor hands the notifier: alerts with the same `key` inside the dedupe window collapse into one. */
export interface AlertInput {
  key: string;
  text: string;
  /** `warning` when omitted. */
  severity?: AlertSeverity | undefined;
}

/**
 * The public alert API (guards, breakers, the stop validator call it). Resolves once the alert is durable in
 * LMDB, not once it reached Telegram: delivery is the queue's job and survives a restart.
 */
export type Notify = (a: AlertInput) => Promise<void>;

export interface NotifierHealth {
  value: 'OK' | 'DEGRADED';
  reason: string;
}

/** Time and timers; tests pass xstate's `SimulatedClock` (same shape) so nothing really waits. */
export interface NotifierClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface NotifierOptions {
  store: AlertsStore;
  client: TelegramClient;
  log: Logger;
  metrics?: Pick<Metrics, 'notifierSent' | 'notifierSuppressed' | 'notifierQueueDepth' | 'notifierFailures'>;
  clock?: NotifierClock;
  /** An alert key sent at T suppresses the same key until T + window (the suppressed ones follow as one message). */
  dedupeWindowMs?: number;
  /** Minimum gap between two messages: Telegram allows about 1 message/s per chat and 30/s per bot. */
  minIntervalMs?: number;
  /** Back-off after a failure that is not a 429: min·factor^(n-1), capped at max. */
  backoff?: { minMs: number; maxMs: number; factor: number };
  /** Queue bound; past it the oldest non-critical record is dropped. */
  maxQueue?: number;
  /** The digest: every `intervalMs` the source's text (if any) is queued as an `info` alert. */
  digest?: { intervalMs: number; source: () => string | undefined | Promise<string | undefined> };
}

export interface Notifier {
  alert: Notify;
  /** Starts delivering; `onHealth` hears every health change (DEGRADED while Telegram is failing). */
  start(onHealth?: (h: NotifierHealth) => void): void;
  /** Stops delivering; queued alerts stay in LMDB for the next start. */
  stop(): void;
  /** Records waiting to be sent. */
  depth(): number;
  health(): NotifierHealth;
}

export const NOTIFIER_DEFAULTS = {
  dedupeWindowMs: 60_000,
  minIntervalMs: 1_000,
  backoff: { minMs: 1_000, maxMs: 300_000, factor: 2 },
  maxQueue: 1_000,
} as const;

const MAX_KEY_CHARS = 200;
const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 2, warning: 1, info: 0 };

const realClock: NotifierClock = {
  now: Date.now,
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** How many alerts a record stands for beyond the one whose text it shows. */
export function suppressedOf(r: Pick<AlertRecord, 'count' | 'followUp'>): number {
  return r.followUp ? r.count : r.count - 1;
}

/** The message text: the latest alert's text plus the suppression count, within Telegram's 4096 characters. */
export function renderAlert(r: Pick<AlertRecord, 'count' | 'followUp' | 'text'>): string {
  const n = suppressedOf(r);
  const suffix = n > 0 ? `\n(+${n} suppressed)` : '';
  return r.text.slice(0, MAX_MESSAGE_CHARS - suffix.length) + suffix;
}

/**
 * The Telegram alert queue (DESIGN §3 `notifier`, §9). Durable: a record is committed before `alert()` resolves
 * and deleted only after a 200, so alerts queued before a `kill -9` go out after the restart. Deduplicated by
 * key, paced to `minIntervalMs`, paused for a 429's `retry_after`, backed off exponentially on other failures.
 * Nothing here throws into the caller's event loop: a failing Telegram is a health state, not a crash.
 */
export function createNotifier(opts: NotifierOptions): Notifier {
  const clock = opts.clock ?? realClock;
  const window = opts.dedupeWindowMs ?? NOTIFIER_DEFAULTS.dedupeWindowMs;
  const minInterval = opts.minIntervalMs ?? NOTIFIER_DEFAULTS.minIntervalMs;
  const backoff = opts.backoff ?? NOTIFIER_DEFAULTS.backoff;
  const maxQueue = opts.maxQueue ?? NOTIFIER_DEFAULTS.maxQueue;
  const { log, metrics, store, client } = opts;

  const queue = new Map<number, AlertRecord>();
  const byKey = new Map<string, number>();
  for (const r of store.list()) {
    queue.set(r.seq, r);
    byKey.set(r.key, r.seq);
  }
  const lastSent = new Map<string, number>();
  let running = false;
  let inFlight = false;
  let timer: unknown;
  let digestTimer: unknown;
  let gate = 0;
  let failures = 0;
  let health: NotifierHealth = { value: 'OK', reason: '' };
  let onHealth: ((h: NotifierHealth) => void) | undefined;

  const depthChanged = () => metrics?.notifierQueueDepth.set(queue.size);
  depthChanged();

  const setHealth = (value: NotifierHealth['value'], reason: string) => {
    if (health.value === value && health.reason === reason) return;
    health = { value, reason };
    onHealth?.(health);
  };

  const persist = (what: string, write: Promise<void>) =>
    write.catch((e: unknown) => log.error({ err: errorMessage(e) }, `could not ${what} a queued alert`));

  function forget(r: AlertRecord): void {
    queue.delete(r.seq);
    if (byKey.get(r.key) === r.seq) byKey.delete(r.key);
    depthChanged();
  }

  /** The record to send now (critical first, then oldest) and the earliest time any becomes due. */
  function pick(t: number): { due?: AlertRecord; nextAt: number } {
    let due: AlertRecord | undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const r of queue.values()) {
      if (r.notBefore > t) {
        nextAt = Math.min(nextAt, r.notBefore);
        continue;
      }
      if (!due || SEVERITY_RANK[r.severity] > SEVERITY_RANK[due.severity]) due = r;
    }
    return due ? { due, nextAt: t } : { nextAt };
  }

  function wake(): void {
    if (!running || inFlight) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    const t = clock.now();
    const { due, nextAt } = pick(t);
    const at = Math.max(due ? t : nextAt, gate);
    if (!Number.isFinite(at)) return;
    if (due && at <= t) {
      void send(due);
      return;
    }
    timer = clock.setTimeout(() => {
      timer = undefined;
      wake();
    }, at - t);
  }

  async function send(r: AlertRecord): Promise<void> {
    inFlight = true;
    const sentCount = r.count;
    let outcome: SendOutcome;
    try {
      outcome = await client.sendMessage(renderAlert(r));
    } catch (e) {
      outcome = { ok: false, kind: 'network', description: errorMessage(e) };
    }
    inFlight = false;
    const t = clock.now();
    if (outcome.ok) onSent(r.key, r.seq, sentCount, t);
    else onFailed(outcome, t);
    wake();
  }

  function onSent(key: string, seq: number, sentCount: number, t: number): void {
    failures = 0;
    gate = t + minInterval;
    lastSent.set(key, t);
    metrics?.notifierSent.inc();
    setHealth('OK', '');
    const cur = queue.get(seq);
    if (!cur) return;
    if (cur.count > sentCount) {
      // Alerts merged in while this one was on the wire: they follow as one message when the window ends.
      const rest: AlertRecord = { ...cur, count: cur.count - sentCount, followUp: true, notBefore: t + window };
      queue.set(seq, rest);
      void persist('update', store.put(rest));
      return;
    }
    forget(cur);
    void persist('delete', store.delete(seq));
  }

  function onFailed(outcome: Exclude<SendOutcome, { ok: true }>, t: number): void {
    if (outcome.kind === 'rate_limited') {
      // Telegram says exactly how long to wait; sending earlier risks a ban, so the whole queue waits.
      gate = t + outcome.retryAfterMs;
      metrics?.notifierFailures.inc({ kind: 'rate_limited' });
      log.warn(
        { retryAfterMs: outcome.retryAfterMs, depth: queue.size },
        'telegram rate limit: pausing the alert queue',
      );
      setHealth('DEGRADED', `telegram_rate_limited: retry_after ${Math.ceil(outcome.retryAfterMs / 1000)}s`);
      return;
    }
    failures += 1;
    const delay = Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** (failures - 1));
    gate = t + delay;
    metrics?.notifierFailures.inc({ kind: outcome.kind });
    const reason =
      outcome.kind === 'http'
        ? `telegram_http_${outcome.status}: ${outcome.description}`
        : `telegram_unreachable: ${outcome.description}`;
    log.warn({ reason, failures, retryInMs: delay, depth: queue.size }, 'telegram send failed: backing off');
    setHealth('DEGRADED', reason);
  }

  function dropOne(): void {
    let victim: AlertRecord | undefined;
    for (const r of queue.values()) {
      if (r.severity !== 'critical') {
        victim = r;
        break;
      }
    }
    victim ??= queue.values().next().value;
    if (!victim) return;
    log.warn({ key: victim.key, severity: victim.severity }, 'alert queue full: dropping the oldest alert');
    metrics?.notifierFailures.inc({ kind: 'dropped' });
    forget(victim);
    void persist('drop', store.delete(victim.seq));
  }

  async function alert(a: AlertInput): Promise<void> {
    if (typeof a.key !== 'string' || a.key.length === 0 || a.key.length > MAX_KEY_CHARS)
      throw new TypeError(`alert key must be a string of 1-${MAX_KEY_CHARS} characters`);
    if (typeof a.text !== 'string' || a.text.trim() === '') throw new TypeError('alert text must not be empty');
    const severity = a.severity ?? 'warning';
    if (!Object.hasOwn(SEVERITY_RANK, severity))
      throw new TypeError(`alert severity must be critical, warning or info`);
    const t = clock.now();
    const seq = byKey.get(a.key);
    const existing = seq === undefined ? undefined : queue.get(seq);
    let record: AlertRecord;
    if (existing) {
      // Same key still queued: one message, the latest text, the count says how many it stands for.
      record = {
        ...existing,
        text: a.text,
        count: existing.count + 1,
        lastAt: t,
        severity: SEVERITY_RANK[severity] > SEVERITY_RANK[existing.severity] ? severity : existing.severity,
      };
      metrics?.notifierSuppressed.inc();
    } else {
      if (queue.size >= maxQueue) dropOne();
      const sentAt = lastSent.get(a.key);
      const followUp = sentAt !== undefined && t < sentAt + window;
      if (followUp) metrics?.notifierSuppressed.inc();
      record = {
        seq: store.nextSeq(),
        key: a.key,
        text: a.text,
        severity,
        count: 1,
        followUp,
        firstAt: t,
        lastAt: t,
        notBefore: followUp ? (sentAt as number) + window : t,
      };
      byKey.set(a.key, record.seq);
    }
    queue.set(record.seq, record);
    depthChanged();
    await store.put(record);
    wake();
  }

  function scheduleDigest(): void {
    const d = opts.digest;
    if (!d || !running) return;
    digestTimer = clock.setTimeout(() => {
      digestTimer = undefined;
      void (async () => {
        try {
          const text = await d.source();
          // Its own key each time: a digest is never a duplicate of the previous one.
          if (text) await alert({ key: `digest:${clock.now()}`, text, severity: 'info' });
        } catch (e) {
          log.warn({ err: errorMessage(e) }, 'could not build the digest');
        }
      })();
      scheduleDigest();
    }, d.intervalMs);
  }

  return {
    alert,
    start(hook) {
      if (running) return;
      running = true;
      onHealth = hook;
      onHealth?.(health);
      scheduleDigest();
      wake();
    },
    stop() {
      running = false;
      onHealth = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (digestTimer !== undefined) clock.clearTimeout(digestTimer);
      timer = undefined;
      digestTimer = undefined;
    },
    depth: () => queue.size,
    health: () => health,
  };
}
