/**
 * `npm run handouts`: writes the table of named tests in each lab's handout (labN/README.md, under "## The named
 * tests") from the lab's suite — name, handout part, points, and the description the grader's reports show — and,
 * below it, what the tester's monitors hold every simulated test to (the suite's budgets), so a test and a budget
 * are each described in one place. `--check` writes nothing and exits 1 naming the handouts that are stale.
 */
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { listLabs, requireSuite } from '../grader/labs';
import type { LabSuite, Monitors } from '../suite/types';
import { TESTER_TIMERS } from '../suite/monitors';
import { runAsScript, runCommand } from './cli';
import { KIT_ROOT } from './release';

/** The heading the table sits under. */
const HEADING = /^## The named tests\s*$/m;

/** The handout's table for `suite`: its tests by part (in suite order within a part). */
export function testsTable(suite: LabSuite<unknown>): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
  const rows = [...suite.tests]
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.part - b.t.part || a.i - b.i)
    .map(({ t }) => `| ${t.name} | ${t.part} | ${t.points} | ${cell(t.description)} |`);
  return ['| test | part | points | what it checks |', '| --- | ---: | ---: | --- |', ...rows].join('\n');
}

/** `markdown` with the first table under "## The named tests" replaced by `table`; throws when there is none. */
export function withTestsTable(markdown: string, table: string): string {
  const at = markdown.search(HEADING);
  if (at < 0) throw new Error('the handout has no "## The named tests" section');
  const lines = markdown.split('\n');
  const headingLine = markdown.slice(0, at).split('\n').length - 1;
  let start = headingLine + 1;
  while (start < lines.length && !lines[start].startsWith('|')) {
    if (lines[start].startsWith('## ')) throw new Error('the handout\'s "## The named tests" section has no table');
    start++;
  }
  if (start >= lines.length) throw new Error('the handout\'s "## The named tests" section has no table');
  let end = start;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  return [...lines.slice(0, start), table, ...lines.slice(end)].join('\n');
}

/** The first line of the monitors' paragraph in a handout (it follows the table of named tests). */
const MONITORS_HEADING = '**What every simulated test also holds.**';
/** Its first line when only some of the lab's simulated tests carry the monitors (they are named). */
const SOME_MONITORED_HEADING = '**What some simulated tests also hold.**';

/** The lab's monitors: those its simulated tests carry (one declaration, attached to each by `monitored`). */
function monitorsOf(suite: LabSuite<unknown>): Monitors | undefined {
  return suite.tests.find((t) => !t.realTime && t.monitors)?.monitors;
}

/** The handout's paragraph on what the tester's monitors hold every simulated test to; '' for a lab without them. */
export function monitorsBlock(suite: LabSuite<unknown>): string {
  const m = monitorsOf(suite);
  if (!m) return '';
  const t = m.timers;
  const lines = [
    `- timers: when a test ends, at most ${t.perServer} per server started and ${t.perCall} per call still in flight ` +
      `(and ${TESTER_TIMERS} for the tester) may still be set, neither fired nor cleared: however many operations it made;`,
  ];
  for (const p of m.pacing ?? []) {
    const answered = p.refusals?.length ? `answered ${p.refusals.join(' or ')}` : '';
    const failed =
      p.refusalsOnly === true ? `that was ${answered}` : `that was lost${answered ? ` or ${answered}` : ''}`;
    const soonest =
      p.minWaitMs !== undefined
        ? `no sooner than ${p.minWaitMs} ms after the failure`
        : p.meanWaitMs !== undefined
          ? `${p.meanWaitMs} ms or more after the failure on average (over ${p.samples ?? 20} or more such tries from one client to one server)`
          : '';
    const latest =
      p.maxMedianWaitMs !== undefined
        ? `half of such copies no later than ${p.maxMedianWaitMs} ms after the failure (over ${p.samples ?? 20} or more such tries from one client)`
        : '';
    const wait = soonest === '' ? `with ${latest}` : latest === '' ? soonest : `${soonest}, and ${latest}`;
    const what = `${p.only ? `an ${p.only.what}` : `a ${p.methods?.join(' or ') ?? p.callsAre ?? 'server-to-server'} call`} ${p.after === 'answer' ? 'that was answered' : failed}`;
    const again =
      p.after === 'round'
        ? `${what} at every server in turn is sent again`
        : p.by
          ? `${what} is sent again by the same client, to any server,`
          : `${what} is sent again`;
    const pacing = p.after === 'answer' ? 'call pacing' : 'retry pacing';
    lines.push(
      `- ${pacing}, "${p.rule}": ${again} unchanged ${wait.replace('the failure', p.after === 'answer' ? 'the answer' : 'the failure')};`,
    );
  }
  if (m.resend)
    lines.push(
      `- re-sends, "${m.resend.rule}": a server-to-server call that fails is sent again (the same call to the same ` +
        `server) within ${m.resend.withinMs} ms;`,
    );
  lines[lines.length - 1] = `${lines[lines.length - 1].slice(0, -1)}.`;
  const simulated = suite.tests.filter((x) => !x.realTime);
  const watched = simulated.filter((x) => x.monitors === m).map((x) => x.name);
  const intro =
    watched.length === simulated.length
      ? `${MONITORS_HEADING} Besides its own checks, the tester watches every simulated test`
      : `${SOME_MONITORED_HEADING} Besides their own checks, the tester watches ${watched.join(', ')}`;
  return [
    `${intro} for these budgets (declared in \`${suite.lab}/test/suite.ts\`); a test that breaks one fails, saying what ` +
      'it saw and where:',
    '',
    ...lines,
  ].join('\n');
}

