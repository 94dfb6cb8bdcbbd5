/** Instructor-tool figures: how long a release takes and how many lab 2 submissions batch grading scores per minute. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchFigure } from './figure';
import { mutants } from '../../solutions/lab2/mutants';
import { gradeBatch } from '../batch';
import { KIT_ROOT, release } from '../release';
import { buildLab2Class, Kind } from '../class';

/** Releases a lab 2 template, builds a class of `students` submissions, and grades it with `--jobs 2` (every test). */
export async function benchInstructor(students = 6): Promise<BenchFigure[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-bench-instructor-'));
  try {
    const template = path.join(work, 'template');
    const t0 = performance.now();
    await release({ out: template, labs: ['lab2'], allowDirty: true }); // a figure of time, not a template to publish
    const releaseMs = performance.now() - t0;
    fs.symlinkSync(path.join(KIT_ROOT, 'node_modules'), path.join(template, 'node_modules'), 'dir');

    // Mostly correct work (every test runs its full workload), with one partly correct and one incomplete.
    const mix: Kind[] = ['mutant', 'missing-file'];
    const kinds = Array.from({ length: students }, (_, i): Kind => mix[i] ?? 'correct');
    const cls = path.join(work, 'class');
    const mutant = mutants.find((m) => m.name === 'no-errmaybe') ?? mutants[0];
    // buildLab2Class names folders after the kind; give each correct student its own folder.
    kinds.forEach((kind, i) => {
      const tmp = path.join(work, `one-${i}`);
      buildLab2Class(template, tmp, [kind], mutant);
      fs.mkdirSync(cls, { recursive: true });
      fs.renameSync(path.join(tmp, kind), path.join(cls, `student${String(i + 1).padStart(2, '0')}-${kind}`));
    });

    const r = await gradeBatch({
      lab: 'lab2',
      submissions: cls,
      out: path.join(work, 'out'),
      template,
      jobs: 2,
      log: { write: () => true },
    });
    const minutes = r.realMs / 60_000;
    const graded = r.rows.filter((x) => x.status === 'graded');
    const meanSec = graded.reduce((a, x) => a + x.realMs, 0) / Math.max(1, graded.length) / 1000;
    return [
      {
        name: 'instructor: release a lab 2 student template',
        value: round(releaseMs / 1000),
        unit: 's',
        note: 'copy of the tracked files, leak scan, workflow and manifest',
      },
      {
        name: 'instructor: batch grading throughput, lab 2, --jobs 2',
        value: round(r.rows.length / minutes),
        unit: 'submissions/min',
        note: `${r.rows.length} submissions, every lab 2 test, ${os.cpus().length} cores, ${(r.realMs / 1000).toFixed(1)} s in all`,
      },
      {
        name: 'instructor: real time to grade one lab 2 submission in a batch',
        value: round(meanSec),
        unit: 's',
        note: 'mean over graded submissions, two running at once',
      },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (require.main === module) {
  benchInstructor().then(
    (figs) => {
      for (const f of figs) process.stdout.write(`${f.name}: ${f.value} ${f.unit}${f.note ? `  (${f.note})` : ''}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
