import { createHash } from 'node:crypto';

/**
 * The inspector page (DESIGN §9), one self-contained document: inline CSS and JS, nothing fetched from anywhere
 * but this listener (the stream, `/status`, `/breakers`, `/actors/:id`) and the ops listener for `/kill`. It is a
 * TS module so `tsc` ships it in dist/ with no copy step. The CSP pins the inline script and style by hash.
 *
 * The JS avoids template literals on purpose (it lives inside one). DOM hooks the browser test reads:
 * `li[data-actor-id][data-health]` per actor, `.trading-led[data-scope][data-key][data-state][data-health]` per
 * trading scope, `#conn[data-state]`, `#result[data-status]`.
 */

const STYLE = `
:root { color-scheme: dark; --ok: #2ecc71; --deg: #f0b429; --halt: #e5484d; --bg: #14161a; --fg: #d7dae0; --mut: #7d8590; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 16px; align-items: center; padding: 8px 12px; border-bottom: 1px solid #2a2e35; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px; padding: 12px; }
section { background: #1b1e24; border: 1px solid #2a2e35; border-radius: 6px; padding: 8px; min-width: 0; }
section h2 { font-size: 13px; margin: 0 0 6px; color: var(--mut); text-transform: uppercase; letter-spacing: .05em; }
.led { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: var(--mut); margin-right: 6px; vertical-align: middle; }
[data-health="OK"] > .row > .led, .led[data-health="OK"] { background: var(--ok); box-shadow: 0 0 6px var(--ok); }
[data-health="DEGRADED"] > .row > .led, .led[data-health="DEGRADED"] { background: var(--deg); box-shadow: 0 0 6px var(--deg); }
[data-health="HALTED"] > .row > .led, .led[data-health="HALTED"] { background: var(--halt); box-shadow: 0 0 6px var(--halt); }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 16px; }
ul.tree { padding-left: 0; }
.row { display: flex; gap: 8px; align-items: baseline; padding: 1px 0; white-space: nowrap; overflow: hidden; }
.row .id { color: #fff; cursor: pointer; background: none; border: 0; font: inherit; padding: 0; }
.row .id:hover, .row .id.sel { text-decoration: underline; }
.row .value { color: #9cdcfe; overflow: hidden; text-overflow: ellipsis; max-width: 28ch; }
.row .reason { color: var(--deg); overflow: hidden; text-overflow: ellipsis; }
.row .restarts { color: var(--mut); }
.row .error { color: var(--halt); overflow: hidden; text-overflow: ellipsis; max-width: 30ch; }
[data-liveness="backoff"] > .row .id, [data-liveness="stopped"] > .row .id { color: var(--mut); font-style: italic; }
button { font: inherit; background: #2a2e35; color: var(--fg); border: 1px solid #3a3f47; border-radius: 4px; padding: 1px 6px; cursor: pointer; }
button:hover { background: #343942; }
button.danger { border-color: var(--halt); }
.trading-item { display: flex; gap: 6px; align-items: center; padding: 2px 0; }
.trading-item .label { min-width: 22ch; }
input { font: inherit; background: #0f1114; color: var(--fg); border: 1px solid #3a3f47; border-radius: 4px; padding: 2px 6px; }
#log { list-style: none; margin: 0; padding: 0; height: 320px; overflow-y: auto; font-size: 12px; }
#log li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; border-bottom: 1px solid #22252b; }
#log li.local { color: #c3a6ff; }
#log li.err { color: var(--halt); }
#log li.transition { color: var(--deg); }
#log .ts { color: var(--mut); margin-right: 6px; }
#details { max-height: 280px; overflow: auto; margin: 0; font-size: 12px; white-space: pre-wrap; }
#conn[data-state="open"] { color: var(--ok); }
#conn[data-state="closed"], #conn[data-state="connecting"] { color: var(--deg); }
#result[data-status="error"] { color: var(--halt); }
#result[data-status="ok"] { color: var(--ok); }
.muted { color: var(--mut); }
`;

