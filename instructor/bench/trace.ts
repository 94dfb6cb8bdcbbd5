/** Trace figures: recording's cost off (against the code before the recorder) and on, page size, minimization time on planted bugs, and a 100,000-event page's render time. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tracePage } from '../../grader/reports/trace';
import { materialiseMutant, removeMutant } from '../../solutions/mutants';
import { failureSignature, minimizeFaults, type LabSuite, type RunOptions } from '../../suite';
import { mutants } from '../../solutions/lab2/mutants';
import type { TestOutcome } from '../../suite/types';
import { realNow } from '../../world';
import { launchChromium, syntheticTrace } from '../browser';
import type { BenchFigure } from './figure';

const ROOT = path.join(__dirname, '..', '..');
/** The folders the lab 2 suite ran from at the commit before the recorder (the kit's layout then), copied for the baseline. */
const BASELINE_PATHS = ['tester', 'labrpc', 'lab2', 'solutions/lab2'];

type Run = (
  test: LabSuite<unknown>['tests'][number],
  impl: unknown,
  seed: number,
  options?: RunOptions,
) => Promise<TestOutcome>;

/** A copy of the lab 2 suite and solution: this tree's, or the baseline's in `dir`. */
interface Copy {
  readonly suite: LabSuite<unknown>;
  readonly impl: unknown;
  readonly run: Run;
}

function load(dir: string): Copy {
  const { suite } = require(path.join(dir, 'lab2/test/suite')) as { suite: LabSuite<unknown> };
  // The baseline predates the layout by audience: its suite contract lived in tester/suite/.
  const contract = fs.existsSync(path.join(dir, 'suite', 'run.ts')) ? 'suite' : 'tester/suite';
  const { runNamedTest } = require(path.join(dir, contract)) as { runNamedTest: Run };
  return { suite, impl: suite.load(path.join(dir, 'solutions/lab2')), run: runNamedTest };
}

