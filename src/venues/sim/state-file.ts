/**
 * Where a persistent simulator keeps its state: one JSON file under its state directory, replaced atomically
 * (write a temporary file, fsync it, rename it over the old one, fsync the directory), so a `kill -9` at any
 * instant leaves either the previous state or the new one, never a torn file. The simulator awaits a save before
 * it answers a request that changed something, as a venue's matching engine commits before it acknowledges.
 *
 * Writes are coalesced: a save asked for while one is on disk waits for it and then writes the newest state once
 * for every caller that asked in the meantime (a whole snapshot is a few hundred kB for thousands of orders).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimSnapshot } from './sim-snapshot.js';

export const STATE_FILE = 'simulator-state.json';

export class SimStateFile {
  readonly path: string;
  private readonly tmp: string;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private saved = -1;
  writes = 0;

  constructor(
    readonly dir: string,
    /** The state to write, and the version it is at (a save at an unchanged version writes nothing). */
    private readonly source: () => { version: number; snapshot: () => SimSnapshot },
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, STATE_FILE);
    this.tmp = `${this.path}.tmp`;
  }

  /** The persisted state, or undefined when there is none yet; a file that does not parse throws (fail closed). */
  load(): SimSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return JSON.parse(text) as SimSnapshot;
  }

  /** The version last made durable (-1 before the first save or load). */
  get savedVersion(): number {
    return this.saved;
  }

  /** Marks the state as already on disk at `version` (just loaded). */
  markSaved(version: number): void {
    this.saved = version;
  }

  /** Resolves once a state at least as new as the one in memory now is durable on disk. */
  save(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    if (this.running === undefined) return this.start();
    const after = this.running.catch(() => undefined);
    this.queued = after.then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const p = this.write().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async write(): Promise<void> {
    const { version, snapshot } = this.source();
    if (version === this.saved) return;
    const text = JSON.stringify(snapshot());
    const fh = await open(this.tmp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(this.tmp, this.path);
    // The rename itself must survive a power cut: fsync the directory entry.
    const d = openSync(this.dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
    this.saved = version;
    this.writes += 1;
  }
}
