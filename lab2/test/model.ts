/**
 * Lab 2's executable specification: the versioned store and the lock as the handout states them, run as sequential
 * models beside the student's code on a reliable network (TestModelKV, TestModelLock).
 */
import { fc } from '../../suite/fast-check';
import { ModelMismatch, runModelTest, type StepLog } from '../../suite/model-based';
import type { TestContext, TestDefinition } from '../../suite';
import { sleep } from '../../world';
import type { DistributedLock, KVClerk } from '../rpc';
import { KVTester, show, type Lab2Impl } from './harness';
import { VERSION_KINDS, versionKindArb, type VersionKind } from '../../suite/nemesis/version-grammar';
import { keyArb, valueKindArb, valueOf, type ValueKind } from '../../suite/nemesis/edge-grammar';
import { KVModel, sameGet } from '../../suite/versioned-store';

type Ctx = TestContext<Lab2Impl>;

/** The likely causes of a store that disagrees with the model, by what the model expected. */
const KV_CAUSES = {
  /** A get answered something else than the model. */
  get:
    'a store kept in a plain object (keys such as "__proto__", "constructor" or "toString" already exist there, and writing ' +
    '"__proto__" changes its prototype: use a Map); a put of the value the key already holds treated as nothing to do (it is ' +
    'still a put: the version goes up); an empty value taken for a missing key; a new key created at a version other than 1; ' +
    'a refused put that changed the value or the version anyway; or keys or values changed on the way (trimmed, truncated, re-encoded).',
  /** A put that should have been refused with ErrVersion, or should have succeeded. */
  version:
    'a version check other than exact equality ("version < current" lets a version ahead through, "version <= current" or ' +
    '"current - 1" one behind, rounding or coercing to an integer lets a fractional one through); a put recognised as a re-sent copy by its value; or a ' +
    'store kept in a plain object, where a key such as "__proto__" seems to exist already.',
  /** A put on a missing key. */
  missing:
    'a missing key created by a version other than 0 (a check such as "version > 0" or "version >= 1" lets a negative or ' +
    'fractional version create it), or refused at version 0; a version coerced to an integer before it is compared (version | 0, ' +
    'Math.floor, parseInt: 2^32 or -0.5 then counts as 0); ErrVersion where the key does not exist (ErrNoKey is the answer ' +
    'for a missing key); or a store kept in a plain object, where a key such as "constructor" seems to exist already.',
} as const;

/** The real side of a TestModelKV run: a recording clerk on a fresh server. */
interface KVReal extends StepLog {
  readonly ck: KVClerk;
}

/** get(key), compared with the model. */
class GetCommand implements fc.AsyncCommand<KVModel, KVReal> {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(m: KVModel, r: KVReal): Promise<void> {
    const want = m.get(this.key);
    const got = await r.ck.get(this.key);
    r.steps.push(`get(${show(this.key)}) returned ${show(got)}`);
    if (!sameGet(got, want))
      throw new ModelMismatch(
        r,
        want.err === 'OK'
          ? `value ${show(want.value)} (${want.value.length} chars) at version ${want.version}`
          : 'ErrNoKey: no put ever created this key',
        show(got),
        KV_CAUSES.get,
      );
  }
  toString(): string {
    return `get(${show(this.key)})`;
  }
}

/** put(key, value, version) with the value and version drawn by kind and resolved against the model's key. */
class PutCommand implements fc.AsyncCommand<KVModel, KVReal> {
  readonly key: string;
  readonly valueKind: ValueKind;
  readonly versionKind: VersionKind;
  constructor(key: string, valueKind: ValueKind, versionKind: VersionKind) {
    this.key = key;
    this.valueKind = valueKind;
    this.versionKind = versionKind;
  }
  check(): boolean {
    return true;
  }
  async run(m: KVModel, r: KVReal): Promise<void> {
    const version = VERSION_KINDS[this.versionKind](m.version(this.key));
    const value = valueOf(this.valueKind, m.n++, m.past(this.key));
    const want = m.put(this.key, value, version);
    const got = await r.ck.put(this.key, value, version);
    r.steps.push(
      `put(${show(this.key)}, ${show(value)} [${this.valueKind}], version ${version} [${this.versionKind}]) returned ${got}`,
    );
    if (got !== want.err) throw new ModelMismatch(r, `${want.err}: ${want.rule}`, got, KV_CAUSES[want.kind]);
  }
  toString(): string {
    return `put(${show(this.key)}, ${this.valueKind} value, ${this.versionKind} version)`;
  }
}

/** TestModelKV's grammar: gets and puts on the edge keys, with edge values and versions. */
const kvCommands = (): Array<fc.Arbitrary<fc.AsyncCommand<KVModel, KVReal>>> => [
  keyArb().map((k) => new GetCommand(k)),
  fc.tuple(keyArb(), valueKindArb(), versionKindArb()).map(([k, value, version]) => new PutCommand(k, value, version)),
  // Puts outnumber gets, so that keys climb through several versions within one sequence.
  fc.tuple(keyArb(), valueKindArb(), versionKindArb()).map(([k, value, version]) => new PutCommand(k, value, version)),
];

