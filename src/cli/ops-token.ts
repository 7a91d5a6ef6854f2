import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where paper mode keeps its generated ops token (mode 0600), read by the CLI when the env has none. */
export function opsTokenPath(stateDir: string): string {
  return join(stateDir, 'ops_token');
}

export type OpsTokenSource = 'env' | 'generated' | 'file';

/**
 * DESIGN §9: live mode needs OPS_API_TOKEN (checked by the config schema); paper mode generates a 256-bit token
 * at first start and keeps it in `state/ops_token` with mode 0600 so restarts and the CLI reuse it.
 */
export function ensureOpsToken(
  /** `OPS_TOKEN_PATH` (default `$STATE_DIR/ops_token`); it was ignored before, the file always went to the default. */
  path: string,
  configured: string | undefined,
): { token: string; source: OpsTokenSource; path: string } {
  if (configured) return { token: configured, source: 'env', path };
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 32) {
      // A token file others can read is a leaked token: tighten it rather than refuse to start.
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return { token, source: 'file', path };
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { token, source: 'generated', path };
}

/** The token for clients: the environment first, then the paper-mode file (`OPS_TOKEN_PATH` if given). */
export function readOpsToken(stateDir: string, env: string | undefined, tokenPath?: string): string | undefined {
  if (env) return env;
  const path = tokenPath || opsTokenPath(stateDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
