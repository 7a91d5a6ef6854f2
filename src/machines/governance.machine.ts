import { assign, raise, setup } from 'xstate';
import type { TradingState } from '../domain/trading-state.js';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * Governance: the trading state ACTIVE / REDUCING / HALTED at global, venue and symbol scope, each with the
 * reason, who set it and the command (DESIGN §3). Pure: persistence and the broadcast to trading actors are
 * the runtime's job (it persists before acknowledging) and the provided `gov.publish` action. Health mirrors the global state so a kill shows red.
 */

export type { TradingState };

export interface ScopeState {
  state: TradingState;
  reason: string;
  by: string;
  at: number;
  command: string;
}

export interface GovernanceState {
  global: ScopeState;
  venues: Record<string, ScopeState>;
  symbols: Record<string, ScopeState>;
}

export interface GovernanceContext extends HealthContext, GovernanceState {}

export interface GovernanceInput {
  /** What LMDB held at boot; wins over the environment unless the environment is more restrictive. */
  persisted?: GovernanceState | undefined;
  /** TRADING_ENABLED from the environment. */
  tradingEnabled: boolean;
  /** Epoch ms of boot, from the effect layer (machines never read clocks). */
  now: number;
  failClosed?: string;
}

export type GovernanceEvent =
  | {
      type: 'gov.set';
      scope: 'global' | 'venue' | 'symbol';
      key?: string | undefined;
      state: TradingState;
      reason: string;
      by: string;
      at: number;
      command: string;
    }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const TRADING_RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export function stricter(a: TradingState, b: TradingState): TradingState {
  return TRADING_RANK[a] >= TRADING_RANK[b] ? a : b;
}

/** Most restrictive of global, venue and symbol scope: an order may go out only if all allow it. */
export function effectiveState(g: GovernanceState, venue?: string, symbol?: string): TradingState {
  let s = g.global.state;
  if (venue) s = stricter(s, g.venues[venue]?.state ?? 'ACTIVE');
  if (venue && symbol) s = stricter(s, g.symbols[`${venue}:${symbol}`]?.state ?? 'ACTIVE');
  return s;
}

export type Scope = 'global' | 'venue' | 'symbol';

/** The state of one scope (`key` is the venue, or `venue:SYMBOL`; unused for global). */
export function scopeOf(g: GovernanceState, scope: Scope, key?: string): ScopeState | undefined {
  if (scope === 'global') return g.global;
  if (!key) return undefined;
  return scope === 'venue' ? g.venues[key] : g.symbols[key];
}

/** `g` with one scope replaced; a venue/symbol scope without a key leaves `g` unchanged. */
export function withScope(g: GovernanceState, scope: Scope, key: string | undefined, s: ScopeState): GovernanceState {
  if (scope === 'global') return { global: s, venues: g.venues, symbols: g.symbols };
  if (!key) return { global: g.global, venues: g.venues, symbols: g.symbols };
  if (scope === 'venue') return { global: g.global, venues: { ...g.venues, [key]: s }, symbols: g.symbols };
  return { global: g.global, venues: g.venues, symbols: { ...g.symbols, [key]: s } };
}

/** Boot state: persisted exactly as it was, never loosened by the environment; a crash loop halts. */
export function bootState(input: GovernanceInput): GovernanceState {
  const base: GovernanceState = input.persisted ?? {
    global: {
      state: input.tradingEnabled ? 'ACTIVE' : 'HALTED',
      reason: input.tradingEnabled ? '' : 'TRADING_ENABLED=false',
      by: 'env',
      at: input.now,
      command: 'boot',
    },
    venues: {},
    symbols: {},
  };
  let global = base.global;
  if (!input.tradingEnabled && global.state !== 'HALTED') {
    global = { state: 'HALTED', reason: 'TRADING_ENABLED=false', by: 'env', at: input.now, command: 'boot' };
  }
  if (input.failClosed) {
    global = { state: 'HALTED', reason: input.failClosed, by: 'supervisor', at: input.now, command: 'fail_closed' };
  }
  return { global, venues: { ...base.venues }, symbols: { ...base.symbols } };
}

function healthFor(g: ScopeState) {
  if (g.state === 'HALTED') return { value: 'HALTED' as const, reason: `trading_halted: ${g.reason || g.command}` };
  if (g.state === 'REDUCING')
    return { value: 'DEGRADED' as const, reason: `trading_reducing: ${g.reason || g.command}` };
  return { value: 'OK' as const, reason: '' };
}

function healthEventFor(g: ScopeState): GovernanceEvent {
  const h = healthFor(g);
  if (h.value === 'OK') return { type: 'health.ok' };
  return { type: h.value === 'DEGRADED' ? 'health.degrade' : 'health.halt', reason: h.reason };
}

export const governanceMachine = setup({
  types: {} as { context: GovernanceContext; events: GovernanceEvent; input: GovernanceInput },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: broadcast the effective state to trading actors and metrics. */
    'gov.publish': () => {},
    'gov.apply': assign(({ context, event }) => {
      if (event.type !== 'gov.set') return {};
      const { scope, key, state, reason, by, at, command } = event;
      return withScope(context, scope, key, { state, reason, by, at, command });
    }),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    'gov.validKey': ({ event }) => event.type !== 'gov.set' || event.scope === 'global' || Boolean(event.key),
  },
}).createMachine({
  id: 'governance',
  type: 'parallel',
  context: ({ input }) => {
    const g = bootState(input);
    return {
      ...g,
      health: input.failClosed ? initialHealth(input.failClosed) : healthFor(g.global),
      failClosed: input.failClosed,
    };
  },
  states: {
    health: healthRegion as never,
    trading: {
      entry: ['gov.publish'],
      on: {
        'gov.set': {
          guard: 'gov.validKey',
          actions: [
            'gov.apply',
            'gov.publish',
            // Health follows the global state; the region turns this into an edge-triggered report.
            raise(({ context }) => healthEventFor(context.global)),
          ],
        },
      },
    },
  },
});