/** Sequences per run, and their longest length. */
const KV_RUNS = 40;
const KV_MAX_COMMANDS = 30;

/** TestModelKV: random sequences of gets and puts, compared with the model after every step. */
export const modelKV: TestDefinition<Lab2Impl> = {
  name: 'TestModelKV',
  description: `${KV_RUNS} random sequences of up to ${KV_MAX_COMMANDS} gets and puts on a reliable network (keys like __proto__, empty, numeric-looking, huge; versions negative, zero, fractional, huge, reused; values empty, huge, equal to the one held or held before) compared after every step with the handout's rules; a mismatch is shrunk to the shortest failing sequence and printed as a replay`,
  async run(ctx: Ctx) {
    const done = await runModelTest<KVModel, KVReal>({
      seed: ctx.seed,
      key: 'TestModelKV',
      what: "lab 2's versioned store",
      commands: kvCommands(),
      runs: KV_RUNS,
      maxCommands: KV_MAX_COMMANDS,
      setup: () => ({ model: new KVModel(), real: { ck: new KVTester(ctx, true).makeClerk(), steps: [] } }),
    });
    ctx.log(`${done.runs} sequences agreed with the model (fast-check seed ${done.fcSeed})`);
  },
};

/** The handout's lock, seen from its Lock objects: who holds it (by object), or nobody. */
export class LockModel {
  holder: number | undefined;
}

/** The real side of a TestModelLock run: Lock objects on one name (the first two share a clerk). */
interface LockReal extends StepLog {
  readonly locks: DistributedLock[];
  readonly name: string;
}

/** Lock objects per run: 0 and 1 share a clerk, 2 has its own. */
const LOCKS = 3;

/** The likely causes of a lock that disagrees with the model. */
const LOCK_CAUSES =
  'Lock objects that share an identity (one id per clerk, or one made from the time); an acquire that takes the key ' +
  'without checking it is free, or that does not recognise a free lock (no key, or the value a release left); ' +
  'acquire(0) read as "no timeout" (timeoutMs || Infinity); a release (or leaving an `await using` block) by a Lock that ' +
  'does not hold the lock that frees it anyway, or one that holds it that does not free it, or returns before it is free; ' +
  'or a lock name such as "__proto__", "constructor" or "" mishandled by the store; an acquire that gives up long ' +
  'after its timeout (a pause between tries of most of a second, or the deadline checked only after a long wait).';

/**
 * How long past its timeout an acquire on the reliable network may take before the step fails as unanswered: "false
 * once timeoutMs have passed" leaves room for a pause between tries and a round trip, not for a second's polling.
 */
const ACQUIRE_SLACK_MS = 200;

/** How much sooner than its timeout an acquire may return false: the clock's whole milliseconds (Date.now()) round. */
const EARLY_TOLERANCE_MS = 1;

/**
 * TestModelLock's timeouts: mostly short ones, and now and then a long one (a pause that grows while the lock stays
 * held must still end near the deadline; rare, since each look at a held lock costs a get). A function: fast-check
 * loads when a test first needs it (suite/fast-check.ts), never when the suite does.
 */
const SHORT_TIMEOUTS = [0, 0, 5, 50, -1, 2.5] as const;
const LONG_TIMEOUT = 1300;
const timeoutArb = (): fc.Arbitrary<number> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...SHORT_TIMEOUTS), weight: 8 },
    { arbitrary: fc.constant(LONG_TIMEOUT), weight: 1 },
  );

/** lock i's acquire(timeout): true exactly when the lock is free (on a reliable network, with nobody else waiting). */
class AcquireCommand implements fc.AsyncCommand<LockModel, LockReal> {
  readonly lock: number;
  readonly timeout: number;
  constructor(lock: number, timeout: number) {
    this.lock = lock;
    this.timeout = timeout;
  }
  check(m: Readonly<LockModel>): boolean {
    return m.holder !== this.lock; // acquiring a lock one already holds is not something the handout defines
  }
  async run(m: LockModel, r: LockReal): Promise<void> {
    const want = m.holder === undefined;
    const late = ACQUIRE_SLACK_MS + this.timeout;
    const started = performance.now();
    const got = await Promise.race([r.locks[this.lock].acquire(this.timeout), sleep(late).then(() => 'late' as const)]);
    const took = performance.now() - started;
    r.steps.push(
      `lock ${this.lock}'s acquire(${this.timeout}) ${got === 'late' ? `had not returned after ${late} ms` : `returned ${got} after ${took.toFixed(1)} ms`}`,
    );
    if (got === false && took < this.timeout - EARLY_TOLERANCE_MS)
      throw new ModelMismatch(
        r,
        `false no sooner than ${this.timeout} ms after the call (its timeout), having looked until then`,
        `false after ${took.toFixed(1)} ms`,
        'an acquire that gives up when its next look would fall after the deadline, instead of making its last look at ' +
          'the deadline (shorten the last pause to the time left); a deadline counted from an earlier moment than the call; ' +
          'or a timeout read in the wrong unit. ' +
          LOCK_CAUSES,
      );
    if (got !== want)
      throw new ModelMismatch(
        r,
        want
          ? 'true: the lock is free'
          : `false within about ${this.timeout} ms (at most ${late}): lock ${m.holder} holds it and has not released it`,
        got === 'late' ? `no answer within ${late} ms` : String(got),
        LOCK_CAUSES,
      );
    if (got) m.holder = this.lock;
  }
  toString(): string {
    return `lock ${this.lock}.acquire(${this.timeout})`;
  }
}

