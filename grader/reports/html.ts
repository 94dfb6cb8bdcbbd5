/** index.html: a self-contained page with the table of tests and each failure, linking failing histories. */
import { crashLabel, failureLabel } from '../crash';
import { firstLine, historyFileName, minimalTraceFileName, pts, REAL_TIME_NOTE, replayCommand, rerunCommand, secs, seedCell, traceFileName } from '../format';
import { describeMinimalFaults } from '../../suite/minimize';
import { formatProblem, problemsHeadline } from '../typecheck';
import type { LabResult, RunRecord, TestResult } from '../types';
import { escapeHtml as h, plainText } from './text';

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.sub { color: #59636e; margin-top: 0; }
.score { font-size: 1.25rem; font-weight: 600; }
.full { color: #1a7f37; } .partial { color: #9a6700; } .zero { color: #cf222e; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #1a7f37; font-weight: 600; } .failed { color: #cf222e; font-weight: 600; }
.label { color: #cf222e; font-size: .85em; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
code { background: #eff1f3; border-radius: 4px; padding: .1rem .3rem; }
section.failure { border-left: 4px solid #cf222e; padding-left: 1rem; margin-bottom: 2rem; }
details { margin: .5rem 0; } summary { cursor: pointer; color: #59636e; }
`;

/** The HTML page for one lab's run. */
export function htmlReport(r: LabResult): string {
  const failed = r.tests.filter((t) => t.status === 'failed');
  const scoreClass = r.score === r.maxScore ? 'full' : r.score === 0 ? 'zero' : 'partial';
  let seeds = 'A fresh seed per test.';
  if (r.seedBase !== undefined) seeds = `${r.runsPerTest} runs per test, seeds derived from base ${r.seedBase}.`;
  else if (r.seed !== undefined) seeds = `Seed ${r.seed} for every test.`;
  const rows = r.tests.map((t) => row(t)).join('\n');
  const failures = failed.map((t) => failureSection(r, t)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(`${r.lab} — ${pts(r.score)}/${pts(r.maxScore)}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${h(`${r.lab}: ${r.title}`)}</h1>
<p class="sub">${h(r.target === 'solution' ? 'Reference solution' : 'Student code')} · ${h(seeds)}</p>
<p class="score ${scoreClass}">Score: ${h(`${pts(r.score)}/${pts(r.maxScore)}`)}</p>
${typeErrorsSection(r)}<p>${failed.length === 0 ? 'Every test passed.' : h(`${failed.length} of ${r.tests.length} tests failed. Details below the table.`)}</p>
<table>
<thead><tr><th>Test</th><th>Result</th><th>Points</th><th>Real time</th><th>Virtual time</th><th>RPCs</th><th>Ops</th><th>Seed</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${failed.length > 0 ? `<h2>Failures</h2>\n${failures}` : ''}
</body>
</html>
`;
}

/** The type errors in the graded files, if any, as a warning above the table. */
function typeErrorsSection(r: LabResult): string {
  if (r.typeErrors.length === 0) return '';
  const items = r.typeErrors.map((p) => `<li><code>${h(formatProblem(p))}</code></li>`).join('\n');
  return `<section class="failure"><h2>${h(problemsHeadline(r.typeErrors))}</h2>
<p>The tests ran anyway (as JavaScript), but a type error is often why a test fails: fix these first.</p>
<ul>
${items}
</ul></section>
`;
}

function row(t: TestResult): string {
  const label = failureLabel(t.runs);
  const runs = t.runs.length > 1 ? ` <span class="label">${h(`${t.runs.length - t.failingSeeds.length}/${t.runs.length} runs passed`)}</span>` : '';
  const result =
    t.status === 'passed'
      ? `<span class="passed">passed</span>${runs}`
      : `<a class="failed" href="#${h(anchor(t.name))}">FAILED</a>${label ? ` <span class="label">${h(label)}</span>` : ''}${runs}`;
  return `<tr><td title="${h(t.description)}">${h(t.name)}</td><td>${result}</td><td class="num">${h(`${pts(t.points)}/${pts(t.maxPoints)}`)}</td><td class="num">${h(secs(t.realMs))}</td><td class="num">${t.realTime ? '—' : h(secs(t.virtualMs))}</td><td class="num">${t.realTime ? '—' : t.rpcs}</td><td class="num">${t.ops}</td><td class="num">${h(seedCell(t))}</td></tr>`;
}

function failureSection(r: LabResult, t: TestResult): string {
  const parts = [`<section class="failure" id="${h(anchor(t.name))}">`, `<h3>${h(t.name)}</h3>`, `<p>${h(t.description)}</p>`];
  const failing = t.runs.filter((x) => x.status === 'failed');
  for (const run of failing) parts.push(runBlock(r, t, run, failing.length > 1));
  if (t.realTime) parts.push(`<p>rerun: <code>${h(rerunCommand(r.lab, t.name, r.target, t.runs.length))}</code> (${h(REAL_TIME_NOTE)})</p>`);
  parts.push('</section>');
  return parts.join('\n');
}

function runBlock(r: LabResult, t: TestResult, run: RunRecord, several: boolean): string {
  const out: string[] = [];
  const which = t.realTime ? `run ${t.runs.indexOf(run) + 1}` : `seed=${run.seed}`;
  if (several) out.push(`<h4>${which} — ${h(crashLabel(run.crash) || firstLine(plainText(run.message)))}</h4>`);
  out.push(`<pre>${h(plainText(run.message))}</pre>`);
  if (!t.realTime) out.push(`<p>seed=${run.seed} · replay: <code>${h(replayCommand(r.lab, t.name, run.seed, r.target))}</code></p>`);
  if (run.trace) {
    const file = traceFileName(t.name, run.seed);
    out.push(`<p><a href="${h(encodeURIComponent(file))}">Open the message trace of this run</a> (every message, lost message, operation and printed line of its exact replay, up to the failure).</p>`);
    const small = run.minimalReplay ? ` <a href="${h(encodeURIComponent(minimalTraceFileName(t.name, run.seed)))}">Open the trace of this smallest failing schedule</a>.` : '';
    if (run.minimal) out.push(`<p>${h(describeMinimalFaults(run.minimal, 3))}${small}</p>`);
  }
  if (run.historyHtml) {
    const file = historyFileName(t.name, run.seed);
    out.push(`<p><a href="${h(encodeURIComponent(file))}">Open the history of this run</a> (which operation could not be placed, client by client).</p>`);
  }
  if (run.log.length > 0) out.push(`<details><summary>Test log (${run.log.length} lines)</summary><pre>${h(plainText(run.log.join('\n')))}</pre></details>`);
  if (run.output) out.push(`<details><summary>What your code printed</summary><pre>${h(plainText(run.output))}</pre></details>`);
  return out.join('\n');
}

function anchor(name: string): string {
  return `test-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
