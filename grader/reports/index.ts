/** Writes a lab's report folder: results.json, junit.xml, summary.md, index.html, history and trace pages, classroom payload. */
import fs from 'node:fs';
import path from 'node:path';
import { historyFileName, minimalTraceFileName, traceFileName } from '../format';
import type { LabResult } from '../types';
import { classroomOutputs, classroomResult, encodeClassroom } from './classroom';
import { htmlReport } from './html';
import { resultsDocument } from './json';
import { junitXml } from './junit';
import { actionsRunUrl, markdownSummary } from './markdown';
import { tracePage } from './trace';

/** The files written for one lab. */
export interface WrittenReports {
  readonly dir: string;
  readonly files: readonly string[];
}

/** Writes every report of `r` into `dir` (created if needed; old history and trace pages there are removed). */
export function writeLabReports(dir: string, r: LabResult): WrittenReports {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (/^(history|trace)-.*\.html$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  const files: string[] = [];
  const put = (name: string, text: string): void => {
    fs.writeFileSync(path.join(dir, name), text);
    files.push(name);
  };
  put('results.json', `${JSON.stringify(resultsDocument(r), null, 2)}\n`);
  put('junit.xml', junitXml([r]));
  put('summary.md', markdownSummary(r));
  for (const t of r.tests) {
    for (const run of t.runs) {
      if (run.status !== 'failed') continue;
      const historyFile = run.historyHtml ? historyFileName(t.name, run.seed) : undefined;
      if (historyFile && run.historyHtml) put(historyFile, run.historyHtml);
      const page = { lab: r.lab, target: r.target, description: t.description, historyFile };
      if (run.trace) put(traceFileName(t.name, run.seed), tracePage({ ...page, run: { ...run, trace: run.trace } }));
      const small = run.minimalReplay;
      if (run.trace && small) put(minimalTraceFileName(t.name, run.seed), tracePage({ ...page, historyFile: undefined, run: { ...run, ...small }, minimalOf: traceFileName(t.name, run.seed) }));
    }
  }
  put('index.html', htmlReport(r));
  const payload = classroomResult([r]);
  put('classroom.json', `${JSON.stringify(payload, null, 2)}\n`);
  put('classroom.b64', `${encodeClassroom(payload)}\n`);
  return { dir, files };
}

/** Appends the Classroom payloads (`result=` and one per test) to the file GitHub Actions reads step outputs from. */
export function writeGithubOutput(file: string, labs: readonly LabResult[]): void {
  fs.appendFileSync(file, classroomOutputs(labs));
}

/**
 * Appends each lab's summary (score table, failures with their replay commands) to the job summary GitHub shows on
 * the run's page, linking that page for the `grading-reports` artifact (`env` holds the run's GITHUB_* variables).
 */
export function writeStepSummary(
  file: string,
  labs: readonly LabResult[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  const runUrl = actionsRunUrl(env);
  fs.appendFileSync(file, labs.map((l) => markdownSummary(l, { runUrl })).join('\n'));
}
