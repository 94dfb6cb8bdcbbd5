/**
 * `npm run handouts`: writes the table of named tests in each lab's handout (labN/README.md, under "## The named
 * tests") from the lab's suite — name, handout part, points, and the description the grader's reports show — so a
 * test is described in one place. `--check` writes nothing and exits 1 naming the handouts that are stale.
 */
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { listLabs, requireSuite } from '../grader/labs';
import type { LabSuite } from '../suite/types';
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

/** Rewrites (or with `check`, only compares) every lab's table; returns the handouts that were stale. */
export function updateHandouts(root = KIT_ROOT, check = false): string[] {
  const stale: string[] = [];
  for (const lab of listLabs(root)) {
    const file = path.join(lab.studentDir, 'README.md');
    const text = fs.readFileSync(file, 'utf8');
    const want = withTestsTable(text, testsTable(requireSuite(lab.suitePath)));
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
