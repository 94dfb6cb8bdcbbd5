/** Lab 6's model-based test: TestModelKV passes the reference and catches kit mutants with a short replay. */
import * as path from 'node:path';
import { describeModelTest } from '../../model-kit';
import { mutants } from '../mutants';
import { suite } from '../../../lab6/test/suite';

describeModelTest({
  suite,
  solutionDir: path.resolve(__dirname, '..'),
  mutants,
  test: 'TestModelKV',
  catches: ['put-of-held-value-keeps-version', 'negative-version-creates', 'kv-data-plain-object', 'clerk-never-maybe'],
});
