import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The file-system calls it makes: a seam so a test can fail one step (e.g. fsync) without module mocks. */
export type AtomicFileIo = Pick<
  typeof nodeFs,
  'mkdirSync' | 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'rmSync' | 'readFileSync'
>;

/**
 * Atomic, durable file replacement for the state files operators read (portfolio.json, trend_auto_tune.json,
 * ops/strategy_weights.json): write a temp file beside the target, fsync it, rename it over the target, fsync the
 * folder. A crash leaves the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, text: string, io: AtomicFileIo = nodeFs): void {
  const dir = dirname(path);
  io.mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.atomic.tmp`);
  try {
    const fd = io.openSync(tmp, 'w', 0o644);
    try {
      io.writeSync(fd, text);
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    io.renameSync(tmp, path);
  } catch (e) {
    io.rmSync(tmp, { force: true });
    throw e;
  }
  // The rename is durable only once the folder entry is; a platform that cannot fsync a folder keeps the rename.
  try {
    const dfd = io.openSync(dir, 'r');
    try {
      io.fsyncSync(dfd);
    } finally {
      io.closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/**
 * The same replacement off the event loop (fs/promises: the writes and fsyncs run on libuv's pool). For files
 * written by periodic work that must not stall ticks: an fsync can take tens of milliseconds on a busy disk.
 */
export async function writeFileAtomicAsync(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.atomic.tmp`);
  try {
    const fh = await fsp.open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  try {
    const dh = await fsp.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // best effort
  }
}
