/**
 * Checking a whole history: validation, partitioning by key, the time budget, and the two modes
 * (linearizability and sequential consistency) on top of the core search.
 */
import { realNowMs } from './clock';
import { keyedProduct } from './product';
import { Search, SearchOutcome } from './search';
import type { CheckMode, CheckOptions, CheckResult, Model, Operation, PartitionResult, Verdict } from './types';

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
    if (!Number.isFinite(op.call)) throw new HistoryError(`${where}: call time must be a finite number, got ${op.call}`);
    if (Number.isNaN(op.return)) throw new HistoryError(`${where}: return time is NaN`);
    if (op.return < op.call) {
      throw new HistoryError(`${where}: returns at ${op.return}, before its call at ${op.call}`);
    }
  });
}

/** Orders partition keys naturally ("2" before "10"). */
function compareKeys(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
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
  if (!model.partitionKey) return [{ key: null, ids: byCall(history, history.map((_, i) => i)) }];
  const groups = new Map<string, number[]>();
  history.forEach((op, i) => {
    const k = model.partitionKey!(op.input);
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  });
  return [...groups.keys()].sort(compareKeys).map((key) => ({ key, ids: byCall(history, groups.get(key) as number[]) }));
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

/** Operations of one partition picked out of the history, ready to search. */
function prepare<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  ids: number[],
  mode: CheckMode,
): Search<S, I, O> {
  const ops = ids.map((i) => history[i]);
  const lanes = mode === 'sequential' ? clientLanes(ops) : { lane: null, laneCount: 1 };
  return new Search({ model, ops, lane: lanes.lane, laneCount: lanes.laneCount });
}

/** Search steps per turn: small enough to share time fairly and notice the deadline within a few ms. */
const SLICE = 20_000;

/**
 * Runs the searches in turns until all are done, the deadline passes, or (unless `all`) one is illegal.
 * Returns the outcomes in the same order, plus why each unfinished one stopped.
 */
function runTurns<S extends {} | null, I, O>(
  searches: Search<S, I, O>[],
  deadline: number,
  all: boolean,
): Array<{ outcome: SearchOutcome; unfinished?: 'timeout' | 'stopped' }> {
  const active = searches.map((_, i) => i).filter((i) => !searches[i].outcome);
  let why: 'timeout' | 'stopped' | undefined;
  while (active.length > 0 && why === undefined) {
    for (let k = 0; k < active.length; ) {
      const s = searches[active[k]];
      if (s.run(SLICE)) {
        active.splice(k, 1);
        if (s.outcome?.verdict === 'illegal' && !all) {
          why = 'stopped';
          break;
        }
      } else k++;
      if (realNowMs() > deadline) {
        why = 'timeout';
        break;
      }
    }
  }
  return searches.map((s) => (s.outcome ? { outcome: s.outcome } : { outcome: s.stop(), unfinished: why }));
}

/** Searches each group of operations with `model` and reports per group. */
function checkGroups<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  groups: Array<{ key: string | null; ids: number[] }>,
  mode: CheckMode,
  deadline: number,
  all: boolean,
): PartitionResult[] {
  const searches = groups.map((g) => prepare(model, history, g.ids, mode));
  const outcomes = runTurns(searches, deadline, all);
  return groups.map((g, i) => {
    const { outcome, unfinished } = outcomes[i];
    const part: PartitionResult = {
      key: g.key,
      verdict: outcome.verdict,
      ops: g.ids,
      linearization: outcome.order.map((j) => g.ids[j]),
      unplaced: outcome.unplaced.map((j) => g.ids[j]),
    };
    if (unfinished) part.unfinished = unfinished;
    return part;
  });
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
  const mode = options.mode ?? 'linearizable';
  const deadline = start + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const all = options.allPartitions ?? false;
  const partitions =
    mode === 'sequential' && model.partitionKey
      ? checkGroups(keyedProduct(model), history, [{ key: null, ids: byCall(history, history.map((_, i) => i)) }], mode, deadline, all)
      : checkGroups(model, history, partitionOps(model, history), mode, deadline, all);
  const verdict = overall(partitions);
  const unplaced = partitions.filter((p) => p.verdict === 'illegal').flatMap((p) => p.unplaced);
  return { verdict, mode, partitions, unplaced, elapsedMs: realNowMs() - start };
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
