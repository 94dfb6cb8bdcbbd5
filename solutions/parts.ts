/** A reference solution as it stands at the end of a handout part: the files of later parts are the skeleton's. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a copy of `solutionDir` in which each file of `skeletonFiles` is the untouched skeleton's from `labDir`,
 * next to the solution folder (same depth, so the solution's relative imports still resolve), and returns its
 * folder; remove it with `fs.rmSync(dir, { recursive: true, force: true })`. A skeleton file's imports of the
 * lab's given files (`./rpc`, `../labrpc`) are rewritten to reach them from the copy; its imports of other files
 * of the code under test (`./raft`) stay, so they reach the copy's reference files.
 */
export function materialiseUpToPart(
  labDir: string,
  solutionDir: string,
  skeletonFiles: readonly string[],
  tag: string,
): string {
  const dir = path.join(path.dirname(solutionDir), `.parts-${path.basename(solutionDir)}-${tag}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const copied = fs.readdirSync(solutionDir).filter((f) => f.endsWith('.ts'));
  for (const f of copied) fs.copyFileSync(path.join(solutionDir, f), path.join(dir, f));
  for (const file of skeletonFiles) {
    const text = fs.readFileSync(path.join(labDir, file), 'utf8');
    const rewritten = text.replace(
      /(from\s+')(\.{1,2}\/[^']*)(')/g,
      (whole, open: string, spec: string, close: string) => {
        const target = path.resolve(labDir, spec);
        if (path.dirname(target) === labDir && copied.includes(`${path.basename(target)}.ts`)) return whole;
        const rel = path.relative(dir, target).split(path.sep).join('/');
        return `${open}${rel.startsWith('.') ? rel : `./${rel}`}${close}`;
      },
    );
    fs.writeFileSync(path.join(dir, file), rewritten);
  }
  return dir;
}
