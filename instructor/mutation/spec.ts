/** The mocha spec Stryker runs for `npm run mutation`: each named test of one lab against its (mutated) reference solution. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNamedTest } from '../../suite';
import type { LabSuite, NamedTest } from '../../suite/types';
import { LAB_ENV, SEEDS_ENV, TESTS_ENV } from './env';

/** Mutant id to times reached. */
type Hits = Record<string, number>;
/** What Stryker's instrumented code reads (the active mutant) and writes (which mutants each test reached). */
interface StrykerNamespace {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: { static: Hits; perTest: Record<string, Hits> };
}
/** In a child process, the instrumented code reads the active mutant from this variable. */
const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';
/** A folder where child processes save the mutants they reached (instructor/mutation/child-coverage.js). */
const CHILD_COVERAGE_ENV = 'KVLABS_MUTATION_CHILD_COVERAGE';
const CHILD_PRELOAD = path.join(__dirname, 'child-coverage.js');
const stryker = (): StrykerNamespace | undefined => (globalThis as { __stryker__?: StrykerNamespace }).__stryker__;

const ROOT = path.resolve(__dirname, '..', '..');
const lab = process.env[LAB_ENV];
if (!lab) throw new Error(`${LAB_ENV} is not set: run this spec through \`npm run mutation -- labN\`, not directly.`);
const seeds = (process.env[SEEDS_ENV] ?? '1,2,3').split(',').map(Number);
const only = process.env[TESTS_ENV] ? process.env[TESTS_ENV].split(',') : undefined;

const { suite } = require(path.join(ROOT, lab, 'test', 'suite.ts')) as { suite: LabSuite<unknown> };

/** The kit's choice (solutions/kit.ts): one seed for memory and real-time tests, which are slow, several otherwise. */
function seedsFor(test: NamedTest<unknown>): readonly number[] {
  return test.realTime || test.name.startsWith('TestMem') ? seeds.slice(0, 1) : seeds;
}

describe(`${lab}: the named tests against solutions/${lab}`, function () {
  this.timeout(600_000);
  const impl = suite.load(path.join(ROOT, 'solutions', lab));

  const nodeOptions = process.env.NODE_OPTIONS;
  let childCoverage: string | undefined;

  beforeEach(() => {
    // A child process the test starts (lab 5's kill -9 tests) runs the mutant that is active here ...
    const ns = stryker();
    if (ns?.activeMutant === undefined) delete process.env[ACTIVE_MUTANT_ENV];
    else process.env[ACTIVE_MUTANT_ENV] = String(ns.activeMutant);
    // ... and, while Stryker records which mutants each test reaches, reports what it reached.
    if (ns && ns.activeMutant === undefined && ns.currentTestId !== undefined) {
      childCoverage = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-mutation-'));
      process.env[CHILD_COVERAGE_ENV] = childCoverage;
      process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --require ${CHILD_PRELOAD}`.trim();
    }
  });

  afterEach(() => {
    if (childCoverage === undefined) return;
    const ns = stryker();
    if (ns?.currentTestId !== undefined) {
      ns.mutantCoverage ??= { static: {}, perTest: {} };
      const mine = (ns.mutantCoverage.perTest[ns.currentTestId] ??= {});
      for (const file of fs.readdirSync(childCoverage).filter((f) => f.endsWith('.json'))) {
        const child = JSON.parse(fs.readFileSync(path.join(childCoverage, file), 'utf8')) as NonNullable<
          StrykerNamespace['mutantCoverage']
        >;
        for (const hits of [child.static, ...Object.values(child.perTest)]) {
          for (const [id, n] of Object.entries(hits)) mine[id] = (mine[id] ?? 0) + n;
        }
      }
    }
    fs.rmSync(childCoverage, { recursive: true, force: true });
    childCoverage = undefined;
    delete process.env[CHILD_COVERAGE_ENV];
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  });

  for (const test of suite.tests.filter((t) => !only || only.includes(t.name))) {
    it(test.name, async () => {
      for (const seed of seedsFor(test)) {
        const outcome = await runNamedTest(test, impl, seed);
        expect(outcome.status, `${test.name} seed=${seed}: ${outcome.message}`).to.equal('passed');
      }
    });
  }
});
