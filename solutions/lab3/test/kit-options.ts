/** What lab 3's standard kit checks (labN.test.ts) and its mutant checks (mutants.full.test.ts) run on. */
import * as path from 'node:path';
import type { LabKitOptions } from '../../kit';
import { mutants } from '../mutants';
import { variants } from '../variants';
import { suite } from '../../../lab3/test/suite';

/** Lab 3's suite, folders, mutants and seeds for describeLabKit and describeLabKitMutants. */
export const kitOptions: LabKitOptions<ReturnType<typeof suite.load>> = {
  suite,
  labDir: path.resolve(__dirname, '../../../lab3'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  variants,
  replayTest: 'TestLinearizableConcurrent',
};
