import { numberOpt, parse } from './args.js';
import { type CliContext, CliFailure, call, EXIT_FAILED, EXIT_OK, emit, UsageError } from './cli-context.js';

/**
 * The operator commands of the runbook's "Operational Controls", over HTTP against a running Bosun: the same
 * routes, headers and bodies the runbook's curl lines use, plus X-Ops-Actor ($USER) and a fresh Idempotency-Key.
 */
type Body = Record<string, unknown>;

const fmt = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

export async function status(ctx: CliContext, args: string[]): Promise<number> {
  parse(args, {});
  const { body } = await call(ctx, ctx.opsUrl, 'GET', '/status');
  const b = body as Body & { health?: { value: string; reason: string }; balances?: unknown };
  emit(ctx, b, () =>
    [
      `trading_enabled  ${b.trading_enabled}`,
      `trading_state    ${b.trading_state}`,
      `health           ${b.health?.value ?? '?'}${b.health?.reason ? ` (${b.health.reason})` : ''}`,
      `ready            ${b.ready}`,
      `snapshot_loaded  ${b.snapshot_loaded}`,
      `balances         ${fmt(b.balances ?? null)}`,
    ].join('\n'),
  );
  return EXIT_OK;
}

/** `kill` / `resume`: the runbook's `POST /kill {"enabled": false|true}`; `--venue`/`--symbol` narrow the scope. */
export async function kill(ctx: CliContext, args: string[], enabled: boolean): Promise<number> {
  const { values } = parse(args, { venue: { type: 'string' }, symbol: { type: 'string' }, reason: { type: 'string' } });
  const body: Body = { enabled };
  if (values.venue) body.venue = values.venue;
  if (values.symbol) body.symbol = values.symbol;
  if (values.reason) body.reason = values.reason;
  const { body: r } = await call(ctx, ctx.opsUrl, 'POST', '/kill', { body, command: true });
  const b = r as Body & { target?: { scope: string; key: string | null; state: string }; audit?: { seq: number } };
  emit(
    ctx,
    b,
    () =>
      `${enabled ? 'resumed' : 'paused'} ${b.target?.key ? `${b.target.scope} ${b.target.key}` : 'global'}: ` +
      `trading_state ${b.trading_state}, trading_enabled ${b.trading_enabled} (audit #${b.audit?.seq ?? '?'})`,
  );
  return EXIT_OK;
}

/** `weights` shows `GET /strategy/weights`; `weights --stable 0.7 --canary 0.3` (or `--set name=w`) posts them. */
export async function weights(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { stable: { type: 'string' }, canary: { type: 'string' }, set: { type: 'string', multiple: true } },
    1,
  );
  const w: Record<string, number> = {};
  const unit = (n: number) => n >= 0 && n <= 1;
  const stable = numberOpt('stable', values.stable, unit);
  const canary = numberOpt('canary', values.canary, unit);
  if (stable !== undefined) w.stable_model = stable;
  if (canary !== undefined) w.canary_model = canary;
  for (const kv of values.set ?? []) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new UsageError(`--set expects name=weight, got '${kv}'`);
    w[k] = numberOpt('set', v, unit) as number;
  }
  const sub = positionals[0] ?? (Object.keys(w).length > 0 ? 'set' : 'show');
  if (sub !== 'show' && sub !== 'set') throw new UsageError(`weights takes 'show' or 'set', got '${sub}'`);
  if (sub === 'set' && Object.keys(w).length === 0)
    throw new UsageError('weights set needs --stable and/or --canary (or --set name=weight)');
  const r =
    sub === 'show'
      ? await call(ctx, ctx.opsUrl, 'GET', '/strategy/weights')
      : await call(ctx, ctx.opsUrl, 'POST', '/strategy/weights', { body: { weights: w }, command: true });
  const b = r.body as Body & { weights?: Record<string, number> };
  emit(ctx, b, () => {
    const ws = b.weights ?? (b as Record<string, number>);
    return `${sub === 'set' ? 'weights set' : 'weights'}: ${Object.entries(ws)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`;
  });
  return EXIT_OK;
}

