/**
 * The kit's own checks of lab 4: the reference solution passes every named test, the untouched skeleton
 * fails every one without crashing, runs replay exactly, and every mutant is caught by a named test.
 */
import * as path from 'node:path';
import { describeLabKit } from '../../../tester/kit';
import { mutants } from '../../../solutions/lab4/mutants';
import { suite } from '../suite';

const SOLUTION_DIR = path.resolve(__dirname, '../../../solutions/lab4');

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../..'),
  solutionDir: SOLUTION_DIR,
  mutants,
  replayTest: 'TestOriginalLoadUnreliable',
});
