import { randomUUID } from 'node:crypto';
import { errorMessage } from '../domain/errors.js';

/**
 * What every `bosun` command gets from the entry point (`bosun.ts`, the CLI's composition root: the only CLI
 * file that reads `process.env`/`argv`). Commands return an exit code: 0 ok, 1 a failed check or a refused
 * request, 2 a usage error.
 */
export interface CliContext {
  opsUrl: string;
  engineUrl: string;
  promUrl: string;
  stateDir: string;
  opsDir: string;
  /** OPS_API_TOKEN, else state/ops_token; only mutating commands need it. */
  token: string | undefined;
  /** X-Ops-Actor ($USER). */
  actor: string;
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad command line: exit 2 with the message. */
export class UsageError extends Error {}

/** A check failed or Bosun refused: exit 1 with the message. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly body?: unknown,
    /** No answer at all (connection refused, timeout): the process is not running there. */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

interface RequestOptions {
  body?: unknown;
  /** Send X-Ops-Token, X-Ops-Actor and a fresh Idempotency-Key. */
  command?: boolean;
  /** Statuses to hand back instead of failing (e.g. 422 for a rejected order). */
  accept?: number[];
}

/** One HTTP call to a running Bosun; an unreachable process or a non-2xx answer is a `CliFailure`. */
export async function call(
  ctx: CliContext,
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: RequestOptions = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.command) {
    if (!ctx.token)
      throw new UsageError(
        `no ops token: export OPS_API_TOKEN, or start Bosun once in paper mode so it writes ${ctx.stateDir}/ops_token`,
      );
    headers['x-ops-token'] = ctx.token;
    headers['x-ops-actor'] = ctx.actor;
    headers['idempotency-key'] = `bosun-cli-${randomUUID()}`;
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const url = `${base.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause ? errorMessage(e.cause) : errorMessage(e);
    throw new CliFailure(`cannot reach ${url}: ${cause}`, undefined, true);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (e.g. /metrics): hand back the text.
  }
  if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, body };
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  throw new CliFailure(
    `${method} ${path} answered ${res.status}${e ? `: ${e.code ?? 'ERROR'}: ${e.message ?? ''}` : ''}`,
    body,
  );
}

/** `--json` prints the body as one line; otherwise the human text. */
export function emit(ctx: CliContext, body: unknown, human: () => string): void {
  ctx.out(ctx.json ? `${JSON.stringify(body)}\n` : `${human().replace(/\n?$/, '\n')}`);
}
