/** The kit's own checks of lab 7 (the standard ones: solution, skeleton, replay, mutants, variants). */
import * as path from 'node:path';
import { describeLabKit } from '../../kit';
import { mutants } from '../mutants';
import { variants } from '../variants';
import { suite } from '../../../lab7/test/suite';

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../../../lab7'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  variants,
  replayTest: 'TestManyConcurrentClerkUnreliable5A',
});
