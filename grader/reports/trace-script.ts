/** The trace page's script (inline, nothing fetched): lanes, message arrows on a zoomable canvas, details, filters. */
/// <reference lib="dom" />
// `traceViewer` runs in the browser, not here: the page inlines its compiled source (TRACE_SCRIPT), so its body may
// use only what it declares itself and the page's globals. Everything it imports must be a type (erased).
import type { LossCause, TraceData, TraceEvent } from '../../world/recorder';

/** An event of the recording (the page's JSON, typed as the recorder wrote it). */
type Ev<K extends TraceEvent['k']> = Extract<TraceEvent, { k: K }>;

/** A point of the happened-before order: an event on its lane, at its place in the lane's order. */
interface CausalNode {
  readonly lane: string;
  readonly pos: number;
  /** The send this receive follows, if it is a receive. */
  readonly src: CausalNode | null;
}

/** An RPC as drawn: its events' times, and where it sits in the happened-before order. */
interface Msg {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly end: string;
  readonly method: string;
  readonly args: unknown;
  readonly t0: number;
  readonly key: string | undefined;
  readonly nSend: CausalNode;
  /** Reached the handler / handler answered / reply reached the caller / the caller timed out / lost. */
  t1?: number;
  th?: number;
  t2?: number;
  tout?: number;
  td?: number;
  reply?: unknown;
  drop?: 'request' | 'reply';
  why?: LossCause;
  nDeliver?: CausalNode;
  nHandled?: CausalNode;
  tEnd: number;
  pending?: boolean;
  past?: boolean;
}

/** A clerk operation as drawn: a bar on its lane from call to return. */
interface Op {
  readonly id: number;
  readonly lane: string;
  readonly input: unknown;
  readonly t0: number;
  readonly key: string | undefined;
  readonly nStart: CausalNode;
  t1?: number;
  output?: unknown;
  nRet?: CausalNode;
  past?: boolean;
}

/** A dot on a lane (a network change, a printed line) or the failure's line. */
interface Mark {
  readonly k: 'net' | 'log' | 'fail';
  readonly t: number;
  readonly lane: string;
  readonly text?: string;
  readonly what?: string;
  readonly n?: CausalNode;
  past?: boolean;
}

/** The failure, with its place in the happened-before order. */
type Failure = Ev<'fail'> & { n?: CausalNode };

/** A role band: a peer's role and term from one change to the next. */
interface RoleBand {
  readonly lane: string;
  readonly t0: number;
  t1: number | undefined;
  readonly role: Ev<'role'>['role'];
  readonly term: number | undefined;
}

/** One drawn segment of a message: x1, y1, x2, y2, color, whether it ends in a loss, whether it is dashed. */
type Segment = [number, number, number, number, string, boolean, boolean?];

/** Something drawn that a click or a hover can pick. */
type Shown =
  | { readonly item: Msg; readonly segs: Segment[] }
  | { readonly item: Op | Mark | Failure; readonly box: [number, number, number, number] };

type Pickable = Msg | Op | Mark | Failure;

/** What the page's own tests and tools can ask the drawing (window.kvlabsTrace). */
interface TraceHooks {
  rpcPoint(id: number): { x: number; y: number } | null;
  show(t0: number, t1: number): void;
  view(): { from: number; to: number; key: string | null };
  dimmed(id: number): boolean | null;
}

