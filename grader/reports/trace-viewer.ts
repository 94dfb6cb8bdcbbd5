/** The trace page's script, run in the browser: lanes, message arrows on a zoomable canvas, details, filters. */
/// <reference lib="dom" />
// Node never loads this module: trace.ts inlines its compiled source into each page, so it may import types only.
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

/** Width of the lane names, height of a lane and of the time axis (px); a message longer than LONG_MS is drawn apart. */
const LANE_H = 34;
const GUTTER = 130;
const AXIS = 24;
const LONG_MS = 1000;

/** The key a message or an operation is about: a field named "key", or one level down (a forwarded write). */
function keyOf(v: unknown, deep?: boolean): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (/^key$/i.test(k) && (typeof x === 'string' || typeof x === 'number')) return String(x);
  }
  if (!deep) {
    for (const j in o) {
      const inner = keyOf(o[j], true);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** The recording as the page draws it: messages, operations, marks, role bands and the happened-before order. */
class TraceModel {
  readonly msgs: Msg[] = [];
  readonly byId: Record<number, Msg> = {};
  readonly ops: Op[] = [];
  readonly marks: Mark[] = [];
  readonly roles: RoleBand[] = [];
  readonly laneSet: Record<string, true> = {};
  readonly callers: Record<string, true> = {};
  readonly servers: Record<string, true> = {};
  /** Happened-before (Lamport): each event is a node on its lane, in the lane's order; a receive also follows its send. */
  readonly laneNodes: Record<string, CausalNode[]> = {};
  fail: Failure | null = null;
  /** The time of the last event. */
  last = 0;
  private readonly opById: Record<number, Op> = {};
  private readonly openRole: Record<string, RoleBand> = {};

  constructor(events: readonly TraceEvent[]) {
    for (const e of events) {
      if (e.t > this.last) this.last = e.t;
      this.add(e);
    }
    this.roles.forEach((b) => {
      if (b.t1 === undefined) b.t1 = this.last;
    });
    for (const x of this.msgs) {
      x.tEnd = Math.max(x.t0, x.t1 || 0, x.th || 0, x.t2 || 0, x.td || 0, x.tout || 0);
      if (x.t2 === undefined && x.tout === undefined && x.td === undefined) x.pending = true;
    }
  }

  /** Every key a message or an operation of the run is about. */
  keys(): Record<string, true> {
    const keys: Record<string, true> = {};
    for (const it of [...this.msgs, ...this.ops]) if (it.key !== undefined) keys[it.key] = true;
    return keys;
  }

  private lane(n: string): string {
    if (!(n in this.laneSet)) this.laneSet[n] = true;
    return n;
  }

  private node(n: string, src?: CausalNode): CausalNode {
    const list = this.laneNodes[n] || (this.laneNodes[n] = []);
    const x: CausalNode = { lane: n, pos: list.length, src: src || null };
    list.push(x);
    return x;
  }

  private add(e: TraceEvent): void {
    if (e.k === 'call') this.addCall(e);
    else if (e.k === 'op') {
      const o: Op = { id: e.id, lane: this.lane(e.lane), input: e.input, t0: e.t, key: keyOf(e.input), nStart: this.node(e.lane) };
      this.callers[e.lane] = true;
      this.ops.push(o);
      this.opById[e.id] = o;
    } else if (e.k === 'ret') {
      const o = this.opById[e.id];
      if (o) {
        o.t1 = e.t;
        o.output = e.output;
        o.nRet = this.node(o.lane);
      }
    } else if (e.k === 'role') this.addRole(e);
    else if (e.k === 'net' || e.k === 'log') {
      this.lane(e.lane);
      const n = this.node(e.lane);
      this.marks.push(e.k === 'net' ? { k: 'net', t: e.t, lane: e.lane, what: e.what, n } : { k: 'log', t: e.t, lane: e.lane, text: e.text, n });
    } else if (e.k === 'fail') {
      this.lane('test');
      this.fail = { ...e, n: this.node('test') };
      this.marks.push({ k: 'fail', t: e.t, lane: 'test', text: e.message });
    } else if (this.byId[e.id]) this.addStep(this.byId[e.id], e);
  }

  private addCall(e: Ev<'call'>): void {
    const m: Msg = {
      id: e.id,
      from: this.lane(e.from),
      to: this.lane(e.to),
      end: e.end,
      method: e.method,
      args: e.args,
      t0: e.t,
      nSend: this.node(e.from),
      key: keyOf(e.args),
      tEnd: e.t,
    };
    this.callers[e.from] = true;
    this.servers[e.to] = true;
    this.msgs.push(m);
    this.byId[e.id] = m;
  }

  /** A band from this change to the lane's next one (or the end of the run). */
  private addRole(e: Ev<'role'>): void {
    this.lane(e.lane);
    this.servers[e.lane] = true;
    if (this.openRole[e.lane]) this.openRole[e.lane].t1 = e.t;
    const band: RoleBand = { lane: e.lane, t0: e.t, t1: undefined, role: e.role, term: e.term };
    this.roles.push(band);
    this.openRole[e.lane] = band;
  }

  /** A later step of message `s`: delivered, handled, replied to, timed out or lost. */
  private addStep(s: Msg, e: Ev<'deliver' | 'handled' | 'reply' | 'timeout' | 'drop'>): void {
    if (e.k === 'deliver') {
      s.t1 = e.t;
      s.nDeliver = this.node(s.to, s.nSend);
    } else if (e.k === 'handled') {
      s.th = e.t;
      s.reply = e.reply;
      s.nHandled = this.node(s.to);
    } else if (e.k === 'reply') {
      s.t2 = e.t;
      this.node(s.from, s.nHandled);
    } else if (e.k === 'timeout') {
      s.tout = e.t;
      this.node(s.from);
    } else {
      s.drop = e.which;
      s.why = e.why;
      s.td = e.t;
    }
  }
}

/** The failing key: the first key of the trace that the failure message quotes (a checker's "(key "k")" first). */
function failingKey(text: string, keys: Record<string, true>): string | undefined {
  const named = /\(key ("(?:[^"\\]|\\.)*")\)/.exec(text);
  const quoted = /"(?:[^"\\]|\\.)*"/g;
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

/**
 * The failure's causal past: per lane, the last position that happened before the failure. The test noticed the
 * failure after the operations that returned before it (on the failing key, when there is one). Marks each item's
 * `past`.
 */
class CausalPast {
  readonly key: string | undefined;
  /** Whether there is a past to show: the failure names a key of the trace, and something on it led there. */
  readonly on: boolean;
  /** When the earliest item of the past began. */
  readonly t0: number = Infinity;
  private readonly upTo: Record<string, number> = {};

  constructor(model: TraceModel) {
    const fail = model.fail;
    this.key = fail ? failingKey(fail.message || '', model.keys()) : undefined;
    if (!fail) {
      this.on = false;
      return;
    }
    this.raiseAll(model, fail);
    const onKey = (it: { key: string | undefined }): boolean => this.key === undefined || it.key === this.key;
    model.msgs.forEach((m) => (m.past = this.inPast(m.nSend) && onKey(m)));
    model.ops.forEach((o) => (o.past = this.inPast(o.nStart) && onKey(o)));
    model.marks.forEach((k) => (k.past = k.k === 'fail' || this.inPast(k.n)));
    let items = 0;
    for (const it of [...model.msgs, ...model.ops]) {
      if (it.past) {
        items++;
        if (it.t0 < this.t0) this.t0 = it.t0;
      }
    }
    this.on = this.key !== undefined && items > 0;
  }

  /** Whether node `n` happened before the failure. */
  inPast(n: CausalNode | undefined): boolean {
    return !!n && this.upTo[n.lane] !== undefined && n.pos <= this.upTo[n.lane];
  }

  /** Walks the happened-before order back from the failure (and the operations that returned before it). */
  private raiseAll(model: TraceModel, fail: Failure): void {
    const work: Array<[string, number, number]> = [];
    const raise = (n: CausalNode): void => {
      const had = this.upTo[n.lane] === undefined ? -1 : this.upTo[n.lane];
      if (n.pos > had) {
        this.upTo[n.lane] = n.pos;
        work.push([n.lane, had + 1, n.pos]);
      }
    };
    if (fail.n) raise(fail.n);
    model.ops.forEach((o) => {
      if (o.nRet && o.t1 !== undefined && o.t1 <= fail.t && (this.key === undefined || o.key === this.key)) raise(o.nRet);
    });
    for (let w = work.pop(); w; w = work.pop()) {
      const list = model.laneNodes[w[0]];
      for (let p = w[1]; p <= w[2]; p++) {
        const src = list[p].src;
        if (src) raise(src);
      }
    }
  }
}

/** A time in ms as the page shows it. */
function fmt(t: number): string {
  if (Math.abs(t) < 5e-4) t = 0;
  return t >= 1000 ? (t / 1000).toFixed(3) + ' s' : t.toFixed(3) + ' ms';
}

function natural(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

function plural(n: number, what: string): string {
  return n + ' ' + what + (n === 1 ? '' : 's');
}

/** The page element with this id. */
function byIdOf<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** What the caller got: a put returns nothing (the history stores "" for it); a lab 2 reply is its error, or a get's value and version. */
function got(input: { op?: string }, out: unknown): string {
  if (input.op === 'put' && out === '') return 'returned';
  if (out && typeof out === 'object') {
    const r = out as { err?: unknown; value?: unknown; version?: unknown };
    if (typeof r.err === 'string')
      return r.err === 'OK' && r.value !== undefined ? '(' + JSON.stringify(r.value) + ', v' + String(r.version) + ')' : r.err;
  }
  return JSON.stringify(out);
}

/** An operation as its bar's label reads: `put("k", "v") → returned`. */
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

const LOSS_CAUSE: Record<LossCause, string> = {
  unreliable: 'unreliable network',
  disabled: 'disabled end: a partition or a stopped node',
  killed: 'the server was killed or replaced',
  closed: 'network shut down',
};

/** A message's details, as the details box shows them. */
function describeMsg(it: Msg, real: boolean): string {
  const fate = it.drop
    ? 'the ' + it.drop + ' was LOST at ' + fmt(it.td as number) + ' (' + (it.why ? LOSS_CAUSE[it.why] : '') + ')'
    : it.t2 !== undefined
      ? 'reply delivered at ' + fmt(it.t2)
      : it.t1 === undefined
        ? 'the request was still on its way when the run ended'
        : 'no reply yet when the run ended';
  const payload =
    '\n\narguments: ' + JSON.stringify(it.args, null, 2) + (it.th !== undefined ? '\n\nreply: ' + JSON.stringify(it.reply, null, 2) : '');
  if (real)
    return (
      it.method + ' on ' + it.from + ' → ' + it.to + '\nsent at ' + fmt(it.t0) +
      (it.t2 !== undefined ? ', reply received at ' + fmt(it.t2) : ', no reply when the test failed') + payload
    );
  return (
    'RPC #' + it.id + ' ' + it.method + '\n' + it.from + ' → ' + it.to + ' (end ' + it.end + ')\nsent at ' + fmt(it.t0) +
    (it.t1 !== undefined ? '\nreached the handler at ' + fmt(it.t1) : '') +
    (it.th !== undefined ? '\nhandler answered at ' + fmt(it.th) : '') +
    '\n' + fate +
    (it.tout !== undefined ? '\nthe caller got a TimeoutError at ' + fmt(it.tout) : '') +
    payload
  );
}

/** Anything's details, as the details box (and, cut to four lines, the tooltip) shows them. */
function describe(it: Pickable | null, real: boolean): string {
  if (!it) return '';
  if ('method' in it) return describeMsg(it, real);
  if ('input' in it)
    return (
      'Operation of ' + it.lane + ': ' + opLabel(it) + '\ncalled at ' + fmt(it.t0) +
      (it.t1 !== undefined ? ', returned at ' + fmt(it.t1) : '') +
      '\n\ninput: ' + JSON.stringify(it.input, null, 2) + '\noutput: ' + JSON.stringify(it.output, null, 2)
    );
  if (it.k === 'log') return 'printed by ' + it.lane + ' at ' + fmt(it.t) + ':\n' + (it.text ?? '');
  if (it.k === 'net') return it.lane + ' at ' + fmt(it.t) + ': ' + (it.what ?? '');
  return 'The test failed at ' + fmt(it.t) + ':\n' + ('message' in it ? it.message : (it.text ?? ''));
}

/** Index of the first item of `arr` (sorted by `time`) at or after `t`. */
function firstAtOrAfter<T>(arr: readonly T[], t: number, time: (x: T) => number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (time(arr[mid]) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distance from a point to a segment, px. */
function dist(px: number, py: number, g: Segment): number {
  const dx = g[2] - g[0];
  const dy = g[3] - g[1];
  const l = dx * dx + dy * dy;
  const u = Math.max(0, Math.min(1, l ? ((px - g[0]) * dx + (py - g[1]) * dy) / l : 0));
  return Math.hypot(px - g[0] - u * dx, py - g[1] - u * dy);
}

/** A peer's role as a band along its lane: gold while it leads, orange while a candidate, grey while crashed. */
const ROLE_COLOR: Partial<Record<RoleBand['role'], string>> = {
  leader: '#d4a72c',
  candidate: '#fb8f44',
  crashed: '#8c959f',
  unknown: '#cf222e',
};

/** The canvas and its controls: what is shown (v0..v1), what is selected, and the drawing. */
class TraceView {
  private readonly canvas = byIdOf<HTMLCanvasElement>('lanes');
  private readonly ctx = this.canvas.getContext('2d') as CanvasRenderingContext2D;
  private readonly fKey = byIdOf<HTMLInputElement>('f-key');
  private readonly fClient = byIdOf<HTMLSelectElement>('f-client');
  private readonly fServer = byIdOf<HTMLSelectElement>('f-server');
  private readonly fCausal = byIdOf<HTMLInputElement>('f-causal');
  private readonly lanes: string[];
  private readonly laneY: Record<string, number> = {};
  private readonly shortMsgs: Msg[];
  private readonly longMsgs: Msg[];
  private v0 = 0;
  private v1: number;
  private selected: Pickable | null = null;
  private shown: Shown[] = [];

  private readonly model: TraceModel;
  private readonly causal: CausalPast;
  /** A real-time transcript (times since the test began) rather than a replay in virtual time. */
  private readonly real: boolean;

  constructor(model: TraceModel, causal: CausalPast, real: boolean) {
    this.model = model;
    this.causal = causal;
    this.real = real;
    const { callers, servers } = model;
    const rank = (n: string): number => (n === 'test' ? 0 : callers[n] && !servers[n] ? 1 : servers[n] ? 3 : 2);
    this.lanes = Object.keys(model.laneSet).sort((a, b) => rank(a) - rank(b) || natural(a, b));
    this.lanes.forEach((n, j) => (this.laneY[n] = AXIS + j * LANE_H + LANE_H / 2));
    this.shortMsgs = model.msgs.filter((m) => m.tEnd - m.t0 <= LONG_MS);
    this.longMsgs = model.msgs.filter((m) => m.tEnd - m.t0 > LONG_MS);
    this.v1 = Math.max(1, model.last);
    Object.keys(callers).sort(natural).forEach((n) => this.fClient.add(new Option(n, n)));
    Object.keys(servers).sort(natural).forEach((n) => this.fServer.add(new Option(n, n)));
  }

  /** Whether an item is dimmed: outside the failure's causal past, with that filter on. */
  dim(it: { past?: boolean }): boolean {
    return this.causal.on && this.fCausal.checked && !it.past;
  }

  /** Shows the span t0..t1. */
  show(t0: number, t1: number): void {
    this.v0 = t0;
    this.v1 = t1;
    this.draw();
  }

  /** The view's span and the failing key. */
  view(): { from: number; to: number; key: string | null } {
    return { from: this.v0, to: this.v1, key: this.causal.key === undefined ? null : this.causal.key };
  }

  /** Where message `m`'s first drawn segment is (viewport coordinates), to click it. */
  pointOf(m: Msg | undefined): { x: number; y: number } | null {
    const s = this.shown.find((x) => x.item === m && 'segs' in x && x.segs.length > 0);
    if (!s || !('segs' in s)) return null;
    const g = s.segs[0];
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + (g[0] + g[2]) / 2, y: r.top + (g[1] + g[3]) / 2 };
  }

  /** Canvas size to its box, then draws. */
  resize(): void {
    const w = (this.canvas.parentNode as HTMLElement).clientWidth;
    const h = AXIS + this.lanes.length * LANE_H + 18;
    this.canvas.width = w * devicePixelRatio;
    this.canvas.height = h * devicePixelRatio;
    this.canvas.style.width = w + 'px';
    this.canvas.style.height = h + 'px';
    this.draw();
  }

  /** Zooms by `f` around time `at` (the middle by default). */
  zoom(f: number, at?: number): void {
    const { v0, v1 } = this;
    const c = at === undefined ? (v0 + v1) / 2 : at;
    const span = Math.max(1e-4, (v1 - v0) * f);
    this.v0 = c - span * ((c - v0) / (v1 - v0));
    this.v1 = this.v0 + span;
    this.draw();
  }

  /** The whole run. */
  fit(): void {
    this.show(0, Math.max(1, this.model.last));
  }

  /** Selects an item and shows its details. */
  select(it: Pickable | null): void {
    this.selected = it;
    byIdOf('details').textContent = describe(it, this.real) || 'Click an arrow, an operation bar, a dot or the red line for details.';
    this.draw();
  }

  /** Opens on the failure: its causal past on its key, or the last 40 messages before it. */
  toFailure(): void {
    const fail = this.model.fail;
    if (!fail) return this.fit();
    if (this.causal.on) {
      const width = Math.max(0.5, fail.t - this.causal.t0);
      this.v0 = this.causal.t0 - width * 0.03;
      this.v1 = fail.t + width * 0.05;
    } else {
      const before = this.model.msgs.filter((m) => m.t0 <= fail.t);
      const from = before.length > 40 ? before[before.length - 40].t0 : 0;
      const span = Math.max(0.5, fail.t - from);
      this.v0 = Math.max(-span * 0.02, fail.t - span * 1.05);
      this.v1 = fail.t + span * 0.15;
    }
    this.select(fail);
  }

  /** Wires the mouse: wheel zooms, drag moves in time, click selects, hover shows a tooltip. */
  listen(): void {
    const canvas = this.canvas;
    canvas.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.zoom(e.deltaY > 0 ? 1.25 : 0.8, this.T(e.clientX - canvas.getBoundingClientRect().left));
      },
      { passive: false },
    );
    let dragging: { x: number; v0: number; v1: number; moved: boolean } | null = null;
    canvas.addEventListener('mousedown', (e) => (dragging = { x: e.clientX, v0: this.v0, v1: this.v1, moved: false }));
    window.addEventListener('mouseup', (e) => {
      if (dragging && !dragging.moved) {
        const r = canvas.getBoundingClientRect();
        this.select(this.pick(e.clientX - r.left, e.clientY - r.top));
      }
      dragging = null;
    });
    window.addEventListener('mousemove', (e) => {
      if (!dragging) return this.hover(e);
      const dx = e.clientX - dragging.x;
      if (Math.abs(dx) > 3) dragging.moved = true;
      const dt = (dx / this.W()) * (dragging.v1 - dragging.v0);
      this.show(dragging.v0 - dt, dragging.v1 - dt);
    });
    for (const el of [this.fKey, this.fClient, this.fServer, this.fCausal]) {
      el.addEventListener('input', () => this.draw());
      el.addEventListener('change', () => this.draw());
    }
    window.addEventListener('resize', () => this.resize());
  }

  private hover(e: MouseEvent): void {
    const tip = byIdOf('tip');
    const r = this.canvas.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    const it = px < 0 || py < 0 || px > r.width || py > r.height ? null : this.pick(px, py);
    if (!it) {
      tip.style.display = 'none';
      return;
    }
    tip.textContent = describe(it, this.real).split('\n').slice(0, 4).join('\n');
    tip.style.display = 'block';
    tip.style.left = e.pageX + 12 + 'px';
    tip.style.top = e.pageY + 12 + 'px';
  }

  private passes(m: Msg | Op): boolean {
    const key = this.fKey.value.trim();
    if (key && m.key !== key) return false;
    const who = 'from' in m ? m.from : m.lane;
    if (this.fClient.value && who !== this.fClient.value) return false;
    const to = 'to' in m ? m.to : undefined;
    if (this.fServer.value && to !== this.fServer.value) return false;
    return true;
  }

  private W(): number {
    return this.canvas.width / devicePixelRatio - GUTTER;
  }

  private X(t: number): number {
    return GUTTER + ((t - this.v0) / (this.v1 - this.v0)) * this.W();
  }

  private T(x: number): number {
    return this.v0 + ((x - GUTTER) / this.W()) * (this.v1 - this.v0);
  }

  private seg(x1: number, y1: number, x2: number, y2: number, color: string, width?: number, dashed?: boolean): void {
    const ctx = this.ctx;
    ctx.strokeStyle = color;
    ctx.lineWidth = width || 1;
    ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  }

  private cross(x: number, y: number, color: string): void {
    this.seg(x - 4, y - 4, x + 4, y + 4, color, 2);
    this.seg(x - 4, y + 4, x + 4, y - 4, color, 2);
  }

  private head(x1: number, y1: number, x2: number, y2: number, color: string): void {
    const ctx = this.ctx;
    const a = Math.atan2(y2 - y1, x2 - x1);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 7 * Math.cos(a - 0.4), y2 - 7 * Math.sin(a - 0.4));
    ctx.lineTo(x2 - 7 * Math.cos(a + 0.4), y2 - 7 * Math.sin(a + 0.4));
    ctx.fill();
  }

  /** The segments drawn for a message. */
  private segments(m: Msg): Segment[] {
    const X = (t: number): number => this.X(t);
    const out: Segment[] = [];
    const yf = this.laneY[m.from];
    const yt = this.laneY[m.to];
    const mid = (yf + yt) / 2;
    const last = this.model.last;
    if (m.drop === 'request') {
      const x0 = X(m.t0);
      out.push([x0, yf, Math.max(X(m.td as number), x0 + 10), mid, '#cf222e', true]);
    } else if (m.t1 !== undefined) {
      out.push([X(m.t0), yf, X(m.t1), yt, '#0969da', false]);
      if (m.drop === 'reply') {
        const xs = X((m.th !== undefined ? m.th : m.td) as number);
        out.push([xs, yt, Math.max(X(m.td as number), xs + 10), mid, '#cf222e', true]);
      } else if (m.th !== undefined && m.t2 !== undefined) out.push([X(m.th), yt, X(m.t2), yf, '#1a7f37', false]);
      else if (m.th !== undefined && m.tout === undefined) out.push([X(m.th), yt, X(last), (yt + mid) / 2, '#9a6700', false, true]);
    } else if (m.tout === undefined) {
      out.push([X(m.t0), yf, Math.max(X(last), X(m.t0) + 10), mid, '#9a6700', false, true]);
    }
    return out;
  }

  private pick(px: number, py: number): Pickable | null {
    let best: Pickable | null = null;
    let bd = 7;
    for (const s of this.shown) {
      let d = Infinity;
      if ('segs' in s) s.segs.forEach((g) => (d = Math.min(d, dist(px, py, g))));
      else if (px >= s.box[0] - 2 && px <= s.box[2] + 2 && py >= s.box[1] - 2 && py <= s.box[3] + 2)
        d = 'k' in s.item && s.item.k === 'fail' ? 6 : 1;
      if (d < bd) {
        bd = d;
        best = s.item;
      }
    }
    return best;
  }

  /** Draws everything in the span v0..v1. */
  draw(): void {
    const ctx = this.ctx;
    const w = this.canvas.width / devicePixelRatio;
    const h = this.canvas.height / devicePixelRatio;
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    this.drawAxis(w);
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, w - GUTTER, h);
    ctx.clip();
    this.drawRoles();
    this.shown = [];
    this.drawMessages();
    this.drawOps();
    this.drawMarks();
    const fail = this.model.fail;
    if (fail) {
      const xf = this.X(fail.t);
      this.seg(xf, 0, xf, h, '#cf222e', 2);
      ctx.fillStyle = '#cf222e';
      ctx.fillText('test failed', xf + 4, h - 8);
      this.shown.push({ item: fail, box: [xf - 3, 0, xf + 3, h] });
    }
    ctx.restore();
    const { v0, v1 } = this;
    const perPx = (v1 - v0) / this.W();
    const detail = perPx < 1 ? fmt(perPx) + ' per pixel' : 'zoom in for detail';
    byIdOf('view').textContent = fmt(v0) + ' – ' + fmt(v1) + ' (' + fmt(v1 - v0) + ' shown; ' + detail + ')';
  }

  private drawAxis(w: number): void {
    const { ctx, v0, v1 } = this;
    for (const n of this.lanes) {
      const y = this.laneY[n];
      this.seg(GUTTER, y, w, y, '#d1d9e0');
      ctx.fillStyle = n === this.fClient.value || n === this.fServer.value ? '#0969da' : '#1f2328';
      ctx.fillText(n.length > 18 ? n.slice(0, 17) + '…' : n, 6, y);
    }
    let step = Math.pow(10, Math.floor(Math.log10((v1 - v0) / 8 || 1)));
    if ((v1 - v0) / step > 16) step *= 5;
    ctx.fillStyle = '#59636e';
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const x = this.X(t);
      this.seg(x, AXIS - 6, x, AXIS, '#59636e');
      ctx.fillText(fmt(t), x + 2, 8);
    }
  }

  private drawRoles(): void {
    const ctx = this.ctx;
    for (const b of this.model.roles) {
      const t1 = b.t1 as number;
      if (t1 < this.v0 || b.t0 > this.v1) continue;
      const x0 = Math.max(GUTTER, this.X(b.t0));
      const x1 = Math.min(this.X(t1), this.canvas.width / devicePixelRatio);
      const y = this.laneY[b.lane];
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
    }
  }

  private drawMessages(): void {
    const { ctx, v0, v1 } = this;
    const visible: Msg[] = [];
    const lo = v0 - LONG_MS;
    for (let i = firstAtOrAfter(this.shortMsgs, lo, (m) => m.t0); i < this.shortMsgs.length && this.shortMsgs[i].t0 <= v1; i++)
      visible.push(this.shortMsgs[i]);
    for (const m of visible.concat(this.longMsgs)) {
      if (m.tEnd < v0 || m.t0 > v1 || !this.passes(m)) continue;
      const s = this.segments(m);
      ctx.globalAlpha = this.dim(m) ? 0.15 : 1;
      for (const g of s) {
        const color = m === this.selected ? '#bf8700' : g[4];
        this.seg(g[0], g[1], g[2], g[3], color, m === this.selected ? 3 : 1, g[6]);
        if (g[5]) this.cross(g[2], g[3], color);
        else if (Math.abs(g[2] - g[0]) + Math.abs(g[3] - g[1]) > 12) this.head(g[0], g[1], g[2], g[3], color);
      }
      if (m.tout !== undefined) {
        const xt = this.X(m.tout);
        const yf = this.laneY[m.from];
        this.seg(xt, yf - 6, xt, yf + 6, '#cf222e', 2);
      }
      this.shown.push({ item: m, segs: s });
    }
    ctx.globalAlpha = 1;
  }

  private drawOps(): void {
    const ctx = this.ctx;
    for (const o of this.model.ops) {
      const end = o.t1 === undefined ? this.model.last : o.t1;
      if (end < this.v0 || o.t0 > this.v1 || !this.passes(o)) continue;
      const y = this.laneY[o.lane] - 11;
      const x1 = this.X(o.t0);
      const x2 = Math.max(this.X(end), x1 + 3);
      ctx.globalAlpha = this.dim(o) ? 0.2 : 1;
      ctx.fillStyle =
        o === this.selected ? 'rgba(191,135,0,.45)' : o.t1 === undefined ? 'rgba(207,34,46,.25)' : 'rgba(130,80,223,.25)';
      ctx.fillRect(x1, y, x2 - x1, 7);
      if (x2 - x1 > 60) {
        ctx.fillStyle = '#3b2a6b';
        ctx.fillText(opLabel(o).slice(0, Math.floor((x2 - x1) / 6)), x1 + 2, y - 5);
      }
      this.shown.push({ item: o, box: [x1, y, x2, y + 7] });
    }
    ctx.globalAlpha = 1;
  }

  private drawMarks(): void {
    const ctx = this.ctx;
    const marks = this.model.marks;
    const lastLabel: Record<string, number> = {};
    for (let mi = firstAtOrAfter(marks, this.v0, (k) => k.t); mi < marks.length && marks[mi].t <= this.v1; mi++) {
      const k = marks[mi];
      if (k.k === 'fail') continue;
      const x = this.X(k.t);
      const y = this.laneY[k.lane];
      ctx.globalAlpha = this.dim(k) ? 0.2 : 1;
      ctx.fillStyle = k.k === 'log' ? '#8250df' : '#9a6700';
      ctx.beginPath();
      ctx.arc(x, y + 9, k === this.selected ? 5 : 3, 0, 7);
      ctx.fill();
      const text = (k.k === 'log' ? k.text : k.what) ?? '';
      if (!(k.lane in lastLabel) || x - lastLabel[k.lane] > 160) {
        ctx.fillText(text.slice(0, 26), x + 5, y + 10);
        lastLabel[k.lane] = x;
      }
      this.shown.push({ item: k, box: [x - 4, y + 5, x + 4, y + 13] });
    }
    ctx.globalAlpha = 1;
  }
}

