/**
 * The history viewer: one self-contained HTML page (inline CSS and JS, nothing fetched) that shows a checked
 * history as bars on per-client lanes, numbers the operations of the longest legal order found, and
 * highlights the operation(s) that could not be placed, with a step-by-step table of states.
 */
import * as fs from 'fs';
import * as path from 'path';
import { replayOrder } from '../replay';
import type { CheckResult, Model, Operation, PartitionResult } from '../types';

/** Options of the viewer. */
export interface ViewerOptions {
  /** Page title (default "History check"). */
  title?: string;
  /** A line under the title, e.g. the test name and seed. */
  subtitle?: string;
  /** A plain-text explanation shown near the top (e.g. from `checkOrExplain`). */
  explanation?: string;
  /** What the times are, for tooltips: "ms" (default) or "line" (times are line numbers of a log file). */
  timeUnit?: 'ms' | 'line';
  /** Draw partitions that passed too (default: only when the history is small). */
  showPassing?: boolean;
  /** At most this many operations per partition on the timeline; beyond it, a window around the problem. */
  maxBars?: number;
  /** At most this many steps of the legal order in the table (the last ones). */
  maxSteps?: number;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Horizontal pixels per distinct event time (the timeline shows event order, not durations), by count. */
function slotWidth(slots: number): number {
  return Math.max(30, Math.min(72, Math.floor(8000 / Math.max(1, slots))));
}
/** Height of one bar row. */
const ROW = 30;
/** Default limit of operations drawn per partition. */
const DEFAULT_MAX_BARS = 400;
/** Default limit of rows in the table of steps. */
const DEFAULT_MAX_STEPS = 300;
/** Below this many operations in all, passing partitions are drawn too. */
const SMALL_HISTORY = 1500;

/** Formats a time for tooltips and tables. */
function fmtTime(t: number, unit: 'ms' | 'line'): string {
  if (t === Infinity) return 'never (pending)';
  if (unit === 'line') return `line ${t}`;
  return `${Number(t.toFixed(3))} ms`;
}

/** What part an operation plays in a partition's picture. */
type Role = 'placed' | 'unplaced' | 'rest';

/** Picks the operations to draw: all, or a window around the end of the prefix when there are too many. */
function pickWindow<I, O>(history: readonly Operation<I, O>[], part: PartitionResult, max: number): number[] {
  if (part.ops.length <= max) return part.ops;
  const focus = [...part.linearization.slice(-Math.floor(max / 4)), ...part.unplaced];
  if (focus.length === 0) return part.ops.slice(0, max);
  let lo = Infinity;
  let hi = -Infinity;
  for (const i of focus) {
    lo = Math.min(lo, history[i].call);
    hi = Math.max(hi, Number.isFinite(history[i].return) ? history[i].return : history[i].call);
  }
  const overlapping = part.ops.filter((i) => history[i].call <= hi && history[i].return >= lo);
  const must = new Set(focus);
  const chosen = overlapping.filter((i) => must.has(i)).concat(overlapping.filter((i) => !must.has(i)));
  const keep = new Set(chosen.slice(0, Math.max(max, focus.length)));
  return part.ops.filter((i) => keep.has(i));
}

/** Renders one partition's timeline: lanes, bars, order numbers, highlights. */
function renderTimeline<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  part: PartitionResult,
  shown: number[],
  unit: 'ms' | 'line',
): string {
  const position = new Map<number, number>();
  part.linearization.forEach((op, k) => position.set(op, k + 1));
  const unplaced = new Set(part.unplaced);
  const role = (i: number): Role => (unplaced.has(i) ? 'unplaced' : position.has(i) ? 'placed' : 'rest');

  const times = new Set<number>();
  for (const i of shown) {
    times.add(history[i].call);
    if (Number.isFinite(history[i].return)) times.add(history[i].return);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const slotOf = new Map<number, number>();
  sorted.forEach((t, k) => slotOf.set(t, k));
  const endSlot = sorted.length + 1;
  const SLOT = slotWidth(endSlot);
  const x = (t: number): number => (t === Infinity ? endSlot : (slotOf.get(t) as number)) * SLOT;

  // One lane per client; a client's overlapping operations (unusual) stack in extra rows.
  const clients = [...new Set(shown.map((i) => history[i].clientId))].sort((a, b) => a - b);
  const lanes: string[] = [];
  for (const c of clients) {
    const mine = shown.filter((i) => history[i].clientId === c).sort((a, b) => history[a].call - history[b].call);
    const rowEnds: number[] = [];
    const bars: string[] = [];
    for (const i of mine) {
      const op = history[i];
      let row = rowEnds.findIndex((end) => end <= op.call);
      if (row < 0) row = rowEnds.push(0) - 1;
      rowEnds[row] = op.return;
      // A bar runs from the middle of its call's slot to the middle of its return's slot, so operations that
      // touch (one returns when the next is called) meet without overlapping.
      const left = x(op.call) + SLOT / 2;
      const width = Math.max(SLOT - 4, x(op.return) - x(op.call));
      const r = role(i);
      const pending = op.return === Infinity;
      const text = model.describeOperation(op.input, op.output);
      const n = position.get(i);
      const badge =
        r === 'unplaced'
          ? '<span class="badge bad">✗</span>'
          : n !== undefined
            ? `<span class="badge">${n}</span>`
            : '';
      const tip =
        `client ${op.clientId}: ${text}\ncalled ${fmtTime(op.call, unit)}, returned ${fmtTime(op.return, unit)}` +
        (r === 'unplaced'
          ? '\nCOULD NOT BE PLACED next in any legal order'
          : n !== undefined
            ? `\nstep ${n} of the legal order`
            : '\nnot reached by the longest legal order');
      bars.push(
        `<div class="op ${r}${pending ? ' pending' : ''}" data-op="${i}" style="left:${left}px;top:${row * ROW + 3}px;width:${width}px" title="${escapeHtml(tip)}">${badge}<span class="txt">${escapeHtml(text)}</span></div>`,
      );
    }
    const height = Math.max(1, rowEnds.length) * ROW + 6;
    lanes.push(
      `<div class="lane" data-client="${c}"><div class="lane-label">client ${c}</div><div class="lane-track" style="height:${height}px">${bars.join('')}</div></div>`,
    );
  }
  const width = (endSlot + 2) * SLOT;
  return `<div class="timeline"><div class="lanes" style="--w:${width}px">${lanes.join('')}</div></div>`;
}

/** Renders the table of the legal order found and of the operations that could not be placed. */
function renderSteps<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  part: PartitionResult,
  mode: CheckResult['mode'],
  unit: 'ms' | 'line',
  maxRows: number,
): string {
  const replay = replayOrder(model, history, part.linearization, mode);
  const row = (cls: string, n: string, i: number, state: string): string => {
    const op = history[i];
    return `<tr class="${cls}" data-op="${i}"><td>${n}</td><td>client ${op.clientId}</td><td><code>${escapeHtml(model.describeOperation(op.input, op.output))}</code></td><td>${escapeHtml(fmtTime(op.call, unit))}</td><td>${escapeHtml(fmtTime(op.return, unit))}</td><td><code>${escapeHtml(state)}</code></td></tr>`;
  };
  const rows = [
    `<tr class="init"><td>0</td><td colspan="4">initial state</td><td><code>${escapeHtml(replay.initial)}</code></td></tr>`,
  ];
  const first = Math.max(0, part.linearization.length - maxRows);
  if (first > 0) rows.push(`<tr class="init"><td>⋯</td><td colspan="5">${first} earlier steps not shown</td></tr>`);
  for (let k = first; k < part.linearization.length; k++)
    rows.push(row('placed', String(k + 1), part.linearization[k], replay.after[k]));
  const stateAtEnd = replay.after.length > 0 ? replay.after[replay.after.length - 1] : replay.initial;
  for (const i of part.unplaced) rows.push(row('unplaced', '✗', i, `cannot follow ${stateAtEnd}`));
  const head =
    '<tr><th>#</th><th>client</th><th>operation</th><th>called</th><th>returned</th><th>state after</th></tr>';
  const caption =
    part.verdict === 'ok'
      ? 'A legal order of all operations (each one takes effect at a single moment inside its bar):'
      : 'The longest legal order the checker found, then the operation(s) that could not come next:';
  const table = `<table class="steps"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
  const open = part.verdict === 'ok' ? '' : ' open';
  return `<details class="steps-box"${open}><summary>${escapeHtml(caption)}</summary>${table}</details>`;
}

/** A sentence that tells a student what the partition's picture means. */
function partitionSummary<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  part: PartitionResult,
): string {
  const n = part.ops.length;
  if (part.verdict === 'ok') return `All ${n} operations fit in one legal order.`;
  if (part.unfinished === 'stopped')
    return `Not checked to the end: another key was already found not to be consistent.`;
  const culprits = part.unplaced.map(
    (i) => `client ${history[i].clientId}'s ${model.describeOperation(history[i].input, history[i].output)}`,
  );
  const lead =
    part.verdict === 'illegal'
      ? `No legal order exists. The best the checker found places ${part.linearization.length} of ${n} operations (numbered bars); after them`
      : `The checker ran out of ${part.unfinished === 'steps' ? 'search steps' : 'time'}. So far it placed ${part.linearization.length} of ${n} operations; after them`;
  return `${lead} ${culprits.length > 0 ? `${culprits.join(' and ')} cannot be placed (red).` : 'nothing else could be placed.'}`;
}

