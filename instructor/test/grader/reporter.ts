/**
 * What classroom-resources/autograding-grading-reporter v1 (commit d13b591) shows a student, re-implemented from the
 * rules its source follows (no code of theirs is copied), so the kit's tests can check what our payloads look like
 * in the student's log: which lines it prints per test, its table's first column, the points and its verdict.
 */

/** One test of a runner's payload, as far as the reporter reads it. */
export interface ReporterTest {
  readonly name: string;
  readonly status: string;
  readonly score: number;
  readonly message: string | null;
  readonly test_code: string;
  readonly line_no: number;
}

/** A runner's payload, as far as the reporter reads it. */
export interface ReporterPayload {
  readonly status: string;
  readonly max_score: number;
  readonly tests: readonly ReporterTest[];
}

/** The reporter's table: its first column is 20 wide with one space of padding each side (src/aggregate-results.js). */
const NAME_COLUMN = 20 - 2;

/**
 * How a runner's name appears in the table's first column: cli-table3 cuts text longer than the column's room
 * to one character less and an ellipsis.
 */
export function tableCell(runner: string): string {
  return runner.length <= NAME_COLUMN ? runner : `${runner.slice(0, NAME_COLUMN - 1)}…`;
}

/**
 * The lines the reporter prints for each test (src/console-results.js): status `pass` and any status but `error`
 * print the name, with " - line N" when `line_no` is not 0; `error` prints "Error: " and the message (or a stock
 * sentence without one); then every test with a `test_code` prints "Test code:" and it.
 */
export function reporterLines(runner: string, payload: ReporterPayload): string[] {
  const lines = [`🔄 Processing: ${runner}`];
  for (const t of payload.tests) {
    const at = t.line_no !== 0 ? ` - line ${t.line_no}` : '';
    if (t.status === 'pass') lines.push(`✅ ${t.name}${at}`);
    else if (t.status === 'error') lines.push(`Error: ${t.message || `Failed to run test '${t.name}'`}`);
    else lines.push(`❌ ${t.name}${at}`);
    if (t.test_code) lines.push('Test code:', t.test_code);
  }
  return lines;
}

/**
 * The reporter's last word (src/main.js): it fails the step with "Some tests failed." when a runner's status is
 * `fail`, else with "Some tests errored." when one is `error`, and passes otherwise.
 */
export function reporterVerdict(payloads: readonly ReporterPayload[]): string {
  if (payloads.some((p) => p.status === 'fail')) return 'Some tests failed.';
  if (payloads.some((p) => p.status === 'error')) return 'Some tests errored.';
  return 'passed';
}
