/** The kit's long checks of lab 5 (`npm run test:full`): every mutant is caught by the first of the tests it names that fails, whose message names the mutant's cause. */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, Mutant, namesCause, removeMutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { mutants } from '../mutants';
import { suite } from '../../../lab5/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');

describe('lab5 suite (mutants)', function () {
  // A mutant that only the attackers catch may need all seven runs of TestNemesisRedis (30-45 s each on a loaded machine).
  this.timeout(360_000);
  // The mutants' tests mostly wait on real timers, so they run a few at a time; each `it` reports its own.
  const MUTANT_CONCURRENCY = 4;
  /**
   * Runs of a generic attacker (TestNemesisRedis, TestNemesisClient) a mutant gets: its crashes land where the real
   * clock puts them, so a bug that needs one at a precise moment (a torn record, then a snapshot among new records)
   * is met on some runs only; the named tests each get one run.
   */
  const ATTACKER_RUNS = 5;
  /** More runs a test gets after a failure that does not name the mutant's cause (the load, not the bug). */
  const OTHER_FAILURE_RUNS = 2;
  const verdicts = new Map<string, Promise<string | undefined>>();
  /** Runs the mutant's tests until one fails; resolves undefined if caught, else what each test did. */
  async function hunt(mutant: Mutant): Promise<string | undefined> {
    const dir = materialiseMutant(SOLUTION_DIR, mutant);
    try {
      const impl = suite.load(dir);
      const seen: string[] = [];
      for (const name of mutant.caughtBy) {
        const test = suite.tests.find((t) => t.name === name);
        if (!test) return `mutant names unknown test ${name}`;
        const runs = test.generic ? ATTACKER_RUNS : 1;
        let otherFailures = 0;
        for (let seed = 1; seed <= runs + otherFailures; seed++) {
          const outcome = await runNamedTest(test, impl, seed);
          if (outcome.status === 'failed' && namesCause(outcome.message, mutant.cause ?? '')) return undefined;
          // A real-time run can fail for the machine's load before it meets the bug (four mutants run at once):
          // such a failure gets up to OTHER_FAILURE_RUNS more runs; the bug's own failure must name its cause.
          if (outcome.status === 'failed' && otherFailures < OTHER_FAILURE_RUNS) otherFailures++;
          else if (outcome.status === 'failed')
            return `${name}'s failure does not name the mutant's cause "${mutant.cause}":\n${outcome.message}`;
        }
        seen.push(`${name}: passed ${runs === 1 ? 'its run' : `all ${runs} runs`}`);
      }
      return `no test among ${mutant.caughtBy.join(', ')} caught it (${seen.join('; ')})`;
    } finally {
      removeMutant(dir);
    }
  }
  function startHunting(): void {
    if (verdicts.size > 0) return;
    const queue = [...mutants];
    const slots: Array<Promise<void>> = [];
    const results = new Map<string, (v: string | undefined) => void>();
    for (const m of mutants) verdicts.set(m.name, new Promise((resolve) => results.set(m.name, resolve)));
    for (let i = 0; i < MUTANT_CONCURRENCY; i++) {
      slots.push(
        (async () => {
          for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
            const name = m.name;
            results.get(name)!(await hunt(m).catch((e: unknown) => `crashed: ${String(e)}`));
          }
        })(),
      );
    }
  }

  for (const mutant of mutants) {
    it(`catches the mutant "${mutant.name}" (${mutant.description})`, async () => {
      startHunting();
      const problem = await verdicts.get(mutant.name)!;
      expect(problem === undefined, `${mutant.name}: ${problem}`).to.equal(true);
    });
  }
});
