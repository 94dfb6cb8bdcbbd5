/**
 * The inside of the grader's sandboxed test process: loads the suite, freezes the realm's intrinsics (SES
 * lockdown), loads the code under test once into a compartment of its own (never, in a process for `codeElsewhere`
 * tests, whose code runs in processes of their own), then runs the jobs the grader sends, one at a time. Each outcome is signed with the run's secret (read before any student code loaded, kept only in
 * this closure, and used only by a pure-JavaScript HMAC captured before student code loads, whose module graph is
 * then frozen: no native object the code under test could reach takes part); the grader believes nothing else.
 * Crashes that escape a test (uncaught exceptions, unhandled rejections, process.exit) are reported as such;
 * the grader then replaces the process.
 */
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import path from 'node:path';
import fs from 'node:fs';
import net from 'node:net';
import { codeFrames } from '../labrpc/stack';
import { describeError, liveOpCount, runNamedTest } from '../suite';
import type { CrashKind, LabSuite, TestOutcome } from '../suite/types';
import { World, boundTrace } from '../world';
import { useSpawner, type KitProcess, type ProcessWeight } from '../suite/spawn';
import { requireSuite } from './labs';
import { hideHarness } from './hide-harness';
import { writtenText } from '../suite/printed';
import { Mailbox, readChannel } from './channel';
import { compartmentLoader, lockDownRealm } from './compartment';
import { earlierLabs } from './earlier-labs';
import { folderOnly, refusingLoader } from './code-elsewhere';
import { useLoader, type CodeLoader } from '../suite/loader';
import {
  CHANNEL_IN_FD,
  CHANNEL_OUT_FD,
  signVerdict,
  type FromWorker,
  type Job,
  type SandboxInit,
  type ToWorker,
  type WorldSnapshot,
} from './protocol';

/** At most this much printed text per job is sent to the grader. */
const OUTPUT_LIMIT = 1 << 20;
/** At most this many characters of trace (as JSON) travel in one outcome. */
const TRACE_CHARS = 16 << 20;

// Captured before any student code runs: later replacements of these do not reach the harness.
const writeSync = fs.writeSync;
const stringify = JSON.stringify;
const encodeUtf8 = TextEncoder.prototype.encode.bind(new TextEncoder());
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** The sandbox's HMAC-SHA256: pure JavaScript (frozen with the realm), never a native handle. */
const hmacSha256 = (key: Uint8Array, data: string): string => toHex(hmac(sha256, key, encodeUtf8(data)));
const realSetImmediate = setImmediate;
const realNextTick = process.nextTick.bind(process);
const realExit = process.exit.bind(process);

/** The job running now: what its messages carry, how much it printed, and its outcome once its body ended. */
interface JobState {
  /** The job's index (-1 between jobs). */
  readonly index: number;
  /** The grader's nonce for the job (its verdict must carry it). */
  readonly nonce: string;
  /** Characters of output sent for the job. */
  outputSent: number;
  /** The job's outcome once its test body has ended (it is reported after a short wait). */
  finished: TestOutcome | undefined;
}

/** Between jobs. */
const IDLE: JobState = { index: -1, nonce: '', outputSent: 0, finished: undefined };

/** The process's state: the running job, and whether a crash was reported (the process is then replaced). */
const state = { job: { ...IDLE } as JobState, crashed: false };

