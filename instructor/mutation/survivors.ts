/** Reads Stryker's JSON report of one lab and writes the score and every surviving mutant as survivors.md. */
import * as fs from 'node:fs';

/** The parts of Stryker's JSON report (the mutation-testing-elements schema) read here. */
interface Position {
  line: number;
  column: number;
}
interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  location: { start: Position; end: Position };
  status: string;
  coveredBy?: string[];
}
export interface MutationReport {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
  testFiles?: Record<string, { tests: { id: string; name: string }[] }>;
}

/** Counts of mutants by outcome, and the score as Stryker computes it. */
export interface MutationSummary {
  total: number;
  killed: number;
  timedOut: number;
  survived: number;
  noCoverage: number;
  /** Mutants that do not compile or crash on load: not counted in the score. */
  invalid: number;
  /** (killed + timed out) / (killed + timed out + survived + no coverage), in percent. */
  score: number;
}

/** A surviving (or never reached) mutant, located in the solution. */
export interface Survivor {
  file: string;
  line: number;
  mutator: string;
  original: string;
  replacement: string;
  status: string;
  /** Named tests that reach the mutated code (none: no test runs it). */
  reachedBy: string[];
}

const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** The text a mutant replaces, on one line, shortened to `max` characters. */
function originalText(source: string, m: ReportMutant, max = 80): string {
  const lines = source.split('\n');
  const { start, end } = m.location;
  const text =
    start.line === end.line
      ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
      : [
          lines[start.line - 1].slice(start.column - 1),
          ...lines.slice(start.line, end.line - 1),
          lines[end.line - 1].slice(0, end.column - 1),
        ].join('\n');
  return shorten(text, max);
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Counts and survivors of a report. */
export function summarise(report: MutationReport): { summary: MutationSummary; survivors: Survivor[] } {
  const testNames = new Map<string, string>();
  for (const tf of Object.values(report.testFiles ?? {}))
    for (const t of tf.tests) testNames.set(t.id, t.name.split(' ').pop() ?? t.name);
  const summary: MutationSummary = {
    total: 0,
    killed: 0,
    timedOut: 0,
    survived: 0,
    noCoverage: 0,
    invalid: 0,
    score: 0,
  };
  const survivors: Survivor[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      summary.total++;
      if (m.status === 'Killed') summary.killed++;
      else if (m.status === 'Timeout') summary.timedOut++;
      else if (m.status === 'Survived') summary.survived++;
      else if (m.status === 'NoCoverage') summary.noCoverage++;
      else summary.invalid++;
      if (UNDETECTED.has(m.status)) {
        survivors.push({
          file,
          line: m.location.start.line,
          mutator: m.mutatorName,
          original: originalText(source, m),
          replacement: shorten(m.replacement ?? '', 80),
          status: m.status,
          reachedBy: (m.coveredBy ?? []).map((id) => testNames.get(id) ?? id),
        });
      }
    }
  }
  const detected = summary.killed + summary.timedOut;
  const valid = detected + summary.survived + summary.noCoverage;
  summary.score = valid === 0 ? 100 : (100 * detected) / valid;
  survivors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { summary, survivors };
}

/** The score line printed at the end of a run. */
export function scoreLine(lab: string, s: MutationSummary): string {
  return (
    `${lab}: mutation score ${s.score.toFixed(1)}% — ${s.killed + s.timedOut} of ${s.total - s.invalid} mutants detected ` +
    `(${s.killed} killed, ${s.timedOut} timed out), ${s.survived} survived, ${s.noCoverage} never reached` +
    (s.invalid > 0 ? `; ${s.invalid} invalid (compile or runtime error), not counted` : '')
  );
}

const cell = (text: string): string => '`' + text.replace(/`/g, "'").replace(/\|/g, '\\|') + '`';

/** survivors.md: the score, how it was run, and a table of the undetected mutants. */
export function survivorsMarkdown(
  lab: string,
  summary: MutationSummary,
  survivors: readonly Survivor[],
  how: string,
): string {
  const rows = survivors.map(
    (s) =>
      `| ${s.file.replace(/^solutions\/[^/]+\//, '')}:${s.line} | ${s.mutator} | ${cell(s.original)} | ${cell(s.replacement)} | ` +
      `${s.status === 'NoCoverage' ? 'none (never reached)' : s.reachedBy.join(', ')} |`,
  );
  return [
    `# Mutation testing of solutions/${lab}`,
    '',
    scoreLine(lab, summary) + '.',
    '',
    how,
    '',
    `## Undetected mutants (${survivors.length})`,
    '',
    'Each is either equivalent (no program can tell it from the solution) or a test the suite is missing.',
    '',
    '| where | mutator | original | replacement | tests that reach it |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Reads `jsonPath` and writes `mdPath`; returns the summary. */
export function writeSurvivors(lab: string, jsonPath: string, mdPath: string, how: string): MutationSummary {
  const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as MutationReport;
  const { summary, survivors } = summarise(report);
  fs.writeFileSync(mdPath, survivorsMarkdown(lab, summary, survivors, how));
  return summary;
}
