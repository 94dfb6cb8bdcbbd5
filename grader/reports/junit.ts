/**
 * junit.xml: one testsuite per lab, one testcase per named test, a failure element per failed test that points at the
 * student's own file and line, as the common CI annotators read it (see `whereLines`).
 */
import type JunitReportBuilder from 'junit-report-builder';
import { failureLabel } from '../crash';
import { firstLine, REAL_TIME_NOTE, replayCommand, rerunCommand } from '../format';
import type { LabResult, TestResult } from '../types';
import { failureLocation, type SourceLocation } from './location';
import { plainText } from './text';

/** The JUnit writer package, loaded at its first use (a few tens of ms: a one-test grade has no time to spare). */
let junitBuilder: typeof JunitReportBuilder | undefined;

/** Loads the JUnit writer now: the grader calls it while the test processes start, so the reports wait for nothing. */
export function loadJunitWriter(): typeof JunitReportBuilder {
  junitBuilder ??= require('junit-report-builder') as typeof JunitReportBuilder; // CommonJS: the builder itself
  return junitBuilder;
}

/** The JUnit XML text for one or more labs. */
export function junitXml(labs: readonly LabResult[]): string {
  const b = loadJunitWriter().newBuilder();
  const seconds = (ms: number) => Math.round(ms) / 1000;
  let totalMs = 0;
  /** The line attribute of each testcase, in the order written (the builder has no setter for it). */
  const lines: Array<number | undefined> = [];
  for (const lab of labs) {
    const labMs = lab.tests.reduce((a, t) => a + t.realMs, 0);
    totalMs += labMs;
    const suite = b.testSuite().name(`${lab.lab} (${lab.target})`).time(seconds(labMs));
    suite.property('target', lab.target);
    suite.property('score', `${lab.score}/${lab.maxScore}`);
    for (const t of lab.tests) {
      const at = t.status === 'failed' ? failureLocation(lab, t) : undefined;
      const tc = suite
        .testCase()
        .className(lab.lab)
        .name(t.name)
        .file(at?.file ?? `${lab.lab}/test/suite.ts`)
        .time(seconds(t.realMs));
      lines.push(at?.line);
      if (t.status === 'failed') {
        // The attribute holds the first line (what a test reporter lists); the body the whole message and replay command.
        tc.failure(plainText(firstLine(t.message)), failureLabel(t.runs) || 'failure');
        tc.stacktrace(plainText(failureText(lab, t, at)));
        const out = t.runs.find((r) => r.status === 'failed')?.output ?? '';
        if (out) tc.standardOutput(plainText(out));
      }
    }
  }
  let i = 0;
  // The builder has no setter for the root's time, which test reporters read there too, nor for a testcase's line,
  // which action-junit-report reads beside its file. Both are written into the markup only: student text (a
  // failure's body, the code's output) sits in CDATA sections, where a tag it spells out is text.
  return outsideCdata(b.build(), (markup) =>
    markup
      .replace('<testsuites ', `<testsuites time="${seconds(totalMs)}" `)
      .replace(/<testcase\b[^>]*?\bfile="[^"]*"/g, (tag) => {
        const line = lines[i++];
        return line === undefined ? tag : `${tag} line="${line}"`;
      }),
  );
}

/** `xml` with `edit` applied to each stretch outside its CDATA sections, in order. */
function outsideCdata(xml: string, edit: (markup: string) => string): string {
  return xml
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part, k) => (k % 2 === 1 ? part : edit(part)))
    .join('');
}

/**
 * The failure body's lines that point at the student's code, one for people and one for each annotator's rule:
 * - dorny/test-reporter, `java-junit`: a Java frame "at <package>.<Class>(<file name>:<line>)" whose package is the
 *   file's folder (src/parsers/java-junit/java-stack-trace-element-parser.ts and java-junit-parser.ts, getFilePath);
 * - dorny/test-reporter, `jest-junit`: a frame ending "(<path>:<line>:<column>)", the path a tracked file
 *   (src/utils/node-utils.ts, getExceptionSource);
 * - mikepenz/action-junit-report reads the testcase's `file` and `line` attributes (src/testParser.ts,
 *   resolveFileAndLine), which `junitXml` sets.
 */
export function whereLines(test: string, at: SourceLocation): string[] {
  const slash = at.file.lastIndexOf('/');
  const folder = at.file.slice(0, slash).split('/').join('.');
  const name = at.file.slice(slash + 1);
  const why =
    at.source === 'stack'
      ? `${at.function ? `in ${at.function}, ` : ''}the first line of your code in the failure's stack`
      : at.source === 'likely-causes'
        ? 'the file the likely causes above name'
        : "the lab's first file to fill in; the failure's stack has no line of your code";
  return [
    `Where to look: ${at.file} line ${at.line} (${why}).`,
    `    at ${folder}.${test}(${name}:${at.line})`,
    `    at ${at.function ?? test} (${at.file}:${at.line}:${at.column})`,
  ];
}

function failureText(lab: LabResult, t: TestResult, at: SourceLocation | undefined): string {
  const where = at ? ['', ...whereLines(t.name, at)] : [];
  if (t.realTime) {
    const runs = t.runs.length > 1 ? [`${t.failingSeeds.length} of ${t.runs.length} runs failed`] : [];
    return [
      t.message,
      ...where,
      '',
      ...runs,
      `rerun: ${rerunCommand(lab.lab, t.name, lab.target, t.runs.length)}  (${REAL_TIME_NOTE})`,
    ].join('\n');
  }
  const lines = [t.message, ...where, '', `seed=${t.seed}  replay: ${replayCommand(lab.lab, t.name, t.seed, lab.target)}`];
  if (t.runs.length > 1)
    lines.push(`failing seeds (${t.failingSeeds.length} of ${t.runs.length} runs): ${t.failingSeeds.join(', ')}`);
  return lines.join('\n');
}
