/**
 * Red team against the harness itself, in lab 2: a student folder whose clerk reaches for the running world (a
 * `new Network()` of its own, to patch World and Rng), adds a helper file to the lab folder that looks for node's
 * `process` and `require`, or writes a table onto objects of node's that every machine of the process shares. The untouched skeleton with either attack scores its honest 0 (plain and Classroom);
 * the reference with either scores its honest 100. A lock that poisons the verdict it catches and a lab 7 controller
 * that writes onto the configuration it is handed score 0. Each grading runs a student's copy of the kit with its own
 * grader, as batch grading does (a few minutes in all: npm run test:full).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SELECTED_REPORTS } from '../../../grader/cli';
import { FRAMEWORK_FOLDERS } from '../../../grader/layout';
import { linkModules } from '../../batch';
import {
  addLab2Attack,
  addVerdictPoison,
  KIT_PROTOTYPE_CTRLER,
  KIT_PROTOTYPE_REFUSED,
  PLAIN_OBJECT_CTRLER,
  PLAIN_OBJECT_REFUSED,
  LAB2_REFUSED,
  VERDICT_POISON_REFUSED,
  type Lab2Attack,
} from './attacks';
import { tempDir } from './helpers';

const KIT = path.resolve(__dirname, '..', '..', '..');
/** A few short tests of lab 2: RPCs on a reliable and an unreliable network, and the lock. */
const TESTS = ['TestReliablePut', 'TestUnreliableNet', 'TestReliableBasic'];

/** The student roots made, removed after the tests. */
const made: string[] = [];

/** A student's copy of the kit: the framework, the `labs` whole, its own node_modules of links (as batch grading makes one). */
function kitCopy(labs: readonly string[]): string {
  const root = tempDir('kvlabs-harness-redteam-');
  made.push(root);
  for (const d of [...FRAMEWORK_FOLDERS, ...labs])
    fs.cpSync(path.join(KIT, d), path.join(root, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(KIT, f), path.join(root, f));
  linkModules(path.join(KIT, 'node_modules'), path.join(root, 'node_modules'));
  return root;
}

/** A student's copy of the kit whose lab2/ holds the given files, `impl`'s files and the attack. */
function studentRoot(impl: 'skeleton' | 'reference', attack: Lab2Attack | 'poison'): string {
  const root = kitCopy(['lab2']);
  const lab = path.join(root, 'lab2');
  if (impl === 'reference')
    for (const f of ['client.ts', 'server.ts', 'lock.ts']) {
      const code = fs.readFileSync(path.join(KIT, 'solutions', 'lab2', f), 'utf8');
      fs.writeFileSync(
        path.join(lab, f),
        code.replaceAll("'../../lab2/", "'./").replaceAll("'../../labrpc'", "'../labrpc'"),
      );
    }
  if (attack === 'poison') addVerdictPoison(lab);
  else addLab2Attack(lab, attack);
  return root;
}

/** What one grading of a student root printed and scored. */
interface Graded {
  readonly score: number;
  readonly maxScore: number;
  /** Every test's status and message. */
  readonly tests: ReadonlyArray<{ name: string; status: string; message: string }>;
  /** The Classroom payload's total, when graded with --classroom. */
  readonly classroomScore?: number;
  /** What the code under test printed, in every run. */
  readonly printed: string;
}

/** What the code under test printed in every run, as the report `results.json` keeps it. */
function printedIn(results: string): string {
  const doc = JSON.parse(fs.readFileSync(results, 'utf8')) as { tests: Array<{ runs: Array<{ output: string }> }> };
  return doc.tests.flatMap((t) => t.runs.map((r) => r.output)).join('');
}

/** Grades `root`'s `lab` (`tests`) with the root's own grader, as a student or a Classroom runner would. */
function gradeRoot(root: string, classroom = false, lab = 'lab2', tests: readonly string[] = TESTS): Graded {
  const github = path.join(root, 'github-output');
  fs.writeFileSync(github, '');
  const run = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      './grader/register.js',
      'grader/cli.ts',
      lab,
      '--test',
      ...tests,
      '--seed',
      '5',
      '--json',
    ].concat(classroom ? ['--classroom'] : []),
    { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: github, NO_COLOR: '1' } },
  );
  const summary = JSON.parse(run.stdout) as {
    labs: Array<{ score: number; maxScore: number; tests: Graded['tests'] }>;
  };
  const line = fs
    .readFileSync(github, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('result='));
  const payload = line
    ? (JSON.parse(Buffer.from(line.slice('result='.length), 'base64').toString('utf8')) as {
        tests: Array<{ score: number }>;
      })
    : undefined;
  return {
    score: summary.labs[0].score,
    maxScore: summary.labs[0].maxScore,
    tests: summary.labs[0].tests,
    classroomScore: payload?.tests.reduce((a, t) => a + t.score, 0),
    printed: printedIn(path.join(root, 'reports', SELECTED_REPORTS, lab, 'results.json')),
  };
}

