import { createHash } from 'node:crypto';

/**
 * Deterministic clientOrderIds (DESIGN §5): node, strategy, venue+symbol, the process's incarnation and a
 * sequence, journaled before the order is sent, so the id of an intent is known before the venue sees it and
 * recovery can look the order up by it. Binance allows at most 36 of [A-Za-z0-9_-]; the id always fits:
 * `node(≤10)-code(1)-venue+symbol(≤12)-incarnation(4)seq(base 36, ≤6)`.
 *
 * The incarnation (one uppercase letter, then three of [0-9A-Z]: 1.2 M values) is drawn afresh at every boot and
 * kept in the store (never one it used before), so the sequence may restart at 1: an instance started from a fresh
 * state directory or a restored backup beside an old account does not re-use `bosun-o-bBTCUSDT-1` (Binance then
 * answered -2010 and Bosun took the old resting order for its own). Ids of the older format
 * (`node(≤12)-code-venue+symbol-seq(≤7)`, no incarnation) still parse, so a state directory written before keeps
 * recognising its orders.
 */
export const STRATEGY_CODES: Readonly<Record<string, string>> = {
  hmm: 'h',
  trend: 't',
  breakout: 'b',
  operator: 'o',
  depeg: 'd',
  funding: 'f',
  'funding-hedge': 'g',
  stop: 's',
  executor: 'x',
  cutback: 'c',
};

const MAX_NODE = 12;
/** The node part of ids with an incarnation (two characters fewer, to make room for it). */
const MAX_NODE_INC = 10;
const MAX_SYMBOL = 11;
const MAX_SEQ = 36 ** 7 - 1;
const MAX_SEQ_INC = 36 ** 6 - 1;
const INCARNATION = /^[A-Z][0-9A-Z]{3}$/;

/** A fresh incarnation: `random` in [0, 1) (injected, so tests and the simulation campaign replay it). */
export function drawIncarnation(random: () => number, used: ReadonlySet<string> = new Set()): string {
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  for (;;) {
    let s = digits[10 + Math.floor(random() * 26)] as string;
    for (let i = 0; i < 3; i++) s += digits[Math.floor(random() * 36)];
    if (!used.has(s)) return s;
  }
}

/** The node id as it appears in ids: [A-Za-z0-9_] only (a '-' would break parsing), at most 12 characters. */
export function sanitizeNode(node: string): string {
  const s = node.replace(/[^A-Za-z0-9_]/g, '_').slice(0, MAX_NODE);
  return s.length > 0 ? s : 'node';
}

export function clientOrderId(p: {
  node: string;
  venue: string;
  symbol: string;
  strategy: string;
  seq: number;
  /** The process's incarnation (drawIncarnation); without it, the older format. */
  incarnation?: string;
}): string {
  const max = p.incarnation === undefined ? MAX_SEQ : MAX_SEQ_INC;
  if (!(Number.isInteger(p.seq) && p.seq >= 1 && p.seq <= max))
    throw new RangeError(`order sequence must be an integer in 1..${max}, got ${p.seq}`);
  if (p.incarnation !== undefined && !INCARNATION.test(p.incarnation))
    throw new RangeError(`incarnation must be one of [A-Z] then three of [0-9A-Z], got '${p.incarnation}'`);
  const code = STRATEGY_CODES[p.strategy] ?? 'z';
  const venue = venuePart(p.venue);
  const symbol = symbolPart(p.symbol);
  if (p.incarnation === undefined) return `${sanitizeNode(p.node)}-${code}-${venue}${symbol}-${p.seq.toString(36)}`;
  const node = sanitizeNode(p.node).slice(0, MAX_NODE_INC);
  return `${node}-${code}-${venue}${symbol}-${p.incarnation}${p.seq.toString(36)}`;
}

/**
 * An operator order's id derived from its Idempotency-Key, so that a client's retry finds the first order at the
 * venue even when the store that held the key's record is gone (a fresh state directory, a restored older backup):
 * the incarnation slot is `K` and three characters of the key's SHA-256, the sequence slot `0` and five more (46
 * bits in all). A drawn sequence never starts with 0, so no incarnation's own ids can equal one; it parses as
 * Bosun's (sequence ≥ 1) and fits Binance's 36 characters like every other id.
 */
export function keyedClientOrderId(p: { node: string; venue: string; symbol: string; key: string }): string {
  const h = createHash('sha256').update(p.key, 'utf8').digest();
  const upper = (h.readUIntBE(0, 3) % 36 ** 3).toString(36).toUpperCase().padStart(3, '0');
  const lower = Math.max(1, h.readUIntBE(3, 4) % 36 ** 5)
    .toString(36)
    .padStart(5, '0');
  const node = sanitizeNode(p.node).slice(0, MAX_NODE_INC);
  return `${node}-${STRATEGY_CODES.operator}-${venuePart(p.venue)}${symbolPart(p.symbol)}-K${upper}0${lower}`;
}

const venuePart = (venue: string) => (venue[0] ?? 'v').toLowerCase().replace(/[^a-z]/, 'v');
const symbolPart = (symbol: string) => symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, MAX_SYMBOL);

const PATTERN = /^([A-Za-z0-9_]{1,12})-([a-z])-([a-z][A-Za-z0-9]{0,11})-([0-9a-z]{1,7})$/;
const PATTERN_INC = /^([A-Za-z0-9_]{1,10})-([a-z])-([a-z][A-Za-z0-9]{0,11})-([A-Z][0-9A-Z]{3})([0-9a-z]{1,6})$/;

/** Bosun's own ids parse; anything else (a manual order, another system's) is null. */
export function parseClientOrderId(
  id: string,
): { node: string; strategyCode: string; seq: number; incarnation: string | null } | null {
  const inc = PATTERN_INC.exec(id);
  const m = inc ?? PATTERN.exec(id);
  if (!m) return null;
  const seq = Number.parseInt((inc ? m[5] : m[4]) as string, 36);
  if (!(seq >= 1)) return null;
  return { node: m[1] as string, strategyCode: m[2] as string, seq, incarnation: inc ? (m[4] as string) : null };
}
