/** The bench's goals: each note says met or NOT MET against its bound, every lab's whole grade has one, and the docs state them. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { listLabs } from '../../grader/labs';
import { goalNote, goalTitles, gradeGoal, type Goal } from '../bench/goals';

describe('bench: goals', () => {
  const rate: Goal = { figure: 'a rate', rule: { atLeast: 8000 }, why: 'an anchor' };
  const time: Goal = { figure: 'a time', rule: { below: 5 }, unit: 'ms', why: 'a wait' };

  it('says met at or over a lower bound, NOT MET under it, with the bound and what it is set against', () => {
    expect(goalNote(8000, rate)).to.equal('goal ≥ 8,000: met (an anchor)');
    expect(goalNote(12000.5, rate)).to.equal('goal ≥ 8,000: met (an anchor)');
    expect(goalNote(7999.9, rate)).to.equal('goal ≥ 8,000: NOT MET (an anchor)');
  });

  it('says met under an upper bound, NOT MET at or over it, with its unit', () => {
    expect(goalNote(4.99, time)).to.equal('goal < 5 ms: met (a wait)');
    expect(goalNote(5, time)).to.equal('goal < 5 ms: NOT MET (a wait)');
  });

  it("gives every lab's whole grade a goal, and names the file to add one to for a lab without", () => {
    for (const { lab } of listLabs(path.resolve(__dirname, '..', '..'))) {
      expect('below' in gradeGoal(lab).rule, lab).to.equal(true);
    }
    expect(() => gradeGoal('lab99')).to.throw(/lab99 has no goal.*instructor\/bench\/goals\.ts/);
  });

  it("lists every goal, with the bound goals.ts holds, in docs/performance.md's table of goals", () => {
    const page = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'performance.md'), 'utf8');
    const section = page.split(/^## /m).find((s) => s.startsWith('Where each goal stands'));
    expect(section, 'docs/performance.md has a section "Where each goal stands"').to.not.equal(undefined);
    const firstCells = (section ?? '')
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .slice(2) // the header and its rule
      .map((line) => line.split(' | ')[0].slice(2));
    expect(firstCells, "the table's first column, one row per goal in goals.ts's order (goalTitles)").to.deep.equal(
      goalTitles(),
    );
  });
});
