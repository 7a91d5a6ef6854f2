import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Telegram Bot API on 127.0.0.1:0 (reference/libraries.md §1): routes `/bot<token>/<method>`, records every
 * request, answers `sendMessage` with 200, and can be told to answer the next calls with a 429 `retry_after` or
 * a 5xx. Only the outside world is faked; the notifier, its LMDB queue and `fetch` are real.
 */
export interface FakeRequest {
  at: number;
  method: string;
  token: string;
  body: Record<string, unknown>;
  status: number;
}

export interface FakeTelegram {
  apiRoot: string;
  requests: FakeRequest[];
  /** Texts of the `sendMessage` calls that were answered 200. */
  delivered(): string[];
  /** The next `n` calls answer 429 with `parameters.retry_after = seconds`. */
  floodNext(n: number, seconds: number): void;
  /** Until changed, every call answers this status (500 = Telegram down); `undefined` restores 200. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startFakeTelegram(opts: { now?: () => number; port?: number } = {}): Promise<FakeTelegram> {
  const now = opts.now ?? Date.now;
  const requests: FakeRequest[] = [];
  let flood = 0;
  let floodSeconds = 1;
  let failStatus: number | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        body = {};
      }
      const answer = (status: number, json: unknown) => {
        requests.push({ at: now(), method: m?.[2] ?? '', token: m?.[1] ?? '', body, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      if (!m) return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (flood > 0) {
        flood -= 1;
        return answer(429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${floodSeconds}`,
          parameters: { retry_after: floodSeconds },
        });
      }
      if (failStatus !== undefined)
        return answer(failStatus, { ok: false, error_code: failStatus, description: 'Internal Server Error' });
      if (m[2] === 'getMe') return answer(200, { ok: true, result: { id: 1, is_bot: true, username: 'bosun_bot' } });
      if (m[2] !== 'sendMessage') return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (typeof body.text !== 'string' || body.chat_id === undefined)
        return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      return answer(200, { ok: true, result: { message_id: requests.length + 1, text: body.text } });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    requests,
    delivered: () =>
      requests.filter((r) => r.method === 'sendMessage' && r.status === 200).map((r) => String(r.body.text)),
    floodNext(n, seconds) {
      flood = n;
      floodSeconds = seconds;
    },
    failWith(status) {
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
