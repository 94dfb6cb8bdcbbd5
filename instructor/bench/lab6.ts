/** Lab 6 figures, measured on the reference: each half's real time (Raft; the key/value service) and the whole grade. */
import * as path from 'node:path';
import { load } from '../../lab6/load';
import { suite } from '../../lab6/test/suite';
import type { BenchFigure } from './figure';
import { GOALS, goalNote } from './goals';
import { graderTimeFigure, suiteTimeFigure } from './suite-time';

export async function benchLab6(): Promise<BenchFigure[]> {
  const impl = load(path.resolve(__dirname, '../../solutions/lab6'));
  const halves = [
    { lab: 'lab6 parts 1-4 (Raft)', tests: suite.tests.filter((t) => t.part <= 4), mit: 'about 6 minutes' },
    { lab: 'lab6 parts 5-7 (key/value)', tests: suite.tests.filter((t) => t.part >= 5), mit: 'several minutes' },
  ];
  const figures: BenchFigure[] = [];
  for (const half of halves) {
    const figure = await suiteTimeFigure({ ...suite, lab: half.lab, tests: half.tests }, impl);
    figure.note = `${figure.note ?? ''}; ${goalNote(figure.value, GOALS.lab6HalfInProcess)} (MIT: ${half.mit} of real time)`;
    figures.push(figure);
  }
  figures.push(await graderTimeFigure('lab6'));
  return figures;
}
