import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import {
  DEPEG_BLIND,
  DEPEG_TRIGGER,
  depegAlertText,
  depegGuardMachine,
  depegGuardView,
  depegRearmCheck,
  deviationPct,
} from './depeg-guard.machine.js';
import { FUNDING_BLIND, fundingGuardMachine, fundingGuardView, fundingPlans } from './funding-guard.machine.js';

const depeg = (persisted?: Record<string, unknown>, failClosed?: string) => {
  const effects: string[] = [];
  const a = createActor(
    depegGuardMachine.provide({
      actions: {
        'depeg.publish': () => effects.push('publish'),
        'depeg.tripped': () => effects.push('tripped'),
        'depeg.rearmed': (_, p) => effects.push(`rearmed:${p.by}`),
      },
    }),
    {
      input: {
        venue: 'binance',
        thresholdPct: 0.5,
        confirmMs: 10_000,
        cooldownMs: 60_000,
        persisted,
        ...(failClosed ? { failClosed } : {}),
      },
    },
  );
  a.start();
  const obs = (usdtUsdc: number | null, at: number, btcRatio: number | null = 1) =>
    a.send({ type: 'depeg.observe', usdtUsdc, btcRatio, at });
  return { a, obs, view: () => depegGuardView(a.getSnapshot().context), effects };
};