/** `order BTCUSDT.BINANCE BUY 25`: the runbook's test order (`make order`), through every rail. */
export async function order(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { type: { type: 'string' }, price: { type: 'string' } }, 3);
  const [symbol, side, quoteText] = positionals;
  if (!symbol || !side || !quoteText)
    throw new UsageError('order needs <SYMBOL.VENUE> <BUY|SELL> <quote USD>, e.g. bosun order BTCUSDT.BINANCE BUY 25');
  if (!/^(buy|sell)$/i.test(side)) throw new UsageError(`side must be BUY or SELL, got '${side}'`);
  const quote = numberOpt('quote', quoteText, (n) => n > 0);
  const body: Body = { symbol, side: side.toUpperCase(), quote };
  if (values.type) body.type = values.type;
  const price = numberOpt('price', values.price, (n) => n > 0);
  if (price !== undefined) body.price = price;
  const r = await call(ctx, ctx.engineUrl, 'POST', '/orders', { body, command: true, accept: [422] });
  const b = r.body as Body & {
    order?: { clientOrderId: string; status: string; filled: number; averagePrice: number | null } | null;
    reason?: string;
    error?: { message: string };
  };
  emit(ctx, b, () =>
    r.status === 422
      ? `order rejected (${b.reason}): ${b.error?.message ?? ''}`
      : `order ${b.status} ${b.order?.clientOrderId ?? ''}: ${b.order?.status ?? '?'}, filled ${b.order?.filled ?? 0}` +
        (b.order?.averagePrice ? ` @ ${b.order.averagePrice}` : ''),
  );
  return r.status === 422 || b.status === 'unknown' ? EXIT_FAILED : EXIT_OK;
}

/** `reconcile`: `POST /reconcile/manual` (with the token, so it is audited). */
export async function reconcile(ctx: CliContext, args: string[]): Promise<number> {
  parse(args, {});
  const { body } = await call(ctx, ctx.engineUrl, 'POST', '/reconcile/manual', { command: true });
  const b = body as { fills_applied: number; venues: Record<string, { fillsApplied?: number }> };
  emit(ctx, b, () => `reconciled: ${b.fills_applied} fills applied (${Object.keys(b.venues ?? {}).join(', ')})`);
  return EXIT_OK;
}

/** `audit [--limit N] [--actor A] [--action X] [--since epochMs]`: `GET /audit`, newest first. */
export async function audit(ctx: CliContext, args: string[]): Promise<number> {
  const { values } = parse(args, {
    limit: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    since: { type: 'string' },
  });
  const q = new URLSearchParams();
  const limit = numberOpt('limit', values.limit, (n) => Number.isInteger(n) && n >= 1 && n <= 1000);
  if (limit !== undefined) q.set('limit', String(limit));
  if (values.actor) q.set('actor', values.actor);
  if (values.action) q.set('action', values.action);
  const since = numberOpt('since', values.since, (n) => Number.isInteger(n) && n >= 0);
  if (since !== undefined) q.set('since', String(since));
  const qs = q.size > 0 ? `?${q}` : '';
  const { body } = await call(ctx, ctx.opsUrl, 'GET', `/audit${qs}`);
  const records = (body as { records: Array<Record<string, unknown>> }).records;
  if (!Array.isArray(records)) throw new CliFailure('GET /audit answered without records');
  emit(ctx, body, () =>
    records.length === 0
      ? 'no audit records match'
      : records
          .map(
            (r) =>
              `#${r.seq} ${new Date(Number(r.ts)).toISOString()} ${r.actor} ${r.action} ${r.target ?? ''} ${r.result}` +
              (r.reason ? ` (${r.reason})` : ''),
          )
          .join('\n'),
  );
  return EXIT_OK;
}
