/** The kit's own checks of lab 1 (the standard ones: rubric, solution, skeleton, replay, mutants). */
import * as path from 'node:path';
import { describeLabKit } from '../../../tester/kit';
import { mutants } from '../../../solutions/lab1/mutants';
import { suite } from '../suite';

/** Tests that cost seconds of real time each (large workloads, memory measurements) run on one seed here. */
const HEAVY = /^Test(Mem|Basic$|Concurrent$)/;

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../..'),
  solutionDir: path.resolve(__dirname, '../../../solutions/lab1'),
  mutants,
  replayTest: 'TestUnreliableShards',
  seedsFor: (test) => (HEAVY.test(test.name) ? [1] : [1, 2, 3]),
});
