/** A failing run's message-trace page: self-contained HTML (inline style and script) drawing the replay's recording. */
import * as os from 'node:os';
import * as path from 'node:path';
import { naturalOrder } from '../../checker/natural-order';
import { groupDigits } from '../../suite/digits';
import { describeMinimalFaults } from '../../suite/minimize';
import type { TraceData, TraceEvent } from '../../world';
import { minimalTraceFileName, replayCommand, rerunCommand } from '../format';
import type { RunRecord, Target } from '../types';
import { escapeHtml as h, plainText } from './text';

const tsHook = require('../ts-hook.js') as { compiledCode(cacheDir: string, filename: string): string };

let viewer: string | undefined;

/**
 * The page's script: trace-viewer.ts compiled (once per process) and wrapped so that its CommonJS preamble finds an
 * `exports` of its own. It is compiled from its source rather than loaded, because it runs in the browser only.
 */
function viewerScript(): string {
  if (viewer === undefined) {
    const code = tsHook.compiledCode(path.join(os.tmpdir(), 'kvlabs-no-cache'), path.join(__dirname, 'trace-viewer.ts'));
    const body = code.replace(/\n\/\/# sourceMappingURL=.*$/s, '\n');
    viewer = `(function (exports) {\n${body}})({});`;
  }
  return viewer;
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #1f2328; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
.sub { color: #59636e; margin: 0 0 .75rem; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: .6rem; white-space: pre-wrap; margin: .5rem 0; }
pre.failure { border-left: 4px solid #cf222e; max-height: 14rem; overflow: auto; }
code { background: #eff1f3; border-radius: 4px; padding: .1rem .3rem; }
.bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: .75rem 0; }
.bar label { color: #59636e; }
.note { color: #9a6700; }
.minimal { border-left: 4px solid #9a6700; padding-left: .6rem; }
#wrap { border: 1px solid #d1d9e0; border-radius: 6px; overflow-x: hidden; cursor: grab; }
#details { min-height: 5rem; }
#tip { position: absolute; display: none; background: #1f2328; color: #fff; padding: .3rem .5rem; border-radius: 4px; font-size: 12px; white-space: pre; pointer-events: none; max-width: 40rem; overflow: hidden; }
.legend span { margin-right: 1rem; }
`;

/** What the page shows besides the trace. */
export interface TracePageInput {
  readonly lab: string;
  readonly target: Target;
  readonly description: string;
  readonly run: RunRecord & { readonly trace: TraceData };
  /** The file name of the run's history page (linearizability view), when there is one. */
  readonly historyFile?: string;
  /**
   * Set on the page of a run's smallest failing schedule (its minimised replay, whose trace `run` then holds):
   * the file name of the whole run's trace page, which it links back to.
   */
  readonly minimalOf?: string;
}

/** The page for one failing run. */
export function tracePage(p: TracePageInput): string {
  const { run } = p;
  const trace = run.trace;
  const fail = trace.events.find((e): e is Extract<TraceEvent, { k: 'fail' }> => e.k === 'fail');
  const cut =
    trace.cut > 0
      ? `<p class="note">This run had ${groupDigits(trace.cut + trace.events.length)} events; a trace keeps the last ${groupDigits(trace.limit)} (or fewer to stay small), so the first ${groupDigits(trace.cut)} are not shown. The failure is at the end, so it is.</p>\n`
      : '';
  const history = p.historyFile
    ? `<p><a href="${h(encodeURIComponent(p.historyFile))}">Open the linearizability view of this run’s history</a> (which operation could not be placed, client by client).</p>\n`
    : '';
  const link = (file: string, text: string): string => `<a href="${h(encodeURIComponent(file))}">${text}</a>`;
  const other = p.minimalOf
    ? ` ${link(p.minimalOf, 'Open the trace of the whole failing run')}.`
    : run.minimalReplay
      ? ` ${link(minimalTraceFileName(run.name, run.seed), 'Open the trace of this smallest failing schedule')} (the same seed replayed with only these faults).`
      : '';
  const minimal = run.minimal ? `<p class="minimal"><b>Smallest failing schedule.</b> ${h(describeMinimalFaults(run.minimal))}${other} <span class="sub">(${run.minimal.replays} replays; faults are lost requests, lost replies and held-back replies)</span></p>\n` : '';
  const real = trace.clock === 'real';
  const silent =
    real && !trace.events.some((e) => e.k === 'call')
      ? `<p class="note">This test sent nothing over the connections its transcript records, so the page has no messages to draw, only the moment it failed: its failure message above says what it saw.</p>\n`
      : '';
  const when = fail ? ` at ${real ? 'real' : 'virtual'} time ${(fail.t / 1000).toFixed(3)} s` : '';
  const intro = real
    ? `This is the failing run’s transcript: every command the test’s clients sent and the reply each got, on one lane per connection, in real time since the test began (a real-time test is not replayed, and the server’s side is not seen). It failed${h(when)}:`
    : p.minimalOf
      ? `This is the smallest failing schedule the grader found: the same seed replayed with only the network's faults named below (and the test's own), recorded. With fewer messages lost or held, what breaks is easier to see. It failed${h(when)}:`
      : `The grader replayed this seed with recording on: the run below is exactly the failing run. It failed${h(when)}:`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(`${run.name} seed ${run.seed} — ${p.minimalOf ? 'smallest failing schedule' : 'trace'}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${h(`${p.lab} · ${run.name}`)} — ${p.minimalOf ? 'smallest failing schedule' : 'message trace'}</h1>
<p class="sub">${h(p.description)} · ${real ? 'rerun' : `seed ${run.seed} · replay`}: <code>${h(real ? rerunCommand(p.lab, run.name, p.target) : replayCommand(p.lab, run.name, run.seed, p.target))}</code></p>
<p>${intro}</p>
<pre class="failure">${h(plainText(run.message))}</pre>
${minimal}${history}${cut}${silent}<div class="bar">
<button id="to-failure">Go to the failure</button><button id="zoom-in">Zoom in</button><button id="zoom-out">Zoom out</button><button id="fit">Whole run</button>
<label>Key <input id="f-key" size="10" placeholder="any"></label>
<label>Client <select id="f-client"><option value="">any</option></select></label>
<label>Server <select id="f-server"><option value="">any</option></select></label>
<label id="f-causal-label"><input type="checkbox" id="f-causal" checked> Dim what did not lead to the failure</label>
<span id="counts"></span>
</div>
<p class="sub" id="causal"></p>
${names(trace)}<p class="sub legend">${legend(trace)} · Wheel: zoom · drag: move in time · click: details · <span id="view"></span></p>
<div id="wrap"><canvas id="lanes"></canvas></div>
<pre id="details"></pre>
<div id="tip"></div>
<script type="application/json" id="trace-data">${embedJson(trace)}</script>
<script>${viewerScript()}</script>
</body>
</html>
`;
}

/** The legend: only the kinds of mark this trace has (a lab without clerk operations shows no clerk-operation bar). */
export function legend(trace: TraceData): string {
  const has = (k: TraceEvent['k']): boolean => trace.events.some((e) => e.k === k);
  const parts: string[] = [];
  if (has('call')) parts.push('<span style="color:#0969da">→ request</span>');
  if (has('reply')) parts.push('<span style="color:#1a7f37">→ reply</span>');
  const lost = has('drop') ? '✕ lost message' : '';
  const timeout = has('timeout') ? '| timeout at the caller' : '';
  if (lost || timeout) parts.push(`<span style="color:#cf222e">${[lost, timeout].filter(Boolean).join(', ')}</span>`);
  if (has('log')) parts.push('<span style="color:#8250df">● printed line</span>');
  if (has('net')) parts.push('<span style="color:#9a6700">● network change (start, kill, end enabled/disabled)</span>');
  if (has('op')) parts.push('<span>▬ clerk operation (what the caller got)</span>');
  if (has('role'))
    parts.push(
      '<span><span style="color:#d4a72c">▬ leader</span>, <span style="color:#fb8f44">▬ candidate</span>, <span style="color:#8c959f">▬ crashed</span> (a peer\'s role and term; none: follower)</span>',
    );
  if (has('fail')) parts.push('<span style="color:#cf222e">| the moment the test failed</span>');
  return parts.join('');
}

/**
 * Every lane of the page with the ends it sent through, as text the browser's search finds: a console message
 * names a client or server as its lane does ("client 4"), and an end ("clerk-end-5") leads to its lane here.
 */
export function names(trace: TraceData): string {
  const ends = new Map<string, Set<string>>();
  const lane = (n: string): Set<string> => ends.get(n) ?? ends.set(n, new Set()).get(n)!;
  for (const e of trace.events) {
    if (e.k === 'call') {
      lane(e.from).add(e.end);
      lane(e.to);
    } else if (e.k === 'op' || e.k === 'net' || e.k === 'log' || e.k === 'role') lane(e.lane);
  }
  if (ends.size === 0) return '';
  const rows = [...ends.keys()].sort(naturalOrder).map((n) => {
    const through = [...(ends.get(n) ?? [])].sort(naturalOrder);
    return `<li>${h(n)}${through.length > 0 ? `: sends through ${h(through.join(', '))}` : ''}</li>`;
  });
  return `<details class="sub" id="names"><summary>Lanes, and the ends each sends through (search here for a name the console printed)</summary><ul>${rows.join('')}</ul></details>\n`;
}

/** JSON that cannot end the script element it sits in. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
