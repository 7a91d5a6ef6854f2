import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { errorMessage } from '../domain/errors.js';
import { openStore } from '../store/index.js';
import { parse } from './args.js';
import { type CliContext, CliFailure, call, EXIT_OK, emit, UsageError } from './cli-context.js';

const run = promisify(execFile);

/**
 * `bosun backup` / `bosun restore` (runbook "Backups & Compliance", mapped to Bosun's paths, DESIGN §2):
 * a timestamped `.tar.gz` holding the LMDB environment (the runbook's `trades.db`: journal, orders, ledger,
 * audit chain), `state/portfolio.json`, the JSONL mirrors, the auto-tune/scanner state and the operator files.
 * While Bosun runs the LMDB copy comes from `POST /backup` (one read transaction, consistent under writes);
 * when nothing answers, the CLI copies the environment itself the same way. Tarring shells out to `tar`.
 * A `MANIFEST.json` carries each file's sha256; restore checks every one before it writes anything.
 */
export const ARCHIVE_DB = 'state/db/data.mdb';
const ARCHIVE_PORTFOLIO = 'state/portfolio.json';

/** Archive path → where it lives (state/… under the state dir, ops/… under the ops dir). Optional unless noted. */
function sources(ctx: CliContext): Array<{ archive: string; from: string; required?: boolean }> {
  const s = (p: string) => ({ archive: `state/${p}`, from: join(ctx.stateDir, p) });
  const o = (p: string) => ({ archive: `ops/${p}`, from: join(ctx.opsDir, p) });
  return [
    s('portfolio.json'),
    s('logs/orders.jsonl'),
    s('logs/audit.jsonl'),
    s('logs/events.jsonl'),
    s('runtime/trend_auto_tune.json'),
    s('runtime/symbol_scanner_state.json'),
    o('capital_allocations.json'),
    o('strategy_weights.json'),
    o('policies.yaml'),
  ];
}

