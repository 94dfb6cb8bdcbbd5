/** Every rule a handout states is checked by a named test or called advice (each lab's test/promises.md). */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { listLabs, loadLab } from '../../grader/labs';
import { KIT_ROOT } from '../release';
import { handoutRules, ruleEntries, ruleProblems } from '../rules';

describe("kit: the handouts' rules and the tests that check them", () => {
  for (const { lab } of listLabs(KIT_ROOT)) {
    it(`${lab}: every rule of the handout is answered in ${lab}/test/promises.md, by tests that exist`, () => {
      const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
      const handout = read(path.join(KIT_ROOT, lab, 'README.md')) ?? '';
      const promises = read(path.join(KIT_ROOT, lab, 'test', 'promises.md'));
      const names = loadLab(KIT_ROOT, lab).suite.tests.map((t) => t.name);
      expect(ruleProblems(lab, handout, promises, names)).to.deep.equal([]);
    });
  }

  it('finds a rule sentence, and fails a rule left unanswered, a stale quote and a test that does not exist', () => {
    const handout = [
      'Intro text. The clerk must re-send a lost request.',
      '',
      '- The timer resets on a vote granted, and at no other time.',
      '',
      '| TestA | 1 | 2 | a table cell that must be skipped |',
      '```',
      'code that must be skipped',
      '```',
    ].join('\n');
    expect(handoutRules(handout)).to.deep.equal([
      'The clerk must re-send a lost request.',
      '- The timer resets on a vote granted, and at no other time.',
    ]);
    const promises = (...lines: string[]) => ['# x', '', "## The handout's rules", ...lines].join('\n');
    const good = promises('- "must re-send": TestA', '- "at no other time": advice: no test sees a timer.');
    expect(ruleEntries(good).entries.map((e) => e.tests)).to.deep.equal([['TestA'], []]);
    expect(ruleProblems('labX', handout, good, ['TestA'])).to.deep.equal([]);
    const problems = ruleProblems('labX', handout, promises('- "must re-send": TestB', '- "stale": TestA', 'x'), [
      'TestA',
    ]);
    expect(problems.join('\n'))
      .to.contain('does not answer: "- The timer resets')
      .and.contain('names TestB, which is not a test of labX')
      .and.contain('quotes "stale", which is in no rule sentence');
    expect(ruleProblems('labX', handout, undefined, [])[0]).to.contain('labX/test/promises.md is missing');
  });
});