describe('depeg guard', () => {
  it('measures the worst of the two parities and ignores what is not a positive number', () => {
    expect(deviationPct({ usdtUsdc: 0.99, btcRatio: 1.002 })).toBeCloseTo(1, 9);
    expect(deviationPct({ usdtUsdc: null, btcRatio: 1.02 })).toBeCloseTo(2, 9);
    expect(deviationPct({ usdtUsdc: Number.NaN, btcRatio: -1 })).toBeNull();
  });

  it('trips only after the deviation held for the whole confirmation window', () => {
    const { a, obs, view, effects } = depeg();
    obs(0.99, 0);
    expect(view().phase).toBe('confirming');
    expect(a.getSnapshot().context.health.value).toBe('DEGRADED');
    obs(1, 5_000); // back within: the window restarts
    expect(view().phase).toBe('armed');
    obs(0.99, 6_000);
    obs(0.99, 15_999);
    expect(view().active).toBe(false);
    obs(null, 15_999, null); // a gap neither confirms nor clears
    obs(0.99, 16_000);
    expect(view()).toMatchObject({ active: true, phase: 'tripped', reason: DEPEG_TRIGGER, trippedAt: 16_000 });
    expect(a.getSnapshot().context.health).toEqual({ value: 'HALTED', reason: DEPEG_TRIGGER });
    expect(effects.filter((e) => e === 'tripped')).toHaveLength(1);
  });

  it('is DEGRADED and refuses new entries while blind (no parity reading), and recovers when it sees parity', () => {
    const { a, obs, view } = depeg();
    obs(1, 0);
    expect(view().active).toBe(false);
    obs(null, 1_000, null); // the poll failed
    expect(view()).toMatchObject({ active: true, blind: true, phase: 'armed', reason: DEPEG_BLIND });
    expect(a.getSnapshot().context.health).toEqual({ value: 'DEGRADED', reason: DEPEG_BLIND });
    obs(null, 60_000, null);
    expect(view().active).toBe(true);
    obs(1, 61_000);
    expect(view()).toMatchObject({ active: false, blind: false });
    expect(a.getSnapshot().context.health.value).toBe('OK');
  });

  it('a (re)started guard refuses new entries until its first parity reading (fail closed across a restart)', () => {
    const { obs, view } = depeg();
    expect(view()).toMatchObject({ active: true, blind: true, phase: 'armed' });
    obs(1, 0);
    expect(view()).toMatchObject({ active: false, blind: false });
    // A guard restored tripped stays tripped (not merely blind).
    expect(depeg({ phase: 'tripped' }).view()).toMatchObject({ active: true, phase: 'tripped', blind: false });
  });

  it('trips on the BTCUSDT/BTCUSDC ratio alone', () => {
    const { obs, view } = depeg();
    obs(1, 0, 1.01);
    obs(1, 10_000, 1.01);
    expect(view().active).toBe(true);
  });

  it('re-arms only after parity has held for the cooldown; a relapse or a gap restarts it', () => {
    const { a, obs, view, effects } = depeg();
    obs(0.98, 0);
    obs(0.98, 10_000);
    expect(depegRearmCheck(a.getSnapshot().context, 10_000)).toMatchObject({ ok: false, code: 'PARITY_BROKEN' });
    a.send({ type: 'depeg.rearm', at: 10_000, by: 'ops' });
    expect(view().active).toBe(true);
    obs(1, 20_000);
    expect(depegRearmCheck(a.getSnapshot().context, 79_999)).toMatchObject({ ok: false, code: 'COOLDOWN' });
    obs(null, 30_000, null); // unseen is not validated
    expect(view().heldSince).toBeNull();
    obs(1, 40_000);
    obs(0.98, 50_000); // relapse
    obs(1, 60_000);
    a.send({ type: 'depeg.rearm', at: 119_999, by: 'ops' });
    expect(view().active).toBe(true);
    a.send({ type: 'depeg.rearm', at: 120_000, by: 'ops' });
    expect(view()).toMatchObject({ active: false, phase: 'armed', rearms: 1, lastRearm: { at: 120_000, by: 'ops' } });
    expect(a.getSnapshot().context.health.value).toBe('OK');
    expect(effects).toContain('rearmed:ops');
    expect(depegRearmCheck(a.getSnapshot().context, 130_000)).toMatchObject({ ok: false, code: 'NOT_TRIPPED' });
  });

  it('re-arms itself on the first observation of a new UTC day when parity has held', () => {
    const day = 86_400_000;
    const { obs, view, effects } = depeg();
    obs(0.98, day - 200_000);
    obs(0.98, day - 190_000);
    obs(1, day - 120_000);
    obs(1, day - 1);
    expect(view().active).toBe(true);
    obs(1, day + 1);
    expect(view().active).toBe(false);
    expect(effects).toContain('rearmed:daily_reset');
  });

  it('does not re-arm on the daily reset while parity is broken', () => {
    const day = 86_400_000;
    const { obs, view } = depeg();
    obs(0.98, day - 20_000);
    obs(0.98, day - 10_000);
    obs(0.98, day + 1);
    expect(view().active).toBe(true);
  });

  it('restores a persisted trip HALTED, and a fail-closed restart counts as active', () => {
    const tripped = depeg({ phase: 'tripped', trippedAt: 5, trips: 1 });
    expect(tripped.view()).toMatchObject({ active: true, reason: DEPEG_TRIGGER, heldSince: null });
    expect(tripped.a.getSnapshot().context.health.value).toBe('HALTED');
    const failed = depeg(undefined, 'boom');
    expect(failed.view()).toMatchObject({ active: true, reason: 'crash_loop: boom' });
    expect(failed.a.getSnapshot().context.health.value).toBe('HALTED');
  });

  it('is a pure transition function (transition() with no actor)', () => {
    const input = { venue: 'binance', thresholdPct: 0.5, confirmMs: 0, cooldownMs: 0 };
    const [s0] = initialTransition(depegGuardMachine, input);
    const [s1, actions] = transition(depegGuardMachine, s0, {
      type: 'depeg.observe',
      usdtUsdc: 0.97,
      btcRatio: 1,
      at: 1,
    });
    expect(s1.context.phase).toBe('tripped');
    expect(actions.map((x) => x.type)).toContain('depeg.tripped');
    expect(JSON.parse(JSON.stringify(s1.context))).toEqual(s1.context);
  });

  it('writes a Telegram-ready alert carrying depeg_trigger', () => {
    const text = depegAlertText({
      venue: 'binance',
      deviationPct: 2.04,
      usdtUsdc: 0.98,
      btcRatio: 1.0204,
      thresholdPct: 0.5,
      exitRisk: true,
    });
    expect(text).toMatch(/^🔴 HALTED/);
    expect(text).toContain(DEPEG_TRIGGER);
    expect(text).toContain('0.9800');
    expect(text).toContain('DEPEG_EXIT_RISK=true');
  });
});

