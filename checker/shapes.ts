/** Names the common shapes of a history that is not linearizable: a write applied twice, a read of a value no write produced, a stale read, a lost acknowledged write. */
import type { CheckMode, Operation } from './types';

/** What one operation wrote, as `ShapeView.write` reports it. */
export interface ShapeWrite {
  /** The key written (one object per key). */
  key: string;
  /** `set` replaces the value with `piece`; `append` adds `piece` at its end. */
  kind: 'set' | 'append';
  piece: string;
  /** The version the write creates, for models whose values carry one (lab 2). */
  version?: number;
  /** True when the reply says the write took effect (an ok, not "maybe"); a pending write is never acknowledged. */
  acknowledged: boolean;
}

/** What one operation saw of its key (before its own write), as `ShapeView.seen` reports it. */
export interface ShapeSeen {
  key: string;
  value: string;
  /** The version seen, for models whose values carry one; 0 = the key did not exist. */
  version?: number;
}

/** How a model's operations read and write, so that `findShapes` can reason about values. */
export interface ShapeView<I, O> {
  /** What the operation writes, or undefined when it writes nothing (a read, a refused write). */
  write(input: I, output: O | undefined): ShapeWrite | undefined;
  /** What the operation's reply shows of the value, or undefined when it shows nothing. */
  seen(input: I, output: O | undefined): ShapeSeen | undefined;
}

/** The kinds of shape, most telling first. */
export type ShapeKind = 'applied twice' | 'value no write produced' | 'lost acknowledged write' | 'stale read';

/** One shape found: its kind, its name in a sentence, and the lines that explain it (already indented). */
export interface Shape {
  kind: ShapeKind;
  title: string;
  lines: string[];
}

/** How `findShapes` names operations and times. */
export interface ShapeText<I, O> {
  describe(op: Operation<I, O>): string;
  at(t: number): string;
}

/** How the explanation names each shape. */
const TITLES: Record<ShapeKind, string> = {
  'applied twice': 'a write applied twice',
  'value no write produced': 'a read of a value no write produced',
  'lost acknowledged write': 'a lost acknowledged write',
  'stale read': 'a stale read',
};

/** The likely causes of each shape, for a student. */
const CAUSES: Record<ShapeKind, string> = {
  'applied twice':
    'a request executed a second time: its reply was lost, the clerk sent it again, and the server did not ' +
    'recognise the retry (it must remember what it answered each clerk); or a write forwarded to another server ' +
    'and applied there as well as where it arrived.',
  'value no write produced':
    'the server built the value wrongly (an append added in the wrong place, or another key’s value), or the ' +
    'clerk took a reply meant for another request (a late reply of an earlier attempt), or two clerks that drew the ' +
    "same id (from the clock, or a small range), so that one's request passes for the other's re-send.",
  'lost acknowledged write':
    'the write was acknowledged before it was safe: a copy that had it was replaced or restarted without it, or ' +
    'the reply was sent for a request that was then dropped, or the read was answered by a server that never got it.',
  'stale read':
    'the read was answered by a copy that had not yet applied the write (a backup, a lagging replica, a cache), ' +
    'or by a server that answered before applying the writes it had already acknowledged.',
};

/** Steps of segmentation search allowed over one explanation, so that a long history never slows a report. */
const SEARCH_BUDGET = 200_000;

/** A shape as the searches find it, before its title and causes are added. */
type Found = Omit<Shape, 'title'> & { read?: number };

/** Reads and writes of one key, with the indices of their operations. */
interface KeyOps<I, O> {
  writes: { i: number; op: Operation<I, O>; w: ShapeWrite }[];
  reads: { i: number; op: Operation<I, O>; s: ShapeSeen }[];
}

/** Counts the times `piece` occurs in `value`, without overlaps. */
function occurrences(value: string, piece: string): number {
  if (piece === '') return 0;
  let n = 0;
  for (let at = value.indexOf(piece); at >= 0; at = value.indexOf(piece, at + piece.length)) n++;
  return n;
}

