/** The batch gradebook: one row per student, one column per named test, as CSV. */
import { stringify } from 'csv-stringify/sync';

/** How grading one submission ended. */
export type RowStatus = 'graded' | 'refused' | 'timeout' | 'error';

/** One student's row. */
export interface GradebookRow {
  readonly student: string;
  readonly status: RowStatus;
  readonly score: number;
  readonly maxScore: number;
  /** Points per test (absent when the test did not run). */
  readonly tests: Readonly<Record<string, number>>;
  /** Protected files in the student's repository that differ from the template (graded with the originals). */
  readonly tampered: readonly string[];
  /** Everything else worth knowing, for people. */
  readonly notes: readonly string[];
  /** Real time spent grading, ms. */
  readonly realMs: number;
}

/** The gradebook CSV (RFC 4180): student, score, max, one column per test, status, tampered, notes; no field a formula. */
export function gradebookCsv(rows: readonly GradebookRow[], testNames: readonly string[]): string {
  const header = ['student', 'score', 'max', ...testNames, 'status', 'tampered', 'notes'];
  const records = rows.map((r) => [
    r.student,
    r.score,
    r.maxScore,
    ...testNames.map((t) => (t in r.tests ? r.tests[t] : '')),
    r.status,
    r.tampered.join('; '),
    r.notes.join('; '),
  ]);
  // A field a spreadsheet would run as a formula (=, +, -, @ first: a file name or a crash's note can start so) is
  // written with a leading ' instead.
  return stringify([header, ...records], { escape_formulas: true });
}
