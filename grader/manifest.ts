/**
 * The tamper check. A student template (written by `npm run release`) carries `.kvlabs/manifest.json`: the
 * sha256 of every file students must not change (tests, the framework's folders, given types, rubrics,
 * package.json, lockfile). The grader compares the tree against it, and also looks for added files that would
 * replace protected code: anything new inside a protected folder (suite/, labN/test/, ...) and a module
 * that Node would load instead of a protected one (lab5/glob.js next to lab5/glob.ts). The kit repository
 * has no manifest, so nothing is checked there.
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

/** One protected file that is not as released, or an added file that would replace protected code. */
export interface TamperedFile {
  readonly file: string;
  readonly change: 'changed' | 'missing' | 'added';
  /** Why it matters: for an added file, e.g. "would be loaded instead of lab5/glob.ts"; for a changed one that is no plain file, what it is. */
  readonly why?: string;
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
    throw new GraderUsageError(
      `${MANIFEST_PATH} is not valid JSON (${err instanceof Error ? err.message : String(err)}). Restore it from the template: git checkout -- ${MANIFEST_PATH}`,
    );
  }
  if (parsed.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null) {
    throw new GraderUsageError(
      `${MANIFEST_PATH} is not a manifest this grader understands. Restore it from the template: git checkout -- ${MANIFEST_PATH}`,
    );
  }
  return parsed as Manifest;
}

/** A protected file larger than this is not read: it is reported as changed (no released file comes near it). */
export const MAX_PROTECTED_BYTES = 16 * 1024 * 1024;

/**
 * What `rel` is under `root`, looking at every step of the path without following links: a regular file (with its
 * size), nothing, or something else, said in words (a symbolic link, a FIFO, a device, a socket, a folder). Only a
 * regular file is ever read: a FIFO or a link to /dev/stdin would block a read, a link to /dev/zero never end one.
 */
export function plainEntry(
  root: string,
  rel: string,
): { kind: 'file'; size: number } | { kind: 'missing' } | { kind: 'other'; what: string } {
  const parts = rel.split('/');
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (!st) return { kind: 'missing' };
    const last = i === parts.length - 1;
    if (st.isSymbolicLink())
      return { kind: 'other', what: `${last ? '' : `${parts.slice(0, i + 1).join('/')} is `}a symbolic link` };
    if (last) {
      if (st.isFile()) return { kind: 'file', size: st.size };
      const what = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isDirectory() ? 'a folder' : 'a device';
      return { kind: 'other', what };
    }
    if (!st.isDirectory()) return { kind: 'missing' };
  }
  return { kind: 'missing' };
}

/** The protected files under `root` whose contents differ from `manifest` (or that are gone, or are no plain file), sorted. */
export function compareManifest(root: string, manifest: Manifest): TamperedFile[] {
  const out: TamperedFile[] = [];
  for (const rel of Object.keys(manifest.files).sort()) {
    const entry = plainEntry(root, rel);
    if (entry.kind === 'missing') out.push({ file: rel, change: 'missing' });
    else if (entry.kind === 'other') out.push({ file: rel, change: 'changed', why: `${entry.what}, not a file` });
    else if (entry.size > MAX_PROTECTED_BYTES) out.push({ file: rel, change: 'changed', why: `${entry.size} bytes` });
    else if (sha256File(path.join(root, ...rel.split('/'))) !== manifest.files[rel])
      out.push({ file: rel, change: 'changed' });
  }
  return out;
}

/** Extensions Node (with ts-node) may resolve an extensionless `require('./x')` to. */
const MODULE_EXTENSIONS = ['.js', '.cjs', '.mjs', '.json', '.node', '.ts', '.cts', '.mts', '.tsx', '.jsx'];

/** Extensions of files that hold code: a new one in a protected folder is refused (data files are not). */
const CODE_EXTENSIONS = MODULE_EXTENSIONS.filter((e) => e !== '.json');

/** Top-level folders of a tree that the added-file check never looks into (installed packages, grading output, git). */
const UNCHECKED_TOP = ['node_modules', 'reports', '.git'];

/**
 * The protected folders of a manifest: every folder holding a protected file, except the root and the lab
 * folders themselves (labN/), where students keep their own files. So suite/, grader/, labrpc/, labN/test/,
 * labN/tools/ and the like; everything below one of them is protected too.
 */
export function protectedFolders(manifest: Manifest): Set<string> {
  const out = new Set<string>();
  for (const rel of Object.keys(manifest.files)) {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (i === 1 && /^lab\d+$/.test(dir)) continue;
      out.add(dir);
    }
  }
  return out;
}

/** The path without its module extension ("lab5/glob" for "lab5/glob.js"), or undefined for other files. */
function moduleStem(rel: string): string | undefined {
  const ext = path.posix.extname(rel);
  return MODULE_EXTENSIONS.includes(ext) ? rel.slice(0, -ext.length) : undefined;
}

/** What Node could load in place of a protected module: its path minus extension → the protected file. */
function protectedStems(manifest: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of Object.keys(manifest.files)) {
    const stem = moduleStem(rel);
    if (stem === undefined) continue;
    out.set(stem, rel);
    // require('../labrpc') of a folder: a file labrpc.js (or .ts) next to the folder wins over labrpc/index.ts.
    if (path.posix.basename(stem) === 'index' && stem.includes('/')) out.set(path.posix.dirname(stem), rel);
  }
  return out;
}

