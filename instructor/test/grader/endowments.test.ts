/**
 * The console the code under test gets prints its values on the harness's side: no `inspect.custom` hook of the
 * code's runs (node would hand it its own live `inspect`, whose tables every copy of the code could share), no
 * getter is read.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { sandboxGlobals } from '../../../grader/endowments';

describe('grader: the console endowment', () => {
  afterEach(() => sinon.restore());

  it('prints a value with an inspect.custom hook without running the hook, and reads no getter', () => {
    const log = sinon.stub(console, 'log');
    const error = sinon.stub(console, 'error');
    const sandbox = sandboxGlobals().console as Console;
    const handed: unknown[] = [];
    let getterRuns = 0;
    const value = {
      field: 1,
      get counted(): number {
        getterRuns += 1;
        return getterRuns;
      },
      [Symbol.for('nodejs.util.inspect.custom')](...args: unknown[]): string {
        handed.push(...args);
        return 'from the hook';
      },
    };
    sandbox.log('value:', value);
    sandbox.dir(value);
    sandbox.table([value]);
    sandbox.assert(false, value);
    expect(handed).to.deep.equal([]);
    expect(getterRuns).to.equal(0);
    const lines = [...log.getCalls(), ...error.getCalls()].map((c) => c.args as unknown[]);
    expect(lines).to.have.length(4);
    for (const args of lines) {
      expect(args).to.have.length(1);
      expect(args[0]).to.be.a('string').and.contain('field: 1');
      expect(args[0]).to.not.contain('from the hook');
    }
    expect(lines[3][0]).to.match(/^Assertion failed: /);
  });
});
