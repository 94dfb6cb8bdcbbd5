/**
 * Runs a suite's jobs in one worker thread, one after another, with a real-time limit per job. When a job
 * hangs, exits, crashes or runs out of memory, that job fails with the cause, the worker is replaced and the
 * run resumes at the next job.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CrashKind, TestOutcome } from '../tester/suite/types';
import {
  explainBootCrash,
  explainBootTimeout,
  explainBudget,
  explainExit,
  explainOutOfMemory,
  explainRejection,
  explainTimeout,
  explainUncaught,
  explainUnexpectedEnd,
} from './crash';
import type { FromWorker, Job, WorkerConfig, WorldSnapshot } from './protocol';
import type { RunRecord, TextSink } from './types';

/** How the supervisor runs jobs. */
export interface SupervisorOptions {
  readonly config: WorkerConfig;
  /** Worker heap limit, MB. */
  readonly heapLimitMb: number;
  /** Extra real time after a job's limit before the worker is stopped, ms. */
  readonly killGraceMs: number;
  /** Real time allowed for loading the suite and the implementation, ms. */
  readonly bootTimeoutMs: number;
  /** The whole run's time budget: a job gets at most the time left, and none once it is used up. */
  readonly budget?: { readonly deadline: number; readonly seconds: number };
  /** Receives everything the code under test prints, as it prints it (for --verbose). */
  readonly echo?: TextSink;
  /** Receives output the worker wrote around the capture (rare; default: dropped). */
  readonly stray?: TextSink;
  /** Called when a job starts. */
  readonly onStart?: (job: Job) => void;
  /** Called when a job has a result. */
  readonly onDone?: (job: Job, record: RunRecord) => void;
}

/** Below this much real time left in the budget, a test is not started at all. */
const MIN_BUDGET_LEFT_MS = 1000;

/** Kept of a job's printed output for the reports, characters (the end is kept). */
export const OUTPUT_TAIL_CHARS = 64 * 1024;

const BOOT_FILE = path.join(__dirname, 'worker-boot.js');

/** Why a worker ended, in the grader's words. */
interface Ending {
  readonly crash: CrashKind;
  readonly message: string;
}

type Event = { readonly kind: 'message'; readonly msg: FromWorker } | { readonly kind: 'ended'; readonly ending: Ending };

/** Runs every job and returns one record per job, in order. Never throws for anything the tests do. */
export async function runJobs(jobs: readonly Job[], options: SupervisorOptions): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  let next = 0;
  let bootFailure: Ending | undefined;
  const finish = (job: Job, record: RunRecord): void => {
    records.push(record);
    options.onDone?.(job, record);
  };
  /** Real time left in the budget for the next job (Infinity without a budget). */
  const left = (): number => (options.budget ? options.budget.deadline - Date.now() - options.killGraceMs : Infinity);
  const notRun = (job: Job): RunRecord => crashRecord(job, { crash: 'budget', message: explainBudget(options.budget?.seconds ?? 0, false) }, 0, '', undefined);
  while (next < jobs.length) {
    if (left() < MIN_BUDGET_LEFT_MS) {
      // No time for even a worker's start: the remaining tests are not run.
      const job = jobs[next++];
      options.onStart?.(job);
      finish(job, notRun(job));
      continue;
    }
    if (bootFailure) {
      const job = jobs[next++];
      options.onStart?.(job);
      finish(job, { ...crashRecord(job, bootFailure, 0, '', undefined), phase: 'load' });
      continue;
    }
    const worker = new SuiteWorker(options);
    try {
      const boot = await worker.boot();
      if (boot) {
        bootFailure = boot;
        continue;
      }
      while (next < jobs.length && worker.alive) {
        const job = jobs[next++];
        options.onStart?.(job);
        const time = left();
        if (time < MIN_BUDGET_LEFT_MS) {
          finish(job, notRun(job));
          continue;
        }
        const cut = time < job.realLimitMs;
        const record = await worker.run(cut ? { ...job, realLimitMs: Math.floor(time) } : job);
        finish(job, cut && record.crash === 'timeout' ? { ...record, crash: 'budget', message: explainBudget(options.budget?.seconds ?? 0, true) } : record);
      }
    } finally {
      await worker.stop();
    }
  }
  return records;
}

/** One worker thread and the events it produces. */
class SuiteWorker {
  private readonly worker: Worker;
  private readonly events: Event[] = [];
  private wake: (() => void) | undefined;
  private stopping = false;
  private exited = false;
  private outOfMemory = false;
  private error: Error | undefined;
  private exitCall: { code: number; where: string; world?: WorldSnapshot } | undefined;
  private pendingOutput = '';

