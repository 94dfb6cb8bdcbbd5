/**
 * The kit's own checks of lab 4: the reference solution passes every named test, the untouched skeleton
 * fails every one without crashing, runs replay exactly, and every mutant is caught by a named test.
 */
import * as path from 'node:path';
import { describeLabKit } from '../../kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab4/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../../../lab4'),
  solutionDir: SOLUTION_DIR,
  mutants,
  replayTest: 'TestOriginalLoadUnreliable',
});
