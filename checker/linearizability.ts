/**
 * Checking a whole history: validation, partitioning by key, the time budget, and the two modes
 * (linearizability and sequential consistency) on top of the core search.
 */
import { realNowMs } from './clock';
import { orderTouching } from './touching';
import { naturalOrder } from './natural-order';
import { keyedProduct } from './product';
import { Search, SearchOutcome } from './search';
import type { CheckOptions, CheckResult, Model, Operation, PartitionResult, Unfinished, Verdict } from './types';

/** The default real-time budget of one check, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A history that cannot be checked because it is malformed (e.g. an operation returning before its call). */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

/** Throws a HistoryError for the first malformed operation. */
export function validateHistory<I, O>(history: readonly Operation<I, O>[]): void {
  history.forEach((op, i) => {
    const where = `operation #${i} (client ${op.clientId})`;
    if (!Number.isFinite(op.call))
      throw new HistoryError(`${where}: call time must be a finite number, got ${op.call}`);
    if (Number.isNaN(op.return)) throw new HistoryError(`${where}: return time is NaN`);
    if (op.return < op.call) {
      throw new HistoryError(`${where}: returns at ${op.return}, before its call at ${op.call}`);
    }
  });
}

/** Sorts operation indices by call time (then index). */
function byCall<I, O>(history: readonly Operation<I, O>[], ids: number[]): number[] {
  return ids.sort((a, b) => history[a].call - history[b].call || a - b);
}

/** Splits operation indices by key (all in one group when the model has no partitionKey). */
function partitionOps<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
): Array<{ key: string | null; ids: number[] }> {
  if (!model.partitionKey)
    return [
      {
        key: null,
        ids: byCall(
          history,
          history.map((_, i) => i),
        ),
      },
    ];
  const groups = new Map<string, number[]>();
  history.forEach((op, i) => {
    const k = model.partitionKey!(op.input);
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  });
  return [...groups.keys()]
    .sort(naturalOrder)
    .map((key) => ({ key, ids: byCall(history, groups.get(key) as number[]) }));
}

/** Lane of each operation for sequential consistency: one lane per client. */
function clientLanes<I, O>(ops: readonly Operation<I, O>[]): { lane: Int32Array; laneCount: number } {
  const index = new Map<number, number>();
  const lane = new Int32Array(ops.length);
  ops.forEach((op, i) => {
    let l = index.get(op.clientId);
    if (l === undefined) index.set(op.clientId, (l = index.size));
    lane[i] = l;
  });
  return { lane, laneCount: Math.max(1, index.size) };
}

/** How long a check may go on: a real-time deadline, and the most search steps of any one search. */
interface Limits {
  /** Real time (realNowMs) after which every unfinished search stops. */
  deadline: number;
  /** Most steps one search may take (Infinity: no limit). */
  maxSteps: number;
}

/** Search steps in a first turn; later turns adapt so that one turn takes about TURN_MS of real time. */
const FIRST_SLICE = 20_000;
/** Target real time of one turn: short enough to share time fairly and to notice the deadline promptly. */
const TURN_MS = 5;

/**
 * Runs the searches in turns until all are done, the deadline passes, or (unless `all`) one is illegal. A search
 * that reaches `maxSteps` stops there, undecided, whatever the others do: so whether a partition is decided
 * depends on its operations alone, never on the machine's speed (only the deadline does).
 * Returns the outcomes in the same order, plus why each unfinished one stopped.
 */
