/** Lab 4's model-based test: TestModelReplication passes the reference and catches kit mutants with a short replay. */
import * as path from 'node:path';
import { describeModelTest } from '../../model-kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab4/test/suite';

describeModelTest({
  suite,
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  test: 'TestModelReplication',
  catches: ['follower-ignores-token', 'no-gap-check', 'apply-before-replication', 'data-as-plain-object'],
  maxSteps: 8,
});
