import { AppError } from '../../domain/errors.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * `POST /backup` (ops): copies the LMDB environment consistently while Bosun keeps running (one read
 * transaction, `mdb_env_copy2`) to a fresh directory under `state/backups/`, with the `portfolio.json` that goes
 * with it (copied just before the LMDB copy, so the copy knows it as Bosun's own), and answers where both are. The
 * `bosun backup` CLI tars that copy with the other files the runbook's "Backups & Compliance" lists. Needs the
 * token, takes an Idempotency-Key (a replay answers the first copy's path instead of copying again), audited.
 */
export function backupRoutes(app: ZodApp, ctx: RouteContext): void {
  app.post('/backup', { config: { command: 'backup' }, ...ctx.command }, async (request) => {
    const backup = ctx.deps.backup;
    if (!backup) throw new AppError('NOT_READY', 'backups are not wired in this process');
    const r = await backup.snapshotDb();
    await ctx.trail.record(request, { action: 'backup', target: 'state/db', after: r, result: 'ok' });
    return {
      db: { path: r.path, bytes: r.bytes },
      portfolio: r.portfolio === null ? null : { path: r.portfolio },
      at: r.at,
    };
  });
}
