/** Lab 3's model-based test: TestModelConsistency passes the reference and catches kit mutants with a short replay. */
import * as path from 'node:path';
import { describeModelTest } from '../../model-kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab3/test/suite';

describeModelTest({
  suite,
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  test: 'TestModelConsistency',
  catches: [
    'store-plain-object',
    'write-answered-at-own-receipt',
    'update-dedup-by-content',
    'write-of-held-value-skipped',
  ],
  maxSteps: 8,
});
