/**
 * Keeps the running test's identity out of the code under test's reach in the sandboxed test process: every
 * stack trace shows only the student's own frames (mapped to their .ts lines), node's and packages' frames,
 * never the kit's (whose files and function names say which test is running). The ways around that (another
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

/** True for frames that say nothing about the test: node's own, installed packages', and native ones with no file. */
function neutralFile(file: string | undefined | null): boolean {
  return !file || file.startsWith('node:') || file.split(/[/\\]/).includes('node_modules');
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

/** Error.prototype.toString, captured before the code under test can change what it sees. */
const errorToString = Error.prototype.toString;

/** Formats a stack trace as V8 does, without the kit's frames. */
function hidingPrepareStackTrace(
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
}