/**
 * Why a file that is not in the manifest must not be there, or undefined when it may (a student's own file,
 * e.g. lab3/broadcast.ts). `rel` is relative with forward slashes.
 */
export function addedFileProblem(
  rel: string,
  manifest: Manifest,
  folders = protectedFolders(manifest),
  stems = protectedStems(manifest),
): string | undefined {
  if (Object.prototype.hasOwnProperty.call(manifest.files, rel)) return undefined;
  // A name without a module extension counts as its own stem: node loads lab2/load before it tries lab2/load.ts.
  const shadowed = stems.get(moduleStem(rel) ?? rel);
  if (shadowed !== undefined) return `would be loaded instead of ${shadowed}`;
  if (rel === '.npmrc') return 'npm would read it when it runs the grader';
  // Node reads the nearest package.json to resolve a bare import (a package naming itself, its exports and imports)
  // and to decide how a .js file loads: one in a lab folder could send the kit's import of a package to its own file.
  if (path.posix.basename(rel) === 'package.json')
    return "node would read it to resolve the kit's imports (a package's name, exports and imports)";
  const parts = rel.split('/');
  if (parts.slice(1, -1).includes('node_modules') || (parts.length > 1 && parts[parts.length - 1] === 'node_modules')) {
    return 'packages here would be loaded instead of the locked ones in the top-level node_modules';
  }
  // Only code can change what runs: notes, data and what editors and operating systems leave behind (.DS_Store,
  // swap and backup files) may sit anywhere, and a new data file cannot replace a protected one.
  const ext = path.posix.extname(rel);
  if (!CODE_EXTENSIONS.includes(ext)) return undefined;
  for (let i = parts.length - 1; i >= 1; i--) {
    const dir = parts.slice(0, i).join('/');
    if (folders.has(dir)) return `new file in the protected folder ${dir}/`;
  }
  return undefined;
}

/**
 * Files under `root` that are not in the manifest and would replace or join protected code, sorted. Skips the
 * top-level node_modules, reports and .git; a node_modules folder deeper down is named, not entered.
 */
export function findAddedFiles(root: string, manifest: Manifest): TamperedFile[] {
  const folders = protectedFolders(manifest);
  const stems = protectedStems(manifest);
  const out: TamperedFile[] = [];
  const visit = (prefix: string): void => {
    for (const e of fs.readdirSync(path.join(root, ...prefix.split('/').filter(Boolean)), { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.name === '.git' || (!prefix && UNCHECKED_TOP.includes(e.name))) continue;
      if (e.isDirectory() && e.name !== 'node_modules') {
        visit(rel);
        continue;
      }
      // Files, symbolic links (never followed: a link named suite/x.js is as bad as the file) and nested node_modules.
      const why = addedFileProblem(rel, manifest, folders, stems);
      if (why !== undefined) out.push({ file: rel, change: 'added', why });
    }
  };
  visit('');
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** The tamper check's outcome for a tree: no manifest, clean, or the files that differ. */
export type TamperCheck =
  { readonly manifest: false } | { readonly manifest: true; readonly tampered: readonly TamperedFile[] };

/** Checks `root` against its manifest, if it has one: changed, missing and harmful added files. */
export function checkTree(root: string): TamperCheck {
  const manifest = readManifest(root);
  if (!manifest) return { manifest: false };
  return { manifest: true, tampered: [...compareManifest(root, manifest), ...findAddedFiles(root, manifest)] };
}

/** One file as the messages name it: "lab2/test/suite.ts (changed)", "lab5/glob.js (added: would be loaded instead of lab5/glob.ts)". */
export function describeFile(f: TamperedFile): string {
  return `${f.file} (${f.change}${f.why ? `: ${f.why}` : ''})`;
}

/** "lab2/test/suite.ts (changed) and suite/index.ts (missing)". */
export function describeTampered(files: readonly TamperedFile[]): string {
  return listNames(files.map(describeFile));
}

/** The words every tamper refusal carries (batch grading recognises a refused submission by them). */
export const TAMPER_REFUSAL = 'The grader will not score a tree whose protected code';

/** Refusal to score a tree whose protected files changed or were joined by harmful ones (exit code 2, like every setup problem). */
export class TamperError extends GraderUsageError {
  readonly files: readonly TamperedFile[];
  override name = 'TamperError';
  constructor(files: readonly TamperedFile[]) {
    const changed = files.filter((f) => f.change !== 'added');
    const added = files.filter((f) => f.change === 'added');
    const parts: string[] = [];
    if (changed.length > 0)
      parts.push(
        `These files must stay exactly as the template has them, and they differ: ${describeTampered(changed)}.`,
      );
    if (added.length > 0)
      parts.push(`These files were added where they would replace or join protected code: ${describeTampered(added)}.`);
    parts.push(`${TAMPER_REFUSAL} (tests, the framework's folders or given files) was changed.`);
    if (changed.length > 0)
      parts.push(
        'Restore changed or missing files with `git checkout <commit of the template> -- <file>` (or copy them from the template).',
      );
    if (added.length > 0)
      parts.push('Delete the added files; keep your own code in your lab folder, in files with names of their own.');
    parts.push('Then push again.');
    super(parts.join(' '));
    this.files = files;
  }
}
