/** Every lab is worth 100 points, so a score reads the same in every lab, in Classroom and in the gradebook. */
import { expect } from 'chai';
import { listLabs, loadLab } from '../../grader/labs';
import { KIT_ROOT } from '../release';

describe("kit: each lab's points", () => {
  for (const { lab } of listLabs(KIT_ROOT)) {
    it(`${lab}: the named tests' points (and those still to come) sum to 100`, () => {
      const { suite } = loadLab(KIT_ROOT, lab);
      // A lab still being built says how many of its points are still to come (LabSuite.pointsToCome).
      const total = suite.tests.reduce((sum, t) => sum + t.points, 0) + (suite.pointsToCome ?? 0);
      expect(
        total,
        `${lab}/test/suite.ts gives its tests ${total} points in all; take a new test's points from others`,
      ).to.equal(100);
    });
  }
});
