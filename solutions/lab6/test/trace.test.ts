/** Lab 6's failures as students see them: a Figure 8 bug's replay draws each peer's role and term, and names the clash. */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import type { TraceEvent } from '../../../world';
import { mutants } from '../mutants';
import { suite } from '../../../lab6/test/suite';
import { peerName } from '../../../lab6/test/harness';

const SOLUTION = path.resolve(__dirname, '..');

describe('lab6: a failing replay', function () {
  this.timeout(120_000);

  it("draws each peer's role and term on its lane, and names the two commands that clash at one index", async () => {
    const mutant = mutants.find((m) => m.name === 'commit-old-term-by-count');
    const test = suite.tests.find((t) => t.name === 'TestFigure8Paper');
    if (!mutant || !test) throw new Error('lab 6 lost its Figure 8 mutant or TestFigure8Paper');
    const dir = materialiseMutant(SOLUTION, mutant);
    try {
      const out = await runNamedTest(test, suite.load(dir), 5, { record: true });
      expect(out.status).to.equal('failed');
      // The entry committed too early, and the newer one that could replace it: the clash before it happens.
      expect(out.message).to.match(
        /applied index 2 \(2, an entry of an earlier term\).* holds another entry there \(3, of/,
      );
      const roles = (out.trace?.events ?? []).filter((e): e is Extract<TraceEvent, { k: 'role' }> => e.k === 'role');
      // Every peer's lane, the leaders of at least three terms (the dance of Figure 8), and the crashes.
      expect(new Set(roles.map((e) => e.lane))).to.deep.equal(new Set([0, 1, 2, 3, 4].map((i) => peerName(i))));
      const leaderTerms = new Set(roles.filter((e) => e.role === 'leader').map((e) => e.term));
      expect(leaderTerms.size).to.be.at.least(3);
      expect(roles.some((e) => e.role === 'crashed')).to.equal(true);
    } finally {
      removeMutant(dir);
    }
  });

  it('the recorded replay fails as the graded run did: drawing the roles does not change the run (same trace hash)', async () => {
    const mutant = mutants.find((m) => m.name === 'truncate-on-every-append');
    const test = suite.tests.find((t) => t.name === 'TestFigure8Unreliable');
    if (!mutant || !test) throw new Error('lab 6 lost its truncate-on-every-append mutant or TestFigure8Unreliable');
    const dir = materialiseMutant(SOLUTION, mutant);
    try {
      const impl = suite.load(dir);
      const graded = await runNamedTest(test, impl, 3);
      const replay = await runNamedTest(test, impl, 3, { record: true });
      expect(graded.status).to.equal('failed');
      expect([replay.status, replay.message, replay.virtualMs, replay.rpcs, replay.traceHash]).to.deep.equal([
        graded.status,
        graded.message,
        graded.virtualMs,
        graded.rpcs,
        graded.traceHash,
      ]);
    } finally {
      removeMutant(dir);
    }
  });
});