/** `markdown` with the monitors' paragraph (after the table of named tests) replaced by `block`, or removed when ''. */
export function withMonitorsBlock(markdown: string, block: string): string {
  const lines = markdown.split('\n');
  let start = lines.findIndex((l) => l.startsWith(MONITORS_HEADING) || l.startsWith(SOME_MONITORED_HEADING));
  if (start >= 0) {
    // The blank line before it, its first line, a blank line, and its list.
    let end = start + 2;
    while (end < lines.length && lines[end].startsWith('- ')) end++;
    lines.splice(start - 1, end - start + 1);
  }
  if (block === '') return lines.join('\n');
  const heading = lines.findIndex((l) => HEADING.test(l));
  start = heading + 1;
  while (start < lines.length && !lines[start].startsWith('|')) start++;
  while (start < lines.length && lines[start].startsWith('|')) start++;
  lines.splice(start, 0, '', ...block.split('\n'));
  return lines.join('\n');
}

/** `markdown` with its table of named tests and its monitors' paragraph as `suite` makes them. */
export function withSuite(markdown: string, suite: LabSuite<unknown>): string {
  return withMonitorsBlock(withTestsTable(markdown, testsTable(suite)), monitorsBlock(suite));
}

/** Rewrites (or with `check`, only compares) every lab's table; returns the handouts that were stale. */
export function updateHandouts(root = KIT_ROOT, check = false): string[] {
  const stale: string[] = [];
  for (const lab of listLabs(root)) {
    const file = path.join(lab.studentDir, 'README.md');
    const text = fs.readFileSync(file, 'utf8');
    const want = withSuite(text, requireSuite(lab.suitePath));
    if (want === text) continue;
    stale.push(path.relative(root, file));
    if (!check) fs.writeFileSync(file, want);
  }
  return stale;
}

/** `npm run handouts [-- --check]`: 0 when done (or up to date), 1 when --check finds a stale table, 2 for bad arguments. */
export async function runHandoutsCli(argv: readonly string[]): Promise<number> {
  const program = new Command('npm run handouts')
    .description("Writes each lab handout's table of named tests from its suite.")
    .option('--check', 'write nothing; exit 1 naming the handouts whose table is stale');
  return runCommand(program, argv, async () => {
    const check = program.opts<{ check?: boolean }>().check === true;
    const stale = updateHandouts(KIT_ROOT, check);
    if (check && stale.length > 0) {
      process.stderr.write(`Stale tables of named tests in ${stale.join(', ')}: run npm run handouts.\n`);
      return 1;
    }
    process.stdout.write(
      stale.length > 0
        ? `Rewrote the table of named tests in ${stale.join(', ')}.\n`
        : 'Every handout table is up to date.\n',
    );
    return 0;
  });
}

runAsScript(module, runHandoutsCli);
