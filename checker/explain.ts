/** Checking plus a short explanation a student can act on, and optionally the HTML viewer page. */
import { DEFAULT_TIMEOUT_MS, check } from './linearizability';
import { replayOrder } from './replay';
import { findShapes } from './shapes';
import type { CheckOptions, CheckResult, Model, Operation, PartitionResult } from './types';
import { renderHistoryHtml, writeHistoryHtml, ViewerOptions } from './viewer/html';

/** Options of `checkOrExplain`. */
export interface ExplainOptions extends CheckOptions {
  /** Write the viewer page here when the verdict is not `ok`. */
  htmlPath?: string;
  /** Return the viewer page as a string in `html` when the verdict is not `ok`. */
  html?: boolean;
  /** Make the page (and `htmlPath`) even when the history passes. */
  htmlWhenOk?: boolean;
  /** Title and subtitle of the page, and the unit of times. */
  title?: string;
  subtitle?: string;
  timeUnit?: ViewerOptions['timeUnit'];
  /** How many steps of the legal prefix the explanation lists (default 5). */
  steps?: number;
}

/** What `checkOrExplain` returns. */
export interface Explained {
  result: CheckResult;
  /** A few lines in plain words: the verdict, and for a failure which operation could not be placed where. */
  explanation: string;
  /** The viewer page, when asked for with `html`. */
  html?: string;
  /** Where the viewer page was written, when asked for with `htmlPath`. */
  htmlPath?: string;
}

/** Formats a time. */
function at(t: number, unit: 'ms' | 'line'): string {
  if (t === Infinity) return 'never returned';
  return unit === 'line' ? `line ${t}` : `${Number(t.toFixed(3))} ms`;
}

/** Explains one partition that is not ok. */
function explainPartition<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  part: PartitionResult,
  result: CheckResult,
  unit: 'ms' | 'line',
  steps: number,
): string[] {
  const lines: string[] = [];
  const where = part.key === null ? '' : ` (key ${JSON.stringify(part.key)})`;
  const what = result.mode === 'sequential' ? 'sequentially consistent' : 'linearizable';
  const rule =
    result.mode === 'sequential'
      ? `keeps each client's own order`
      : 'gives every operation one moment between its call and its return';
  if (part.verdict === 'illegal') {
    lines.push(
      `Not ${what}${where}: no order of these ${part.ops.length} operations ${rule} and matches the ${model.name} model.`,
    );
  } else {
    lines.push(
      `Undecided${where}: the checker ran out of ${part.unfinished === 'steps' ? 'search steps' : 'time'} after placing ${part.linearization.length} of ${part.ops.length} operations.`,
    );
  }
  const replay = replayOrder(model, history, part.linearization, result.mode);
  const describe = (i: number): string =>
    `client ${history[i].clientId}: ${model.describeOperation(history[i].input, history[i].output)}`;
  const n = part.linearization.length;
  if (n === 0) {
    lines.push(`Not even the first operation can be placed; the initial state is ${replay.initial}.`);
  } else {
    lines.push(
      `The longest legal order found places ${n} operation${n === 1 ? '' : 's'}${n > steps ? `; the last ${steps}` : ''}:`,
    );
    for (let k = Math.max(0, n - steps); k < n; k++) {
      lines.push(`  ${String(k + 1).padStart(4)}. ${describe(part.linearization[k])}   ⇒ state ${replay.after[k]}`);
    }
  }
  const state = n === 0 ? replay.initial : replay.after[n - 1];
  if (part.unplaced.length > 0) {
    const which = part.unplaced.length === 1 ? 'this operation could not' : 'none of these operations could';
    lines.push(`Then ${which} be placed next, in state ${state}:`);
    for (const i of part.unplaced) {
      lines.push(
        `    ✗  ${describe(i)}   (called ${at(history[i].call, unit)}, returned ${at(history[i].return, unit)})`,
      );
    }
  }
  if (part.verdict === 'illegal' && model.shapes) {
    const shapes = findShapes(model.shapes, history, part.ops, part.unplaced, result.mode, {
      describe: (op) => `client ${op.clientId}: ${model.describeOperation(op.input, op.output)}`,
      at: (t) => at(t, unit),
    });
    for (const s of shapes) lines.push(`This looks like ${s.title}:`, ...s.lines);
  }
  return lines;
}

/** Builds the explanation text for a result. */
export function explainResult<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  result: CheckResult,
  options: { timeUnit?: 'ms' | 'line'; steps?: number; timeoutMs?: number; stepBudget?: number } = {},
): string {
  const unit = options.timeUnit ?? 'ms';
  const steps = options.steps ?? 5;
  const what = result.mode === 'sequential' ? 'Sequentially consistent' : 'Linearizable';
  const parts = result.partitions.length;
  const size = `${history.length} operations${parts > 1 ? ` on ${parts} keys` : ''}, checked in ${result.elapsedMs.toFixed(0)} ms`;
  if (result.verdict === 'ok') return `${what}: ${size}.`;
  if (result.verdict === 'unknown') {
    const first = result.partitions.find((p) => p.verdict === 'unknown' && p.unfinished !== 'stopped');
    const budget =
      first?.unfinished === 'steps'
        ? `budget of ${options.stepBudget} search steps${parts > 1 ? ' per key' : ''}`
        : `${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms budget`;
    const head = `Undecided: the checker could not finish within its ${budget} (${size}).`;
    return first ? [head, ...explainPartition(model, history, first, result, unit, steps)].join('\n') : head;
  }
  const illegal = result.partitions.filter((p) => p.verdict === 'illegal');
  const lines = explainPartition(model, history, illegal[0], result, unit, steps);
  if (illegal.length > 1)
    lines.push(
      `${illegal.length - 1} other key${illegal.length > 2 ? 's' : ''} also fail${illegal.length > 2 ? '' : 's'}.`,
    );
  lines.push(
    'Look for the step where the reply stops matching what the model says: that is usually where the bug shows.',
  );
  return lines.join('\n');
}

/** Checks a history and explains the result; writes or returns the viewer page when asked. */
export function checkOrExplain<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: ExplainOptions = {},
): Explained {
  const result = check(model, history, options);
  const explanation = explainResult(model, history, result, options);
  const out: Explained = { result, explanation };
  if (result.verdict !== 'ok' || options.htmlWhenOk) {
    const viewer: ViewerOptions = {
      title: options.title,
      subtitle: options.subtitle,
      explanation,
      timeUnit: options.timeUnit,
    };
    if (options.html) out.html = renderHistoryHtml(model, history, result, viewer);
    if (options.htmlPath) out.htmlPath = writeHistoryHtml(options.htmlPath, model, history, result, viewer);
  }
  return out;
}
