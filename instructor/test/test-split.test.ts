/** Every kit test file runs in exactly one of `npm test` and `npm run test:full`, and the long ones (`*.full.test.ts`) in the second. */
import { expect } from 'chai';
import { KIT_ROOT } from '../release';
import { specGlobs, splitProblems, TEST_CONFIGS, testFiles, type SpecGlobs } from '../test-split';

describe('the split of the kit’s tests between npm test and npm run test:full', () => {
  const configs = new Map<string, SpecGlobs>(TEST_CONFIGS.map((c) => [c, specGlobs(KIT_ROOT, c)]));

  it('runs every test file in exactly one of the two configs, each *.full.test.ts in .mocharc.full.json', () => {
    const files = testFiles(KIT_ROOT);
    expect(files.filter((f) => f.endsWith('.full.test.ts')).length).to.be.above(0);
    expect(files.filter((f) => !f.endsWith('.full.test.ts')).length).to.be.above(0);
    expect(splitProblems(files, configs), 'rename the file or change the spec and ignore globs').to.deep.equal([]);
  });

  it('finds a file run by neither, one run by both and a long file in npm test (the check can fail)', () => {
    const both = new Map(configs).set('.mocharc.json', { spec: ['**/*.test.ts'], ignore: [] });
    expect(splitProblems(['elsewhere/a.test.ts'], configs)).to.deep.equal(['elsewhere/a.test.ts: run by no config']);
    expect(splitProblems(['solutions/lab1/test/mutants.full.test.ts'], both)).to.deep.equal([
      'solutions/lab1/test/mutants.full.test.ts: run by .mocharc.json and .mocharc.full.json',
    ]);
    const fullInFast = new Map(configs).set('.mocharc.json', { spec: ['solutions/**/*.test.ts'], ignore: [] });
    const onlyFast = new Map([...fullInFast].filter(([name]) => name === '.mocharc.json'));
    expect(splitProblems(['solutions/lab1/test/mutants.full.test.ts'], onlyFast)[0]).to.contain(
      'belong to .mocharc.full.json alone',
    );
  });
});
