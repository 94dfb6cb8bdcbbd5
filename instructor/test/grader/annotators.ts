/**
 * How the two common JUnit annotators of GitHub Actions find a failure's file and line, re-implemented from the rules
 * their sources follow (read at the commits named below; no code of theirs is copied), so that a kit test can check
 * that our junit.xml makes each of them mark the student's line rather than the report or a test file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findAll, type XmlElement } from './helpers';

/** Where an annotator puts a failure's annotation. */
export interface Annotation {
  readonly test: string;
  readonly path: string;
  readonly line: number;
}

/** Every file under `root/dir`, relative to `root` with forward slashes: what `git ls-files` lists in a checkout. */
export function filesUnder(root: string, dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(root, rel);
    return e.isFile() ? [rel] : [];
  });
}

/** The failing testcases of a parsed junit.xml: the testcase, its suite and its first failure or error. */
function failures(xml: XmlElement): Array<{ suite: XmlElement; testcase: XmlElement; failure: XmlElement }> {
  const suites = xml.name === 'testsuite' ? [xml] : findAll(xml, 'testsuite');
  return suites.flatMap((suite) =>
    suite.children
      .filter((c) => c.name === 'testcase')
      .flatMap((testcase) => {
        const failure = testcase.children.find((c) => c.name === 'failure' || c.name === 'error');
        return failure ? [{ suite, testcase, failure }] : [];
      }),
  );
}

/**
 * mikepenz/action-junit-report (src/testParser.ts at 305cd1f, `resolveFileAndLine` and `createTestCaseAnnotation`):
 * the file is the testcase's `file` attribute, else the failure's, else the suite's, else the last part of the
 * class name; the line likewise from `line` attributes. With both, that is the place. Without a line, it takes the
 * last match in the failure's text of a space, then anything without a space, then the file name, then the
 * shortest run up to ":<digits>", and reads the digits after its last colon; with no match, line 1. A file that
 * exists relative to the workspace is kept as it is.
 */
export function mikepenzAnnotations(xml: XmlElement): Annotation[] {
  return failures(xml).map(({ suite, testcase, failure }) => {
    const a = testcase.attributes;
    const file =
      a.file || failure.attributes.file || suite.attributes.file || (a.classname ?? '').split('.').pop() || '';
    const lineAttr = parseInt(a.line || failure.attributes.line || suite.attributes.line || '', 10);
    if (file && lineAttr) return { test: a.name, path: file, line: lineAttr };
    const pattern = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const found = failure.text.trim().match(new RegExp(` [^ ]*${pattern}.*?:\\d+`, 'g'));
    const last = found?.[found.length - 1];
    const line = last === undefined ? lineAttr || 1 : parseInt(last.slice(last.lastIndexOf(':') + 1), 10) || -1;
    return { test: a.name, path: file, line };
  });
}

/**
 * dorny/test-reporter, reporter `java-junit` (src/parsers/java-junit/java-stack-trace-element-parser.ts and
 * java-junit-parser.ts at 29672c5): each line of the failure's body that reads as a Java frame,
 * "at [loader/module/]<dotted path>(<file name>:<line>)", is tried in order. The file name must be the name of a
 * tracked file; the dotted path's parts before the first one that starts with a capital letter (or any character
 * up to 'Z') are its package, which must be the last folders of that file's path. The first frame that resolves is
 * the place; with none, the annotation goes on the report file itself, line 0.
 */
export function dornyJavaAnnotations(xml: XmlElement, tracked: readonly string[], report: string): Annotation[] {
  return failures(xml).map(({ testcase, failure }) => {
    for (const text of failure.text.split(/\r?\n/)) {
      const m = /^\s*at (?:\S+\/\S*\/)?(.*)\((.*):(\d+)\)$/.exec(text);
      if (!m) continue;
      const [, dotted, name, line] = m;
      const parts = dotted.split('.');
      const cut = parts.findIndex((p) => p[0] <= 'Z');
      const pkg = cut < 0 ? parts : parts.slice(0, cut);
      if (pkg.length === 0) continue;
      const file = tracked.find((f) => {
        if (path.posix.basename(f) !== name) return false;
        const dirs = path.posix.dirname(f).split('/');
        return pkg.length <= dirs.length && pkg.every((p, i) => p === dirs[dirs.length - pkg.length + i]);
      });
      if (file) return { test: testcase.attributes.name, path: file, line: parseInt(line, 10) };
    }
    return { test: testcase.attributes.name, path: report, line: 0 };
  });
}

/**
 * dorny/test-reporter, reporter `jest-junit` (src/utils/node-utils.ts `getExceptionSource`, src/utils/path-utils.ts
 * `getBasePath`, src/parsers/jest-junit/jest-junit-parser.ts at 29672c5): each line of the failure's body ending in
 * "(<path>:<line>:<column>)" is tried in order, skipping paths under internal/ or node_modules. A path is made
 * relative by cutting the work folder, which is guessed once per report from the first path tried: the part before
 * the longest tracked file the path ends with. The first path that is then a tracked file is the place; with none,
 * the report file, line 0.
 */
export function dornyJestAnnotations(xml: XmlElement, tracked: readonly string[], report: string): Annotation[] {
  let workDir: string | undefined;
  const base = (p: string): string | undefined => {
    if (tracked.includes(p)) return '';
    const longest = tracked.filter((f) => p.endsWith(f)).sort((a, b) => b.length - a.length)[0];
    return longest === undefined ? undefined : p.slice(0, p.length - longest.length);
  };
  return failures(xml).map(({ testcase, failure }) => {
    for (const text of failure.text.split(/\r?\n/)) {
      const m = /\((.*):(\d+):\d+\)$/.exec(text);
      if (!m) continue;
      const file = m[1].trim().replace(/\\/g, '/');
      if (file.startsWith('internal/') || file.includes('/node_modules/')) continue;
      workDir ??= base(file);
      const rel = workDir !== undefined && file.startsWith(workDir) ? file.slice(workDir.length) : file;
      if (rel && tracked.includes(rel)) return { test: testcase.attributes.name, path: rel, line: parseInt(m[2], 10) };
    }
    return { test: testcase.attributes.name, path: report, line: 0 };
  });
}
