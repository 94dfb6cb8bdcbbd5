/** What lab 6's standard kit checks (labN.test.ts) and its mutant checks (mutants.full.test.ts) run on. */
import * as path from 'node:path';
import type { LabKitOptions } from '../../kit';
import { mutants } from '../mutants';
import { variants } from '../variants';
import { suite } from '../../../lab6/test/suite';

/** Lab 6's suite, folders, mutants and seeds for describeLabKit and describeLabKitMutants. */
export const kitOptions: LabKitOptions<ReturnType<typeof suite.load>> = {
  suite,
  labDir: path.resolve(__dirname, '../../../lab6'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  variants,
  replayTest: 'TestFigure8Unreliable',
  // The key/value tests (parts 5-7) run whole client workloads: one seed each here (npm run sweep proves them on
  // many), like the generic attackers.
  seedsFor: (t) => (t.generic || t.part >= 5 ? [1] : [1, 2, 3]),
};
