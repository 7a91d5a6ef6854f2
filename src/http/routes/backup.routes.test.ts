import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../../test/http/support/fakes.js';
import { snapshotForBackup } from '../../actors/portfolio-snapshots.js';
import { openStore, type Store } from '../../store/index.js';
import { buildServer } from '../build-server.js';
import type { BackupPort } from '../ports.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The ops listener with `POST /backup` backed by a real LMDB store's consistent copy. */
async function setup(withBackup = true) {
  const store: Store = await openStore({ dir: mkdtempSync(join(tmpdir(), 'bosun-backup-route-')) });
  cleanups.push(() => store.close());
  await store.kv.put('marker', { v: 42 });
  const backupRoot = mkdtempSync(join(tmpdir(), 'bosun-backup-copies-'));
  let n = 0;
  const backup: BackupPort = {
    snapshotDb: async () => ({
      ...(await snapshotForBackup(store, join(backupRoot, 'no-portfolio.json'), join(backupRoot, `db-${++n}`))),
      at: 1_700_000_000_000,
    }),
  };
  const deps = fakeDeps(withBackup ? { backup } : {});
  const app = await buildServer(deps, 'ops');
  cleanups.push(() => app.close());
  const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/backup', headers });
  return { deps, post, backupRoot, count: () => n };
}

describe('POST /backup', () => {
  it('writes a consistent copy that opens as an LMDB environment, audited', async () => {
    const { deps, post } = await setup();
    const res = await post({ 'x-ops-token': TOKEN, 'x-ops-actor': 'alice', 'idempotency-key': 'b-1' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { db: { path: string; bytes: number }; portfolio: unknown; at: number };
    expect(body.db.path).toMatch(/db-1\/data\.mdb$/);
    // No portfolio.json written yet: the answer says so rather than naming a file that is not there.
    expect(body.portfolio).toBeNull();
    expect(body.db.bytes).toBeGreaterThan(0);
    const copy = await openStore({ dir: join(body.db.path, '..') });
    try {
      expect(copy.kv.get('marker')).toEqual({ v: 42 });
    } finally {
      await copy.close();
    }
    expect(deps.audit.records).toMatchObject([{ actor: 'alice', action: 'backup', target: 'state/db', result: 'ok' }]);
  });

  it('replays the first answer for the same Idempotency-Key instead of copying again', async () => {
    const { post, count } = await setup();
    const h = { 'x-ops-token': TOKEN, 'idempotency-key': 'b-2' };
    const a = await post(h);
    const b = await post(h);
    expect(b.statusCode).toBe(200);
    expect(b.json()).toEqual(a.json());
    expect(count()).toBe(1);
  });

  it('refuses without the token (401) and copies nothing', async () => {
    const { post, count, deps } = await setup();
    const res = await post({ 'idempotency-key': 'b-3' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
    expect(count()).toBe(0);
    expect(deps.audit.records.filter((r) => r.action === 'backup' && r.result === 'ok')).toEqual([]);
  });

  it('answers 503 NOT_READY when the process has no backup wired', async () => {
    const { post } = await setup(false);
    const res = await post({ 'x-ops-token': TOKEN, 'idempotency-key': 'b-4' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'NOT_READY', message: 'backups are not wired in this process' });
  });
});
