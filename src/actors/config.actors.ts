import { fromCallback } from 'xstate';
import { type ConfigFileSpec, type ConfigFileWatcher, createConfigFileWatcher } from '../config/file-watcher.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * The live operator config: the last good value of each ops file, readable by every actor that needs it
 * (allocator weights, policies, calibration). Values only change through the watcher, which validates first.
 */
export function createOpsConfig() {
  const values = new Map<string, unknown>();
  const listeners = new Set<(name: string, value: unknown) => void>();
  return {
    current: <T = unknown>(name: string): T | undefined => values.get(name) as T | undefined,
    set(name: string, value: unknown): void {
      values.set(name, value);
      for (const l of listeners) l(name, value);
    },
    /** Called on every applied change (e.g. the allocator re-reads weights on the next tick). */
    onChange(l: (name: string, value: unknown) => void): () => void {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

export type OpsConfig = ReturnType<typeof createOpsConfig>;

/**
 * The config actor's watcher: file watch plus a poll of at most 60 s; applied values go to `ops`, rejections
 * are counted in `config_reload_errors_total{file}` and logged, and both become events for the machine.
 */
export function makeConfigWatcher(opts: {
  specs: readonly ConfigFileSpec[];
  pollMs: number;
  ops: OpsConfig;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}) {
  const now = opts.now ?? Date.now;
  return fromCallback(({ sendBack }) => {
    let watcher: ConfigFileWatcher<readonly ConfigFileSpec[]> | undefined;
    let stopped = false;
    const log = opts.log.child({ actor: 'config' });
    createConfigFileWatcher({
      files: opts.specs,
      pollMs: opts.pollMs,
      log,
      onChange: (name, value, info) => {
        opts.ops.set(name, value);
        opts.metrics.configReloads.inc({ file: name });
        if (!stopped) sendBack({ type: 'config.loaded', name, source: info.source, hash: info.hash, at: now() });
      },
      onError: (name, err) => {
        opts.metrics.configReloadErrors.inc({ file: name });
        log.error(
          { file: name, path: err.path, issues: err.issues, fallback: err.fallback },
          'config file rejected; last good version stays in force',
        );
        if (!stopped)
          sendBack({ type: 'config.rejected', name, message: err.message, fallback: err.fallback, at: now() });
      },
    })
      .then((w) => {
        if (stopped) w.close();
        else watcher = w;
      })
      .catch((e: unknown) => {
        // A watcher that cannot start is reported as a rejection of every file, never as an async throw.
        for (const s of opts.specs) {
          if (!stopped)
            sendBack({
              type: 'config.rejected',
              name: s.name,
              message: `watcher failed: ${String(e)}`,
              fallback: 'none',
              at: now(),
            });
        }
      });
    return () => {
      stopped = true;
      watcher?.close();
    };
  });
}
