import type { RegimeName } from '../venues/sim/price-path.js';
import type { BarPoint, RunMode } from './replay.js';
import type { Aggregate, RunSummary } from './summary.js';
import type { RegimeSpan } from './tick-sources.js';

/**
 * `bosun backtest --html FILE`: one self-contained page (inline SVG and CSS, no script from anywhere, no CDN) with
 * the equity curve of every run, the drawdown, the position (signed: a perpetual short is below zero) and the price
 * over the true regimes (simulator paths), on a perpetual the long/short and funding table, and the JSON summary,
 * also embedded as `<script type="application/json" id="summary">` for tools.
 */
export interface ReportRun {
  summary: RunSummary;
  bars: BarPoint[];
}

export interface ReportInput {
  title: string;
  command: string;
  capitalUsd: number;
  runs: ReportRun[];
  regimes: RegimeSpan[];
  /** Across paths, when more than one was run. */
  aggregates?: Aggregate[];
  summary: unknown;
}

const W = 960;
const H = 220;
const PAD = 44;
const COLORS: Record<RunMode, string> = { blend: '#1f6feb', hmm: '#8957e5', trend: '#d29922', buy_and_hold: '#6e7781' };
const REGIME_FILL: Record<RegimeName, string> = {
  bull: '#2da44e22',
  volatile: '#d2992222',
  bear: '#cf222e22',
  peg: '#6e778122',
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** At most `n` points, evenly picked (the last always kept). */
function thin<T>(xs: T[], n = 1_200): T[] {
  if (xs.length <= n) return xs;
  const out: T[] = [];
  const step = xs.length / n;
  for (let i = 0; i < n; i++) out.push(xs[Math.floor(i * step)] as T);
  out.push(xs[xs.length - 1] as T);
  return out;
}

interface Frame {
  x: (t: number) => number;
  y: (v: number) => number;
  lo: number;
  hi: number;
}

function frame(t0: number, t1: number, lo: number, hi: number): Frame {
  const span = hi - lo || Math.abs(hi) || 1;
  return {
    x: (t) => PAD + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * PAD),
    y: (v) => H - PAD / 2 - ((v - lo) / span) * (H - PAD),
    lo,
    hi,
  };
}

function line(points: Array<[number, number]>, f: Frame, color: string, id: string): string {
  const d = points.map(([t, v], i) => `${i ? 'L' : 'M'}${f.x(t).toFixed(1)},${f.y(v).toFixed(1)}`).join('');
  return `<path id="${id}" d="${d}" fill="none" stroke="${color}" stroke-width="1.4"/>`;
}

function axes(f: Frame, label: (v: number) => string): string {
  const ticks = [f.lo, (f.lo + f.hi) / 2, f.hi];
  return ticks
    .map((v) => `<text x="4" y="${(f.y(v) + 4).toFixed(1)}" class="ax">${esc(label(v))}</text>`)
    .concat(`<line x1="${PAD}" x2="${W - PAD}" y1="${H - PAD / 2}" y2="${H - PAD / 2}" class="base"/>`)
    .join('');
}

function regimeBands(regimes: RegimeSpan[], f: Frame, t1: number): string {
  return regimes
    .filter((r) => r.from < t1)
    .map((r) => {
      const x0 = f.x(r.from);
      const x1 = f.x(Math.min(r.to, t1));
      return `<rect class="regime ${r.regime}" x="${x0.toFixed(1)}" y="0" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${H - PAD / 2}" fill="${REGIME_FILL[r.regime]}"><title>${r.regime}</title></rect>`;
    })
    .join('');
}

