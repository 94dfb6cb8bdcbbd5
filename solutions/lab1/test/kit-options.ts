/** What lab 1's standard kit checks (labN.test.ts) and its mutant checks (mutants.full.test.ts) run on. */
import * as path from 'node:path';
import type { LabKitOptions } from '../../kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab1/test/suite';

/** Tests that cost seconds of real time each (large workloads, memory measurements) run on one seed here. */
const HEAVY = /^Test(Mem|Basic$|Concurrent$)/;

/** Lab 1's suite, folders, mutants and seeds for describeLabKit and describeLabKitMutants. */
export const kitOptions: LabKitOptions<ReturnType<typeof suite.load>> = {
  suite,
  labDir: path.resolve(__dirname, '../../../lab1'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  replayTest: 'TestUnreliableShards',
  seedsFor: (test) => (HEAVY.test(test.name) ? [1] : [1, 2, 3]),
};
