/**
 * Runs a suite's jobs in sandboxed child processes (`jobs` lanes side by side, each process running its jobs one
 * after another; a lane runs `codeElsewhere` jobs in a process of its own that never loads the code under test), with
 * a time limit per job (for a simulated test, CPU time where the OS shows it). When a job hangs, exits, crashes or runs out of memory, that
 * job fails with the cause, its process is replaced and the lane resumes at its next job.
 */
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { CrashKind, TestOutcome } from '../suite/types';
import { weighProcess } from '../suite/proc-weigh';
import {
  explainBootCrash,
  explainBootTimeout,
  explainBudget,
  explainExit,
  explainForgedVerdict,
  explainStrayVerdict,
  explainOutOfMemory,
  explainRejection,
  explainTimeout,
  explainUncaught,
  explainUnexpectedEnd,
  explainPackageDenied,
  explainDiskOverrun,
  explainResidentOverrun,
} from './crash';
import { DiskWatch, SCRATCH_ENTRY_LIMIT, SCRATCH_LIMIT_MB, type DiskOverrun } from './disk-limit';
import { MemoryWatch, residentLimitMb, type MemoryOverrun } from './memory-limit';
import {
  signVerdict,
  type FromWorker,
  type Job,
  type SandboxInit,
  type ToWorker,
  type WorkerConfig,
  type WorldSnapshot,
} from './protocol';
import { Mailbox, readChannel } from './channel';
import { processCpuMs, starvedDeadline, type StarvedRun } from './cpu-time';
import { withTrace, type DiagnosisOptions } from './diagnose';
import { ExclusiveGate, inLanes, type WorkQueue } from './lanes';
import { prepareSandbox, type Sandbox } from './sandbox';
import type { RunRecord, TextSink } from './types';

/** HMAC-SHA256 with node's crypto (the grader's side never loads student code). */
const nodeHmacSha256 = (key: Uint8Array, data: string): string =>
  crypto.createHmac('sha256', key).update(data).digest('hex');

/** What a test's output says in place of lines an earlier test printed after it ended. */
const STRAY_OUTPUT_NOTE = '[grader: lines printed by an earlier test after it ended are left out]';

/** How the supervisor runs jobs. */
export interface SupervisorOptions {
  readonly config: WorkerConfig;
  /** Where compile caches live (default node_modules/.cache/kvlabs-grader; batch grading gives each submission its own). */
  readonly cacheRoot?: string;
  /** Heap limit of the test process, MB. */
  readonly heapLimitMb: number;
  /** Whether the test processes load from the tree only the files its manifest lists (Classroom and batch grading). */
  readonly kitManifest?: boolean;
  /** What the scratch folder of the code under test may hold, MB (default SCRATCH_LIMIT_MB). */
  readonly scratchLimitMb?: number;
  /** False only to measure what node's permission model costs (npm run bench). */
  readonly permissions?: boolean;
  /** `npm run bench -- --profile` only: where each process writes its CPU profile (GradeOptions.cpuProfileDir). */
  readonly cpuProfileDir?: string;
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
  /** Test processes run side by side (default 1); each job still runs alone in its process. */
  readonly jobs?: number;
  /** Jobs that run in a test process started for them and ended after them (no other job shares it). */
  readonly ownProcess?: (job: Job) => boolean;
  /** Jobs whose code under test runs in processes of their own: they run in test processes that never load it. */
  readonly codeElsewhere?: (job: Job) => boolean;
  /** Jobs that must run with no other job beside them (real-time tests, which other load would make flaky). */
  readonly exclusive?: (job: Job) => boolean;
  /** Called when a job starts. */
  readonly onStart?: (job: Job) => void;
  /** Called when a job has a result. */
  readonly onDone?: (job: Job, record: RunRecord) => void;
  /**
   * Whether a failed job is run once more with recording on, for its trace page (asked only when the test process
   * is still alive: a crash that took the process down leaves no signed outcome to record).
   */
  readonly replayForTrace?: (job: Job, record: RunRecord) => boolean;
  /** Real time for minimizing a traced failure's faults, ms (0 or undefined: no minimization). */
  readonly minimizeMs?: number;
}

/** Below this much real time left in the budget, a test is not started at all. */
const MIN_BUDGET_LEFT_MS = 1000;

/** Kept of a job's printed output for the reports, characters (the end is kept). */
export const OUTPUT_TAIL_CHARS = 64 * 1024;

