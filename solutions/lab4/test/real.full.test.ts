/**
 * Lab 4's real HTTP tests run each node in a process of its own: the test process loads no file of the code under
 * test, and a node that throws (in its constructor, or later in a timer) fails the test saying so, with its frames.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant, type Mutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab4/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');
const REAL_TESTS = ['TestRealHttp', 'TestRealHttpCatchUp', 'TestRealHttpLateStart'] as const;
const CONSTRUCTOR = 'constructor(config: NodeConfig, followers: RpcEnd[]) {';

/** A copy of the solution with `replace` applied (none: the solution itself, in a folder of its own). */
function copy(name: string, replace: Mutant['replace']): string {
  return materialiseMutant(SOLUTION_DIR, {
    name,
    description: name,
    file: 'server.ts',
    replace,
    caughtBy: [],
  });
}

/** Runs the named real test on the code in `dir`. */
function run(dir: string, name: string): ReturnType<typeof runNamedTest> {
  const test = suite.tests.find((t) => t.name === name);
  if (!test) throw new Error(`lab 4 has no test named ${name}`);
  return runNamedTest(test, suite.load(dir), 1);
}

describe('lab4: the real HTTP tests run each node in a process of its own', function () {
  this.timeout(120_000);

  it('the test process loads no file of the code under test', async () => {
    const dir = copy('real-isolation', []);
    try {
      for (const name of REAL_TESTS) {
        const outcome = await run(dir, name);
        expect(outcome.status, `${name}: ${outcome.message}`).to.equal('passed');
      }
      const loadedHere = Object.keys(require.cache).filter((f) => f.startsWith(dir + path.sep));
      expect(loadedHere, 'files of the code under test loaded in the test process').to.deep.equal([]);
    } finally {
      removeMutant(dir);
    }
  });

  it('a node whose constructor throws fails the test before it listens, with its message and frames', async () => {
    const dir = copy('real-constructor-throws', [
      [CONSTRUCTOR, `${CONSTRUCTOR}\n    if (config.role === 'follower') throw new Error('boom in the constructor');`],
    ]);
    try {
      const outcome = await run(dir, 'TestRealHttp');
      expect(outcome.status).to.equal('failed');
      expect(outcome.message)
        .to.contain('node follower-1 exited with code 1 before it listened')
        .and.contain('boom in the constructor')
        .and.match(/server\.ts:\d+/)
        .and.contain('Likely causes');
    } finally {
      removeMutant(dir);
    }
  });

  it('a node that throws later, in a timer, fails the test at once, saying which node and why', async () => {
    const dir = copy('real-timer-throws', [
      [
        CONSTRUCTOR,
        `${CONSTRUCTOR}\n    if (config.role === 'leader') setTimeout(() => { throw new Error('boom in a timer'); }, 100);`,
      ],
    ]);
    try {
      const outcome = await run(dir, 'TestRealHttpLateStart');
      expect(outcome.status).to.equal('failed');
      expect(outcome.message)
        .to.contain('node leader exited with code 1 during the test')
        .and.contain('Uncaught exception in your lab 4 code (node leader)')
        .and.contain('boom in a timer')
        .and.match(/server\.ts:\d+/);
    } finally {
      removeMutant(dir);
    }
  });
});
