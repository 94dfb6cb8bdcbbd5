/** Errors that stop the grader before any test runs: a wrong command line or a lab set up wrongly (exit code 2). */

/** A problem with what the user asked for (unknown lab or test, bad seed) or with a lab's files. */
export class GraderUsageError extends Error {
  override name = 'GraderUsageError';
  /** The process exit code for this error. */
  readonly exitCode = 2;
}

/** Formats a list of names for an error message: "a, b and c". */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
