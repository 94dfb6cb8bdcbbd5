/** Batch grading of a lab built on earlier labs: a lab 7 submission is graded on the student's own lab 6 and lab 2. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLab } from '../../grader/labs';
import type { TextSink } from '../../grader/types';
import { gradeBatch } from '../batch';
import { copyTemplate, putSolution } from '../class';
import { KIT_ROOT, release } from '../release';

/** A sink that keeps nothing. */
const quiet: TextSink = { write: () => true };

describe('batch grading: a lab that builds on earlier labs', function () {
  this.timeout(600_000);

  it("takes the student's files of every lab the graded one builds on (lab 7: its lab 6 and lab 2)", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-builds-on-'));
    try {
      const tpl = path.join(work, 'template');
      await release({ out: tpl, labs: ['lab7'], allowDirty: true });
      const repo = path.join(work, 'class', 'ada');
      copyTemplate(tpl, repo);
      for (const lab of ['lab7', 'lab6', 'lab2']) putSolution(repo, lab, loadLab(KIT_ROOT, lab).suite.implFiles);
      const tests = ['TestInitQuery5A', 'TestJoinBasic5A'];
      const r = await gradeBatch({
        lab: 'lab7',
        submissions: path.join(work, 'class'),
        out: path.join(work, 'out'),
        template: tpl,
        jobs: 1,
        tests,
        seed: 1,
        log: quiet,
      });
      const row = r.rows[0];
      expect(row.notes.join('; '), 'no file of lab 6 or lab 2 was left out').to.not.contain('missing');
      expect([row.status, row.score], JSON.stringify(row)).to.deep.equal(['graded', row.maxScore]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
