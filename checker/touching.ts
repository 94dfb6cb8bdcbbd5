/** One client's operations that touch (the next called at the very time the previous returned) put in order. */
import type { Operation } from './types';

/**
 * The history with one change, for the search only: where a client calls its next operation at the very time its
 * previous one returned (a simulated clock does not move between the two), the call is moved just after that time
 * (by less than any gap between two distinct times of the history), and so is the return of an operation that took
 * no time. Operations of different clients that merely touch stay concurrent, as everywhere in the checker; without
 * this, one client's touching operations were concurrent too, and could be placed in either order.
 */
export function orderTouching<I, O>(history: readonly Operation<I, O>[]): readonly Operation<I, O>[] {
  const step = smallestGap(history) / (2 * (history.length + 1));
  const out = history.slice();
  const previous = new Map<number, { original: number; moved: number }>(); // per client: its last op's return
  for (const i of byCall(history)) {
    const op = history[i];
    const prev = previous.get(op.clientId);
    if (prev && op.call === prev.original) {
      const call = prev.moved + step;
      out[i] = { ...op, call, return: Math.max(op.return, call) };
    }
    previous.set(op.clientId, { original: op.return, moved: out[i].return });
  }
  return out;
}

/** The smallest gap between two distinct finite times of the history (1 when it has fewer than two). */
function smallestGap(history: readonly Operation<unknown, unknown>[]): number {
  // A typed array sorts numbers natively: a sort with a comparator took most of a 50,000-operation check's set-up.
  const times = new Float64Array(2 * history.length);
  let n = 0;
  for (const o of history) {
    if (Number.isFinite(o.call)) times[n++] = o.call;
    if (Number.isFinite(o.return)) times[n++] = o.return;
  }
  const sorted = times.subarray(0, n).sort();
  let gap = Infinity;
  for (let i = 1; i < n; i++) {
    const d = sorted[i] - sorted[i - 1];
    if (d > 0 && d < gap) gap = d;
  }
  return Number.isFinite(gap) ? gap : 1;
}

/** The history's indices by call time, ties in history order (as recorded, a history is in that order already). */
function byCall(history: readonly Operation<unknown, unknown>[]): number[] {
  const indices = history.map((_, i) => i);
  for (let i = 1; i < history.length; i++)
    if (history[i].call < history[i - 1].call)
      return indices.sort((a, b) => history[a].call - history[b].call || a - b);
  return indices;
}
