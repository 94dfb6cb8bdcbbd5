/**
 * The red team's attacks graded as a class is, by `npm run grade-batch --jobs 2`: on lab 2 a live harness object (a
 * Network of its own), a helper file outside the compartment and 3 GiB of Buffers; on lab 5 a dial of a classmate's
 * port and every descriptor and handle route. Each attack on the skeleton scores its honest 0; on the reference,
 * its honest score: all its points, but for the memory attack, whose every test fails at the memory limit; and a
 * correct classmate graded beside it keeps its data and all its points. A long check (npm run test:full).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { GradeJson } from '../../grader/reports/json';
import { IMPL_FILES } from '../../lab5/load';
import { type GradebookFile } from '../batch';
import { copyTemplate, putSolution } from '../class';
import { KIT_ROOT, release } from '../release';
import { addLab2Attack, dialAttack, dialNotRefused, LAB2_REFUSED, type Lab2Attack } from './grader/attacks';

/** A student of the fixture class: the files it starts from, and the attack added to them (none: the classmate). */
interface Student {
  readonly name: string;
  readonly impl: 'skeleton' | 'reference';
  readonly attack?: Lab2Attack | 'dial';
}

/** What one student's row and reports say. */
interface Graded {
  readonly status: string;
  readonly score: number;
  readonly maxScore: number;
  readonly notes: readonly string[];
  /** Each test's status and message. */
  readonly tests: ReadonlyArray<{ name: string; status: string; message: string }>;
  /** What the code under test printed, in every failing run (results.json keeps no passing run's). */
  readonly printed: string;
}

/** A classmate's server outside the batch: counts the connections made to it and keeps what they write. */
async function classmateServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    connections++;
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes each student's repository into `dir`, from `template`: the lab's files as `impl` has them, and the attack. */
function buildClass(template: string, dir: string, lab: 'lab2' | 'lab5', students: readonly Student[], port = 0): void {
  const files = lab === 'lab2' ? ['server.ts', 'client.ts', 'lock.ts'] : [...IMPL_FILES];
  for (const s of students) {
    const repo = path.join(dir, s.name);
    copyTemplate(template, repo);
    if (s.impl === 'reference') putSolution(repo, lab, files);
    if (s.attack === 'dial') fs.appendFileSync(path.join(repo, lab, 'server.ts'), dialAttack(port));
    else if (s.attack !== undefined) addLab2Attack(path.join(repo, lab), s.attack);
  }
}

/** Runs `npm run grade-batch -- <args>` in the kit; rejects with its output if it fails. */
function gradeBatchCommand(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'grade-batch', '--', ...args], { cwd: KIT_ROOT });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`grade-batch exited ${code}:\n${output}`)),
    );
  });
}

/** Grades the class in `dir` with `npm run grade-batch --jobs 2` into `out`; each student's row and reports. */
async function gradeClass(
  lab: string,
  template: string,
  dir: string,
  out: string,
  tests: readonly string[],
): Promise<Record<string, Graded>> {
  await gradeBatchCommand([
    ...['--lab', lab, '--submissions', dir, '--template', template, '--out', out, '--jobs', '2'],
    ...['--seed', '5', '--timeout', '400', '--in-order', '--test', ...tests],
  ]);
  const book = JSON.parse(fs.readFileSync(path.join(out, 'gradebook.json'), 'utf8')) as GradebookFile;
  const graded: Record<string, Graded> = {};
  for (const row of book.rows) {
    const results = path.join(out, 'reports', row.student, lab, 'results.json');
    const doc = fs.existsSync(results)
      ? (JSON.parse(fs.readFileSync(results, 'utf8')) as GradeJson['labs'][number] & {
          tests: Array<{ runs: Array<{ output: string }> }>;
        })
      : undefined;
    graded[row.student] = {
      status: row.status,
      score: row.score,
      maxScore: row.maxScore,
      notes: row.notes,
      tests: (doc?.tests ?? []).map((t) => ({ name: t.name, status: t.status, message: t.message })),
      printed: (doc?.tests ?? []).flatMap((t) => t.runs.map((r) => r.output)).join(''),
    };
  }
  return graded;
}