/** Renders the whole page. */
export function renderHistoryHtml<S extends {} | null, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  result: CheckResult,
  options: ViewerOptions = {},
): string {
  const unit = options.timeUnit ?? 'ms';
  const max = options.maxBars ?? DEFAULT_MAX_BARS;
  const showPassing = options.showPassing ?? history.length <= SMALL_HISTORY;
  const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
  const parts = result.partitions.slice().sort((a, b) => rank[a.verdict] - rank[b.verdict]);
  const sections: string[] = [];
  const hiddenOk: string[] = [];
  for (const part of parts) {
    const label = part.key === null ? 'whole history' : `key ${JSON.stringify(part.key)}`;
    if (part.verdict === 'ok' && !showPassing) {
      hiddenOk.push(escapeHtml(label));
      continue;
    }
    const shown = pickWindow(history, part, max);
    const windowNote =
      shown.length < part.ops.length
        ? `<p class="note">Showing ${shown.length} of ${part.ops.length} operations: those around the point where the checker got stuck.</p>`
        : '';
    const status =
      part.unfinished === 'stopped'
        ? 'not finished'
        : part.verdict === 'illegal'
          ? 'not consistent'
          : part.verdict === 'unknown'
            ? `undecided (${part.unfinished === 'steps' ? 'step' : 'time'} budget)`
            : 'ok';
    const body =
      part.unfinished === 'stopped'
        ? ''
        : `${windowNote}${renderTimeline(model, history, part, shown, unit)}${renderSteps(model, history, part, result.mode, unit, options.maxSteps ?? DEFAULT_MAX_STEPS)}`;
    const open = part.verdict === 'ok' ? '' : ' open';
    sections.push(
      `<details class="partition ${part.verdict}"${open}><summary><span class="pill ${part.verdict}">${escapeHtml(status)}</span> ${escapeHtml(label)} <span class="count">${part.ops.length} operation${part.ops.length === 1 ? '' : 's'}</span></summary>` +
        `<p class="summary">${escapeHtml(partitionSummary(model, history, part))}</p>${body}</details>`,
    );
  }
  if (hiddenOk.length > 0) {
    sections.push(`<p class="note">Passing partitions not drawn (${hiddenOk.length}): ${hiddenOk.join(', ')}.</p>`);
  }
  const title = options.title ?? 'History check';
  const verdictText =
    result.verdict === 'ok'
      ? `${result.mode === 'sequential' ? 'Sequentially consistent' : 'Linearizable'}`
      : result.verdict === 'illegal'
        ? `Not ${result.mode === 'sequential' ? 'sequentially consistent' : 'linearizable'}`
        : 'Undecided: the checker ran out of time';
  const clients = new Set(history.map((o) => o.clientId)).size;
  const facts = `${history.length} operation${history.length === 1 ? '' : 's'}, ${clients} client${clients === 1 ? '' : 's'}, ${result.partitions.length} partition${result.partitions.length === 1 ? '' : 's'}, model ${model.name}, checked in ${result.elapsedMs.toFixed(0)} ms`;
  const explanation = options.explanation ? `<pre class="explain">${escapeHtml(options.explanation)}</pre>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}: ${escapeHtml(verdictText)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>${escapeHtml(title)} <span class="pill big ${result.verdict}">${escapeHtml(verdictText)}</span></h1>
${options.subtitle ? `<p class="sub">${escapeHtml(options.subtitle)}</p>` : ''}<p class="sub">${escapeHtml(facts)}</p></header>
${explanation}
<section class="help"><b>How to read this.</b> Each row is one client; each bar is one operation, from the moment the client sent it
(left edge) to the moment it got the reply (right edge). The horizontal axis shows the order of events, not their duration.
A history is ${result.mode === 'sequential' ? 'sequentially consistent if the operations can be put in one order that keeps each client’s own order' : 'linearizable if every operation can be given a single moment inside its bar'} so that, taken in that order, each reply is what the ${escapeHtml(model.name)} model would answer.
<span class="legend"><span class="op placed sample"><span class="badge">3</span>placed: its step in the legal order</span>
<span class="op unplaced sample"><span class="badge bad">✗</span>could not be placed</span>
<span class="op rest sample">not reached</span><span class="op rest pending sample">never returned</span></span>
<span class="zoom">Zoom <button type="button" data-zoom="0.8">−</button><button type="button" data-zoom="1.25">+</button></span></section>
<main>${sections.join('\n')}</main>
<script>${JS}</script>
</body></html>
`;
}

