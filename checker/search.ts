/**
 * The core search for a legal total order of operations (Wing & Gong's backtracking with Lowe's cache of
 * explored configurations, as in porcupine), written here for one group of operations at a time.
 *
 * Each operation contributes a call entry and a return entry, kept in one doubly-linked list sorted by time.
 * Operations belong to "lanes", and only operations of the same lane constrain each other: an operation may
 * be placed next only if no return entry of its lane comes before its call entry (otherwise an unplaced
 * operation of that lane finished before it started and must come first). Placing an operation unlinks both
 * its entries (undone in reverse order on backtrack, so the links restore exactly). Candidates are tried in
 * time order, which finds the usual answer quickly.
 *
 * - Linearizability: one lane holding every operation (real-time order constrains everything); the scan
 *   stops at the first return entry.
 * - Sequential consistency: one lane per client (only each client's own order constrains); the scan stops
 *   once every lane with operations left has met a return entry.
 *
 * Pending operations (return = Infinity) may or may not have taken effect. Leaving one out is the same as
 * placing it after everything else, where nobody can observe it, so the search treats them as optional: it
 * succeeds once every completed operation is placed, and it never places a pending operation where it would
 * not change the state (such a placement can always be dropped). Their outputs are ignored.
 *
 * Read-only operations (Model.readOnly) are placed as soon as they are legal, without alternatives, and a
 * failure below one fails the configuration that placed it (see findNoOp).
 *
 * Entry numbering: operation i has call entry 2i and return entry 2i+1; the list head is 2n.
 */
import { StateCache } from './cache';
import type { Model, Operation, Verdict } from './types';

/** One search problem: operations (local ids 0..n-1) and how they split into lanes. */
export interface SearchProblem<S extends {} | null, I, O> {
  model: Model<S, I, O>;
  ops: readonly Operation<I, O>[];
  /** Lane of each operation, or null for a single lane. */
  lane: Int32Array | null;
  laneCount: number;
}

/** What the search found, in local operation ids. */
export interface SearchOutcome {
  verdict: Verdict;
  /**
   * When `ok`, a legal order of every completed operation and of the pending ones that took effect (the
   * others never did); otherwise the longest legal prefix found.
   */
  order: number[];
  /** When not `ok`: in each lane, the earliest-returning operation left unplaced after `order`. */
  unplaced: number[];
  /** How many configurations the cache held at the end. */
  explored: number;
}

/** Deterministic pseudo-random 32-bit values, one per operation, to hash sets of operations by XOR. */
function zobristTable(n: number): Int32Array {
  const t = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t[i] = Math.imul(x, 0x9e3779b1) ^ (i * 0x632be5ab);
  }
  return t;
}

/** Builds the time-sorted linked list of entries (head 2n); returns [next, prev]. */
function buildList<I, O>(ops: readonly Operation<I, O>[]): [Int32Array, Int32Array] {
  const n = ops.length;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  const entries = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) entries[i] = i;
  const time = (e: number): number => ((e & 1) === 0 ? ops[e >>> 1].call : ops[e >>> 1].return);
  // Calls sort before returns at equal times: operations that merely touch are concurrent (the lenient side).
  entries.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);
  let last = 2 * n;
  for (const e of entries) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  return [next, prev];
}

/**
 * A search that runs in slices, so that several partitions can take turns (the first illegal one ends the
 * check early, as a hard partition might otherwise use up the whole budget) and the clock is read rarely.
 */
