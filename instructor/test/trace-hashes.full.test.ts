/**
 * Golden trace hashes: every simulated test of every lab, run on the reference at one seed, must hash as recorded in
 * trace-hashes.json. A change meant to make labrpc or the world faster must leave every run exactly as it was.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { grade } from '../../grader';
import { listLabs, loadLab } from '../../grader/labs';

/** The recorded hashes: lab → test → hash. */
const FILE = path.join(__dirname, 'trace-hashes.json');
/** The seed every run uses. */
const SEED = 20261126;
/** Set to 1 to record the hashes of the code as it is now (after a change that is meant to change runs). */
const UPDATE = process.env.KVLABS_UPDATE_TRACE_HASHES === '1';
const ROOT = path.join(__dirname, '..', '..');

/**
 * lab → test → its hash, or the hashes of each path it can take: a memory test whose first weighing is often over its
 * bound (lab 3's TestMemManyOps then weighs each level apart) has two, both recorded.
 */
type Hashes = Record<string, Record<string, string | string[]>>;

/** Whether `hash` is one that `recorded` allows. */
function matches(recorded: string | string[] | undefined, hash: string | undefined): boolean {
  return hash !== undefined && (Array.isArray(recorded) ? recorded.includes(hash) : recorded === hash);
}

/**
 * Times a test whose hash changed is run again before it counts as changed. A memory test weighs the heap, and weighs
 * again on fresh servers when the first reading is over its bound (suite/memory.ts lighterWeighing): the engine's
 * collections, not the seed, decide that now and then, and the second weighing adds events. A change to what the
 * simulation does changes the hash on every run.
 */
const AGAIN = 2;

/** Each simulated test's trace hash on the reference of `lab`, at SEED (every simulated test, or `only`). */
async function hashesOf(lab: string, only?: readonly string[]): Promise<Record<string, string>> {
  const tests =
    only ??
    loadLab(ROOT, lab)
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
  const now: Record<string, Record<string, string>> = {};

  for (const { lab } of listLabs(ROOT)) {
    it(`${lab}: every simulated test hashes as recorded`, async function () {
      now[lab] = await hashesOf(lab);
      if (UPDATE) return;
      const differing = (): string[] =>
        Object.keys({ ...now[lab], ...recorded[lab] }).filter((t) => !matches(recorded[lab]?.[t], now[lab][t]));
      for (let i = 0; i < AGAIN && differing().some((t) => t in now[lab]); i++) {
        const again = await hashesOf(
          lab,
          differing().filter((t) => t in now[lab]),
        );
        for (const [t, hash] of Object.entries(again)) if (matches(recorded[lab]?.[t], hash)) now[lab][t] = hash;
      }
      const changed = differing().map(
        (t) => `${t}: recorded ${String(recorded[lab]?.[t] ?? '(none)')}, now ${now[lab][t] ?? '(no such test)'}`,
      );
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

  after(async () => {
    if (!UPDATE) return;
    // Labs not run this time (mocha's -g) keep their recorded hashes; a test whose hash is one of those recorded keeps
    // them all (the other path of a memory test stays recorded).
    const merged: Hashes = { ...recorded };
    for (const [lab, tests] of Object.entries(now))
      merged[lab] = Object.fromEntries(
        Object.entries(tests).map(([t, hash]) => [t, matches(recorded[lab]?.[t], hash) ? recorded[lab][t] : hash]),
      );
    // Written as Prettier writes it, so that the format check passes on the file as recorded.
    const options = { ...(await prettier.resolveConfig(FILE)), parser: 'json' };
    fs.writeFileSync(FILE, await prettier.format(JSON.stringify(merged), options));
  });
});