const SCRIPT = `
(function () {
  'use strict';
  var cfgEl = document.getElementById('bosun-config');
  var cfg = {};
  try { cfg = JSON.parse((cfgEl && cfgEl.textContent) || '{}'); } catch (e) { cfg = {}; }
  var qs = new URLSearchParams(location.search);
  // The ops token goes only to this origin or the ops listener on this host (the CSP says the same): a
  // ?ops= naming anything else is ignored, so a link cannot make the page send the token elsewhere.
  var opsOwn = cfg.opsOrigin || location.origin;
  var opsAsked = (qs.get('ops') || '').replace(/\\/+$/, '');
  var opsBase = opsAsked === location.origin || opsAsked === opsOwn ? opsAsked : opsOwn;
  var RANK = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
  var HEALTH_OF = { ACTIVE: 'OK', REDUCING: 'DEGRADED', HALTED: 'HALTED' };
  var MAX_LOG = 500;
  var nodes = new Map();
  var parentOf = new Map();
  var rows = new Map();
  var gov = null;
  var selected = null;
  var timers = {};

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function debounce(key, ms, fn) {
    if (timers[key]) return;
    timers[key] = setTimeout(function () { timers[key] = null; fn(); }, ms);
  }
  function compact(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    var s = JSON.stringify(v);
    return s.length > 120 ? s.slice(0, 119) + '\\u2026' : s;
  }
  function hhmmss(ts) { return new Date(ts).toISOString().slice(11, 23); }

  function log(text, cls, ts) {
    var ol = $('log');
    var stick = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
    var li = el('li', cls || '');
    li.appendChild(el('span', 'ts', hhmmss(ts || Date.now())));
    li.appendChild(document.createTextNode(text));
    ol.appendChild(li);
    while (ol.childElementCount > MAX_LOG) ol.removeChild(ol.firstElementChild);
    if (stick) ol.scrollTop = ol.scrollHeight;
  }

  // ── actor tree ──
  function renderTree(root) {
    nodes.clear(); parentOf.clear(); rows.clear();
    var ul = $('tree');
    ul.textContent = '';
    ul.appendChild(renderNode(root, null));
    $('root-led').dataset.health = root.health;
    renderTrading();
    if (selected && nodes.has(selected)) markSelected(); else selected = null;
  }
  function renderNode(n, parent) {
    nodes.set(n.id, n);
    parentOf.set(n.id, parent);
    var li = el('li', 'node');
    li.dataset.actorId = n.id;
    var row = el('div', 'row');
    row.appendChild(el('span', 'led'));
    var id = el('button', 'id', n.id);
    id.type = 'button';
    id.addEventListener('click', function () { select(n.id); });
    row.appendChild(id);
    row.appendChild(el('span', 'value'));
    row.appendChild(el('span', 'reason'));
    row.appendChild(el('span', 'restarts'));
    row.appendChild(el('span', 'error'));
    if (parent) {
      var restart = el('button', 'restart', 'restart');
      restart.type = 'button';
      restart.title = 'sup.restartChild via POST /actors/' + parent + '/events';
      restart.addEventListener('click', function () {
        command('POST', '/actors/' + encodeURIComponent(parent) + '/events', { type: 'sup.restartChild', id: n.id }, 'restart ' + n.id);
      });
      row.appendChild(restart);
    }
    li.appendChild(row);
    fillRow(li, n);
    if (n.children && n.children.length > 0) {
      var ul = el('ul');
      for (var i = 0; i < n.children.length; i++) ul.appendChild(renderNode(n.children[i], n.id));
      li.appendChild(ul);
    }
    rows.set(n.id, li);
    return li;
  }
  function fillRow(li, n) {
    li.dataset.health = n.health;
    li.dataset.liveness = n.liveness;
    var row = li.firstElementChild;
    row.querySelector('.led').dataset.health = n.health;
    row.querySelector('.value').textContent = compact(n.value);
    row.querySelector('.reason').textContent = n.reason || '';
    row.querySelector('.restarts').textContent = n.restarts > 0 ? '\\u21bb' + n.restarts : '';
    row.querySelector('.error').textContent = n.lastError ? '\\u2716 ' + n.lastError : '';
    row.title = n.kind + ' \\u00b7 ' + n.liveness + ' \\u00b7 ' + n.status;
  }
  function applyNodes(list) {
    var govChanged = false, breakerChanged = false;
    for (var i = 0; i < list.length; i++) {
      var n = list[i];
      var old = nodes.get(n.id);
      var li = rows.get(n.id);
      if (!old || !li) continue;
      n.children = old.children;
      nodes.set(n.id, n);
      fillRow(li, n);
      if (parentOf.get(n.id) === null) $('root-led').dataset.health = n.health;
      if (n.kind === 'governance') govChanged = true;
      if (n.kind === 'breaker') breakerChanged = true;
      if (n.id === selected) debounce('details', 300, loadDetails);
    }
    if (govChanged) debounce('status', 50, loadStatus);
    if (breakerChanged) debounce('breakers', 200, loadBreakers);
  }
  function select(id) {
    selected = id;
    markSelected();
    loadDetails();
  }
  function markSelected() {
    var prev = document.querySelectorAll('.row .id.sel');
    for (var i = 0; i < prev.length; i++) prev[i].classList.remove('sel');
    var li = rows.get(selected);
    if (li) li.querySelector('.id').classList.add('sel');
  }
  function loadDetails() {
    if (!selected) return;
    var id = selected;
    fetch('/actors/' + encodeURIComponent(id) + '?context=true').then(function (r) { return r.json(); }).then(function (b) {
      if (id !== selected) return;
      $('details-title').textContent = id;
      var summary = { value: b.value, health: b.health, reason: b.reason, liveness: b.liveness, restarts: b.restarts, lastError: b.lastError, context: b.context };
      var text = JSON.stringify(summary, null, 2);
      $('details').textContent = text.length > 8000 ? text.slice(0, 8000) + '\\n\\u2026' : text;
    }).catch(function () { $('details').textContent = 'could not load ' + id; });
  }

  // ── trading governance (global, per venue, per symbol: the effective state, as the symbol actors see it) ──
  function stricter(a, b) { return RANK[b] > RANK[a] ? b : a; }
  function effective(venue, symbol) {
    if (!gov) return null;
    var s = gov.global.state;
    if (venue) s = stricter(s, (gov.venues[venue] && gov.venues[venue].state) || 'ACTIVE');
    if (venue && symbol) s = stricter(s, (gov.symbols[venue + ':' + symbol] && gov.symbols[venue + ':' + symbol].state) || 'ACTIVE');
    return s;
  }
  function tradingItem(scope, key, label, state, venue) {
    var row = el('div', 'trading-item');
    var led = el('span', 'led trading-led');
    led.dataset.scope = scope;
    led.dataset.key = key;
    led.dataset.state = state || 'UNKNOWN';
    led.dataset.health = state ? HEALTH_OF[state] : 'UNKNOWN';
    row.appendChild(led);
    row.appendChild(el('span', 'label', label));
    row.appendChild(el('span', 'muted', state || '?'));
    if (scope !== 'symbol') {
      var body = scope === 'global' ? {} : { venue: venue };
      var kill = el('button', 'danger kill', 'kill');
      kill.type = 'button';
      kill.id = 'kill-' + key;
      kill.addEventListener('click', function () { killCmd(false, body, 'kill ' + label); });
      var resume = el('button', 'resume', 'resume');
      resume.type = 'button';
      resume.id = 'resume-' + key;
      resume.addEventListener('click', function () { killCmd(true, body, 'resume ' + label); });
      row.appendChild(kill);
      row.appendChild(resume);
    }
    return row;
  }
  function renderTrading() {
    var box = $('trading');
    box.textContent = '';
    box.appendChild(tradingItem('global', 'global', 'global', effective(), null));
    nodes.forEach(function (n) {
      if (n.kind === 'venue') {
        var v = n.id.slice('venue:'.length);
        box.appendChild(tradingItem('venue', v, 'venue ' + v, effective(v), v));
      }
    });
    nodes.forEach(function (n) {
      if (n.kind === 'sym') {
        var parts = n.id.split(':');
        box.appendChild(tradingItem('symbol', parts[1] + ':' + parts[2], '  ' + parts[1] + ' ' + parts[2], effective(parts[1], parts[2]), parts[1]));
      }
    });
  }
  function loadStatus() {
    fetch('/status').then(function (r) { return r.json(); }).then(function (b) {
      if (b && b.governance) { gov = b.governance; renderTrading(); }
    }).catch(function () {});
  }
  function loadBreakers() {
    fetch('/breakers').then(function (r) { return r.ok ? r.json() : { breakers: [] }; }).then(function (b) {
      var box = $('breakers');
      box.textContent = '';
      var list = (b && b.breakers) || [];
      if (list.length === 0) box.appendChild(el('span', 'muted', 'none'));
      list.forEach(function (br) {
        var row = el('div', 'trading-item');
        row.dataset.breakerId = br.id;
        var led = el('span', 'led');
        led.dataset.health = br.tripped ? 'HALTED' : 'OK';
        row.appendChild(led);
        row.appendChild(el('span', 'label', br.id));
        row.appendChild(el('span', 'muted', br.tripped ? (br.reason || 'tripped') : 'closed'));
        var reset = el('button', 'reset', 'reset');
        reset.type = 'button';
        reset.addEventListener('click', function () {
          command('POST', '/breakers/' + encodeURIComponent(br.id) + '/reset', undefined, 'reset breaker ' + br.id);
        });
        row.appendChild(reset);
        box.appendChild(row);
      });
    }).catch(function () {});
  }

  // ── operator commands (X-Ops-Token kept in sessionStorage; a fresh Idempotency-Key per click) ──
  var tokenInput = $('token');
  var actorInput = $('actor');
  tokenInput.value = sessionStorage.getItem('bosun.opsToken') || '';
  tokenInput.addEventListener('input', function () { sessionStorage.setItem('bosun.opsToken', tokenInput.value); });
  function token() {
    var t = tokenInput.value;
    if (!t) {
      t = window.prompt('X-Ops-Token') || '';
      tokenInput.value = t;
      if (t) sessionStorage.setItem('bosun.opsToken', t);
    }
    return t;
  }
  function idemKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    var h = '';
    for (var i = 0; i < b.length; i++) h += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    return 'inspector-' + h;
  }
  function setResult(status, text) {
    var r = $('result');
    r.dataset.status = status;
    r.textContent = text;
  }
  function command(method, url, body, label, base) {
    var t = token();
    if (!t) { setResult('error', label + ': no token'); return Promise.resolve(null); }
    var headers = { 'x-ops-token': t, 'idempotency-key': idemKey(), 'x-ops-actor': actorInput.value || 'inspector' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    setResult('pending', label + '\\u2026');
    return fetch((base || '') + url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (r.ok) {
            setResult('ok', label + ': ' + r.status);
            log(label + ' \\u2192 ' + r.status, 'local');
          } else {
            var msg = json && json.error ? json.error.code + ': ' + json.error.message : String(r.status);
            setResult('error', label + ': ' + msg);
            log(label + ' \\u2192 ' + msg, 'local err');
          }
          return r.ok ? json : null;
        });
      })
      .catch(function (e) {
        setResult('error', label + ': ' + e.message);
        log(label + ' \\u2192 ' + e.message, 'local err');
        return null;
      });
  }
  function killCmd(enabled, scope, label) {
    var body = { enabled: enabled, reason: 'inspector ' + (enabled ? 'resume' : 'kill') };
    if (scope.venue) body.venue = scope.venue;
    command('POST', '/kill', body, label, opsBase).then(function (b) {
      if (b && b.governance) { gov = b.governance; renderTrading(); }
    });
  }

  // ── the stream ──
  var es = null;
  function connect() {
    var conn = $('conn');
    conn.dataset.state = 'connecting';
    conn.textContent = 'connecting';
    if (es) es.close();
    es = new EventSource('/inspect/stream' + ($('all-events').checked ? '?events=all' : ''));
    es.addEventListener('open', function () {
      conn.dataset.state = 'open';
      conn.textContent = 'live';
      loadStatus();
      loadBreakers();
    });
    es.addEventListener('error', function () {
      conn.dataset.state = es.readyState === 2 ? 'closed' : 'connecting';
      conn.textContent = es.readyState === 2 ? 'disconnected' : 'reconnecting';
    });
    es.addEventListener('tree', function (e) { renderTree(JSON.parse(e.data)); });
    es.addEventListener('nodes', function (e) { applyNodes(JSON.parse(e.data)); });
    es.addEventListener('event', function (e) {
      var b = JSON.parse(e.data);
      if (b.dropped > 0) log('\\u2026 ' + b.dropped + ' events not shown', 'local');
      for (var i = 0; i < b.events.length; i++) {
        var ev = b.events[i];
        log(ev.type + '  ' + (ev.from ? ev.from + ' \\u2192 ' : '') + (ev.to || '') + (ev.detail ? '  \\u2014 ' + ev.detail : ''), ev.type.indexOf('health.') === 0 || ev.type === 'actor.error' ? 'transition' : '', ev.ts);
      }
    });
  }
  $('ops-base').textContent = opsBase;
  $('all-events').addEventListener('change', connect);
  connect();
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The CSP: only this page's own script and style run; data goes to this listener (`'self'`) and, when given, the
 * one ops listener origin on the same host, never to `http:`/`https:` at large (a `?ops=` link could otherwise
 * have carried the token to any host).
 */
export function inspectorCsp(opsOrigin?: string): string {
  return [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    'img-src data:',
    opsOrigin ? `connect-src 'self' ${opsOrigin}` : "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const INSPECTOR_CSP = inspectorCsp();

export interface InspectorPageOptions {
  /** The ops listener's port; the page sends `/kill` to this port on its own host. */
  opsPort?: number | undefined;
  /** Scheme and host name the page was requested with (checked by the host guard), to build the ops origin. */
  protocol?: string | undefined;
  hostname?: string | undefined;
}

/** `http://<host>:<opsPort>` for the page's own host, or undefined when the ops port is unknown. */
export function opsOriginOf(opts: InspectorPageOptions): string | undefined {
  if (!opts.opsPort || !opts.hostname || !/^[A-Za-z0-9.:[\]-]+$/.test(opts.hostname)) return undefined;
  const host = opts.hostname.includes(':') && !opts.hostname.startsWith('[') ? `[${opts.hostname}]` : opts.hostname;
  return `${opts.protocol === 'https' ? 'https' : 'http'}://${host.toLowerCase()}:${opts.opsPort}`;
}