function runTurns<S extends {} | null, I, O>(
  searches: Search<S, I, O>[],
  deadline: number,
  all: boolean,
  maxSteps = Infinity,
): Array<{ outcome: SearchOutcome; unfinished?: Unfinished }> {
  const active = searches.map((_, i) => i).filter((i) => !searches[i].outcome);
  const slice = searches.map(() => FIRST_SLICE);
  const outOfSteps = new Set<Search<S, I, O>>();
  let why: Unfinished | undefined;
  while (active.length > 0 && why === undefined) {
    for (let k = 0; k < active.length;) {
      const i = active[k];
      const s = searches[i];
      const before = realNowMs();
      const finished = s.run(Math.min(slice[i], maxSteps - s.steps));
      const now = realNowMs();
      // Steps can be slow (a big state to copy): keep each turn near TURN_MS.
      const took = now - before;
      if (took > 2 * TURN_MS) slice[i] = Math.max(100, Math.floor(slice[i] / 2));
      else if (took < TURN_MS / 2) slice[i] = Math.min(1_000_000, slice[i] * 2);
      if (finished || s.steps >= maxSteps) {
        active.splice(k, 1);
        if (!finished) outOfSteps.add(s);
        else if (s.outcome?.verdict === 'illegal' && !all) {
          why = 'stopped';
          break;
        }
      } else k++;
      if (now > deadline) {
        why = 'timeout';
        break;
      }
    }
  }
  return searches.map((s) =>
    s.outcome ? { outcome: s.outcome } : { outcome: s.stop(), unfinished: outOfSteps.has(s) ? 'steps' : why },
  );
}

/** A partition's result from its search outcome (`ids` maps the search's local ids to the history's). */
function toPartition(
  key: string | null,
  ids: number[],
  outcome: SearchOutcome,
  steps: number,
  unfinished?: Unfinished,
): PartitionResult {
  const part: PartitionResult = {
    key,
    verdict: outcome.verdict,
    ops: ids,
    linearization: outcome.order.map((j) => ids[j]),
    unplaced: outcome.unplaced.map((j) => ids[j]),
    steps,
  };
  if (unfinished) part.unfinished = unfinished;
  return part;
}

/** Checks linearizability of each group of operations with `model` and reports per group. */
function checkGroups<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  groups: Array<{ key: string | null; ids: number[] }>,
  limits: Limits,
  all: boolean,
): PartitionResult[] {
  const searches = groups.map(
    (g) => new Search({ model, ops: g.ids.map((i) => history[i]), lane: null, laneCount: 1 }),
  );
  const outcomes = runTurns(searches, limits.deadline, all, limits.maxSteps);
  return groups.map((g, i) =>
    toPartition(g.key, g.ids, outcomes[i].outcome, searches[i].steps, outcomes[i].unfinished),
  );
}

/**
 * Merges per-key legal orders into one order of all their operations that also respects real time, or
 * returns undefined if that fails. Linearizability is local, so for per-key linearizations this always
 * succeeds; it is a topological sort in which an operation may go once its key's previous operation went
 * and every operation that returned before its call went.
 */
