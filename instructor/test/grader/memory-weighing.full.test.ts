/**
 * Memory tests graded as the grader runs them (the code in its compartment, its timers known): a server killed for a
 * weighing cannot keep itself, and what it kept, alive past the second reading with a timer its kill() sets.
 */
import { expect } from 'chai';
import path from 'node:path';
import { mutants as lab6Mutants } from '../../../solutions/lab6/mutants';
import { mutants as lab7Mutants } from '../../../solutions/lab7/mutants';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';
import { gradedInProcess as graded } from './helpers';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** Kit mutant `name` of `lab`, with `more` replacements besides its own. */
function withKillTimer(mutants: readonly Mutant[], name: string, more: readonly [string, string]): Mutant {
  const base = mutants.find((m) => m.name === name);
  if (!base) throw new Error(`no mutant named ${name}`);
  return {
    ...base,
    description: `${name}, and kill() sets a timer that refers to it`,
    replace: [...base.replace, more],
  };
}

/** Lab 6's Raft keeping every entry a snapshot replaced, and arming a 2.1 s timer that refers to it in kill(). */
const RAFT_KILL_TIMER = withKillTimer(lab6Mutants, 'raft-keeps-compacted-entries', [
  '    clearTimeout(this.replicateTimer);\n  }',
  '    clearTimeout(this.replicateTimer);\n    setTimeout(() => void this.me, 2100);\n  }',
]);

/** Lab 7's server keeping a deleted shard's keys, and arming a 2.1 s timer that refers to it in kill(). */
const SHARD_KILL_TIMER = withKillTimer(lab7Mutants, 'delete-frees-snapshot-only', [
  '    this.rsm.kill();\n  }',
  '    this.rsm.kill();\n    setTimeout(() => void this.shards, 2100);\n  }',
]);

describe('grader: a memory test’s second reading is not dodged by a timer set in kill()', function () {
  this.timeout(300_000);

  for (const [lab, mutant, cause] of [
    ['lab6', RAFT_KILL_TIMER, 'Raft keeping the entries a snapshot replaced'],
    ['lab7', SHARD_KILL_TIMER, 'left out of the snapshot only'],
  ] as const) {
    it(`${lab}: ${mutant.description}: fails ${mutant.caughtBy[0]}; the reference passes it`, async () => {
      const dir = materialiseMutant(path.join(KIT, 'solutions', lab), mutant);
      try {
        const [status, message] = await graded(lab, mutant.caughtBy[0], dir);
        expect(status, message).to.equal('failed');
        expect(message).to.contain(cause);
      } finally {
        removeMutant(dir);
      }
      const [status, message] = await graded(lab, mutant.caughtBy[0], path.join(KIT, 'solutions', lab));
      expect(status, message).to.equal('passed');
    });
  }
});
