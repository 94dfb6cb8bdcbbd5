/** The reference sweep's figures (`npm run sweep` writes them; the bench reports the last recorded sweep, it does not rerun it). */
import { readSweep, SWEEP_FILE } from '../sweep';
import type { BenchFigure } from './figure';

/** Per lab: the fewest seeds any simulated test was swept with, and the reference runs that failed (the target is 0). */
export async function benchSweep(): Promise<BenchFigure[]> {
  const entries = Object.values(readSweep());
  if (entries.length === 0)
    return [
      {
        name: 'sweep: none recorded',
        value: 0,
        unit: 'runs',
        note: `run \`npm run sweep\` (hours on 2 cores) to record ${SWEEP_FILE}`,
      },
    ];
  const labs = [...new Set(entries.map((e) => e.lab))].sort();
  return labs.flatMap((lab): BenchFigure[] => {
    const mine = entries.filter((e) => e.lab === lab);
    const simulated = mine.filter((e) => !e.realTime);
    const real = mine.filter((e) => e.realTime);
    const failures = mine.reduce((n, e) => n + e.failingSeeds.length, 0);
    const out: BenchFigure[] = [
      {
        name: `sweep ${lab}: reference runs that failed`,
        value: failures,
        unit: 'runs',
        note: `target 0; ${mine.reduce((n, e) => n + e.runs, 0).toLocaleString('en-US')} runs of ${mine.length} tests, last ${mine
          .map((e) => e.date)
          .sort()
          .pop()
          ?.slice(0, 10)}`,
      },
    ];
    if (simulated.length > 0)
      out.push({
        name: `sweep ${lab}: fewest seeds of a simulated test`,
        value: Math.min(...simulated.map((e) => e.runs)),
        unit: 'seeds',
        note: `target 1,000; ${
          simulated
            .filter((e) => e.runs < 1000)
            .map((e) => e.test)
            .join(', ') || 'every test at 1,000 or more'
        }`,
      });
    if (real.length > 0)
      out.push({
        name: `sweep ${lab}: fewest loaded runs of a real-time test`,
        value: Math.min(...real.map((e) => e.runs)),
        unit: 'runs',
        note: `target 50 beside ${Math.min(...real.map((e) => e.busyLoops))} busy loops`,
      });
    return out;
  });
}
