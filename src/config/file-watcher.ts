import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type ConfigFallback, ConfigFileError, type ConfigIssue } from './config-error.js';

/**
 * Loads, validates and hot-reloads operator files (`ops/*.json|yaml`).
 *
 * - Changes are seen two ways: `fs.watch` on each file's *directory* (editors and `POST /strategy/weights`
 *   save by writing a temp file and renaming it over the target, which a watch on the file itself misses
 *   after the first rename) and a poll every `pollMs` (≤ 60 s, the runbook's promise), because fs.watch is
 *   best effort (network filesystems, bind mounts, some container overlays).
 * - Both paths feed one serialised reload per file that hashes the content and skips content it has already
 *   processed, so a change is applied once, and a bad file is reported once, not on every poll.
 * - A bad file (unreadable, unparsable, failing the schema, or deleted) keeps the last good value and calls
 *   `onError` with a `ConfigFileError` naming the file and the issues.
 * - A file missing **at start** is not an error: its spec's `defaultValue` (parsed by its schema) applies,
 *   with a warning in the log. A file that exists but is bad at start also falls back to `defaultValue`,
 *   and `onError` is called (`fallback: 'default'`) so the config actor reports DEGRADED.
 */

export interface ConfigFileSpec<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** Logical name (`policies`), used in callbacks, logs and metrics labels. */
  name: N;
  path: string;
  schema: S;
  /** Input parsed by `schema` when the file is missing at start or bad before any good version was seen. */
  defaultValue?: unknown;
}

export type ConfigSource = 'file' | 'default';

export interface ConfigChangeInfo {
  source: ConfigSource;
  path: string;
  /** sha256 of the file content ('' for a default). */
  hash: string;
}

/** The slice of a pino logger the watcher uses. */
export interface ConfigLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

type SpecOf<F extends readonly ConfigFileSpec[], N> = Extract<F[number], { name: N }>;
export type ConfigFileValue<F extends readonly ConfigFileSpec[], N extends F[number]['name']> = z.output<
  SpecOf<F, N>['schema']
>;

export interface ConfigFileWatcherOptions<F extends readonly ConfigFileSpec[]> {
  files: F;
  /** Poll period in ms; 1..60000. */
  pollMs: number;
  /** Quiet time after a watch event before reading (editors emit several events per save). Default 50 ms. */
  debounceMs?: number;
  /** Use fs.watch besides the poll (default true); tests turn it off to prove the poll alone works. */
  watch?: boolean;
  onChange(name: F[number]['name'], value: unknown, info: ConfigChangeInfo): void;
  onError(name: F[number]['name'], error: ConfigFileError): void;
  log?: ConfigLog;
}

export interface ConfigFileWatcher<F extends readonly ConfigFileSpec[]> {
  /** The last good value of a file (or its default); throws if it never had one. */
  current<N extends F[number]['name']>(name: N): ConfigFileValue<F, N>;
  /** Re-reads every file now and resolves when each has been processed. */
  reloadNow(): Promise<void>;
  /** Stops the watch and the poll; callbacks stop. */
  close(): void;
}

const MAX_POLL_MS = 60_000;
const MISSING = 'missing';

interface FileState {
  spec: ConfigFileSpec;
  /** Hash of the content last processed, good or bad; `undefined` before the first read. */
  lastHash: string | undefined;
  hasGood: boolean;
  value: unknown;
  source: ConfigSource | undefined;
  /** Serialises reloads of this file so an older read can never overwrite a newer one. */
  chain: Promise<void>;
  debounce: NodeJS.Timeout | undefined;
}

function zodIssues(err: z.ZodError): ConfigIssue[] {
  return err.issues.map((i) => ({
    path: i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, ''),
    message: i.message,
  }));
}

function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase();
  return ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
}

function errorMessageOf(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
}

