/** Type-checking: a whole project with tsc (for verify), and the graded lab's files with the checker's API (for the grade). */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as TS from 'typescript';

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
    const child = spawn(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', tsconfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) =>
      resolve({
        ok: false,
        output: `Could not start the TypeScript compiler: ${err.message}`,
        realMs: performance.now() - started,
      }),
    );
    child.on('close', (code) =>
      resolve({ ok: code === 0, output: output.trim(), realMs: performance.now() - started }),
    );
  });
}

/** One type error in a graded file. */
export interface TypeProblem {
  readonly file: string; // relative to the lab root, forward slashes
  readonly line: number; // 1-based
  readonly column: number; // 1-based
  readonly code: number; // TypeScript's error number (TS2322 is 2322); 0 for a file that is not UTF-8 text
  readonly message: string; // TypeScript's text, lines joined
}

/** At most this many problems are kept: the first ones are what a student fixes first. */
const MAX_PROBLEMS = 20;

/** The graded `.ts` files of `dir`, and the cache file of their check (keyed by their contents and the tsconfig). */
function checkEntry(
  root: string,
  dir: string,
  cacheDir: string,
): { files: string[]; configPath: string; cached: string } {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => path.join(dir, f));
  const configPath = path.join(root, 'tsconfig.json');
  const hash = crypto.createHash('sha256').update((require('typescript/package.json') as { version: string }).version);
  for (const f of [configPath, ...files])
    hash
      .update(f)
      .update('\0')
      .update(fs.existsSync(f) ? fs.readFileSync(f) : '')
      .update('\0');
  return { files, configPath, cached: path.join(cacheDir, 'typecheck', `${hash.digest('hex').slice(0, 32)}.json`) };
}

/** The cached result of a check, if there is one. */
function readCached(cached: string): TypeProblem[] | undefined {
  try {
    return JSON.parse(fs.readFileSync(cached, 'utf8')) as TypeProblem[];
  } catch {
    return undefined; // not checked yet
  }
}

/**
 * The type errors TypeScript finds in the `.ts` files of `dir` (the graded lab folder), checked with the kit's
 * tsconfig.json under `root`. Errors in the kit's own files are not the student's and are left out. Results are
 * cached under `cacheDir` by the files' contents, so grading unchanged code again costs nothing.
 */
export function typeProblems(root: string, dir: string, cacheDir: string): TypeProblem[] {
  const { files, configPath, cached } = checkEntry(root, dir, cacheDir);
  const known = readCached(cached);
  if (known) return known;
  const problems = [...files.flatMap((f) => encodingProblem(root, f)), ...check(root, configPath, files)].slice(
    0,
    MAX_PROBLEMS,
  );
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(cached, JSON.stringify(problems));
  return problems;
}

/** The grader's TypeScript loader, for a worker thread that loads this file. */
const REGISTER = path.join(__dirname, 'register.js');

/**
 * typeProblems without holding up the caller: a check that is not cached yet (about two seconds of loading the
 * compiler and checking, after each edit) runs in a worker thread, so the tests start meanwhile. Should the
 * thread fail, the check runs here instead.
 */
export function typeProblemsSoon(root: string, dir: string, cacheDir: string): Promise<TypeProblem[]> {
  const known = readCached(checkEntry(root, dir, cacheDir).cached);
  if (known) return Promise.resolve(known);
  const code =
    `require(${JSON.stringify(REGISTER)});` +
    `const { parentPort, workerData } = require('node:worker_threads');` +
    `parentPort.postMessage(require(${JSON.stringify(__filename)}).typeProblems(...workerData));`;
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true, workerData: [root, dir, cacheDir] });
    let answered = false;
    worker.once('message', (problems: TypeProblem[]) => {
      answered = true;
      resolve(problems);
    });
    worker.once('error', () => undefined);
    worker.once('exit', () => {
      if (!answered) resolve(typeProblems(root, dir, cacheDir));
    });
  });
}

function check(root: string, configPath: string, files: string[]): TypeProblem[] {
  // Loaded only when a check is not cached: the compiler takes most of a second to load.
  const ts = require('typescript') as typeof TS;
  const parsed = fs.existsSync(configPath)
    ? ts.getParsedCommandLineOfConfigFile(
        configPath,
        {},
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
      )
    : undefined;
  const options = { ...(parsed?.options ?? { strict: true }), noEmit: true };
  const program = ts.createProgram(files, options, confinedHost(ts, options, root));
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

/**
 * A compiler host that sees no file outside the graded tree `root` but TypeScript's own libraries: the check runs on
 * the grader's side, outside the sandbox, and an import of a classmate's file (or of the kit's solutions) would
 * otherwise be read, and its types printed in the student's report. Such an import is "not found", as it is when
 * the code runs.
 */
function confinedHost(ts: typeof TS, options: TS.CompilerOptions, root: string): TS.CompilerHost {
  const host = ts.createCompilerHost(options);
  const inside = (dir: string, file: string): boolean => {
    const rel = path.relative(dir, path.resolve(file));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  // The packages' types too, where they are links (batch grading links each of the kit's into every work tree).
  const modules = path.join(root, 'node_modules');
  const allowed = [root, path.dirname(ts.getDefaultLibFilePath(options))].map((d) => path.resolve(d));
  if (fs.existsSync(modules))
    for (const name of fs.readdirSync(modules)) allowed.push(fs.realpathSync(path.join(modules, name)));
  const readable = (file: string): boolean => allowed.some((dir) => inside(dir, file));
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  host.fileExists = (file) => readable(file) && fileExists.call(host, file);
  host.readFile = (file) => (readable(file) ? readFile.call(host, file) : undefined);
  host.getSourceFile = (file, ...rest) => (readable(file) ? getSourceFile.call(host, file, ...rest) : undefined);
  if (directoryExists) host.directoryExists = (dir) => readable(dir) && directoryExists.call(host, dir);
  return host;
}

/** The file's first byte that is not UTF-8 (node and TypeScript read it as U+FFFD, changing strings silently), if any. */
function encodingProblem(root: string, file: string): TypeProblem[] {
  const bytes = fs.readFileSync(file);
  const text = bytes.toString('utf8');
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    const offset = Buffer.byteLength(text.slice(0, i)); // everything before decoded exactly, so this is where the bytes are
    if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue; // a real U+FFFD
    const lines = text.slice(0, i).split('\n');
    return [
      {
        file: path.relative(root, file).split(path.sep).join('/'),
        line: lines.length,
        column: lines[lines.length - 1].length + 1,
        code: 0,
        message: `is not UTF-8 text (byte 0x${bytes[offset].toString(16).padStart(2, '0')} at offset ${offset}): it is read as UTF-8, so such bytes become "\uFFFD". Save the file as UTF-8 in your editor.`,
      },
    ];
  }
  return [];
}

/** "TypeScript finds 2 type errors in your files, and 1 file is not UTF-8 text." */
export function problemsHeadline(list: readonly TypeProblem[]): string {
  const types = list.filter((p) => p.code !== 0).length;
  const encodings = list.length - types;
  const typePart =
    types === 0 ? '' : `TypeScript finds ${types === 1 ? 'a type error' : `${types} type errors`} in your files`;
  const encodingPart =
    encodings === 0 ? '' : `${encodings === 1 ? 'a file is' : `${encodings} files are`} not UTF-8 text`;
  const text = [typePart, encodingPart].filter((x) => x !== '').join(', and ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** "lab2/client.ts:12:5 TS2322 Type 'string' is not assignable to type 'number'." */
export function formatProblem(p: TypeProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.code === 0 ? '' : `TS${p.code} `}${p.message}`;
}
