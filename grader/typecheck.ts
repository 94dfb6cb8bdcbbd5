/** Type-checking: a whole project with tsc (for verify), and the graded lab's files with the checker's API (for the grade). */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

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

/** One type error in a graded file. */
export interface TypeProblem {
  readonly file: string; // relative to the lab root, forward slashes
  readonly line: number; // 1-based
  readonly column: number; // 1-based
  readonly code: number; // TypeScript's error number (TS2322 is 2322)
  readonly message: string; // TypeScript's text, lines joined
}

/** At most this many problems are kept: the first ones are what a student fixes first. */
const MAX_PROBLEMS = 20;

/**
 * The type errors TypeScript finds in the `.ts` files of `dir` (the graded lab folder), checked with the kit's
 * tsconfig.json under `root`. Errors in the kit's own files are not the student's and are left out. Results are
 * cached under `cacheDir` by the files' contents, so grading unchanged code again costs nothing.
 */
export function typeProblems(root: string, dir: string, cacheDir: string): TypeProblem[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => path.join(dir, f));
  const configPath = path.join(root, 'tsconfig.json');
  const hash = crypto.createHash('sha256').update(ts.version);
  for (const f of [configPath, ...files]) hash.update(f).update('\0').update(fs.existsSync(f) ? fs.readFileSync(f) : '').update('\0');
  const cached = path.join(cacheDir, 'typecheck', `${hash.digest('hex').slice(0, 32)}.json`);
  try {
    return JSON.parse(fs.readFileSync(cached, 'utf8')) as TypeProblem[];
  } catch {
    // Not checked yet: check now.
  }
  const problems = check(root, configPath, files);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(cached, JSON.stringify(problems));
  return problems;
}

function check(root: string, configPath: string, files: string[]): TypeProblem[] {
  const parsed = fs.existsSync(configPath)
    ? ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })
    : undefined;
  const program = ts.createProgram(files, { ...(parsed?.options ?? { strict: true }), noEmit: true });
  const graded = new Set(files.map((f) => path.resolve(f)));
  const problems: TypeProblem[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.category !== ts.DiagnosticCategory.Error || !d.file || !graded.has(path.resolve(d.file.fileName))) continue;
    const at = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    problems.push({
      file: path.relative(root, d.file.fileName).split(path.sep).join('/'),
      line: at.line + 1,
      column: at.character + 1,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
    });
    if (problems.length === MAX_PROBLEMS) break;
  }
  return problems;
}

/** "lab2/client.ts:12:5 TS2322 Type 'string' is not assignable to type 'number'." */
export function formatProblem(p: TypeProblem): string {
  return `${p.file}:${p.line}:${p.column} TS${p.code} ${p.message}`;
}
