/** What the grader prints while it runs: progress, one line per test, failure details and the score. */
import pc from 'picocolors';
import type { Colors } from '../suite/colors';
import path from 'node:path';
import { isTodo } from '../suite/failure';
import { describeMinimalFaults } from '../suite/minimize';
import { crashLabel, failureLabel } from './crash';
import {
  DEFAULT_MINIMIZE_SEC,
  firstLine,
  minimalTraceFileName,
  pts,
  REAL_TIME_NOTE,
  replayCommand,
  rerunCommand,
  secs,
  traceFileName,
} from './format';
import { controlsShown } from './reports/text';
import { formatProblem, problemsHeadline, TypeProblem } from './typecheck';
import type { GradeResult, LabResult, Target, TestResult, TextSink } from './types';

/** Lines of a failing test's log and of its printed output shown on the console (the reports keep more). */
const LOG_LINES = 10;
const OUTPUT_LINES = 20;

/** What a lab's header says about the run. */
export interface LabHeader {
  readonly lab: string;
  readonly title: string;
  readonly target: Target;
  /** Folder graded, relative to the current directory. */
  readonly dir: string;
  readonly tests: number;
  readonly runs: number;
  readonly seed?: number;
  readonly seedBase?: number;
}

/** What the figures on each test's line are. */
export const LINE_LEGEND =
  'Each test: real time (virtual time simulated), #RPCs messages sent, #Ops client operations completed, points.';

/** When results go to a log rather than a terminal, a line at least this often (ms) says what is still running. */
export const HEARTBEAT_MS = 10_000;

/** Prints to `out` (results) and `progress` (a terminal, or nothing). */
export class ConsoleReporter {
  private readonly out: TextSink;
  private readonly progressSink: TextSink | undefined;
  /** --verbose: the code's output was already shown as it ran, so a failure does not print it again. */
  private readonly echoed: boolean;
  private readonly c: Colors;
  private progressShown = false;
  private ruleWidth = 60;
  /** Tests not yet reported: when their first run began (performance.now()) and how many runs are in progress. */
  private readonly running = new Map<string, { since: number; active: number }>();
  private reported = 0;
  private total = 0;
  private lastLineAt = performance.now();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(out: TextSink, progressSink: TextSink | undefined, color: boolean, echoed = false) {
    this.out = out;
    this.progressSink = progressSink;
    this.echoed = echoed;
    this.c = pc.createColors(color);
  }