/** Writes the page to `file` (creating directories) and returns the path. */
export function writeHistoryHtml<S extends {} | null, I, O>(
  file: string,
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  result: CheckResult,
  options: ViewerOptions = {},
): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderHistoryHtml(model, history, result, options));
  return file;
}

const CSS = `
:root{--slot:1;--bg:#f7f7f5;--ink:#1d2330;--muted:#667085;--ok:#1f9d55;--bad:#d92d20;--warn:#b54708;--line:#e4e7ec}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{padding:18px 24px 6px}h1{font-size:20px;margin:0 0 4px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.sub{margin:2px 0;color:var(--muted)}.note{color:var(--muted);margin:6px 0}
.explain{margin:8px 24px;padding:12px 14px;background:#fff;border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:6px;white-space:pre-wrap;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace}
.help{margin:8px 24px;padding:10px 14px;background:#fff;border:1px solid var(--line);border-radius:6px;color:#344054}
.legend{display:flex;gap:10px;flex-wrap:wrap;margin-top:8px}.legend .sample{position:static;display:inline-flex;height:22px;width:auto;padding-right:8px}
.zoom{display:inline-block;margin-top:8px}.zoom button{margin-left:4px;width:28px;height:24px;border:1px solid var(--line);background:#fff;border-radius:4px;cursor:pointer}
main{padding:6px 24px 40px}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;color:#fff;background:var(--muted)}
.pill.ok{background:var(--ok)}.pill.illegal{background:var(--bad)}.pill.unknown{background:var(--warn)}.pill.big{font-size:14px;padding:3px 12px}
.partition{background:#fff;border:1px solid var(--line);border-radius:8px;margin:12px 0;padding:8px 12px}
.partition.illegal{border-color:#fda29b}.partition>summary{cursor:pointer;font-weight:600;padding:4px 0}
.count{color:var(--muted);font-weight:400;margin-left:6px}.summary{margin:6px 0 10px}
.timeline{overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:#fcfcfd}
.lanes{width:calc(var(--w) * var(--slot) + 110px);min-width:100%}
.lane{display:flex;border-bottom:1px solid var(--line)}.lane:last-child{border-bottom:0}
.lane-label{position:sticky;left:0;z-index:2;flex:0 0 100px;padding:8px;background:#f2f4f7;border-right:1px solid var(--line);font-weight:600;font-size:12px}
.lane-track{position:relative;flex:1}
.op{position:absolute;height:24px;display:flex;align-items:center;gap:4px;padding:0 4px;border-radius:5px;font:12px/1 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border:1px solid;cursor:default;transform-origin:left}
.op .txt{overflow:hidden;text-overflow:ellipsis}
.op.placed{background:#d1fadf;border-color:#6ce9a6;color:#054f31}
.op.unplaced{background:#fee4e2;border-color:var(--bad);color:#7a271a;border-width:2px;box-shadow:0 0 0 3px #fda29b80;z-index:1}
.op.rest{background:#f2f4f7;border-color:#d0d5dd;color:#475467}
.op.pending{border-style:dashed;background-image:repeating-linear-gradient(45deg,transparent 0 6px,#0000000d 6px 12px)}
.op.hl{outline:3px solid #2e90fa;z-index:3}
.badge{flex:0 0 auto;min-width:18px;height:16px;padding:0 4px;border-radius:8px;background:#039855;color:#fff;font:600 11px/16px system-ui,sans-serif;text-align:center}
.badge.bad{background:var(--bad)}
.steps-box{margin-top:10px}.steps-box>summary{cursor:pointer;color:#344054}
.steps{border-collapse:collapse;margin-top:6px;font-size:13px;width:100%}
.steps th,.steps td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
.steps th{background:#f9fafb;position:sticky;top:0}.steps tr.unplaced td{background:#fee4e2;font-weight:600}
.steps tr.hl td{background:#d1e9ff}.steps code{white-space:pre-wrap;word-break:break-all}
`;

