import { parseActorId } from '../domain/ids.js';
import type { GovernanceState, ScopeState } from '../machines/governance.machine.js';
import type { Health } from '../machines/health.js';
import type { AlertInput } from './notifier.js';

/** The messages Bosun sends (DESIGN §9): one function per source, each returning what `alert()` takes. */

/**
 * One operator- or venue-supplied value made safe to embed in a one-line alert: control characters (newlines
 * included), Unicode line/paragraph separators and bidi overrides become a space, runs of spaces collapse, and the
 * value is cut at `max`. A kill `reason` with newlines was delivered as a multi-line alert that read like a global
 * resume.
 */
export function alertField(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : String(value ?? '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ');
  const squeezed = flat.replace(/ {2,}/g, ' ').trim();
  return squeezed.length > max ? `${squeezed.slice(0, max - 1)}…` : squeezed;
}

export const HEALTH_ICON: Record<Health, string> = { OK: '🟢', DEGRADED: '🟡', HALTED: '🔴' };

/** Supervisors whose health is only the roll-up of a child's: the child's own alert already says it. */
const ROLLUP_KINDS = new Set(['core', 'venue', 'symbols', 'guards', 'risk']);

/**
 * A health transition worth a message, or undefined: roll-ups repeat a child's alert, and the notifier's own
 * health would loop. The root (the system) speaks only when it halts and when it is all clear again.
 */
export function healthAlert(actor: string, health: Health, reason: string): AlertInput | undefined {
  const { kind } = parseActorId(actor);
  if (ROLLUP_KINDS.has(kind) || kind === 'notifier') return undefined;
  if (actor === 'root' && health === 'DEGRADED') return undefined;
  const why = reason ? `: ${alertField(reason)}` : '';
  const severity = health === 'HALTED' ? 'critical' : health === 'DEGRADED' ? 'warning' : 'info';
  const who = actor === 'root' ? 'system' : alertField(actor, 100);
  const text =
    kind === 'breaker' && health === 'HALTED'
      ? `${HEALTH_ICON.HALTED} HALTED ${who}: breaker tripped${why}`
      : kind === 'breaker' && health === 'OK'
        ? `${HEALTH_ICON.OK} OK ${who}: breaker reset${why}`
        : `${HEALTH_ICON[health]} ${health} ${who}${why}`;
  return { key: `health:${actor}:${health}`, text, severity };
}

const TRADING_ICON = { ACTIVE: '▶️', REDUCING: '⚠️', HALTED: '⛔' } as const;

function scopeChanges(prev: GovernanceState, next: GovernanceState): Array<{ scope: string; s: ScopeState }> {
  const out: Array<{ scope: string; s: ScopeState }> = [];
  const diff = (scope: string, a: ScopeState | undefined, b: ScopeState | undefined) => {
    if (b && (a?.state ?? 'ACTIVE') !== b.state) out.push({ scope, s: b });
  };
  diff('global', prev.global, next.global);
  for (const [v, s] of Object.entries(next.venues)) diff(`venue ${v}`, prev.venues[v], s);
  for (const [k, s] of Object.entries(next.symbols)) diff(`symbol ${k}`, prev.symbols[k], s);
  return out;
}

/** Kill, reduce and resume, at any scope, with who did it and by which command. */
export function governanceAlerts(prev: GovernanceState, next: GovernanceState): AlertInput[] {
  return scopeChanges(prev, next).map(({ scope, s }) => {
    const verb = s.state === 'HALTED' ? 'KILL' : s.state === 'REDUCING' ? 'REDUCE' : 'RESUME';
    const reason = s.reason ? ` (reason: ${alertField(s.reason)})` : '';
    const by = alertField(s.by, 64) || 'unknown';
    const via = alertField(s.command, 64) || 'unknown';
    return {
      key: `governance:${scope}:${s.state}`,
      text: `${TRADING_ICON[s.state]} ${verb}: trading ${s.state} [${alertField(scope, 100)}] by ${by} via ${via}${reason}`,
      severity: s.state === 'ACTIVE' ? 'info' : 'critical',
    };
  });
}

/** A stop-validator repair (🛡), for the guard that places missing stops. */
export function stopRepairAlert(venue: string, symbol: string, detail: string): AlertInput {
  return {
    key: `stop_repair:${venue}:${symbol}`,
    text: `🛡 stop repaired ${alertField(venue, 40)} ${alertField(symbol, 40)}: ${alertField(detail)}`,
    severity: 'warning',
  };
}

export interface DigestData {
  equityUsd: number;
  /** Equity change since the previous digest (or since start). */
  pnlUsd: number;
  /** Orders filled since the previous digest. */
  trades: number;
  /** Actors not OK right now, with their reasons. */
  incidents: string[];
  tradingState: string;
}

const usd = (n: number) => `${n < 0 ? '-' : ''}$${Math.abs(n).toFixed(2)}`;

export function digestText(d: DigestData, periodMin: number): string {
  const lines = [
    `📊 Bosun digest (last ${periodMin} min)`,
    `Trading: ${alertField(d.tradingState, 40)}`,
    `Equity: ${usd(d.equityUsd)}`,
    `P&L: ${d.pnlUsd >= 0 ? '+' : ''}${usd(d.pnlUsd)}`,
    `Trades: ${d.trades}`,
    `Open incidents: ${d.incidents.length}`,
    ...d.incidents.slice(0, 20).map((i) => `• ${alertField(i)}`),
  ];
  return lines.join('\n');
}
