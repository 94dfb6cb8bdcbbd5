/** The kit's own checks of lab 6 (the standard ones: solution, skeleton, replay, mutants). */
import * as path from 'node:path';
import { describeLabKit } from '../../kit';
import { mutants } from '../mutants';
import { variants } from '../variants';
import { suite } from '../../../lab6/test/suite';

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../../../lab6'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  variants,
  replayTest: 'TestFigure8Unreliable',
  // The key/value tests (parts 5-7) run whole client workloads: one seed each here (npm run sweep proves them on
  // many), like the generic attackers.
  seedsFor: (t) => (t.generic || t.part >= 5 ? [1] : [1, 2, 3]),
});
