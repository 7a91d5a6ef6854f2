/**
 * `2026-12-07T01:02:03.004Z` for an epoch-milliseconds value, as `new Date(ms).toISOString()` writes it, without
 * the `Date` global: the pure folders take time as a number and format it here (scripts/check-boundaries.mjs
 * refuses `Date` in machines/, strategies/, domain/). Years 0–9999 (the ISO extended years are never needed).
 */
export function isoUtc(ms: number): string {
  const t = Math.floor(ms);
  const dayMs = 86_400_000;
  const days = Math.floor(t / dayMs);
  let rest = t - days * dayMs;
  const hh = Math.floor(rest / 3_600_000);
  rest -= hh * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const ss = Math.floor(rest / 1000);
  const mss = rest - ss * 1000;
  // Civil date from days since 1970-01-01 (proleptic Gregorian), in 400-year eras of 146,097 days that start on
  // March 1st so the leap day is the last day of a year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}T${p2(hh)}:${p2(mi)}:${p2(ss)}.${String(mss).padStart(3, '0')}Z`;
}
