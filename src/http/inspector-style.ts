/** The inspector page's stylesheet (inline, pinned by hash in the CSP; see inspector-page.ts). */
export const INSPECTOR_STYLE = `
:root { color-scheme: dark; --ok: #2ecc71; --deg: #f0b429; --halt: #e5484d; --bg: #14161a; --fg: #d7dae0; --mut: #7d8590; --line: #2a2e35; --row: 20px; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 14px; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
main { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 12px; padding: 12px; }
section { background: #1b1e24; border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-width: 0; margin-bottom: 12px; }
section h2 { font-size: 13px; margin: 0 0 6px; color: var(--mut); text-transform: uppercase; letter-spacing: .05em; display: flex; gap: 8px; align-items: baseline; }
.led { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: var(--mut); margin-right: 6px; vertical-align: middle; flex: none; }
.led[data-health="OK"] { background: var(--ok); box-shadow: 0 0 6px var(--ok); }
.led[data-health="DEGRADED"] { background: var(--deg); box-shadow: 0 0 6px var(--deg); }
.led[data-health="HALTED"] { background: var(--halt); box-shadow: 0 0 6px var(--halt); }
.counts { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.count { display: inline-flex; align-items: center; }
.kinds { display: flex; gap: 4px; flex-wrap: wrap; }
.kind-chip { font-size: 11px; padding: 0 5px; }
.kind-chip.on { border-color: #9cdcfe; color: #9cdcfe; }
.filters { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
#tree-viewport { position: relative; height: calc(100vh - 190px); min-height: 240px; overflow-y: auto; overflow-x: hidden; }
#tree-spacer { position: relative; width: 100%; }
.row { position: absolute; left: 0; right: 0; height: var(--row); display: flex; gap: 6px; align-items: center; white-space: nowrap; overflow: hidden; padding-right: 4px; }
.row:hover { background: #20242b; }
.row.sel { background: #23303d; }
.row .twisty { width: 14px; flex: none; padding: 0; border: 0; background: none; color: var(--mut); }
.row .twisty:empty { visibility: hidden; }
.row .id { color: #fff; cursor: pointer; background: none; border: 0; font: inherit; padding: 0; flex: none; }
.row .id:hover { text-decoration: underline; }
.row .state { color: #9cdcfe; overflow: hidden; text-overflow: ellipsis; min-width: 0; flex: 1 1 auto; }
.row[data-health="DEGRADED"] .state { color: var(--deg); }
.row[data-health="HALTED"] .state { color: var(--halt); }
.row .restarts { color: var(--mut); flex: none; }
.row .error { color: var(--halt); overflow: hidden; text-overflow: ellipsis; max-width: 24ch; flex: none; }
.row .restart { flex: none; font-size: 11px; }
.row[data-liveness="backoff"] .id, .row[data-liveness="stopped"] .id { color: var(--mut); font-style: italic; }
button, select { font: inherit; background: #2a2e35; color: var(--fg); border: 1px solid #3a3f47; border-radius: 4px; padding: 1px 6px; cursor: pointer; }
button:hover { background: #343942; }
button.danger { border-color: var(--halt); }
input { font: inherit; background: #0f1114; color: var(--fg); border: 1px solid #3a3f47; border-radius: 4px; padding: 2px 6px; }
.trading-item { display: flex; gap: 6px; align-items: center; padding: 2px 0; }
.trading-item .label { min-width: 22ch; }
#chart { width: 100%; height: 480px; overflow: auto; background: #15181d; border: 1px solid var(--line); border-radius: 4px; }
#chart svg { display: block; }
#chart .st rect { fill: #1f242b; stroke: #4a515c; stroke-width: 1; }
#chart .st.compound > rect { fill: none; stroke: #3a414b; }
#chart .st.parallel > rect { fill: none; stroke: #59616d; stroke-dasharray: 5 3; }
#chart .st.final rect { stroke-width: 3; }
#chart .st[data-active="true"] > rect { stroke: #9cdcfe; stroke-width: 2; }
#chart .st.atomic[data-active="true"] > rect, #chart .st.final[data-active="true"] > rect { fill: #1d4f73; }
#chart .st[data-active="true"][data-key="OK"] > rect { fill: #1b5e3a; stroke: var(--ok); }
#chart .st[data-active="true"][data-key="DEGRADED"] > rect { fill: #6b5216; stroke: var(--deg); }
#chart .st[data-active="true"][data-key="HALTED"] > rect { fill: #6e2124; stroke: var(--halt); }
#chart text { fill: var(--fg); font: 11px ui-monospace, Menlo, Consolas, monospace; }
#chart .st.compound > text, #chart .st.parallel > text { fill: var(--mut); }
#chart text.internal { fill: #8b93a0; font-size: 10px; }
#chart .edge path { fill: none; stroke: #6b7480; stroke-width: 1; }
#chart .edge text { fill: #c3a6ff; font-size: 10px; }
#chart .edge.guarded text { fill: #e0b0ff; }
#chart-msg { color: var(--mut); }
#health-strip { display: flex; height: 14px; border: 1px solid var(--line); border-radius: 3px; overflow: hidden; margin: 4px 0 2px; }
#health-strip .seg { height: 100%; background: var(--mut); }
#health-strip .seg[data-health="NONE"] { background: #23262c; }
#health-strip .seg[data-health="OK"] { background: var(--ok); }
#health-strip .seg[data-health="DEGRADED"] { background: var(--deg); }
#health-strip .seg[data-health="HALTED"] { background: var(--halt); }
.axis { display: flex; justify-content: space-between; color: var(--mut); font-size: 11px; }
#health-edges, #transitions { list-style: none; margin: 4px 0 0; padding: 0; font-size: 12px; max-height: 120px; overflow-y: auto; }
#health-edges li, #transitions li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ts { color: var(--mut); margin-right: 6px; }
.ev { color: #c3a6ff; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
#log { list-style: none; margin: 0; padding: 0; height: 220px; overflow-y: auto; font-size: 12px; }
#log li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; border-bottom: 1px solid #22252b; }
#log li.local { color: #c3a6ff; }
#log li.err { color: var(--halt); }
#log li.transition { color: var(--deg); }
#details { max-height: 240px; overflow: auto; margin: 0; font-size: 12px; white-space: pre-wrap; }
#conn[data-state="open"] { color: var(--ok); }
#conn[data-state="closed"], #conn[data-state="connecting"] { color: var(--deg); }
#result[data-status="error"] { color: var(--halt); }
#result[data-status="ok"] { color: var(--ok); }
.muted { color: var(--mut); }
`;
