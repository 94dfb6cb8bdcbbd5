/**
 * Student files are student code wherever they live: a .ts or .js helper added to the lab folder loads inside the
 * compartment, and a lab's given file counts as the kit's only as the kit shipped it (by the manifest's hash).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** What a helper saw of its sandbox. */
interface Seen {
  process: string;
  requireCache: string;
  fs: string;
  bufferPool: number;
}

/** What the client saw in one setting. */
interface Look {
  ts: Seen;
  js: Seen;
  rpcFrozen: boolean;
  rpcShared: boolean;
}

const SANDBOXED: Seen = { process: 'ReferenceError', requireCache: 'undefined', fs: 'refused', bufferPool: 1 };

describe('grader: student files are student code, wherever they live', function () {
  this.timeout(60_000);
  let looks: Record<'none' | 'matching' | 'other', Look>;

  before(() => {
    const run = spawnSync(
      process.execPath,
      ['-r', './grader/register.js', path.join(__dirname, 'student-files-probe.ts')],
      { cwd: path.resolve(__dirname, '..', '..', '..'), encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`the probe failed (exit ${run.status}):\n${run.stderr}`);
    looks = JSON.parse(run.stdout) as typeof looks;
  });

  it('runs a helper added to the lab folder (.ts or .js) in the compartment: no process, require, fs or host Buffer pool', () => {
    for (const look of Object.values(looks)) {
      expect(look.ts).to.deep.equal(SANDBOXED);
      expect(look.js).to.deep.equal(SANDBOXED);
    }
  });

  it('shares a given file, hardened, as the kit’s: in the kit (no manifest) and in a template whose manifest lists its hash', () => {
    for (const look of [looks.none, looks.matching])
      expect([look.rpcFrozen, look.rpcShared]).to.deep.equal([true, true]);
  });

  it('takes a given file whose hash is not the manifest’s for the student’s own (a copy of its own per load)', () => {
    expect([looks.other.rpcFrozen, looks.other.rpcShared]).to.deep.equal([false, false]);
  });
});