/** Loads every file, then watches and polls them; resolves once each file has a value or an error. */
export async function createConfigFileWatcher<const F extends readonly ConfigFileSpec[]>(
  opts: ConfigFileWatcherOptions<F>,
): Promise<ConfigFileWatcher<F>> {
  if (!(opts.pollMs > 0 && opts.pollMs <= MAX_POLL_MS)) {
    throw new RangeError(`pollMs must be in 1..${MAX_POLL_MS} (got ${opts.pollMs})`);
  }
  const names = new Set<string>();
  for (const f of opts.files) {
    if (names.has(f.name)) throw new Error(`config file name "${f.name}" is used twice`);
    names.add(f.name);
  }
  const debounceMs = opts.debounceMs ?? 50;
  const states = new Map<string, FileState>(
    opts.files.map((spec) => [
      spec.name,
      {
        spec,
        lastHash: undefined,
        hasGood: false,
        value: undefined,
        source: undefined,
        chain: Promise.resolve(),
        debounce: undefined,
      },
    ]),
  );
  let closed = false;

  const report = (st: FileState, issues: ConfigIssue[], cause?: unknown): void => {
    const fallback: ConfigFallback = !st.hasGood ? 'none' : st.source === 'default' ? 'default' : 'last-good';
    const err = new ConfigFileError(st.spec.name, st.spec.path, issues, { cause, fallback });
    opts.log?.error({ file: st.spec.name, path: st.spec.path, fallback, issues }, err.message);
    try {
      opts.onError(st.spec.name, err);
    } catch (e) {
      opts.log?.error({ file: st.spec.name, err: e }, 'config onError handler threw');
    }
  };

  const apply = (st: FileState, value: unknown, info: ConfigChangeInfo): void => {
    st.value = value;
    st.hasGood = true;
    st.source = info.source;
    opts.log?.info({ file: st.spec.name, path: st.spec.path, source: info.source }, 'config file applied');
    try {
      opts.onChange(st.spec.name, value, info);
    } catch (e) {
      opts.log?.error({ file: st.spec.name, err: e }, 'config onChange handler threw');
    }
  };

  /** Falls back to the spec's default before any good value exists; returns whether it did. */
  const applyDefault = (st: FileState): boolean => {
    if (st.hasGood || st.spec.defaultValue === undefined) return false;
    const r = st.spec.schema.safeParse(st.spec.defaultValue);
    if (!r.success) throw new Error(`default of config file ${st.spec.name} fails its schema: ${r.error.message}`);
    apply(st, r.data, { source: 'default', path: st.spec.path, hash: '' });
    return true;
  };

  const processFile = async (st: FileState): Promise<void> => {
    let text: string | undefined;
    let readError: unknown;
    try {
      text = await readFile(st.spec.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') readError = e;
    }
    if (closed) return;
    const hash =
      text !== undefined
        ? createHash('sha256').update(text).digest('hex')
        : readError
          ? `error:${errorMessageOf(readError)}`
          : MISSING;
    if (hash === st.lastHash) return; // already processed this content (the other of watch/poll got here first)
    const atStart = st.lastHash === undefined;
    st.lastHash = hash;

    if (text === undefined) {
      if (readError !== undefined) {
        const usedDefault = applyDefault(st);
        report(st, [{ path: '', message: `cannot read: ${errorMessageOf(readError)}` }], readError);
        if (usedDefault) opts.log?.warn({ file: st.spec.name }, 'using defaults until the file can be read');
        return;
      }
      if (atStart && applyDefault(st)) {
        opts.log?.warn({ file: st.spec.name, path: st.spec.path }, 'config file missing at start; using defaults');
        return;
      }
      report(st, [{ path: '', message: 'file is missing' }]);
      return;
    }

    let data: unknown;
    try {
      data = parseText(st.spec.path, text);
    } catch (e) {
      applyDefault(st);
      report(st, [{ path: '', message: `cannot parse: ${errorMessageOf(e)}` }], e);
      return;
    }
    const r = st.spec.schema.safeParse(data);
    if (!r.success) {
      applyDefault(st);
      report(st, zodIssues(r.error), r.error);
      return;
    }
    apply(st, r.data, { source: 'file', path: st.spec.path, hash });
  };

  const enqueue = (st: FileState): Promise<void> => {
    st.chain = st.chain
      .then(() => processFile(st))
      .catch((e) => opts.log?.error({ file: st.spec.name, err: e }, 'config reload failed'));
    return st.chain;
  };

  const reloadAll = async (): Promise<void> => {
    await Promise.all([...states.values()].map(enqueue));
  };

  // Watch before the first load: a change made between the load and the watch would otherwise wait for the poll.
  const watchers: FSWatcher[] = [];
  if (opts.watch !== false) {
    const byDir = new Map<string, FileState[]>();
    for (const st of states.values()) {
      const dir = dirname(resolve(st.spec.path));
      byDir.set(dir, [...(byDir.get(dir) ?? []), st]);
    }
    for (const [dir, list] of byDir) {
      const schedule = (st: FileState) => {
        if (closed) return;
        if (st.debounce) clearTimeout(st.debounce);
        st.debounce = setTimeout(() => {
          st.debounce = undefined;
          void enqueue(st);
        }, debounceMs);
        st.debounce.unref();
      };
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          const name = filename === null ? null : String(filename);
          for (const st of list) if (name === null || basename(st.spec.path) === name) schedule(st);
        });
        // e.g. the directory was removed: the poll still covers the files.
        w.on('error', (e) => opts.log?.warn({ dir, err: e }, 'config directory watch failed; polling only'));
        watchers.push(w);
      } catch (e) {
        opts.log?.warn({ dir, err: e }, 'cannot watch config directory; polling only');
      }
    }
  }

  await reloadAll();

  const poll = setInterval(() => void reloadAll(), opts.pollMs);
  poll.unref();

  return {
    current(name) {
      const st = states.get(name);
      if (st === undefined) throw new Error(`unknown config file "${name}"`);
      if (!st.hasGood) throw new Error(`config file "${name}" (${st.spec.path}) has no valid version yet`);
      return st.value as never;
    },
    reloadNow: reloadAll,
    close() {
      closed = true;
      clearInterval(poll);
      for (const st of states.values()) if (st.debounce) clearTimeout(st.debounce);
      for (const w of watchers) w.close();
    },
  };
}
