/** Seeds: --seed replays a run exactly; --runs tries several seeds and reports every failing one. */
import { expect } from 'chai';
import { grade } from '../../../grader';
import { deriveSeeds } from '../../../grader/seeds';
import type { RunRecord } from '../../../grader/types';
import { FIXTURES, fixtureOptions } from './helpers';

/** What must be identical between two runs with the same seed. */
function fingerprint(r: RunRecord): object {
  return {
    name: r.name,
    status: r.status,
    seed: r.seed,
    virtualMs: r.virtualMs,
    rpcs: r.rpcs,
    ops: r.ops,
    traceHash: r.traceHash,
    message: r.message,
    crash: r.crash,
  };
}

describe('grader: seeds, replay and --runs', function () {
  this.timeout(60_000);
  const tests = ['TestBasic', 'TestTimerThrow', 'TestFlaky'];

  it('replays a seed exactly: same results and trace hashes, twice over', async () => {
    const once = await grade(fixtureOptions(FIXTURES.crashy, { tests, seed: 7, writeReports: false }));
    const twice = await grade(fixtureOptions(FIXTURES.crashy, { tests, seed: 7, writeReports: false }));
    const a = once.labs[0].tests.flatMap((t) => t.runs.map(fingerprint));
    const b = twice.labs[0].tests.flatMap((t) => t.runs.map(fingerprint));
    expect(a).to.deep.equal(b);
    expect(once.labs[0].tests.every((t) => /^[0-9a-f]{16}$/.test(t.traceHash))).to.equal(true);
    expect(once.labs[0].tests.map((t) => t.seed)).to.deep.equal([7, 7, 7]);
    const other = await grade(fixtureOptions(FIXTURES.crashy, { tests: ['TestBasic'], seed: 8, writeReports: false }));
    expect(other.labs[0].tests[0].traceHash, 'another seed makes another run').to.not.equal(
      once.labs[0].tests[0].traceHash,
    );
  });

  it('gives each test its own fresh seed when none is given', async () => {
    const r = await grade(fixtureOptions(FIXTURES.crashy, { tests: ['TestBasic', 'TestFinal'], writeReports: false }));
    const seeds = r.labs[0].tests.map((t) => t.seed);
    expect(seeds.every((s) => Number.isSafeInteger(s) && s >= 0)).to.equal(true);
    expect(r.labs[0].seed).to.equal(undefined);
    expect(r.labs[0].seedBase).to.equal(undefined);
  });

  it('with --runs, runs each test under seeds derived from a printed base and lists every failing seed', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestBasic', 'TestFlaky'], runs: 6, seed: 1 });
    const r = await grade(options);
    const lab = r.labs[0];
    expect(lab.seedBase).to.equal(1);
    const [basic, flaky] = lab.tests;
    expect(basic.runs.map((x) => x.seed)).to.deep.equal(deriveSeeds(1, 6));
    expect(basic.status).to.equal('passed');
    expect(basic.points).to.equal(10);
    expect(flaky.runs).to.have.length(6);
    expect(flaky.failingSeeds.length).to.be.within(1, 5);
    expect(flaky.status).to.equal('failed');
    expect(flaky.points, 'a test earns its points only if every run passes').to.equal(0);
    expect(options.out.text).to.contain('seeds derived from base 1');
    for (const seed of flaky.failingSeeds) {
      expect(options.out.text).to.contain(`seed=${seed}  npm run grade lab9 -- --test TestFlaky --seed ${seed}`);
    }
    expect(options.out.text).to.contain(`${flaky.failingSeeds.length}/6 runs failed`);

    const replay = await grade(
      fixtureOptions(FIXTURES.crashy, { tests: ['TestFlaky'], seed: flaky.failingSeeds[0], writeReports: false }),
    );
    expect(
      fingerprint(replay.labs[0].tests[0].runs[0]),
      'a failing seed from --runs replays the same failure',
    ).to.deep.equal(fingerprint(flaky.runs.find((x) => x.seed === flaky.failingSeeds[0]) as RunRecord));
  });
});
