import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import type { LedgerBook } from './ledger-book.js';
import { buildPortfolioDocument, createPortfolioFile, type PortfolioReadResult } from './portfolio-file.js';

/**
 * `state/portfolio.json` (DESIGN §6): written periodically and on shutdown from the ledger (the one book), read at
 * boot to tell Bosun's own file from an operator adjustment.
 *
 * The hashes of the last two files Bosun wrote are kept in LMDB: the newer is recorded before the file is
 * replaced, so after a crash between the two steps the file on disk (the previous one) is still recognised as
 * Bosun's own, never mistaken for an operator adjustment (which would load a stale baseline).
 */
const HASHES_KEY = 'portfolio_file_hashes';

export function createPortfolioSnapshots(deps: {
  path: string;
  store: Pick<Store, 'kv' | 'journal'>;
  book: LedgerBook;
  prices: () => Record<string, number>;
  now: () => number;
}) {
  const { store, book } = deps;
  const ownHashes = () => store.kv.get<string[]>(HASHES_KEY) ?? [];
  const hashOnDisk = (): string | undefined => {
    try {
      const h = (JSON.parse(readFileSync(deps.path, 'utf8')) as { hash?: unknown }).hash;
      return typeof h === 'string' ? h : undefined;
    } catch {
      return undefined;
    }
  };
  const file = createPortfolioFile(deps.path, () => {
    const own = ownHashes();
    const onDisk = hashOnDisk();
    return onDisk !== undefined && own.includes(onDisk) ? onDisk : own.at(-1);
  });
  let last: ReturnType<typeof buildPortfolioDocument> | undefined;
  const doc = () =>
    buildPortfolioDocument(book.ledger(), book.valuation(deps.prices()), store.journal.lastSeq(), deps.now());
  return {
    path: deps.path,
    read: (): PortfolioReadResult => file.read(),
    doc,
    async write(): Promise<void> {
      const d = doc();
      await store.kv.put(HASHES_KEY, [...ownHashes().slice(-1), d.hash]);
      file.write(d);
      last = d;
    },
    lastWrittenAt: () => last?.writtenAt ?? null,
  };
}

export type PortfolioSnapshots = ReturnType<typeof createPortfolioSnapshots>;

/**
 * `POST /backup`'s copy (DESIGN §2): `portfolio.json` first, then the LMDB environment (one read transaction), both
 * into `dir`. In that order the copy still lists the file's hash among Bosun's own (the last two are kept), so a
 * restore reads the pair as Bosun's. The other way round, a snapshot written between the two is not in the copy's
 * list: the restored Bosun took its own file for an operator's edit and re-baselined the ledger from it.
 */
export async function snapshotForBackup(
  store: Pick<Store, 'backup'>,
  portfolioPath: string,
  dir: string,
): Promise<{ path: string; bytes: number; portfolio: string | null }> {
  mkdirSync(dir, { recursive: true });
  const portfolio = existsSync(portfolioPath) ? join(dir, 'portfolio.json') : null;
  if (portfolio) copyFileSync(portfolioPath, portfolio);
  return { ...(await store.backup(dir)), portfolio };
}
