/**
 * Keeps the running test's identity out of the code under test's reach in the sandboxed test process: every
 * stack trace shows only the student's own frames (mapped to their .ts lines) and node's, never the kit's or its
 * packages' (whose files and function names say which test is running). The ways around that (another
 * realm's Error.prepareStackTrace, util.getCallSites, heap snapshots, V8 flags) are node modules, which the
 * compartment the code under test runs in does not give it.
 */
import type { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What V8 hands Error.prepareStackTrace for each frame (the parts of its CallSite used here). */
interface CallSite {
  getFileName(): string | undefined | null;
  /** The `//# sourceURL` of code the compartment evaluated (its getFileName() is empty). */
  getScriptNameOrSourceURL(): string | undefined | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  toString(): string;
}

/** Decides which files are the code under test's: inside its folder, not in the lab's test folder. */
export function studentFileTest(implDir: string): (file: string) => boolean {
  const root = path.resolve(implDir);
  const tests = path.join(root, 'test');
  const inside = (file: string, dir: string): boolean => {
    const rel = path.relative(dir, file);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  return (file) => inside(file, root) && !inside(file, tests);
}

/**
 * True for frames that say nothing about the test: node's own and native ones with no file. Installed packages'
 * frames are not: the code under test can load no package, so any on its stack is the harness's, and fast-check's
 * frames named the model tests (a red-team review hid a bug only when it saw them).
 */
function neutralFile(file: string | undefined | null): boolean {
  return !file || file.startsWith('node:');
}

/** The source map of a .ts file this process loaded (grader/ts-hook.js), captured before the code under test loads. */
const findSourceMap = (require('./ts-hook.js') as { sourceMapOf(file: string): SourceMap | undefined }).sourceMapOf;

/** The frame's text with its position in the .ts source, when the file carries a source map. */
function mapped(site: CallSite, file: string): string {
  const text = site.toString();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (line === null || column === null) return text;
  const entry = findSourceMap(file)?.findEntry(line - 1, column - 1) as
    { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (
    !entry ||
    entry.originalSource === undefined ||
    entry.originalLine === undefined ||
    entry.originalColumn === undefined
  )
    return text;
  const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
  const generated = `${file}:${line}:${column}`;
  const at = text.lastIndexOf(generated);
  if (at < 0) return text;
  return `${text.slice(0, at)}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${text.slice(at + generated.length)}`;
}

/**
 * Frames V8 captures for a stack trace, and how many of those left after hiding a trace shows (V8's default). Cut
 * after hiding, never before: a trace cut at ten frames before hiding showed one line fewer for every kit frame on
 * the stack, and a red-team review counted lines to tell when lab 5's spies were wrapping `fs`.
 */
const CAPTURED_FRAMES = 200;
const SHOWN_FRAMES = 10;

/** Error.prototype.toString, captured before the code under test can change what it sees. */
const errorToString = Error.prototype.toString;

/** Formats a stack trace as V8 does, without the kit's frames. */
export function hidingPrepareStackTrace(
  isStudentFile: (file: string) => boolean,
): (error: unknown, sites: CallSite[]) => string {
  return (error, sites) => {
    let head: string;
    try {
      head = errorToString.call(error);
    } catch {
      head = 'Error';
    }
    const lines: string[] = [head];
    for (const site of sites) {
      if (lines.length > SHOWN_FRAMES) break;
      try {
        const file = site.getFileName() || site.getScriptNameOrSourceURL();
        if (file && isStudentFile(file)) lines.push(`    at ${mapped(site, file)}`);
        else if (neutralFile(file)) lines.push(`    at ${site.toString()}`);
      } catch {
        // A frame that cannot be described is left out.
      }
    }
    return lines.join('\n');
  };
}

/**
 * Installs the hiding (`earlierCode`: absolute paths of earlier labs' files the code under test runs, shown as the
 * student's); call it in the sandbox after the lockdown (whose Error.prepareStackTrace, on this realm's
 * own Error, takes the formatter; the compartment's Error ignores assignments) and before the code under test.
 */
export function hideHarness(implDir: string, earlierCode: readonly string[] = []): void {
  const own = studentFileTest(implDir);
  // The earlier labs' code the lab runs (lab 7's lab6/raft.ts): the student's frames too.
  const isStudentFile = (file: string): boolean => own(file) || earlierCode.includes(path.resolve(file));
  Error.prepareStackTrace = hidingPrepareStackTrace(isStudentFile) as typeof Error.prepareStackTrace;
  Error.stackTraceLimit = CAPTURED_FRAMES;
}
