import { describe, expect, it } from 'vitest';
import type { GovernanceState, ScopeState } from '../machines/governance.machine.js';
import { digestText, governanceAlerts, healthAlert, stopRepairAlert } from './alert-text.js';
import { renderAlert } from './notifier.js';

const scope = (state: ScopeState['state'], by = 'system', command = 'boot', reason = ''): ScopeState => ({
  state,
  reason,
  by,
  at: 0,
  command,
});
const gov = (g: ScopeState, venues: Record<string, ScopeState> = {}): GovernanceState => ({
  global: g,
  venues,
  symbols: {},
});

describe('alert texts', () => {
  it('marks health with 🟢/🟡/🔴, the actor and the reason, and a breaker trip as such', () => {
    expect(healthAlert('guard:depeg:binance', 'HALTED', 'depeg_trigger')).toEqual({
      key: 'health:guard:depeg:binance:HALTED',
      text: '🔴 HALTED guard:depeg:binance: depeg_trigger',
      severity: 'critical',
    });
    expect(healthAlert('conn:kraken', 'DEGRADED', 'error_rate: 20%')?.text).toBe(
      '🟡 DEGRADED conn:kraken: error_rate: 20%',
    );
    expect(healthAlert('breaker:binance:venue', 'HALTED', 'venue_error_rate: 60%')?.text).toBe(
      '🔴 HALTED breaker:binance:venue: breaker tripped: venue_error_rate: 60%',
    );
    expect(healthAlert('breaker:equity', 'OK', '')?.text).toBe('🟢 OK breaker:equity: breaker reset');
  });

  it('skips roll-ups, the notifier itself and a merely degraded system, but not a halted one', () => {
    for (const id of ['venue:binance', 'risk', 'core', 'symbols:binance', 'guards:kraken', 'notifier'])
      expect(healthAlert(id, 'HALTED', 'x')).toBeUndefined();
    expect(healthAlert('root', 'DEGRADED', 'x')).toBeUndefined();
    expect(healthAlert('root', 'HALTED', 'risk down')?.text).toBe('🔴 HALTED system: risk down');
  });

  it('announces kill and resume at each scope with who did it, and nothing when the state did not change', () => {
    const a = gov(scope('ACTIVE'));
    const killed = gov(scope('HALTED', 'alice', 'kill', 'operator kill'));
    expect(governanceAlerts(a, killed)).toEqual([
      {
        key: 'governance:global:HALTED',
        text: '⛔ KILL: trading HALTED [global] by alice via kill (reason: operator kill)',
        severity: 'critical',
      },
    ]);
    expect(governanceAlerts(killed, killed)).toEqual([]);
    const venueReduced = gov(scope('ACTIVE'), { kraken: scope('REDUCING', 'depeg', 'guard', 'depeg_trigger') });
    expect(governanceAlerts(a, venueReduced).map((x) => x.text)).toEqual([
      '⚠️ REDUCE: trading REDUCING [venue kraken] by depeg via guard (reason: depeg_trigger)',
    ]);
    expect(governanceAlerts(killed, gov(scope('ACTIVE', 'bob', 'resume')))[0]?.text).toBe(
      '▶️ RESUME: trading ACTIVE [global] by bob via resume',
    );
  });

  it('writes the stop repair with 🛡 and the digest with equity, P&L, trades and incidents', () => {
    expect(stopRepairAlert('binance', 'BTC/USDT', 'stop at 58200').text).toBe(
      '🛡 stop repaired binance BTC/USDT: stop at 58200',
    );
    const d = digestText(
      {
        equityUsd: 10_250.5,
        pnlUsd: -12.25,
        trades: 3,
        incidents: ['conn:kraken: DEGRADED x'],
        tradingState: 'ACTIVE',
      },
      1440,
    );
    expect(d.split('\n')).toEqual([
      '📊 Bosun digest (last 1440 min)',
      'Trading: ACTIVE',
      'Equity: $10250.50',
      'P&L: -$12.25',
      'Trades: 3',
      'Open incidents: 1',
      '• conn:kraken: DEGRADED x',
    ]);
  });

  it('keeps a long message within Telegram’s 4096 characters, suppression count included', () => {
    const text = renderAlert({ text: 'x'.repeat(5_000), count: 3, followUp: false });
    expect(text).toHaveLength(4096);
    expect(text.endsWith('\n(+2 suppressed)')).toBe(true);
  });
});

describe('operator- and venue-supplied fields in alert texts', () => {
  const forged = 'oops\n▶️ RESUME: trading ACTIVE [global] by ops via kill\r\u2028\u202e';

  it('keeps a kill reason with newlines on the one line it belongs to', () => {
    const [a] = governanceAlerts(gov(scope('ACTIVE')), gov(scope('HALTED', 'eve\nbob', 'kill\n', forged)));
    expect(a?.text).not.toMatch(/[\n\r\u2028\u202e]/);
    expect(a?.text.split('RESUME')).toHaveLength(2);
    expect(a?.text.startsWith('⛔ KILL: trading HALTED [global] by eve bob via kill (reason: oops ▶️ RESUME')).toBe(
      true,
    );
  });

  it('flattens health reasons, stop-repair details and digest incidents, and bounds their length', () => {
    expect(healthAlert('conn:kraken', 'DEGRADED', forged)?.text).not.toMatch(/[\n\r]/);
    expect(stopRepairAlert('binance', 'BTCUSDT', `${forged}${'x'.repeat(500)}`).text.length).toBeLessThan(300);
    const digest = digestText(
      { equityUsd: 1, pnlUsd: 0, trades: 0, incidents: [forged], tradingState: 'ACTIVE\nRESUMED' },
      60,
    );
    expect(digest.split('\n')).toHaveLength(7);
  });
});
