/**
 * `state/portfolio.json`: the portfolio snapshot Bosun writes periodically and on shutdown, with the journal
 * sequence it reflects and a hash of its content (DESIGN §6). At boot the file is classified: what Bosun last
 * wrote (`ours`), an operator adjustment (`operator_edited`: loaded as the baseline and audited by the caller),
 * absent, or unreadable. Reading never throws: a bad file must not turn boot into a crash loop.
 */
import * as nodeFs from 'node:fs';
import { z } from 'zod';
import { errorMessage } from '../domain/errors.js';
import { type Ledger, LedgerSchema, type Valuation } from '../domain/portfolio.js';
import { sha256Canonical } from '../store/canonical-json.js';
import { type AtomicFileIo, writeFileAtomic } from './atomic-file.js';

export interface PortfolioDocument {
  version: 1;
  writtenAt: number;
  journalSeq: number;
  ledger: Ledger;
  valuation: Valuation;
  /** sha256 hex of the canonical JSON of every other field. */
  hash: string;
}

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

const HoldingSchema = z.object({ amount: finite, priceUsd: finite.nullable(), valueUsd: finite });
const ValuationSchema = z.object({
  venues: z.record(
    z.string(),
    z.object({
      cashUsd: finite,
      marketValueUsd: finite,
      equityUsd: finite,
      holdings: z.record(z.string(), HoldingSchema),
    }),
  ),
  cashUsd: finite,
  marketValueUsd: finite,
  equityUsd: finite,
  residualUsd: finite,
  unpricedAssets: z.array(z.string()),
});

/**
 * The document as read back. Not strict: an operator may add a `_comment`; any change at all (even an added key)
 * still shows up as an edit, because the hash is checked against the raw content, not the parsed one.
 */
export const PortfolioDocumentSchema = z.object({
  version: z.literal(1),
  writtenAt: finite.min(0),
  journalSeq: z.number().int().min(0),
  ledger: LedgerSchema,
  valuation: ValuationSchema,
  hash: z.string(),
});

/** The hash of a document's content: everything but the `hash` field itself. */
export function portfolioHash(content: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = content;
  return sha256Canonical(rest);
}

/**
 * Assembles a document. Ledger and valuation are deep-copied through JSON, so later changes to the live ledger
 * cannot make the hash disagree with the content, and what is hashed is exactly what the file will hold.
 */
export function buildPortfolioDocument(
  ledger: Ledger,
  valuation: Valuation,
  journalSeq: number,
  writtenAt: number,
): PortfolioDocument {
  const content = {
    version: 1 as const,
    writtenAt,
    journalSeq,
    ledger: JSON.parse(JSON.stringify(ledger)) as Ledger,
    valuation: JSON.parse(JSON.stringify(valuation)) as Valuation,
  };
  return { ...content, hash: portfolioHash(content) };
}

export type PortfolioFileStatus = 'missing' | 'ours' | 'operator_edited' | 'corrupt';

export interface PortfolioReadResult {
  doc: PortfolioDocument | null;
  status: PortfolioFileStatus;
  detail?: string;
}

export interface PortfolioFile {
  path: string;
  /** Atomic replace: write a temp file beside the target, fsync it, rename over the target, fsync the folder. */
  write(doc: PortfolioDocument): void;
  /** Classifies the file on disk; never throws. */
  read(): PortfolioReadResult;
}

/** The file-system calls the codec makes (a test seam, see atomic-file.ts). */
export type PortfolioFileIo = AtomicFileIo;

function classify(text: string, lastWrittenHash: string | undefined): PortfolioReadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { doc: null, status: 'corrupt', detail: `not JSON: ${errorMessage(e)}` };
  }
  const parsed = PortfolioDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : '(document)';
    return { doc: null, status: 'corrupt', detail: `invalid at ${where}: ${first?.message ?? 'schema mismatch'}` };
  }
  const doc = parsed.data as PortfolioDocument;
  const contentHash = portfolioHash(raw as Record<string, unknown>);
  if (contentHash !== doc.hash) return { doc, status: 'operator_edited', detail: 'hash does not match the content' };
  if (doc.hash !== lastWrittenHash) {
    return {
      doc,
      status: 'operator_edited',
      detail:
        lastWrittenHash === undefined
          ? 'no record of Bosun writing this file'
          : 'content differs from what Bosun last wrote',
    };
  }
  return { doc, status: 'ours' };
}

/**
 * The codec for one path. `lastWrittenHash` returns the hash of the last document Bosun wrote (kept durably by
 * the caller, e.g. in LMDB's kv); a file with any other hash — including when no hash was ever recorded — is an
 * operator adjustment. `io` defaults to node:fs.
 */
export function createPortfolioFile(
  path: string,
  lastWrittenHash: () => string | undefined,
  io: PortfolioFileIo = nodeFs,
): PortfolioFile {
  return {
    path,
    write(doc) {
      writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`, io);
    },
    read() {
      let text: string;
      try {
        text = io.readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { doc: null, status: 'missing' };
        return { doc: null, status: 'corrupt', detail: `unreadable: ${errorMessage(e)}` };
      }
      let last: string | undefined;
      try {
        last = lastWrittenHash();
      } catch {
        // Unknown provenance is treated like no record: the file is loaded as an audited adjustment.
        last = undefined;
      }
      return classify(text, last);
    },
  };
}
