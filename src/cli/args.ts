import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './cli-context.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `node:util` parseArgs, strict, with any complaint turned into a usage error (exit 2). */
export function parse<O extends Options>(args: string[], options: O, positionals = 0) {
  let r: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (r.positionals.length > positionals) throw new UsageError(`unexpected argument '${r.positionals[positionals]}'`);
  return r;
}

/** A finite number option, or a usage error naming it. */
export function numberOpt(name: string, v: string | undefined, check?: (n: number) => boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (check && !check(n)))
    throw new UsageError(`--${name} expects a number${check ? ' in range' : ''}, got '${v}'`);
  return n;
}
