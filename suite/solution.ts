/** Where a lab tool finds the code it runs: the student's labN/ folder, or with --solution the reference solution. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository (or student template) root. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** --solution was asked for where there is no reference solution (the student template ships none). */
export class NoSolutionError extends Error {
  constructor(lab: string) {
    super(
      `--solution needs the course's own copy of the kit; the student template has no reference solution. ` +
        `Run the same command without --solution to use your ${lab}/ files.`,
    );
    this.name = 'NoSolutionError';
  }
}

/** The folder of `lab`'s code relative to the root, with forward slashes: `<lab>`, or the reference's with `solution`. */
export function labCodeFolder(lab: string, solution: boolean): string {
  return solution ? path.posix.join('solutions', lab) : lab;
}

/** The absolute folder of `lab`'s code to run: `solutions/<lab>` with `solution`, else `<lab>`; NoSolutionError when absent. */
export function implFolder(lab: string, solution: boolean, root = REPO_ROOT): string {
  const dir = path.join(root, labCodeFolder(lab, solution));
  if (solution && !fs.existsSync(dir)) throw new NoSolutionError(lab);
  return dir;
}
