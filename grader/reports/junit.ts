/** junit.xml: one testsuite per lab, one testcase per named test, a failure element per failed test. */
import builder from 'junit-report-builder';
import { failureLabel } from '../crash';
import { REAL_TIME_NOTE, replayCommand, rerunCommand } from '../format';
import type { LabResult, TestResult } from '../types';
import { plainText } from './text';

/** The JUnit XML text for one or more labs. */
export function junitXml(labs: readonly LabResult[]): string {
  const b = builder.newBuilder();
  for (const lab of labs) {
    const suite = b.testSuite().name(`${lab.lab} (${lab.target})`);
    suite.property('target', lab.target);
    suite.property('score', `${lab.score}/${lab.maxScore}`);
    for (const t of lab.tests) {
      const tc = suite
        .testCase()
        .className(lab.lab)
        .name(t.name)
        .time(Math.round(t.realMs) / 1000);
      if (t.status === 'failed') {
        tc.failure(plainText(failureText(lab, t)), failureLabel(t.runs) || 'failure');
        const out = t.runs.find((r) => r.status === 'failed')?.output ?? '';
        if (out) tc.standardOutput(plainText(out));
      }
    }
  }
  return b.build();
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
