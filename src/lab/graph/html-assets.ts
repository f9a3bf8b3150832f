/**
 * Layer: lab (pure).
 *
 * The HTML page's inline CSS and script (html.ts puts them in the page; nothing is fetched).
 * The script reads the graph from the page's `<script type="application/json" id="graph-data">`
 * and the drawing html.ts made, and adds: a first view that fits the window (a small lab not magnified
 * more than 1.4 times), details on hover (of a node, network, interface,
 * link or fault), zoom (wheel, + and -) and pan (drag) by changing the SVG's viewBox, fit
 * (0 or double-click), a fault's nodes and links highlighted while the pointer is on it, and a
 * self-check written into the page: `<body data-verdict="ok">` when every element carrying a
 * `data-graph-id` has a size and (but a fault in the legend, which scrolls) lies inside the window (else `fail` and the reasons in
 * `<output id="verdict">`), which a headless browser's dumped DOM shows (the test in
 * test/integration/lab/graph-browser.test.ts reads it).
 */

export const PAGE_CSS = `
*{box-sizing:border-box}
html,body{margin:0;height:100%;font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;background:#fff}
body{display:flex;flex-direction:column}
header{display:flex;gap:16px;align-items:baseline;padding:6px 12px;border-bottom:1px solid #d0d7de;background:#f6f8fa;flex:none}
header h1{font-size:15px;margin:0}
header .meta,header .help{font-size:12px;color:#57606a}
main{flex:1;display:flex;min-height:0}
#graph{flex:1;min-width:0;height:100%;display:block;cursor:grab;user-select:none}
#graph.dragging{cursor:grabbing}
aside{flex:none;width:300px;overflow:auto;border-left:1px solid #d0d7de;padding:8px 12px;font-size:12px}
aside h2{font-size:13px;margin:4px 0 8px}
aside ul{list-style:none;margin:0;padding:0}
aside li{padding:4px 6px;margin:0 0 4px;border:1px solid #e1c16e;background:#fff8e1;border-radius:4px;cursor:default}
aside li.active{border-color:#d32f2f;background:#fdecea}
aside li .state{font-weight:600}
.vertex rect{stroke-width:1.2}
.node rect{fill:#fff;stroke:#57606a}
.network rect{fill:#e8f0fe;stroke:#3b6fd8}
.vertex .title{font-weight:600;font-size:12px}
.vertex .line{font-size:10px;fill:#424a53}
.edge .line{fill:none;stroke:#8c959f;stroke-width:1.2}
.edge.link .line{stroke:#24292f;stroke-width:2}
.edge.impaired .line{stroke:#b35900;stroke-dasharray:6 3}
.edge .hit{fill:none;stroke:transparent;stroke-width:10}
.elabel{font-size:9px;fill:#24292f;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.elabel .name{font-weight:600}
.touched rect{stroke:#d32f2f;stroke-width:2.5}
.edge.touched .line{stroke:#d32f2f}
.hover rect{stroke:#0969da;stroke-width:2.5}
.edge.hover .line{stroke:#0969da}
#tip{position:fixed;pointer-events:none;background:#24292f;color:#fff;font-size:12px;line-height:1.45;padding:6px 9px;border-radius:5px;max-width:420px;white-space:pre-wrap;z-index:2}
#verdict{display:none}
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('graph-data').textContent);
  var svg = document.getElementById('graph');
  var tip = document.getElementById('tip');
  var byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; });
  data.networks.forEach(function (w) { byId[w.id] = w; });
  data.edges.forEach(function (e) { byId[e.id] = e; });
  data.faults.forEach(function (f) { byId[f.id] = f; });
  var faultsOf = {};
  data.faults.forEach(function (f) { f.touches.forEach(function (t) { (faultsOf[t] = faultsOf[t] || []).push(f.name); }); });

  function addr(a) { return a.iface + ' ' + (a.address === null ? (a.on === 'network' ? 'IPAM' : '(no address)') : a.address); }
  function end(e) { return e.node + ' ' + e.iface + (e.address === null ? '' : ' ' + e.address); }
  function detail(id) {
    var x = byId[id];
    if (!x) return '';
    var lines = [];
    if (id.indexOf('node:') === 0) {
      lines.push('node ' + x.name + ' (sandbox ' + x.sandbox + ')');
      if (x.forwarding) lines.push('forwarding');
      x.addresses.forEach(function (a) { lines.push(addr(a)); });
      if (x.processes.length) lines.push('processes: ' + x.processes.join(', '));
    } else if (id.indexOf('network:') === 0) {
      lines.push('network ' + x.name + ' (' + x.driver + ', nsbox network ' + x.nsboxName + ')');
      lines.push('subnets: ' + (x.subnets.length ? x.subnets.join(' ') : 'picked when the lab comes up'));
      if (x.gateway !== null) lines.push('gateway (host): ' + x.gateway);
      var members = data.edges.filter(function (e) { return e.kind === 'interface' && e.network === x.name; });
      lines.push(members.length + ' interface(s)');
    } else if (x.kind === 'interface') {
      lines.push('interface ' + x.node + '/' + x.iface + ' on network ' + x.network);
      lines.push('address: ' + (x.address === null ? 'IPAM' : x.address));
      if (x.mtu !== null) lines.push('mtu ' + x.mtu);
    } else if (x.kind === 'link') {
      lines.push('link ' + x.name);
      lines.push('a: ' + end(x.a));
      lines.push('b: ' + end(x.b));
      if (x.mtu !== null) lines.push('mtu ' + x.mtu);
      ['a->b', 'b->a'].forEach(function (d) { lines.push(d + ': ' + (x.impair[d] === null ? 'not impaired' : x.impair[d].text)); });
    } else {
      lines.push('fault ' + x.name + (x.active === true ? ' (active)' : x.active === false ? ' (inactive)' : ''));
      lines.push(x.summary);
    }
    if (faultsOf[id]) lines.push('faults: ' + faultsOf[id].join(', '));
    return lines.join('\\n');
  }

  function elementsOf(id) { return document.querySelectorAll('[data-graph-id="' + CSS.escape(id) + '"]'); }
  function mark(ids, cls, on) { ids.forEach(function (id) { elementsOf(id).forEach(function (el) { el.classList.toggle(cls, on); }); }); }
  var current = null;
  document.addEventListener('pointerover', function (ev) {
    var t = ev.target.closest && ev.target.closest('[data-graph-id],[data-label-for]');
    var id = t ? (t.getAttribute('data-graph-id') || t.getAttribute('data-label-for')) : null;
    if (id === current) return;
    if (current !== null) { mark([current], 'hover', false); if (byId[current] && byId[current].touches) mark(byId[current].touches, 'touched', false); }
    current = id;
    if (id === null) { tip.hidden = true; return; }
    mark([id], 'hover', true);
    if (byId[id] && byId[id].touches) mark(byId[id].touches, 'touched', true);
    tip.textContent = detail(id);
    tip.hidden = false;
  });
  document.addEventListener('pointermove', function (ev) {
    if (tip.hidden) return;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > innerWidth) x = ev.clientX - tip.offsetWidth - 8;
    if (y + tip.offsetHeight > innerHeight) y = ev.clientY - tip.offsetHeight - 8;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });

  var vb = svg.getAttribute('viewBox').split(' ').map(Number);
  function setView(v) { vb = v; svg.setAttribute('viewBox', v.map(function (n) { return Math.round(n * 100) / 100; }).join(' ')); }
  // The first view fits the window, but a small lab is not blown up past MAX_ZOOM.
  var MAX_ZOOM = 1.4;
  (function () {
    var r = svg.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && Math.min(r.width / vb[2], r.height / vb[3]) > MAX_ZOOM) {
      var w = r.width / MAX_ZOOM, h = r.height / MAX_ZOOM;
      setView([vb[0] + vb[2] / 2 - w / 2, vb[1] + vb[3] / 2 - h / 2, w, h]);
    }
  })();
  var fit = vb.slice();
  function toSvg(cx, cy) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(vb[2] / r.width, vb[3] / r.height);
    return [vb[0] + (cx - r.left - (r.width - vb[2] / s) / 2) * s, vb[1] + (cy - r.top - (r.height - vb[3] / s) / 2) * s, s];
  }
  function zoom(f, cx, cy) {
    var p = toSvg(cx, cy);
    setView([p[0] - (p[0] - vb[0]) * f, p[1] - (p[1] - vb[1]) * f, vb[2] * f, vb[3] * f]);
  }
  svg.addEventListener('wheel', function (ev) { ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, ev.clientX, ev.clientY); }, { passive: false });
  var drag = null;
  svg.addEventListener('pointerdown', function (ev) { drag = [ev.clientX, ev.clientY]; svg.classList.add('dragging'); svg.setPointerCapture(ev.pointerId); });
  svg.addEventListener('pointermove', function (ev) {
    if (drag === null) return;
    var s = toSvg(0, 0)[2];
    setView([vb[0] - (ev.clientX - drag[0]) * s, vb[1] - (ev.clientY - drag[1]) * s, vb[2], vb[3]]);
    drag = [ev.clientX, ev.clientY];
  });
  svg.addEventListener('pointerup', function () { drag = null; svg.classList.remove('dragging'); });
  svg.addEventListener('dblclick', function () { setView(fit.slice()); });
  document.addEventListener('keydown', function (ev) {
    var r = svg.getBoundingClientRect();
    if (ev.key === '0') setView(fit.slice());
    else if (ev.key === '+' || ev.key === '=') zoom(1 / 1.25, r.left + r.width / 2, r.top + r.height / 2);
    else if (ev.key === '-') zoom(1.25, r.left + r.width / 2, r.top + r.height / 2);
  });

  // The self-check: every element of the graph drawn, with a size, inside the window.
  function check() {
    var problems = [], counts = {};
    var want = data.nodes.length + data.networks.length + data.edges.length + data.faults.length;
    var els = document.querySelectorAll('[data-graph-id]');
    els.forEach(function (el) {
      var id = el.getAttribute('data-graph-id'), kind = el.getAttribute('data-kind');
      counts[kind] = (counts[kind] || 0) + 1;
      var r = el.getBoundingClientRect();
      var sized = kind === 'interface' || kind === 'link' ? r.width > 0 || r.height > 0 : r.width > 0 && r.height > 0;
      if (!sized) problems.push(id + ': no size');
      if (kind !== 'fault' && (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)) problems.push(id + ': outside the window');
      if (kind === 'interface' || kind === 'link') {
        var label = document.querySelector('[data-label-for="' + CSS.escape(id) + '"]');
        var lr = label ? label.getBoundingClientRect() : null;
        if (!lr || lr.width <= 0 || lr.height <= 0) problems.push(id + ': no label');
      }
    });
    if (els.length !== want) problems.push(els.length + ' elements drawn for ' + want + ' in the graph');
    var out = document.getElementById('verdict');
    out.textContent = JSON.stringify({ ok: problems.length === 0, window: [innerWidth, innerHeight], counts: counts, problems: problems.slice(0, 50) });
    document.body.setAttribute('data-verdict', problems.length === 0 ? 'ok' : 'fail');
  }
  if (document.readyState === 'complete') check(); else addEventListener('load', check);
})();
`;
