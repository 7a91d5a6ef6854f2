import { parse } from './args.js';
import { type CliContext, call, EXIT_OK, emit, UsageError } from './cli-context.js';

/**
 * `bosun depeg rearm [--note TEXT]`: the runbook's "manual helper" after a depeg. `POST /guards/depeg/rearm` on the
 * engine (token, Idempotency-Key, audited). Exit 0 when re-armed; 1 when Bosun refuses (409: parity still broken
 * or the cooldown is not over), with its reason; 2 on a bad command line.
 */
export async function depeg(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { note: { type: 'string' } }, 1);
  if (positionals[0] !== 'rearm' || positionals.length !== 1)
    throw new UsageError('usage: bosun depeg rearm [--note TEXT]');
  const body = values.note ? { note: values.note } : {};
  const { body: r } = await call(ctx, ctx.engineUrl, 'POST', '/guards/depeg/rearm', { body, command: true });
  const b = r as { after?: { health?: string; reason?: string } };
  emit(ctx, r, () => `depeg guard re-armed: ${b.after?.health ?? '?'}${b.after?.reason ? ` (${b.after.reason})` : ''}`);
  return EXIT_OK;
}
