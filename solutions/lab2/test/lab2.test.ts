/** The kit's own checks of lab 2 (the standard ones: solution, skeleton, replay, mutants). */
import * as path from 'node:path';
import { describeLabKit } from '../../kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab2/test/suite';

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../../../lab2'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  replayTest: 'TestManyClientsUnreliable',
});
