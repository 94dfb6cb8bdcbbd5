/**
 * junit.xml: one testsuite per lab, one testcase per named test, a failure element per failed test that points at the
 * student's own file and line, as the common CI annotators read it (see `whereLines`).
 */
import type { XMLBuilder } from 'fast-xml-parser';
import { failureLabel } from '../crash';
import { firstLine, REAL_TIME_NOTE, replayCommand, rerunCommand } from '../format';
import type { LabResult, TestResult } from '../types';
import { failureLocation, type SourceLocation } from './location';
import { plainText } from './text';

/** The XML writer, made at its first use (its package loads in about 30 ms: a one-test grade has no time to spare). */
let writer: XMLBuilder | undefined;

/**
 * Loads the XML writer now: the grader calls it while the test processes start, so the reports wait for nothing.
 * Attributes are escaped by it; text the code under test shapes goes in CDATA sections, which it splits around a "]]>".
 */
export function loadJunitWriter(): XMLBuilder {
  if (writer) return writer;
  const { XMLBuilder: Builder } = require('fast-xml-parser') as typeof import('fast-xml-parser'); // loaded when first needed
  writer = new Builder({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    cdataPropName: '#cdata',
    format: true,
    indentBy: '  ',
    suppressEmptyNode: true,
  });
  return writer;
}

/** An element as the XML writer takes it: attributes under "@name", children under their tag, CDATA under "#cdata". */
type Element = { [key: string]: string | number | Element | Element[] | undefined };

/** Milliseconds as the seconds JUnit's time attributes hold. */
const seconds = (ms: number): number => Math.round(ms) / 1000;

/** The JUnit XML text for one or more labs. */
export function junitXml(labs: readonly LabResult[]): string {
  let totalMs = 0;
  const suites = labs.map((lab) => {
    const failed = lab.tests.filter((t) => t.status === 'failed').length;
    const labMs = lab.tests.reduce((a, t) => a + t.realMs, 0);
    totalMs += labMs;
    const suite: Element = {
      '@name': `${lab.lab} (${lab.target})`,
      '@time': seconds(labMs),
      '@tests': lab.tests.length,
      '@failures': failed,
      '@errors': 0,
      '@skipped': 0,
      properties: {
        property: [
          { '@name': 'target', '@value': lab.target },
          { '@name': 'score', '@value': `${lab.score}/${lab.maxScore}` },
        ],
      },
      testcase: lab.tests.map((t) => testCase(lab, t)),
    };
    return suite;
  });
  const count = (key: string) => suites.reduce((n, s) => n + (s[key] as number), 0);
  const root: Element = {
    '?xml': { '@version': '1.0', '@encoding': 'UTF-8' },
    testsuites: {
      '@time': seconds(totalMs),
      '@tests': count('@tests'),
      '@failures': count('@failures'),
      '@errors': 0,
      '@skipped': 0,
      testsuite: suites,
    },
  };
  return hugCdata(loadJunitWriter().build(root) as string);
}

/**
 * One testcase: where to look (the student's file and line, for annotators that read the attributes), and for a
 * failure its first line (what a test reporter lists) and its whole message with the replay command, and the output.
 */
function testCase(lab: LabResult, t: TestResult): Element {
  const at = t.status === 'failed' ? failureLocation(lab, t) : undefined;
  const tc: Element = {
    '@classname': lab.lab,
    '@name': t.name,
    '@file': at?.file ?? `${lab.lab}/test/suite.ts`,
    '@line': at?.line,
    '@time': seconds(t.realMs),
  };
  if (t.status !== 'failed') return tc;
  tc.failure = {
    '@message': plainText(firstLine(t.message)),
    '@type': failureLabel(t.runs) || 'failure',
    '#cdata': plainText(failureText(lab, t, at)),
  };
  const out = t.runs.find((r) => r.status === 'failed')?.output ?? '';
  if (out) tc['system-out'] = { '#cdata': plainText(out) };
  return tc;
}

/**
 * `xml` with each CDATA section right against its element's tags: the writer puts it on a line of its own, and the
 * indentation around it would be part of the element's text (a failure's body, as annotators read it).
 */
function hugCdata(xml: string): string {
  const parts = xml.split(/(<!\[CDATA\[[\s\S]*?\]\]>)/);
  return parts
    .map((part, k) => {
      if (k % 2 === 1) return part;
      let markup = part;
      if (k > 0) markup = markup.replace(/^\s+</, '<');
      if (k < parts.length - 1) markup = markup.replace(/>\s+$/, '>');
      return markup;
    })
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
