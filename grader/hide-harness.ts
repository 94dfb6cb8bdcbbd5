/**
 * Keeps the running test's identity out of the code under test's reach in the sandboxed test process: every
 * stack trace shows only the student's own frames (mapped to their .ts lines), node's and packages' frames,
 * never the kit's (whose files and function names say which test is running), and the ways around that
 * (another realm's Error.prepareStackTrace, util.getCallSites, heap snapshots, V8 flags) are refused.
 */
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import util from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';

/** What V8 hands Error.prepareStackTrace for each frame (the parts of its CallSite used here). */
interface CallSite {
  getFileName(): string | undefined | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  toString(): string;
}

/** One entry of node's util.getCallSites() (node 22.9 and later). */
interface UtilCallSite {
  scriptName?: string;
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

/** node's source-map lookup, captured before the code under test loads. */
const findSourceMap = Module.findSourceMap;

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
        const file = site.getFileName();
        if (file && isStudentFile(file)) lines.push(`    at ${mapped(site, file)}`);
        else if (neutralFile(file)) lines.push(`    at ${site.toString()}`);
      } catch {
        // A frame that cannot be described is left out.
      }
    }
    return lines.join('\n');
  };
}

/** Replaces a function-valued export by one that refuses with `reason`. */
function refuse(target: object, key: string, reason: string): void {
  if (typeof (target as Record<string, unknown>)[key] !== 'function') return;
  const stand = function refused(): never {
    throw new Error(
      `${reason} The grader's sandbox refuses it, so that the code under test cannot tell which test is running.`,
    );
  };
  Object.defineProperty(target, key, { value: stand, writable: false, configurable: false, enumerable: true });
}

/**
 * Installs the hiding; call it in the sandbox after the suite loaded and before the lockdown (which then makes
 * Error.prepareStackTrace read-only) and the code under test.
 */
export function hideHarness(implDir: string): void {
  const isStudentFile = studentFileTest(implDir);
  Object.defineProperty(Error, 'prepareStackTrace', {
    value: hidingPrepareStackTrace(isStudentFile),
    writable: false,
    configurable: false,
    enumerable: false,
  });
  // Another realm's Error.prepareStackTrace would receive every frame, the kit's included.
  const realm = 'node:vm contexts are another JavaScript realm, whose stack traces show the test harness.';
  for (const key of ['createContext', 'runInContext', 'runInNewContext']) refuse(vm, key, realm);
  for (const key of ['runInContext', 'runInNewContext']) refuse(vm.Script.prototype, key, realm);
  // node 22.9+: call sites without Error.prepareStackTrace; the student's own frames stay visible.
  const getCallSites = (util as unknown as Record<string, unknown>).getCallSites;
  if (typeof getCallSites === 'function') {
    const real = getCallSites.bind(util) as (...args: unknown[]) => UtilCallSite[];
    Object.defineProperty(util, 'getCallSites', {
      value: (...args: unknown[]) =>
        real(...args).filter((s) => !s.scriptName || isStudentFile(s.scriptName) || neutralFile(s.scriptName)),
      writable: false,
      configurable: false,
      enumerable: true,
    });
  }
  const heap = 'A heap snapshot shows the harness’s state, the running test included.';
  for (const key of ['getHeapSnapshot', 'writeHeapSnapshot', 'setHeapSnapshotNearHeapLimit']) refuse(v8, key, heap);
  refuse(v8, 'setFlagsFromString', 'Changing V8’s flags at run time can expose the harness’s stack (natives syntax).');
  Module.syncBuiltinESMExports();
}