export class Search<S extends {} | null, I, O> {
  /** The result once the search has finished, else undefined. */
  outcome: SearchOutcome | undefined;
  private readonly model: Model<S, I, O>;
  private readonly n: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly inputs: I[];
  private readonly outputs: Array<O | undefined>;
  private readonly pending: Uint8Array;
  private readonly readOnly: Uint8Array; // completed operations that never change the state (Model.readOnly)
  private readonly required: number;
  private readonly equal: (a: S, b: S) => boolean;
  private readonly single: boolean; // one lane only (linearizability): scans stop at the first return
  private readonly lane: Int32Array; // lane of each operation
  private readonly laneLeft: Int32Array; // operations not yet placed, per lane
  private readonly blockedMark: Int32Array; // lane is blocked in the current scan when equal to `scan`
  private readonly bits: Uint32Array;
  private readonly zobrist: Int32Array;
  private readonly cache: StateCache<S>;
  private readonly stackEntry: Int32Array;
  private readonly stackState: S[];
  private readonly stackLow: Int32Array;
  private readonly stackMax: Int32Array;
  private readonly stackForced: Uint8Array; // 1 when the frame placed a safe no-op (see findNoOp)
  private activeLanes: number; // lanes with operations left
  private scan = 1; // number of the current scan of the list (marks in blockedMark)
  private blocked = 0; // lanes blocked in the current scan
  private fresh = true; // the current configuration was just entered (look for a safe no-op first)
  private dead = false; // the current configuration is known to fail
  private noOpState: S | undefined; // the state after the no-op findNoOp found
  private bitsHash = 0;
  private depth = 0;
  private placedRequired = 0;
  private low = 0; // the smallest operation id not placed (all below it are placed)
  private max = -1; // the largest operation id placed
  private state: S;
  private entry: number;
  private best = -1; // length of the best prefix so far
  private bestScore = -1; // its score: completed operations placed, then fewer pending ones (see score)
  private readonly bestEntries: Int32Array; // the best prefix's call entries (first `best` are valid)
  private lowWater = 0; // the stack has not changed below this depth since bestEntries was last written
  private bestUnplaced: number[] = [];

  /** Prepares the search (no searching happens until `run`). */
  constructor(p: SearchProblem<S, I, O>) {
    const { model, ops } = p;
    const n = ops.length;
    this.model = model;
    this.n = n;
    [this.next, this.prev] = buildList(ops);
    this.inputs = ops.map((o) => o.input);
    this.pending = Uint8Array.from(ops, (o) => (o.return === Infinity ? 1 : 0));
    this.outputs = ops.map((o) => (o.return === Infinity ? undefined : o.output));
    this.required = n - this.pending.reduce((a, b) => a + b, 0);
    this.readOnly = Uint8Array.from(ops, (o) => (o.return !== Infinity && model.readOnly?.(o.input, o.output) ? 1 : 0));
    this.lane = p.lane ?? new Int32Array(n);
    const laneCount = Math.max(1, p.laneCount);
    this.single = laneCount === 1;
    this.laneLeft = new Int32Array(laneCount);
    for (let i = 0; i < n; i++) this.laneLeft[this.lane[i]]++;
    this.activeLanes = this.laneLeft.reduce((k, left) => k + (left > 0 ? 1 : 0), 0);
    this.blockedMark = new Int32Array(laneCount);
    this.bits = new Uint32Array(Math.max(1, (n + 31) >>> 5));
    this.zobrist = zobristTable(n);
    const equal = model.equal ? (a: S, b: S): boolean => model.equal!(a, b) : (a: S, b: S): boolean => a === b;
    this.equal = equal;
    this.cache = new StateCache<S>(equal);
    this.stackEntry = new Int32Array(n);
    this.stackState = new Array<S>(n);
    this.stackLow = new Int32Array(n);
    this.stackMax = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.bestEntries = new Int32Array(n);
    this.state = model.init();
    this.entry = this.next[2 * n];
    if (this.required === 0) this.outcome = { verdict: 'ok', order: [], unplaced: [], explored: 0 };
  }

  /** Gives up: the outcome becomes `unknown` with the best prefix found so far. */
  stop(): SearchOutcome {
    if (!this.outcome) {
      this.noteDeadEnd();
      this.outcome = {
        verdict: 'unknown',
        order: this.bestOrder(),
        unplaced: this.bestUnplaced,
        explored: this.cache.size,
      };
    }
    return this.outcome;
  }

  /** The best prefix found, as operation ids. */
  private bestOrder(): number[] {
    return Array.from(this.bestEntries.subarray(0, Math.max(0, this.best)), (x) => x >>> 1);
  }

  /** How good a prefix is to show: most completed operations placed, then fewest pending ones. */
  private score(depth: number, placedRequired: number): number {
    return placedRequired * (this.n + 1) + (this.n - (depth - placedRequired));
  }

