import { createHash } from 'node:crypto';
import { INSPECTOR_CHART_SCRIPT } from './inspector-chart.js';
import { INSPECTOR_TREE_SCRIPT } from './inspector-script.js';
import { INSPECTOR_STYLE } from './inspector-style.js';

/**
 * The inspector page (DESIGN §9, issue 18): the actor tree (virtualised, filterable, collapsible, with counts by
 * health and kind), the selected actor's statechart with its active states lit, its last transitions and its
 * health strip of the last hour, trading scopes with kill/resume, breakers and the event log.
 *
 * Everything comes from this listener, its own origin: the stream, `/status`, `/breakers`, `/actors/:id`,
 * `/inspect/*`, `/kill` (the engine serves it too) and the layout library (`/inspect/assets/elk.js`, elkjs from
 * node_modules): the page works offline and the CSP says `connect-src 'self'`. Inline script and style are
 * pinned by hash; the script is a TS module so `tsc` ships it in dist/ with no copy step.
 *
 * DOM hooks the browser test reads: `#tree .row[data-actor-id][data-health][data-kind]` for the rows on screen,
 * `#tree[data-matches][data-visible]`, `#count-OK[data-count]` (and DEGRADED, HALTED), `.kind-chip[data-kind]
 * [data-count]`, `.trading-led[data-scope][data-key][data-state][data-health]`, `#conn[data-state]`,
 * `#result[data-status]`, and the chart's hooks in inspector-chart.ts.
 */
const SCRIPT = `
(function () {
  'use strict';
${INSPECTOR_TREE_SCRIPT}
${INSPECTOR_CHART_SCRIPT}
  connect();
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The CSP: only this page's own script, style and layout library run; data comes from this origin only. */
export const INSPECTOR_CSP = [
  "default-src 'none'",
  `script-src 'self' ${hash(SCRIPT)}`,
  `style-src ${hash(INSPECTOR_STYLE)}`,
  'img-src data:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface InspectorPageOptions {
  /** Kept for callers that pass it; the page sends `/kill` to its own origin (the engine serves `/kill` too). */
  opsPort?: number | undefined;
  /** Scheme and host name the page was requested with (checked by the host guard), to build the ops origin. */
  protocol?: string | undefined;
  hostname?: string | undefined;
}

/** The page and its CSP header. */
export function inspectorHtml(_opts: InspectorPageOptions = {}): { body: string; csp: string } {
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bosun inspector</title>
<link rel="icon" href="data:,">
<style>${INSPECTOR_STYLE}</style>
</head>
<body>
<header>
  <h1><span id="root-led" class="led" data-health="UNKNOWN"></span>Bosun inspector</h1>
  <span id="conn" data-state="connecting">connecting</span>
  <span class="counts">
    <button type="button" id="count-OK" class="count" title="filter OK" data-count="0"><span class="led" data-health="OK"></span><span>0</span></button>
    <button type="button" id="count-DEGRADED" class="count" title="filter DEGRADED" data-count="0"><span class="led" data-health="DEGRADED"></span><span>0</span></button>
    <button type="button" id="count-HALTED" class="count" title="filter HALTED" data-count="0"><span class="led" data-health="HALTED"></span><span>0</span></button>
  </span>
  <span id="kinds" class="kinds"></span>
  <label>token <input id="token" type="password" autocomplete="off" size="20"></label>
  <label>as <input id="actor" value="inspector" size="10"></label>
  <label title="every actor event through XState inspection: slows the actors while on"><input id="all-events" type="checkbox"> all actor events</label>
  <span id="result" data-status="idle"></span>
</header>
<main>
  <div>
    <section>
      <h2>Actors <span id="shown" class="muted"></span></h2>
      <div class="filters">
        <input id="filter" type="search" placeholder="filter: id, state, reason" size="24" autocomplete="off">
        <select id="filter-kind" title="kind"><option value="">any kind</option></select>
        <select id="filter-health" title="health">
          <option value="">any health</option><option value="OK">OK</option><option value="DEGRADED">DEGRADED</option><option value="HALTED">HALTED</option>
        </select>
        <button type="button" id="collapse-all">collapse</button>
        <button type="button" id="expand-all">expand</button>
      </div>
      <div id="tree-viewport"><div id="tree" class="tree" data-matches="0" data-visible="0"><div id="tree-spacer"></div></div></div>
    </section>
  </div>
  <div>
    <section>
      <h2>Statechart <span id="actor-title" class="muted">click an actor</span></h2>
      <div id="actor-state" class="muted"></div>
      <div id="chart" data-ready="false"></div>
    </section>
    <div class="cols">
      <section>
        <h2>Health, last hour</h2>
        <div id="health-strip"></div>
        <div class="axis"><span>-60 min</span><span>-30</span><span>now</span></div>
        <ul id="health-edges"></ul>
      </section>
      <section><h2>Last transitions</h2><ul id="transitions"></ul></section>
    </div>
    <div class="cols">
      <section><h2>Trading</h2><div id="trading"></div></section>
      <section><h2>Breakers</h2><div id="breakers"></div></section>
    </div>
    <section><h2>Events</h2><ol id="log"></ol></section>
    <section><details><summary class="muted">context</summary><pre id="details" class="muted"></pre></details></section>
  </div>
</main>
<script src="/inspect/assets/elk.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
  return { body, csp: INSPECTOR_CSP };
}
