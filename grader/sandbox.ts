/**
 * What the grader's sandboxed test process may touch: node's permission model flags (read the kit's code, the
 * lab and the code under test, never solutions/ or reports; write only a scratch folder of this run; no
 * processes, workers or addons), its environment, and the compile cache the trusted side prepares first.
 */
import { GraderUsageError } from './errors';
import { FRAMEWORK_FOLDERS } from './layout';
import { MANIFEST_PATH } from './manifest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerConfig } from './protocol';
import { earlierLabs } from './earlier-labs';
import { requireSuite } from './labs';

const tsHook = require('./ts-hook.js') as {
  DEFAULT_CACHE_DIR: string;
  prepareCache(
    files: readonly string[],
    cacheDir: string,
    sharedDir?: string,
    shareable?: (file: string) => boolean,
  ): number;
  tsFilesUnder(dir: string): string[];
};

const REPO = path.join(__dirname, '..');

/**
 * The flags that turn node's permission model on, for the running node: `--experimental-permission` on node 20
 * (`--permission` from 22.13 and 23.5, the old name gone later), and from node 25 `--allow-net` as well, since the
 * model there also guards the network, which lab 5's servers and clients need.
 */
function permissionFlags(): string[] {
  const known = process.allowedNodeEnvironmentFlags;
  const on = known.has('--permission') ? '--permission' : '--experimental-permission';
  return known.has('--allow-net') ? [on, '--allow-net'] : [on];
}

/** Where compile caches live unless told otherwise (node_modules/.cache/kvlabs-grader). */
export const DEFAULT_CACHE_ROOT = tsHook.DEFAULT_CACHE_DIR;

/** One run's sandbox. */
export interface Sandbox {
  /** Node options of every process that runs code under test. */
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The only folder those processes may write (their TMPDIR); removed by `dispose`. */
  readonly scratch: string;
  /** The compile cache of this code under test (read-only to the sandbox). */
  readonly cacheDir: string;
  /** Folders and files the sandbox may read. */
  readonly reads: readonly string[];
  /** The folder whose .ts scripts a test may ask the grader to start (the lab's test folder). */
  readonly scriptDir: string;
  dispose(): void;
}

/** How to build a sandbox. */
export interface SandboxOptions {
  readonly heapLimitMb: number;
  /** Whether node's require in the test processes loads from the tree only the manifest's files (ts-hook.js). */
  readonly kitManifest?: boolean;
  /** Where compile caches live (one folder per graded code folder); default node_modules/.cache/kvlabs-grader. */
  readonly cacheRoot?: string;
  /** False only to measure what the permission model costs (npm run bench): the same process without its flags. */
  readonly permissions?: boolean;
}

/** A folder as a permission path (a trailing separator, so that "lab2" does not also grant "lab2x"). */
function dirGrant(dir: string): string {
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

/** A grant and, when links lead elsewhere (a batch work tree's node_modules), the path node will really open. */
function withRealPath(grant: string): string[] {
  const dir = grant.endsWith(path.sep);
  let real: string;
  try {
    real = fs.realpathSync(grant);
  } catch {
    return [grant];
  }
  const realGrant = dir ? dirGrant(real) : real;
  return realGrant === grant ? [grant] : [grant, realGrant];
}

/** True when `file` is inside `dir`. */
function inside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** True when a path has a folder named solutions on the way (the reference solutions are never readable). */
function inSolutions(file: string): boolean {
  return file.split(path.sep).includes('solutions');
}

/** The files the suite loaded (in this process, where the grader loaded it), outside node_modules and solutions; their folders are readable. */
function suiteClosure(suitePath: string): string[] {
  const out = new Set<string>();
  const walk = (m: NodeModule | undefined): void => {
    if (!m || out.has(m.filename)) return;
    if (m.filename.split(path.sep).includes('node_modules') || inSolutions(m.filename)) return;
    out.add(m.filename);
    for (const c of m.children) walk(c);
  };
  walk(require.cache[path.resolve(suitePath)]);
  return [...out];
}

/**
 * The sandbox's grants of the installed packages: each entry of `modules` but the kit's cache, and those of them that
 * are their own real path (no link, in a node_modules folder reached through none), which need no asking where they
 * lead: asking the file system for each of some 400 took about 20 ms of every grade.
 */
function packageGrants(modules: string): { moduleGrants: string[]; real: Set<string> } {
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink())
    throw new GraderUsageError(
      `${modules} is a symbolic link. The grader's sandbox may read the installed packages but cannot follow a ` +
        'node_modules folder that is itself a link (node’s permission model refuses it), so no test could run. ' +
        'Run `npm ci` here to install a node_modules folder of its own (links to single packages inside it are fine).',
    );
  const packages = fs.readdirSync(modules, { withFileTypes: true }).filter((e) => e.name !== '.cache');
  const moduleGrants = packages.map((e) => path.join(modules, e.name));
  const real = new Set(
    fs.realpathSync(modules) === modules
      ? packages.filter((e) => !e.isSymbolicLink()).map((e) => path.join(modules, e.name))
      : [],
  );
  return { moduleGrants, real };
}

