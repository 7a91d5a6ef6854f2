import { z } from 'zod';
import { VENUE_IDS } from '../../domain/ids.js';
import type { GovernanceView, ScopeTrading, TradingScope, TradingState } from '../../supervisor/runtime-port.js';
import { opsActor } from '../auth.js';
import type { RouteContext, ZodApp } from '../route-context.js';
import { governanceBody, tradingEnabled } from './status.routes.js';

const SYMBOL_PATTERN = /^[A-Za-z0-9._-]{1,40}$/;

/**
 * `{"enabled": false}` halts, `{"enabled": true}` resumes (the runbook's body, exactly). Optional `venue`
 * and `symbol` narrow it to one venue or one symbol; `scope` may say so explicitly. Strict: an unknown key
 * (`"enable"`, `"venu"`) is a 400, never silently a global command.
 */
export const KillBody = z
  .strictObject(
    {
      enabled: z.boolean(),
      reason: z.string().trim().min(1).max(500).optional(),
      scope: z.enum(['global', 'venue', 'symbol']).optional(),
      venue: z.enum(VENUE_IDS).optional(),
      symbol: z.string().regex(SYMBOL_PATTERN, 'symbol must be 1-40 of A-Z a-z 0-9 . _ -').optional(),
    },
    { error: (iss) => (iss.input == null ? 'a JSON body {"enabled": false|true} is required' : undefined) },
  )
  .superRefine((b, issue) => {
    const scope = b.scope ?? (b.symbol ? 'symbol' : b.venue ? 'venue' : 'global');
    if (scope !== 'global' && !b.venue)
      issue.addIssue({ code: 'custom', path: ['venue'], message: `scope '${scope}' needs a venue` });
    if (scope === 'symbol' && !b.symbol)
      issue.addIssue({ code: 'custom', path: ['symbol'], message: "scope 'symbol' needs a symbol" });
    if (scope === 'global' && (b.venue || b.symbol))
      issue.addIssue({ code: 'custom', path: ['scope'], message: "scope 'global' takes no venue or symbol" });
    if (scope === 'venue' && b.symbol)
      issue.addIssue({ code: 'custom', path: ['symbol'], message: "scope 'venue' takes no symbol" });
  });
export type KillBody = z.infer<typeof KillBody>;

export interface KillTarget {
  scope: TradingScope;
  /** The runtime's key: venue id, or `venue:SYMBOL`. */
  key?: string | undefined;
  /** How the audit log names it: `global`, `venue:binance`, `symbol:binance:BTCUSDT`. */
  label: string;
}

/** Resolves a validated body to the scope it commands. */
export function killTarget(b: KillBody): KillTarget {
  if (b.symbol && b.venue) {
    const key = `${b.venue}:${b.symbol}`;
    return { scope: 'symbol', key, label: `symbol:${key}` };
  }
  if (b.venue) return { scope: 'venue', key: b.venue, label: `venue:${b.venue}` };
  return { scope: 'global', label: 'global' };
}

function entryOf(g: GovernanceView, t: KillTarget): ScopeTrading | null {
  if (t.scope === 'global') return g.global;
  return (t.scope === 'venue' ? g.venues : g.symbols)[t.key ?? ''] ?? null;
}

/**
 * `POST /kill` (ops), the runbook's pause/resume. The new trading state is durable in LMDB (`setTrading`)
 * and so is the audit record before the 200 leaves; with an Idempotency-Key the stored answer is durable too.
 */
export function killRoutes(app: ZodApp, ctx: RouteContext): void {
  const { runtime } = ctx.deps;
  app.post('/kill', { schema: { body: KillBody }, config: { command: 'kill' }, ...ctx.command }, async (request) => {
    const body = request.body;
    const target = killTarget(body);
    const state: TradingState = body.enabled ? 'ACTIVE' : 'HALTED';
    const command = body.enabled ? 'resume' : 'kill';
    const reason = body.reason ?? `operator ${command}`;
    const before = runtime.governance();
    const after = await runtime.setTrading({
      scope: target.scope,
      key: target.key,
      state,
      reason,
      actor: opsActor(request),
      command,
    });
    const audit = await ctx.trail.record(request, {
      action: command,
      target: target.label,
      before: entryOf(before, target),
      after: entryOf(after, target),
      result: 'ok',
      reason,
    });
    return {
      trading_enabled: tradingEnabled(after.global),
      trading_state: after.global.state,
      target: { scope: target.scope, key: target.key ?? null, state },
      governance: governanceBody(after),
      audit: { seq: audit.seq },
    };
  });
}
