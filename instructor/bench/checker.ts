/** Bench figures of the linearizability checker on the porcupine data set (6 kv + 102 etcd histories). */
import * as path from 'path';
import { checkLoaded, loadHistoryFile, porcupineDataset } from '../../checker/files';
import { PORCUPINE_DIR } from '../test/checker/helpers';
import type { BenchFigure } from './figure';

/** Time of one pass over the data set, with the slowest file and the kv c50-ok time. */
interface Pass {
  totalMs: number;
  /** CPU time of the pass (less sensitive than wall time to other processes on a busy machine). */
  cpuMs: number;
  slowest: { file: string; ms: number };
  c50okMs: number;
  mismatches: string[];
}

/** Parses and checks every history once, timing each file (parse + check). */
function onePass(): Pass {
  const pass: Pass = { totalMs: 0, cpuMs: 0, slowest: { file: '', ms: 0 }, c50okMs: 0, mismatches: [] };
  const cpu0 = process.cpuUsage();
  for (const entry of porcupineDataset(PORCUPINE_DIR)) {
    const t0 = performance.now();
    const verdict = checkLoaded(loadHistoryFile(entry.file, entry.format), { timeoutMs: 60_000 }).verdict;
    const ms = performance.now() - t0;
    pass.totalMs += ms;
    const name = path.basename(entry.file);
    if (ms > pass.slowest.ms) pass.slowest = { file: name, ms };
    if (name === 'c50-ok.txt') pass.c50okMs = ms;
    if (verdict !== entry.expected) pass.mismatches.push(`${name}: ${verdict}, expected ${entry.expected}`);
  }
  const cpu = process.cpuUsage(cpu0);
  pass.cpuMs = (cpu.user + cpu.system) / 1000;
  return pass;
}

/** Rounds to 0.1. */
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** The checker's figures: a cold pass (first in the process) and the best of three warm passes. */
export async function benchChecker(): Promise<BenchFigure[]> {
  const cold = onePass();
  const warm = [onePass(), onePass(), onePass()].sort((a, b) => a.totalMs - b.totalMs)[0];
  const wrong = [...cold.mismatches, ...warm.mismatches];
  const verdicts = wrong.length === 0 ? 'all 108 verdicts match' : `WRONG VERDICTS: ${wrong.join('; ')}`;
  return [
    {
      name: 'checker: porcupine data set, first pass',
      value: r1(cold.totalMs),
      unit: 'ms',
      note: `parse + check, 108 histories, ${verdicts}; CPU ${r1(cold.cpuMs)} ms; porcupine (Go) ≈ 700 ms`,
    },
    {
      name: 'checker: porcupine data set, warm',
      value: r1(warm.totalMs),
      unit: 'ms',
      note: `best of 3 passes after the first; CPU ${r1(warm.cpuMs)} ms`,
    },
    { name: 'checker: slowest history, warm', value: r1(warm.slowest.ms), unit: 'ms', note: warm.slowest.file },
    {
      name: 'checker: kv c50-ok, warm',
      value: r1(warm.c50okMs),
      unit: 'ms',
      note: '50 clients, 1712 ops, 10 keys; porcupine (Go) ≈ 170 ms',
    },
  ];
}
