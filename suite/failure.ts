/** Failures raised by named tests. */

/** Extra material a failed test hands to the report. */
export interface FailureAttachments {
  /** A self-contained HTML page of the history that broke (the checker's viewer). */
  historyHtml?: string;
}

/** Every TestFailure the harness made: the brand a verdict is recognised by (no code under test can add to it). */
const failures = new WeakSet<object>();

/** A test's own verdict: something the student's code did wrong, stated for the student. */
export class TestFailure extends Error {
  readonly attachments: FailureAttachments;
  override name = 'TestFailure';
  constructor(message: string, attachments: FailureAttachments = {}) {
    super(message);
    this.attachments = attachments;
    failures.add(this);
  }
}
// Neither the class nor its prototype can change (`Symbol.hasInstance` included), should either ever be reached.
Object.freeze(TestFailure);
Object.freeze(TestFailure.prototype);

/**
 * True for a failure the harness made: what a verdict is decided by, never `instanceof` (whose answer a value of the
 * code under test's could bend, a Proxy through its prototype).
 */
export function isTestFailure(value: unknown): value is TestFailure {
  return typeof value === 'object' && value !== null && failures.has(value);
}

/** Fails the test with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new TestFailure(typeof message === 'string' ? message : message());
}

/**
 * True for the failure of code not written yet: a skeleton's "TODO: ... is not implemented yet" error. Such a failure
 * needs no replay, trace or fault diagnosis: one line says what to write next.
 */
export function isTodo(message: string): boolean {
  const first = message.split('\n', 1)[0];
  return /^\s*(?:[A-Za-z]*Error: )?TODO\b/.test(first) || /\bnot implemented yet\b/.test(first);
}
