import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig, parseDotEnv, unknownFlagNames } from './load-config.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts in paper mode with the documented defaults and no env at all', () => {
    const c = loadConfig({});
    expect(c.MODE).toBe('paper');
    expect(c.OPS_PORT).toBe(8002);
    expect(c.ENGINE_PORT).toBe(8003);
    expect(c.BIND_HOST).toBe('127.0.0.1');
    expect(c.TRADE_SYMBOLS).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(c.VENUES).toEqual(['binance', 'kraken']);
    expect(c.HMM_CALIBRATION_PATH).toBe('ops/hmm_calibration.json');
    expect(c.DB_DIR).toBe('state/db');
    expect(c.CONFIG_POLL_SEC).toBe(30);
    expect(c.EVENT_BREAKOUT_DRY_RUN).toBe(true);
    expect(c.OPS_API_TOKEN).toBeUndefined();
  });

  it('rejects MAX_NOTIONAL_USDT=abc and TRADING_ENABLED=maybe, naming both and what was expected', () => {
    const e = errorOf(() => loadConfig({ MAX_NOTIONAL_USDT: 'abc', TRADING_ENABLED: 'maybe' }));
    expect(e.message).toContain('MAX_NOTIONAL_USDT="abc": expected a number ≥ 0');
    expect(e.message).toContain('TRADING_ENABLED="maybe": expected a boolean: true or false');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['MAX_NOTIONAL_USDT', 'TRADING_ENABLED']);
  });

  it('rejects an out-of-range port and a config poll above 60 s', () => {
    const e = errorOf(() => loadConfig({ OPS_PORT: '70000', CONFIG_POLL_SEC: '61' }));
    expect(e.message).toContain('OPS_PORT="70000": expected an integer in 0..65535');
    expect(e.message).toContain('CONFIG_POLL_SEC="61": expected an integer in 1..60');
  });

  it('rejects numbers that z.coerce would accept (hex, exponent)', () => {
    expect(() => loadConfig({ OPS_PORT: '0x1F42' })).toThrow(/OPS_PORT/);
    expect(() => loadConfig({ MAX_NOTIONAL_USDT: '1e3' })).toThrow(/MAX_NOTIONAL_USDT/);
  });

  it('parses booleans with z.stringbool, so "false" is false and "OFF" is false', () => {
    expect(loadConfig({ TRADING_ENABLED: 'false' }).TRADING_ENABLED).toBe(false);
    expect(loadConfig({ TRADING_ENABLED: 'OFF' }).TRADING_ENABLED).toBe(false);
    expect(loadConfig({ DEPEG_EXIT_RISK: 'yes' }).DEPEG_EXIT_RISK).toBe(true);
  });

  it('treats an empty or blank value as unset', () => {
    const c = loadConfig({ OPS_PORT: '', MAX_NOTIONAL_USDT: '  ', TRADING_ENABLED: '' });
    expect(c.OPS_PORT).toBe(8002);
    expect(c.MAX_NOTIONAL_USDT).toBe(100);
    expect(c.TRADING_ENABLED).toBe(true);
  });

  it('uses .env values when the environment lacks them', () => {
    const c = loadConfig({}, 'MAX_NOTIONAL_USDT=25\n# comment\nTREND_AUTO_TUNE_ENABLED=false\n');
    expect(c.MAX_NOTIONAL_USDT).toBe(25);
    expect(c.TREND_AUTO_TUNE_ENABLED).toBe(false);
  });

  it('lets the real environment win over .env, and falls back to .env when the env value is empty', () => {
    const c = loadConfig({ MAX_NOTIONAL_USDT: '50', OPS_PORT: '' }, 'MAX_NOTIONAL_USDT=25\nOPS_PORT=9002\n');
    expect(c.MAX_NOTIONAL_USDT).toBe(50);
    expect(c.OPS_PORT).toBe(9002);
  });

  it('says when a bad value came from .env', () => {
    const e = errorOf(() => loadConfig({}, 'EQUITY_COOLDOWN_SEC=soon'));
    expect(e.message).toContain('EQUITY_COOLDOWN_SEC="soon" (from .env): expected an integer');
  });

  it('accepts the legacy VENUE=BINANCE alias, case-insensitively', () => {
    expect(loadConfig({ VENUE: 'BINANCE' }).VENUES).toEqual(['binance']);
    expect(loadConfig({ VENUES: 'Kraken, BINANCE' }).VENUES).toEqual(['kraken', 'binance']);
  });

  it('prefers VENUES over the legacy VENUE when both are set', () => {
    expect(loadConfig({ VENUE: 'binance', VENUES: 'kraken' }).VENUES).toEqual(['kraken']);
  });

  it('rejects an unknown venue, naming the variable and the choices', () => {
    const e = errorOf(() => loadConfig({ VENUE: 'ftx' }));
    expect(e.message).toContain('VENUE="ftx": expected a comma list of: binance, kraken');
  });

  it('normalises TRADE_SYMBOLS (trim, upper-case, de-duplicate) and rejects malformed symbols', () => {
    expect(loadConfig({ TRADE_SYMBOLS: ' btcusdt, ETHUSDT ,BTCUSDT,' }).TRADE_SYMBOLS).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(() => loadConfig({ TRADE_SYMBOLS: 'BTC/USDT' })).toThrow(/TRADE_SYMBOLS="BTC\/USDT": expected a comma list/);
  });

  it('refuses MODE=live without OPS_API_TOKEN, naming the variable', () => {
    const e = errorOf(() =>
      loadConfig({ MODE: 'live', VENUES: 'binance', BINANCE_API_KEY: 'k', BINANCE_API_SECRET: 's' }),
    );
    expect(e.issues).toEqual([{ path: 'OPS_API_TOKEN', message: 'required when MODE=live (X-Ops-Token secret)' }]);
    expect(e.message).toContain('OPS_API_TOKEN (unset): required when MODE=live');
  });

  it('refuses MODE=live without the keys of each configured venue', () => {
    const e = errorOf(() => loadConfig({ MODE: 'LIVE', VENUE: 'KRAKEN', OPS_API_TOKEN: 'x'.repeat(32) }));
    expect(e.issues.map((i) => i.path)).toEqual(['KRAKEN_API_KEY', 'KRAKEN_API_SECRET']);
  });

  it('starts in live mode with a token and keys', () => {
    const c = loadConfig({
      MODE: 'live',
      VENUES: 'binance',
      OPS_API_TOKEN: 'x'.repeat(32),
      BINANCE_API_KEY: 'k',
      BINANCE_API_SECRET: 's',
    });
    expect(c.MODE).toBe('live');
  });

  it('never echoes a secret value in the error', () => {
    const e = errorOf(() => loadConfig({ MODE: 'live', OPS_API_TOKEN: 'hunter2', VENUES: 'binance' }));
    expect(e.message).toContain('OPS_API_TOKEN=<redacted>: must be at least 16 characters');
    expect(e.message).not.toContain('hunter2');
  });

  it('requires the bot token and chat id when TELEGRAM_ENABLED=true', () => {
    const e = errorOf(() => loadConfig({ TELEGRAM_ENABLED: 'true' }));
    expect(e.issues.map((i) => i.path)).toEqual(['TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID']);
  });

  it('rejects two listeners on the same port', () => {
    expect(() => loadConfig({ ENGINE_PORT: '8002' })).toThrow(
      /ENGINE_PORT="8002": port 8002 is already used by OPS_PORT/,
    );
  });

  it('derives state and ops paths from STATE_DIR and OPS_DIR unless set explicitly', () => {
    const c = loadConfig({ STATE_DIR: '/var/bosun/', OPS_DIR: '/etc/bosun', DB_DIR: '/fast/db' });
    expect(c.DB_DIR).toBe('/fast/db');
    expect(c.LOG_DIR).toBe('/var/bosun/logs');
    expect(c.PORTFOLIO_PATH).toBe('/var/bosun/portfolio.json');
    expect(c.POLICIES_PATH).toBe('/etc/bosun/policies.yaml');
  });

  it('reads LOG_PRETTY as auto, true or false, case-insensitively', () => {
    expect(loadConfig({}).LOG_PRETTY).toBe('auto');
    expect(loadConfig({ LOG_PRETTY: 'TRUE' }).LOG_PRETTY).toBe('true');
    expect(() => loadConfig({ LOG_PRETTY: 'yes' })).toThrow(/LOG_PRETTY="yes": expected one of: auto, true, false/);
  });

  it('returns a deeply frozen config', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.TRADE_SYMBOLS)).toBe(true);
  });
});

describe('parseDotEnv', () => {
  it('reads KEY=value lines with comments, quotes and export prefixes', () => {
    expect(parseDotEnv('# c\nexport A=1\nB="x y"\nC=\nD=a=b\n')).toEqual({ A: '1', B: 'x y', C: '', D: 'a=b' });
  });
});

describe('unknownFlagNames', () => {
  it('reports names that are not flags (typos in .env)', () => {
    expect(unknownFlagNames(['TRADING_ENABLED', 'TRADING_ENABLE', 'VENUE'])).toEqual(['TRADING_ENABLE']);
  });
});
