/** Small formatting helpers shared by the console and the reports. */
import path from 'node:path';
import type { Target } from './types';

/** A duration for people: "7ms", "0.1s", "12.3s", "125s". */
export function secs(ms: number): string {
  if (ms < 100) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return s >= 100 ? `${Math.round(s)}s` : `${s.toFixed(1)}s`;
}

/** The command that reruns one test with one seed. */
export function replayCommand(lab: string, test: string, seed: number, target: Target): string {
  return `npm run grade ${lab} -- --test ${test} --seed ${seed}${target === 'solution' ? ' --solution' : ''}`;
}

/** Points without needless decimals: 10, 2.5. */
export function pts(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}

/** The file name of a failing run's history page. */
export function historyFileName(test: string, seed: number): string {
  return `history-${test.replace(/[^A-Za-z0-9_-]/g, '_')}-${seed}.html`;
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
