/** Lab 6 figures, measured on the reference Raft: the whole suite's real time against MIT's real-time budget. */
import * as path from 'node:path';
import { load } from '../../lab6/load';
import { suite } from '../../lab6/test/suite';
import type { BenchFigure } from './figure';
import { targetNote } from './lab4';
import { graderTimeFigure, suiteTimeFigure } from './suite-time';

/** Issue 29's aim for the Raft parts (MIT's lab page budgets about 6 minutes of real time for them). */
const TARGET_MS = 60_000;

export async function benchLab6(): Promise<BenchFigure[]> {
  const inProcess = await suiteTimeFigure(suite, load(path.resolve(__dirname, '../../solutions/lab6')));
  const graded = await graderTimeFigure('lab6');
  graded.note = `${graded.note ?? ''}; ${targetNote(graded.value, { below: TARGET_MS, unit: 'ms' })} (MIT: about 6 minutes of real time)`;
  return [inProcess, graded];
}
