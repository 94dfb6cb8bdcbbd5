/**
 * summary.md and the job summary on GitHub: the score, a table of tests, and each failure with its message (wrapped,
 * since a code block on GitHub does not wrap), where to look in the student's code, its replay command and links
 * to the full report and its trace page.
 */
import { crashLabel, failureLabel } from '../crash';
import { firstLine, pts, REAL_TIME_NOTE, replayCommand, rerunCommand, secs, seedCell, traceFileName } from '../format';
import { formatProblem, problemsHeadline } from '../typecheck';
import type { LabResult, RunRecord } from '../types';
import { failureLocation, locationText } from './location';
import { mdCell, mdCode, mdFence } from './text';

/** Widest line of a failure's message in a code block, characters: GitHub shows a code block's lines unwrapped. */
export const WRAP_WIDTH = 110;

/** Where the report's other files are, for its links. */
export interface SummaryLinks {
  /**
   * The page of the GitHub Actions run whose `grading-reports` artifact holds the reports (the job summary);
   * undefined for summary.md, which links the files beside it.
   */
  readonly runUrl?: string;
}

/** The page of the current GitHub Actions run, from the variables every run has; undefined outside Actions. */
export function actionsRunUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

/** The Markdown summary of one lab's run. */
export function markdownSummary(r: LabResult, links: SummaryLinks = {}): string {
  const out: string[] = [];
  const failed = r.tests.filter((t) => t.status === 'failed');
  /** A report file: a link beside summary.md, or its path inside the artifact in the job summary. */
  const file = (name: string): string =>
    links.runUrl ? `\`${r.lab}/${name}\` in the artifact` : `[${name}](${encodeURI(name)})`;
  out.push(`# ${r.lab}: ${mdCell(r.title)}`, '');
  out.push(
    `**Score: ${pts(r.score)}/${pts(r.maxScore)}** · ${r.target === 'solution' ? 'reference solution' : 'student code'} · ` +
      (failed.length === 0 ? 'every test passed' : `${failed.length} of ${r.tests.length} tests failed`),
  );
  if (r.seedBase !== undefined) out.push('', `${r.runsPerTest} runs per test, seeds derived from base ${r.seedBase}.`);
  else if (r.seed !== undefined) out.push('', `Seed ${r.seed} for every test.`);
  out.push(
    '',
    links.runUrl
      ? `The whole report (\`${r.lab}/index.html\`, and a trace page for each failure) is in the **grading-reports** ` +
          `artifact: download it from [this run's Summary page](${links.runUrl}), at its foot.`
      : `The whole report: ${file('index.html')}, with a trace page for each failure.`,
  );
  if (r.typeErrors.length > 0) {
    out.push('', `**${problemsHeadline(r.typeErrors)}** The tests ran anyway, as JavaScript; fix these first:`, '');
    for (const p of r.typeErrors) out.push(`- ${mdCode(formatProblem(p))}`);
  }
  out.push(
    '',
    '| Test | Result | Points | Real time | Virtual time | RPCs | Ops | Seed |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const t of r.tests) {
    const label = failureLabel(t.runs);
    const result = t.status === 'passed' ? '✅ passed' : `❌ FAILED${label ? ` (${label})` : ''}`;
    const runs = t.runs.length > 1 ? ` — ${t.runs.length - t.failingSeeds.length}/${t.runs.length} runs passed` : '';
    out.push(
      `| ${mdCell(t.name)} | ${result}${runs} | ${pts(t.points)}/${pts(t.maxPoints)} | ${secs(t.realMs)} | ` +
        `${t.realTime ? '—' : secs(t.virtualMs)} | ${t.realTime ? '—' : t.rpcs} | ${t.ops} | ${mdCell(seedCell(t))} |`,
    );
  }
  if (failed.length > 0) {
    out.push('', '## Failures');
    for (const t of failed) {
      out.push('', `### ${mdCell(t.name)}`, '', mdFence(wrapText(t.message, WRAP_WIDTH)), '');
      const at = failureLocation(r, t);
      if (at) out.push(`- where to look: \`${locationText(at)}\``);
      const traced = t.runs.find((run): run is RunRecord => run.status === 'failed' && run.trace !== undefined);
      if (traced) out.push(`- trace of seed ${traced.seed}: ${file(traceFileName(t.name, traced.seed))}`);
      if (t.realTime) {
        t.runs.forEach((run, i) => {
          if (run.status === 'failed' && t.runs.length > 1)
            out.push(`- run ${i + 1}: ${mdCode(crashLabel(run.crash) || firstLine(run.message))}`);
        });
        out.push(`- rerun: \`${rerunCommand(r.lab, t.name, r.target, t.runs.length)}\` (${REAL_TIME_NOTE})`);
        continue;
      }
      for (const run of t.runs.filter((x) => x.status === 'failed')) {
        const why = t.runs.length > 1 ? ` — ${mdCode(crashLabel(run.crash) || firstLine(run.message))}` : '';
        out.push(`- seed=${run.seed}: \`${replayCommand(r.lab, t.name, run.seed, r.target)}\`${why}`);
      }
    }
  }
  out.push('');
  return out.join('\n');
}

/**
 * `text` with every line longer than `width` broken at spaces (a word longer than the width is cut), each
 * continuation indented as its line was plus two spaces, so nothing is cut off where lines are not wrapped.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      const indent = `${/^\s*/.exec(line)?.[0] ?? ''}  `.slice(0, Math.floor(width / 2));
      const lines: string[] = [];
      let rest = line;
      while (rest.length > width) {
        const space = rest.lastIndexOf(' ', width);
        const cut = space > indent.length ? space : width;
        lines.push(rest.slice(0, cut).trimEnd());
        rest = indent + rest.slice(cut).trimStart();
      }
      return [...lines, rest];
    })
    .join('\n');
}
