/**
 * Mutants: copies of a reference solution with one deliberate bug, used by the kit's own tests to show that
 * each named test can fail. A mutant is a list of text replacements; it is materialised next to the solution
 * folder (same depth, so relative imports still resolve), loaded, and removed afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One deliberate bug. */
export interface Mutant {
  /** Short name, e.g. "no-retry". */
  readonly name: string;
  /** What the bug is, in a sentence. */
  readonly description: string;
  /** The file to change, relative to the solution folder. */
  readonly file: string;
  /** Exact text to replace (must occur exactly once) and its replacement. */
  readonly replace: ReadonlyArray<readonly [string, string]>;
  /** Replacements in other files of the solution that the bug needs as well (what a clerk sends that a server misuses). */
  readonly also?: ReadonlyArray<{ readonly file: string; readonly replace: ReadonlyArray<readonly [string, string]> }>;
  /** Named tests of which at least one must fail with this bug. */
  readonly caughtBy: readonly string[];
  /**
   * The cause a student should look for, in a few words that the failure catching the mutant must contain (case and
   * spacing aside): the kit checks that the likely causes a failure lists cover the bug (labs 1-7).
   */
  readonly cause?: string;
}

/** Whether `message` (a failure's) names `cause`, case and spacing aside: the kit's check that a failure covers its mutant. */
export function namesCause(message: string, cause: string): boolean {
  const norm = (t: string): string => t.toLowerCase().replace(/\s+/g, ' ').trim();
  return norm(message).includes(norm(cause));
}

/**
 * A correct solution written another way (its description says why it is still right), which the suite must not
 * fail: no correct code loses a point.
 */
export interface Variant extends Pick<Mutant, 'name' | 'description' | 'file' | 'replace'> {
  /** Named tests that must pass it (on the kit's seeds for each). */
  readonly passes: readonly string[];
}

/**
 * Writes the edited copy of `solutionDir` and returns its folder; throws if a replacement does not apply. The
 * folder's name holds the process id, so that test files running side by side (mocha's parallel mode) may
 * materialise the same mutant.
 */
export function materialiseMutant(solutionDir: string, mutant: Mutant | Variant): string {
  const name = `.mutant-${path.basename(solutionDir)}-${mutant.name}-${process.pid}`;
  const dir = path.join(path.dirname(solutionDir), name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(solutionDir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      fs.copyFileSync(path.join(solutionDir, entry.name), path.join(dir, entry.name));
  }
  const edits = [{ file: mutant.file, replace: mutant.replace }, ...('also' in mutant ? (mutant.also ?? []) : [])];
  for (const { file, replace } of edits) {
    const target = path.join(dir, file);
    let text = fs.readFileSync(target, 'utf8');
    for (const [from, to] of replace) {
      const count = text.split(from).length - 1;
      if (count !== 1) {
        throw new Error(
          `Mutant "${mutant.name}": expected the text ${JSON.stringify(from)} exactly once in ${file}, found it ${count} times. Update the mutant to match the solution.`,
        );
      }
      text = text.replace(from, to);
    }
    fs.writeFileSync(target, text);
  }
  return dir;
}

/** Removes a materialised mutant folder. */
export function removeMutant(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
