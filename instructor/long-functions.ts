/** Finds the kit's functions longer than a bound (issue 28: none outside test data is over 80 lines), with TypeScript's parser. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** The most lines a function of the kit may span. */
export const MAX_FUNCTION_LINES = 80;

/** One function over the bound. */
export interface LongFunction {
  /** Path from the kit's root. */
  readonly file: string;
  /** Its first line (1-based). */
  readonly line: number;
  /** Its name, or "(anonymous)". */
  readonly name: string;
  readonly lines: number;
}

/**
 * Functions that are data, not logic, and may be long: a table or a list reads best whole. Each entry is
 * "file:name" and says why.
 */
export const DATA_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['instructor/redis-record.ts:handPicked', "the hand-picked Redis commands of lab 5's recorded corpus, one per line"],
  [
    'instructor/redis-record.ts:generated',
    'the generated corpus: its random draws in one order, which the recorded file depends on',
  ],
  ['solutions/lab5/server.ts:table', "the reference server's command table, one small entry per Redis command"],
]);

/**
 * The kit's own TypeScript files (tracked by git), without test fixtures and mocha specs (`*.test.ts`, whose
 * `describe` blocks only group their `it`s; the labs' named tests are ordinary modules and are counted).
 */
function kitFiles(root: string): string[] {
  return execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '' && !f.includes('/fixtures/') && !f.endsWith('.test.ts'))
    .filter((f) => fs.existsSync(path.join(root, f)));
}

/** Every function (declaration, method, arrow, expression, constructor) over `max` lines in the kit at `root`. */
export function longFunctions(root: string, max = MAX_FUNCTION_LINES): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of kitFiles(root)) {
    const src = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      const fn =
        ts.isFunctionDeclaration(n) ||
        ts.isMethodDeclaration(n) ||
        ts.isArrowFunction(n) ||
        ts.isFunctionExpression(n) ||
        ts.isConstructorDeclaration(n);
      if (fn && n.body) {
        const first = src.getLineAndCharacterOfPosition(n.getStart()).line;
        const lines = src.getLineAndCharacterOfPosition(n.end).line - first + 1;
        const name = 'name' in n && n.name ? n.name.getText(src) : '(anonymous)';
        if (lines > max) out.push({ file, line: first + 1, name, lines });
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return out.sort((a, b) => b.lines - a.lines);
}
