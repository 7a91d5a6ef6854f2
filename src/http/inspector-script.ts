/**
 * The inspector's tree, stream and commands (browser JS, inline in the page). Plain ES5-style JS in a raw string:
 * no template literals or `${` inside. Shares one function scope with inspector-chart.ts (see inspector-page.ts).
 *
 * The tree is virtualised: the nodes live in maps, the visible order (collapse + filter applied) is one array,
 * and only the rows inside the viewport (plus a margin) exist in the DOM, so 1,000 symbol actors cost ~40 rows.
 * A `nodes` diff updates the maps and repaints only the rows on screen; `window.__bosunInspector.applyMs` keeps
 * how long each diff took to apply (bench/inspector.bench.ts reads it).
 */
export const INSPECTOR_TREE_SCRIPT = String.raw`
  var ROW_H = 20;
  var MARGIN_ROWS = 10;
  var MAX_LOG = 500;
  var RANK = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
  var HEALTH_OF = { ACTIVE: 'OK', REDUCING: 'DEGRADED', HALTED: 'HALTED' };
  var nodes = new Map();
  var parentOf = new Map();
  var childrenOf = new Map();
  var depthOf = new Map();
  var order = [];
  var collapsed = new Set();
  var visible = [];
  var rowEls = new Map();
  var matchCount = 0;
  var gov = null;
  var selected = null;
  var timers = {};
  var stats = { applyMs: [], diffs: 0, trees: 0, rendered: 0 };
  window.__bosunInspector = stats;

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
  function hhmmss(ts) { return new Date(ts).toISOString().slice(11, 19); }

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

  // ── state as a short path: {"running":{"health":"DEGRADED","feed":"polling"}} → "running.feed.polling · running.health: DEGRADED — reason"
  function leafPaths(v, prefix, out) {
    if (v === null || v === undefined) return out;
    if (typeof v !== 'object') { out.push(prefix ? prefix + '.' + v : String(v)); return out; }
    var keys = Object.keys(v);
    if (keys.length === 0 && prefix) out.push(prefix);
    for (var i = 0; i < keys.length; i++) leafPaths(v[keys[i]], prefix ? prefix + '.' + keys[i] : keys[i], out);
    return out;
  }
  function shortState(n) {
    if (n.liveness === 'backoff' || n.liveness === 'stopped' || n.liveness === 'removed') return n.liveness + (n.reason && n.reason !== n.liveness ? ' \u2014 ' + n.reason : '');
    var paths = leafPaths(n.value, '', []);
    var other = [];
    var health = null;
    for (var i = 0; i < paths.length; i++) {
      var p = paths[i];
      var m = /^(.*\bhealth)\.(OK|DEGRADED|HALTED|init)$/.exec(p);
      if (m) health = m[1]; else other.push(p);
    }
    var text = other.join(' \u00b7 ');
    if (health || n.health !== 'OK') {
      var h = (health || 'health') + ': ' + n.health + (n.reason ? ' \u2014 ' + n.reason : '');
      text = n.health === 'OK' && text ? text + ' \u00b7 ' + h : (text ? h + ' \u00b7 ' + text : h);
    }
    return text || (typeof n.value === 'string' ? n.value : n.status);
  }

  // ── the tree model ──
  function index(n, parent, depth) {
    var kids = n.children || [];
    var copy = Object.assign({}, n);
    delete copy.children;
    nodes.set(n.id, copy);
    parentOf.set(n.id, parent);
    depthOf.set(n.id, depth);
    order.push(n.id);
    var ids = [];
    for (var i = 0; i < kids.length; i++) { ids.push(kids[i].id); index(kids[i], n.id, depth + 1); }
    childrenOf.set(n.id, ids);
  }
  function onTree(root) {
    var t0 = performance.now();
    nodes.clear(); parentOf.clear(); childrenOf.clear(); depthOf.clear(); order = [];
    index(root, null, 0);
    $('root-led').dataset.health = root.health;
    refreshKinds();
    relayout();
    renderCounts();
    renderTrading();
    if (selected && !nodes.has(selected)) selected = null;
    stats.trees++;
    stats.treeMs = performance.now() - t0;
  }

  // ── filter, collapse, virtual rows ──
  function filterState() {
    return { text: $('filter').value.trim().toLowerCase(), kind: $('filter-kind').value, health: $('filter-health').value };
  }
  function matches(n, f) {
    if (f.kind && n.kind !== f.kind) return false;
    if (f.health && n.health !== f.health) return false;
    if (f.text && (n.id + ' ' + shortState(n)).toLowerCase().indexOf(f.text) < 0) return false;
    return true;
  }
  function relayout() {
    var f = filterState();
    var filtering = Boolean(f.text || f.kind || f.health);
    var keep = null;
    matchCount = 0;
    if (filtering) {
      keep = new Set();
      for (var i = 0; i < order.length; i++) {
        var id = order[i];
        if (!matches(nodes.get(id), f)) continue;
        matchCount++;
        for (var p = id; p !== null && p !== undefined && !keep.has(p); p = parentOf.get(p)) keep.add(p);
      }
    } else matchCount = order.length;
    visible = [];
    var walk = function (id) {
      if (keep && !keep.has(id)) return;
      visible.push(id);
      if (collapsed.has(id)) return;
      var kids = childrenOf.get(id) || [];
      for (var k = 0; k < kids.length; k++) walk(kids[k]);
    };
    if (order.length > 0) walk(order[0]);
    var tree = $('tree');
    tree.dataset.matches = String(matchCount);
    tree.dataset.visible = String(visible.length);
    tree.dataset.filtering = filtering ? 'true' : 'false';
    $('shown').textContent = filtering ? matchCount + ' of ' + order.length + ' match' : order.length + ' actors';
    $('tree-spacer').style.height = (visible.length * ROW_H) + 'px';
    paint(true);
  }
  function paint(force) {
    var vp = $('tree-viewport');
    var first = Math.max(0, Math.floor(vp.scrollTop / ROW_H) - MARGIN_ROWS);
    var last = Math.min(visible.length, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW_H) + MARGIN_ROWS);
    var spacer = $('tree-spacer');
    var want = new Set();
    for (var i = first; i < last; i++) want.add(visible[i]);
    rowEls.forEach(function (row, id) {
      if (!want.has(id)) { spacer.removeChild(row); rowEls.delete(id); }
    });
    for (var j = first; j < last; j++) {
      var id = visible[j];
      var row = rowEls.get(id);
      if (!row) { row = makeRow(id); rowEls.set(id, row); spacer.appendChild(row); fillRow(row, nodes.get(id)); }
      else if (force) fillRow(row, nodes.get(id));
      row.style.transform = 'translateY(' + (j * ROW_H) + 'px)';
    }
    stats.rendered = rowEls.size;
  }
  function makeRow(id) {
    var row = el('div', 'row');
    row.dataset.actorId = id;
    var tw = el('button', 'twisty');
    tw.type = 'button';
    tw.addEventListener('click', function () { toggle(id); });
    row.appendChild(tw);
    row.appendChild(el('span', 'led'));
    var b = el('button', 'id', id);
    b.type = 'button';
    b.addEventListener('click', function () { select(id); });
    row.appendChild(b);
    row.appendChild(el('span', 'state'));
    row.appendChild(el('span', 'restarts'));
    row.appendChild(el('span', 'error'));
    var parent = parentOf.get(id);
    if (parent) {
      var restart = el('button', 'restart', 'restart');
      restart.type = 'button';
      restart.title = 'sup.restartChild via POST /actors/' + parent + '/events';
      restart.addEventListener('click', function () {
        command('POST', '/actors/' + encodeURIComponent(parent) + '/events', { type: 'sup.restartChild', id: id }, 'restart ' + id);
      });
      row.appendChild(restart);
    }
    return row;
  }
  function fillRow(row, n) {
    if (!n) return;
    row.dataset.health = n.health;
    row.dataset.liveness = n.liveness;
    row.dataset.kind = n.kind;
    row.style.paddingLeft = (4 + (depthOf.get(n.id) || 0) * 14) + 'px';
    var kids = childrenOf.get(n.id) || [];
    row.children[0].textContent = kids.length === 0 ? '' : (collapsed.has(n.id) ? '\u25b8' : '\u25be');
    row.children[0].title = kids.length === 0 ? '' : (collapsed.has(n.id) ? 'expand ' : 'collapse ') + kids.length + ' children';
    row.children[1].dataset.health = n.health;
    row.children[3].textContent = shortState(n);
    row.children[4].textContent = n.restarts > 0 ? '\u21bb' + n.restarts : '';
    row.children[5].textContent = n.lastError ? '\u2716 ' + n.lastError : '';
    row.title = n.kind + ' \u00b7 ' + n.liveness + ' \u00b7 ' + n.status;
    row.classList.toggle('sel', n.id === selected);
  }
  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    relayout();
  }
  function collapseAll(on) {
    collapsed.clear();
    if (on) order.forEach(function (id) { if ((childrenOf.get(id) || []).length > 0 && parentOf.get(id) !== null) collapsed.add(id); });
    relayout();
  }

  // ── header counts by health and by kind ──
  function renderCounts() {
    var h = { OK: 0, DEGRADED: 0, HALTED: 0 };
    var k = {};
    nodes.forEach(function (n) { h[n.health] = (h[n.health] || 0) + 1; k[n.kind] = (k[n.kind] || 0) + 1; });
    ['OK', 'DEGRADED', 'HALTED'].forEach(function (x) {
      var c = $('count-' + x);
      c.dataset.count = String(h[x]);
      c.lastChild.textContent = String(h[x]);
    });
    var box = $('kinds');
    box.textContent = '';
    var current = $('filter-kind').value;
    Object.keys(k).sort(function (a, b) { return k[b] - k[a] || (a < b ? -1 : 1); }).forEach(function (kind) {
      var chip = el('button', 'kind-chip' + (kind === current ? ' on' : ''), kind + ' ' + k[kind]);
      chip.type = 'button';
      chip.dataset.kind = kind;
      chip.dataset.count = String(k[kind]);
      chip.addEventListener('click', function () {
        $('filter-kind').value = $('filter-kind').value === kind ? '' : kind;
        relayout();
        renderCounts();
      });
      box.appendChild(chip);
    });
  }
  function refreshKinds() {
    var sel = $('filter-kind');
    var current = sel.value;
    var kinds = {};
    nodes.forEach(function (n) { kinds[n.kind] = true; });
    sel.textContent = '';
    var any = el('option', null, 'any kind');
    any.value = '';
    sel.appendChild(any);
    Object.keys(kinds).sort().forEach(function (kind) {
      var o = el('option', null, kind);
      o.value = kind;
      sel.appendChild(o);
    });
    sel.value = kinds[current] ? current : '';
  }

  // ── diffs ──
  function applyNodes(list) {
    var t0 = performance.now();
    var govChanged = false, breakerChanged = false, healthChanged = false;
    var f = filterState();
    var filtering = Boolean(f.text || f.kind || f.health);
    var refilter = false;
    for (var i = 0; i < list.length; i++) {
      var n = list[i];
      var old = nodes.get(n.id);
      if (!old) continue;
      delete n.children;
      nodes.set(n.id, n);
      if (old.health !== n.health) healthChanged = true;
      if (filtering && matches(old, f) !== matches(n, f)) refilter = true;
      var row = rowEls.get(n.id);
      if (row && !refilter) fillRow(row, n);
      if (parentOf.get(n.id) === null) $('root-led').dataset.health = n.health;
      if (n.kind === 'governance') govChanged = true;
      if (n.kind === 'breaker') breakerChanged = true;
      if (n.id === selected) debounce('selected', 200, refreshSelected);
    }
    if (refilter) relayout();
    if (healthChanged) renderCounts();
    if (govChanged) debounce('status', 50, loadStatus);
    if (breakerChanged) debounce('breakers', 200, loadBreakers);
    stats.diffs++;
    stats.applyMs.push(performance.now() - t0);
    if (stats.applyMs.length > 2000) stats.applyMs.splice(0, 1000);
  }

  function select(id) {
    selected = id;
    rowEls.forEach(function (row, rid) { row.classList.toggle('sel', rid === id); });
    showActor(id);
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
  // Symbol scopes: every symbol while there are few; with the scanner's hundreds, only those with their own state.
  var FEW_SYMBOLS = 20;
  function renderTrading() {
    var box = $('trading');
    box.textContent = '';
    box.appendChild(tradingItem('global', 'global', 'global', effective(), null));
    var syms = [];
    nodes.forEach(function (n) {
      if (n.kind === 'venue') {
        var v = n.id.slice('venue:'.length);
        box.appendChild(tradingItem('venue', v, 'venue ' + v, effective(v), v));
      }
      if (n.kind === 'sym') syms.push(n.id);
    });
    var few = syms.length <= FEW_SYMBOLS;
    syms.forEach(function (id) {
      var parts = id.split(':');
      var key = parts[1] + ':' + parts[2];
      if (few || (gov && gov.symbols[key]))
        box.appendChild(tradingItem('symbol', key, '  ' + parts[1] + ' ' + parts[2], effective(parts[1], parts[2]), parts[1]));
    });
    if (!few) box.appendChild(el('div', 'muted', syms.length + ' symbol actors follow their venue'));
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

  // ── operator commands: this origin only (X-Ops-Token kept in sessionStorage; a fresh Idempotency-Key per click) ──
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
  function command(method, url, body, label) {
    var t = token();
    if (!t) { setResult('error', label + ': no token'); return Promise.resolve(null); }
    var headers = { 'x-ops-token': t, 'idempotency-key': idemKey(), 'x-ops-actor': actorInput.value || 'inspector' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    setResult('pending', label + '\u2026');
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (r.ok) {
            setResult('ok', label + ': ' + r.status);
            log(label + ' \u2192 ' + r.status, 'local');
          } else {
            var msg = json && json.error ? json.error.code + ': ' + json.error.message : String(r.status);
            setResult('error', label + ': ' + msg);
            log(label + ' \u2192 ' + msg, 'local err');
          }
          return r.ok ? json : null;
        });
      })
      .catch(function (e) {
        setResult('error', label + ': ' + e.message);
        log(label + ' \u2192 ' + e.message, 'local err');
        return null;
      });
  }
  function killCmd(enabled, scope, label) {
    var body = { enabled: enabled, reason: 'inspector ' + (enabled ? 'resume' : 'kill') };
    if (scope.venue) body.venue = scope.venue;
    command('POST', '/kill', body, label).then(function (b) {
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
    es.addEventListener('tree', function (e) { onTree(JSON.parse(e.data)); });
    es.addEventListener('nodes', function (e) { applyNodes(JSON.parse(e.data)); });
    es.addEventListener('event', function (e) {
      var b = JSON.parse(e.data);
      if (b.dropped > 0) log('\u2026 ' + b.dropped + ' events not shown', 'local');
      for (var i = 0; i < b.events.length; i++) {
        var ev = b.events[i];
        log(ev.type + '  ' + (ev.from ? ev.from + ' \u2192 ' : '') + (ev.to || '') + (ev.detail ? '  \u2014 ' + ev.detail : ''), ev.type.indexOf('health.') === 0 || ev.type === 'actor.error' ? 'transition' : '', ev.ts);
      }
    });
  }
  $('all-events').addEventListener('change', connect);
  $('filter').addEventListener('input', function () { debounce('filter', 80, relayout); });
  $('filter-kind').addEventListener('change', function () { relayout(); renderCounts(); });
  $('filter-health').addEventListener('change', relayout);
  $('collapse-all').addEventListener('click', function () { collapseAll(true); });
  $('expand-all').addEventListener('click', function () { collapseAll(false); });
  ['OK', 'DEGRADED', 'HALTED'].forEach(function (h) {
    $('count-' + h).addEventListener('click', function () {
      $('filter-health').value = $('filter-health').value === h ? '' : h;
      relayout();
    });
  });
  $('tree-viewport').addEventListener('scroll', function () { paint(false); }, { passive: true });
  window.addEventListener('resize', function () { paint(false); });
`;
