/** Turns runs into scored test results and totals, by the rubric's points. */
import type { RunRecord, TestResult } from './types';

/** A named test's result: passed only if every run passed; full points then, none otherwise. */
export function scoreTest(
  name: string,
  description: string,
  maxPoints: number,
  runs: readonly RunRecord[],
): TestResult {
  if (runs.length === 0) throw new Error(`scoreTest: no runs for ${name}`);
  const failing = runs.filter((r) => r.status === 'failed');
  const shown = failing[0] ?? runs[0];
  const sum = (f: (r: RunRecord) => number): number => runs.reduce((acc, r) => acc + f(r), 0);
  const passed = failing.length === 0;
  return {
    name,
    description,
    status: passed ? 'passed' : 'failed',
    points: passed ? maxPoints : 0,
    maxPoints,
    seed: shown.seed,
    realMs: sum((r) => r.realMs),
    virtualMs: sum((r) => r.virtualMs),
    rpcs: sum((r) => r.rpcs),
    ops: sum((r) => r.ops),
    traceHash: shown.traceHash,
    message: shown.message,
    crash: shown.crash,
    runs,
    failingSeeds: failing.map((r) => r.seed),
  };
}

/** Score, maximum and whether everything passed. */
export function totals(tests: readonly TestResult[]): { score: number; maxScore: number; passed: boolean } {
  return {
    score: tests.reduce((a, t) => a + t.points, 0),
    maxScore: tests.reduce((a, t) => a + t.maxPoints, 0),
    passed: tests.every((t) => t.status === 'passed'),
  };
}
