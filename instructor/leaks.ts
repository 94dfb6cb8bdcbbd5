/**
 * Looking for solutions in a template: files under solutions/, imports of it, and distinctive lines of the
 * reference solutions (lines that appear nowhere else in the repository, so they can only have been copied).
 */
import fs from 'node:fs';
import path from 'node:path';
import { trackedFiles } from './template';

/** Something in a template that reveals or needs a reference solution. */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** leak: solution code or an import of it (the release refuses); mention: code that names the folder. */
  readonly kind: 'leak' | 'mention';
  readonly why: string;
}

/** Trimmed lines of a text worth comparing: long enough to be specific, not comments or brackets. */
function meaningfulLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 30 && !/^(\/\/|\/\*|\*|import |export \{|\}|\))/.test(l));
}

/** Lines of the solutions (solutions/ and its mutants) found in no other tracked file of `repo`. */
export function distinctiveSolutionLines(repo: string): Map<string, string> {
  const files = trackedFiles(repo);
  // The instructors' side of the layout: the solutions with their kit tests, and the instructors' tools.
  const isSolutionSide = (f: string) => f.startsWith('solutions/') || f.startsWith('instructor/');
  const elsewhere = new Set<string>();
  for (const f of files)
    if (!isSolutionSide(f))
      for (const l of meaningfulLines(fs.readFileSync(path.join(repo, f), 'utf8'))) elsewhere.add(l);
  const out = new Map<string, string>();
  for (const f of files.filter((x) => x.startsWith('solutions/'))) {
    for (const l of meaningfulLines(fs.readFileSync(path.join(repo, f), 'utf8')))
      if (!elsewhere.has(l) && !out.has(l)) out.set(l, f);
  }
  return out;
}

/** Every finding in the template at `dir`, whose files are `files` (relative, forward slashes). */
export function scanTemplate(
  dir: string,
  files: readonly string[],
  distinctive: ReadonlyMap<string, string>,
): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    if (/(^|\/)solutions\//.test(f))
      out.push({ file: f, line: 0, text: '', kind: 'leak', why: 'a file inside a solutions folder' });
    const text = fs.readFileSync(path.join(dir, ...f.split('/')), 'utf8');
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      const from = distinctive.get(line);
      if (from) out.push({ file: f, line: i + 1, text: line, kind: 'leak', why: `a line of ${from}` });
      else if (/(?:from\s+|require\(\s*|import\(\s*)['"][^'"]*solutions\//.test(line))
        out.push({ file: f, line: i + 1, text: line, kind: 'leak', why: 'imports a reference solution' });
      else if (line.includes('solutions/'))
        out.push({
          file: f,
          line: i + 1,
          text: line,
          kind: 'mention',
          why: 'names the solutions folder (it does not exist in a template)',
        });
    });
  }
  return out;
}
