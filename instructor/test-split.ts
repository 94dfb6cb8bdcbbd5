/** Which of the kit's two mocha configs runs each test file: `npm test` (.mocharc.json) or `npm run test:full` (.mocharc.full.json). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { globToRegExp, trackedFiles } from './template';

/** The mocha configs of the kit's two test commands, by file name. */
export const TEST_CONFIGS = ['.mocharc.json', '.mocharc.full.json'] as const;

/** The globs of one mocha config that decide which files it runs. */
export interface SpecGlobs {
  /** Files it runs. */
  readonly spec: readonly string[];
  /** Files among those it leaves out. */
  readonly ignore: readonly string[];
}

/** A config's spec and ignore globs, read from the kit. */
export function specGlobs(repo: string, config: string): SpecGlobs {
  const json = JSON.parse(fs.readFileSync(path.join(repo, config), 'utf8')) as Record<string, unknown>;
  const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);
  return { spec: list(json.spec), ignore: list(json.ignore) };
}

/** Whether a config runs a file (relative, forward slashes). */
export function runs(globs: SpecGlobs, file: string): boolean {
  const any = (patterns: readonly string[]) => patterns.some((g) => globToRegExp(g).test(file));
  return any(globs.spec) && !any(globs.ignore);
}

/** The kit's test files (tracked or not yet: every `*.test.ts` outside node_modules), relative with forward slashes. */
export function testFiles(repo: string): string[] {
  const found = new Set(trackedFiles(repo).filter((f) => f.endsWith('.test.ts')));
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(repo, rel), { withFileTypes: true })) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(child);
      else if (e.isFile() && e.name.endsWith('.test.ts')) found.add(child);
    }
  };
  walk('');
  return [...found].sort();
}

/**
 * Each test file that is not run by exactly one of the configs, with the configs that run it; and each
 * `*.full.test.ts` that `npm test` runs or other file that `npm run test:full` runs. Empty when the split holds.
 */
export function splitProblems(files: readonly string[], configs: ReadonlyMap<string, SpecGlobs>): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const by = [...configs].filter(([, globs]) => runs(globs, file)).map(([name]) => name);
    if (by.length !== 1) problems.push(`${file}: run by ${by.length === 0 ? 'no config' : by.join(' and ')}`);
    else if (file.endsWith('.full.test.ts') !== (by[0] === '.mocharc.full.json')) {
      problems.push(`${file}: run by ${by[0]}, but long files (*.full.test.ts) belong to .mocharc.full.json alone`);
    }
  }
  return problems;
}
