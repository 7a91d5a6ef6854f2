import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';

export type MirrorErrorHook = (err: unknown, path: string) => void;

/**
 * A human-readable JSONL copy of an LMDB database (DESIGN §6). Lines are queued only after their commit
 * resolved, so the file never shows something LMDB does not hold; it may lag behind (a crash loses the unwritten
 * tail, which the owner restores at open with `recoverTail` + `appendNow`, or rebuilds with `replace`). Mirror failures never fail the ack path: LMDB is the truth.
 */
export interface JsonlMirror {
  readonly path: string;
  /** Queues one committed record's line; written in order at the next macrotask; never throws. */
  write(seq: number, line: string | LazyLine): void;
  /** Cuts a torn last line (a crash mid-append) and returns the last line's `seq`: 0 if empty, undefined if unreadable. */
  recoverTail(): number | undefined;
  /** Appends lines synchronously (boot catch-up, before any live write is queued). */
  appendNow(lines: Iterable<string>): void;
  /** Holds queued lines back (and lets go of the file), so the file can be swapped safely. */
  pause(): Promise<void>;
  /** While paused: atomically replaces the file with `lines` (every seq ≤ upTo); drops queued lines it covers. */
  replace(upTo: number, lines: Iterable<string>): number;
  /** Lets held lines flow again. */
  resume(): void;
  /** Writes every queued line now (unless paused). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A committed record whose line is formatted when a mirror writes it, once however many mirrors share it. The
 * ack then does not wait for text that only people read: formatting was a fifth of the journal's ack-path CPU in
 * a 20k burst. The record must not change after it is queued (the journal's entries are its own copies).
 */
export interface LazyLine {
  readonly record: { ts: number };
  text?: string;
}

function lineText(line: string | LazyLine): string {
  if (typeof line === 'string') return line;
  line.text ??= jsonlLine(line.record);
  return line.text;
}

/** The mirror's line for a stored record: the record plus an ISO `time` for people reading the file. */
export function jsonlLine(record: { ts: number }): string {
  return `${JSON.stringify({ time: isoTime(record.ts), ...record })}\n`;
}

// Records of one commit batch nearly always share their millisecond, and formatting the date was half the cost of
// a line (1.5 → 0.8 µs per line measured), so the last one is kept.
let lastTs = Number.NaN;
let lastTime: string | null = null;

function isoTime(ts: number): string | null {
  if (ts !== lastTs) {
    // Never throws: it runs after the commit, on the ack path, where an out-of-range date must not fail the ack.
    const date = new Date(ts);
    lastTime = Number.isNaN(date.getTime()) ? null : date.toISOString();
    lastTs = ts;
  }
  return lastTime;
}

const TAIL_WINDOW = 64 * 1024;
const CHUNK_BYTES = 1024 * 1024;

export function createJsonlMirror(path: string, onError: MirrorErrorHook): JsonlMirror {
  let queue: { seq: number; line: string | LazyLine }[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let pauses = 0;
  let closed = false;
  // The append descriptor stays open between flushes; it is closed around a rebuild, because the rename would
  // leave it pointing at the replaced file, and dropped after an error so the next flush tries a fresh one.
  let fd: number | undefined;
  const closeFd = (): void => {
    if (fd === undefined) return;
    const f = fd;
    fd = undefined;
    try {
      closeSync(f);
    } catch (e) {
      onError(e, path);
    }
  };

  // Lines released in one event turn (a whole commit batch) leave as one write at the next macrotask. A small
  // synchronous append to the page cache costs a few microseconds; measured against a promise-based append per
  // line, it kept the one-at-a-time ack rate 25% higher (bench/journal.bench.ts).
  const flush = (): void => {
    scheduled = undefined;
    if (pauses > 0 || queue.length === 0) return;
    const lines = queue;
    queue = [];
    try {
      const chunk = lines.map((q) => lineText(q.line)).join('');
      fd ??= openSync(path, 'a');
      writeSync(fd, chunk);
    } catch (e) {
      closeFd();
      onError(e, path);
    }
  };
  const schedule = (): void => {
    scheduled ??= setImmediate(flush);
  };

  return {
    path,
    write(seq, line) {
      if (closed) return;
      queue.push({ seq, line });
      schedule();
    },
    recoverTail() {
      try {
        return recoverTail(path);
      } catch (e) {
        onError(e, path);
        return undefined;
      }
    },
    appendNow(lines) {
      try {
        writeChunked(lines, (chunk) => appendFileSync(path, chunk));
      } catch (e) {
        onError(e, path);
      }
    },
    async pause() {
      // Pausing holds new lines in the queue while the file is swapped; those the new file already covers are
      // dropped by `replace`, so a record committed during a rebuild appears exactly once.
      pauses++;
      closeFd();
    },
    replace(upTo, lines) {
      if (pauses === 0) throw new Error(`mirror ${path} must be paused before it is replaced`);
      const count = replaceFile(path, lines);
      queue = queue.filter((q) => q.seq > upTo);
      return count;
    },
    resume() {
      pauses = Math.max(0, pauses - 1);
      if (queue.length > 0) schedule();
    },
    async idle() {
      if (scheduled) clearImmediate(scheduled);
      flush();
    },
    async close() {
      if (scheduled) clearImmediate(scheduled);
      flush();
      closed = true;
      closeFd();
    },
  };
}

function writeChunked(lines: Iterable<string>, sink: (chunk: string) => void): number {
  let buf: string[] = [];
  let size = 0;
  let count = 0;
  for (const line of lines) {
    buf.push(line);
    size += line.length;
    count++;
    if (size >= CHUNK_BYTES) {
      sink(buf.join(''));
      buf = [];
      size = 0;
    }
  }
  if (buf.length > 0) sink(buf.join(''));
  return count;
}

function replaceFile(path: string, lines: Iterable<string>): number {
  const tmp = `${path}.${randomUUID()}.tmp`;
  const fd = openSync(tmp, 'w');
  let count: number;
  try {
    count = writeChunked(lines, (chunk) => {
      writeSync(fd, chunk);
    });
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return count;
}

function recoverTail(path: string): number | undefined {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r+');
  try {
    let window = TAIL_WINDOW;
    for (;;) {
      const size = fstatSync(fd).size;
      if (size === 0) return 0;
      window = Math.min(size, window);
      const buf = Buffer.alloc(window);
      readSync(fd, buf, 0, window, size - window);
      let end = window;
      if (buf[window - 1] !== 0x0a) {
        const cut = buf.lastIndexOf(0x0a);
        if (cut < 0 && window < size) {
          window *= 4;
          continue;
        }
        // A torn line from a crash mid-append: drop it; the caller's catch-up rewrites it from LMDB.
        const keep = size - window + cut + 1;
        ftruncateSync(fd, keep);
        if (keep === 0) return 0;
        end = cut + 1;
      }
      const start = end === 1 ? 0 : buf.lastIndexOf(0x0a, end - 2) + 1;
      if (start === 0 && window < size) {
        window *= 4;
        continue;
      }
      const last = JSON.parse(buf.subarray(start, end - 1).toString('utf8')) as { seq?: unknown };
      return typeof last.seq === 'number' ? last.seq : undefined;
    }
  } finally {
    closeSync(fd);
  }
}