  constructor(private readonly options: SupervisorOptions) {
    this.worker = new Worker(BOOT_FILE, {
      workerData: options.config,
      execArgv: workerExecArgv(),
      resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb },
      stdout: true,
      stderr: true,
    });
    const stray = (chunk: Buffer): void => void options.stray?.write(chunk.toString());
    this.worker.stdout.on('data', stray);
    this.worker.stderr.on('data', stray);
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'exit-called') this.exitCall = { code: msg.code, where: msg.where, world: msg.world };
      this.push({ kind: 'message', msg });
    });
    this.worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
      else this.error = err;
    });
    this.worker.on('exit', (code: number) => {
      this.exited = true;
      if (!this.stopping) this.push({ kind: 'ended', ending: this.ending(code) });
    });
  }

  /** True while the worker can take another job. */
  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  /** Waits until the suite and implementation are loaded; returns why not, if they could not be. */
  async boot(): Promise<Ending | undefined> {
    const deadline = performance.now() + this.options.bootTimeoutMs;
    for (;;) {
      const ev = await this.next(deadline - performance.now());
      if (!ev) {
        await this.stop();
        return { crash: 'timeout', message: explainBootTimeout(this.options.bootTimeoutMs) };
      }
      if (ev.kind === 'ended') return { crash: ev.ending.crash, message: explainBootCrash(ev.ending.message) };
      const m = ev.msg;
      if (m.type === 'ready') return undefined;
      if (m.type === 'output') this.pendingOutput = keepTail(this.pendingOutput + m.text);
      if (m.type === 'boot-failed') return { crash: 'error', message: m.message };
      if (m.type === 'crash') {
        await this.stop();
        return { crash: m.crash, message: explainBootCrash(explainCrash(m.crash, m.message)) };
      }
    }
  }

  /** Runs one job and returns its record; on a crash the worker is stopped (or already gone). */
  async run(job: Job): Promise<RunRecord> {
    let output = this.pendingOutput;
    this.pendingOutput = '';
    const started = performance.now();
    const deadline = started + job.realLimitMs + this.options.killGraceMs;
    this.worker.postMessage({ type: 'run', job });
    for (;;) {
      const ev = await this.next(deadline - performance.now());
      const elapsed = (): number => performance.now() - started;
      if (!ev) {
        await this.stop();
        return crashRecord(job, { crash: 'timeout', message: explainTimeout(job.realLimitMs) }, elapsed(), output, undefined);
      }
      if (ev.kind === 'ended') return crashRecord(job, ev.ending, elapsed(), output, ev.ending.crash === 'exit' ? this.exitCall?.world : undefined);
      const m = ev.msg;
      if (m.type === 'output') {
        output = keepTail(output + m.text);
        this.options.echo?.write(m.text);
      } else if (m.type === 'crash') {
        await this.stop();
        return crashRecord(job, { crash: m.crash, message: explainCrash(m.crash, m.message) }, elapsed(), output, m.world);
      } else if (m.type === 'done' && m.index === job.index) {
        return fromOutcome(m.outcome, output);
      }
    }
  }

  /** Stops the worker (a no-op once it has ended). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
  }

  /** Why the worker ended on its own. */
  private ending(code: number): Ending {
    if (this.outOfMemory) return { crash: 'out-of-memory', message: explainOutOfMemory(this.options.heapLimitMb) };
    if (this.exitCall) return { crash: 'exit', message: explainExit(this.exitCall.code, this.exitCall.where) };
    if (this.error) return { crash: 'uncaught', message: explainUncaught(`${this.error.name}: ${this.error.message}`) };
    return { crash: 'exit', message: explainUnexpectedEnd(code) };
  }

  private push(ev: Event): void {
    this.events.push(ev);
    this.wake?.();
  }

  /** The next event, or undefined when `timeoutMs` passes first. */
  private next(timeoutMs: number): Promise<Event | undefined> {
    const ready = this.events.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(undefined);
      }, Math.max(0, timeoutMs));
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(this.events.shift());
      };
    });
  }
}

/**
 * Node options for the worker: the parent's, unless they preload ts-node (the worker brings its own loader,
 * worker-boot.js, and must not pay for loading the compiler). V8 flags such as --expose-gc are process-wide
 * and reach the worker anyway.
 */
function workerExecArgv(): string[] | undefined {
  return process.execArgv.some((a) => /ts-node/.test(a)) ? [] : undefined;
}

/** The message for a crash the worker reported. */
function explainCrash(crash: CrashKind, detail: string): string {
  if (crash === 'unhandled-rejection') return explainRejection(detail);
  if (crash === 'uncaught') return explainUncaught(detail);
  return detail;
}

/** A record for a job that the grader itself had to fail. */
function crashRecord(job: Job, ending: Ending, realMs: number, output: string, world: WorldSnapshot | undefined): RunRecord {
  return {
    name: job.test,
    status: 'failed',
    seed: job.seed,
    realMs,
    virtualMs: world?.virtualMs ?? 0,
    rpcs: world?.rpcs ?? 0,
    ops: world?.ops ?? 0,
    traceHash: world?.traceHash ?? '',
    message: ending.message,
    crash: ending.crash,
    log: [],
    output,
  };
}

/** A record for a job the worker finished. */
function fromOutcome(o: TestOutcome, output: string): RunRecord {
  const message = o.crash === 'uncaught' ? explainUncaught(o.message) : o.message;
  return {
    name: o.name,
    status: o.status,
    seed: o.seed,
    realMs: o.realMs,
    virtualMs: o.virtualMs,
    rpcs: o.rpcs,
    ops: o.ops,
    traceHash: o.traceHash,
    message,
    crash: o.crash,
    log: o.log,
    output,
    historyHtml: o.historyHtml,
  };
}

function keepTail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARS ? text : text.slice(text.length - OUTPUT_TAIL_CHARS);
}
