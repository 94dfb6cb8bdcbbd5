/**
 * Lab 3's TestRealLateStart runs the servers in processes of their own (server i of every level's cluster in one):
 * the test process loads no file of the code under test, and a server that throws (in its constructor, or later in a
 * timer) fails the test saying so.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant, type Mutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab3/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');
const CONSTRUCTOR = 'constructor(options: ServerOptions) {';

/** A copy of the solution with `replace` applied (none: the solution itself, in a folder of its own). */
function copy(name: string, replace: Mutant['replace']): string {
  return materialiseMutant(SOLUTION_DIR, { name, description: name, file: 'server.ts', replace, caughtBy: [] });
}

/** Runs TestRealLateStart on the code in `dir`. */
function run(dir: string): ReturnType<typeof runNamedTest> {
  const test = suite.tests.find((t) => t.name === 'TestRealLateStart');
  if (!test) throw new Error('lab 3 has no test named TestRealLateStart');
  return runNamedTest(test, suite.load(dir), 1);
}

describe('lab3: TestRealLateStart runs the servers in processes of their own', function () {
  this.timeout(120_000);

  it('the test process loads no file of the code under test', async () => {
    const dir = copy('real-isolation', []);
    try {
      const outcome = await run(dir);
      expect(outcome.status, outcome.message).to.equal('passed');
      const loadedHere = Object.keys(require.cache).filter((f) => f.startsWith(dir + path.sep));
      expect(loadedHere, 'files of the code under test loaded in the test process').to.deep.equal([]);
    } finally {
      removeMutant(dir);
    }
  });

  it('a server whose constructor throws fails the test before it listens, with its message and frames', async () => {
    const dir = copy('real-constructor-throws', [
      [CONSTRUCTOR, `${CONSTRUCTOR}\n    if (options.me === 1) throw new Error('boom in the constructor');`],
    ]);
    try {
      const outcome = await run(dir);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message)
        .to.match(/your lab 3 server 1 of each level's cluster \([\w, ]+\) exited with code 1 before it listened/)
        .and.match(/could not be constructed \(server 1 \(\w+\)\)/)
        .and.contain('boom in the constructor')
        .and.match(/server\.ts:\d+/)
        .and.contain('Likely causes');
    } finally {
      removeMutant(dir);
    }
  });

  it('a server that throws later, in a timer, fails the test at once, saying which server and why', async () => {
    const dir = copy('real-timer-throws', [
      [
        CONSTRUCTOR,
        `${CONSTRUCTOR}\n    if (options.me === 0) setTimeout(() => { throw new Error('boom in a timer'); }, 100);`,
      ],
    ]);
    try {
      const outcome = await run(dir);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message)
        .to.match(/your lab 3 server 0 of each level's cluster \([\w, ]+\) exited with code 1 during the test/)
        .and.contain('Uncaught exception in your lab 3 code (server 0')
        .and.contain('boom in a timer')
        .and.match(/server\.ts:\d+/);
    } finally {
      removeMutant(dir);
    }
  });
});
