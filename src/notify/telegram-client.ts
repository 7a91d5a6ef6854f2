/**
 * A send-only Telegram Bot API client over Node's global `fetch`: `POST {apiRoot}/bot{token}/sendMessage` with a
 * JSON body (reference/libraries.md §1). It never throws: every outcome is a value the notifier's queue can act
 * on. The URL holds the token, so it never leaves this module: no outcome, message or error carries it.
 */
export type SendOutcome =
  | { ok: true }
  /** 429: Telegram's flood control; wait `retryAfterMs` before any further send. */
  | { ok: false; kind: 'rate_limited'; status: 429; retryAfterMs: number; description: string }
  | { ok: false; kind: 'http'; status: number; description: string }
  | { ok: false; kind: 'network'; description: string };

export interface TelegramClient {
  sendMessage(text: string): Promise<SendOutcome>;
}

export interface TelegramClientOptions {
  /** `https://api.telegram.org` in production; tests point it at a fake on loopback. */
  apiRoot: string;
  token: string;
  chatId: string;
  /** A request that has not answered by then counts as a network failure. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Telegram's `sendMessage` limit. */
export const MAX_MESSAGE_CHARS = 4096;

interface BotApiAnswer {
  ok?: boolean;
  description?: string;
  parameters?: { retry_after?: number };
}

export function createTelegramClient(opts: TelegramClientOptions): TelegramClient {
  const doFetch = opts.fetch ?? fetch;
  const url = `${opts.apiRoot.replace(/\/+$/, '')}/bot${opts.token}/sendMessage`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Belt and braces: an error text from the HTTP stack could quote the URL; cut the token out of anything we return.
  const clean = (s: string): string => (opts.token ? s.split(opts.token).join('[REDACTED]') : s).slice(0, 300);

  return {
    async sendMessage(text) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: opts.chatId, text: text.slice(0, MAX_MESSAGE_CHARS) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        return { ok: false, kind: 'network', description: clean(networkReason(e)) };
      }
      let answer: BotApiAnswer = {};
      try {
        answer = (await res.json()) as BotApiAnswer;
      } catch {
        // A proxy's HTML error page: the status alone decides.
      }
      if (res.status === 200 && answer.ok !== false) return { ok: true };
      const description = clean(typeof answer.description === 'string' ? answer.description : res.statusText);
      if (res.status === 429) {
        const s = Number(answer.parameters?.retry_after);
        // Telegram always sends retry_after with a 429; without one, wait a conservative default.
        const retryAfterMs = Number.isFinite(s) && s > 0 ? Math.ceil(s * 1000) : 5_000;
        return { ok: false, kind: 'rate_limited', status: 429, retryAfterMs, description };
      }
      return { ok: false, kind: 'http', status: res.status, description };
    },
  };
}

/** `fetch failed` says nothing; the cause (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`) says what happened. */
function networkReason(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return e.message;
  }
  return String(e);
}
