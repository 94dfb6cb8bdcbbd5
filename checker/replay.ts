/** Replays a legal order of operations through a model to describe the state after each step (for reports). */
import { keyedProduct } from './product';
import type { CheckMode, Model, Operation } from './types';

/** The described states along an order: `initial`, then one entry per operation (or an error note). */
export interface Replay {
  initial: string;
  after: string[];
}

/** Steps `model` through `order` (indices into `history`), describing each state. */
function walk<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  order: number[],
): Replay {
  let state = model.init();
  const initial = model.describeState(state);
  const after: string[] = [];
  for (const i of order) {
    const next = model.step(state, history[i].input, history[i].output);
    if (next === undefined) {
      after.push('(not allowed from the previous state)');
      continue;
    }
    state = next;
    after.push(model.describeState(state));
  }
  return { initial, after };
}

/**
 * Describes the states along `order`, a linearization of one partition as returned by a check in `mode`.
 * In sequential mode a partitioned model is replayed over all keys, as the check did.
 */
export function replayOrder<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  order: number[],
  mode: CheckMode,
): Replay {
  if (mode === 'sequential' && model.partitionKey) return walk(keyedProduct(model), history, order);
  return walk(model, history, order);
}
