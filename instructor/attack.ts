/**
 * `npm run attack -- labN`: how general a lab's generic attackers are. Runs only the tests marked `generic` against
 * every mutant in solutions/labN/mutants.ts (none of which they were written for) and counts the mutants caught.
 */
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLab, listLabs } from '../grader/labs';
import { runNamedTest, type NamedTest } from '../suite';
import { materialiseMutant, removeMutant, type Mutant } from '../solutions/mutants';

/** One mutant's fate under the generic attackers. */
export interface AttackRow {
  readonly mutant: string;
  readonly description: string;
  /** "Test seed=N" of the first run that failed, or undefined when every run passed. */
  readonly caughtBy: string | undefined;
}

/** Runs `tests` on each seed against each mutant (stopping at the first failing run of a mutant). */
export async function attackMutants(
  lab: string,
  tests: readonly NamedTest<unknown>[],
  mutants: readonly Mutant[],
  seeds: readonly number[],
  onRow: (row: AttackRow) => void = () => undefined,
): Promise<AttackRow[]> {
  const root = path.resolve(__dirname, '..');
  const suite = loadLab(root, lab).suite;
  const solutionDir = path.join(root, 'solutions', lab);
  const rows: AttackRow[] = [];
  for (const mutant of mutants) {
    const dir = materialiseMutant(solutionDir, mutant);
    let caughtBy: string | undefined;
    try {
      const impl = suite.load(dir);
      for (const test of tests) {
        for (const seed of seeds) {
          const outcome = await runNamedTest(test, impl, seed);
          if (outcome.status === 'failed') caughtBy = `${test.name} seed=${seed}`;
          if (caughtBy) break;
        }
        if (caughtBy) break;
      }
    } finally {
      removeMutant(dir);
    }
    const row = { mutant: mutant.name, description: mutant.description, caughtBy };
    rows.push(row);
    onRow(row);
  }
  return rows;
}

function seedList(value: string): number[] {
  const seeds = value.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isSafeInteger(s) || s < 0))
    throw new InvalidArgumentError('expected seeds as whole numbers separated by commas, such as 1,2,3.');
  return seeds;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const program = new Command()
    .name('npm run attack --')
    .description("Run a lab's generic attackers alone against its mutants and count the mutants they catch.")
    .argument(
      '<lab>',
      `the lab (${listLabs(root)
        .map((l) => l.lab)
        .join(', ')})`,
    )
    .option('--seeds <list>', 'seeds for each attacker, comma-separated (a graded run uses one)', seedList, [1])
    .option('--mutant <names...>', 'only these mutants')
    .parse();
  const lab = program.args[0];
  const opts = program.opts<{ seeds: number[]; mutant?: string[] }>();
  if (!listLabs(root).some((l) => l.lab === lab)) {
    console.error(
      `No lab named ${lab}. Labs with a suite: ${listLabs(root)
        .map((l) => l.lab)
        .join(', ')}.`,
    );
    process.exit(2);
  }
  const suite = loadLab(root, lab).suite;
  const tests = suite.tests.filter((t) => t.generic);
  if (tests.length === 0) {
    console.error(`${lab} has no generic attacker yet (a test with generic: true in ${lab}/test/suite.ts).`);
    process.exit(2);
  }
  const { mutants } = (await import(path.join(root, 'solutions', lab, 'mutants'))) as { mutants: Mutant[] };
  const chosen = mutants.filter((m) => !opts.mutant || opts.mutant.includes(m.name));
  console.log(
    `${lab}: ${tests.map((t) => t.name).join(', ')} against ${chosen.length} mutants, seeds ${opts.seeds.join(', ')}`,
  );
  const rows = await attackMutants(lab, tests, chosen, opts.seeds, (r) =>
    console.log(`${r.caughtBy ? 'caught ' : 'MISSED '} ${r.mutant.padEnd(32)} ${r.caughtBy ?? r.description}`),
  );
  const caught = rows.filter((r) => r.caughtBy).length;
  console.log(`${caught}/${rows.length} mutants caught (${((100 * caught) / Math.max(1, rows.length)).toFixed(0)}%)`);
  const out = path.join(root, 'reports', 'attack', `${lab}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ lab, seeds: opts.seeds, caught, total: rows.length, rows }, null, 1)}\n`);
}

if (require.main === module) void main();
