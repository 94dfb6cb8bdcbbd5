/**
 * `npm run bench`: the kit's performance figures. Prints a table, or one JSON object with --json.
 * `npm run bench -- --only labrpc,checker` runs some sections only; `-- --profile grade-lab5` runs one with CPU
 * profiles on and prints where its time went.
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { listLabs } from '../../grader/labs';
import type { BenchFigure } from './figure';
import { profiled } from './profile';

const ROOT = path.join(__dirname, '..', '..');

/** The sections, in the order they run; each loads its module (with require: this file is CommonJS) only when selected. */
const SECTIONS: Record<string, () => Promise<BenchFigure[]>> = {
  labrpc: async () => (require('./labrpc') as typeof import('./labrpc')).benchLabrpc(),
  checker: async () => (require('./checker') as typeof import('./checker')).benchChecker(),
  lab1: async () => (require('./lab1') as typeof import('./lab1')).benchLab1(),
  lab2: async () => (require('./lab2') as typeof import('./lab2')).benchLab2(),
  lab3: async () => (require('./lab3') as typeof import('./lab3')).benchLab3(),
  lab4: async () => (require('./lab4') as typeof import('./lab4')).benchLab4(),
  lab5: async () => (require('./lab5') as typeof import('./lab5')).benchLab5(),
  lab6: async () => (require('./lab6') as typeof import('./lab6')).benchLab6(),
  trace: async () => (require('./trace') as typeof import('./trace')).benchTrace(),
  instructor: async () => (require('./instructor') as typeof import('./instructor')).benchInstructor(),
  deadline: async () => (require('./deadline') as typeof import('./deadline')).benchDeadline(),
  sweep: async () => (require('./sweep') as typeof import('./sweep')).benchSweep(),
  // grade-lab1, grade-lab2, ...: each lab's whole reference grade, and each test's share of it.
  ...Object.fromEntries(
    listLabs(ROOT).map((l) => [
      `grade-${l.lab}`,
      async () => (require('./grade') as typeof import('./grade')).benchGrade(l.lab),
    ]),
  ),
};

/** Sections `npm run bench` runs without --only: the grade-labN sections repeat what the lab sections measure. */
const DEFAULT_SECTIONS = Object.keys(SECTIONS).filter((s) => !s.startsWith('grade-'));

/** The machine's load when the bench starts: figures from a busy shared machine can be several times lower. */
function machineNote(): { cores: number; load: number; note: string } {
  const cores = os.cpus().length;
  const load = os.loadavg()[0];
  const busy = load > cores * 0.75;
  const note = `load average ${load.toFixed(1)} on ${cores} core${cores === 1 ? '' : 's'}${busy ? ': the machine is busy, so these figures may be well below what it can do; compare ratios measured in one run' : ''}`;
  return { cores, load, note };
}

function table(figures: BenchFigure[]): string {
  const rows = figures.map((f) => [f.name, f.value.toLocaleString('en-US'), f.unit, f.note ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => `${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])} ${r[2].padEnd(widths[2])}  ${r[3]}`.trimEnd())
    .join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .description('Measure the kit: simulated RPC throughput, checker speed, lab suites.')
    .option('--json', 'print one JSON object instead of a table')
    .option('--only <sections>', `comma-separated sections to run (${Object.keys(SECTIONS).join(', ')})`)
    .option(
      '--profile <section>',
      'run one section with CPU profiles on (this process and every process its grades start; written to reports/profile/<section>/) and print where the time went',
    )
    .parse();
  const opts = program.opts<{ json?: boolean; only?: string; profile?: string }>();
  const chosen = opts.profile
    ? [opts.profile]
    : opts.only
      ? opts.only.split(',').map((s) => s.trim())
      : DEFAULT_SECTIONS;
  const unknown = chosen.filter((s) => !(s in SECTIONS));
  if (unknown.length > 0) {
    console.error(`Unknown bench section(s): ${unknown.join(', ')}. Choose from: ${Object.keys(SECTIONS).join(', ')}.`);
    process.exit(2);
  }
  const machine = machineNote();
  if (!opts.json) console.log(`Node ${process.version}; ${machine.note}.`);
  const result: Record<string, BenchFigure[]> = {};
  for (const section of chosen) {
    if (!opts.json) process.stderr.write(`running ${section} ...\n`);
    if (opts.profile) {
      const dir = path.join(ROOT, 'reports', 'profile', section);
      const { result: figures, tables } = await profiled(dir, SECTIONS[section]);
      result[section] = figures;
      if (!opts.json)
        console.log(`\n## ${section} (profiled)\n${table(figures)}\n\nWhere the time went (${dir}):\n\n${tables}`);
      continue;
    }
    result[section] = await SECTIONS[section]();
    if (!opts.json) console.log(`\n## ${section}\n${table(result[section])}`);
  }
  if (opts.json)
    console.log(
      JSON.stringify({ node: process.version, date: new Date().toISOString(), machine, sections: result }, null, 2),
    );
}

void main();
