/**
 * Each handout part's table lists a test in the part after which a correct student first passes it: the reference
 * solution, with the files of later parts replaced by the untouched skeleton's, passes the tests of the parts it
 * covers and fails every test of a later part.
 *
 * Labs covered, where a part's code lives in files of its own:
 * - lab 2: parts 1-2 are `server.ts` and `client.ts`, part 3 is `lock.ts`.
 * - lab 6: parts 1-4 are `raft.ts`, part 5 `rsm.ts`, parts 6-7 `server.ts` and `client.ts`. Part 7's snapshots also
 *   add to `rsm.ts`, so at the end of part 5 the reference `rsm.ts` already holds them: part 7's tests of the RSM
 *   alone (TestSnapshot4C, TestSnapshotCatchUp4C) pass there, and part 7 is not checked at that stage; parts 6 and
 *   7 share their files, so they are not told apart.
 * Not covered: labs 1, 3 and 4 write every part in the same files (`client.ts`/`server.ts`, `server.ts`), so no part's
 * code can be taken out; lab 5's parts do have files of their own (`persistence.ts` part 3, `client.ts` part 4), but
 * its tests run on real sockets and real time (about 25 s a grade), which would cost minutes here.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runNamedTest, type LabSuite } from '../../suite';
import { suite as lab2 } from '../../lab2/test/suite';
import { suite as lab6 } from '../../lab6/test/suite';
import { materialiseUpToPart } from '../../solutions/parts';

const ROOT = path.resolve(__dirname, '../..');

/** The end of a part, the files that are still the skeleton's there, and later parts whose code is partly in already. */
interface Stage {
  readonly upTo: number;
  readonly skeleton: readonly string[];
  /** Later parts some of whose code is in the reference files of this stage: their tests may pass or fail. */
  readonly mixed?: readonly number[];
}

const LABS: ReadonlyArray<{ readonly suite: LabSuite<unknown>; readonly stages: readonly Stage[] }> = [
  { suite: lab2 as LabSuite<unknown>, stages: [{ upTo: 2, skeleton: ['lock.ts'] }] },
  {
    suite: lab6 as LabSuite<unknown>,
    stages: [
      { upTo: 4, skeleton: ['rsm.ts', 'server.ts', 'client.ts'] },
      { upTo: 5, skeleton: ['server.ts', 'client.ts'], mixed: [7] },
    ],
  },
];

describe('handout parts: the reference with later parts taken out', function () {
  this.timeout(180_000);
  for (const { suite, stages } of LABS) {
    stages.forEach((stage, i) => {
      const from = i === 0 ? 1 : stages[i - 1].upTo + 1;
      it(`${suite.lab} at the end of part ${stage.upTo} (${stage.skeleton.join(', ')} still the skeleton's): passes the tests of parts ${from}-${stage.upTo}, fails every later one`, async () => {
        const labDir = path.join(ROOT, suite.lab);
        const dir = materialiseUpToPart(
          labDir,
          path.join(ROOT, 'solutions', suite.lab),
          stage.skeleton,
          `to-part-${stage.upTo}`,
        );
        try {
          const impl = suite.load(dir);
          const wrong: string[] = [];
          const checked = { passed: 0, failed: 0 };
          for (const test of suite.tests) {
            // Earlier parts' tests passed at an earlier stage, with less code (the kit runs the whole reference on all).
            if (test.part < from || stage.mixed?.includes(test.part)) continue;
            const outcome = await runNamedTest(test, impl, 1);
            const want = test.part <= stage.upTo ? 'passed' : 'failed';
            checked[want]++;
            if (outcome.status !== want)
              wrong.push(`${test.name} (part ${test.part}) ${outcome.status}: ${outcome.message.split('\n', 1)[0]}`);
          }
          expect(wrong, `listed in the wrong part of ${suite.lab}/README.md:\n${wrong.join('\n')}`).to.deep.equal([]);
          // Each stage has tests on both sides, or it would check nothing.
          expect(checked.passed, 'tests that must pass').to.be.greaterThan(0);
          expect(checked.failed, 'tests that must fail').to.be.greaterThan(0);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