  /**
   * Remembers the current prefix if it is the best so far, with the operation blocking each lane (the first
   * completed one to return). Only the part of the stack that changed since the last time is copied, so a
   * long search stays linear.
   */
  private noteDeadEnd(): void {
    const depth = this.depth;
    const score = this.score(depth, this.placedRequired);
    if (score <= this.bestScore) return;
    this.bestScore = score;
    this.best = depth;
    this.bestEntries.set(this.stackEntry.subarray(this.lowWater, depth), this.lowWater);
    this.lowWater = depth;
    this.bestUnplaced = [];
    const seen = new Set<number>();
    for (let x = this.next[2 * this.n]; x !== -1; x = this.next[x]) {
      const op = x >>> 1;
      if ((x & 1) === 0 || this.pending[op] === 1 || seen.has(this.lane[op])) continue;
      seen.add(this.lane[op]);
      this.bestUnplaced.push(op);
    }
  }

  /**
   * Looks for a read-only candidate (Model.readOnly: it never changes the state where it is legal) that is
   * legal in `state`. Placing it first is always safe: in any legal continuation it can be moved to the
   * front, since it changes no state and no unplaced operation of its lane returned before its call. So the
   * search places it without trying alternatives, which removes most branching in read-heavy histories.
   * Returns its call entry (the state after it in `noOpState`), or -1.
   */
  private findNoOp(state: S): number {
    const { next, lane, blockedMark, single, readOnly, model, inputs, outputs } = this;
    const mark = ++this.scan;
    let blocked = 0;
    for (let x = next[2 * this.n]; x !== -1 && blocked < this.activeLanes; x = next[x]) {
      const op = x >>> 1;
      const l = lane[op];
      if ((x & 1) === 1) {
        if (single) break;
        if (blockedMark[l] !== mark) {
          blockedMark[l] = mark;
          blocked++;
        }
        continue;
      }
      if (readOnly[op] === 0 || (!single && blockedMark[l] === mark)) continue;
      const after = model.step(state, inputs[op], outputs[op]);
      if (after !== undefined) {
        this.noOpState = after;
        return x;
      }
    }
    return -1;
  }