const BOOT_FILE = path.join(__dirname, 'worker-boot.js');
const PRELOAD_FILE = path.join(__dirname, 'ts-preload.js');

/** How long a profiled process may take to end on its own and write its profile before it is killed, ms. */
const PROFILE_EXIT_MS = 5000;

/**
 * The node flags that make a process write its CPU profile when it exits, into `dir`'s subfolder `kind` (none when
 * not profiling). A profiled process is ended by closing its input, not killed: a killed process writes nothing.
 */
function profileFlags(dir: string | undefined, kind: string): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, kind)}`];
}

/** What a test process loads: the code under test ('code'), or only the suite ('suite', for codeElsewhere jobs). */
type WorkerKind = 'code' | 'suite';

/** Why a worker ended, in the grader's words. */
interface Ending {
  readonly crash: CrashKind;
  readonly message: string;
}

type Event =
  { readonly kind: 'message'; readonly msg: FromWorker } | { readonly kind: 'ended'; readonly ending: Ending };

/** Runs every job and returns one record per job, in order. Never throws for anything the tests do. */
export async function runJobs(jobs: readonly Job[], options: SupervisorOptions): Promise<RunRecord[]> {
  const sandbox = prepareSandbox(options.config, {
    heapLimitMb: options.heapLimitMb,
    kitManifest: options.kitManifest,
    cacheRoot: options.cacheRoot,
    permissions: options.permissions,
  });
  const run = new JobRun(jobs, options, sandbox);
  try {
    await inLanes(jobs, options.jobs ?? 1, (queue) => run.lane(queue));
  } finally {
    sandbox.dispose();
  }
  return run.records();
}

/** What the lanes of one runJobs call share: the results by job position, the budget, the gate, a failed boot. */
class JobRun {
  private readonly options: SupervisorOptions;
  private readonly sandbox: Sandbox;
  /** By job position: lanes finish out of order. */
  private readonly results: Array<RunRecord | undefined>;
  private readonly gate: ExclusiveGate;
  private readonly diagnosis: DiagnosisOptions;
  /**
   * By kind, set when a test process of that kind could not boot (the suite, or for 'code' the code under test, did
   * not load): every job of that kind left fails with it, none starts a process.
   */
  private readonly bootFailure: Partial<Record<WorkerKind, Ending>> = {};

  constructor(jobs: readonly Job[], options: SupervisorOptions, sandbox: Sandbox) {
    this.options = options;
    this.sandbox = sandbox;
    this.results = jobs.map(() => undefined);
    this.gate = new ExclusiveGate(options.exclusive ?? (() => false));
    this.diagnosis = {
      replayForTrace: options.replayForTrace,
      minimizeMs: options.minimizeMs,
      hasTime: (ms) => this.left() >= MIN_BUDGET_LEFT_MS + ms,
    };
  }

  /** The records of the jobs that ran, in the jobs' order. */
  records(): RunRecord[] {
    return this.results.filter((r): r is RunRecord => r !== undefined);
  }

  /**
   * One lane: takes the next job in order until none is left, each in the lane's test process of the job's kind
   * (started at the first job of that kind, and again after a crash).
   */
  async lane(queue: WorkQueue<Job>): Promise<void> {
    const workers: Partial<Record<WorkerKind, SuiteWorker>> = {};
    try {
      for (let t = queue.take(); t; t = queue.take()) {
        const kind = this.kindOf(t.item);
        if (this.left() < MIN_BUDGET_LEFT_MS || this.bootFailure[kind]) {
          // No time for even a worker's start (the remaining tests are not run), or no worker of its kind can boot.
          this.skip(t.item, t.index, kind);
          continue;
        }
        if (this.options.ownProcess?.(t.item)) {
          await this.runInOwnProcess(t.item, t.index, kind);
          continue;
        }
        let worker = workers[kind];
        if (!worker?.alive) {
          await worker?.stop();
          worker = workers[kind] = new SuiteWorker(this.options, this.sandbox, kind);
          const boot = await worker.boot();
          if (boot) {
            this.bootFailure[kind] = boot;
            this.skip(t.item, t.index, kind);
            continue;
          }
        }
        await this.runOne(worker, t.item, t.index);
      }
    } finally {
      await Promise.all(Object.values(workers).map((w) => w.stop()));
    }
  }

  /** Which kind of test process runs `job`. */
  private kindOf(job: Job): WorkerKind {
    return this.options.codeElsewhere?.(job) ? 'suite' : 'code';
  }

  /** Runs one job in a test process of its own, ended after it (the lane's own processes wait meanwhile). */
  private async runInOwnProcess(job: Job, index: number, kind: WorkerKind): Promise<void> {
    const worker = new SuiteWorker(this.options, this.sandbox, kind);
    try {
      const boot = await worker.boot();
      if (boot) {
        this.options.onStart?.(job);
        this.finish(job, index, { ...crashRecord(job, boot, 0, '', undefined), phase: 'load' });
        return;
      }
      await this.runOne(worker, job, index);
    } finally {
      await worker.stop();
    }
  }

  /** Real time left in the budget for the next job (Infinity without a budget). */
  private left(): number {
    const { budget, killGraceMs } = this.options;
    return budget ? budget.deadline - Date.now() - killGraceMs : Infinity;
  }

  private finish(job: Job, index: number, record: RunRecord): void {
    this.results[index] = record;
    this.options.onDone?.(job, record);
  }

  /** A job that is not run: out of budget, or a test process of its kind could not boot. */
  private skip(job: Job, index: number, kind: WorkerKind): void {
    this.options.onStart?.(job);
    const ending = this.left() < MIN_BUDGET_LEFT_MS ? undefined : this.bootFailure[kind];
    this.finish(
      job,
      index,
      ending ? { ...crashRecord(job, ending, 0, '', undefined), phase: 'load' } : this.notRun(job),
    );
  }

  private notRun(job: Job): RunRecord {
    const message = explainBudget(this.options.budget?.seconds ?? 0, false);
    return crashRecord(job, { crash: 'budget', message }, 0, '', undefined);
  }

  /** Runs one job in `worker` (alone when it is exclusive), within the budget, and diagnoses a failure. */
  private async runOne(worker: SuiteWorker, job: Job, index: number): Promise<void> {
    this.options.onStart?.(job);
    if (this.left() < MIN_BUDGET_LEFT_MS) return this.finish(job, index, this.notRun(job));
    await this.gate.enter(job);
    try {
      const now = this.left(); // waiting at the gate may have used some of the budget
      const cut = now < job.realLimitMs;
      const record = await worker.run(cut ? { ...job, realLimitMs: Math.max(1, Math.floor(now)) } : job);
      const traced = await withTrace(worker, job, record, this.diagnosis);
      this.finish(
        job,
        index,
        cut && record.crash === 'timeout'
          ? { ...record, crash: 'budget', message: explainBudget(this.options.budget?.seconds ?? 0, true) }
          : traced,
      );
    } finally {
      this.gate.leave(job);
    }
  }
}

/** Longest a process started for a test may print before the rest is dropped, bytes. */
const BROKERED_OUTPUT_LIMIT = 4 << 20;
/** At most this many processes started for one test at a time. */
const BROKERED_MAX = 16;

/** One sandboxed test process and the events it produces. */
class SuiteWorker {
  private readonly options: SupervisorOptions;
  private readonly sandbox: Sandbox;
  private readonly child: ChildProcess;
  private readonly events = new Mailbox<Event>({ setTimeout, clearTimeout });
  private readonly key = crypto.randomBytes(32);
  private readonly brokered = new Map<number, ChildProcess>();
  private stopping = false;
  private exited = false;
  private readonly exitedPromise: Promise<void>;
  private stderrTail = '';
  private nonce = '';
  private exitCall: { code: number; where: string; world?: WorldSnapshot } | undefined;
  private pendingOutput = '';
  /** Set when the test's processes went over their resident-memory limit (the process is then killed). */
  private overrun: MemoryOverrun | undefined;
  private readonly memory: MemoryWatch;
  /** Set when the scratch folder went over its limit (the process is then killed). */
  private diskOverrun: DiskOverrun | undefined;
  private readonly disk: DiskWatch;

  constructor(options: SupervisorOptions, sandbox: Sandbox, kind: WorkerKind) {
    this.options = options;
    this.sandbox = sandbox;
    const profiling = profileFlags(options.cpuProfileDir, 'test-process');
    this.child = spawn(process.execPath, [...sandbox.execArgv, ...profiling, BOOT_FILE], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: sandbox.env,
    });
    this.exitedPromise = new Promise((resolve) => this.child.once('exit', () => resolve()));
    const stray = (chunk: Buffer): void => void options.stray?.write(chunk.toString());
    this.child.stdout?.on('data', stray);
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4096);
      // V8's report of a heap overflow is the grader's business (the test fails with "Out of memory").
      if (/<--- Last few GCs --->|FATAL ERROR: /.test(this.stderrTail)) return;
      stray(chunk);
    });
    const input = this.child.stdio[3] as Writable;
    input.on('error', () => undefined);
    const config = kind === 'suite' ? { ...options.config, loadCode: false } : options.config;
    const init: SandboxInit = { secret: this.key.toString('hex'), config };
    input.write(`${JSON.stringify(init)}\n`);
    readChannel(this.child.stdio[4] as Readable, (msg) => this.receive(msg as FromWorker));
    // The whole memory of the test's processes (the test process and those started for its test), Buffers included.
    this.memory = new MemoryWatch(
      residentLimitMb(options.heapLimitMb),
      () => [this.child.pid, ...[...this.brokered.values()].map((c) => c.pid)],
      (o) => {
        this.overrun = o;
        killProcess(this.child);
      },
    );
    // What the code under test wrote: its scratch folder is the only place it may write (sandbox.ts).
    this.disk = new DiskWatch(sandbox.scratch, options.scratchLimitMb ?? SCRATCH_LIMIT_MB, (o) => {
      this.diskOverrun = o;
      killProcess(this.child);
    });
    this.child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      this.exited = true;
      this.memory.stop();
      this.disk.stop();
      this.killBrokered();
      if (!this.stopping) this.events.put({ kind: 'ended', ending: this.ending(code, signal) });
    });
  }

  /** True while the process can take another job. */
  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  /** Waits until the suite and implementation are loaded; returns why not, if they could not be. */
  async boot(): Promise<Ending | undefined> {
    const deadline = performance.now() + this.options.bootTimeoutMs;
    for (;;) {
      const ev = await this.events.next(deadline - performance.now());
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

  /** Runs one job and returns its record; on a crash the process is stopped (or already gone). */
  async run(job: Job, quiet = false): Promise<RunRecord> {
    let output = this.pendingOutput;
    this.pendingOutput = '';
    const started = performance.now();
    let deadline = started + job.realLimitMs + this.options.killGraceMs;
    const cpuAtStart = job.cpuBound ? processCpuMs(this.child.pid) : undefined;
    this.nonce = crypto.randomBytes(16).toString('hex');
    const msg: ToWorker = { type: 'run', job, nonce: this.nonce };
    (this.child.stdio[3] as Writable).write(`${JSON.stringify(msg)}\n`);
    let strayNoted = false;
    try {
      for (;;) {
        const ev = await this.events.next(deadline - performance.now());
        const elapsed = (): number => performance.now() - started;
        /** Stops the test process and records the run as ended by `ending`. */
        const stopWith = async (ending: Ending, world?: WorldSnapshot): Promise<RunRecord> => {
          await this.stop();
          return crashRecord(job, ending, elapsed(), output, world);
        };
        if (!ev) {
          const starved = this.starved(started, cpuAtStart);
          const later = starved && this.laterDeadline(job, starved);
          if (later !== undefined) {
            deadline = later;
            continue;
          }
          return stopWith({ crash: 'timeout', message: explainTimeout(job.realLimitMs, starved) });
        }
        if (ev.kind === 'ended')
          return crashRecord(
            job,
            ev.ending,
            elapsed(),
            output,
            ev.ending.crash === 'exit' ? this.exitCall?.world : undefined,
          );
        const m = ev.msg;
        if (m.type === 'output' && m.index !== job.index) {
          // Printed by an earlier test's leftover timers after that test ended: not this test's output.
          if (!strayNoted) output = keepTail(`${output}${STRAY_OUTPUT_NOTE}\n`);
          strayNoted = true;
        } else if (m.type === 'output') {
          output = keepTail(output + m.text);
          if (!quiet) this.options.echo?.write(m.text);
        } else if (m.type === 'crash') {
          return stopWith({ crash: m.crash, message: explainCrash(m.crash, m.message) }, m.world);
        } else if (m.type === 'done' && m.index !== job.index) {
          return stopWith({ crash: 'error', message: explainStrayVerdict(m.index) });
        } else if (m.type === 'done') {
          const outcome = this.verified(m.index, m.body, m.mac);
          if (outcome && outcome.name === job.test && outcome.seed === job.seed) return fromOutcome(outcome, output);
          await this.stop();
          return crashRecord(job, { crash: 'error', message: explainForgedVerdict() }, elapsed(), output, undefined);
        }
      }
    } finally {
      this.nonce = '';
      this.killBrokered();
    }
  }

  /** Real and CPU time the test process has used since the run started (undefined where CPU time is not shown). */
  private starved(started: number, cpuAtStart: number | undefined): StarvedRun | undefined {
    const cpuNow = cpuAtStart === undefined ? undefined : processCpuMs(this.child.pid);
    return cpuNow === undefined || cpuAtStart === undefined
      ? undefined
      : { realMs: performance.now() - started, cpuMs: cpuNow - cpuAtStart };
  }

  /** A later deadline for a simulated test the machine starved of CPU, never past the run's budget. */
  private laterDeadline(job: Job, starved: StarvedRun): number | undefined {
    const now = performance.now();
    const later = starvedDeadline(starved, job.realLimitMs, now, this.options.killGraceMs);
    const budget = this.options.budget;
    if (later === undefined || !budget) return later;
    const budgetEnd = now + (budget.deadline - Date.now());
    return later < budgetEnd ? later : undefined;
  }

  /** Stops the process and the ones started for its test (a no-op once it has ended). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.killBrokered();
    if (!this.exited) {
      if (this.options.cpuProfileDir !== undefined) {
        // A profiled test process ends on its own when its channel closes, and writes its profile as it exits.
        (this.child.stdio[3] as Writable).end();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.exitedPromise, new Promise((r) => (timer = setTimeout(r, PROFILE_EXIT_MS)))]);
        clearTimeout(timer);
      }
      killProcess(this.child);
      await this.exitedPromise;
    }
  }

  /** The outcome in a `done` message when its MAC is the one this run's key gives, else undefined. */
  private verified(index: number, body: unknown, mac: unknown): TestOutcome | undefined {
    if (typeof body !== 'string' || typeof mac !== 'string' || !this.nonce) return undefined;
    const expected = Buffer.from(signVerdict(nodeHmacSha256, this.key, index, this.nonce, body), 'hex');
    const got = Buffer.from(mac, 'hex');
    if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) return undefined;
    try {
      return JSON.parse(body) as TestOutcome;
    } catch {
      return undefined;
    }
  }

  /** Handles one message from the test process. */
  private receive(msg: FromWorker): void {
    if (msg.type === 'spawn') return this.spawnFor(msg.id, msg.script, msg.args);
    if (msg.type === 'spawn-kill') {
      const c = this.brokered.get(msg.id);
      if (c && ['SIGKILL', 'SIGTERM', 'SIGINT'].includes(msg.signal)) this.stopBrokered(c, msg.signal);
      return;
    }
    if (msg.type === 'spawn-weigh') return this.weighFor(msg.id, msg.ask);
    if (msg.type === 'exit-called') this.exitCall = { code: msg.code, where: msg.where, world: msg.world };
    this.events.put({ kind: 'message', msg });
  }

  /**
   * Starts a kit script the running test asked for (lab 5's server process), sandboxed like the test
   * process, and stopped when the test ends. Anything but a .ts file of the lab's
   * test folder is refused (the test then sees the process exit at once with code 126).
   */
  private spawnFor(id: unknown, script: unknown, args: unknown): void {
    const tell = (m: ToWorker): void => void (this.child.stdio[3] as Writable).write(`${JSON.stringify(m)}\n`);
    if (typeof id !== 'number') return;
    const ok =
      this.nonce !== '' &&
      typeof script === 'string' &&
      Array.isArray(args) &&
      args.every((a) => typeof a === 'string') &&
      this.brokered.size < BROKERED_MAX &&
      isKitScript(script, this.sandbox.scriptDir);
    if (!ok) {
      tell({ type: 'spawn-exit', id, code: 126, signal: null });
      return;
    }
    const child = spawn(
      process.execPath,
      [
        ...this.sandbox.execArgv,
        ...profileFlags(this.options.cpuProfileDir, path.basename(script as string, '.ts')),
        '-r',
        PRELOAD_FILE,
        script as string,
        ...(args as string[]),
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: this.sandbox.env,
      },
    );
    this.brokered.set(id, child);
    let sent = 0;
    const forward =
      (stream: 'stdout' | 'stderr') =>
      (d: Buffer): void => {
        if (sent > BROKERED_OUTPUT_LIMIT) return;
        sent += d.length;
        tell({ type: 'spawn-output', id, stream, data: d.toString('base64') });
      };
    child.stdout?.on('data', forward('stdout'));
    child.stderr?.on('data', forward('stderr'));
    child.stdin?.on('error', () => undefined);
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      this.brokered.delete(id);
      if (!this.exited) tell({ type: 'spawn-exit', id, code, signal });
    });
  }

  /** Answers a test's question about a process it started: its weight, read here from /proc (null if unknown). */
  private weighFor(id: unknown, ask: unknown): void {
    if (typeof id !== 'number' || typeof ask !== 'number' || this.exited) return;
    const pid = this.brokered.get(id)?.pid;
    const w = pid === undefined ? undefined : weighProcess(pid);
    const m: ToWorker = { type: 'spawn-weight', id, ask, rssBytes: w?.rssBytes ?? null, fds: w?.fds ?? null };
    (this.child.stdio[3] as Writable).write(`${JSON.stringify(m)}\n`);
  }

  /** Stops every process started for the current test. */
  private killBrokered(): void {
    for (const c of this.brokered.values()) this.stopBrokered(c);
  }

  /**
   * Stops a process started for the test with `signal`. Profiled: a kit script is ended by closing its stdin instead,
   * so that it exits on its own at once and writes its profile (a killed process writes none), and is killed only if
   * it has not ended within PROFILE_EXIT_MS.
   */
  private stopBrokered(c: ChildProcess, signal?: NodeJS.Signals): void {
    if (this.options.cpuProfileDir === undefined) return killProcess(c, signal);
    c.stdin?.end();
    setTimeout(() => killProcess(c), PROFILE_EXIT_MS).unref();
  }

  /** Why the process ended on its own. */
  private ending(code: number | null, signal: NodeJS.Signals | null): Ending {
    const o = this.overrun;
    if (o) return { crash: 'out-of-memory', message: explainResidentOverrun(o.limitMb, o.heldMb, o.processes) };
    const d = this.diskOverrun;
    if (d)
      return { crash: 'out-of-disk', message: explainDiskOverrun(d.limitMb, d.heldMb, d.entries, SCRATCH_ENTRY_LIMIT) };
    if (/heap out of memory|Reached heap limit/.test(this.stderrTail))
      return { crash: 'out-of-memory', message: explainOutOfMemory(this.options.heapLimitMb) };
    if (this.exitCall) return { crash: 'exit', message: explainExit(this.exitCall.code, this.exitCall.where) };
    const denied = /ERR_ACCESS_DENIED[\s\S]*?resource: '([^']*node_modules[^']*)'/.exec(this.stderrTail);
    if (denied) return { crash: 'exit', message: explainPackageDenied(denied[1]) };
    return { crash: 'exit', message: explainUnexpectedEnd(code ?? -1, signal) };
  }
}

/**
 * Kills a sandboxed process. It cannot have started any of its own (the permission model refuses), and it
 * stays in the grader's process group, so whoever stops the grader's group (batch grading) stops it too.
 */
function killProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/** True when `script` is a .ts file inside `dir` (after resolving links). */
function isKitScript(script: string, dir: string): boolean {
  try {
    const real = fs.realpathSync(script);
    const rel = path.relative(fs.realpathSync(dir), real);
    return real.endsWith('.ts') && !rel.startsWith('..') && !path.isAbsolute(rel) && fs.statSync(real).isFile();
  } catch {
    return false;
  }
}

/** The message for a crash the worker reported. */
function explainCrash(crash: CrashKind, detail: string): string {
  if (crash === 'unhandled-rejection') return explainRejection(detail);
  if (crash === 'uncaught') return explainUncaught(detail);
  return detail;
}

/** A record for a job that the grader itself had to fail. */
function crashRecord(
  job: Job,
  ending: Ending,
  realMs: number,
  output: string,
  world: WorldSnapshot | undefined,
): RunRecord {
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
    trace: o.trace,
    faults: o.faults,
  };
}

function keepTail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARS ? text : text.slice(text.length - OUTPUT_TAIL_CHARS);
}
