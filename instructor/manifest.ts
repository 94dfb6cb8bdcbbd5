/**
 * Writing the template's tamper manifest (`.kvlabs/manifest.json`). Checking it is the grader's job
 * (grader/manifest.ts), so the same code runs in Classroom, in batch grading and on a student's machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Manifest, MANIFEST_PATH, sha256File } from '../grader/manifest';

export { MANIFEST_PATH } from '../grader/manifest';

/** Whether students may change a shipped file: their lab files and prose; everything else is protected. */
export function isStudentEditable(rel: string, implFilesByLab: ReadonlyMap<string, readonly string[]>): boolean {
  if (rel.endsWith('.md') || rel === '.gitignore' || rel === MANIFEST_PATH) return true;
  const m = /^(lab\d+)\/(.+)$/.exec(rel);
  return m !== null && (implFilesByLab.get(m[1]) ?? []).includes(m[2]);
}

/** Builds the manifest of every protected file among `files` (relative to `dir`). */
export function buildManifest(
  dir: string,
  files: readonly string[],
  implFilesByLab: ReadonlyMap<string, readonly string[]>,
): Manifest {
  const protectedFiles = files.filter((f) => !isStudentEditable(f, implFilesByLab)).sort();
  return {
    version: 1,
    generatedBy: 'npm run release (kvlabs instructor tools)',
    files: Object.fromEntries(protectedFiles.map((f) => [f, sha256File(path.join(dir, ...f.split('/')))])),
  };
}

/** Writes `manifest` to `<dir>/.kvlabs/manifest.json`. */
export function writeManifest(dir: string, manifest: Manifest): void {
  const file = path.join(dir, MANIFEST_PATH);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