describe('funding guard', () => {
  const base = { thresholdPct: 0.1, trimPct: 50, hedgeRatio: 0.5, hedgeSymbol: 'BTCUSDT', handled: {} };
  const rates = { ETHUSDT: { ratePct: 0.3, nextFundingTime: 8 }, BTCUSDT: { ratePct: 0.01, nextFundingTime: 8 } };

  it('plans a trim of the paying side only, and a hedge at the ratio of the trimmed notional', () => {
    const plans = fundingPlans(base, rates, [
      { symbol: 'ETHUSDT', side: 'long', amount: 2, markPrice: 3_000 },
      { symbol: 'BTCUSDT', side: 'long', amount: 1, markPrice: 60_000 },
    ]);
    expect(plans).toEqual([
      {
        symbol: 'ETHUSDT',
        trim: { side: 'sell', amount: 1, notionalUsdt: 3_000 },
        hedge: { symbol: 'BTCUSDT', side: 'buy', quoteUsdt: 1_500 },
        ratePct: 0.3,
        key: 'long:8',
      },
    ]);
    expect(fundingPlans(base, rates, [{ symbol: 'ETHUSDT', side: 'short', amount: 2, markPrice: 3_000 }])).toEqual([]);
    expect(
      fundingPlans({ ...base, hedgeRatio: 0 }, rates, [
        { symbol: 'ETHUSDT', side: 'long', amount: 2, markPrice: 3_000 },
      ])[0]?.hedge,
    ).toBeNull();
  });

  it('is DEGRADED with the reason while its polls fail, and OK again after a good poll', () => {
    const a = createActor(fundingGuardMachine, {
      input: { venue: 'binance', thresholdPct: 0.1, trimPct: 50, hedgeRatio: 0 },
    });
    a.start();
    a.send({ type: 'funding.failed', error: 'binance: AuthenticationError: -2015', at: 1 });
    expect(a.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: `${FUNDING_BLIND}: binance: AuthenticationError: -2015`,
    });
    expect(fundingGuardView(a.getSnapshot().context)).toMatchObject({
      lastPollAt: null,
      pollError: expect.any(String),
    });
    a.send({
      type: 'funding.observe',
      rates: { ETHUSDT: { ratePct: 0.01, nextFundingTime: 8 } },
      positions: [],
      at: 2,
    });
    expect(a.getSnapshot().context.health.value).toBe('OK');
    expect(fundingGuardView(a.getSnapshot().context).pollError).toBeNull();
  });

  it('trims once per spike, goes DEGRADED while spiking, and OK when the rate falls back', () => {
    const acted: number[] = [];
    const a = createActor(
      fundingGuardMachine.provide({ actions: { 'funding.act': (_, p) => acted.push(p.plans.length) } }),
      { input: { venue: 'binance', thresholdPct: 0.1, trimPct: 50, hedgeRatio: 0 } },
    );
    a.start();
    const positions = [{ symbol: 'ETHUSDT', side: 'long' as const, amount: 2, markPrice: 3_000 }];
    a.send({ type: 'funding.observe', rates, positions, at: 1 });
    a.send({ type: 'funding.observe', rates, positions: [{ ...positions[0]!, amount: 1 }], at: 2 });
    expect(acted).toEqual([1]);
    expect(fundingGuardView(a.getSnapshot().context)).toMatchObject({ spikeActive: true, spiking: ['ETHUSDT'] });
    expect(a.getSnapshot().context.health).toEqual({ value: 'DEGRADED', reason: 'funding_spike' });
    a.send({ type: 'funding.result', symbol: 'ETHUSDT', trimmed: true, hedged: false });
    expect(fundingGuardView(a.getSnapshot().context).trims).toBe(1);
    // The next funding interval is a new spike.
    a.send({ type: 'funding.observe', rates: { ETHUSDT: { ratePct: 0.3, nextFundingTime: 16 } }, positions, at: 3 });
    expect(acted).toEqual([1, 1]);
    a.send({ type: 'funding.observe', rates: { ETHUSDT: { ratePct: 0.01, nextFundingTime: 16 } }, positions, at: 4 });
    expect(fundingGuardView(a.getSnapshot().context).spikeActive).toBe(false);
    expect(a.getSnapshot().context.health.value).toBe('OK');
  });

  it('restores a persisted spike DEGRADED with what it already trimmed', () => {
    const a = createActor(fundingGuardMachine, {
      input: {
        venue: 'binance',
        thresholdPct: 0.1,
        trimPct: 50,
        hedgeRatio: 0,
        persisted: { spiking: ['ETHUSDT'], handled: { ETHUSDT: 'long:8' }, trims: 1 },
      },
    });
    a.start();
    expect(fundingGuardView(a.getSnapshot().context)).toMatchObject({ spikeActive: true, trims: 1 });
    expect(a.getSnapshot().context.health.value).toBe('DEGRADED');
  });
});