/** The commit just before the recorder was added (today's code path), or undefined outside a git checkout. */
function baselineCommit(): string | undefined {
  try {
    const added = execFileSync(
      'git',
      ['log', '--follow', '--diff-filter=A', '--format=%H', '--', 'world/recorder.ts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')
      .pop();
    return added ? `${added}^` : undefined;
  } catch {
    return undefined;
  }
}

/** Extracts the baseline's lab 2 files next to this tree (so that node_modules resolves) and returns the folder. */
function extractBaseline(commit: string): string {
  const dir = path.join(ROOT, 'instructor', 'bench', `.baseline-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', commit, ...BASELINE_PATHS], {
    cwd: ROOT,
    maxBuffer: 1 << 28,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return dir;
}

/** Real ms of the whole lab 2 suite with seed 1 (and the traces, when recording). */
async function suiteTime(c: Copy, record: boolean): Promise<{ ms: number; traces: TestOutcome[] }> {
  const start = realNow();
  const traces: TestOutcome[] = [];
  for (const test of c.suite.tests) {
    const o = await c.run(test, c.impl, 1, { record });
    if (o.status !== 'passed') throw new Error(`bench: ${test.name} failed on the solution: ${o.message}`);
    if (o.trace) traces.push(o);
  }
  return { ms: realNow() - start, traces };
}

/** Real ms to minimize the faults of lab 2 mutant `name` failing `testName` on `seed`, and what it found. */
async function minimizeTime(c: Copy, name: string, testName: string, seed: number): Promise<BenchFigure> {
  const mutant = mutants.find((m) => m.name === name);
  const test = c.suite.tests.find((t) => t.name === testName);
  if (!mutant || !test) throw new Error(`bench: no mutant ${name} or test ${testName}`);
  const dir = materialiseMutant(path.join(ROOT, 'solutions/lab2'), mutant);
  try {
    const impl = c.suite.load(dir);
    const first = await c.run(test, impl, seed, { faults: {} });
    const target = failureSignature(first);
    const start = realNow();
    const m = await minimizeFaults(
      first.faults ?? [],
      async (allowed) => {
        const r = await c.run(test, impl, seed, { faults: { allowed } });
        return failureSignature(r) === target && (r.faults ?? true);
      },
      realNow() + 20_000,
    );
    return {
      name: `minimize: lab2 mutant ${name}, ${testName} seed ${seed}`,
      value: Math.round(realNow() - start),
      unit: 'real ms',
      note: `${m.replays} replays; ${m.passesWithout ? `fails with ${m.kept.length} of ${m.total} faults` : 'fails with no fault'}${m.complete ? '' : ' (stopped at the 20 s limit)'}`,
    };
  } finally {
    removeMutant(dir);
  }
}

/** How long headless Chromium takes to draw a 100,000-event trace page (the page's own measure, median of 3). */
export async function renderTime(): Promise<BenchFigure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-render-'));
  const browser = await launchChromium(path.join(dir, 'profile'));
  try {
    const trace = syntheticTrace(25_000);
    const file = path.join(dir, 'big.html');
    fs.writeFileSync(
      file,
      tracePage({
        lab: 'lab2',
        target: 'solution',
        description: '',
        run: {
          name: 'TestBig',
          seed: 1,
          status: 'failed',
          realMs: 0,
          virtualMs: 0,
          rpcs: 0,
          ops: 0,
          traceHash: '',
          log: [],
          message: '',
          output: '',
          trace,
        },
      }),
    );
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 800 });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-render-ms]', { timeout: 60_000 });
      ms.push(Number(await page.$eval('body', (b) => b.getAttribute('data-render-ms'))));
      await page.close();
    }
    const value = median(ms);
    return {
      name: 'trace page: 100,000 events drawn in headless Chromium',
      value,
      unit: 'ms',
      note: `${value < 2000 ? 'meets' : 'MISSES'} the target of < 2,000 ms (parse, index and first draw; ${(fs.statSync(file).size / 1e6).toFixed(1)} MB page)`,
    };
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The median of `xs`. */
function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** The figures; `rounds` runs of each variant, in an order that rotates every round (the machine's load drifts). */
export async function benchTrace(rounds = 3): Promise<BenchFigure[]> {
  const current = load(ROOT);
  const commit = baselineCommit();
  const baseDir = commit ? extractBaseline(commit) : undefined;
  try {
    const base = baseDir ? load(baseDir) : undefined;
    const times = { base: [] as number[], off: [] as number[], on: [] as number[] };
    let sample: TestOutcome[] = [];
    // Warm up compilation and the JIT of both copies.
    await suiteTime(current, false);
    if (base) await suiteTime(base, false);
    const variants: Array<keyof typeof times> = base ? ['base', 'off', 'on'] : ['off', 'on'];
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < variants.length; j++) {
        const v = variants[(i + j) % variants.length];
        const r = await suiteTime(v === 'base' && base ? base : current, v === 'on');
        times[v].push(r.ms);
        if (v === 'on') sample = r.traces;
      }
    }
    const sums = { base: median(times.base), off: median(times.off), on: median(times.on) };
    const figures: BenchFigure[] = [];
    const per = (ms: number): number => Math.round(ms);
    if (base) {
      figures.push({
        name: 'lab2: whole suite, recording off ÷ the code before the recorder',
        value: Math.round((sums.off / sums.base) * 1000) / 1000,
        unit: 'ratio',
        note: `medians of ${rounds} runs each in rotating order, in-process: ${per(sums.off)} ms now, ${per(sums.base)} ms at ${commit}; aim ≤ 1.05 (the normal run must not pay for recording)`,
      });
    }
    figures.push({
      name: 'lab2: whole suite, recording on ÷ off (what a failing test’s replay costs)',
      value: Math.round((sums.on / sums.off) * 1000) / 1000,
      unit: 'ratio',
      note: `${per(sums.on)} ms with every test recorded, ${per(sums.off)} ms without`,
    });
    const events = sample.reduce((n, o) => n + (o.trace?.events.length ?? 0), 0);
    const bytes = sample.reduce(
      (n, o) =>
        n +
        (o.trace
          ? tracePage({ lab: 'lab2', target: 'solution', description: '', run: { ...o, output: '', trace: o.trace } })
              .length
          : 0),
      0,
    );
    figures.push({
      name: 'trace page size per 1,000 events (lab2 suite)',
      value: Math.round(bytes / events),
      unit: 'KB',
      note: `${events.toLocaleString('en-US')} events over ${sample.length} pages; a page keeps at most 100,000 events`,
    });
    figures.push(await minimizeTime(current, 'no-retry', 'TestManyClientsUnreliable', 1));
    figures.push(await minimizeTime(current, 'errmaybe-means-held', 'TestAcquireTimeoutUnreliable', 1));
    figures.push(await renderTime());
    return figures;
  } finally {
    if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
  }
}