/** Writes one message line to the grader (blocking, so that it is out before an exit). */
function send(msg: FromWorker): void {
  const data = Buffer.from(`${stringify(msg)}\n`);
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(CHANNEL_OUT_FD, data, off, data.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

/** Sends what the code under test prints to the grader instead of the terminal. */
function captureOutput(stream: NodeJS.WriteStream): void {
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const text = writtenText(chunk, encoding);
    const job = state.job;
    if (job.outputSent < OUTPUT_LIMIT) {
      const room = OUTPUT_LIMIT - job.outputSent;
      const piece =
        text.length > room ? `${text.slice(0, room)}\n[... more output was cut off by the grader ...]\n` : text;
      job.outputSent += text.length;
      send({ type: 'output', index: job.index, text: piece });
    }
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') realNextTick(done as () => void);
    return true;
  };
  stream.write = write as typeof stream.write;
}

/** Makes process.exit say where it was called before the process ends. */
function reportExits(): void {
  process.exit = ((code?: number | string | null): never => {
    const n = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    send({
      type: 'exit-called',
      index: state.job.index,
      code: n,
      where: callerLines(new Error().stack),
      world: snapshot(),
    });
    return realExit(n);
  }) as typeof process.exit;
}

/** Reports exceptions and rejections that nothing caught. */
function reportCrashes(): void {
  const crash = (kind: CrashKind, err: unknown): void => {
    if (state.crashed) return;
    state.crashed = true;
    send({ type: 'crash', index: state.job.index, crash: kind, message: describeError(err), world: snapshot() });
  };
  process.on('uncaughtException', (err) => crash('uncaught', err));
  process.on('unhandledRejection', (reason) => crash('unhandled-rejection', reason));
}

/** The counters of the running world, or of the test that just ended. */
function snapshot(): WorldSnapshot | undefined {
  const w = World.maybeCurrent();
  if (w) return { virtualMs: w.now(), rpcs: w.stats.rpcs, ops: liveOpCount(), traceHash: w.traceHash() };
  // A real-time test has no world: its operations are still counted.
  const finished = state.job.finished;
  if (state.job.index >= 0 && !finished) return { virtualMs: 0, rpcs: 0, ops: liveOpCount(), traceHash: '' };
  return finished
    ? { virtualMs: finished.virtualMs, rpcs: finished.rpcs, ops: finished.ops, traceHash: finished.traceHash }
    : undefined;
}

/** The stack lines of a caller, without node internals and this file. */
function callerLines(stack: string | undefined): string {
  return codeFrames(stack).join('\n');
}

/** Lets the real event loop turn once, so a rejection left behind by a test is noticed before it is reported. */
function turn(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** A job's outcome when the grader itself fails it before its test body runs. */
function refused(job: Job, message: string): TestOutcome {
  return {
    name: job.test,
    status: 'failed',
    seed: job.seed,
    realMs: 0,
    virtualMs: 0,
    rpcs: 0,
    ops: 0,
    traceHash: '',
    message,
    crash: 'error',
    log: [],
  };
}

/** Runs one job and reports its outcome, signed; `codeLoaded` false: a process that runs only codeElsewhere tests. */
async function runJob(
  suite: LabSuite<unknown>,
  impl: unknown,
  codeLoaded: boolean,
  job: Job,
  nonce: string,
  key: Uint8Array,
): Promise<void> {
  state.job = { index: job.index, nonce, outputSent: 0, finished: undefined };
  const test = suite.tests.find((t) => t.name === job.test);
  let outcome: TestOutcome;
  if (!test) {
    outcome = refused(job, `The suite has no test named ${job.test}.`);
  } else if (!codeLoaded && test.codeElsewhere !== true) {
    outcome = refused(
      job,
      `Grader bug: ${job.test} needs the code under test, but it was sent to a test process that never loads it (only codeElsewhere tests run there).`,
    );
  } else {
    outcome = await runNamedTest(test, impl, job.seed, {
      realLimitMs: job.realLimitMs,
      record: job.record === true,
      faults: job.faults,
    });
    // The trace travels inside the signed outcome; its size is bounded so that one line of the channel stays manageable.
    if (outcome.trace) outcome = { ...outcome, trace: boundTrace(outcome.trace, TRACE_CHARS) };
  }
  state.job.finished = outcome;
  await turn();
  await turn();
  if (state.crashed) return;
  const body = stringify(outcome);
  send({ type: 'done', index: job.index, body, mac: signVerdict(hmacSha256, key, job.index, nonce, body) });
  state.job = { ...IDLE };
}

/** Processes started for a test through the grader (lab 5's server process): their stand-ins here. */
class BrokeredProcess implements KitProcess {
  readonly id: number;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private readonly listeners = {
    stdout: [] as Array<(d: Buffer) => void>,
    stderr: [] as Array<(d: Buffer) => void>,
    exit: [] as Array<(code: number | null, signal: NodeJS.Signals | null) => void>,
  };
  readonly stdout = { on: (_: 'data', cb: (d: Buffer) => void): void => void this.listeners.stdout.push(cb) };
  readonly stderr = { on: (_: 'data', cb: (d: Buffer) => void): void => void this.listeners.stderr.push(cb) };
  private nextAsk = 1;
  private readonly asked = new Map<number, (w: ProcessWeight | undefined) => void>();
  constructor(id: number) {
    this.id = id;
  }
  once(_: 'exit', cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    if (this.exitCode !== null || this.signalCode !== null) realNextTick(() => cb(this.exitCode, this.signalCode));
    else this.listeners.exit.push(cb);
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    send({ type: 'spawn-kill', id: this.id, signal });
  }
  /** Its weight, read by the grader from /proc (this process may not read it). */
  weigh(): Promise<ProcessWeight | undefined> {
    const ask = this.nextAsk++;
    send({ type: 'spawn-weigh', id: this.id, ask });
    return new Promise((resolve) => this.asked.set(ask, resolve));
  }
  weighed(ask: number, rssBytes: number | null, fds: number | null): void {
    const resolve = this.asked.get(ask);
    this.asked.delete(ask);
    resolve?.(rssBytes === null || fds === null ? undefined : { rssBytes, fds });
  }
  data(stream: 'stdout' | 'stderr', d: Buffer): void {
    for (const cb of this.listeners[stream]) cb(d);
  }
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitCode = code;
    this.signalCode = signal;
    const cbs = this.listeners.exit.splice(0);
    for (const cb of cbs) cb(code, signal);
    for (const resolve of this.asked.values()) resolve(undefined);
    this.asked.clear();
  }
}

/** Reads the first line of the grader's channel synchronously: the run's secret and configuration. */
function readInit(): SandboxInit {
  const bytes: number[] = [];
  const one = Buffer.alloc(1);
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(CHANNEL_IN_FD, one, 0, 1, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) throw new Error('The grader closed the channel before sending the run’s configuration.');
    if (one[0] === 0x0a) break;
    bytes.push(one[0]);
  }
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as SandboxInit;
}