describe('grader: red team against the harness (a world reached through labrpc or a helper file, a verdict or a kit class reached through what a test hands over)', function () {
  this.timeout(300_000);
  after(() => {
    for (const root of made.splice(0)) fs.rmSync(root, { recursive: true, force: true });
  });

  for (const attack of ['network', 'helper', 'node-tables'] as const) {
    it(`the skeleton with the ${attack} attack scores its honest 0, in plain and Classroom mode`, () => {
      const root = studentRoot('skeleton', attack);
      const plain = gradeRoot(root);
      expect(plain.tests.map((t) => [t.name, t.status])).to.deep.equal(TESTS.map((t) => [t, 'failed']));
      expect(plain.score).to.equal(0);
      expect(plain.printed).to.match(LAB2_REFUSED[attack]);
      const classroom = gradeRoot(root, true);
      expect(classroom.score).to.equal(0);
      expect(classroom.classroomScore).to.equal(0);
    });

    it(`the reference with the ${attack} attack scores its honest 100`, () => {
      const result = gradeRoot(studentRoot('reference', attack));
      expect(result.tests.filter((t) => t.status !== 'passed').map((t) => t.message)).to.deep.equal([]);
      expect(result.score).to.equal(result.maxScore);
    });
  }

  it('the reference with a lock that poisons the verdict it catches (TestFailure’s instanceof) and then hangs scores 0 for that test, in plain and Classroom mode', () => {
    const root = studentRoot('reference', 'poison');
    for (const classroom of [false, true]) {
      const graded = gradeRoot(root, classroom, 'lab2', ['TestReleaseNotHeldReliable']);
      expect(graded.score).to.equal(0);
      expect(graded.printed).to.match(VERDICT_POISON_REFUSED);
      if (classroom) expect(graded.classroomScore).to.equal(0);
    }
  });

  it('the skeleton with a controller that writes onto the ShardConfig it is handed scores 0 (lab 7)', () => {
    const root = kitCopy(['lab2', 'lab6', 'lab7']);
    fs.writeFileSync(path.join(root, 'lab7', 'ctrler.ts'), KIT_PROTOTYPE_CTRLER);
    const graded = gradeRoot(root, false, 'lab7', ['TestInitQuery5A']);
    expect(graded.score).to.equal(0);
    expect(graded.printed).to.match(KIT_PROTOTYPE_REFUSED);
  });

  it('the skeleton with a controller made of an object literal keeps no harness ShardConfig and scores 0 (lab 7)', () => {
    const root = kitCopy(['lab2', 'lab6', 'lab7']);
    fs.writeFileSync(path.join(root, 'lab7', 'ctrler.ts'), PLAIN_OBJECT_CTRLER);
    const graded = gradeRoot(root, false, 'lab7', ['TestInitQuery5A']);
    expect(graded.score).to.equal(0);
    expect(graded.printed).to.match(PLAIN_OBJECT_REFUSED);
  });
});
