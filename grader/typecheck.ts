/** Runs the TypeScript compiler once over a project (`tsc --noEmit -p <tsconfig>`), without blocking the event loop. */
import { spawn } from 'node:child_process';

/** What the compiler said. */
export interface TypecheckResult {
  readonly ok: boolean;
  /** The compiler's output (its error list when not ok). */
  readonly output: string;
  readonly realMs: number;
}

/** Type-checks the project described by `tsconfig`. */
export function typecheck(tsconfig: string): Promise<TypecheckResult> {
  const tsc = require.resolve('typescript/bin/tsc');
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', tsconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ ok: false, output: `Could not start the TypeScript compiler: ${err.message}`, realMs: performance.now() - started }));
    child.on('close', (code) => resolve({ ok: code === 0, output: output.trim(), realMs: performance.now() - started }));
  });
}
