/** The kit's own checks of lab 2 (the standard ones: solution, skeleton, replay, mutants). */
import * as path from 'node:path';
import { describeLabKit } from '../../../tester/kit';
import { mutants } from '../../../solutions/lab2/mutants';
import { suite } from '../suite';

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../..'),
  solutionDir: path.resolve(__dirname, '../../../solutions/lab2'),
  mutants,
  replayTest: 'TestManyClientsUnreliable',
});
