/**
 * The inside of a grader worker thread: loads the suite and the code under test once, then runs the jobs the
 * main thread sends, one at a time, and reports each outcome. Crashes that escape a test (uncaught
 * exceptions, unhandled rejections, process.exit) are reported as such; the main thread then replaces the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, runNamedTest } from '../tester/suite';
import type { CrashKind, LabSuite, TestOutcome } from '../tester/suite/types';
import { World } from '../tester/world';
import { requireSuite } from './labs';
import type { FromWorker, Job, ToWorker, WorkerConfig, WorldSnapshot } from './protocol';

/** At most this much printed text per job is sent to the main thread. */
const OUTPUT_LIMIT = 1 << 20;

const port = parentPort;
if (!port) throw new Error('grader/worker.ts must run in a worker thread (see grader/supervisor.ts).');
const config = workerData as WorkerConfig;
const realSetImmediate = setImmediate;
const realNextTick = process.nextTick.bind(process);
const realExit = process.exit.bind(process);

/** The job running now, or -1. */
let current = -1;
/** Set once a crash was reported: the worker is about to be replaced and reports nothing more. */
let crashed = false;
/** Characters of output sent for the current job. */
let outputSent = 0;
/** The current job's outcome once its test body has ended (it is reported after a short wait). */
let finished: TestOutcome | undefined;

function send(msg: FromWorker): void {
  port?.postMessage(msg);
}

/** Sends what the code under test prints to the main thread instead of the terminal. */
function captureOutput(stream: NodeJS.WriteStream): void {
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    if (outputSent < OUTPUT_LIMIT) {
      const room = OUTPUT_LIMIT - outputSent;
      const piece = text.length > room ? `${text.slice(0, room)}\n[... more output was cut off by the grader ...]\n` : text;
      outputSent += text.length;
      send({ type: 'output', index: current, text: piece });
    }
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') realNextTick(done as () => void);
    return true;
  };
  stream.write = write as typeof stream.write;
}

/** Makes process.exit say where it was called before the worker ends. */
function reportExits(): void {
  process.exit = ((code?: number | string | null): never => {
    const n = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    send({ type: 'exit-called', index: current, code: n, where: callerLines(new Error().stack), world: snapshot() });
    return realExit(n);
  }) as typeof process.exit;
}

/** Reports exceptions and rejections that nothing caught. */
function reportCrashes(): void {
  const crash = (kind: CrashKind, err: unknown): void => {
    if (crashed) return;
    crashed = true;
    send({ type: 'crash', index: current, crash: kind, message: describeError(err), world: snapshot() });
  };
  process.on('uncaughtException', (err) => crash('uncaught', err));
  process.on('unhandledRejection', (reason) => crash('unhandled-rejection', reason));
}

/** The counters of the running world, or of the test that just ended. */
function snapshot(): WorldSnapshot | undefined {
  const w = World.maybeCurrent();
  if (w) return { virtualMs: w.now(), rpcs: w.stats.rpcs, ops: w.stats.ops, traceHash: w.traceHash() };
  return finished ? { virtualMs: finished.virtualMs, rpcs: finished.rpcs, ops: finished.ops, traceHash: finished.traceHash } : undefined;
}

/** The stack lines of a caller, without node internals and this file. */
function callerLines(stack: string | undefined): string {
  return (stack ?? '')
    .split('\n')
    .slice(1)
    .filter((l) => !l.includes('node:internal') && !l.includes('grader/worker.ts') && !l.includes('node_modules'))
    .slice(0, 5)
    .map((l) => l.trim())
    .join('\n');
}

/** Lets the real event loop turn once, so a rejection left behind by a test is noticed before it is reported. */
function turn(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** Runs one job and reports its outcome. */
async function runJob(suite: LabSuite<unknown>, impl: unknown, job: Job): Promise<void> {
  current = job.index;
  outputSent = 0;
  finished = undefined;
  const test = suite.tests.find((t) => t.name === job.test);
  let outcome: TestOutcome;
  if (!test) {
    outcome = { name: job.test, status: 'failed', seed: job.seed, realMs: 0, virtualMs: 0, rpcs: 0, ops: 0, traceHash: '', message: `The suite has no test named ${job.test}.`, crash: 'error', log: [] };
  } else {
    outcome = await runNamedTest(test, impl, job.seed, { realLimitMs: job.realLimitMs });
  }
  finished = outcome;
  await turn();
  await turn();
  if (crashed) return;
  send({ type: 'done', index: job.index, outcome });
  current = -1;
  finished = undefined;
}

/** Loads the suite and the implementation, then serves jobs. */
function main(): void {
  captureOutput(process.stdout);
  captureOutput(process.stderr);
  reportExits();
  reportCrashes();
  let suite: LabSuite<unknown>;
  try {
    suite = requireSuite(config.suitePath);
  } catch (err) {
    send({ type: 'boot-failed', message: `The test suite ${config.suitePath} could not be loaded:\n${describeError(err)}` });
    return;
  }
  let impl: unknown;
  try {
    impl = suite.load(config.implDir);
  } catch (err) {
    send({ type: 'boot-failed', message: `Your code in ${config.implDir} could not be loaded, so no test could run:\n${describeError(err)}` });
    return;
  }
  let queue = Promise.resolve();
  port?.on('message', (msg: ToWorker) => {
    if (msg.type === 'run') queue = queue.then(() => runJob(suite, impl, msg.job));
  });
  send({ type: 'ready' });
}

main();