/** The sentence above the canvas about the failure's causal past. */
function causalText(model: TraceModel, causal: CausalPast): string {
  if (!model.fail) return '';
  if (!causal.on) return 'The failure message names no key of this trace, so the whole run is shown alike.';
  const n = model.msgs.filter((m) => m.past).length;
  const o = model.ops.filter((x) => x.past).length;
  return (
    'Causal past of the failure on key ' + JSON.stringify(causal.key) + ': ' + plural(o, 'operation') + ' and ' +
    plural(n, 'message') +
    ' on that key happened before it (same lane earlier, or a message sent before it arrived), from ' +
    fmt(causal.t0) + ' on. The rest is dimmed.'
  );
}

/** Reads the recording from #trace-data, draws it, wires the controls, and opens on the failure. */
function main(): void {
  const started = performance.now();
  const data = JSON.parse(byIdOf('trace-data').textContent ?? '{}') as TraceData;
  const model = new TraceModel(data.events);
  const causal = new CausalPast(model);
  const view = new TraceView(model, causal, data.clock === 'real');
  byIdOf('zoom-in').onclick = () => view.zoom(0.5);
  byIdOf('zoom-out').onclick = () => view.zoom(2);
  byIdOf('fit').onclick = () => view.fit();
  byIdOf('to-failure').onclick = () => view.toFailure();
  byIdOf('causal').textContent = causalText(model, causal);
  if (!causal.on) byIdOf('f-causal-label').style.display = 'none';
  view.listen();
  const printed = model.marks.filter((k) => k.k === 'log').length;
  byIdOf('counts').textContent =
    model.msgs.length + ' RPCs, ' + model.ops.length + ' operations, ' + plural(printed, 'printed line') + ', ' +
    Object.keys(model.laneSet).length + ' lanes';
  view.resize();
  view.toFailure();
  // For tools and the kit's browser test: where an RPC's first drawn segment is, the view, and what is dimmed.
  const hooks: TraceHooks = {
    rpcPoint: (id) => view.pointOf(model.byId[id]),
    show: (t0, t1) => view.show(t0, t1),
    view: () => view.view(),
    dimmed: (id) => (model.byId[id] ? view.dim(model.byId[id]) : null),
  };
  (window as Window & { kvlabsTrace?: TraceHooks }).kvlabsTrace = hooks;
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
  byIdOf('lanes').scrollIntoView({ block: 'center' });
}

main();