function panel(id: string, title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2><svg id="${id}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">${body}</svg></section>`;
}

/** The perpetual runs' sides and funding (empty for spot). */
function perpTable(runs: ReportRun[]): string {
  const rows = runs
    .filter((x) => x.summary.perp !== undefined)
    .map(({ summary: s }) => {
      const p = s.perp as NonNullable<RunSummary['perp']>;
      return `<tr><td>${esc(s.mode)}</td><td>${p.longPct}</td><td>${p.shortPct}</td><td>${p.longEntries}</td><td>${p.shortEntries}</td><td>${p.reduceOnlyExits}</td><td>${p.fundingPaidUsd}</td><td>${p.fundingReceivedUsd}</td><td>${s.fundingUsd}</td><td>${p.settlements}</td><td>${p.liquidations}</td></tr>`;
    })
    .join('');
  if (!rows) return '';
  return `<h2>Perpetual: long and short, funding</h2><table id="perp"><tr><th>mode</th><th>bars long %</th><th>bars short %</th><th>long entries</th><th>short entries</th><th>reduce-only exits</th><th>funding paid $</th><th>funding received $</th><th>net funding $</th><th>settlements</th><th>liquidations</th></tr>${rows}</table>`;
}

export function renderReport(r: ReportInput): string {
  const all = r.runs.flatMap((x) => x.bars);
  const t0 = all.length ? Math.min(...r.runs.map((x) => x.bars[0]?.at ?? Number.POSITIVE_INFINITY)) : 0;
  const t1 = all.length ? Math.max(...r.runs.map((x) => x.bars.at(-1)?.at ?? 0)) : 1;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const b of all) {
    lo = Math.min(lo, b.equity);
    hi = Math.max(hi, b.equity);
  }
  const usd = (v: number) => v.toFixed(0);
  const eqF = frame(t0, t1, Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 1);
  const equity = r.runs
    .map((x) =>
      line(
        thin(x.bars).map((b) => [b.at, b.equity]),
        eqF,
        COLORS[x.summary.mode],
        `equity-${x.summary.mode}`,
      ),
    )
    .join('');
  const dds = r.runs.map((x) => {
    let peak = r.capitalUsd;
    return {
      mode: x.summary.mode,
      pts: thin(x.bars).map((b): [number, number] => {
        peak = Math.max(peak, b.equity);
        return [b.at, -((peak - b.equity) / peak) * 100];
      }),
    };
  });
  const ddLo = Math.min(-0.01, ...dds.flatMap((d) => d.pts.map((p) => p[1])));
  const ddF = frame(t0, t1, ddLo, 0);
  const positions = r.runs.flatMap((x) => x.bars.map((b) => b.positionUsd));
  const posF = frame(t0, t1, Math.min(0, ...positions), Math.max(1, ...positions));
  const price = r.runs[0]?.bars ?? [];
  const pF = frame(t0, t1, Math.min(...price.map((b) => b.close)), Math.max(...price.map((b) => b.close)));
  const legend = r.runs
    .map((x) => `<span class="key" style="border-color:${COLORS[x.summary.mode]}">${esc(x.summary.mode)}</span>`)
    .join(' ');
  const rows = r.runs
    .map(
      ({ summary: s }) =>
        `<tr><td>${esc(s.mode)}</td><td>${s.returnPct}</td><td>${s.sharpe}</td><td>${s.maxDrawdownPct}</td><td>${s.turnover}</td><td>${s.hitRatePct ?? '–'}</td><td>${s.trades}</td><td>${s.feesUsd}</td><td>${s.slippageUsd}</td><td>${s.slippageBps}</td></tr>`,
    )
    .join('');
  const aggRows = (r.aggregates ?? [])
    .map(
      (a) =>
        `<tr><td>${esc(a.mode)}</td><td>${a.paths}</td><td>${a.mean.returnPct}</td><td>${a.mean.sharpe}</td><td>${a.median.sharpe}</td><td>${a.mean.maxDrawdownPct}</td><td>${a.mean.turnover}</td><td>${a.mean.feesUsd}</td><td>${a.mean.slippageUsd}</td><td>${a.mean.fundingUsd}</td></tr>`,
    )
    .join('');
  const perp = perpTable(r.runs);
  // `</` cannot end the JSON block early.
  const json = JSON.stringify(r.summary, null, 2).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1f2328;max-width:1000px}
h1{font-size:20px}h2{font-size:15px;margin:18px 0 4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.ax{font-size:10px;fill:#57606a}.base{stroke:#d0d7de}
.key{border-left:14px solid;padding-left:4px;margin-right:10px}code,pre{background:#f6f8fa;padding:2px 4px}
pre{padding:8px;overflow:auto;max-height:360px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Net of fees and slippage. Re-run: <code>${esc(r.command)}</code></p>
<p>${legend}</p>
${aggRows ? `<h2>Across paths</h2><table id="aggregates"><tr><th>mode</th><th>paths</th><th>mean return %</th><th>mean Sharpe</th><th>median Sharpe</th><th>mean max DD %</th><th>mean turnover</th><th>mean fees $</th><th>mean slippage $</th><th>mean funding $</th></tr>${aggRows}</table>` : ''}
<h2>This path</h2>
<table id="runs"><tr><th>mode</th><th>return %</th><th>Sharpe</th><th>max DD %</th><th>turnover</th><th>hit %</th><th>trades</th><th>fees $</th><th>slippage $</th><th>slip bps</th></tr>${rows}</table>
${perp}
${panel('equity', 'Equity (USD)', regimeBands(r.regimes, eqF, t1) + axes(eqF, usd) + equity)}
${panel('drawdown', 'Drawdown (%)', axes(ddF, (v) => v.toFixed(1)) + dds.map((d) => line(d.pts, ddF, COLORS[d.mode], `drawdown-${d.mode}`)).join(''))}
${panel(
  'position',
  'Position (USD)',
  axes(posF, usd) +
    `<line x1="${PAD}" x2="${W - PAD}" y1="${posF.y(0).toFixed(1)}" y2="${posF.y(0).toFixed(1)}" class="base" id="position-zero"/>` +
    r.runs
      .filter((x) => x.summary.mode !== 'buy_and_hold')
      .map((x) =>
        line(
          thin(x.bars).map((b) => [b.at, b.positionUsd]),
          posF,
          COLORS[x.summary.mode],
          `position-${x.summary.mode}`,
        ),
      )
      .join(''),
)}
${panel(
  'price',
  r.regimes.length ? 'Price and the true regime (green bull, amber volatile, red bear)' : 'Price',
  regimeBands(r.regimes, pF, t1) +
    axes(pF, (v) => v.toFixed(2)) +
    line(
      thin(price).map((b) => [b.at, b.close]),
      pF,
      '#1f2328',
      'price-line',
    ),
)}
<h2>Summary (JSON)</h2>
<pre>${esc(JSON.stringify(r.summary, null, 2))}</pre>
<script type="application/json" id="summary">${json}</script>
</body></html>
`;
}
