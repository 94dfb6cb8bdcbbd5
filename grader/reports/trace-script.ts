/** The trace page's script (inline, nothing fetched): lanes, message arrows on a zoomable canvas, details, filters. */
// Plain browser JavaScript kept as a string; it must use no backquotes and no dollar-brace sequences.
export const TRACE_SCRIPT = String.raw`
(function () {
  'use strict';
  var started = performance.now();
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var ev = data.events;
  var LANE_H = 34, GUTTER = 130, AXIS = 24, LONG_MS = 1000;
  var msgs = [], byId = {}, ops = [], opById = {}, marks = [], roles = [], openRole = {}, fail = null, last = 0;
  var laneSet = {}, callers = {}, servers = {};
  function lane(n) { if (!(n in laneSet)) laneSet[n] = true; return n; }
  // Happened-before (Lamport) over the recorded events: each event is a node on its lane, in the lane's order; a
  // receive (a request reaching its handler, a reply reaching its caller) also follows its send.
  var laneNodes = {};
  function node(n, src) {
    var list = laneNodes[n] || (laneNodes[n] = []);
    var x = { lane: n, pos: list.length, src: src || null };
    list.push(x); return x;
  }
  for (var i = 0; i < ev.length; i++) {
    var e = ev[i];
    if (e.t > last) last = e.t;
    if (e.k === 'call') {
      var m = { id: e.id, from: lane(e.from), to: lane(e.to), end: e.end, method: e.method, args: e.args, t0: e.t };
      m.nSend = node(e.from);
      callers[e.from] = true; servers[e.to] = true;
      m.key = keyOf(e.args); msgs.push(m); byId[e.id] = m;
    } else if (e.k === 'op') {
      var o = { id: e.id, lane: lane(e.lane), input: e.input, t0: e.t, key: keyOf(e.input) };
      o.nStart = node(e.lane);
      callers[e.lane] = true; ops.push(o); opById[e.id] = o;
    } else if (e.k === 'ret') {
      if (opById[e.id]) { var oe = opById[e.id]; oe.t1 = e.t; oe.output = e.output; oe.nRet = node(oe.lane); }
    } else if (e.k === 'role') {
      // A band from this change to the lane's next one (or the end of the run).
      lane(e.lane); servers[e.lane] = true;
      if (openRole[e.lane]) openRole[e.lane].t1 = e.t;
      var band = { lane: e.lane, t0: e.t, t1: undefined, role: e.role, term: e.term };
      roles.push(band); openRole[e.lane] = band;
    } else if (e.k === 'net' || e.k === 'log') {
      lane(e.lane); marks.push({ k: e.k, t: e.t, lane: e.lane, text: e.text, what: e.what, n: node(e.lane) });
    } else if (e.k === 'fail') {
      fail = e; lane('test'); fail.n = node('test'); marks.push({ k: 'fail', t: e.t, lane: 'test', text: e.message });
    } else if (byId[e.id]) {
      var s = byId[e.id];
      if (e.k === 'deliver') { s.t1 = e.t; s.nDeliver = node(s.to, s.nSend); }
      else if (e.k === 'handled') { s.th = e.t; s.reply = e.reply; s.nHandled = node(s.to); }
      else if (e.k === 'reply') { s.t2 = e.t; node(s.from, s.nHandled); }
      else if (e.k === 'timeout') { s.tout = e.t; node(s.from); }
      else if (e.k === 'drop') { s.drop = e.which; s.why = e.why; s.td = e.t; }
    }
  }
  roles.forEach(function (b) { if (b.t1 === undefined) b.t1 = last; });
  for (i = 0; i < msgs.length; i++) {
    var x = msgs[i];
    x.tEnd = Math.max(x.t0, x.t1 || 0, x.th || 0, x.t2 || 0, x.td || 0, x.tout || 0);
    if (x.t2 === undefined && x.tout === undefined && x.td === undefined) x.pending = true;
  }
  function keyOf(v, deep) {
    if (v && typeof v === 'object') {
      for (var k in v) if (/^key$/i.test(k) && (typeof v[k] === 'string' || typeof v[k] === 'number')) return String(v[k]);
      // A message that carries one operation (a forwarded or broadcast write) has its key one level down.
      if (!deep) for (var j in v) { var inner = keyOf(v[j], true); if (inner !== undefined) return inner; }
    }
    return undefined;
  }
  // The failing key: the first key of the trace that the failure message quotes (a checker's "(key "k")" first).
  var keys = {};
  msgs.forEach(function (m) { if (m.key !== undefined) keys[m.key] = true; });
  ops.forEach(function (o) { if (o.key !== undefined) keys[o.key] = true; });
  function failingKey(text) {
    var named = /\(key ("(?:[^"\\]|\\.)*")\)/.exec(text), quoted = /"(?:[^"\\]|\\.)*"/g, q;
    var found = [];
    if (named) found.push(named[1]);
    while ((q = quoted.exec(text))) found.push(q[0]);
    for (var i = 0; i < found.length; i++) {
      try { var k = JSON.parse(found[i]); if (typeof k === 'string' && keys[k]) return k; } catch (err) { /* not JSON */ }
    }
    return undefined;
  }
  // The failure's causal past: per lane, the last position that happened before the failure. The test noticed the
  // failure after the operations that returned before it (on the failing key, when there is one).
  var causal = { key: fail ? failingKey(fail.message || '') : undefined, upTo: {}, on: false, t0: Infinity, items: 0 };
  function inPast(n) { return !!n && causal.upTo[n.lane] !== undefined && n.pos <= causal.upTo[n.lane]; }
  if (fail) {
    var work = [];
    var raise = function (n) {
      var had = causal.upTo[n.lane] === undefined ? -1 : causal.upTo[n.lane];
      if (n.pos > had) { causal.upTo[n.lane] = n.pos; work.push([n.lane, had + 1, n.pos]); }
    };
    raise(fail.n);
    ops.forEach(function (o) { if (o.nRet && o.t1 <= fail.t && (causal.key === undefined || o.key === causal.key)) raise(o.nRet); });
    while (work.length) {
      var w = work.pop(), list = laneNodes[w[0]];
      for (var p = w[1]; p <= w[2]; p++) if (list[p].src) raise(list[p].src);
    }
    var onKey = function (it) { return causal.key === undefined || it.key === causal.key; };
    msgs.forEach(function (m) { m.past = inPast(m.nSend) && onKey(m); });
    ops.forEach(function (o) { o.past = inPast(o.nStart) && onKey(o); });
    marks.forEach(function (k) { k.past = k.k === 'fail' || inPast(k.n); });
    msgs.concat(ops).forEach(function (it) { if (it.past) { causal.items++; if (it.t0 < causal.t0) causal.t0 = it.t0; } });
    causal.on = causal.key !== undefined && causal.items > 0;
  }
  function dim(it) { return causal.on && document.getElementById('f-causal').checked && !it.past; }
  function natural(a, b) { return a.localeCompare(b, undefined, { numeric: true }); }
  var lanes = Object.keys(laneSet).sort(function (a, b) {
    function rank(n) { return n === 'test' ? 0 : callers[n] && !servers[n] ? 1 : servers[n] ? 3 : 2; }
    return rank(a) - rank(b) || natural(a, b);
  });
  var laneY = {};
  lanes.forEach(function (n, j) { laneY[n] = AXIS + j * LANE_H + LANE_H / 2; });
  var shortMsgs = msgs.filter(function (m) { return m.tEnd - m.t0 <= LONG_MS; });
  var longMsgs = msgs.filter(function (m) { return m.tEnd - m.t0 > LONG_MS; });

  var canvas = document.getElementById('lanes'), ctx = canvas.getContext('2d');
  var details = document.getElementById('details'), tip = document.getElementById('tip');
  var fKey = document.getElementById('f-key'), fClient = document.getElementById('f-client'), fServer = document.getElementById('f-server');
  Object.keys(callers).sort(natural).forEach(function (n) { fClient.add(new Option(n, n)); });
  Object.keys(servers).sort(natural).forEach(function (n) { fServer.add(new Option(n, n)); });
  var v0 = 0, v1 = Math.max(1, last), selected = null, shown = [];

  function passes(m) {
    var key = fKey.value.trim();
    if (key && m.key !== key) return false;
    if (fClient.value && (m.from || m.lane) !== fClient.value) return false;
    if (fServer.value && m.to !== undefined && m.to !== fServer.value) return false;
    if (fServer.value && m.to === undefined) return false;
    return true;
  }
  function firstAtOrAfter(arr, t, field) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid][field] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function W() { return canvas.width / devicePixelRatio - GUTTER; }
  function X(t) { return GUTTER + (t - v0) / (v1 - v0) * W(); }
  function T(x) { return v0 + (x - GUTTER) / W() * (v1 - v0); }
  function fmt(t) { if (Math.abs(t) < 5e-4) t = 0; return t >= 1000 ? (t / 1000).toFixed(3) + ' s' : t.toFixed(3) + ' ms'; }

  function resize() {
    var w = canvas.parentNode.clientWidth, h = AXIS + lanes.length * LANE_H + 18;
    canvas.width = w * devicePixelRatio; canvas.height = h * devicePixelRatio;
    canvas.style.width = w + 'px'; canvas.style.height = h + 'px';
    draw();
  }
  function seg(x1, y1, x2, y2, color, width, dashed) {
    ctx.strokeStyle = color; ctx.lineWidth = width || 1; ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
  }
  function cross(x, y, color) { seg(x - 4, y - 4, x + 4, y + 4, color, 2); seg(x - 4, y + 4, x + 4, y - 4, color, 2); }
  function head(x1, y1, x2, y2, color) {
    var a = Math.atan2(y2 - y1, x2 - x1);
    ctx.fillStyle = color; ctx.beginPath(); ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 7 * Math.cos(a - 0.4), y2 - 7 * Math.sin(a - 0.4)); ctx.lineTo(x2 - 7 * Math.cos(a + 0.4), y2 - 7 * Math.sin(a + 0.4)); ctx.fill();
  }
  /** The segments drawn for a message: [x1, y1, x2, y2, color, isLoss]. */
  function segments(m) {
    var out = [], yf = laneY[m.from], yt = laneY[m.to], mid = (yf + yt) / 2;
    if (m.drop === 'request') {
      var xd = X(m.td), x0 = X(m.t0);
      out.push([x0, yf, Math.max(xd, x0 + 10), mid, '#cf222e', true]);
    } else if (m.t1 !== undefined) {
      out.push([X(m.t0), yf, X(m.t1), yt, '#0969da', false]);
      if (m.drop === 'reply') {
        var xs = X(m.th !== undefined ? m.th : m.td);
        out.push([xs, yt, Math.max(X(m.td), xs + 10), mid, '#cf222e', true]);
      } else if (m.th !== undefined && m.t2 !== undefined) out.push([X(m.th), yt, X(m.t2), yf, '#1a7f37', false]);
      else if (m.th !== undefined && m.tout === undefined) out.push([X(m.th), yt, X(last), (yt + mid) / 2, '#9a6700', false, true]);
    } else if (m.tout === undefined) {
      out.push([X(m.t0), yf, Math.max(X(last), X(m.t0) + 10), mid, '#9a6700', false, true]);
    }
    return out;
  }
  // A peer's role as a band along its lane: gold while it leads, orange while a candidate, grey while crashed.
  var ROLE_COLOR = { leader: '#d4a72c', candidate: '#fb8f44', crashed: '#8c959f', unknown: '#cf222e' };
  function drawRoles() {
    roles.forEach(function (b) {
      if (b.t1 < v0 || b.t0 > v1) return;
      var x0 = Math.max(GUTTER, X(b.t0)), x1 = Math.min(X(b.t1), canvas.width / devicePixelRatio), y = laneY[b.lane];
      var color = ROLE_COLOR[b.role];
      if (color) { ctx.globalAlpha = 0.3; ctx.fillStyle = color; ctx.fillRect(x0, y - 9, Math.max(1, x1 - x0), 18); ctx.globalAlpha = 1; }
      if (x1 - x0 > 70) {
        ctx.fillStyle = '#59636e';
        ctx.fillText(b.role + (b.term !== undefined ? ' · term ' + b.term : ''), x0 + 3, y - 12);
      }
    });
  }
  function visible(arr, lo, hi) {
    var out = [], i = firstAtOrAfter(arr, lo, 't0');
    for (; i < arr.length && arr[i].t0 <= hi; i++) out.push(arr[i]);
    return out;
  }
  function draw() {
    var w = canvas.width / devicePixelRatio, h = canvas.height / devicePixelRatio;
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle';
    lanes.forEach(function (n) {
      var y = laneY[n];
      seg(GUTTER, y, w, y, '#d1d9e0');
      ctx.fillStyle = n === fClient.value || n === fServer.value ? '#0969da' : '#1f2328';
      ctx.fillText(n.length > 18 ? n.slice(0, 17) + '…' : n, 6, y);
    });
    var step = Math.pow(10, Math.floor(Math.log10((v1 - v0) / 8 || 1)));
    if ((v1 - v0) / step > 16) step *= 5;
    ctx.fillStyle = '#59636e';
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) { var xx = X(t); seg(xx, AXIS - 6, xx, AXIS, '#59636e'); ctx.fillText(fmt(t), xx + 2, 8); }
    ctx.save(); ctx.beginPath(); ctx.rect(GUTTER, 0, w - GUTTER, h); ctx.clip();
    drawRoles();
    shown = [];
    var margin = LONG_MS;
    var cand = visible(shortMsgs, v0 - margin, v1).concat(longMsgs);
    var perPx = (v1 - v0) / W();
    cand.forEach(function (m) {
      if (m.tEnd < v0 || m.t0 > v1 || !passes(m)) return;
      var s = segments(m);
      ctx.globalAlpha = dim(m) ? 0.15 : 1;
      s.forEach(function (g) {
        var color = m === selected ? '#bf8700' : g[4];
        seg(g[0], g[1], g[2], g[3], color, m === selected ? 3 : 1, g[6]);
        if (g[5]) cross(g[2], g[3], color); else if (Math.abs(g[2] - g[0]) + Math.abs(g[3] - g[1]) > 12) head(g[0], g[1], g[2], g[3], color);
      });
      if (m.tout !== undefined) { var xt = X(m.tout), yf = laneY[m.from]; seg(xt, yf - 6, xt, yf + 6, '#cf222e', 2); }
      shown.push({ item: m, segs: s });
    });
    ctx.globalAlpha = 1;
    ops.forEach(function (o) {
      var end = o.t1 === undefined ? last : o.t1;
      if (end < v0 || o.t0 > v1 || !passes(o)) return;
      var y = laneY[o.lane] - 11, x1 = X(o.t0), x2 = Math.max(X(end), x1 + 3);
      ctx.globalAlpha = dim(o) ? 0.2 : 1;
      ctx.fillStyle = o === selected ? 'rgba(191,135,0,.45)' : o.t1 === undefined ? 'rgba(207,34,46,.25)' : 'rgba(130,80,223,.25)';
      ctx.fillRect(x1, y, x2 - x1, 7);
      if (x2 - x1 > 60) { ctx.fillStyle = '#3b2a6b'; ctx.fillText(opLabel(o).slice(0, Math.floor((x2 - x1) / 6)), x1 + 2, y - 5); }
      shown.push({ item: o, box: [x1, y, x2, y + 7] });
    });
    ctx.globalAlpha = 1;
    var lastLabel = {};
    var mi = firstAtOrAfter(marks, v0, 't');
    for (; mi < marks.length && marks[mi].t <= v1; mi++) {
      var k = marks[mi], x = X(k.t), y = laneY[k.lane];
      if (k.k === 'fail') continue;
      ctx.globalAlpha = dim(k) ? 0.2 : 1;
      ctx.fillStyle = k.k === 'log' ? '#8250df' : '#9a6700';
      ctx.beginPath(); ctx.arc(x, y + 9, k === selected ? 5 : 3, 0, 7); ctx.fill();
      var text = k.k === 'log' ? k.text : k.what;
      if (!(k.lane in lastLabel) || x - lastLabel[k.lane] > 160) { ctx.fillText(text.slice(0, 26), x + 5, y + 10); lastLabel[k.lane] = x; }
      shown.push({ item: k, box: [x - 4, y + 5, x + 4, y + 13] });
    }
    ctx.globalAlpha = 1;
    if (fail) {
      var xf = X(fail.t);
      seg(xf, 0, xf, h, '#cf222e', 2);
      ctx.fillStyle = '#cf222e'; ctx.fillText('test failed', xf + 4, h - 8);
      shown.push({ item: fail, box: [xf - 3, 0, xf + 3, h] });
    }
    ctx.restore();
    document.getElementById('view').textContent = fmt(v0) + ' – ' + fmt(v1) + ' (' + fmt(v1 - v0) + ' shown; ' + (perPx < 1 ? fmt(perPx) + ' per pixel' : 'zoom in for detail') + ')';
  }
  function opLabel(o) {
    var i = o.input || {}, s = i.op ? i.op + '(' + JSON.stringify(o.key !== undefined ? o.key : '') + (i.value !== undefined ? ', ' + JSON.stringify(i.value) : '') + (i.version !== undefined ? ', v' + i.version : '') + ')' : JSON.stringify(o.input);
    return s + (o.t1 === undefined ? ' (never returned)' : ' → ' + got(i, o.output));
  }
  // What the caller got: a put returns nothing (the history stores "" for it); a lab 2 reply is its error, or the
  // value and version of a get.
  function got(input, out) {
    if (input.op === 'put' && out === '') return 'returned';
    if (out && typeof out === 'object' && typeof out.err === 'string') {
      return out.err === 'OK' && out.value !== undefined ? '(' + JSON.stringify(out.value) + ', v' + out.version + ')' : out.err;
    }
    return JSON.stringify(out);
  }
  function dist(px, py, g) {
    var dx = g[2] - g[0], dy = g[3] - g[1], l = dx * dx + dy * dy, u = l ? ((px - g[0]) * dx + (py - g[1]) * dy) / l : 0;
    u = Math.max(0, Math.min(1, u));
    return Math.hypot(px - g[0] - u * dx, py - g[1] - u * dy);
  }
  function pick(px, py) {
    var best = null, bd = 7;
    shown.forEach(function (s) {
      var d = Infinity;
      if (s.segs) s.segs.forEach(function (g) { d = Math.min(d, dist(px, py, g)); });
      else if (px >= s.box[0] - 2 && px <= s.box[2] + 2 && py >= s.box[1] - 2 && py <= s.box[3] + 2) d = s.item.k === 'fail' ? 6 : 1;
      if (d < bd) { bd = d; best = s.item; }
    });
    return best;
  }
  function describe(it) {
    if (!it) return '';
    if (it.method) {
      var fate = it.drop ? 'the ' + it.drop + ' was LOST at ' + fmt(it.td) + ' (' + ({ unreliable: 'unreliable network', disabled: 'disabled end: a partition or a stopped node', killed: 'the server was killed or replaced', closed: 'network shut down' }[it.why] || it.why) + ')' : it.t2 !== undefined ? 'reply delivered at ' + fmt(it.t2) : it.t1 === undefined ? 'the request was still on its way when the run ended' : 'no reply yet when the run ended';
      if (data.clock === 'real')
        return it.method + ' on ' + it.from + ' → ' + it.to + '\nsent at ' + fmt(it.t0) + (it.t2 !== undefined ? ', reply received at ' + fmt(it.t2) : ', no reply when the test failed') +
          '\n\narguments: ' + JSON.stringify(it.args, null, 2) + (it.th !== undefined ? '\n\nreply: ' + JSON.stringify(it.reply, null, 2) : '');
      return 'RPC #' + it.id + ' ' + it.method + '\n' + it.from + ' → ' + it.to + ' (end ' + it.end + ')\nsent at ' + fmt(it.t0) +
        (it.t1 !== undefined ? '\nreached the handler at ' + fmt(it.t1) : '') + (it.th !== undefined ? '\nhandler answered at ' + fmt(it.th) : '') +
        '\n' + fate + (it.tout !== undefined ? '\nthe caller got a TimeoutError at ' + fmt(it.tout) : '') +
        '\n\narguments: ' + JSON.stringify(it.args, null, 2) + (it.th !== undefined ? '\n\nreply: ' + JSON.stringify(it.reply, null, 2) : '');
    }
    if (it.input !== undefined) return 'Operation of ' + it.lane + ': ' + opLabel(it) + '\ncalled at ' + fmt(it.t0) + (it.t1 !== undefined ? ', returned at ' + fmt(it.t1) : '') + '\n\ninput: ' + JSON.stringify(it.input, null, 2) + '\noutput: ' + JSON.stringify(it.output, null, 2);
    if (it.k === 'log') return 'printed by ' + it.lane + ' at ' + fmt(it.t) + ':\n' + it.text;
    if (it.k === 'net') return it.lane + ' at ' + fmt(it.t) + ': ' + it.what;
    return 'The test failed at ' + fmt(it.t) + ':\n' + (it.message || it.text);
  }
  function select(it) { selected = it; details.textContent = describe(it) || 'Click an arrow, an operation bar, a dot or the red line for details.'; draw(); }
  function causalText() {
    if (!fail) return '';
    if (!causal.on) return 'The failure message names no key of this trace, so the whole run is shown alike.';
    var n = msgs.filter(function (m) { return m.past; }).length, o = ops.filter(function (x) { return x.past; }).length;
    return 'Causal past of the failure on key ' + JSON.stringify(causal.key) + ': ' + plural(o, 'operation') + ' and ' + plural(n, 'message') +
      ' on that key happened before it (same lane earlier, or a message sent before it arrived), from ' + fmt(causal.t0) + ' on. The rest is dimmed.';
  }
  function zoom(f, at) {
    var c = at === undefined ? (v0 + v1) / 2 : at, span = Math.max(1e-4, (v1 - v0) * f);
    var r = (c - v0) / (v1 - v0);
    v0 = c - span * r; v1 = v0 + span; draw();
  }
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, T(e.clientX - r.left));
  }, { passive: false });
  var dragging = null;
  canvas.addEventListener('mousedown', function (e) { dragging = { x: e.clientX, v0: v0, v1: v1, moved: false }; });
  window.addEventListener('mouseup', function (e) {
    if (dragging && !dragging.moved) { var r = canvas.getBoundingClientRect(); select(pick(e.clientX - r.left, e.clientY - r.top)); }
    dragging = null;
  });
  window.addEventListener('mousemove', function (e) {
    var r = canvas.getBoundingClientRect();
    if (dragging) {
      var dx = e.clientX - dragging.x;
      if (Math.abs(dx) > 3) dragging.moved = true;
      var dt = dx / W() * (dragging.v1 - dragging.v0);
      v0 = dragging.v0 - dt; v1 = dragging.v1 - dt; draw(); return;
    }
    var px = e.clientX - r.left, py = e.clientY - r.top;
    if (px < 0 || py < 0 || px > r.width || py > r.height) { tip.style.display = 'none'; return; }
    var it = pick(px, py);
    if (!it) { tip.style.display = 'none'; return; }
    tip.textContent = describe(it).split('\n').slice(0, 4).join('\n');
    tip.style.display = 'block'; tip.style.left = (e.pageX + 12) + 'px'; tip.style.top = (e.pageY + 12) + 'px';
  });
  function toFailure() {
    if (!fail) { v0 = 0; v1 = Math.max(1, last); draw(); return; }
    if (causal.on) {
      // The failure's causal past on its key, from its first operation or message to the failure.
      var width = Math.max(0.5, fail.t - causal.t0);
      v0 = causal.t0 - width * 0.03; v1 = fail.t + width * 0.05;
      select(fail);
      return;
    }
    var before = msgs.filter(function (m) { return m.t0 <= fail.t; });
    var from = before.length > 40 ? before[before.length - 40].t0 : 0;
    var span = Math.max(0.5, fail.t - from);
    v0 = Math.max(-span * 0.02, fail.t - span * 1.05); v1 = fail.t + span * 0.15;
    select(fail);
  }
  document.getElementById('zoom-in').onclick = function () { zoom(0.5); };
  document.getElementById('zoom-out').onclick = function () { zoom(2); };
  document.getElementById('fit').onclick = function () { v0 = 0; v1 = Math.max(1, last); draw(); };
  document.getElementById('to-failure').onclick = toFailure;
  [fKey, fClient, fServer, document.getElementById('f-causal')].forEach(function (el) { el.addEventListener('input', draw); el.addEventListener('change', draw); });
  document.getElementById('causal').textContent = causalText();
  if (!causal.on) document.getElementById('f-causal-label').style.display = 'none';
  window.addEventListener('resize', resize);
  document.getElementById('counts').textContent = msgs.length + ' RPCs, ' + ops.length + ' operations, ' + plural(marks.filter(function (k) { return k.k === 'log'; }).length, 'printed line') + ', ' + lanes.length + ' lanes';
  function plural(n, what) { return n + ' ' + what + (n === 1 ? '' : 's'); }
  resize();
  toFailure();
  // For tools and the kit's browser test: where an RPC's first drawn segment is (viewport coordinates), to click it.
  window.kvlabsTrace = {
    rpcPoint: function (id) {
      var s = shown.filter(function (x) { return x.item === byId[id] && x.segs && x.segs.length; })[0];
      if (!s) return null;
      var g = s.segs[0], r = canvas.getBoundingClientRect();
      return { x: r.left + (g[0] + g[2]) / 2, y: r.top + (g[1] + g[3]) / 2 };
    },
    show: function (t0, t1) { v0 = t0; v1 = t1; draw(); },
    // The view's span, the failing key, and whether an RPC is drawn dimmed (outside the failure's causal past).
    view: function () { return { from: v0, to: v1, key: causal.key === undefined ? null : causal.key }; },
    dimmed: function (id) { return byId[id] ? dim(byId[id]) : null; }
  };
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
  canvas.scrollIntoView({ block: 'center' });
})();
`;
