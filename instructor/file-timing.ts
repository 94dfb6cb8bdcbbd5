/** A mocha reporter that prints the spec report, then the slowest test files with their wall and CPU time (`npm run test:slowest`). */
import * as fs from 'node:fs';
import Mocha from 'mocha';

/** How long one test file took. */
export interface FileTiming {
  /** Path from the working folder. */
  readonly file: string;
  /** Wall time from its first suite's start to the next file's (serial runs), or its tests' and hooks' time (parallel). */
  wallMs: number;
  /** CPU time of the mocha process and the child processes it waited for, or undefined (parallel runs, no /proc). */
  cpuMs: number | undefined;
  /** How many tests it ran. */
  tests: number;
}

/** A clock reading: wall milliseconds and CPU milliseconds (this process and its reaped children). */
interface Reading {
  readonly wallMs: number;
  readonly cpuMs: number | undefined;
}

/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of /proc/self/stat's CPU fields. */
const TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds this process and the children it has waited for have used, from /proc/self/stat (utime,
 * stime, cutime, cstime); undefined where there is no /proc (a grade runs in child processes, so the process's
 * own time alone would say little).
 */
export function cpuMsWithChildren(): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command name's closing parenthesis start at field 3 (state); utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Reads both clocks now. */
function readClocks(): Reading {
  return { wallMs: performance.now(), cpuMs: cpuMsWithChildren() };
}

/** The `n` slowest files, slowest first, as a table with a header line. */
export function slowestTable(timings: readonly FileTiming[], n: number): string {
  const rows = [...timings].sort((a, b) => b.wallMs - a.wallMs).slice(0, n);
  const total = timings.reduce((sum, t) => sum + t.wallMs, 0);
  const cpuTotal = timings.every((t) => t.cpuMs !== undefined)
    ? timings.reduce((sum, t) => sum + (t.cpuMs ?? 0), 0)
    : undefined;
  const sec = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const lines = [
    `The ${rows.length} slowest of ${timings.length} test files (wall s, CPU s with child processes, tests):`,
    ...rows.map(
      (t) => `${sec(t.wallMs).padStart(8)} ${sec(t.cpuMs).padStart(8)} ${String(t.tests).padStart(5)}  ${t.file}`,
    ),
    `${sec(total).padStart(8)} ${sec(cpuTotal).padStart(8)} ${' '.repeat(5)}  all files`,
  ];
  return lines.join('\n');
}

/** Collects each file's time as mocha runs it: clock readings at file changes in a serial run, durations in a parallel one. */
class FileClock {
  readonly timings = new Map<string, FileTiming>();
  private current: { file: string; at: Reading } | undefined;
  private readonly parallel: boolean;

  constructor(parallel: boolean) {
    this.parallel = parallel;
  }

  /** The timing record of a file, made on first use. */
  private record(file: string): FileTiming {
    let t = this.timings.get(file);
    if (!t) {
      t = { file, wallMs: 0, cpuMs: this.parallel ? undefined : 0, tests: 0 };
      this.timings.set(file, t);
    }
    return t;
  }

  /** A suite or runnable of `file` starts: in a serial run, the previous file's time ends here. */
  enter(file: string | undefined): void {
    if (this.parallel || file === undefined || file === this.current?.file) return;
    this.close();
    this.record(file);
    this.current = { file, at: readClocks() };
  }

  /** A test ended: counted, and in a parallel run its duration (and its hooks', through `hookEnded`) is the file's time. */
  testEnded(file: string | undefined, durationMs: number | undefined): void {
    if (file === undefined) return;
    const t = this.record(file);
    t.tests++;
    if (this.parallel) t.wallMs += durationMs ?? 0;
  }

  /** A hook ended (parallel runs add its duration to its file's time). */
  hookEnded(file: string | undefined, durationMs: number | undefined): void {
    if (this.parallel && file !== undefined) this.record(file).wallMs += durationMs ?? 0;
  }

  /** Ends the current file's time (serial runs). */
  close(): void {
    if (!this.current) return;
    const now = readClocks();
    const t = this.record(this.current.file);
    t.wallMs += now.wallMs - this.current.at.wallMs;
    t.cpuMs =
      now.cpuMs === undefined || this.current.at.cpuMs === undefined
        ? undefined
        : (t.cpuMs ?? 0) + now.cpuMs - this.current.at.cpuMs;
    this.current = undefined;
  }
}

/** What `--reporter-option` accepts: `top=N` files to print (default 20), `json=path` to write every file's timing to. */
interface TimingOptions {
  /** How many files to print. */
  readonly top: number;
  /** Where to write the whole list as JSON, if anywhere. */
  readonly json: string | undefined;
}

/** The reporter options, checked. */
function timingOptions(raw: Record<string, string> | undefined): TimingOptions {
  const top = Number(raw?.top ?? 20);
  if (!Number.isInteger(top) || top < 1) {
    throw new Error(`--reporter-option top=${raw?.top}: expected a whole number of files to print, 1 or more`);
  }
  return { top, json: raw?.json };
}

/** The spec reporter, followed by the slowest test files. */
class FileTimingReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
    super(runner, options);
    const opts = timingOptions(options.reporterOptions as Record<string, string> | undefined);
    const parallel = (runner as { isParallelMode?: () => boolean }).isParallelMode?.() === true;
    const clock = new FileClock(parallel);
    const C = Mocha.Runner.constants;
    runner.on(C.EVENT_SUITE_BEGIN, (s: Mocha.Suite) => clock.enter(s.file));
    runner.on(C.EVENT_HOOK_BEGIN, (h: Mocha.Hook) => clock.enter(h.file));
    runner.on(C.EVENT_TEST_BEGIN, (t: Mocha.Test) => clock.enter(t.file));
    runner.on(C.EVENT_HOOK_END, (h: Mocha.Hook) => clock.hookEnded(h.file, h.duration));
    runner.on(C.EVENT_TEST_END, (t: Mocha.Test) => clock.testEnded(t.file, t.duration));
    runner.once(C.EVENT_RUN_END, () => {
      clock.close();
      const timings = [...clock.timings.values()].map((t) => ({ ...t, file: relative(t.file) }));
      console.log(`\n${slowestTable(timings, opts.top)}`);
      if (parallel) console.log('(a parallel run: each file’s tests and hooks added up; no CPU time per file)');
      if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify(timings, null, 2)}\n`);
    });
  }
}

/** A path relative to the working folder, with forward slashes. */
function relative(file: string): string {
  return file.startsWith(`${process.cwd()}/`) ? file.slice(process.cwd().length + 1) : file;
}

// Mocha loads a reporter as the module itself; the helpers stay reachable for the kit's tests.
module.exports = Object.assign(FileTimingReporter, { slowestTable, cpuMsWithChildren });
