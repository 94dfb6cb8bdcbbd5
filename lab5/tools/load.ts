/** Loads the student's files (lab5/) or, with --solution, the reference solution's — for the lab 5 tools. */
import * as path from 'node:path';
import type { Lab5Impl } from '../test/harness';
import { suite } from '../test/suite';

/** The implementation the tools run. */
export function loadImpl(solution: boolean): Lab5Impl {
  const dir = solution ? path.resolve(__dirname, '../../solutions/lab5') : path.resolve(__dirname, '..');
  return suite.load(dir);
}

/** Parses "7001,7002,7003" into ports. */
export function parsePorts(text: string): number[] {
  const ports = text.split(',').map((p) => Number(p.trim()));
  for (const p of ports) {
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new Error(`"${text}" is not a list of ports such as 7001,7002,7003`);
  }
  return ports;
}
