/** Small formatting helpers shared by the console and the reports. */
import path from 'node:path';
import type { Target, TestResult } from './types';

/** A report's Seed cell: the seed of a single run, the failing seeds of several ("—" for real-time tests, which no seed replays). */
export function seedCell(t: TestResult): string {
  if (t.realTime) return '—';
  if (t.runs.length <= 1) return String(t.seed);
  return t.failingSeeds.length === 0 ? `${t.runs.length} seeds` : `failed: ${t.failingSeeds.join(', ')}`;
}

/** A duration for people: "7ms", "0.1s", "12.3s", "125s". */
export function secs(ms: number): string {
  if (ms < 100) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return s >= 100 ? `${Math.round(s)}s` : `${s.toFixed(1)}s`;
}

/** Real time for minimizing one traced failure's faults, s (`--no-minimize` skips it; a replay asks with `--minimize`). */
export const DEFAULT_MINIMIZE_SEC = 20;

/** The command that reruns one test with one seed. */
export function replayCommand(lab: string, test: string, seed: number, target: Target): string {
  return `npm run grade ${lab} -- --test ${test} --seed ${seed}${target === 'solution' ? ' --solution' : ''}`;
}

/** The command that reruns a real-time test (no seed: real timing cannot be replayed), as often as it ran. */
export function rerunCommand(lab: string, test: string, target: Target, runs = 1): string {
  return `npm run grade ${lab} -- --test ${test}${runs > 1 ? ` --runs ${runs}` : ''}${target === 'solution' ? ' --solution' : ''}`;
}

/** Said next to a real-time test's rerun command, so nobody expects the same run again. */
export const REAL_TIME_NOTE = 'real time: a rerun is not an exact replay';

/** How to get a failed test again: its replay command, or for a real-time test its rerun command. */
export function againCommand(
  lab: string,
  t: { name: string; seed: number; realTime?: boolean; runs: readonly unknown[] },
  target: Target,
): string {
  return t.realTime ? rerunCommand(lab, t.name, target, t.runs.length) : replayCommand(lab, t.name, t.seed, target);
}

/** Points without needless decimals: 10, 2.5. */
export function pts(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}

/** The file name of a failing run's history page. */
export function historyFileName(test: string, seed: number): string {
  return `history-${test.replace(/[^A-Za-z0-9_-]/g, '_')}-${seed}.html`;
}

/** The file name of a failing run's message-trace page. */
export function traceFileName(test: string, seed: number): string {
  return `trace-${test.replace(/[^A-Za-z0-9_-]/g, '_')}-${seed}.html`;
}

/** The file name of the trace page of a failing run's smallest failing schedule (its minimised replay). */
export function minimalTraceFileName(test: string, seed: number): string {
  return traceFileName(test, seed).replace(/\.html$/, '-minimal.html');
}

/** The first line of a message. */
export function firstLine(message: string): string {
  const i = message.indexOf('\n');
  return i < 0 ? message : message.slice(0, i);
}

/** A path for people: relative to the current directory when inside it, absolute otherwise. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
}
