/** The real time a whole lab suite takes on the reference solution: in-process, and as `npm run grade` runs it. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { grade } from '../../grader';
import { LabSuite, runNamedTest } from '../../suite';
import { realNow } from '../../world';
import type { BenchFigure } from './figure';
import { GOALS, goalNote } from './goals';
import { profileOptions } from './profile';

/** Runs every named test once with `seed` and reports the real time, noting the virtual time simulated. */
export async function suiteTimeFigure<Impl>(
  suite: LabSuite<Impl>,
  impl: Impl,
  note = '',
  seed = 1,
): Promise<BenchFigure> {
  const start = realNow();
  let virtualMs = 0;
  for (const test of suite.tests) {
    const outcome = await runNamedTest(test, impl, seed);
    if (outcome.status !== 'passed') throw new Error(`bench: ${test.name} failed on the solution: ${outcome.message}`);
    virtualMs += outcome.virtualMs;
  }
  return {
    name: `${suite.lab}: whole suite on the solution (in-process)`,
    value: Math.round(realNow() - start),
    unit: 'real ms',
    note: `${suite.tests.length} tests, ${(virtualMs / 1000).toFixed(1)} virtual s simulated${note ? `; ${note}` : ''}`,
  };
}

/** A sink that drops what the grader prints. */
const quiet = { write: (): boolean => true, isTTY: false };

/**
 * Real time of `npm run grade <lab> -- --solution --seed <seed>`: the figure a student sees, with the grader's
 * worker start-up, compilation and isolation included (the in-process figure leaves them out).
 */
export async function graderTimeFigure(lab: string, seed = 1): Promise<BenchFigure> {
  const start = realNow();
  const result = await grade({
    lab,
    target: 'solution',
    seed,
    writeReports: false,
    color: false,
    out: quiet,
    err: quiet,
    env: {},
  });
  if (!result.passed)
    throw new Error(`bench: the ${lab} solution did not pass through the grader (${result.score}/${result.maxScore}).`);
  return {
    name: `${lab}: whole suite through the grader (npm run grade ${lab} -- --solution)`,
    value: Math.round(realNow() - start),
    unit: 'real ms',
    note: `${result.labs[0].tests.length} tests in isolated workers, scored ${result.score}/${result.maxScore}`,
  };
}

/**
 * What one layer of the untrusted boundary costs: lab `lab`'s whole grade with it on (as always) and off (node's
 * permission model: the same sandboxed process without its flags; the compartment: the code under test loaded
 * by node's loader in an unlocked realm), alternated `rounds` times; the figure is the ratio of the medians,
 * measured in one run (the aims: at most 1.10 and 1.20 for lab 2).
 */
export async function sandboxCostFigure(
  lab: string,
  rounds = 3,
  seed = 1,
  layer: 'permissions' | 'compartment' = 'permissions',
): Promise<BenchFigure> {
  const once = async (on: boolean): Promise<number> => {
    const start = realNow();
    const result = await grade({
      lab,
      target: 'solution',
      seed,
      [layer]: on,
      writeReports: false,
      color: false,
      out: quiet,
      err: quiet,
      env: {},
      ...profileOptions(),
    });
    if (!result.passed)
      throw new Error(
        `bench: the ${lab} solution did not pass through the grader (${result.score}/${result.maxScore}).`,
      );
    return realNow() - start;
  };
  const on: number[] = [];
  const off: number[] = [];
  await once(true); // warm the compile cache first
  for (let i = 0; i < rounds; i++) {
    on.push(await once(true));
    off.push(await once(false));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const what = layer === 'permissions' ? "node's permission model" : 'the lockdown and the compartment';
  return {
    name: `${lab}: grade with ${what} ÷ without`,
    value: Math.round((median(on) / median(off)) * 1000) / 1000,
    unit: 'ratio',
    note: `medians of ${rounds} alternated runs: ${Math.round(median(on))} ms with, ${Math.round(median(off))} ms without; aim ≤ ${layer === 'permissions' ? '1.10' : '1.20'}`,
  };
}

/**
 * The grader's fixed cost, as a student meets it: real time of `npm run grade lab2 -- --solution --test
 * TestReliablePut` (a test of a few virtual ms) as its own process, median of `rounds` after one warm-up (the
 * compile cache warm, as on a student's second run).
 */
export function graderStartFigure(rounds = 5): BenchFigure {
  const root = path.join(__dirname, '..', '..');
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-bench-'));
  const once = (): number => {
    const start = realNow();
    const r = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '-r',
        './grader/register.js',
        'grader/cli.ts',
        'lab2',
        '--solution',
        '--test',
        'TestReliablePut',
        '--report',
        reportDir,
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    if (r.status !== 0) throw new Error(`bench: the one-test grade failed (exit ${r.status}): ${r.stderr}`);
    return realNow() - start;
  };
  try {
    once();
    const times = Array.from({ length: rounds }, once).sort((a, b) => a - b);
    const median = times[Math.floor(rounds / 2)];
    return {
      name: 'grader: one trivial test as its own process (npm run grade lab2 -- --test TestReliablePut)',
      value: Math.round(median),
      unit: 'real ms',
      note: `median of ${rounds}, compile cache warm; the test itself takes a few ms; ${goalNote(median, GOALS.oneTestGrade)}`,
    };
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}
