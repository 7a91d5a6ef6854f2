import type { GoLiveReport } from '../domain/golive.js';
import { parse } from './args.js';
import { type CliContext, call, EXIT_OK, emit } from './cli-context.js';

/**
 * `bosun golive`: `GET /golive` (ops) printed for an operator — the runbook's go-live stage, the flags it wants
 * (marked where the running config differs) and the evidence gating the next step. It advises; it never flips a
 * flag (flags change by editing .env and restarting, as the runbook says).
 */
const MARK: Record<string, string> = { pass: '✔', fail: '✘', attention: '!', no_data: '·' };

export function formatGoLive(r: GoLiveReport): string {
  const lines = [
    `stage     ${r.stage.title}${r.hoursIn !== null ? ` — hour ${r.hoursIn.toFixed(1)}` : ''}`,
    `start     ${r.start ? `${r.start.at} (${r.start.source === 'config' ? 'GOLIVE_START_AT' : 'first live start'})` : 'not started'}`,
    `next      ${r.next ? `${r.next.title}${r.next.at ? ` at ${r.next.at}` : ''}` : '—'}`,
    '',
    'flags this stage wants (* = the running config differs):',
    ...r.flags.map(
      (f) =>
        `  ${f.differs ? '*' : ' '} ${f.flag}=${f.wants}${f.running === null ? '  (not in this build)' : f.differs ? `  (running: ${f.running})` : ''}${f.why ? `  — ${f.why}` : ''}`,
    ),
    '',
    'evidence:',
    ...r.evidence.map((e) => `  ${MARK[e.status] ?? '?'} ${e.id}: ${e.summary}`),
    '',
    'next step gates:',
    ...r.gates.map((g) => `  - ${g}`),
    '',
    'advisory only: bosun golive never changes a flag (edit .env and restart).',
  ];
  return lines.join('\n');
}

export async function golive(ctx: CliContext, args: string[]): Promise<number> {
  parse(args, {});
  const { body } = await call(ctx, ctx.opsUrl, 'GET', '/golive');
  emit(ctx, body, () => formatGoLive(body as GoLiveReport));
  return EXIT_OK;
}
