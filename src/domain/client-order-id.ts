/**
 * Deterministic clientOrderIds (DESIGN §5): node, strategy, venue+symbol and a per-node sequence that is
 * journaled before the order is sent, so the id of an intent is known before the venue sees it and recovery can
 * look the order up by it. Binance allows at most 36 of [A-Za-z0-9_-]; the id always fits:
 * `node(≤12)-code(1)-venue+symbol(≤12)-seq(base 36, ≤7)`. The sequence alone makes an id unique per node, so
 * truncating a long symbol never collides.
 */
export const STRATEGY_CODES: Readonly<Record<string, string>> = {
  hmm: 'h',
  trend: 't',
  breakout: 'b',
  operator: 'o',
  depeg: 'd',
  funding: 'f',
  stop: 's',
  executor: 'x',
  cutback: 'c',
};

const MAX_NODE = 12;
const MAX_SYMBOL = 11;
const MAX_SEQ = 36 ** 7 - 1;

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
}): string {
  if (!(Number.isInteger(p.seq) && p.seq >= 1 && p.seq <= MAX_SEQ))
    throw new RangeError(`order sequence must be an integer in 1..${MAX_SEQ}, got ${p.seq}`);
  const code = STRATEGY_CODES[p.strategy] ?? 'z';
  const venue = (p.venue[0] ?? 'v').toLowerCase().replace(/[^a-z]/, 'v');
  const symbol = p.symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, MAX_SYMBOL);
  return `${sanitizeNode(p.node)}-${code}-${venue}${symbol}-${p.seq.toString(36)}`;
}

const PATTERN = /^([A-Za-z0-9_]{1,12})-([a-z])-([a-z][A-Za-z0-9]{0,11})-([0-9a-z]{1,7})$/;

/** Bosun's own ids parse; anything else (a manual order, another system's) is null. */
export function parseClientOrderId(id: string): { node: string; strategyCode: string; seq: number } | null {
  const m = PATTERN.exec(id);
  if (!m) return null;
  const seq = Number.parseInt(m[4] as string, 36);
  if (!(seq >= 1)) return null;
  return { node: m[1] as string, strategyCode: m[2] as string, seq };
}
