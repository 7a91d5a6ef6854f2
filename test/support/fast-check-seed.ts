import fc from 'fast-check';
import { afterEach } from 'vitest';

/**
 * Every property test is replayable (vitest setupFiles): fast-check runs from one seed per test file, FC_SEED when
 * given, else a fresh one; a failing test prints the seed and the command that replays it. A test that passes its
 * own `seed` to fc.assert keeps it (the campaigns print and replay theirs: test/simulation/README.md).
 */
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 0x7fff_ffff);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });

afterEach((ctx) => {
  const r = ctx.task.result;
  // Only a property's failure (fast-check's report names its counterexample); other failures have no seed to replay.
  if (r?.state === 'fail' && r.errors?.some((e) => /Property failed|Counterexample/.test(String(e.message))))
    console.error(`fast-check seed ${seed}: replay with FC_SEED=${seed} npx vitest run ${ctx.task.file.filepath}`);
});
