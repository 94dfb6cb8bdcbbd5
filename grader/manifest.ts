/**
 * The tamper check. A student template (written by `npm run release`) carries `.kvlabs/manifest.json`: the
 * sha256 of every file students must not change (tests, tester, grader, labrpc, given types, rubrics,
 * package.json, lockfile). The grader compares the tree against it; the kit repository has no manifest, so
 * nothing is checked there.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GraderUsageError, listNames } from './errors';

/** Where the manifest sits, relative to the lab root. */
export const MANIFEST_PATH = '.kvlabs/manifest.json';

/** The manifest file's content. */
export interface Manifest {
  readonly version: 1;
  /** What wrote it, for people. */
  readonly generatedBy: string;
  /** Relative path (forward slashes) → sha256 hex of the file's bytes. */
  readonly files: Readonly<Record<string, string>>;
}

/** One protected file that is not as released. */
export interface TamperedFile {
  readonly file: string;
  readonly change: 'changed' | 'missing';
}

/** The sha256 (hex) of a file's bytes. */
export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Reads `<root>/.kvlabs/manifest.json`; undefined when there is none (the kit repository itself). */
export function readManifest(root: string): Manifest | undefined {
  const file = path.join(root, MANIFEST_PATH);
  if (!fs.existsSync(file)) return undefined;
  let parsed: Partial<Manifest>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Manifest>;
  } catch (err) {
    throw new GraderUsageError(`${MANIFEST_PATH} is not valid JSON (${err instanceof Error ? err.message : String(err)}). Restore it from the template: git checkout -- ${MANIFEST_PATH}`);
  }
  if (parsed.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null) {
    throw new GraderUsageError(`${MANIFEST_PATH} is not a manifest this grader understands. Restore it from the template: git checkout -- ${MANIFEST_PATH}`);
  }
  return parsed as Manifest;
}

/** The protected files under `root` whose contents differ from `manifest` (or that are gone), sorted. */
export function compareManifest(root: string, manifest: Manifest): TamperedFile[] {
  const out: TamperedFile[] = [];
  for (const rel of Object.keys(manifest.files).sort()) {
    const file = path.join(root, ...rel.split('/'));
    if (!fs.existsSync(file)) out.push({ file: rel, change: 'missing' });
    else if (sha256File(file) !== manifest.files[rel]) out.push({ file: rel, change: 'changed' });
  }
  return out;
}

/** The tamper check's outcome for a tree: no manifest, clean, or the files that differ. */
export type TamperCheck = { readonly manifest: false } | { readonly manifest: true; readonly tampered: readonly TamperedFile[] };

/** Checks `root` against its manifest, if it has one. */
export function checkTree(root: string): TamperCheck {
  const manifest = readManifest(root);
  if (!manifest) return { manifest: false };
  return { manifest: true, tampered: compareManifest(root, manifest) };
}

/** "lab2/test/suite.ts (changed) and tester/index.ts (missing)". */
export function describeTampered(files: readonly TamperedFile[]): string {
  return listNames(files.map((f) => `${f.file} (${f.change})`));
}

/** Refusal to score a tree whose protected files changed (exit code 2, like every setup problem). */
export class TamperError extends GraderUsageError {
  override name = 'TamperError';
  constructor(readonly files: readonly TamperedFile[]) {
    super(
      `These files must stay exactly as the template has them, and they differ: ${describeTampered(files)}. ` +
        'The grader will not score a tree whose tests, tester, grader or given files were changed. ' +
        'Restore them with `git checkout <commit of the template> -- <file>` (or copy them from the template) and push again.',
    );
  }
}
