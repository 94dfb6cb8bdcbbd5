/**
 * The release's clean-tree check: a template is built from the working tree, so a shipped file with
 * uncommitted changes, or an untracked file a shipped one imports, would make it differ from the commit or
 * break it. `git status --porcelain` tells which paths under the shipped ones are not committed.
 */
import { execFileSync } from 'node:child_process';
import { GraderUsageError, listNames } from '../grader/errors';
import { isShipped, shippedFolders } from './template';

/** Kit files the release reads to write its own version (package.json, tsconfig.json, .mocharc.json). */
const GENERATED_FROM = ['package.json', 'package-lock.json', 'tsconfig.json', '.mocharc.json'];

/** One path `git status --porcelain` reports: its two status letters ("??" untracked, " M" modified, ...) and path. */
export interface StatusEntry {
  readonly status: string;
  readonly path: string;
}

/** Parses `git status --porcelain -z` output (a rename's old path, which follows it, is reported too). */
export function parsePorcelain(text: string): StatusEntry[] {
  const fields = text.split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const status = f.slice(0, 2);
    out.push({ status, path: f.slice(3) });
    if ((status[0] === 'R' || status[0] === 'C') && i + 1 < fields.length && fields[i + 1].length > 0)
      out.push({ status, path: fields[++i] });
  }
  return out;
}

/** Paths that would ship in a template of `labs` (or that the release reads) and are not as committed, sorted. */
export function dirtyShippedFiles(repo: string, labs: readonly string[]): StatusEntry[] {
  const git = (args: string[]): string =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // Porcelain paths are relative to the top of the git repository; the kit may be a folder inside a larger one.
  const prefix = git(['rev-parse', '--show-prefix']).trim();
  const folders = shippedFolders(repo, labs);
  return parsePorcelain(git(['status', '--porcelain', '-z', '--untracked-files=all', '--', '.']))
    .map((e) => ({ ...e, path: e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.path }))
    .filter((e) => isShipped(e.path, labs, folders) || GENERATED_FROM.includes(e.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** "lab2/rpc.ts (modified)", "lab2/util.ts (untracked)". */
export function describeEntry(e: StatusEntry): string {
  if (e.status === '??') return `${e.path} (untracked)`;
  if (e.status.includes('D')) return `${e.path} (deleted)`;
  if (e.status.includes('R')) return `${e.path} (renamed)`;
  if (e.status[0] === 'A') return `${e.path} (added, not committed)`;
  return `${e.path} (modified)`;
}

/** Refusal to release from a working tree whose shipped files are not committed (exit code 2). */
export class DirtyTreeError extends GraderUsageError {
  readonly entries: readonly StatusEntry[];
  override name = 'DirtyTreeError';
  constructor(entries: readonly StatusEntry[]) {
    super(
      `The template would not match the last commit: ${entries.length} file(s) it ships or reads are not committed: ` +
        `${listNames(entries.map(describeEntry))}. The release copies the working tree, so these would ship as they ` +
        'are on disk (or be left out while a shipped file imports them). Commit them (or stash them, or add scratch ' +
        'files to .gitignore) and release again; to release the working tree as it is anyway, pass --allow-dirty.',
    );
    this.entries = entries;
  }
}
