/** A failed run's diagnosis: its replay with recording on (for the trace page), and the smallest set of the network's faults it still fails with. */
import { isTodo } from '../suite/failure';
import { failureSignature, minimizeFaults, scriptedFaults } from '../suite/minimize';
import type { AppliedFault } from '../world';
import type { Job } from './protocol';
import type { RunRecord } from './types';

/** A traced replay may take this many times the failed run's real time ... */
const REPLAY_FACTOR = 4;
/** ... and at least this many ms. */
const REPLAY_MIN_MS = 5000;

/** The test process a failure is diagnosed in (the one it failed in, while it is alive). */
export interface ReplayWorker {
  /** True while the process can take another job. */
  readonly alive: boolean;
  /** Runs a job; `quiet` keeps its output out of the echo (a replay prints nothing new). */
  run(job: Job, quiet?: boolean): Promise<RunRecord>;
}

/** What a diagnosis may do, and the time it has. */
export interface DiagnosisOptions {
  /** Whether a failed job is replayed with recording on, for its trace page. */
  readonly replayForTrace?: (job: Job, record: RunRecord) => boolean;
  /** Real time for minimizing a traced failure's faults, ms (0 or undefined: no minimization). */
  readonly minimizeMs?: number;
  /** Whether the run's budget still has `ms` of real time for this (beyond what the remaining tests need). */
  hasTime(ms: number): boolean;
}

/** A failed record with the trace of its replay (with recording on) when one is wanted and there is time; else the record. */
export async function withTrace(
  worker: ReplayWorker,
  job: Job,
  record: RunRecord,
  options: DiagnosisOptions,
): Promise<RunRecord> {
  // A run stopped by a real-time limit would only hit it again: it is not replayed.
  if (record.status !== 'failed' || record.crash === 'timeout' || record.crash === 'budget' || !worker.alive)
    return record;
  // Code not written yet needs no trace: its one line says what to write.
  if (isTodo(record.message)) return record;
  // Recording slows a run down (npm run bench -- --only trace); the replay gets a few times the original's time.
  const limit = Math.min(job.realLimitMs, Math.max(REPLAY_MIN_MS, REPLAY_FACTOR * record.realMs));
  if (!options.hasTime(limit) || !options.replayForTrace?.(job, record)) return record;
  const again = await worker.run({ ...job, realLimitMs: Math.ceil(limit), record: true, faults: {} }, true);
  // A replay is exact, so it fails again; a replay that passed has no failure to show.
  if (again.status !== 'failed' || !again.trace) return record;
  const traced = { ...record, trace: again.trace };
  const ms = options.minimizeMs ?? 0;
  // An exception thrown by the code under test is its own diagnosis (a TimeoutError that reached the test says
  // so itself): which faults led there is beside the point, and "no faults" under it would mislead.
  if (again.crash === 'error') return traced;
  if (ms <= 0 || again.crash === 'timeout' || !again.faults || !worker.alive || !options.hasTime(ms)) return traced;
  const signature = failureSignature(again);
  const minimal = await minimize(worker, job, again.faults, signature, ms);
  const found = { ...traced, minimal: { ...minimal, scripted: scriptedFaults(again.trace) } };
  // The smallest failing schedule gets a trace of its own when it differs from the run's (some fault was removed).
  if (minimal.kept.length >= minimal.total || !worker.alive || !options.hasTime(limit)) return found;
  const allowed = minimal.kept.map((f) => f.key);
  const small = await worker.run({ ...job, realLimitMs: Math.ceil(limit), record: true, faults: { allowed } }, true);
  if (small.status !== 'failed' || !small.trace || failureSignature(small) !== signature) return found;
  return { ...found, minimalReplay: { trace: small.trace, message: small.message } };
}

/** Replays `job` with subsets of `faults` removed for at most `ms`, keeping the smallest set that fails the same way. */
function minimize(
  worker: ReplayWorker,
  job: Job,
  faults: readonly AppliedFault[],
  signature: string,
  ms: number,
): ReturnType<typeof minimizeFaults> {
  const deadline = performance.now() + ms;
  return minimizeFaults(
    faults,
    async (allowed) => {
      if (!worker.alive) return undefined;
      const limit = Math.max(1, Math.min(job.realLimitMs, Math.floor(deadline - performance.now())));
      const r = await worker.run({ ...job, realLimitMs: limit, faults: { allowed } }, true);
      // A replay cut short by the limit (or one that took the process down) says nothing about the faults.
      if (!worker.alive || r.crash === 'timeout') return undefined;
      return r.status === 'failed' && failureSignature(r) === signature ? (r.faults ?? true) : false;
    },
    deadline,
  );
}
