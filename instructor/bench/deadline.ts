/** What a class deadline costs: one submission's grade per lab, and 500 students on one machine against 20 runners. */
import os from 'node:os';
import path from 'node:path';
import { grade } from '../../grader';
import { listLabs } from '../../grader/labs';
import { realNow } from '../../world';
import type { BenchFigure } from './figure';
import { profileOptions } from './profile';

/** The class the projection is for. */
const STUDENTS = 500;
/** Runners of instructor/workflows/grade-class.yml's matrix. */
const RUNNERS = 20;

/** A sink that drops what the grader prints. */
const quiet = { write: (): boolean => true, isTTY: false };

/**
 * Per lab: the real time of one submission graded as `grade-batch` grades it (every test, one test process at a
 * time: `--jobs 1`; the reference stands in for a submission that passes, so every test runs its whole workload),
 * then what 500 such submissions cost on this machine (`--jobs` = its cores) and on 20 runners of this machine's
 * size (`--shard k/20`: 25 submissions each). The copy into a work tree and each runner's checkout and `npm ci` are
 * left out; a submission that hangs costs up to its `--timeout` instead.
 */
export async function benchDeadline(
  labs = listLabs(path.join(__dirname, '..', '..')).map((l) => l.lab),
): Promise<BenchFigure[]> {
  const cores = os.cpus().length;
  const figures: BenchFigure[] = [];
  for (const lab of labs) {
    const start = realNow();
    const result = await grade({
      lab,
      target: 'solution',
      jobs: 1,
      writeReports: false,
      color: false,
      out: quiet,
      err: quiet,
      env: {},
      ...profileOptions(),
    });
    const seconds = (realNow() - start) / 1000;
    if (!result.passed)
      throw new Error(
        `bench: the ${lab} solution did not pass through the grader (${result.score}/${result.maxScore}).`,
      );
    const oneMachine = (STUDENTS * seconds) / cores / 60;
    const perRunner = Math.ceil(STUDENTS / RUNNERS);
    const sharded = (perRunner * seconds) / cores / 60;
    figures.push(
      {
        name: `deadline: ${lab}, one submission (grade-batch's --jobs 1)`,
        value: round(seconds),
        unit: 'real s',
        note: `${result.labs[0].tests.length} tests`,
      },
      {
        name: `deadline: ${lab}, ${STUDENTS} submissions on one machine`,
        value: round(oneMachine),
        unit: 'min',
        note: `${cores} at a time on ${cores} cores`,
      },
      {
        name: `deadline: ${lab}, ${STUDENTS} submissions on ${RUNNERS} runners`,
        value: round(sharded),
        unit: 'min',
        note: `${perRunner} each, ${cores} at a time (runners of ${cores} cores), plus each runner's npm ci; ${round(oneMachine / sharded)}x faster`,
      },
    );
  }
  return figures;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
