/**
 * The top-level README's fenced commands, and how a kit test checks each without a student's code:
 * - `npm ci`: package-lock.json matches package.json's dependencies, which is what `npm ci` refuses first
 *   (`.ci/run` runs it in a fresh clone);
 * - `npm test`: the script exists and `.ci/run` runs it (it is the kit's own tests, too long to run inside them);
 * - a command in RUN_AS_WRITTEN: run as written through npm, exit code 0;
 * - any other `npm run <script> ...`: the script exists, each lab it names has a suite and each test it names is
 *   in that lab's suite; and its `-- --help` form (with `merge` kept for `grade-batch -- merge`) exits 0 and lists
 *   every option the command uses. Paths (a class's repositories, a template's folder) are the reader's own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireSuite } from '../grader/labs';

/** Commands short enough to run as written, each in well under a minute. */
export const RUN_AS_WRITTEN: ReadonlySet<string> = new Set([
  'npm run grade -- --help',
  'npm run handouts -- --check',
  'npm run bench -- --only sweep',
]);

/** One command of a fenced block, without its comment. */
export interface FencedCommand {
  /** Its line in the Markdown file, from 1. */
  readonly line: number;
  readonly text: string;
}

/** The commands of `markdown`'s fenced shell blocks (`bash`, `sh` or no language), one a line. */
export function fencedCommands(markdown: string): FencedCommand[] {
  const out: FencedCommand[] = [];
  let shell: boolean | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const fence = /^\s*(```+|~~~+)\s*(\S*)/.exec(raw);
    if (fence) {
      shell = shell === undefined ? ['', 'bash', 'sh', 'shell', 'console'].includes(fence[2]) : undefined;
      return;
    }
    if (!shell) return;
    const text = raw.replace(/\s+#.*$/, '').trim();
    if (text !== '' && !text.startsWith('#')) out.push({ line: i + 1, text });
  });
  return out;
}

/** A command's words after `npm run <script>`, without npm's `--`. */
export interface ScriptCall {
  readonly script: string;
  readonly args: readonly string[];
}

/** `npm run grade lab2 -- --test X` as { script: 'grade', args: ['lab2', '--test', 'X'] }; undefined for other commands. */
export function scriptCall(text: string): ScriptCall | undefined {
  const words = text.split(/\s+/);
  if (words[0] !== 'npm' || words[1] !== 'run' || words.length < 3) return undefined;
  return { script: words[2], args: words.slice(3).filter((w) => w !== '--') };
}

/** What the checks read of package.json. */
export interface PackageJson {
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** What a command printed (stdout and stderr) and its exit code. */
export interface Ran {
  readonly status: number | null;
  readonly out: string;
}

/** Runs `npm <args>` in `root`. */
export function npm(root: string, args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('npm', [...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (status) => resolve({ status, out }));
  });
}

/** The problems a fresh clone's `npm ci` would meet that the files show: a lockfile out of step with package.json. */
export function lockfileProblems(root: string, pkg: PackageJson): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, PackageJson>;
  };
  return (['dependencies', 'devDependencies'] as const).flatMap((field) =>
    JSON.stringify(pkg[field] ?? {}) === JSON.stringify(lock.packages[''][field] ?? {})
      ? []
      : [`package-lock.json's ${field} differ from package.json's: run npm install and commit the lockfile`],
  );
}

/** The tests a call names after `--test`, up to the next option. */
function namedTests(args: readonly string[]): string[] {
  const at = args.indexOf('--test');
  if (at < 0) return [];
  const rest = args.slice(at + 1);
  const end = rest.findIndex((a) => a.startsWith('-'));
  return end < 0 ? rest : rest.slice(0, end);
}

/** What a command names that the kit lacks: its script, its lab's suite, its tests. Needs no process. */
export function staticProblems(root: string, call: ScriptCall, pkg: PackageJson): string[] {
  if (!(call.script in (pkg.scripts ?? {}))) return [`package.json has no script "${call.script}"`];
  const lab = call.args.find((a, i) => /^lab\d+$/.test(a) && (i === 0 || call.args[i - 1] === '--lab'));
  if (lab === undefined) return [];
  const suiteFile = path.join(root, lab, 'test', 'suite.ts');
  if (!fs.existsSync(suiteFile)) return [`${lab} has no test suite (${lab}/test/suite.ts)`];
  const names = new Set(requireSuite(suiteFile).tests.map((t) => t.name));
  return namedTests(call.args)
    .filter((t) => !names.has(t))
    .map((t) => `${lab} has no test ${t}`);
}

/** The problems of the fenced commands that need no process: `npm ci`, `npm test`, and what each script call names. */
export function fencedProblems(root: string, text: string, pkg: PackageJson): string[] {
  if (text === 'npm ci') return lockfileProblems(root, pkg);
  if (text === 'npm test') {
    const ci = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8').split('\n');
    return 'test' in (pkg.scripts ?? {}) && ci.some((l) => /(^|[;&|]\s*|^step\s+)npm test(\s|;|&|$)/.test(l.trim()))
      ? []
      : ['package.json has no test script, or .ci/run does not run `npm test`'];
  }
  const call = scriptCall(text);
  return call
    ? staticProblems(root, call, pkg)
    : ['not a command the kit knows how to check: add a way to readme-commands.ts'];
}

/** The options of `args` that `help` does not list. */
export function unknownOptions(args: readonly string[], help: string): string[] {
  return args.filter((a) => a.startsWith('--') && !new RegExp(`(^|[\\s,])${a}(?![\\w-])`).test(help));
}

/** The problems of running `text` as written, or through its help form (see the file's comment); `help` asks once per script. */
export async function runProblems(
  root: string,
  text: string,
  help: (script: string, sub: readonly string[]) => Promise<Ran>,
): Promise<string[]> {
  if (RUN_AS_WRITTEN.has(text)) {
    const run = await npm(root, text.split(/\s+/).slice(1));
    return run.status === 0 ? [] : [`exited ${run.status}:\n${run.out.slice(-1500)}`];
  }
  const call = scriptCall(text);
  if (!call) return [];
  const sub = call.args[0] === 'merge' ? ['merge'] : [];
  const shown = await help(call.script, sub);
  if (shown.status !== 0) return [`its --help form exited ${shown.status}:\n${shown.out.slice(0, 800)}`];
  return unknownOptions(call.args, shown.out).map(
    (a) => `option ${a} is not in \`npm run ${[call.script, '--', ...sub, '--help'].join(' ')}\``,
  );
}