/** lock i's release() or leaving its `await using` block: frees the lock if i holds it, else changes nothing. */
class ReleaseCommand implements fc.AsyncCommand<LockModel, LockReal> {
  readonly lock: number;
  readonly dispose: boolean;
  constructor(lock: number, dispose: boolean) {
    this.lock = lock;
    this.dispose = dispose;
  }
  check(): boolean {
    return true;
  }
  async run(m: LockModel, r: LockReal): Promise<void> {
    const call = this.dispose ? '[Symbol.asyncDispose]()' : 'release()';
    const holds = m.holder === this.lock;
    let threw: unknown;
    try {
      if (this.dispose) await r.locks[this.lock][Symbol.asyncDispose]();
      else await r.locks[this.lock].release();
    } catch (err) {
      threw = err;
    }
    r.steps.push(`lock ${this.lock}'s ${call} ${threw === undefined ? 'returned' : `threw ${String(threw)}`}`);
    // Only release() by a Lock that does not hold the lock may throw (the handout allows it).
    if (threw !== undefined && (holds || this.dispose))
      throw new ModelMismatch(
        r,
        holds ? 'the lock released, without an error' : 'nothing to happen (this Lock does not hold the lock)',
        `an error (${String(threw)})`,
        LOCK_CAUSES,
      );
    if (holds) m.holder = undefined;
    // What it left is checked by the next acquire: another Lock's acquire(0) must see it free, or held.
  }
  toString(): string {
    return `lock ${this.lock}.${this.dispose ? 'dispose' : 'release'}()`;
  }
}

/** TestModelLock's grammar: acquires with short timeouts, releases and disposes, by any of the Lock objects. */
const lockCommands = (): Array<fc.Arbitrary<fc.AsyncCommand<LockModel, LockReal>>> => [
  fc.tuple(fc.integer({ min: 0, max: LOCKS - 1 }), timeoutArb()).map(([l, t]) => new AcquireCommand(l, t)),
  fc.tuple(fc.integer({ min: 0, max: LOCKS - 1 }), fc.boolean()).map(([l, d]) => new ReleaseCommand(l, d)),
];

/** Sequences per run, and their longest length. */
const LOCK_RUNS = 30;
const LOCK_MAX_COMMANDS = 25;

/** Builds a run's Lock objects on the lock name `name` (drawn from the grammar's keys). */
function lockSetup(ctx: Ctx, name: string): { model: LockModel; real: LockReal } {
  const ts = new KVTester(ctx, true);
  const shared = ts.makeClerk();
  const own = ts.makeClerk();
  const locks = [ts.makeLock(shared, name), ts.makeLock(shared, name), ts.makeLock(own, name)];
  return { model: new LockModel(), real: { locks, name, steps: [] } };
}

/** TestModelLock: random acquires and releases by three Lock objects, compared with the model after every step. */
export const modelLock: TestDefinition<Lab2Impl> = {
  name: 'TestModelLock',
  description: `${LOCK_RUNS} random sequences of up to ${LOCK_MAX_COMMANDS} acquire(0/5/50/-1/2.5, now and then ${LONG_TIMEOUT}), release() and \`await using\` exits by three Lock objects (two on one clerk) on a reliable network, the lock named like a key at the edges ("__proto__", "", ...): each answer as the handout says (acquire true exactly when the lock is free, and false when not, neither before its timeout nor more than ${ACQUIRE_SLACK_MS} ms after it; release by a non-holder changes nothing); the shortest failing sequence is printed as a replay`,
  async run(ctx: Ctx) {
    let runs = 0;
    for (const name of ['lock', '__proto__', '']) {
      const done = await runModelTest<LockModel, LockReal>({
        seed: ctx.seed,
        key: `TestModelLock/${name}`,
        what: `lab 2's lock (named ${show(name)}; Lock objects 0 and 1 share a clerk, 2 has its own)`,
        commands: lockCommands(),
        runs: LOCK_RUNS / 3,
        maxCommands: LOCK_MAX_COMMANDS,
        setup: () => lockSetup(ctx, name),
      });
      runs += done.runs;
    }
    ctx.log(`${runs} sequences agreed with the model`);
  },
};