/** Loads the suite, locks the harness down, loads the implementation, then serves jobs. */
export function start(): void {
  const init = readInit();
  const isolated = init.config.compartment !== false;
  // Before the suite loads, so that the kit's classes (its errors, say) extend the realm's tamed intrinsics.
  if (isolated) lockDownRealm();
  // The key's own memory (not the shared pool small Buffers come from).
  const key = new Uint8Array(Buffer.from(init.secret, 'hex'));
  const config = init.config;
  captureOutput(process.stdout);
  captureOutput(process.stderr);
  reportExits();
  reportCrashes();
  const brokered = new Map<number, BrokeredProcess>();
  let nextSpawn = 1;
  const jobs = new Mailbox<{ job: Job; nonce: string }>();
  const channel = new net.Socket({ fd: CHANNEL_IN_FD, readable: true, writable: false });
  readChannel(channel, (received) => {
    const msg = received as ToWorker;
    if (msg.type === 'run') jobs.put({ job: msg.job, nonce: msg.nonce });
    else if (msg.type === 'spawn-output') brokered.get(msg.id)?.data(msg.stream, Buffer.from(msg.data, 'base64'));
    else if (msg.type === 'spawn-weight') brokered.get(msg.id)?.weighed(msg.ask, msg.rssBytes, msg.fds);
    else if (msg.type === 'spawn-exit') {
      brokered.get(msg.id)?.exited(msg.code, msg.signal);
      brokered.delete(msg.id);
    }
  });
  channel.on('end', () => realExit(0));
  useSpawner((script, args) => {
    const child = new BrokeredProcess(nextSpawn++);
    brokered.set(child.id, child);
    send({ type: 'spawn', id: child.id, script, args });
    return child;
  });
  let suite: LabSuite<unknown>;
  try {
    suite = requireSuite(config.suitePath);
  } catch (err) {
    send({
      type: 'boot-failed',
      message: `The test suite ${config.suitePath} could not be loaded:\n${describeError(err)}`,
    });
    return;
  }
  const earlierCode = earlierLabs(suite, config.implDir, config.suitePath).flatMap((e) =>
    e.files.map((f) => path.join(e.codeDir, f)),
  );
  hideHarness(config.implDir, earlierCode);
  const loadCode = config.loadCode !== false;
  if (isolated) {
    hardenSigning();
    // A process that never loads the code still uses a loader of its own: the tests' kit scripts then isolate theirs.
    useLoader(loadCode ? sandboxLoader(config, suite) : refusingLoader());
  }
  let impl: unknown = folderOnly(config.implDir);
  if (loadCode) {
    try {
      impl = withMissingExportsExplained(suite.load(config.implDir), suite);
    } catch (err) {
      send({
        type: 'boot-failed',
        message: `Your code in ${config.implDir} could not be loaded, so no test that uses it could run:\n${describeError(err)}`,
      });
      return;
    }
  }
  const serve = async (): Promise<void> => {
    for (;;) {
      const next = await jobs.next();
      if (next) await runJob(suite, impl, loadCode, next.job, next.nonce, key);
    }
  };
  void serve();
  send({ type: 'ready' });
}

