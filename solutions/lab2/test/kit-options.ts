/** What lab 2's standard kit checks (labN.test.ts) and its mutant checks (mutants.full.test.ts) run on. */
import * as path from 'node:path';
import type { LabKitOptions } from '../../kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab2/test/suite';

/** Lab 2's suite, folders, mutants and seeds for describeLabKit and describeLabKitMutants. */
export const kitOptions: LabKitOptions<ReturnType<typeof suite.load>> = {
  suite,
  labDir: path.resolve(__dirname, '../../../lab2'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  replayTest: 'TestManyClientsUnreliable',
};
