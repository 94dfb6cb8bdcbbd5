/** Lab 3 figures, measured on the reference solution: mean simulated latency per consistency level, suite time. */
import * as path from 'node:path';
import { load } from '../../lab3/load';
import { suite } from '../../lab3/test/suite';
import { loadConfig } from '../../lab3/tools/config';
import { simulate } from '../../lab3/tools/run';
import type { BenchFigure } from './figure';
import { graderTimeFigure, suiteTimeFigure } from './suite-time';

const impl = load(path.resolve(__dirname, '../../solutions/lab3'));
const CONFIGS = path.resolve(__dirname, '../../lab3/configs');

/** Seeds averaged per configuration. */
const SEEDS = 20;

/** What the original reported for each t1 configuration. */
const ORIGINAL_CLAIMS: Record<string, string> = {
  't1-1': 'about 4 s',
  't1-2': 'about 0.05 s',
  't1-3': 'about 0.002 s',
};

export async function benchLab3(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const name of ['t1-1', 't1-2', 't1-3']) {
    const config = loadConfig(path.join(CONFIGS, `${name}.json`));
    let sum = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const res = await simulate(impl, config, seed);
      if (!res.verdict.ok)
        throw new Error(
          `bench: ${name} seed ${seed} failed its ${res.verdict.check} check on the solution: ${res.verdict.text}`,
        );
      sum += res.meanLatencyMs;
    }
    figures.push({
      name: `lab3: mean latency, ${name} (${config.level})`,
      value: +(sum / SEEDS).toFixed(2),
      unit: 'virtual ms',
      note: `${SEEDS} seeds; links: client 0.5 ms, servers 5–15 ms one-way; the original reports ${ORIGINAL_CLAIMS[name]}`,
    });
  }
  figures.push(await suiteTimeFigure(suite, impl));
  figures.push(await graderTimeFigure('lab3'));
  return figures;
}
