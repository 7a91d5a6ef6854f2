/**
 * `MAKER_MODE` (issue #16 item 3, the runbook's "maker remains shadow unless logs prove it … enable real maker for
 * scalps (futures only)"): one mode for every market (`off`, `shadow`, `live`) or one per market
 * (`spot:shadow,perp:live`; a market not named is off). `live` is allowed for perpetuals only: the env schema
 * refuses a spot `live` at start, naming the variable.
 */
export type MakerMode = 'off' | 'shadow' | 'live';
export interface MakerModes {
  spot: MakerMode;
  perp: MakerMode;
}

export const MAKER_MODE_PATTERN =
  /^\s*(off|shadow|live|(spot|perp)\s*:\s*(off|shadow|live)(\s*,\s*(spot|perp)\s*:\s*(off|shadow|live))?)\s*$/i;

/** Parses a value the schema's pattern accepted (anything else is off everywhere: fail closed). */
export function parseMakerMode(raw: string): MakerModes {
  const s = raw.trim().toLowerCase();
  if (s === 'off' || s === 'shadow' || s === 'live') return { spot: s, perp: s };
  const out: MakerModes = { spot: 'off', perp: 'off' };
  if (!MAKER_MODE_PATTERN.test(s)) return out;
  for (const part of s.split(',')) {
    const [market, mode] = part.split(':').map((x) => x.trim());
    if ((market === 'spot' || market === 'perp') && (mode === 'off' || mode === 'shadow' || mode === 'live'))
      out[market] = mode;
  }
  return out;
}

/** Why a mode set cannot start, or undefined. */
export function makerModeProblem(m: MakerModes): string | undefined {
  if (m.spot === 'live')
    return 'live maker is allowed for perpetuals only (runbook: real maker for scalps, futures only); use e.g. MAKER_MODE=spot:shadow,perp:live';
  return undefined;
}