/** A shortened, quoted string for messages. */
function quote(s: string, max = 60): string {
  const q = JSON.stringify(s);
  return q.length <= max ? q : `${q.slice(0, max / 2 - 1)}…${q.slice(q.length - max / 2 + 1)}`;
}

/** "1 append" / "2 appends". */
function times(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/**
 * Splits `value` into one optional starting set piece and then append pieces. Returns the append pieces used
 * (with repeats when `limit` allows them), or null when no split exists; `undefined` when the budget ran out.
 * With `limit`, each piece may be used at most as many times as it was written.
 */
class Splitter {
  private readonly sets: readonly string[];
  private budget: { left: number };
  private readonly byLength = new Map<number, Map<string, number>>();
  constructor(appends: readonly string[], sets: readonly string[], budget: { left: number }) {
    this.sets = sets;
    this.budget = budget;
    for (const p of appends) {
      if (p === '') continue;
      const m = this.byLength.get(p.length) ?? new Map<string, number>();
      m.set(p, (m.get(p) ?? 0) + 1);
      this.byLength.set(p.length, m);
    }
  }

  /** The pieces available at `pos` of `value`. */
  private candidates(value: string, pos: number): string[] {
    const out: string[] = [];
    for (const [len, m] of this.byLength) {
      if (pos + len > value.length) continue;
      const s = value.slice(pos, pos + len);
      if (m.has(s)) out.push(s);
    }
    return out;
  }

  /** One split of `value` with unlimited reuse of append pieces (null when none; undefined out of budget). */
  anySplit(value: string): string[] | null | undefined {
    const starts = [0, ...this.sets.filter((s) => s !== '' && value.startsWith(s)).map((s) => s.length)];
    // prev[pos] = the piece ending at pos on some split, found by a forward sweep.
    const prev = new Map<number, string>();
    const reached = new Set<number>(starts);
    for (let pos = 0; pos <= value.length; pos++) {
      if (!reached.has(pos)) continue;
      if (pos === value.length) break;
      for (const p of this.candidates(value, pos)) {
        if (--this.budget.left < 0) return undefined;
        if (!reached.has(pos + p.length)) {
          reached.add(pos + p.length);
          prev.set(pos + p.length, p);
        }
      }
    }
    if (!reached.has(value.length)) return null;
    const pieces: string[] = [];
    let pos = value.length;
    for (let p = prev.get(pos); p !== undefined; p = prev.get(pos)) {
      pieces.push(p);
      pos -= p.length;
    }
    return pieces.reverse();
  }

  /** Whether a split exists using each append piece at most as often as it was written (undefined: out of budget). */
  limitedSplit(value: string): boolean | undefined {
    const left = new Map<string, number>();
    for (const m of this.byLength.values()) for (const [p, n] of m) left.set(p, n);
    const starts = [0, ...this.sets.filter((s) => s !== '' && value.startsWith(s)).map((s) => s.length)];
    const failed = new Set<number>();
    let out = false;
    const dfs = (pos: number): boolean | undefined => {
      if (pos === value.length) return true;
      for (const p of this.candidates(value, pos)) {
        if (--this.budget.left < 0) return undefined;
        const n = left.get(p) ?? 0;
        if (n === 0) continue;
        left.set(p, n - 1);
        const r = dfs(pos + p.length);
        left.set(p, n);
        if (r !== false) return r;
      }
      return false;
    };
    for (const s of starts) {
      if (failed.has(s)) continue;
      const r = dfs(s);
      if (r === undefined) return undefined;
      if (r) {
        out = true;
        break;
      }
      failed.add(s);
    }
    return out;
  }
}

/** Looks for a read whose value repeats a piece written once, or that no combination of writes produces. */
function valueShapes<I, O>(k: KeyOps<I, O>, order: number[], text: ShapeText<I, O>, budget: { left: number }): Found[] {
  const out: Found[] = [];
  const byIndex = new Map(k.reads.map((r) => [r.i, r]));
  for (const i of order) {
    const r = byIndex.get(i);
    if (r === undefined || r.s.value === '' || budget.left <= 0) continue;
    // Writes that could have taken effect before the read returned.
    const before = k.writes.filter((w) => w.op.call < r.op.return);
    const appends = before.filter((w) => w.w.kind === 'append').map((w) => w.w.piece);
    const sets = before.filter((w) => w.w.kind === 'set').map((w) => w.w.piece);
    const seen = `${text.describe(r.op)} (called ${text.at(r.op.call)}, returned ${text.at(r.op.return)})`;
    if (appends.length === 0) {
      if (sets.includes(r.s.value)) continue;
      const later = k.writes.find((w) => w.w.piece === r.s.value);
      out.push({
        read: r.i,
        kind: 'value no write produced',
        lines: [
          `  ${seen} saw ${quote(r.s.value)}, which no write ${later ? 'called before it returned' : 'on this key'} produced${later ? ` (only ${text.describe(later.op)}, called ${text.at(later.op.call)}, writes it)` : ''}.`,
        ],
      });
      break;
    }
    const splitter = new Splitter(appends, sets, budget);
    const any = splitter.anySplit(r.s.value);
    if (any === undefined) break;
    if (any === null) {
      out.push({
        read: r.i,
        kind: 'value no write produced',
        lines: [
          `  ${seen} saw ${quote(r.s.value)}, which no sequence of the ${times(before.length, 'write')} on this key called before it returned can produce.`,
        ],
      });
      break;
    }
    const limited = splitter.limitedSplit(r.s.value);
    if (limited !== false) {
      if (limited === undefined) break;
      continue;
    }
    // Some piece must be used more often than it was written: name the first one the split overuses.
    const used = new Map<string, number>();
    for (const p of any) used.set(p, (used.get(p) ?? 0) + 1);
    const over = [...used].find(([p, n]) => n > appends.filter((a) => a === p).length);
    if (over === undefined) continue;
    const [piece] = over;
    const writers = before.filter((w) => w.w.kind === 'append' && w.w.piece === piece);
    const n = occurrences(r.s.value, piece);
    out.push({
      read: r.i,
      kind: 'applied twice',
      lines: [
        `  ${seen} saw a value holding ${quote(piece)} ${n === 1 ? 'once' : `${n} times`}, but ${writers.length === 1 ? 'only one append wrote it' : `only ${times(writers.length, 'append')} wrote it`}: ${writers.map((w) => `${text.describe(w.op)}, called ${text.at(w.op.call)}`).join('; ')}.`,
      ],
    });
    break;
  }
  return out;
}

/** True when the value `r` saw could start with `piece`, a set's value (with appends after it, when the key has any). */
function startsWith<I, O>(k: KeyOps<I, O>, r: KeyOps<I, O>['reads'][number], piece: string): boolean {
  return k.writes.some((x) => x.w.kind === 'append') ? r.s.value.startsWith(piece) : r.s.value === piece;
}

/** True when read `r` shows the effect of write `w` (or of a set that certainly came after it). */
function reflects<I, O>(k: KeyOps<I, O>, r: KeyOps<I, O>['reads'][number], w: KeyOps<I, O>['writes'][number]): boolean {
  if (w.w.version !== undefined && r.s.version !== undefined) return r.s.version >= w.w.version;
  if (w.w.kind === 'append') return r.s.value.includes(w.w.piece);
  if (startsWith(k, r, w.w.piece)) return true;
  return k.writes.some((x) => x.w.kind === 'set' && x.op.call > w.op.return && startsWith(k, r, x.w.piece));
}

/** True when some set could replace `w`'s effect between `w` and read `r` (so missing `w` may be legal). */
function replaceable<I, O>(
  k: KeyOps<I, O>,
  r: KeyOps<I, O>['reads'][number],
  w: KeyOps<I, O>['writes'][number],
): boolean {
  if (w.w.version !== undefined && r.s.version !== undefined) return false;
  // A set that may take effect after w and before r: it overlaps w or starts after it, and starts before r returns.
  const after = (x: KeyOps<I, O>['writes'][number]): boolean =>
    x !== w && x.w.kind === 'set' && x.op.return > w.op.call && x.op.call < r.op.return;
  if (w.w.kind === 'append') return k.writes.some(after);
  return k.writes.some((x) => after(x) && startsWith(k, r, x.w.piece));
}

/** Looks for a read that missed a write acknowledged before the read began; a write no later read ever shows is lost. */
function orderShapes<I, O>(
  k: KeyOps<I, O>,
  order: number[],
  text: ShapeText<I, O>,
  budget: { left: number },
  skip: ReadonlySet<number>,
): Found[] {
  const byIndex = new Map(k.reads.map((r) => [r.i, r]));
  const acked = k.writes.filter((w) => w.w.acknowledged && w.op.return !== Infinity);
  for (const i of order) {
    const r = byIndex.get(i);
    if (r === undefined || skip.has(i)) continue;
    for (const w of acked) {
      if (--budget.left < 0) return [];
      if (w.op.return >= r.op.call || w.i === r.i || reflects(k, r, w) || replaceable(k, r, w)) continue;
      const seen = `${text.describe(r.op)} (called ${text.at(r.op.call)})`;
      const write = `${text.describe(w.op)} (acknowledged ${text.at(w.op.return)})`;
      const after = k.reads.filter((x) => x.op.call > w.op.return);
      const later = after.find((x) => reflects(k, x, w));
      if (later === undefined) {
        const last = after.reduce((a, b) => (b.op.call > a.op.call ? b : a));
        const which =
          after.length === 1
            ? `the only operation that read the key after that, ${seen}, does not show it`
            : `none of the ${after.length} operations that read the key after that shows it, from ${seen} to the last, ${text.describe(last.op)} (called ${text.at(last.op.call)})`;
        return [{ kind: 'lost acknowledged write', lines: [`  ${write} was lost: ${which}.`] }];
      }
      return [
        {
          kind: 'stale read',
          lines: [
            `  ${seen} missed ${write}: the write had finished before the read began, so the read must see it. ` +
              `${later.op.call > r.op.call ? 'A later read' : 'Another read that began after the write'} does see it: ` +
              `${text.describe(later.op)} (called ${text.at(later.op.call)}).`,
          ],
        },
      ];
    }
  }
  return [];
}

/**
 * Looks for the common shapes among `ops` (indices into `history`; the operations of a failing partition), the
 * operations in `first` examined first (those the checker could not place). Returns at most one shape of each
 * family (what a value holds; what a read missed), with explanation lines and likely causes. Stale and lost writes
 * are real-time shapes, so they are not looked for in sequential mode.
 */
export function findShapes<I, O>(
  view: ShapeView<I, O>,
  history: readonly Operation<I, O>[],
  ops: readonly number[],
  first: readonly number[],
  mode: CheckMode,
  text: ShapeText<I, O>,
): Shape[] {
  const keys = new Map<string, KeyOps<I, O>>();
  const of = (key: string): KeyOps<I, O> => {
    const k = keys.get(key) ?? { writes: [], reads: [] };
    keys.set(key, k);
    return k;
  };
  for (const i of ops) {
    const op = history[i];
    const known = op.return !== Infinity && op.output !== undefined;
    const w = view.write(op.input, op.output);
    if (w !== undefined) of(w.key).writes.push({ i, op, w: { ...w, acknowledged: w.acknowledged && known } });
    const s = known ? view.seen(op.input, op.output) : undefined;
    if (s !== undefined) of(s.key).reads.push({ i, op, s });
  }
  const firstSet = new Set(first);
  const order = [...first, ...ops.filter((i) => !firstSet.has(i))];
  const budget = { left: SEARCH_BUDGET };
  const found: Found[] = [];
  for (const k of keys.values()) {
    const value = valueShapes(k, order, text, budget);
    if (value.length > 0) {
      found.push(...value);
      break;
    }
  }
  if (mode === 'linearizable') {
    for (const k of keys.values()) {
      const skip = new Set(found.flatMap((f) => (f.read === undefined ? [] : [f.read])));
      const missed = orderShapes(k, order, text, budget, skip);
      if (missed.length > 0) {
        found.push(...missed);
        break;
      }
    }
  }
  return found.map((s) => ({
    kind: s.kind,
    title: TITLES[s.kind],
    lines: [...s.lines, `  Likely causes: ${CAUSES[s.kind]}`],
  }));
}