/** The page's script: reads the recording from #trace-data and draws it. Runs in the browser. */
export function traceViewer(): void {
  const started = performance.now();
  const byIdOf = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  const data = JSON.parse(byIdOf('trace-data').textContent ?? '{}') as TraceData;
  const ev = data.events;
  const LANE_H = 34,
    GUTTER = 130,
    AXIS = 24,
    LONG_MS = 1000;
  const msgs: Msg[] = [],
    byId: Record<number, Msg> = {},
    ops: Op[] = [],
    opById: Record<number, Op> = {},
    marks: Mark[] = [],
    roles: RoleBand[] = [],
    openRole: Record<string, RoleBand> = {};
  let fail: Failure | null = null,
    last = 0;
  const laneSet: Record<string, true> = {},
    callers: Record<string, true> = {},
    servers: Record<string, true> = {};
  function lane(n: string): string {
    if (!(n in laneSet)) laneSet[n] = true;
    return n;
  }
  // Happened-before (Lamport) over the recorded events: each event is a node on its lane, in the lane's order; a
  // receive (a request reaching its handler, a reply reaching its caller) also follows its send.
  const laneNodes: Record<string, CausalNode[]> = {};
  function node(n: string, src?: CausalNode): CausalNode {
    const list = laneNodes[n] || (laneNodes[n] = []);
    const x: CausalNode = { lane: n, pos: list.length, src: src || null };
    list.push(x);
    return x;
  }
  function keyOf(v: unknown, deep?: boolean): string | undefined {
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (/^key$/i.test(k) && (typeof x === 'string' || typeof x === 'number')) return String(x);
      }
      // A message that carries one operation (a forwarded or broadcast write) has its key one level down.
      if (!deep) {
        for (const j in o) {
          const inner = keyOf(o[j], true);
          if (inner !== undefined) return inner;
        }
      }
    }
    return undefined;
  }
  for (const e of ev) {
    if (e.t > last) last = e.t;
    if (e.k === 'call') {
      const m: Msg = {
        id: e.id,
        from: lane(e.from),
        to: lane(e.to),
        end: e.end,
        method: e.method,
        args: e.args,
        t0: e.t,
        nSend: node(e.from),
        key: keyOf(e.args),
        tEnd: e.t,
      };
      callers[e.from] = true;
      servers[e.to] = true;
      msgs.push(m);
      byId[e.id] = m;
    } else if (e.k === 'op') {
      const o: Op = { id: e.id, lane: lane(e.lane), input: e.input, t0: e.t, key: keyOf(e.input), nStart: node(e.lane) };
      callers[e.lane] = true;
      ops.push(o);
      opById[e.id] = o;
    } else if (e.k === 'ret') {
      const oe = opById[e.id];
      if (oe) {
        oe.t1 = e.t;
        oe.output = e.output;
        oe.nRet = node(oe.lane);
      }
    } else if (e.k === 'role') {
      // A band from this change to the lane's next one (or the end of the run).
      lane(e.lane);
      servers[e.lane] = true;
      if (openRole[e.lane]) openRole[e.lane].t1 = e.t;
      const band: RoleBand = { lane: e.lane, t0: e.t, t1: undefined, role: e.role, term: e.term };
      roles.push(band);
      openRole[e.lane] = band;
    } else if (e.k === 'net') {
      lane(e.lane);
      marks.push({ k: 'net', t: e.t, lane: e.lane, what: e.what, n: node(e.lane) });
    } else if (e.k === 'log') {
      lane(e.lane);
      marks.push({ k: 'log', t: e.t, lane: e.lane, text: e.text, n: node(e.lane) });
    } else if (e.k === 'fail') {
      fail = { ...e };
      lane('test');
      fail.n = node('test');
      marks.push({ k: 'fail', t: e.t, lane: 'test', text: e.message });
    } else if (byId[e.id]) {
      const s = byId[e.id];
      if (e.k === 'deliver') {
        s.t1 = e.t;
        s.nDeliver = node(s.to, s.nSend);
      } else if (e.k === 'handled') {
        s.th = e.t;
        s.reply = e.reply;
        s.nHandled = node(s.to);
      } else if (e.k === 'reply') {
        s.t2 = e.t;
        node(s.from, s.nHandled);
      } else if (e.k === 'timeout') {
        s.tout = e.t;
        node(s.from);
      } else if (e.k === 'drop') {
        s.drop = e.which;
        s.why = e.why;
        s.td = e.t;
      }
    }
  }
  roles.forEach((b) => {
    if (b.t1 === undefined) b.t1 = last;
  });
  for (const x of msgs) {
    x.tEnd = Math.max(x.t0, x.t1 || 0, x.th || 0, x.t2 || 0, x.td || 0, x.tout || 0);
    if (x.t2 === undefined && x.tout === undefined && x.td === undefined) x.pending = true;
  }
  // The failing key: the first key of the trace that the failure message quotes (a checker's "(key "k")" first).
  const keys: Record<string, true> = {};
  msgs.forEach((m) => {
    if (m.key !== undefined) keys[m.key] = true;
  });
  ops.forEach((o) => {
    if (o.key !== undefined) keys[o.key] = true;
  });
  function failingKey(text: string): string | undefined {
    const named = /\(key ("(?:[^"\\]|\\.)*")\)/.exec(text),
      quoted = /"(?:[^"\\]|\\.)*"/g;
    const found: string[] = [];
    if (named) found.push(named[1]);
    let q: RegExpExecArray | null;
    while ((q = quoted.exec(text))) found.push(q[0]);
    for (const f of found) {
      try {
        const k: unknown = JSON.parse(f);
        if (typeof k === 'string' && keys[k]) return k;
      } catch {
        // not JSON
      }
    }
    return undefined;
  }
  // The failure's causal past: per lane, the last position that happened before the failure. The test noticed the
  // failure after the operations that returned before it (on the failing key, when there is one).
  const failed = fail as Failure | null;
  const causal = {
    key: failed ? failingKey(failed.message || '') : undefined,
    upTo: {} as Record<string, number>,
    on: false,
    t0: Infinity,
    items: 0,
  };
  function inPast(n: CausalNode | undefined): boolean {
    return !!n && causal.upTo[n.lane] !== undefined && n.pos <= causal.upTo[n.lane];
  }
  if (failed) {
    const work: Array<[string, number, number]> = [];
    const raise = (n: CausalNode): void => {
      const had = causal.upTo[n.lane] === undefined ? -1 : causal.upTo[n.lane];
      if (n.pos > had) {
        causal.upTo[n.lane] = n.pos;
        work.push([n.lane, had + 1, n.pos]);
      }
    };
    if (failed.n) raise(failed.n);
    ops.forEach((o) => {
      if (o.nRet && o.t1 !== undefined && o.t1 <= failed.t && (causal.key === undefined || o.key === causal.key))
        raise(o.nRet);
    });
    while (work.length) {
      const w = work.pop() as [string, number, number],
        list = laneNodes[w[0]];
      for (let p = w[1]; p <= w[2]; p++) {
        const src = list[p].src;
        if (src) raise(src);
      }
    }
    const onKey = (it: { key: string | undefined }): boolean => causal.key === undefined || it.key === causal.key;
    msgs.forEach((m) => (m.past = inPast(m.nSend) && onKey(m)));
    ops.forEach((o) => (o.past = inPast(o.nStart) && onKey(o)));
    marks.forEach((k) => (k.past = k.k === 'fail' || inPast(k.n)));
    [...msgs, ...ops].forEach((it) => {
      if (it.past) {
        causal.items++;
        if (it.t0 < causal.t0) causal.t0 = it.t0;
      }
    });
    causal.on = causal.key !== undefined && causal.items > 0;
  }
  const fCausal = byIdOf<HTMLInputElement>('f-causal');
  function dim(it: { past?: boolean }): boolean {
    return causal.on && fCausal.checked && !it.past;
  }
  function natural(a: string, b: string): number {
    return a.localeCompare(b, undefined, { numeric: true });
  }
  const lanes = Object.keys(laneSet).sort((a, b) => {
    const rank = (n: string): number => (n === 'test' ? 0 : callers[n] && !servers[n] ? 1 : servers[n] ? 3 : 2);
    return rank(a) - rank(b) || natural(a, b);
  });
  const laneY: Record<string, number> = {};
  lanes.forEach((n, j) => (laneY[n] = AXIS + j * LANE_H + LANE_H / 2));
  const shortMsgs = msgs.filter((m) => m.tEnd - m.t0 <= LONG_MS);
  const longMsgs = msgs.filter((m) => m.tEnd - m.t0 > LONG_MS);

  const canvas = byIdOf<HTMLCanvasElement>('lanes'),
    ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const details = byIdOf('details'),
    tip = byIdOf('tip');
  const fKey = byIdOf<HTMLInputElement>('f-key'),
    fClient = byIdOf<HTMLSelectElement>('f-client'),
    fServer = byIdOf<HTMLSelectElement>('f-server');
  Object.keys(callers)
    .sort(natural)
    .forEach((n) => fClient.add(new Option(n, n)));
  Object.keys(servers)
    .sort(natural)
    .forEach((n) => fServer.add(new Option(n, n)));
  let v0 = 0,
    v1 = Math.max(1, last),
    selected: Pickable | null = null,
    shown: Shown[] = [];

  function passes(m: Msg | Op): boolean {
    const key = fKey.value.trim();
    if (key && m.key !== key) return false;
    const who = 'from' in m ? m.from : m.lane;
    if (fClient.value && who !== fClient.value) return false;
    const to = 'to' in m ? m.to : undefined;
    if (fServer.value && to !== undefined && to !== fServer.value) return false;
    if (fServer.value && to === undefined) return false;
    return true;
  }
  function firstAtOrAfter<T>(arr: readonly T[], t: number, time: (x: T) => number): number {
    let lo = 0,
      hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (time(arr[mid]) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  function W(): number {
    return canvas.width / devicePixelRatio - GUTTER;
  }
  function X(t: number): number {
    return GUTTER + ((t - v0) / (v1 - v0)) * W();
  }
  function T(x: number): number {
    return v0 + ((x - GUTTER) / W()) * (v1 - v0);
  }
  function fmt(t: number): string {
    if (Math.abs(t) < 5e-4) t = 0;
    return t >= 1000 ? (t / 1000).toFixed(3) + ' s' : t.toFixed(3) + ' ms';
  }

  function resize(): void {
    const w = (canvas.parentNode as HTMLElement).clientWidth,
      h = AXIS + lanes.length * LANE_H + 18;
    canvas.width = w * devicePixelRatio;
    canvas.height = h * devicePixelRatio;
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    draw();
  }
  function seg(x1: number, y1: number, x2: number, y2: number, color: string, width?: number, dashed?: boolean): void {
    ctx.strokeStyle = color;
    ctx.lineWidth = width || 1;
    ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  }
  function cross(x: number, y: number, color: string): void {
    seg(x - 4, y - 4, x + 4, y + 4, color, 2);
    seg(x - 4, y + 4, x + 4, y - 4, color, 2);
  }
  function head(x1: number, y1: number, x2: number, y2: number, color: string): void {
    const a = Math.atan2(y2 - y1, x2 - x1);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 7 * Math.cos(a - 0.4), y2 - 7 * Math.sin(a - 0.4));
    ctx.lineTo(x2 - 7 * Math.cos(a + 0.4), y2 - 7 * Math.sin(a + 0.4));
    ctx.fill();
  }
  /** The segments drawn for a message. */
  function segments(m: Msg): Segment[] {
    const out: Segment[] = [],
      yf = laneY[m.from],
      yt = laneY[m.to],
      mid = (yf + yt) / 2;
    if (m.drop === 'request') {
      const xd = X(m.td as number),
        x0 = X(m.t0);
      out.push([x0, yf, Math.max(xd, x0 + 10), mid, '#cf222e', true]);
    } else if (m.t1 !== undefined) {
      out.push([X(m.t0), yf, X(m.t1), yt, '#0969da', false]);
      if (m.drop === 'reply') {
        const xs = X((m.th !== undefined ? m.th : m.td) as number);
        out.push([xs, yt, Math.max(X(m.td as number), xs + 10), mid, '#cf222e', true]);
      } else if (m.th !== undefined && m.t2 !== undefined) out.push([X(m.th), yt, X(m.t2), yf, '#1a7f37', false]);
      else if (m.th !== undefined && m.tout === undefined)
        out.push([X(m.th), yt, X(last), (yt + mid) / 2, '#9a6700', false, true]);
    } else if (m.tout === undefined) {
      out.push([X(m.t0), yf, Math.max(X(last), X(m.t0) + 10), mid, '#9a6700', false, true]);
    }
    return out;
  }
  // A peer's role as a band along its lane: gold while it leads, orange while a candidate, grey while crashed.
  const ROLE_COLOR: Partial<Record<RoleBand['role'], string>> = {
    leader: '#d4a72c',
    candidate: '#fb8f44',
    crashed: '#8c959f',
    unknown: '#cf222e',
  };
  function drawRoles(): void {
    roles.forEach((b) => {
      const t1 = b.t1 as number;
      if (t1 < v0 || b.t0 > v1) return;
      const x0 = Math.max(GUTTER, X(b.t0)),
        x1 = Math.min(X(t1), canvas.width / devicePixelRatio),
        y = laneY[b.lane];
      const color = ROLE_COLOR[b.role];
      if (color) {
        ctx.globalAlpha = 0.3;
        ctx.fillStyle = color;
        ctx.fillRect(x0, y - 9, Math.max(1, x1 - x0), 18);
        ctx.globalAlpha = 1;
      }
      if (x1 - x0 > 70) {
        ctx.fillStyle = '#59636e';
        ctx.fillText(b.role + (b.term !== undefined ? ' · term ' + b.term : ''), x0 + 3, y - 12);
      }
    });
  }
  function visible(arr: readonly Msg[], lo: number, hi: number): Msg[] {
    const out: Msg[] = [];
    for (let i = firstAtOrAfter(arr, lo, (m) => m.t0); i < arr.length && arr[i].t0 <= hi; i++) out.push(arr[i]);
    return out;
  }
  function drawAxis(w: number): void {
    lanes.forEach((n) => {
      const y = laneY[n];
      seg(GUTTER, y, w, y, '#d1d9e0');
      ctx.fillStyle = n === fClient.value || n === fServer.value ? '#0969da' : '#1f2328';
      ctx.fillText(n.length > 18 ? n.slice(0, 17) + '…' : n, 6, y);
    });
    let step = Math.pow(10, Math.floor(Math.log10((v1 - v0) / 8 || 1)));
    if ((v1 - v0) / step > 16) step *= 5;
    ctx.fillStyle = '#59636e';
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const xx = X(t);
      seg(xx, AXIS - 6, xx, AXIS, '#59636e');
      ctx.fillText(fmt(t), xx + 2, 8);
    }
  }
  function drawMessages(): void {
    const cand = visible(shortMsgs, v0 - LONG_MS, v1).concat(longMsgs);
    cand.forEach((m) => {
      if (m.tEnd < v0 || m.t0 > v1 || !passes(m)) return;
      const s = segments(m);
      ctx.globalAlpha = dim(m) ? 0.15 : 1;
      s.forEach((g) => {
        const color = m === selected ? '#bf8700' : g[4];
        seg(g[0], g[1], g[2], g[3], color, m === selected ? 3 : 1, g[6]);
        if (g[5]) cross(g[2], g[3], color);
        else if (Math.abs(g[2] - g[0]) + Math.abs(g[3] - g[1]) > 12) head(g[0], g[1], g[2], g[3], color);
      });
      if (m.tout !== undefined) {
        const xt = X(m.tout),
          yf = laneY[m.from];
        seg(xt, yf - 6, xt, yf + 6, '#cf222e', 2);
      }
      shown.push({ item: m, segs: s });
    });
    ctx.globalAlpha = 1;
  }
  function drawOps(): void {
    ops.forEach((o) => {
      const end = o.t1 === undefined ? last : o.t1;
      if (end < v0 || o.t0 > v1 || !passes(o)) return;
      const y = laneY[o.lane] - 11,
        x1 = X(o.t0),
        x2 = Math.max(X(end), x1 + 3);
      ctx.globalAlpha = dim(o) ? 0.2 : 1;
      ctx.fillStyle =
        o === selected ? 'rgba(191,135,0,.45)' : o.t1 === undefined ? 'rgba(207,34,46,.25)' : 'rgba(130,80,223,.25)';
      ctx.fillRect(x1, y, x2 - x1, 7);
      if (x2 - x1 > 60) {
        ctx.fillStyle = '#3b2a6b';
        ctx.fillText(opLabel(o).slice(0, Math.floor((x2 - x1) / 6)), x1 + 2, y - 5);
      }
      shown.push({ item: o, box: [x1, y, x2, y + 7] });
    });
    ctx.globalAlpha = 1;
  }
  function drawMarks(): void {
    const lastLabel: Record<string, number> = {};
    for (let mi = firstAtOrAfter(marks, v0, (k) => k.t); mi < marks.length && marks[mi].t <= v1; mi++) {
      const k = marks[mi],
        x = X(k.t),
        y = laneY[k.lane];
      if (k.k === 'fail') continue;
      ctx.globalAlpha = dim(k) ? 0.2 : 1;
      ctx.fillStyle = k.k === 'log' ? '#8250df' : '#9a6700';
      ctx.beginPath();
      ctx.arc(x, y + 9, k === selected ? 5 : 3, 0, 7);
      ctx.fill();
      const text = (k.k === 'log' ? k.text : k.what) ?? '';
      if (!(k.lane in lastLabel) || x - lastLabel[k.lane] > 160) {
        ctx.fillText(text.slice(0, 26), x + 5, y + 10);
        lastLabel[k.lane] = x;
      }
      shown.push({ item: k, box: [x - 4, y + 5, x + 4, y + 13] });
    }
    ctx.globalAlpha = 1;
  }
  function draw(): void {
    const w = canvas.width / devicePixelRatio,
      h = canvas.height / devicePixelRatio;
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    drawAxis(w);
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, w - GUTTER, h);
    ctx.clip();
    drawRoles();
    shown = [];
    drawMessages();
    drawOps();
    drawMarks();
    if (failed) {
      const xf = X(failed.t);
      seg(xf, 0, xf, h, '#cf222e', 2);
      ctx.fillStyle = '#cf222e';
      ctx.fillText('test failed', xf + 4, h - 8);
      shown.push({ item: failed, box: [xf - 3, 0, xf + 3, h] });
    }
    ctx.restore();
    const perPx = (v1 - v0) / W();
    byIdOf('view').textContent =
      fmt(v0) +
      ' – ' +
      fmt(v1) +
      ' (' +
      fmt(v1 - v0) +
      ' shown; ' +
      (perPx < 1 ? fmt(perPx) + ' per pixel' : 'zoom in for detail') +
      ')';
  }
  function opLabel(o: Op): string {
    const i = (o.input || {}) as { op?: string; value?: unknown; version?: unknown };
    const s = i.op
      ? i.op +
        '(' +
        JSON.stringify(o.key !== undefined ? o.key : '') +
        (i.value !== undefined ? ', ' + JSON.stringify(i.value) : '') +
        (i.version !== undefined ? ', v' + String(i.version) : '') +
        ')'
      : JSON.stringify(o.input);
    return s + (o.t1 === undefined ? ' (never returned)' : ' → ' + got(i, o.output));
  }
  // What the caller got: a put returns nothing (the history stores "" for it); a lab 2 reply is its error, or the
  // value and version of a get.
  function got(input: { op?: string }, out: unknown): string {
    if (input.op === 'put' && out === '') return 'returned';
    if (out && typeof out === 'object') {
      const r = out as { err?: unknown; value?: unknown; version?: unknown };
      if (typeof r.err === 'string')
        return r.err === 'OK' && r.value !== undefined
          ? '(' + JSON.stringify(r.value) + ', v' + String(r.version) + ')'
          : r.err;
    }
    return JSON.stringify(out);
  }
  function dist(px: number, py: number, g: Segment): number {
    const dx = g[2] - g[0],
      dy = g[3] - g[1],
      l = dx * dx + dy * dy;
    let u = l ? ((px - g[0]) * dx + (py - g[1]) * dy) / l : 0;
    u = Math.max(0, Math.min(1, u));
    return Math.hypot(px - g[0] - u * dx, py - g[1] - u * dy);
  }
  function pick(px: number, py: number): Pickable | null {
    let best: Pickable | null = null,
      bd = 7;
    shown.forEach((s) => {
      let d = Infinity;
      if ('segs' in s) s.segs.forEach((g) => (d = Math.min(d, dist(px, py, g))));
      else if (px >= s.box[0] - 2 && px <= s.box[2] + 2 && py >= s.box[1] - 2 && py <= s.box[3] + 2)
        d = 'k' in s.item && s.item.k === 'fail' ? 6 : 1;
      if (d < bd) {
        bd = d;
        best = s.item;
      }
    });
    return best;
  }
  const LOSS_CAUSE: Record<LossCause, string> = {
    unreliable: 'unreliable network',
    disabled: 'disabled end: a partition or a stopped node',
    killed: 'the server was killed or replaced',
    closed: 'network shut down',
  };
  function describeMsg(it: Msg): string {
    const fate = it.drop
      ? 'the ' + it.drop + ' was LOST at ' + fmt(it.td as number) + ' (' + (it.why ? LOSS_CAUSE[it.why] : '') + ')'
      : it.t2 !== undefined
        ? 'reply delivered at ' + fmt(it.t2)
        : it.t1 === undefined
          ? 'the request was still on its way when the run ended'
          : 'no reply yet when the run ended';
    const payload =
      '\n\narguments: ' +
      JSON.stringify(it.args, null, 2) +
      (it.th !== undefined ? '\n\nreply: ' + JSON.stringify(it.reply, null, 2) : '');
    if (data.clock === 'real')
      return (
        it.method +
        ' on ' +
        it.from +
        ' → ' +
        it.to +
        '\nsent at ' +
        fmt(it.t0) +
        (it.t2 !== undefined ? ', reply received at ' + fmt(it.t2) : ', no reply when the test failed') +
        payload
      );
    return (
      'RPC #' +
      it.id +
      ' ' +
      it.method +
      '\n' +
      it.from +
      ' → ' +
      it.to +
      ' (end ' +
      it.end +
      ')\nsent at ' +
      fmt(it.t0) +
      (it.t1 !== undefined ? '\nreached the handler at ' + fmt(it.t1) : '') +
      (it.th !== undefined ? '\nhandler answered at ' + fmt(it.th) : '') +
      '\n' +
      fate +
      (it.tout !== undefined ? '\nthe caller got a TimeoutError at ' + fmt(it.tout) : '') +
      payload
    );
  }
  function describe(it: Pickable | null): string {
    if (!it) return '';
    if ('method' in it) return describeMsg(it);
    if ('input' in it)
      return (
        'Operation of ' +
        it.lane +
        ': ' +
        opLabel(it) +
        '\ncalled at ' +
        fmt(it.t0) +
        (it.t1 !== undefined ? ', returned at ' + fmt(it.t1) : '') +
        '\n\ninput: ' +
        JSON.stringify(it.input, null, 2) +
        '\noutput: ' +
        JSON.stringify(it.output, null, 2)
      );
    if (it.k === 'log') return 'printed by ' + it.lane + ' at ' + fmt(it.t) + ':\n' + (it.text ?? '');
    if (it.k === 'net') return it.lane + ' at ' + fmt(it.t) + ': ' + (it.what ?? '');
    return 'The test failed at ' + fmt(it.t) + ':\n' + ('message' in it ? it.message : (it.text ?? ''));
  }
  function select(it: Pickable | null): void {
    selected = it;
    details.textContent = describe(it) || 'Click an arrow, an operation bar, a dot or the red line for details.';
    draw();
  }
  function plural(n: number, what: string): string {
    return n + ' ' + what + (n === 1 ? '' : 's');
  }
  function causalText(): string {
    if (!failed) return '';
    if (!causal.on) return 'The failure message names no key of this trace, so the whole run is shown alike.';
    const n = msgs.filter((m) => m.past).length,
      o = ops.filter((x) => x.past).length;
    return (
      'Causal past of the failure on key ' +
      JSON.stringify(causal.key) +
      ': ' +
      plural(o, 'operation') +
      ' and ' +
      plural(n, 'message') +
      ' on that key happened before it (same lane earlier, or a message sent before it arrived), from ' +
      fmt(causal.t0) +
      ' on. The rest is dimmed.'
    );
  }
  function zoom(f: number, at?: number): void {
    const c = at === undefined ? (v0 + v1) / 2 : at,
      span = Math.max(1e-4, (v1 - v0) * f);
    const r = (c - v0) / (v1 - v0);
    v0 = c - span * r;
    v1 = v0 + span;
    draw();
  }
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, T(e.clientX - r.left));
    },
    { passive: false },
  );
  let dragging: { x: number; v0: number; v1: number; moved: boolean } | null = null;
  canvas.addEventListener('mousedown', (e) => {
    dragging = { x: e.clientX, v0, v1, moved: false };
  });
  window.addEventListener('mouseup', (e) => {
    if (dragging && !dragging.moved) {
      const r = canvas.getBoundingClientRect();
      select(pick(e.clientX - r.left, e.clientY - r.top));
    }
    dragging = null;
  });
  window.addEventListener('mousemove', (e) => {
    const r = canvas.getBoundingClientRect();
    if (dragging) {
      const dx = e.clientX - dragging.x;
      if (Math.abs(dx) > 3) dragging.moved = true;
      const dt = (dx / W()) * (dragging.v1 - dragging.v0);
      v0 = dragging.v0 - dt;
      v1 = dragging.v1 - dt;
      draw();
      return;
    }
    const px = e.clientX - r.left,
      py = e.clientY - r.top;
    if (px < 0 || py < 0 || px > r.width || py > r.height) {
      tip.style.display = 'none';
      return;
    }
    const it = pick(px, py);
    if (!it) {
      tip.style.display = 'none';
      return;
    }
    tip.textContent = describe(it).split('\n').slice(0, 4).join('\n');
    tip.style.display = 'block';
    tip.style.left = e.pageX + 12 + 'px';
    tip.style.top = e.pageY + 12 + 'px';
  });
  function toFailure(): void {
    if (!failed) {
      v0 = 0;
      v1 = Math.max(1, last);
      draw();
      return;
    }
    if (causal.on) {
      // The failure's causal past on its key, from its first operation or message to the failure.
      const width = Math.max(0.5, failed.t - causal.t0);
      v0 = causal.t0 - width * 0.03;
      v1 = failed.t + width * 0.05;
      select(failed);
      return;
    }
    const before = msgs.filter((m) => m.t0 <= failed.t);
    const from = before.length > 40 ? before[before.length - 40].t0 : 0;
    const span = Math.max(0.5, failed.t - from);
    v0 = Math.max(-span * 0.02, failed.t - span * 1.05);
    v1 = failed.t + span * 0.15;
    select(failed);
  }
  byIdOf('zoom-in').onclick = () => zoom(0.5);
  byIdOf('zoom-out').onclick = () => zoom(2);
  byIdOf('fit').onclick = () => {
    v0 = 0;
    v1 = Math.max(1, last);
    draw();
  };
  byIdOf('to-failure').onclick = toFailure;
  [fKey, fClient, fServer, fCausal].forEach((el) => {
    el.addEventListener('input', draw);
    el.addEventListener('change', draw);
  });
  byIdOf('causal').textContent = causalText();
  if (!causal.on) byIdOf('f-causal-label').style.display = 'none';
  window.addEventListener('resize', resize);
  byIdOf('counts').textContent =
    msgs.length +
    ' RPCs, ' +
    ops.length +
    ' operations, ' +
    plural(marks.filter((k) => k.k === 'log').length, 'printed line') +
    ', ' +
    lanes.length +
    ' lanes';
  resize();
  toFailure();
  // For tools and the kit's browser test: where an RPC's first drawn segment is (viewport coordinates), to click it.
  const hooks: TraceHooks = {
    rpcPoint: (id) => {
      const s = shown.find((x) => x.item === byId[id] && 'segs' in x && x.segs.length > 0);
      if (!s || !('segs' in s)) return null;
      const g = s.segs[0],
        r = canvas.getBoundingClientRect();
      return { x: r.left + (g[0] + g[2]) / 2, y: r.top + (g[1] + g[3]) / 2 };
    },
    show: (t0, t1) => {
      v0 = t0;
      v1 = t1;
      draw();
    },
    // The view's span, the failing key, and whether an RPC is drawn dimmed (outside the failure's causal past).
    view: () => ({ from: v0, to: v1, key: causal.key === undefined ? null : causal.key }),
    dimmed: (id) => (byId[id] ? dim(byId[id]) : null),
  };
  (window as Window & { kvlabsTrace?: TraceHooks }).kvlabsTrace = hooks;
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
  canvas.scrollIntoView({ block: 'center' });
}

/** The script as the page inlines it: the compiled source of traceViewer, called at once. */
export const TRACE_SCRIPT = `(${traceViewer.toString()})();`;
