/** What lab test files and the grader share. */
export * from './types';
export { scored } from './scored';
export { TestFailure, FailureAttachments, check, isTestFailure, isTodo } from './failure';
export { runNamedTest, RunOptions, describeError, liveOpCount } from './run';
export { Transcript, bounded } from './transcript';
export { assertLinearizable, checkForTest, TestCheck, CHECK_STEP_BUDGET, SEQUENTIAL_STEP_BUDGET } from './linearizable';
export { within } from './within';
export {
  minimizeFaults,
  describeMinimalFaults,
  failureSignature,
  scriptedFaults,
  MinimalFaults,
  FailsWith,
  ScriptedFaults,
} from './minimize';