const JS = `
(function(){
  var scale=1;
  document.querySelectorAll('[data-zoom]').forEach(function(b){b.addEventListener('click',function(){
    scale=Math.min(4,Math.max(0.25,scale*parseFloat(b.getAttribute('data-zoom'))));
    document.querySelectorAll('.lane-track .op').forEach(function(el){
      if(!el.dataset.left){el.dataset.left=parseFloat(el.style.left);el.dataset.width=parseFloat(el.style.width);}
      el.style.left=(el.dataset.left*scale)+'px';el.style.width=Math.max(18,el.dataset.width*scale)+'px';
    });
    document.documentElement.style.setProperty('--slot',scale);
  });});
  function mark(id,on){document.querySelectorAll('[data-op="'+id+'"]').forEach(function(el){el.classList.toggle('hl',on);});}
  document.querySelectorAll('.timeline').forEach(function(tl){
    var bad=tl.querySelector('.op.unplaced');
    if(bad){tl.scrollLeft+=bad.getBoundingClientRect().left-tl.getBoundingClientRect().left-tl.clientWidth/2;}
  });
  document.querySelectorAll('[data-op]').forEach(function(el){
    el.addEventListener('mouseenter',function(){mark(el.getAttribute('data-op'),true);});
    el.addEventListener('mouseleave',function(){mark(el.getAttribute('data-op'),false);});
  });
})();
`;