  /** The lab's title and how it is being run. */
  labStart(h: LabHeader, nameWidth: number): void {
    const c = this.c;
    const whose = h.target === 'solution' ? `the reference solution in ${h.dir}/` : `your code in ${h.dir}/`;
    let seeds: string;
    if (h.seedBase !== undefined)
      seeds = `${h.runs} runs per test, seeds derived from base ${h.seedBase} (repeat this set with --runs ${h.runs} --seed ${h.seedBase})`;
    else if (h.seed !== undefined) seeds = `seed ${h.seed} for every test`;
    else seeds = 'a fresh seed per test';
    this.line(c.bold(`${h.lab}: ${h.title}`));
    this.line(c.dim(`Grading ${whose} · ${h.tests} test${h.tests === 1 ? '' : 's'} · ${seeds}`));
    this.line(c.dim(LINE_LEGEND));
    this.ruleWidth = Math.min(100, nameWidth + 60);
    this.line(c.dim('─'.repeat(this.ruleWidth)));
    this.total = h.tests;
    this.reported = 0;
    // A log (CI, a pipe) has no progress line: results come in the suite's order, so a slow test would leave it silent.
    if (!this.out.isTTY && this.heartbeat === undefined)
      this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS / 2).unref();
  }

  /** In a log: a line naming the tests still running when nothing was printed for HEARTBEAT_MS. */
  private beat(): void {
    const now = performance.now();
    const active = [...this.running].filter(([, r]) => r.active > 0);
    if (now - this.lastLineAt < HEARTBEAT_MS || active.length === 0) return;
    const list = active.map(([test, r]) => `${test} (${Math.round((now - r.since) / 1000)} s)`);
    this.line(this.c.dim(`    … still running ${list.join(', ')}; ${this.reported} of ${this.total} tests reported`));
  }

  /** A run of `test` ended (its result is printed later, in the suite's order). */
  runEnded(test: string): void {
    const r = this.running.get(test);
    if (r) r.active--;
  }

  /** The type errors in the graded files, before any test: the tests run anyway, as JavaScript. */
  typeProblems(list: readonly TypeProblem[]): void {
    const c = this.c;
    this.line(c.yellow(c.bold(problemsHeadline(list))));
    this.line(
      c.yellow(
        'The tests run anyway (as JavaScript), but a type error is often why a test below fails: fix these first.',
      ),
    );
    for (const p of list) this.line(`  ${formatProblem(p)}`);
    this.line(c.dim(`(npm run typecheck lists every type error in the project.)`));
    this.line(c.dim('─'.repeat(this.ruleWidth)));
  }

  /** Shows `[i/n] TestX …` on the progress terminal. */
  progress(done: number, total: number, test: string, detail = ''): void {
    const r = this.running.get(test) ?? { since: performance.now(), active: 0 };
    r.active++;
    this.running.set(test, r);
    if (!this.progressSink) return;
    this.progressSink.write(`\r\x1b[K${this.c.dim(`[${done}/${total}] ${test}${detail ? ` (${detail})` : ''} …`)}`);
    this.progressShown = true;
  }

  /** One test's result line, and for a failure the reason, seeds, replay commands and trace pages (in `reportDir`). */
  testDone(t: TestResult, lab: string, target: Target, nameWidth: number, reportDir?: string): void {
    const c = this.c;
    this.reported++;
    this.running.delete(t.name);
    const dots = c.dim(` ${'.'.repeat(Math.max(2, nameWidth - t.name.length + 2))} `);
    const runs = t.runs.length;
    const status = t.status === 'passed' ? c.green('passed') : c.red(c.bold('FAILED'));
    const runInfo =
      runs > 1
        ? t.status === 'passed'
          ? `  ${runs}/${runs} runs`
          : `  ${t.failingSeeds.length}/${runs} runs failed`
        : '';
    const figures = t.realTime
      ? `${secs(t.realMs)}  #Ops ${t.ops}`
      : `${secs(t.realMs)} (virtual ${secs(t.virtualMs)})  #RPCs ${t.rpcs}  #Ops ${t.ops}`;
    const points = `${pts(t.points)}/${pts(t.maxPoints)}`;
    const label = failureLabel(t.runs);
    this.line(
      `${t.name}${dots}${status}${runInfo}  ${figures}  ${t.status === 'passed' ? points : c.red(points)}${label ? c.red(`  [${label}]`) : ''}`,
    );
    if (t.status === 'passed') return;
    const shown = t.runs.find((r) => r.status === 'failed') ?? t.runs[0];
    if (t.runs.every((r) => r.status === 'passed' || isTodo(r.message))) {
      // Code not written yet: one line says what to write next (no seed, trace or diagnosis: nothing ran).
      this.line(`    ${controlsShown(todoLine(shown.message))}`);
      return;
    }
    this.block(t.message, 4);
    if (shown.log.length > 0) {
      this.line(
        c.dim(
          `    Test log${shown.log.length > LOG_LINES ? ` (last ${LOG_LINES} of ${shown.log.length} lines)` : ''}:`,
        ),
      );
      this.block(shown.log.slice(-LOG_LINES).join('\n'), 6, true);
    }
    const printed = shown.output.replace(/\n$/, '');
    if (printed && this.echoed) this.line(c.dim('    (What your code printed is shown above, as it ran.)'));
    else if (printed) {
      const lines = printed.split('\n');
      this.line(
        c.dim(
          `    Your code printed${lines.length > OUTPUT_LINES ? ` (last ${OUTPUT_LINES} of ${lines.length} lines)` : ''}:`,
        ),
      );
      this.block(lines.slice(-OUTPUT_LINES).join('\n'), 6, true);
    }
    if (t.realTime) {
      this.realTimeRerun(t, lab, target);
      return;
    }
    if (runs === 1) {
      this.line(`    ${c.yellow(`seed=${t.seed}`)}  replay: ${c.cyan(replayCommand(lab, t.name, t.seed, target))}`);
    } else {
      this.line(`    Failing seeds (${t.failingSeeds.length} of ${runs} runs):`);
      for (const r of t.runs.filter((x) => x.status === 'failed')) {
        const why = crashLabel(r.crash) || firstLine(r.message);
        this.line(
          `      ${c.yellow(`seed=${r.seed}`)}  ${c.cyan(replayCommand(lab, t.name, r.seed, target))}  ${c.dim(truncate(controlsShown(why), 80))}`,
        );
      }
    }
    this.tracePages(t, reportDir);
  }

  /** A failed simulated test's trace page, and its smallest failing schedule or how to ask for one. */
  private tracePages(t: TestResult, reportDir: string | undefined): void {
    const c = this.c;
    const runs = t.runs.length;
    const traced = t.runs.find((r) => r.status === 'failed' && r.trace);
    if (traced && reportDir !== undefined) {
      const page = `${reportDir}/${traceFileName(t.name, traced.seed)}`;
      this.line(
        `    trace${runs > 1 ? ` (seed=${traced.seed})` : ''}: ${c.cyan(page)}  ${c.dim('(every message, fault and print of the replay)')}`,
      );
      const small = traced.minimalReplay
        ? ` Trace of this smallest failing schedule: ${reportDir}/${minimalTraceFileName(t.name, traced.seed)}`
        : '';
      if (traced.minimal) this.block(`${describeMinimalFaults(traced.minimal, 3)}${small}`, 4);
      else
        this.line(
          c.dim(
            `    (Add --minimize to the replay command to find the fewest network faults it still fails with; up to ${DEFAULT_MINIMIZE_SEC} s.)`,
          ),
        );
    }
  }

  /** A failed real-time test: which runs failed, and the command that runs it again (no seed: timing is real). */
  private realTimeRerun(t: TestResult, lab: string, target: Target): void {
    const c = this.c;
    if (t.runs.length > 1) {
      this.line(`    Failing runs (${t.failingSeeds.length} of ${t.runs.length}):`);
      t.runs.forEach((r, i) => {
        if (r.status === 'failed')
          this.line(
            `      run ${i + 1}  ${c.dim(truncate(controlsShown(crashLabel(r.crash) || firstLine(r.message)), 80))}`,
          );
      });
    }
    this.line(
      `    rerun: ${c.cyan(rerunCommand(lab, t.name, target, t.runs.length))}  ${c.dim(`(${REAL_TIME_NOTE})`)}`,
    );
  }

  /** The lab's score line and where the reports are. */
  labEnd(r: LabResult): void {
    const c = this.c;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.running.clear();
    this.clearProgress();
    this.line(c.dim('─'.repeat(this.ruleWidth)));
    const failed = r.tests.filter((t) => t.status === 'failed').length;
    const colour = r.score === r.maxScore ? c.green : r.score === 0 ? c.red : c.yellow;
    this.line(
      c.bold(colour(`Score: ${pts(r.score)}/${pts(r.maxScore)}`)) +
        (failed > 0 ? `   (${failed} of ${r.tests.length} tests failed)` : '   (every test passed)'),
    );
    if (r.reportDir) this.line(c.dim(`Reports: ${r.reportDir}/index.html (also results.json, junit.xml, summary.md)`));
  }

  /** After `grade all`: each lab's score and the grand total. */
  grandTotal(g: GradeResult): void {
    const c = this.c;
    this.line('');
    this.line(c.bold('All labs'));
    const w = Math.max(...g.labs.map((l) => l.lab.length));
    for (const l of g.labs)
      this.line(`  ${l.lab.padEnd(w)}  ${pts(l.score)}/${pts(l.maxScore)}${l.passed ? '' : c.red('  (failures)')}`);
    const colour = g.score === g.maxScore ? c.green : c.yellow;
    this.line(c.bold(colour(`Total: ${pts(g.score)}/${pts(g.maxScore)}`)));
  }

  /** Removes the progress line, if one is shown. */
  clearProgress(): void {
    if (this.progressShown && this.progressSink) this.progressSink.write('\r\x1b[K');
    this.progressShown = false;
  }

  /** A line of results (clears the progress line first, when both go to the same terminal). */
  line(text: string): void {
    this.clearProgress();
    this.lastLineAt = performance.now();
    this.out.write(`${text}\n`);
  }

  private block(text: string, indent: number, dim = false): void {
    const pad = ' '.repeat(indent);
    for (const l of controlsShown(text).split('\n')) this.line(dim ? this.c.dim(pad + l) : pad + l);
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** A TODO failure in one line: the message without its error name, and where it was thrown ("lab2/client.ts:27"). */
function todoLine(message: string): string {
  const [first, ...rest] = message.split('\n');
  const frame = rest.map((l) => /\(?([^()\s]+\.ts):(\d+):\d+\)?$/.exec(l.trim())).find((m) => m !== null);
  const where = frame ? ` (${path.relative(process.cwd(), frame[1])}:${frame[2]})` : '';
  return `${first.replace(/^\s*[A-Za-z]*Error: /, '')}${where}`;
}

/** What begins each line the code under test prints, shown with --verbose: the grader never begins a line so. */
export const CODE_OUTPUT_MARK = '[your code] ';

/**
 * A sink that passes the code under test's output to `sink` with each line marked (CODE_OUTPUT_MARK) and carriage
 * returns and terminal escapes shown as symbols, so that no line of it can pass for one of the grader's (a verdict,
 * a score) nor overwrite one.
 */
export function markedCodeOutput(sink: TextSink): TextSink {
  let atLineStart = true;
  return {
    isTTY: sink.isTTY,
    write(text: string): unknown {
      const shown = controlsShown(text);
      let out = '';
      for (const piece of shown.split(/(?<=\n)/)) {
        if (piece === '') continue;
        out += (atLineStart ? CODE_OUTPUT_MARK : '') + piece;
        atLineStart = piece.endsWith('\n');
      }
      return sink.write(out);
    },
  };
}
