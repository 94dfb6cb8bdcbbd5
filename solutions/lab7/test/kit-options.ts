/** What lab 7's standard kit checks (lab7.test.ts) and its mutant checks (mutants.full.test.ts) run on. */
import * as path from 'node:path';
import type { LabKitOptions } from '../../kit';
import { mutants } from '../mutants';
import { variants } from '../variants';
import { suite } from '../../../lab7/test/suite';

/** Lab 7's suite, folders, mutants and seeds for describeLabKit and describeLabKitMutants. */
export const kitOptions: LabKitOptions<ReturnType<typeof suite.load>> = {
  suite,
  labDir: path.resolve(__dirname, '../../../lab7'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  variants,
  replayTest: 'TestManyConcurrentClerkUnreliable5A',
  // Part 3's tests race controllers through whole rounds of cut-offs and the attackers play five rounds: one seed
  // each here (npm run sweep proves them on many), like the memory test.
  seedsFor: (t) => (t.generic || t.part >= 3 || t.name.startsWith('TestMem') ? [1] : [1, 2, 3]),
};
