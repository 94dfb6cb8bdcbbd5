/** The `grade-labN` sections: one lab's whole reference grade as `npm run grade labN -- --solution` runs it, and each test's share. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultJobs, grade } from '../../grader';
import { realNow } from '../../world';
import type { BenchFigure } from './figure';
import { goalNote, gradeGoal } from './goals';
import { profileOptions } from './profile';

/** A sink that drops what the grader prints. */
const quiet = { write: (): boolean => true, isTTY: false };

/** Tests under this share of the tests' summed time are counted together in one figure. */
const SMALL_SHARE = 0.02;

/**
 * The real time of `lab`'s whole grade on the reference (reports written, to a scratch folder), then each test's
 * own real time (as the grader measures it in its test process), largest first. What the tests' times do not
 * account for is the grade's own: starting test processes, loading the suite and the code, the reports.
 */
export async function benchGrade(lab: string): Promise<BenchFigure[]> {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-bench-grade-'));
  try {
    const start = realNow();
    const result = await grade({
      lab,
      target: 'solution',
      reportDir,
      color: false,
      out: quiet,
      err: quiet,
      env: {},
      ...profileOptions(),
    });
    const wallMs = realNow() - start;
    if (!result.passed)
      throw new Error(
        `bench: the ${lab} solution did not pass through the grader (${result.score}/${result.maxScore}).`,
      );
    const tests = [...result.labs[0].tests].sort((a, b) => b.realMs - a.realMs);
    const summed = tests.reduce((a, t) => a + t.realMs, 0);
    const figures: BenchFigure[] = [
      {
        name: `${lab}: whole grade on the reference (npm run grade ${lab} -- --solution, in-process)`,
        value: Math.round(wallMs),
        unit: 'real ms',
        note: `${goalNote(wallMs, gradeGoal(lab))}; ${tests.length} tests, ${defaultJobs()} test processes side by side; the tests' own times add up to ${Math.round(summed)} ms`,
      },
    ];
    const small = tests.filter((t) => t.realMs < summed * SMALL_SHARE);
    for (const t of tests.filter((x) => x.realMs >= summed * SMALL_SHARE))
      figures.push({
        name: `${lab}: ${t.name}`,
        value: Math.round(t.realMs),
        unit: 'real ms',
        note: t.realTime ? 'real time' : `${(t.virtualMs / 1000).toFixed(1)} virtual s, ${t.rpcs} RPCs`,
      });
    if (small.length > 0)
      figures.push({
        name: `${lab}: the ${small.length} other tests`,
        value: Math.round(small.reduce((a, t) => a + t.realMs, 0)),
        unit: 'real ms',
        note: `each under ${SMALL_SHARE * 100}% of the tests' summed time`,
      });
    return figures;
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}
