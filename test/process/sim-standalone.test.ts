/**
 * `npm run sim` keeps its own state directory: a second start in the same SIM_STATE_DIR resumes the same paper
 * accounts (same keys, same balances) instead of a fresh venue; `none` keeps nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../dist/venues/sim/main.js');
const dir = mkdtempSync(join(tmpdir(), 'bosun-sim-standalone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Banner {
  baseUrl: string;
  keys: { binance: { apiKey: string }; kraken: { apiKey: string } };
  resumed: boolean;
  stateDir: string | null;
  controlToken: string;
  krakenTier: string;
}

/** A control route with the sim's token (without it the answer is a 401 with no accounts in it). */
async function control<T>(b: Banner, path: string): Promise<T> {
  const r = await fetch(`${b.baseUrl}${path}`, { headers: { 'x-sim-token': b.controlToken } });
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}

/** Starts `npm run sim`'s entry, resolves with its banner and a stop that SIGTERMs it and resolves its exit code. */
async function runSim(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, SIM_PORT: '0', ...env },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let text = '';
  const banner = await new Promise<Banner>((res, rej) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      text += l;
      if (l === '}') res(JSON.parse(text) as Banner);
    });
    void exited.then((c) => rej(new Error(`sim exited ${c} before its banner`)));
  });
  return {
    banner,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('npm run sim', () => {
  it('resumes its accounts from SIM_STATE_DIR after a restart', async () => {
    const a = await runSim({ SIM_STATE_DIR: 'venue' });
    expect(a.banner).toMatchObject({ resumed: false, stateDir: 'venue' });
    const before = await control<{ accounts: unknown[] }>(a.banner, '/__sim/state?venue=binance');
    expect(before.accounts.length).toBeGreaterThan(0);
    expect(await a.stop()).toBe(0);

    const b = await runSim({ SIM_STATE_DIR: 'venue' });
    expect(b.banner.resumed).toBe(true);
    expect(b.banner.keys).toEqual(a.banner.keys);
    const after = await control<{ accounts: unknown[] }>(b.banner, '/__sim/state?venue=binance');
    expect(after.accounts).toEqual(before.accounts);
    expect(await b.stop()).toBe(0);

    const c = await runSim({ SIM_STATE_DIR: 'none' });
    expect(c.banner).toMatchObject({ resumed: false, stateDir: null });
    expect(c.banner.keys.binance.apiKey).not.toBe(a.banner.keys.binance.apiKey);
    expect(await c.stop()).toBe(0);
  }, 30_000);

  it("enforces Kraken's starter tier unless SIM_KRAKEN_TIER says otherwise, as the venue does for a new account", async () => {
    const a = await runSim({ SIM_STATE_DIR: 'none' });
    expect(a.banner.krakenTier).toBe('starter');
    expect(await control(a.banner, '/__sim/limits/kraken')).toEqual({
      tier: 'starter',
      refused: { calls: 0, trading: 0 },
    });
    expect(await a.stop()).toBe(0);
    const b = await runSim({ SIM_STATE_DIR: 'none', SIM_KRAKEN_TIER: 'off' });
    expect(b.banner.krakenTier).toBe('off');
    expect(await control<{ tier: unknown }>(b.banner, '/__sim/limits/kraken')).toMatchObject({ tier: 'off' });
    expect(await b.stop()).toBe(0);
  }, 30_000);
});
