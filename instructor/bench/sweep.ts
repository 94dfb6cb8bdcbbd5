/** The reference sweep's figures (`npm run sweep` writes them; the bench reports the last recorded sweep, it does not rerun it). */
import * as path from 'node:path';
import { listLabs, loadLab } from '../../grader/labs';
import { readSweep, SWEEP_FILE, type SweepEntry } from '../sweep';
import type { BenchFigure } from './figure';

/** One test of a suite and what the sweep recorded of it (nothing when it was never swept). */
interface SweptTest {
  readonly name: string;
  readonly realTime: boolean;
  readonly entry: SweepEntry | undefined;
}

/** Names `tests` in a note: all of them when few, else the first ones and a count. */
function nameSome(tests: readonly SweptTest[]): string {
  const shown = tests.slice(0, 6).map((t) => `${t.name} ${t.entry?.runs ?? 0}`);
  return tests.length > 6 ? `${shown.join(', ')} and ${tests.length - 6} more` : shown.join(', ');
}

/** One lab's figures: failed runs, fewest seeds of a simulated test, fewest loaded runs of a real-time test. */
function labFigures(lab: string, tests: readonly SweptTest[]): BenchFigure[] {
  const swept = tests.flatMap((t) => (t.entry ? [t.entry] : []));
  const failures = swept.reduce((n, e) => n + e.failingSeeds.length, 0);
  const last =
    swept
      .map((e) => e.date)
      .sort()
      .pop()
      ?.slice(0, 10) ?? 'never';
  const out: BenchFigure[] = [
    {
      name: `sweep ${lab}: reference runs that failed`,
      value: failures,
      unit: 'runs',
      note: `target 0; ${swept.reduce((n, e) => n + e.runs, 0).toLocaleString('en-US')} runs of ${swept.length} of its ${tests.length} tests, last ${last}`,
    },
  ];
  const simulated = tests.filter((t) => !t.realTime);
  const real = tests.filter((t) => t.realTime);
  const runs = (t: SweptTest): number => t.entry?.runs ?? 0;
  if (simulated.length > 0) {
    const short = simulated.filter((t) => runs(t) < 1000).sort((a, b) => runs(a) - runs(b));
    out.push({
      name: `sweep ${lab}: fewest seeds of a simulated test`,
      value: Math.min(...simulated.map(runs)),
      unit: 'seeds',
      note: `target 1,000; ${short.length === 0 ? 'every test at 1,000 or more' : `under it: ${nameSome(short)}`}`,
    });
  }
  if (real.length > 0) {
    const short = real.filter((t) => runs(t) < 50).sort((a, b) => runs(a) - runs(b));
    const loops = real.flatMap((t) => (t.entry ? [t.entry.busyLoops] : []));
    out.push({
      name: `sweep ${lab}: fewest loaded runs of a real-time test`,
      value: Math.min(...real.map(runs)),
      unit: 'runs',
      note: `target 50 beside ${loops.length > 0 ? Math.min(...loops) : 2} busy loops; ${short.length === 0 ? 'every test at 50 or more' : `under it: ${nameSome(short)}`}`,
    });
  }
  return out;
}

/** Per lab: the reference runs that failed (target 0) and the fewest runs of any of its tests, never-swept ones at 0. */
export async function benchSweep(): Promise<BenchFigure[]> {
  const record = readSweep();
  if (Object.keys(record).length === 0)
    return [
      {
        name: 'sweep: none recorded',
        value: 0,
        unit: 'runs',
        note: `run \`npm run sweep\` (hours on 2 cores) to record ${path.relative(process.cwd(), SWEEP_FILE)}`,
      },
    ];
  const root = path.resolve(__dirname, '../..');
  return listLabs(root).flatMap(({ lab }) =>
    labFigures(
      lab,
      loadLab(root, lab).suite.tests.map((t) => ({
        name: t.name,
        realTime: t.realTime === true,
        entry: record[`${lab}/${t.name}`],
      })),
    ),
  );
}
