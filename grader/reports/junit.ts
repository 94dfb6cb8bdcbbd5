/** junit.xml: one testsuite per lab, one testcase per named test, a failure element per failed test. */
import builder from 'junit-report-builder';
import { failureLabel } from '../crash';
import { firstLine, REAL_TIME_NOTE, replayCommand, rerunCommand } from '../format';
import type { LabResult, TestResult } from '../types';
import { plainText } from './text';

/** The JUnit XML text for one or more labs. */
export function junitXml(labs: readonly LabResult[]): string {
  const b = builder.newBuilder();
  const seconds = (ms: number) => Math.round(ms) / 1000;
  let totalMs = 0;
  for (const lab of labs) {
    const labMs = lab.tests.reduce((a, t) => a + t.realMs, 0);
    totalMs += labMs;
    const suite = b.testSuite().name(`${lab.lab} (${lab.target})`).time(seconds(labMs));
    suite.property('target', lab.target);
    suite.property('score', `${lab.score}/${lab.maxScore}`);
    for (const t of lab.tests) {
      const tc = suite
        .testCase()
        .className(lab.lab)
        .name(t.name)
        .file(`${lab.lab}/test/suite.ts`)
        .time(seconds(t.realMs));
      if (t.status === 'failed') {
        // The attribute holds the first line (what a test reporter lists); the body the whole message and replay command.
        tc.failure(plainText(firstLine(t.message)), failureLabel(t.runs) || 'failure');
        tc.stacktrace(plainText(failureText(lab, t)));
        const out = t.runs.find((r) => r.status === 'failed')?.output ?? '';
        if (out) tc.standardOutput(plainText(out));
      }
    }
  }
  // The builder has no setter for the root's time; test reporters read it there too.
  return b.build().replace('<testsuites ', `<testsuites time="${seconds(totalMs)}" `);
}

function failureText(lab: LabResult, t: TestResult): string {
  if (t.realTime) {
    const runs = t.runs.length > 1 ? [`${t.failingSeeds.length} of ${t.runs.length} runs failed`] : [];
    return [t.message, '', ...runs, `rerun: ${rerunCommand(lab.lab, t.name, lab.target, t.runs.length)}  (${REAL_TIME_NOTE})`].join('\n');
  }
  const lines = [t.message, '', `seed=${t.seed}  replay: ${replayCommand(lab.lab, t.name, t.seed, lab.target)}`];
  if (t.runs.length > 1) lines.push(`failing seeds (${t.failingSeeds.length} of ${t.runs.length} runs): ${t.failingSeeds.join(', ')}`);
  return lines.join('\n');
}
