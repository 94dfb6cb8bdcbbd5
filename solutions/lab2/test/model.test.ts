/** Lab 2's model-based tests: TestModelKV and TestModelLock pass the reference and catch kit mutants with a short replay. */
import * as path from 'node:path';
import { describeModelTest } from '../../model-kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab2/test/suite';

const solutionDir = path.resolve(__dirname, '..');

describeModelTest({
  suite,
  solutionDir,
  mutants,
  test: 'TestModelKV',
  catches: ['version-check-off-by-one', 'accepts-version-ahead', 'object-store', 'empty-value-missing'],
});

describeModelTest({
  suite,
  solutionDir,
  mutants,
  test: 'TestModelLock',
  catches: ['lock-steals', 'release-any-holder', 'acquire-zero-waits', 'lock-id-per-clerk'],
});