  /** Searches for at most `budget` steps; returns true once the outcome is known. */
  run(budget: number): boolean {
    if (this.outcome) return true;
    const {
      model,
      n,
      next,
      prev,
      inputs,
      outputs,
      pending,
      readOnly,
      required,
      equal,
      single,
      lane,
      laneLeft,
      blockedMark,
    } = this;
    const { bits, zobrist, cache, stackEntry, stackState, stackLow, stackMax, stackForced } = this;
    const head = 2 * n;
    let { bitsHash, depth, placedRequired, state, entry: e, low, max, activeLanes, blocked, fresh, dead } = this;
    let done = false;
    for (let ticks = 0; ticks < budget; ticks++) {
      let cand = -1; // the call entry to place now, if any
      let candState = state;
      let forced = 0; // 1 when cand is a safe no-op placed without alternatives
      if (!dead && fresh) {
        fresh = false;
        this.activeLanes = activeLanes;
        cand = this.findNoOp(state);
        if (cand !== -1) {
          candState = this.noOpState as S;
          forced = 1;
        }
        this.scan++;
        blocked = 0;
        e = next[head];
      }
      if (!dead && cand === -1) {
        if (e === -1 || blocked >= activeLanes) {
          dead = true;
        } else {
          const op = e >>> 1;
          const l = lane[op];
          if ((e & 1) === 1) {
            // A return entry: nothing later in its lane may be placed before this operation.
            if (single) {
              dead = true;
              continue;
            }
            if (blockedMark[l] !== this.scan) {
              blockedMark[l] = this.scan;
              blocked++;
            }
            e = next[e];
            continue;
          }
          // Skip blocked lanes, and read-only operations: findNoOp already found none of them legal here.
          if ((!single && blockedMark[l] === this.scan) || readOnly[op] === 1) {
            e = next[e];
            continue;
          }
          // A call entry with no return of its lane before it: try placing its operation next.
          const after = model.step(state, inputs[op], outputs[op]);
          if (after === undefined || (pending[op] === 1 && (after === state || equal(after, state)))) {
            e = next[e];
            continue;
          }
          cand = e;
          candState = after;
        }
      }
      if (cand !== -1) {
        const op = cand >>> 1;
        const w = op >>> 5;
        const m = 1 << (op & 31);
        bits[w] |= m;
        const nextHash = bitsHash ^ zobrist[op];
        let nextLow = low;
        if (op === low) while (nextLow < n && (bits[nextLow >>> 5] & (1 << (nextLow & 31))) !== 0) nextLow++;
        const nextMax = op > max ? op : max;
        if (cache.addIfNew(bits, nextLow >>> 5, nextMax >>> 5, nextHash, model.hash(candState), candState)) {
          stackEntry[depth] = cand;
          stackState[depth] = state;
          stackLow[depth] = low;
          stackMax[depth] = max;
          stackForced[depth] = forced;
          low = nextLow;
          max = nextMax;
          depth++;
          placedRequired += 1 - pending[op];
          if (--laneLeft[lane[op]] === 0) activeLanes--;
          state = candState;
          bitsHash = nextHash;
          // Unlink the call entry and then its return entry.
          const r = cand + 1;
          next[prev[cand]] = next[cand];
          if (next[cand] !== -1) prev[next[cand]] = prev[cand];
          next[prev[r]] = next[r];
          if (next[r] !== -1) prev[next[r]] = prev[r];
          if (placedRequired === required) {
            const order = Array.from(stackEntry.subarray(0, depth), (x) => x >>> 1);
            this.outcome = { verdict: 'ok', order, unplaced: [], explored: cache.size };
            done = true;
            break;
          }
          fresh = true;
          continue;
        }
        bits[w] &= ~m;
        // Seen before, so it failed before. For a forced no-op that means this whole configuration fails.
        if (forced === 1) dead = true;
        else {
          e = next[e];
          continue;
        }
      }
      // No candidate left here: backtrack.
      dead = false;
      if (this.score(depth, placedRequired) > this.bestScore) {
        this.depth = depth;
        this.placedRequired = placedRequired;
        this.activeLanes = activeLanes;
        this.noteDeadEnd();
      }
      if (depth === 0) {
        this.outcome = {
          verdict: 'illegal',
          order: this.bestOrder(),
          unplaced: this.bestUnplaced,
          explored: cache.size,
        };
        done = true;
        break;
      }
      depth--;
      if (depth < this.lowWater) this.lowWater = depth;
      e = stackEntry[depth];
      state = stackState[depth];
      low = stackLow[depth];
      max = stackMax[depth];
      const op = e >>> 1;
      placedRequired -= 1 - pending[op];
      if (laneLeft[lane[op]]++ === 0) activeLanes++;
      bits[op >>> 5] &= ~(1 << (op & 31));
      bitsHash ^= zobrist[op];
      // Relink the return entry and then the call entry (the reverse of unlinking).
      const r = e + 1;
      if (next[r] !== -1) prev[next[r]] = r;
      next[prev[r]] = r;
      if (next[e] !== -1) prev[next[e]] = e;
      next[prev[e]] = e;
      if (stackForced[depth] === 1) {
        // The safe no-op led nowhere, so nothing else from this configuration can succeed either.
        dead = true;
        continue;
      }
      // Resume the scan after `e`: the lanes blocked so far are those with a return entry before it.
      const scan = ++this.scan;
      blocked = 0;
      for (let x = single ? e : next[head]; x !== e; x = next[x]) {
        if ((x & 1) === 1 && blockedMark[lane[x >>> 1]] !== scan) {
          blockedMark[lane[x >>> 1]] = scan;
          blocked++;
        }
      }
      e = next[e];
    }
    this.bitsHash = bitsHash;
    this.depth = depth;
    this.placedRequired = placedRequired;
    this.state = state;
    this.low = low;
    this.max = max;
    this.entry = e;
    this.activeLanes = activeLanes;
    this.blocked = blocked;
    this.fresh = fresh;
    this.dead = dead;
    return done;
  }
}
