/**
 * `npm run attack -- labN`: how general a lab's generic attackers are. Runs only the tests marked `generic` against
 * every mutant in solutions/labN/mutants.ts (none of which they were written for) and counts the mutants caught;
 * with `--every-test`, every named test, which says whether each mutant fails a whole graded run on each seed.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { spawnSync } from 'node:child_process';
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
    // The tests the mutant was written against go first: a run stops at its first failure.
    const own = (t: NamedTest<unknown>): number => (mutant.caughtBy.includes(t.name) ? 0 : 1);
    const ordered = [...tests].sort((a, b) => own(a) - own(b));
    try {
      const impl = suite.load(dir);
      for (const test of ordered) {
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

/**
 * Runs one mutant in a child process of its own, so that a mutant that crashes its process costs only its own row:
 * one row, or with `perSeed` one row per seed (the child runs each seed apart).
 */
function attackInChild(
  lab: string,
  mutant: Mutant,
  seeds: readonly number[],
  tests: readonly string[] | undefined,
  everyTest: boolean,
  perSeed = false,
): AttackRow[] {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      path.join(__dirname, '..', 'grader', 'register.js'),
      __filename,
      lab,
      '--seeds',
      seeds.join(','),
      '--one',
      mutant.name,
      ...(tests ? ['--test', ...tests] : []),
      ...(everyTest ? ['--every-test'] : []),
      ...(perSeed ? ['--per-seed'] : []),
    ],
    { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as AttackRow[];
  } catch {
    // The process died: each seed again in a child of its own, to tell which seed it was.
    if (perSeed && seeds.length > 1)
      return seeds.flatMap((seed) => attackInChild(lab, mutant, [seed], tests, everyTest));
    // As in the grader: a test whose process dies has failed.
    const why = r.signal ?? `exit code ${r.status}`;
    return [{ mutant: mutant.name, description: mutant.description, caughtBy: `its process died (${why})` }];
  }
}

/** The attack's options, as commander parsed them. */
interface AttackOptions {
  seeds: number[];
  mutant?: string[];
  test?: string[];
  file?: string;
  one?: string;
  perSeed?: boolean;
  everyTest?: boolean;
}

/** Parses the command line: the lab (exits with 2 on a name that is no lab) and the options. */
function parseCommandLine(root: string): { lab: string; opts: AttackOptions } {
  const labs = listLabs(root).map((l) => l.lab);
  const program = new Command()
    .name('npm run attack --')
    .description("Run a lab's generic attackers alone against its mutants and count the mutants they catch.")
    .argument('<lab>', `the lab (${labs.join(', ')})`)
    .option('--seeds <list>', 'seeds for each attacker, comma-separated (a graded run uses one)', seedList, [1])
    .option('--mutant <names...>', 'only these mutants')
    .option(
      '--test <names...>',
      'only these tests (default: every generic attacker of the lab, or every test with --every-test)',
    )
    .option('--file <name>', "only the mutants of this file of the lab's solution (raft.ts, say)")
    .option(
      '--every-test',
      'every named test, not only the attackers: does a graded run on each seed catch the mutant?',
    )
    .option(
      '--per-seed',
      'run every seed against every mutant and say how many mutants one graded run on each seed catches',
    )
    .addOption(new Option('--one <name>', 'run one mutant here and print its row as JSON').hideHelp())
    .parse();
  const lab = program.args[0];
  if (!labs.includes(lab)) {
    console.error(`No lab named ${lab}. Labs with a suite: ${labs.join(', ')}.`);
    process.exit(2);
  }
  return { lab, opts: program.opts<AttackOptions>() };
}

/** Attacks one mutant on each seed in a child of its own; counts the catches in `perSeed`, prints its line, returns its row. */
function attackPerSeed(lab: string, mutant: Mutant, opts: AttackOptions, perSeed: Map<number, number>): AttackRow {
  const each = attackInChild(lab, mutant, opts.seeds, opts.test, opts.everyTest === true, true);
  each.forEach((r, i) => r.caughtBy && perSeed.set(opts.seeds[i], (perSeed.get(opts.seeds[i]) ?? 0) + 1));
  const hits = each.filter((r) => r.caughtBy).length;
  const row = { ...each[0], caughtBy: each.find((x) => x.caughtBy)?.caughtBy };
  const missed = opts.seeds.filter((_, i) => !each[i].caughtBy);
  const where = missed.length > 0 && hits > 0 ? ` (missed on seed ${missed.join(', ')})` : '';
  console.log(`${hits > 0 ? 'caught ' : 'MISSED '} ${row.mutant.padEnd(32)} on ${hits}/${each.length} seeds${where}`);
  return row;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const { lab, opts } = parseCommandLine(root);
  const suite = loadLab(root, lab).suite;
  const tests = suite.tests.filter((t) => (opts.everyTest || t.generic) && (!opts.test || opts.test.includes(t.name)));
  if (tests.length === 0) {
    console.error(`${lab} has no generic attacker yet (a test with generic: true in ${lab}/test/suite.ts).`);
    process.exit(2);
  }
  const { mutants } = require(path.join(root, 'solutions', lab, 'mutants')) as { mutants: Mutant[] };
  if (opts.one !== undefined) {
    const one = mutants.filter((m) => m.name === opts.one);
    const rows: AttackRow[] = [];
    for (const seeds of opts.perSeed ? opts.seeds.map((seed) => [seed]) : [opts.seeds])
      rows.push(...(await attackMutants(lab, tests, one, seeds)));
    process.stdout.write(`\n${JSON.stringify(rows)}\n`);
    process.exit(0);
  }
  const chosen = mutants.filter(
    (m) => (!opts.mutant || opts.mutant.includes(m.name)) && (!opts.file || m.file === opts.file),
  );
  console.log(
    `${lab}: ${opts.everyTest ? `every named test (${tests.length})` : tests.map((t) => t.name).join(', ')} against ${chosen.length} mutants, seeds ${opts.seeds.join(', ')}`,
  );
  const rows: AttackRow[] = [];
  /** With --per-seed: for each seed, the mutants one graded run on it catches. */
  const perSeed = new Map<number, number>(opts.seeds.map((seed) => [seed, 0]));
  for (const mutant of chosen) {
    if (opts.perSeed) {
      rows.push(attackPerSeed(lab, mutant, opts, perSeed));
      continue;
    }
    const [r] = attackInChild(lab, mutant, opts.seeds, opts.test, opts.everyTest === true);
    rows.push(r);
    console.log(`${r.caughtBy ? 'caught ' : 'MISSED '} ${r.mutant.padEnd(32)} ${r.caughtBy ?? r.description}`);
  }
  const caught = rows.filter((r) => r.caughtBy).length;
  console.log(`${caught}/${rows.length} mutants caught (${((100 * caught) / Math.max(1, rows.length)).toFixed(0)}%)`);
  if (opts.perSeed)
    console.log(
      `one graded run catches: ${[...perSeed].map(([seed, n]) => `seed ${seed} ${n}/${rows.length}`).join(', ')}`,
    );
  const out = path.join(root, 'reports', 'attack', `${lab}${opts.everyTest ? '-every-test' : ''}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ lab, seeds: opts.seeds, caught, total: rows.length, rows }, null, 1)}\n`);
}

if (require.main === module) void main();
