// autocannon `setupRequest` for bench/events.bench.ts, loaded by path inside autocannon's worker thread (a
// function cannot be cloned into it). Every request is a distinct event (its own `id`, so the replay cache
// accepts it), signed exactly as the runbook's openssl line signs: HMAC-SHA256 of the raw body bytes.
const { createHmac, randomBytes } = require('node:crypto');

const secret = process.env.BENCH_EVENTS_SECRET ?? '';
const bad = process.env.BENCH_EVENTS_BAD_SIGNATURE === '1';
const prefix = randomBytes(4).toString('hex');
let n = 0;

module.exports = function setupRequest(req) {
  n += 1;
  const body = `{"source":"bench","payload":{"symbol":"FOOUSDT","n":${n}},"id":"${prefix}-${n}"}`;
  const mac = createHmac('sha256', bad ? 'not-the-secret' : secret)
    .update(body)
    .digest('hex');
  return {
    ...req,
    method: 'POST',
    body,
    headers: { ...req.headers, 'content-type': 'application/json', 'x-events-signature': `sha256=${mac}` },
  };
};
