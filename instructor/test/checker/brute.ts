/**
 * A deliberately naive reference checker for tests: it tries every subset of the pending operations and every
 * order of the chosen operations that respects the precedence rule, with its own sequential semantics.
 */
import type { CheckMode, Operation } from '../../../checker/types';

/** A sequential specification written independently of the models: state in, state out or undefined. */
export type RefStep<S, I, O> = (state: S, input: I, output: O | undefined) => S | undefined;

/** Must `a` come before `b`? Real time for linearizability; the same client's real time for sequential. */
function precedes<I, O>(a: Operation<I, O>, b: Operation<I, O>, mode: CheckMode): boolean {
  if (mode === 'sequential' && a.clientId !== b.clientId) return false;
  return a.return < b.call;
}

/** True when some legal order exists. */
export function bruteForce<S, I, O>(
  ops: readonly Operation<I, O>[],
  init: S,
  step: RefStep<S, I, O>,
  mode: CheckMode,
): boolean {
  const pending = ops.map((o, i) => (o.return === Infinity ? i : -1)).filter((i) => i >= 0);
  for (let mask = 0; mask < 1 << pending.length; mask++) {
    const chosen = ops.map((o, i) => o.return !== Infinity || (mask & (1 << pending.indexOf(i))) !== 0);
    const ids = ops.map((_, i) => i).filter((i) => chosen[i]);
    if (orders(ops, ids, [], init, step, mode)) return true;
  }
  return false;
}

/** Depth-first over all orders of `left` that keep precedence, stepping the state. */
function orders<S, I, O>(
  ops: readonly Operation<I, O>[],
  left: number[],
  done: number[],
  state: S,
  step: RefStep<S, I, O>,
  mode: CheckMode,
): boolean {
  if (left.length === 0) return true;
  for (const i of left) {
    const rest = left.filter((j) => j !== i);
    if (rest.some((j) => precedes(ops[j], ops[i], mode))) continue;
    const out = ops[i].return === Infinity ? undefined : ops[i].output;
    const next = step(state, ops[i].input, out);
    if (next === undefined) continue;
    if (orders(ops, rest, [...done, i], next, step, mode)) return true;
  }
  return false;
}
