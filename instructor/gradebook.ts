/** The batch gradebook: one row per student, one column per named test, as CSV. */

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

/** One CSV field, quoted when it must be (RFC 4180). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The gradebook CSV: student, score, max, one column per test, status, tampered, notes. */
export function gradebookCsv(rows: readonly GradebookRow[], testNames: readonly string[]): string {
  const header = ['student', 'score', 'max', ...testNames, 'status', 'tampered', 'notes'];
  const lines = rows.map((r) =>
    [r.student, r.score, r.maxScore, ...testNames.map((t) => (t in r.tests ? r.tests[t] : '')), r.status, r.tampered.join('; '), r.notes.join('; ')].map(csvField).join(','),
  );
  return `${[header.map(csvField).join(','), ...lines].join('\n')}\n`;
}

/** Parses CSV text (RFC 4180: quoted fields may hold commas, quotes and newlines) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
