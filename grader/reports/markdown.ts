/** summary.md: the score, a table of tests, and each failure with its replay commands. */
import { crashLabel, failureLabel } from '../crash';
import { firstLine, pts, REAL_TIME_NOTE, replayCommand, rerunCommand, secs, seedCell } from '../format';
import { formatProblem, problemsHeadline } from '../typecheck';
import type { LabResult } from '../types';
import { mdCell, mdFence } from './text';

/** The Markdown summary of one lab's run. */
export function markdownSummary(r: LabResult): string {
  const out: string[] = [];
  const failed = r.tests.filter((t) => t.status === 'failed');
  out.push(`# ${r.lab}: ${mdCell(r.title)}`, '');
  out.push(`**Score: ${pts(r.score)}/${pts(r.maxScore)}** · ${r.target === 'solution' ? 'reference solution' : 'student code'} · ${failed.length === 0 ? 'every test passed' : `${failed.length} of ${r.tests.length} tests failed`}`);
  if (r.seedBase !== undefined) out.push('', `${r.runsPerTest} runs per test, seeds derived from base ${r.seedBase}.`);
  else if (r.seed !== undefined) out.push('', `Seed ${r.seed} for every test.`);
  if (r.typeErrors.length > 0) {
    out.push('', `**${problemsHeadline(r.typeErrors)}** The tests ran anyway, as JavaScript; fix these first:`, '');
    for (const p of r.typeErrors) out.push(`- ${mdCell(formatProblem(p))}`);
  }
  out.push('', '| Test | Result | Points | Real time | Virtual time | RPCs | Ops | Seed |', '|---|---|---:|---:|---:|---:|---:|---:|');
  for (const t of r.tests) {
    const label = failureLabel(t.runs);
    const result = t.status === 'passed' ? '✅ passed' : `❌ FAILED${label ? ` (${label})` : ''}`;
    const runs = t.runs.length > 1 ? ` — ${t.runs.length - t.failingSeeds.length}/${t.runs.length} runs passed` : '';
    out.push(`| ${mdCell(t.name)} | ${result}${runs} | ${pts(t.points)}/${pts(t.maxPoints)} | ${secs(t.realMs)} | ${t.realTime ? '—' : secs(t.virtualMs)} | ${t.realTime ? '—' : t.rpcs} | ${t.ops} | ${mdCell(seedCell(t))} |`);
  }
  if (failed.length > 0) {
    out.push('', '## Failures');
    for (const t of failed) {
      out.push('', `### ${mdCell(t.name)}`, '', mdFence(t.message), '');
      if (t.realTime) {
        t.runs.forEach((run, i) => {
          if (run.status === 'failed' && t.runs.length > 1) out.push(`- run ${i + 1}: ${mdCell(crashLabel(run.crash) || firstLine(run.message))}`);
        });
        out.push(`- rerun: \`${rerunCommand(r.lab, t.name, r.target, t.runs.length)}\` (${REAL_TIME_NOTE})`);
        continue;
      }
      for (const run of t.runs.filter((x) => x.status === 'failed')) {
        const why = t.runs.length > 1 ? ` — ${mdCell(crashLabel(run.crash) || firstLine(run.message))}` : '';
        out.push(`- seed=${run.seed}: \`${replayCommand(r.lab, t.name, run.seed, r.target)}\`${why}`);
      }
    }
  }
  out.push('');
  return out.join('\n');
}