/** The page and its CSP header. The config block is JSON (`<` escaped), data, not script. */
export function inspectorHtml(opts: InspectorPageOptions = {}): { body: string; csp: string } {
  const opsOrigin = opsOriginOf(opts);
  const config = JSON.stringify({ opsPort: opts.opsPort ?? null, opsOrigin: opsOrigin ?? null }).replace(
    /</g,
    '\\u003c',
  );
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bosun inspector</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1><span id="root-led" class="led" data-health="UNKNOWN"></span>Bosun inspector</h1>
  <span id="conn" data-state="connecting">connecting</span>
  <label>token <input id="token" type="password" autocomplete="off" size="24"></label>
  <label>as <input id="actor" value="inspector" size="12"></label>
  <label title="every actor event through XState inspection: slows the actors while on"><input id="all-events" type="checkbox"> all actor events</label>
  <span class="muted">ops <span id="ops-base"></span></span>
  <span id="result" data-status="idle"></span>
</header>
<main>
  <section><h2>Actors</h2><ul id="tree" class="tree"></ul></section>
  <div>
    <section><h2>Trading</h2><div id="trading"></div></section>
    <section><h2>Breakers</h2><div id="breakers"></div></section>
    <section><h2>Details <span id="details-title" class="muted"></span></h2><pre id="details" class="muted">click an actor</pre></section>
    <section><h2>Events</h2><ol id="log"></ol></section>
  </div>
</main>
<script type="application/json" id="bosun-config">${config}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
  return { body, csp: inspectorCsp(opsOrigin) };
}
