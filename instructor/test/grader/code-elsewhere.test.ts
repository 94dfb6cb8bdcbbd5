/** The grader judges a codeElsewhere test (its code runs in processes of its own) in a test process that never loads the code under test. */
import { expect } from 'chai';
import { grade } from '../../../grader';
import type { GradeResult } from '../../../grader/types';
import { FIXTURES, fixtureOptions } from './helpers';

/** Each test's name, status and first line of its message. */
function brief(result: GradeResult): string[][] {
  return result.labs[0].tests.map((t) => [t.name, t.status, t.message.split('\n')[0]]);
}

describe('grader: codeElsewhere tests are judged where the code never loads', function () {
  this.timeout(120_000);

  for (const jobs of [1, 2]) {
    it(`runs a codeElsewhere test in a process that never loaded the code, and the others with it (${jobs} lane${jobs > 1 ? 's' : ''})`, async () => {
      const result = await grade(
        fixtureOptions(FIXTURES.elsewhere, { target: 'solution', seed: 1, jobs, writeReports: false }),
      );
      expect(brief(result)).to.deep.equal([
        ['TestElsewhere', 'passed', ''],
        ['TestNeedsCode', 'passed', ''],
      ]);
    });
  }

  it('still tells a student whose code does not load so, in every test that needs it; a codeElsewhere test runs anyway', async () => {
    const result = await grade(fixtureOptions(FIXTURES.elsewhere, { seed: 1, writeReports: false }));
    const [elsewhere, needs] = result.labs[0].tests;
    expect(elsewhere.status, elsewhere.message).to.equal('passed');
    expect(needs.status).to.equal('failed');
    expect(needs.runs[0].phase).to.equal('load');
    expect(needs.message).to.contain('could not be loaded').and.contain('config.port is missing');
  });
});
