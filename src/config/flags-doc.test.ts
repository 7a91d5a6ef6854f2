import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_EXAMPLE_URL, FLAGS_DOC_URL, renderEnvExample, renderFeatureFlagsDoc } from './flags-doc.js';
import { ENV_FLAG_NAMES, loadConfig, parseDotEnv } from './load-config.js';

const read = (u: URL) => {
  try {
    return readFileSync(u, 'utf8');
  } catch {
    return '(missing)';
  }
};

/** Flags the runbook names; each must be a documented env flag. */
const RUNBOOK_FLAGS = [
  'TRADING_ENABLED',
  'OPS_API_TOKEN',
  'EXTERNAL_EVENTS_SECRET',
  'HMM_CALIBRATION_PATH',
  'TREND_AUTO_TUNE_ENABLED',
  'SYMBOL_SCANNER_ENABLED',
  'SYMBOL_SCANNER_INTERVAL_SEC',
  'TRADE_SYMBOLS',
  'VENUE',
  'VENUES',
  'MAX_NOTIONAL_USDT',
  'VENUE_ERROR_BREAKER_PCT',
  'EQUITY_COOLDOWN_SEC',
  'DEPEG_GUARD_ENABLED',
  'DEPEG_EXIT_RISK',
  'STOP_VALIDATOR_REPAIR',
  'STOPVAL_NOTIFY_ENABLED',
  'FUNDING_GUARD_ENABLED',
  'FUNDING_HEDGE_RATIO',
  'EXEC_INTERVAL_SEC',
  'DRY_RUN',
  'EVENT_BREAKOUT_ENABLED',
  'EVENT_BREAKOUT_DRY_RUN',
  'EVENT_BREAKOUT_METRICS',
  'TELEGRAM_ENABLED',
  'DIGEST_INTERVAL_MIN',
  'AUTO_CUTBACK_ENABLED',
  'RISK_PARITY_ENABLED',
];

describe('generated flag docs', () => {
  it('docs/FEATURE_FLAGS.md matches the schema', () => {
    expect(read(FLAGS_DOC_URL), 'docs/FEATURE_FLAGS.md is out of date: run `npm run flags`').toBe(
      renderFeatureFlagsDoc(),
    );
  });

  it('.env.example matches the schema', () => {
    expect(read(ENV_EXAMPLE_URL), '.env.example is out of date: run `npm run flags`').toBe(renderEnvExample());
  });

  it('documents every flag the runbook names', () => {
    const doc = renderFeatureFlagsDoc();
    for (const f of RUNBOOK_FLAGS) {
      expect(ENV_FLAG_NAMES).toContain(f);
      expect(doc).toContain(`| \`${f}\` |`);
    }
  });

  it('lists every flag in .env.example, and uncommenting all of them changes nothing', () => {
    const example = renderEnvExample();
    const uncommented = example.replace(/^#([A-Z][A-Z0-9_]*=)/gm, '$1');
    const parsed = parseDotEnv(uncommented);
    expect(Object.keys(parsed).sort()).toEqual([...ENV_FLAG_NAMES].sort());
    expect(loadConfig({}, uncommented)).toEqual(loadConfig({}));
  });
});
