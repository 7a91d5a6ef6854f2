/**
 * The inspector's actor panel (browser JS, same scope as inspector-script.ts): the selected actor's statechart laid
 * out by elkjs (served by this listener at /inspect/assets/elk.js) from `GET /inspect/machines`, its active states
 * lit from the live `value`, its last transitions and its health strip of the last hour
 * (`GET /inspect/actors/:id/history`).
 *
 * The transitions and the health edges are Bosun's own records, kept from boot (a page opened after a kill still
 * shows it); they are fetched when an actor is selected and again whenever the stream says its node changed.
 * DOM hooks for tests: `#chart[data-actor][data-machine][data-ready]`, `g.st[data-state-id]
 * [data-active]`, `#health-strip .seg[data-health]`, `#transitions li`.
 */
export const INSPECTOR_CHART_SCRIPT = String.raw`
  var SVG = 'http://www.w3.org/2000/svg';
  var catalog = null;
  var catalogAt = 0;
  var layouts = new Map();
  var elk = null;

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function loadCatalog(force) {
    if (catalog && !force && Date.now() - catalogAt < 30000) return Promise.resolve(catalog);
    return fetch('/inspect/machines').then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
      if (c) { catalog = c; catalogAt = Date.now(); }
      return catalog;
    });
  }
  function graphOf(id) {
    var key = catalog && catalog.actors[id];
    return key ? { key: key, graph: catalog.machines[key] } : null;
  }

  // ── which states are active: walk the graph with the state value ──
  function activeIds(state, value, out) {
    out.add(state.id);
    if (state.type === 'parallel') {
      for (var i = 0; i < state.states.length; i++) {
        var r = state.states[i];
        if (value && typeof value === 'object' && r.key in value) activeIds(r, value[r.key], out);
      }
    } else if (state.states.length > 0 && value !== null && value !== undefined) {
      var key = typeof value === 'string' ? value : Object.keys(value)[0];
      for (var j = 0; j < state.states.length; j++)
        if (state.states[j].key === key) activeIds(state.states[j], typeof value === 'string' ? null : value[key], out);
    }
    return out;
  }
  function eachState(state, fn) {
    fn(state);
    for (var i = 0; i < state.states.length; i++) eachState(state.states[i], fn);
  }

  // ── the last transitions, recorded by Bosun from boot (GET /inspect/actors/:id/history) ──
  function eventLabel(e) {
    if (e.indexOf('xstate.after.') === 0) return 'after ' + e.slice(13).split('.')[0] + 'ms';
    if (e.indexOf('xstate.done.actor.') === 0) return 'done ' + e.slice(18);
    if (e.indexOf('xstate.error.actor.') === 0) return 'error ' + e.slice(19);
    return e;
  }
  function guardedLabel(t) {
    var e = t.event === '' ? 'always' : eventLabel(t.event);
    return t.guard ? e + ' [' + t.guard + ']' : e;
  }
  function shortPath(v) {
    if (v === null || v === undefined) return '\u2205';
    return leafPaths(v, '', []).join(' \u00b7 ') || String(v);
  }
  function renderTransitions(list) {
    var ul = $('transitions');
    ul.textContent = '';
    if (list.length === 0) { ul.appendChild(el('li', 'muted', 'none recorded')); return; }
    for (var i = list.length - 1; i >= 0; i--) {
      var t = list[i];
      var li = el('li');
      li.appendChild(el('span', 'ts', hhmmss(t.ts)));
      li.appendChild(el('span', 'ev', eventLabel(t.event)));
      li.appendChild(document.createTextNode('  ' + shortPath(t.from) + ' \u2192 ' + shortPath(t.to)));
      ul.appendChild(li);
    }
    ul.dataset.count = String(list.length);
  }

  // ── the health strip: the last hour, one segment per health span; and the transitions list ──
  function loadHistory(id) {
    fetch('/inspect/actors/' + encodeURIComponent(id) + '/history').then(function (r) { return r.ok ? r.json() : null; }).then(function (b) {
      if (!b || id !== selected) return;
      var strip = $('health-strip');
      var edges = $('health-edges');
      strip.textContent = '';
      edges.textContent = '';
      var now = Date.now();
      var start = now - 3600000;
      var list = b.health;
      var node = nodes.get(id);
      if (list.length === 0) list = [{ ts: start, to: node ? node.health : 'OK', reason: node ? node.reason : '' }];
      if (list[0].ts > start) {
        // Before the first edge of the hour: Bosun (or this actor) was not running yet.
        var pre = el('span', 'seg');
        pre.dataset.health = 'NONE';
        pre.style.width = ((list[0].ts - start) / 3600000) * 100 + '%';
        pre.title = 'not running';
        strip.appendChild(pre);
      }
      for (var i = 0; i < list.length; i++) {
        var from = Math.max(start, list[i].ts);
        var to = i + 1 < list.length ? list[i + 1].ts : now;
        if (to <= start) continue;
        var seg = el('span', 'seg');
        seg.dataset.health = list[i].to;
        seg.style.width = Math.max(0.4, ((to - from) / 3600000) * 100) + '%';
        seg.title = hhmmss(from) + '\u2013' + hhmmss(to) + ' ' + list[i].to + (list[i].reason ? ' \u2014 ' + list[i].reason : '');
        strip.appendChild(seg);
      }
      for (var j = b.health.length - 1; j >= 0; j--) {
        var e = b.health[j];
        var li = el('li');
        li.appendChild(el('span', 'ts', hhmmss(e.ts)));
        var led = el('span', 'led');
        led.dataset.health = e.to;
        li.appendChild(led);
        li.appendChild(document.createTextNode(e.to + (e.reason ? ' \u2014 ' + e.reason : '')));
        edges.appendChild(li);
      }
      strip.dataset.edges = String(b.health.length);
      renderTransitions(b.transitions || []);
    }).catch(function () {});
  }

  // ── the statechart: elkjs layout (cached per machine), drawn as SVG ──
  function textWidth(s, px) { return Math.ceil(s.length * px * 0.62) + 4; }
  // Targetless transitions (an event handled in place) are listed inside their state, one line each.
  function internalOf(s) {
    var seen = {};
    var out = [];
    for (var i = 0; i < s.transitions.length; i++) {
      var t = s.transitions[i];
      if (t.targets.length > 0) continue;
      var label = guardedLabel(t);
      if (!seen[label]) { seen[label] = true; out.push(label); }
    }
    return out;
  }
  function elkNode(s) {
    var n = { id: s.id, labels: [{ text: s.key }], layoutOptions: {} };
    var inner = internalOf(s);
    var wide = textWidth(s.key, 11) + 16;
    for (var i = 0; i < inner.length; i++) wide = Math.max(wide, textWidth(inner[i], 10) + 12);
    if (s.states.length === 0) {
      n.width = Math.max(56, wide);
      n.height = 26 + inner.length * 12;
    } else {
      n.children = s.states.map(elkNode);
      n.layoutOptions['elk.padding'] = '[top=' + (24 + inner.length * 12) + ',left=10,bottom=10,right=10]';
      n.layoutOptions['elk.nodeSize.minimum'] = '(' + wide + ',20)';
      n.layoutOptions['elk.nodeSize.constraints'] = 'MINIMUM_SIZE';
      if (s.type === 'parallel') n.layoutOptions['elk.direction'] = 'RIGHT';
    }
    return n;
  }
  function elkGraph(g) {
    var edges = [];
    var n = 0;
    eachState(g.root, function (s) {
      for (var i = 0; i < s.transitions.length; i++) {
        var t = s.transitions[i];
        for (var k = 0; k < t.targets.length; k++) {
          var label = guardedLabel(t);
          edges.push({ id: 'e' + (n++), sources: [s.id], targets: [t.targets[k]], guarded: Boolean(t.guard),
            labels: [{ text: label, width: textWidth(label, 10), height: 13 }] });
        }
      }
    });
    return {
      id: '__root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'DOWN',
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.json.edgeCoords': 'ROOT',
        'elk.json.shapeCoords': 'ROOT',
        'elk.layered.spacing.nodeNodeBetweenLayers': '28',
        'elk.spacing.nodeNode': '18',
        'elk.spacing.edgeLabel': '2',
        'elk.edgeRouting': 'ORTHOGONAL',
      },
      children: [elkNode(g.root)],
      edges: edges,
    };
  }
  function layoutOf(key, g) {
    if (layouts.has(key)) return layouts.get(key);
    if (!elk) elk = new ELK();
    var p = elk.layout(elkGraph(g));
    layouts.set(key, p);
    p.catch(function () { layouts.delete(key); });
    return p;
  }
  function drawChart(id, key, g, laid) {
    var box = $('chart');
    box.textContent = '';
    // Scaled to the panel's width so every region shows; a big machine gets small text rather than a scrollbar.
    var w = Math.ceil(laid.width) + 2;
    var h = Math.ceil(laid.height) + 2;
    var scale = Math.min(1, (box.clientWidth - 4) / w);
    var root = svg('svg', { width: Math.floor(w * scale), height: Math.floor(h * scale), viewBox: '0 0 ' + w + ' ' + h, role: 'img' });
    var types = {};
    eachState(g.root, function (s) { types[s.id] = s; });
    var nodeLayer = svg('g', {});
    var edgeLayer = svg('g', {});
    var drawNode = function (n) {
      var s = types[n.id];
      if (s) {
        var kind = s.states.length === 0 ? (s.type === 'final' ? 'final' : 'atomic') : s.type;
        var gEl = svg('g', { class: 'st ' + kind, 'data-state-id': s.id, 'data-key': s.key, 'data-active': 'false' });
        gEl.appendChild(svg('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: s.states.length === 0 ? 6 : 8 }));
        var isLeaf = s.states.length === 0;
        var inner = internalOf(s);
        var keyY = isLeaf ? (inner.length > 0 ? n.y + 16 : n.y + n.height / 2 + 4) : n.y + 15;
        gEl.appendChild(svg('text', { x: n.x + (isLeaf ? n.width / 2 : 8), y: keyY, 'text-anchor': isLeaf ? 'middle' : 'start' }, s.key + (s.type === 'parallel' ? '  \u2225' : '')));
        for (var i = 0; i < inner.length; i++)
          gEl.appendChild(svg('text', { class: 'internal', x: n.x + 8, y: keyY + 13 + i * 12 }, inner[i]));
        var title = svg('title', {}, s.id);
        gEl.appendChild(title);
        nodeLayer.appendChild(gEl);
      }
      (n.children || []).forEach(drawNode);
    };
    (laid.children || []).forEach(drawNode);
    (laid.edges || []).forEach(function (e) {
      var gEl = svg('g', { class: 'edge' + (e.guarded ? ' guarded' : '') });
      (e.sections || []).forEach(function (sec) {
        var d = 'M' + sec.startPoint.x + ',' + sec.startPoint.y;
        (sec.bendPoints || []).forEach(function (b) { d += ' L' + b.x + ',' + b.y; });
        d += ' L' + sec.endPoint.x + ',' + sec.endPoint.y;
        gEl.appendChild(svg('path', { d: d, 'marker-end': 'url(#arrow)' }));
      });
      (e.labels || []).forEach(function (l) {
        if (l.x !== undefined) gEl.appendChild(svg('text', { x: l.x, y: l.y + 10 }, l.text));
      });
      edgeLayer.appendChild(gEl);
    });
    var defs = svg('defs', {});
    var marker = svg('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#6b7480' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    root.appendChild(nodeLayer);
    root.appendChild(edgeLayer);
    box.appendChild(root);
    box.dataset.actor = id;
    box.dataset.machine = key;
    box.dataset.states = String(Object.keys(types).length);
    box.dataset.edges = String((laid.edges || []).length);
    lightChart(id);
    box.dataset.ready = 'true';
  }
  function lightChart(id) {
    var box = $('chart');
    if (box.dataset.actor !== id || !catalog) return;
    var g = graphOf(id);
    var n = nodes.get(id);
    if (!g || !n) return;
    var on = activeIds(g.graph.root, n.value, new Set());
    var groups = box.querySelectorAll('g.st');
    for (var i = 0; i < groups.length; i++) groups[i].dataset.active = on.has(groups[i].dataset.stateId) ? 'true' : 'false';
    box.dataset.value = JSON.stringify(n.value);
  }
  function showChart(id) {
    var box = $('chart');
    box.dataset.ready = 'false';
    loadCatalog(false).then(function () {
      var g = graphOf(id);
      if (!g) return loadCatalog(true).then(function () { return graphOf(id); });
      return g;
    }).then(function (g) {
      if (id !== selected) return;
      if (!g) {
        box.textContent = '';
        box.appendChild(el('div', 'muted', 'no statechart for ' + id + ' (not a running machine)'));
        box.dataset.actor = id;
        box.dataset.ready = 'none';
        return;
      }
      if (box.dataset.actor === id && box.dataset.machine === g.key && box.querySelector('svg')) { lightChart(id); box.dataset.ready = 'true'; return; }
      return layoutOf(g.key, g.graph).then(function (laid) { if (id === selected) drawChart(id, g.key, g.graph, laid); });
    }).catch(function (e) {
      box.textContent = '';
      box.appendChild(el('div', 'muted', 'statechart unavailable: ' + (e && e.message)));
      box.dataset.ready = 'error';
    });
  }

  function loadDetails(id) {
    fetch('/actors/' + encodeURIComponent(id) + '?context=true').then(function (r) { return r.json(); }).then(function (b) {
      if (id !== selected) return;
      var text = JSON.stringify(b.context, null, 2) || '';
      $('details').textContent = text.length > 8000 ? text.slice(0, 8000) + '\n\u2026' : text;
    }).catch(function () { $('details').textContent = 'could not load ' + id; });
  }
  function showActor(id) {
    $('actor-title').textContent = id;
    var n = nodes.get(id);
    $('actor-state').textContent = n ? shortState(n) : '';
    $('actor-state').dataset.health = n ? n.health : '';
    showChart(id);
    loadHistory(id);
    loadDetails(id);
  }
  function refreshSelected() {
    if (!selected) return;
    var n = nodes.get(selected);
    $('actor-state').textContent = n ? shortState(n) : '';
    $('actor-state').dataset.health = n ? n.health : '';
    lightChart(selected);
    loadHistory(selected);
  }
`;