/**
 * Freezes the modules the signing runs through (the pure-JavaScript HMAC's), so nothing can replace a part of it;
 * not its `crypto.js` / `cryptoNode.js`, whose export is the realm's Web Crypto object (the world makes its random functions seeded).
 */
function hardenSigning(): void {
  for (const [file, mod] of Object.entries(require.cache)) {
    const posix = file.split(path.sep).join('/');
    if (mod && posix.includes('/node_modules/@noble/hashes/') && !/\/crypto(Node)?\.js$/.test(posix))
      harden(mod.exports as object);
  }
}

/**
 * The loaded code, each export the suite asked for and did not get (an emptied file, a renamed class)
 * replaced by a stand-in that fails the test using it with the name expected: the tests that do not use it
 * still run.
 */
function withMissingExportsExplained(impl: unknown, suite: LabSuite<unknown>): unknown {
  if (typeof impl !== 'object' || impl === null) return impl;
  const files = suite.implFiles.map((f) => `${suite.lab}/${f}`).join(', ');
  const out: Record<string, unknown> = { ...(impl as Record<string, unknown>) };
  for (const [name, value] of Object.entries(out)) {
    if (value !== undefined) continue;
    const message =
      `Your code does not export "${name}", which this test uses (it is loaded from one of ${files}). ` +
      `Keep the export your skeleton declares, spelled exactly so (for example \`export class ${name}\`); ` +
      'an emptied file or a renamed or unexported class or function causes this.';
    out[name] = function missingExport(): never {
      throw new Error(message);
    };
  }
  return out;
}

/** The compartment loader of the code under test: its folder, the lab's given files, and the earlier labs it builds on. */
function sandboxLoader(config: { implDir: string; suitePath: string }, suite: LabSuite<unknown>): CodeLoader {
  return compartmentLoader({
    implDir: config.implDir,
    labDir: path.dirname(path.dirname(path.resolve(config.suitePath))),
    kitDirs: [path.join(__dirname, '..', 'labrpc')],
    cacheDir: process.env.KVLABS_TS_CACHE ?? '',
    nodeModules: suite.nodeModules,
    earlierLabs: earlierLabs(suite, config.implDir, config.suitePath),
  });
}
