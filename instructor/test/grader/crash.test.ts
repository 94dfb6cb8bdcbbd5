/** The grader's words for a test process that ended early: a refused package read is not blamed on the student's code. */
import { expect } from 'chai';
import { explainBootCrash, explainPackageDenied, explainUnexpectedEnd } from '../../../grader/crash';

describe('grader: crash messages', () => {
  it('a package the sandbox could not read is named, with npm ci as the fix, and not called a crash of the code', () => {
    const message = explainBootCrash(explainPackageDenied('/tpl/node_modules/@noble'));
    expect(message).to.contain('/tpl/node_modules/@noble').and.contain('npm ci').and.contain('not about your code');
    expect(message).to.not.contain('Your code crashed');
    // Any other early end while loading is the code's.
    expect(explainBootCrash(explainUnexpectedEnd(1))).to.match(/^Your code crashed while it was being loaded/);
  });
});
