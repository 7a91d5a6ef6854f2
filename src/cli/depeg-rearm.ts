import { randomUUID } from 'node:crypto';
import { readOpsToken } from './ops-token.js';

/**
 * `bosun depeg rearm [--url http://127.0.0.1:8003] [--state-dir state] [--token T] [--note "…"]`: the runbook's
 * manual helper after a depeg. Calls `POST /guards/depeg/rearm` (token, Idempotency-Key, audited); prints the
 * answer. Exit 0 when re-armed, 1 when Bosun refused (409: parity still broken or cooldown not over), 2 on misuse.
 */
export async function depegRearm(args: string[], out: (s: string) => void): Promise<number> {
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url = (arg('url') ?? 'http://127.0.0.1:8003').replace(/\/+$/, '');
  const token = arg('token') ?? readOpsToken(arg('state-dir') ?? 'state', undefined);
  if (!token) {
    out('bosun: no ops token (--token, or run where state/ holds it: --state-dir)');
    return 2;
  }
  const note = arg('note');
  const r = await fetch(`${url}/guards/depeg/rearm`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-ops-token': token,
      'x-ops-actor': 'cli',
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify(note ? { note } : {}),
  });
  const text = await r.text();
  out(`${r.status} ${text}`);
  return r.ok ? 0 : 1;
}
