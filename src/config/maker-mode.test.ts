import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { parseMakerMode } from './maker-mode.js';

describe('MAKER_MODE', () => {
  it('is off for every market by default, with a 30 s timeout', () => {
    const c = loadConfig({});
    expect(parseMakerMode(c.MAKER_MODE)).toEqual({ spot: 'off', perp: 'off' });
    expect(c.MAKER_TIMEOUT_SEC).toBe(30);
  });

  it('takes one mode for every market, or one per market (a market not named is off)', () => {
    expect(parseMakerMode(loadConfig({ MAKER_MODE: 'shadow' }).MAKER_MODE)).toEqual({ spot: 'shadow', perp: 'shadow' });
    expect(parseMakerMode(loadConfig({ MAKER_MODE: 'spot:shadow,perp:live' }).MAKER_MODE)).toEqual({
      spot: 'shadow',
      perp: 'live',
    });
    expect(parseMakerMode(loadConfig({ MAKER_MODE: 'PERP:live' }).MAKER_MODE)).toEqual({ spot: 'off', perp: 'live' });
  });

  it('refuses live for spot at start, naming the variable (runbook: real maker on futures only)', () => {
    for (const v of ['live', 'spot:live,perp:live', 'spot:live']) {
      let err: unknown;
      try {
        loadConfig({ MAKER_MODE: v });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/MAKER_MODE.*perpetuals only/);
    }
  });

  it('refuses a malformed mode and an out-of-range timeout, saying what is expected', () => {
    expect(() => loadConfig({ MAKER_MODE: 'sometimes' })).toThrow(
      /MAKER_MODE="sometimes": expected off, shadow or live/,
    );
    expect(() => loadConfig({ MAKER_MODE: 'futures:live' })).toThrow(/MAKER_MODE/);
    expect(() => loadConfig({ MAKER_TIMEOUT_SEC: '0' })).toThrow(
      /MAKER_TIMEOUT_SEC="0": expected an integer in 1..3600/,
    );
  });
});