export function mergeOrders<I, O>(history: readonly Operation<I, O>[], orders: number[][]): number[] | undefined {
  const all = orders.flat();
  const byReturn = all.slice().sort((a, b) => history[a].return - history[b].return);
  const returns = byReturn.map((i) => history[i].return);
  /** How many operations of the merge return strictly before time t. */
  const returnedBefore = (t: number): number => {
    let lo = 0;
    let hi = returns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (returns[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const need = new Map<number, number>(all.map((i) => [i, returnedBefore(history[i].call)]));
  const done = new Set<number>();
  const heads = orders.map(() => 0);
  const out: number[] = [];
  let prefix = 0; // byReturn[0..prefix) are all done
  // A binary heap of keys, by how many returns their next operation waits for.
  const heap: number[] = [];
  const weight = (k: number): number => need.get(orders[k][heads[k]]) as number;
  const push = (k: number): void => {
    heap.push(k);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (weight(heap[up]) <= weight(heap[i])) break;
      [heap[up], heap[i]] = [heap[i], heap[up]];
      i = up;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop() as number;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && weight(heap[l]) < weight(heap[m])) m = l;
        if (r < heap.length && weight(heap[r]) < weight(heap[m])) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  orders.forEach((o, k) => o.length > 0 && push(k));
  while (heap.length > 0) {
    const k = pop();
    const op = orders[k][heads[k]];
    if ((need.get(op) as number) > prefix) return undefined;
    out.push(op);
    done.add(op);
    while (prefix < byReturn.length && done.has(byReturn[prefix])) prefix++;
    if (++heads[k] < orders[k].length) push(k);
  }
  return out;
}

/** The per-client search for a sequentially consistent order of the whole history. */
function searchSequential<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  ids: number[],
  limits: Limits,
  stepsBefore: number,
): PartitionResult {
  const ops = ids.map((i) => history[i]);
  const search = new Search({ model, ops, ...clientLanes(ops) });
  const { outcome, unfinished } = runTurns([search], limits.deadline, true, limits.maxSteps)[0];
  return toPartition(null, ids, outcome, stepsBefore + search.steps, unfinished);
}

/**
 * Checks sequential consistency of the whole history. A linearizable history is sequentially consistent,
 * and the linearizability check is far cheaper (per key, with real time ruling out most orders), so it goes
 * first with a quarter of the budget (of time and of steps); its per-key orders merge into one order of the
 * whole history. Only when it finds no order does the per-client search run, over all keys at once.
 */
function checkSequentialWhole<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  start: number,
  limits: Limits,
): PartitionResult {
  const ids = byCall(
    history,
    history.map((_, i) => i),
  );
  const quickLimits = { deadline: start + (limits.deadline - start) / 4, maxSteps: Math.ceil(limits.maxSteps / 4) };
  const quick = checkGroups(model, history, partitionOps(model, history), quickLimits, false);
  const quickSteps = quick.reduce((sum, p) => sum + p.steps, 0);
  if (quick.every((p) => p.verdict === 'ok')) {
    const order = mergeOrders(
      history,
      quick.map((p) => p.linearization),
    );
    if (order) return { key: null, verdict: 'ok', ops: ids, linearization: order, unplaced: [], steps: quickSteps };
  }
  return model.partitionKey
    ? searchSequential(keyedProduct(model), history, ids, limits, quickSteps)
    : searchSequential(model, history, ids, limits, quickSteps);
}

/** Combines partition verdicts: any illegal wins, then any unknown. */
function overall(parts: PartitionResult[]): Verdict {
  if (parts.some((p) => p.verdict === 'illegal')) return 'illegal';
  if (parts.some((p) => p.verdict === 'unknown')) return 'unknown';
  return 'ok';
}

/**
 * Checks a history against a model. Linearizability (the default) checks each key on its own when the model
 * partitions; sequential consistency checks all keys together, constrained only by each client's own order.
 */
export function check<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  validateHistory(history);
  const start = realNowMs();
  const timed = orderTouching(history);
  const mode = options.mode ?? 'linearizable';
  const limits: Limits = {
    deadline: start + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxSteps: options.stepBudget ?? Infinity,
  };
  const all = options.allPartitions ?? false;
  const partitions =
    mode === 'linearizable'
      ? checkGroups(model, timed, partitionOps(model, timed), limits, all)
      : [checkSequentialWhole(model, timed, start, limits)];
  const verdict = overall(partitions);
  const unplaced = partitions.filter((p) => p.verdict === 'illegal').flatMap((p) => p.unplaced);
  const steps = partitions.reduce((sum, p) => sum + p.steps, 0);
  return { verdict, mode, partitions, unplaced, elapsedMs: realNowMs() - start, steps };
}

/** Checks linearizability (real-time order plus the model). */
export function checkLinearizable<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: Omit<CheckOptions, 'mode'> = {},
): CheckResult {
  return check(model, history, { ...options, mode: 'linearizable' });
}

/** Checks sequential consistency (each client's program order plus the model, no real-time order). */
export function checkSequential<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: Omit<CheckOptions, 'mode'> = {},
): CheckResult {
  return check(model, history, { ...options, mode: 'sequential' });
}
