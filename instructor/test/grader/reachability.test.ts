/**
 * The boundary, proved: from everything the code under test can touch in each lab (its globals, every kit module it
 * may import, what their functions return, each value a real test hands it), nothing reachable is unfrozen or the
 * harness's. The walk itself is checked on graphs that break each rule.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GIVEN_MODULES } from '../../../grader/kit-surface';
import { World } from '../../../world';
import type { ProbeReport } from './reach-probe';
import { walk } from './reach';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Short tests of each lab whose arguments cover what its tests hand the code (ends, configs, persisters, apply callbacks). */
const PROBED: Readonly<Record<string, readonly string[]>> = {
  lab1: ['TestStaticShards', 'TestUnreliableOneKey'],
  lab2: ['TestReliablePut', 'TestUnreliableNet', 'TestReliableBasic'],
  lab3: ['TestBasic'],
  lab4: ['TestLeaderAcceptsWrites', 'TestFollowerRestartEmpty'],
  lab6: ['TestBasicAgree', 'TestPersist1', 'TestSnapshotBasic', 'TestBasic4A', 'TestBasic4B'],
  lab7: ['TestJoinBasic5A'],
  // Lab 5's code runs in a process of its own with real sockets: its surface is walked, not a test's arguments
  // (plain options, copied), its `fs` facade included; its `net` facade is not (its classes are node's, whose
  // stream prototypes are locked rather than frozen: net-guard.full.test.ts holds what they may do).
  lab5: [],
};

/**
 * Routes each lab's probe must have seen the code receive a value by (so that the walk starts from what came that
 * way): a harness error as a call's rejection reason, a harness object as a method argument of an object the code's
 * constructor returned, a test's module constant likewise.
 */
const ROUTES: Readonly<Record<string, readonly RegExp[]>> = {
  lab2: [
    /^what \(argument 0 of new Clerk\(\)\)\.call\(\) rejected with$/,
    /^argument 0 of \(new KVServer\(\)\)\.Get\(\)$/,
  ],
  lab6: [/^argument 0 of \(new RSM\(\)\)\.submit\(\)$/],
  lab7: [/^argument 0 of \(new ShardCtrler\(\)\)\.initConfig\(\)$/],
};

describe('grader: nothing of the harness is reachable from the code under test', function () {
  this.timeout(180_000);
  let reports: ProbeReport[];

  before(() => {
    const args = Object.entries(PROBED).map(([lab, tests]) => `${lab}:${tests.join(',')}`);
    const run = spawnSync(
      process.execPath,
      // Node's internals exposed, as in every process that runs code under test (grader/sandbox.ts), so that the
      // grader hardens node's whole table of error classes.
      ['--expose-internals', '-r', './grader/register.js', path.join(__dirname, 'reach-probe.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    if (run.status !== 0) throw new Error(`the probe failed (exit ${run.status}):\n${run.stderr}`);
    reports = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as ProbeReport);
  });

  for (const lab of Object.keys(PROBED))
    it(`${lab}: every object reachable is frozen and none is the harness's`, () => {
      const report = reports.find((r) => r.lab === lab);
      expect(report, `no report for ${lab}`).to.not.equal(undefined);
      if (!report) return;
      expect(report.findings).to.deep.equal([]);
      expect(report.objects, 'the walk reached the intrinsics and the kit modules').to.be.above(900);
      for (const t of report.tests) expect(t.status, `${t.name}: ${t.message}`).to.equal('passed');
      if (PROBED[lab].length > 0) expect(report.handed, 'the tests handed the code something to walk').to.be.above(5);
      for (const route of ROUTES[lab] ?? [])
        expect(
          report.routes.some((r) => route.test(r)),
          `a value received as ${String(route)}`,
        ).to.equal(true);
    });

  it('names every file of each lab folder that is neither the student’s nor load.ts as a given module', () => {
    expect(Object.keys(GIVEN_MODULES).sort()).to.deep.equal(Object.keys(PROBED).sort());
    for (const report of reports) {
      const files = fs.readdirSync(path.join(ROOT, report.lab)).filter((f) => f.endsWith('.ts'));
      const expected = files.filter((f) => f !== 'load.ts' && !report.implFiles.includes(f)).sort();
      expect([...GIVEN_MODULES[report.lab]].sort(), report.lab).to.deep.equal(expected);
    }
  });
});

describe('grader: the reachability walk', () => {
  /** `o` frozen with no prototype (this process is not locked down: the walk must not wander into its intrinsics). */
  const bare = <T extends object>(o: T): T => Object.freeze(Object.setPrototypeOf(o, null) as T);

  it('finds a harness object behind frozen ones (a world, as a network kept it)', () => {
    const world = new World({ seed: 1 });
    const { findings } = walk([{ name: 'end', value: bare({ net: bare({ world }) }) }]);
    expect(findings).to.deep.equal([{ path: 'end.net.world', problem: 'harness object' }]);
  });

  it('finds a harness class through its constructor (World.prototype reached from the class)', () => {
    const { findings } = walk([{ name: 'exports', value: bare({ World }) }]);
    expect(findings).to.deep.include({ path: 'exports.World.prototype', problem: 'harness object' });
  });

  it('finds one prototype left unfrozen on the path, and an unfrozen function of a frozen object', () => {
    const proto = Object.setPrototypeOf({ method: bare(() => 1) }, null) as object;
    const obj = Object.freeze(Object.create(proto) as object);
    expect(walk([{ name: 'x', value: obj }]).findings).to.deep.equal([{ path: 'x.__proto__', problem: 'not frozen' }]);
    const fn = Object.setPrototypeOf(() => 2, null) as object;
    expect(walk([{ name: 'y', value: bare({ fn }) }]).findings).to.deep.equal([
      { path: 'y.fn', problem: 'not frozen' },
    ]);
  });

  it('lets a value of the code’s own change (and the plain data in it), never what it holds of anyone else', () => {
    const shared = Object.setPrototypeOf({ counter: 0 }, null) as object;
    const holder = Object.freeze(
      Object.create(Object.setPrototypeOf({}, null) as object, { shared: { value: shared } }),
    );
    const own = Object.setPrototypeOf(
      { list: Object.setPrototypeOf({ 0: 1 }, null) as object, holder },
      null,
    ) as object;
    expect(walk([{ name: 'copy', value: own, ownCopy: true }]).findings).to.deep.equal([
      { path: 'copy.holder.__proto__', problem: 'not frozen' },
      { path: 'copy.holder.shared', problem: 'not frozen' },
    ]);
  });
});
