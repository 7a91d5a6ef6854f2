import { buildServer } from '../src/http/build-server.js';
import { fakeDeps } from '../test/http/support/fakes.js';

/**
 * A listener's close with an idle keep-alive connection open (the timing that used to be asserted in
 * src/http/build-server.test.ts): forceCloseConnections lets it close at once instead of waiting out the
 * keep-alive timeout. Target: ≤ 1,000 ms.
 */
export async function run(): Promise<Record<string, unknown>> {
  const closeMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const app = await buildServer(fakeDeps(), 'ops');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}/status`, { headers: { connection: 'keep-alive' } });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.text();
    const t0 = performance.now();
    await app.close();
    closeMs.push(performance.now() - t0);
  }
  return {
    close_with_keepalive_ms: closeMs.map((x) => Math.round(x * 10) / 10),
    close_with_keepalive_max_ms: Math.round(Math.max(...closeMs) * 10) / 10,
    target_close_ms: 1000,
  };
}