const ManifestSchema = z.object({
  format: z.literal('bosun-backup/1'),
  createdAt: z.string(),
  source: z.enum(['online', 'offline']),
  files: z.array(
    z.object({
      path: z
        .string()
        .regex(/^(state|ops)\/[A-Za-z0-9_./-]+$/)
        .refine((p) => !p.split('/').includes('..'), 'no .. in archive paths'),
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  missing: z.array(z.string()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const stamp = (d = new Date()) => d.toISOString().replace(/[:.]/g, '-');

/** Is a Bosun answering on the ops or engine URL? (Any HTTP answer counts.) */
async function answering(ctx: CliContext): Promise<string | undefined> {
  for (const base of [ctx.opsUrl, ctx.engineUrl]) {
    try {
      await fetch(`${base.replace(/\/+$/, '')}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return base;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

/**
 * Processes holding `file` open (Linux `/proc/<pid>/fd`): a Bosun on other ports still holds its LMDB open.
 * Processes of other users are unreadable and skipped; elsewhere than Linux this finds nothing.
 */
function holders(file: string): number[] {
  if (!existsSync(file) || !existsSync('/proc/self/fd')) return [];
  const target = realpathSync(file);
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) {
          pids.push(Number(pid));
          break;
        }
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return pids;
}

/** The LMDB copy: from the running Bosun, or directly when none answers. Returns its file and how to clean up. */
async function copyDb(
  ctx: CliContext,
): Promise<{ file: string; portfolio?: string; source: 'online' | 'offline'; cleanup: () => void }> {
  try {
    const { body } = await call(ctx, ctx.opsUrl, 'POST', '/backup', { command: true });
    const b = body as { db?: { path?: string }; portfolio?: { path?: string } | null };
    const file = b.db?.path;
    if (!file || !existsSync(file))
      throw new CliFailure(`POST /backup answered a path this host cannot read: ${String(file)}`);
    // The portfolio.json taken with the LMDB copy (the live file may have been rewritten since: it would not match).
    const portfolio = b.portfolio?.path;
    if (portfolio !== undefined && !existsSync(portfolio))
      throw new CliFailure(`POST /backup answered a path this host cannot read: ${portfolio}`);
    return {
      file,
      ...(portfolio !== undefined ? { portfolio } : {}),
      source: 'online',
      cleanup: () => rmSync(dirname(file), { recursive: true, force: true }),
    };
  } catch (e) {
    if (!(e instanceof CliFailure && e.unreachable)) throw e;
  }
  const dbDir = join(ctx.stateDir, 'db');
  if (!existsSync(join(dbDir, 'data.mdb')))
    throw new CliFailure(`Bosun is not answering at ${ctx.opsUrl} and there is no LMDB environment at ${dbDir}`);
  const dir = mkdtempSync(join(tmpdir(), 'bosun-db-copy-'));
  const store = await openStore({ dir: dbDir });
  try {
    const r = await store.backup(join(dir, 'db'));
    return { file: r.path, source: 'offline', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    await store.close();
  }
}

export async function backup(ctx: CliContext, args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' } });
  const outDir = resolve(values.out ?? 'backups');
  const at = new Date();
  const db = await copyDb(ctx);
  const staging = mkdtempSync(join(tmpdir(), 'bosun-backup-'));
  try {
    const files: Manifest['files'] = [];
    const missing: string[] = [];
    const put = (archive: string, from: string) => {
      const to = join(staging, archive);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
      files.push({ path: archive, bytes: statSync(to).size, sha256: sha256File(to) });
    };
    put(ARCHIVE_DB, db.file);
    for (const f of sources(ctx)) {
      const from = f.archive === ARCHIVE_PORTFOLIO && db.portfolio !== undefined ? db.portfolio : f.from;
      if (existsSync(from)) put(f.archive, from);
      else missing.push(f.archive);
    }
    const manifest: Manifest = {
      format: 'bosun-backup/1',
      createdAt: at.toISOString(),
      source: db.source,
      files,
      missing,
    };
    writeFileSync(join(staging, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    mkdirSync(outDir, { recursive: true });
    const tarball = join(outDir, `bosun-backup-${stamp(at)}.tar.gz`);
    await run('tar', ['-czf', tarball, '-C', staging, 'MANIFEST.json', ...files.map((f) => f.path)]);
    const bytes = statSync(tarball).size;
    emit(ctx, { tarball, bytes, ...manifest }, () =>
      [
        `backup written: ${tarball} (${bytes} bytes, LMDB copied ${db.source === 'online' ? 'from the running Bosun' : 'directly: Bosun was not answering'})`,
        ...files.map((f) => `  ${f.path} ${f.bytes} bytes`),
        ...(missing.length ? [`  not present (skipped): ${missing.join(', ')}`] : []),
      ].join('\n'),
    );
    return EXIT_OK;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    db.cleanup();
  }
}

export async function restore(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { force: { type: 'boolean' }, 'no-ops': { type: 'boolean' } }, 1);
  const tarball = positionals[0];
  if (!tarball) throw new UsageError('restore needs <tarball>, e.g. bosun restore backups/bosun-backup-….tar.gz');
  if (!existsSync(tarball)) throw new UsageError(`no such file: ${tarball}`);
  const live = await answering(ctx);
  if (live) throw new CliFailure(`Bosun is running at ${live}: stop it first (make down, or SIGTERM the process)`);
  const dbFile = join(ctx.stateDir, 'db', 'data.mdb');
  const open = holders(dbFile);
  if (open.length > 0)
    throw new CliFailure(`${dbFile} is open in process ${open.join(', ')} (a running Bosun?): stop it first`);
  if (existsSync(dbFile) && !values.force)
    throw new CliFailure(
      `${ctx.stateDir} already holds an LMDB environment: restore into a fresh state dir (--state-dir), or pass --force to move the current one aside`,
    );

  const staging = mkdtempSync(join(tmpdir(), 'bosun-restore-'));
  try {
    try {
      await run('tar', ['-xzf', tarball, '-C', staging, '--no-same-owner', '--no-same-permissions']);
    } catch (e) {
      throw new CliFailure(`cannot unpack ${tarball}: ${errorMessage(e)}`);
    }
    let manifest: Manifest;
    try {
      manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(staging, 'MANIFEST.json'), 'utf8')));
    } catch (e) {
      throw new CliFailure(`${tarball} is not a bosun backup (MANIFEST.json: ${errorMessage(e)})`);
    }
    if (!manifest.files.some((f) => f.path === ARCHIVE_DB)) throw new CliFailure(`${tarball} holds no ${ARCHIVE_DB}`);
    // Every checksum before anything is written: a damaged archive restores nothing.
    for (const f of manifest.files) {
      const p = join(staging, f.path);
      const rel = relative(staging, p);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new CliFailure(`unsafe path in manifest: ${f.path}`);
      if (!existsSync(p)) throw new CliFailure(`${f.path} is listed in the manifest but not in the archive`);
      if (sha256File(p) !== f.sha256) throw new CliFailure(`${f.path} does not match its sha256: archive damaged`);
    }
    let movedAside: string | undefined;
    if (existsSync(dbFile)) {
      movedAside = `${resolve(ctx.stateDir)}.pre-restore-${stamp()}`;
      renameSync(ctx.stateDir, movedAside);
    }
    const written: string[] = [];
    for (const f of manifest.files) {
      const isOps = f.path.startsWith('ops/');
      if (isOps && values['no-ops']) continue;
      const to = isOps ? join(ctx.opsDir, f.path.slice(4)) : join(ctx.stateDir, f.path.slice(6));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(staging, f.path), to);
      written.push(to);
    }
    // LMDB is the truth: the mirrors are rebuilt from the restored environment, so they match it record for
    // record (the archived audit.jsonl may end with the line of the backup's own audit record).
    const store = await openStore({ dir: join(ctx.stateDir, 'db'), logsDir: join(ctx.stateDir, 'logs') });
    let counts: { events: number; orders: number; audit: number };
    try {
      counts = await store.exportJsonl();
    } finally {
      await store.close();
    }
    emit(
      ctx,
      { restored: written, movedAside: movedAside ?? null, mirrors: counts, createdAt: manifest.createdAt },
      () =>
        [
          `restored ${tarball} (taken ${manifest.createdAt}) into ${ctx.stateDir}${values['no-ops'] ? '' : ` and ${ctx.opsDir}`}`,
          ...written.map((w) => `  ${w}`),
          `  mirrors rebuilt from LMDB: ${counts.events} events, ${counts.orders} orders, ${counts.audit} audit records`,
          ...(movedAside ? [`  the previous state dir was moved to ${movedAside}`] : []),
          'start Bosun, then run `bosun reconcile` (runbook Restart & Recovery, step 5)',
        ].join('\n'),
    );
    return EXIT_OK;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
