/**
 * The console the code under test gets prints its values on the harness's side: no `inspect.custom` hook of the
 * code's runs (node would hand it its own live `inspect`, whose tables every copy of the code could share), no
 * getter is read. The clocks it reads are the world's, offset by the seed, so that no machine can tell when in a
 * run it was made.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { sandboxGlobals } from '../../../grader/endowments';
import { World } from '../../../world';

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

describe('grader: the clocks the code under test reads', () => {
  /** The code's performance.now() and Date.now() at virtual time `atMs` of a world of `seed`. */
  async function readingsAt(seed: number, atMs: number): Promise<[number, number]> {
    const globals = sandboxGlobals();
    const performance = globals.performance as { now(): number };
    const DateOfCode = globals.Date as DateConstructor;
    return new World({ seed }).run(async () => {
      if (atMs > 0) await World.current().sleep(atMs);
      const dated = new DateOfCode().getTime();
      expect(DateOfCode.now()).to.equal(dated);
      return [performance.now(), dated];
    });
  }

  it('do not tell a machine made at the start of a run from one made later: both read a clock offset by the seed', async () => {
    const first: number[] = [];
    const later: number[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const [perf0, date0] = await readingsAt(seed, 0);
      const [perf1, date1] = await readingsAt(seed, 79.5);
      // The same seed, the same offsets: the run replays, and the clocks advance with the world's.
      expect(perf1 - perf0).to.be.closeTo(79.5, 1e-6);
      expect(date1 - date0).to.be.within(79, 80);
      expect(await readingsAt(seed, 0)).to.deep.equal([perf0, date0]);
      first.push(perf0, date0);
      later.push(perf1, date1);
    }
    // A run's start is neither 0 on performance.now() nor the world's epoch on Date.now(), and no reading at the start
    // stands out from the readings 79.5 ms into other runs (what the first machine of a run could look for).
    expect(Math.min(...first.filter((_, i) => i % 2 === 0))).to.be.at.least(1000);
    expect(new Set(first.filter((_, i) => i % 2 === 1)).size).to.equal(60);
    const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
    const perfFirst = first.filter((_, i) => i % 2 === 0);
    expect(spread(perfFirst)).to.be.above(1e6);
    const below = (x: number): number => later.filter((y, i) => i % 2 === 0 && y < x).length;
    // About half of the later readings lie below the median first reading: the two sets are alike.
    const median = [...perfFirst].sort((a, b) => a - b)[30];
    expect(below(median)).to.be.within(15, 45);
  });
});
