/**
 * Golden trace hashes: every simulated test of every lab, run on the reference at one seed, must hash as recorded in
 * trace-hashes.json. A change meant to make labrpc or the world faster must leave every run exactly as it was.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../../grader';
import { listLabs, loadLab } from '../../grader/labs';

/** The recorded hashes: lab → test → hash. */
const FILE = path.join(__dirname, 'trace-hashes.json');
/** The seed every run uses. */
const SEED = 20261126;
/** Set to 1 to record the hashes of the code as it is now (after a change that is meant to change runs). */
const UPDATE = process.env.KVLABS_UPDATE_TRACE_HASHES === '1';
const ROOT = path.join(__dirname, '..', '..');

type Hashes = Record<string, Record<string, string>>;

/** Each simulated test's trace hash on the reference of `lab`, at SEED. */
async function hashesOf(lab: string): Promise<Record<string, string>> {
  const tests = loadLab(ROOT, lab)
    .suite.tests.filter((t) => t.realTime !== true)
    .map((t) => t.name);
  if (tests.length === 0) return {};
  const quiet = { write: (): boolean => true };
  const result = await grade({
    lab,
    target: 'solution',
    tests,
    seed: SEED,
    writeReports: false,
    traces: false,
    minimizeSec: 0,
    out: quiet,
    err: quiet,
  });
  const failed = result.labs[0].tests.filter((t) => t.status !== 'passed').map((t) => t.name);
  expect(failed, `${lab}'s reference failed at seed ${SEED}`).to.deep.equal([]);
  return Object.fromEntries(result.labs[0].tests.map((t) => [t.name, t.traceHash]));
}

describe('golden trace hashes: the simulation runs the reference exactly as recorded', function () {
  this.timeout(600_000);
  const recorded = (fs.existsSync(FILE) ? JSON.parse(fs.readFileSync(FILE, 'utf8')) : {}) as Hashes;
  const now: Hashes = {};

  for (const { lab } of listLabs(ROOT)) {
    it(`${lab}: every simulated test hashes as recorded`, async function () {
      now[lab] = await hashesOf(lab);
      if (UPDATE) return;
      const changed = Object.keys({ ...now[lab], ...recorded[lab] })
        .filter((t) => now[lab][t] !== recorded[lab]?.[t])
        .map((t) => `${t}: recorded ${recorded[lab]?.[t] ?? '(none)'}, now ${now[lab][t] ?? '(no such test)'}`);
      expect(
        changed,
        `These runs of ${lab}'s reference at seed ${SEED} changed. If the change was meant to change runs (a test's ` +
          'scenario, the reference, the simulated network), record the new hashes with ' +
          '`KVLABS_UPDATE_TRACE_HASHES=1 npm run -s test:file -- instructor/test/trace-hashes.full.test.ts -g ' +
          `${lab}\`; ` +
          'if it was meant to make the kit faster, it changed what the simulation does',
      ).to.deep.equal([]);
    });
  }

  after(() => {
    // Labs not run this time (mocha's -g) keep their recorded hashes.
    if (UPDATE) fs.writeFileSync(FILE, `${JSON.stringify({ ...recorded, ...now }, null, 2)}\n`);
  });
});
