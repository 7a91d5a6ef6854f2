import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';

/** Issue #15: what Bosun writes under state/ is readable by its owner only (files 0600, directories 0700). */
describe('modes of the files under state/', () => {
  let bosun: BosunProcess;
  beforeAll(async () => {
    bosun = await startBosun({ LOG_LEVEL: 'info' });
  }, 60_000);
  afterAll(async () => {
    await bosun?.stop();
  });

  it.each([
    ['state', '', 0o700],
    ['db', 'db', 0o700],
    ['data.mdb', 'db/data.mdb', 0o600],
    ['logs', 'logs', 0o700],
    ['app.log', 'logs/app.log', 0o600],
    ['ops_token', 'ops_token', 0o600],
    ['sim_token', 'sim_token', 0o600],
  ])('%s is not readable by group or others', (_name, rel, mode) => {
    expect(statSync(join(bosun.stateDir, rel)).mode & 0o777).toBe(mode);
  });
});
