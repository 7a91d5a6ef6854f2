import { readFileSync, renameSync, rmSync } from 'node:fs';
import { errorMessage } from '../domain/errors.js';
import type { TrendParams } from '../strategies/trend.js';
import { type AutoTuneState, AutoTuneStateSchema, initialAutoTune } from '../strategies/trend-auto-tune.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * `state/runtime/trend_auto_tune.json` (the runbook's `data/runtime/…`). A deleted file means env defaults; a
 * corrupt one means defaults plus a warning, never a throw (so never a crash loop), and the bad file is kept beside
 * it as `<path>.corrupt-<ts>` for the operator. Writes are atomic (tmp + fsync + rename).
 */
export interface AutoTuneFile {
  path: string;
  load(): { state: AutoTuneState; source: 'file' | 'defaults' | 'corrupt'; warning?: string };
  save(state: AutoTuneState): void;
  /** Deletes the file (the runbook's "force trend auto-tune reset"); true if it existed. */
  remove(): boolean;
}

export function createAutoTuneFile(path: string, defaults: TrendParams, now: () => number): AutoTuneFile {
  return {
    path,
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT')
          return { state: initialAutoTune(defaults, now()), source: 'defaults' };
        return {
          state: initialAutoTune(defaults, now()),
          source: 'corrupt',
          warning: `unreadable: ${errorMessage(e)}`,
        };
      }
      let warning: string;
      try {
        const parsed = AutoTuneStateSchema.safeParse(JSON.parse(text));
        if (parsed.success) return { state: parsed.data, source: 'file' };
        const i = parsed.error.issues[0];
        warning = `invalid at ${i?.path.join('.') || '(document)'}: ${i?.message ?? 'schema mismatch'}`;
      } catch (e) {
        warning = `not JSON: ${errorMessage(e)}`;
      }
      const kept = `${path}.corrupt-${now()}`;
      try {
        renameSync(path, kept);
        warning += ` (kept as ${kept})`;
      } catch {
        // leave it in place; defaults still apply
      }
      return { state: initialAutoTune(defaults, now()), source: 'corrupt', warning };
    },
    save(state) {
      writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
    },
    remove() {
      try {
        rmSync(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}