/** Messages of the tests of `g` that did not pass. */
function failures(g: Graded): string[] {
  return g.tests.filter((t) => t.status !== 'passed').map((t) => `${t.name}: ${t.message.slice(0, 400)}`);
}

describe('instructor tools: the red team’s attacks in batch grading (a classmate graded beside each keeps its points)', function () {
  this.timeout(1_200_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-batch-redteam-'));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('lab 2: a Network of its own, a helper file looking for process and require, and 3 GiB of Buffers score their honest score; the classmate beside the hoard keeps its 100', async () => {
    const template = path.join(work, 'lab2-template');
    await release({ out: template, labs: ['lab2'], allowDirty: true });
    // In order, two at a time: the hoarding reference and the classmate are graded side by side.
    const students: Student[] = [
      { name: 'a-hoard-reference', impl: 'reference', attack: 'hoard' },
      { name: 'b-classmate', impl: 'reference' },
      ...(['network', 'helper', 'hoard'] as const).flatMap((attack, i): Student[] => [
        { name: `${'cde'[i]}1-${attack}-skeleton`, impl: 'skeleton', attack },
        ...(attack === 'hoard'
          ? []
          : [{ name: `${'cde'[i]}2-${attack}-reference`, impl: 'reference' as const, attack }]),
      ]),
    ];
    const dir = path.join(work, 'lab2-class');
    buildClass(template, dir, 'lab2', students);
    const tests = ['TestReliablePut', 'TestUnreliableNet', 'TestReliableBasic'];
    const graded = await gradeClass('lab2', template, dir, path.join(work, 'lab2-out'), tests);
    const classmate = graded['b-classmate'];
    expect(failures(classmate)).to.deep.equal([]);
    expect([classmate.status, classmate.score, classmate.notes]).to.deep.equal(['graded', classmate.maxScore, []]);
    for (const s of students.filter((x) => x.attack !== undefined)) {
      const g = graded[s.name];
      expect(g.status, s.name).to.equal('graded');
      if (s.attack === 'hoard') {
        // Holding 3 GiB is what the limit fails: every test, with the limit named, whatever the answers were.
        expect(g.score, s.name).to.equal(0);
        for (const t of g.tests) expect(t.message, `${s.name} ${t.name}`).to.match(LAB2_REFUSED.hoard);
      } else if (s.impl === 'skeleton') {
        // What a failing run printed is kept: the attack ran, and was refused.
        expect(g.printed, s.name).to.match(LAB2_REFUSED[s.attack as Lab2Attack]);
        expect(g.score, s.name).to.equal(0);
      } else expect(failures(g), s.name).to.deep.equal([]);
    }
  });

  it('lab 5: a dial of a classmate’s port and every descriptor and handle route are refused; the skeleton scores 0, the reference and the classmate beside it all their points, and the classmate’s server sees no connection', async () => {
    const template = path.join(work, 'lab5-template');
    await release({ out: template, labs: ['lab5'], allowDirty: true });
    const other = await classmateServer();
    try {
      const students: Student[] = [
        { name: 'a-dial-reference', impl: 'reference', attack: 'dial' },
        { name: 'b-classmate', impl: 'reference' },
        { name: 'c-dial-skeleton', impl: 'skeleton', attack: 'dial' },
      ];
      const dir = path.join(work, 'lab5-class');
      buildClass(template, dir, 'lab5', students, other.port);
      const graded = await gradeClass('lab5', template, dir, path.join(work, 'lab5-out'), [
        'TestSetGetDel',
        'TestIntegers',
      ]);
      for (const name of ['a-dial-reference', 'b-classmate']) {
        expect(failures(graded[name]), name).to.deep.equal([]);
        expect(graded[name].score, name).to.equal(graded[name].maxScore);
      }
      expect(graded['c-dial-skeleton'].score).to.equal(0);
      // What a failing run printed is kept: the skeleton's attack ran, and every route was refused.
      const printed = graded['c-dial-skeleton'].printed;
      expect(printed).to.contain('ATTACK ');
      expect(dialNotRefused(printed, other.port)).to.deep.equal([]);
      expect(other.connections(), 'the classmate’s server was never reached').to.equal(0);
    } finally {
      await other.close();
    }
  });
});
