/** Where a failure points in the student's code: a file of theirs and a line, for CI annotators and the Classroom log. */
import { labCodeFolder } from '../../suite/solution';
import type { LabResult, TestResult } from '../types';

/** A place in the graded code, relative to the repository's root ("lab2/client.ts", line 27). */
export interface SourceLocation {
  /** Repository-relative path with forward slashes. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column (1 when the line is all that is known). */
  readonly column: number;
  /** How it was found: a frame of the failure's stack, a file the failure's "Likely causes" name, or the lab's first file. */
  readonly source: 'stack' | 'likely-causes' | 'first-file';
  /** The function of the stack frame, when there is one ("Clerk.put"). */
  readonly function?: string;
}

/** The folder holding the graded code, relative to the repository's root: "lab2", or the reference's. */
export function codeFolder(lab: LabResult): string {
  return labCodeFolder(lab.lab, lab.target === 'solution');
}

/** A V8 stack frame line: "at fn (path:line:col)" or "at path:line:col". */
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?\s*$/;
/** Files that hold code (a frame in a .json or a source map's original name is not one). */
const CODE_FILE = /\.(?:[cm]?[jt]s|tsx)$/;

/**
 * The first frame of `text` (a failure message with its stack) in the graded code: `folder/...`, not its `test/`
 * folder, not a package. Absolute paths are cut at the last `/<folder>/`, so the result is the same on any machine.
 */
export function studentFrame(text: string, folder: string): SourceLocation | undefined {
  for (const raw of text.split('\n')) {
    const m = FRAME.exec(raw);
    if (!m) continue;
    const file = m[2].replace(/^file:\/\//, '').replace(/\\/g, '/');
    const at = file.startsWith(`${folder}/`) ? 0 : file.lastIndexOf(`/${folder}/`) + 1;
    if (at === 0 && !file.startsWith(`${folder}/`)) continue; // not in the graded folder
    const rel = file.slice(at);
    const inside = rel.slice(folder.length + 1);
    if (inside.startsWith('test/') || inside.includes('node_modules/') || !CODE_FILE.test(rel)) continue;
    const fn = m[1]?.replace(/^(?:async|new) /, '');
    return { file: rel, line: Number(m[3]), column: Number(m[4]), source: 'stack', function: fn || undefined };
  }
  return undefined;
}

/**
 * The first of the lab's files (`files`, relative to its folder) that the "Likely causes" part of `text` names,
 * as "lab2/lock.ts" or as "server.ts".
 */
export function likelyCauseFile(text: string, lab: string, files: readonly string[]): string | undefined {
  const at = text.search(/likely causes/i);
  if (at < 0) return undefined;
  const causes = text.slice(at);
  let best: { file: string; index: number } | undefined;
  for (const f of files) {
    const m = new RegExp(`(?:^|[^\\w./-])(?:${escapeRegExp(lab)}/)?${escapeRegExp(f)}(?![\\w-])`).exec(causes);
    if (m && (best === undefined || m.index < best.index)) best = { file: f, index: m.index };
  }
  return best?.file;
}

/**
 * Where a failed test points in the student's code: the first frame of their code in the failure's stack; else the
 * lab file its "Likely causes" name (line 1); else the lab's first file to fill in (line 1). Undefined only when
 * the lab's files are unknown and no frame names one.
 */
export function failureLocation(lab: LabResult, t: TestResult): SourceLocation | undefined {
  const folder = codeFolder(lab);
  const texts = [t.message, ...t.runs.filter((r) => r.status === 'failed').map((r) => r.message)];
  for (const text of texts) {
    const frame = studentFrame(text, folder);
    if (frame) return frame;
  }
  const files = lab.implFiles ?? [];
  for (const text of texts) {
    const named = likelyCauseFile(text, lab.lab, files);
    if (named) return { file: `${folder}/${named}`, line: 1, column: 1, source: 'likely-causes' };
  }
  return files.length > 0 ? { file: `${folder}/${files[0]}`, line: 1, column: 1, source: 'first-file' } : undefined;
}

/** "lab2/client.ts:27". */
export function locationText(at: SourceLocation): string {
  return `${at.file}:${at.line}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
