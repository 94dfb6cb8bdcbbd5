/** The kit's own checks of lab 1 (the standard ones: rubric, solution, skeleton, replay, mutants). */
import * as path from 'node:path';
import { describeLabKit } from '../../kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab1/test/suite';

/** Tests that cost seconds of real time each (large workloads, memory measurements) run on one seed here. */
const HEAVY = /^Test(Mem|Basic$|Concurrent$)/;

describeLabKit({
  suite,
  labDir: path.resolve(__dirname, '../../../lab1'),
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  replayTest: 'TestUnreliableShards',
  seedsFor: (test) => (HEAVY.test(test.name) ? [1] : [1, 2, 3]),
});