/** Prepares the sandbox for grading `config` (writes the compile cache, makes the scratch folder). */
export function prepareSandbox(config: WorkerConfig, options: SandboxOptions): Sandbox {
  const implDir = path.resolve(config.implDir);
  const labDir = path.dirname(path.dirname(path.resolve(config.suitePath)));
  const cacheRoot = options.cacheRoot ?? tsHook.DEFAULT_CACHE_DIR;
  const cacheDir = path.join(cacheRoot, crypto.createHash('sha1').update(implDir).digest('hex').slice(0, 16));
  const graderFiles = fs
    .readdirSync(__dirname)
    .filter((f) => /\.(ts|js)$/.test(f))
    .map((f) => path.join(__dirname, f));
  const closure = suiteClosure(config.suitePath);
  const kitDirs = FRAMEWORK_FOLDERS.filter((d) => d !== 'grader').map((d) => path.join(REPO, d));
  // The earlier labs this lab's code builds on (lab 7 on lab 6 and lab 2): their kit folders and their code.
  const earlier = earlierLabs(requireSuite(config.suitePath), implDir, config.suitePath);
  const codeDirs = [implDir, ...earlier.map((e) => e.codeDir)];
  const tsFiles = [...kitDirs, labDir, ...earlier.map((e) => e.labDir), ...codeDirs]
    .flatMap((d) => tsHook.tsFilesUnder(d))
    .filter((f) => codeDirs.some((d) => f.startsWith(d + path.sep)) || !inSolutions(f));
  // The kit's files compile once for every run and submission (kit/); the code under test only into its own folder.
  const shared = path.join(cacheRoot, 'kit');
  const files = [...new Set([...tsFiles, ...graderFiles.filter((f) => f.endsWith('.ts')), ...closure])];
  tsHook.prepareCache(files, cacheDir, shared, (f) => ![labDir, ...codeDirs].some((d) => inside(f, d)));
  fs.mkdirSync(cacheDir, { recursive: true });

  const { moduleGrants, real } = packageGrants(path.join(REPO, 'node_modules'));
  const reads = [
    ...kitDirs.map(dirGrant),
    ...graderFiles,
    path.join(REPO, 'tsconfig.json'),
    path.join(REPO, 'package.json'),
    ...moduleGrants,
    dirGrant(labDir),
    path.join(path.dirname(labDir), MANIFEST_PATH), // which of the lab's files are the kit's (compartment.ts)
    dirGrant(implDir),
    ...earlier.flatMap((e) => [dirGrant(e.labDir), dirGrant(e.codeDir)]),
    ...closure.map((f) => dirGrant(path.dirname(f))),
    dirGrant(cacheDir),
  ];
  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-sandbox-')));
  const grants = [
    ...permissionFlags(),
    ...[...new Set(reads.flatMap((r) => (real.has(r) ? [r] : withRealPath(r))))].map((r) => `--allow-fs-read=${r}`),
    `--allow-fs-read=${dirGrant(scratch)}`,
    `--allow-fs-write=${dirGrant(scratch)}`,
  ];
  const execArgv = [
    ...(options.permissions === false ? [] : grants),
    '--disable-warning=ExperimentalWarning',
    '--zero-fill-buffers', // Buffer.allocUnsafe and node's pool hand out zeroed memory: nothing of earlier data
    '--expose-gc',
    // node's whole table of error classes, hardened before code loads (node-errors.ts); code has no require to use it.
    '--expose-internals',
    `--max-old-space-size=${options.heapLimitMb}`,
  ];
  const env: Record<string, string> = { TMPDIR: scratch, KVLABS_TS_CACHE: cacheDir };
  if (options.kitManifest === true) env.KVLABS_KIT_MANIFEST = '1';
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return {
    execArgv,
    env,
    scratch,
    cacheDir,
    reads,
    scriptDir: path.join(labDir, 'test'),
    dispose: () => fs.rmSync(scratch, { recursive: true, force: true }),
  };
}
