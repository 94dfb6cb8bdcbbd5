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
  const times = [...new Set(history.flatMap((o) => [o.call, o.return]).filter(Number.isFinite))].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i] - times[i - 1]);
  const step = (Number.isFinite(gap) ? gap : 1) / (2 * (history.length + 1));
  const out = history.slice();
  const previous = new Map<number, { original: number; moved: number }>(); // per client: its last op's return
  const byCall = history.map((_, i) => i).sort((a, b) => history[a].call - history[b].call || a - b);
  for (const i of byCall) {
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
