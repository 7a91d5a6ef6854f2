import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Runs the built Bosun (`node dist/main.bundle.mjs`, what `npm start` runs) as a child process on ephemeral ports,
 * with its own state directory, and resolves once it logs `bosun ready` (the listener addresses come from
 * that line). Nothing here sleeps: every wait is on a line, an exit or a response.
 */
export interface BosunProcess {
  child: ChildProcess;
  ops: string;
  engine: string;
  /** The universe (8009), screener (8010) and situations (8011) listeners. */
  universe: string;
  screener: string;
  situations: string;
  stateDir: string;
  lines: Array<Record<string, unknown>>;
  startedAt: number;
  readyAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const MAIN = resolve(import.meta.dirname, '../../dist/main.bundle.mjs');

export function bosunEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    STATE_DIR: stateDir,
    OPS_PORT: '0',
    ENGINE_PORT: '0',
    UNIVERSE_PORT: '0',
    SCREENER_PORT: '0',
    SITUATIONS_PORT: '0',
    LOG_PRETTY: 'false',
    LOG_LEVEL: 'info',
    OPS_DIR: resolve(import.meta.dirname, '../../ops'),
    // History warm-up (OHLCV fetch + HMM fits before /readyz, seconds on a loaded machine) is off unless a test
    // is about it (history-warmup.test): the other process tests boot for other reasons, often twice.
    HISTORY_WARMUP_ENABLED: 'false',
    ...extra,
  };
}

export function runBosun(env: NodeJS.ProcessEnv, cwd = mkdtempSync(join(tmpdir(), 'bosun-cwd-'))) {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [MAIN], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  return { child, startedAt, exited, stderr: () => stderr };
}

export async function startBosun(
  extra: Record<string, string> = {},
  stateDir = mkdtempSync(join(tmpdir(), 'bosun-state-')),
  /** The process's working directory (where it reads `.env`); a fresh temporary one by default. */
  cwd?: string,
): Promise<BosunProcess> {
  const run = runBosun(bosunEnv(stateDir, extra), cwd);
  const lines: Array<Record<string, unknown>> = [];
  const ready = new Promise<Record<string, unknown>>((res, rej) => {
    const rl = createInterface({ input: run.child.stdout! });
    rl.on('line', (l) => {
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(l) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(j);
      if (j.msg === 'bosun ready') res(j);
    });
    void run.exited.then((e) => rej(new Error(`bosun exited before ready: ${JSON.stringify(e)}\n${run.stderr()}`)));
  });
  const r = await ready;
  const readyAt = performance.now();
  const listeners = r.listeners as Record<string, string>;
  return {
    child: run.child,
    ops: `http://${listeners.ops}`,
    engine: `http://${listeners.engine}`,
    universe: `http://${listeners.universe}`,
    screener: `http://${listeners.screener}`,
    situations: `http://${listeners.situations}`,
    stateDir,
    lines,
    startedAt: run.startedAt,
    readyAt,
    exited: run.exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      return run.exited;
    },
  };
}
