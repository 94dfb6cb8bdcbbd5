/**
 * Model-based tests: random command sequences (fast-check's `commands`) run step by step against the code under test
 * and a small sequential model of what the handout promises; a mismatch is shrunk to the shortest failing sequence,
 * which the failure prints as a replay (each step, what the code returned, what the model expected).
 */
import { fc } from './fast-check';
import { keyedRng } from '../world';
import { TestFailure } from './failure';

/** What the real side of every run keeps: one readable line per step taken so far (the replay). */
export interface StepLog {
  readonly steps: string[];
}

/** A step where the code under test and the model disagree: thrown by a command, printed with the replay. */
export class ModelMismatch extends Error {
  /** The steps of the run up to and including the failing one. */
  readonly steps: readonly string[];
  /** What the model expected, and the handout's rule behind it. */
  readonly expected: string;
  /** What the code returned. */
  readonly got: string;
  /** The likely causes of this kind of mismatch. */
  readonly causes: string;

  constructor(log: StepLog, expected: string, got: string, causes: string) {
    super(`step ${log.steps.length}: got ${got}; expected ${expected}`);
    this.steps = [...log.steps];
    this.expected = expected;
    this.got = got;
    this.causes = causes;
  }
}

/** How one model-based test draws and runs its sequences. */
export interface ModelTestOptions<Model extends object, Real extends StepLog> {
  /** The test's seed: fast-check's own seed is drawn from it, so the same seed draws the same sequences. */
  readonly seed: number;
  /** Names the test's random stream (the test's name). */
  readonly key: string;
  /** The grammar: one arbitrary per kind of command. */
  readonly commands: ReadonlyArray<fc.Arbitrary<fc.AsyncCommand<Model, Real>>>;
  /** A fresh model and a fresh system under test for each sequence. */
  readonly setup: () => { model: Model; real: Real };
  /** Ends a sequence's system (its timers and loops), passed or failed. */
  readonly teardown?: (real: Real) => void;
  /** Sequences drawn (each on a fresh system). */
  readonly runs: number;
  /** The longest sequence drawn. */
  readonly maxCommands: number;
  /** What the model describes, for the failure's first line ("lab 2's versioned store"). */
  readonly what: string;
}

/** What a passing model-based test ran, for its log. */
export interface ModelTestRun {
  readonly runs: number;
  readonly fcSeed: number;
}

/**
 * Runs `runs` random sequences against a fresh model and system each; on a mismatch fails the test with the
 * shortest failing sequence found, as numbered steps. An exception thrown by the code under test fails the test
 * as it is (shrunk to the shortest sequence that throws it too).
 */
export async function runModelTest<Model extends object, Real extends StepLog>(
  opts: ModelTestOptions<Model, Real>,
): Promise<ModelTestRun> {
  const fcSeed = keyedRng(opts.seed, `model-based/${opts.key}`).int(0x7fffffff);
  const property = fc.asyncProperty(
    fc.commands([...opts.commands], { maxCommands: opts.maxCommands, size: 'max' }),
    async (cmds) => {
      const start = opts.setup();
      try {
        await fc.asyncModelRun(() => start, cmds);
      } finally {
        opts.teardown?.(start.real);
      }
    },
  );
  const result = await fc.check(property, { seed: fcSeed, numRuns: opts.runs });
  if (!result.failed) return { runs: result.numRuns, fcSeed };
  const error = result.errorInstance;
  if (!(error instanceof ModelMismatch)) throw error;
  throw new TestFailure(mismatchMessage(opts.what, error, result.numShrinks));
}

/** The failure's text: the replay of the shortest failing sequence, the disagreement, and its likely causes. */
function mismatchMessage(what: string, m: ModelMismatch, shrinks: number): string {
  const last = m.steps.length;
  const lines = m.steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${s}`);
  return [
    `Your code and ${what} (the handout's rules, run as a model) disagree at step ${last} of this sequence, ` +
      `the shortest failing one found (after ${shrinks} shrinking step${shrinks === 1 ? '' : 's'}), run from a fresh start:`,
    ...lines,
    `Step ${last} returned ${m.got}; expected ${m.expected}.`,
    `Likely causes: ${m.causes}`,
  ].join('\n');
}
