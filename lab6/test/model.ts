/**
 * Lab 6's executable specification of the key/value service (part 6): lab 2's versioned store, the model lab 2's
 * TestModelKV runs too, beside one clerk of a three-server group, with lost replies, leader changes and restarts
 * between and during the steps, so that puts are re-sent (TestModelKV).
 */
import { fc } from '../../suite/fast-check';
import { ModelMismatch, runModelTest, type StepLog } from '../../suite/model-based';
import type { TestContext, TestDefinition } from '../../suite';
import { sleep } from '../../world';
import { KVModel, sameGet, type PutRuleKind } from '../../suite/versioned-store';
import { VERSION_KINDS, versionKindArb, type VersionKind } from '../../suite/nemesis/version-grammar';
import { keyArb, valueKindArb, valueOf, type ValueKind } from '../../suite/nemesis/edge-grammar';
import type { PutResult } from '../kvapi';
import { ELECTION_TIMEOUT_MS, peerName, showCommand, type Lab6Impl } from './harness';
import { KvTester, NO_SNAPSHOTS, type RecordingClerk } from './kvharness';

type Ctx = TestContext<Lab6Impl>;

/** Servers in the group. */
const SERVERS = 3;
/** A huge value's length: large next to a key, small enough for a log that every put saves whole. */
const HUGE_BYTES = 8 * 1024;

/** The likely causes of a service that disagrees with the model, by what the model expected. */
const CAUSES: Record<'get' | PutRuleKind, string> = {
  get:
    'a Get answered from a server\u2019s own map instead of through the log (a deposed leader\u2019s copy is stale); a put ' +
    'applied twice, or lost across a leader change or a restart (an RSM that replays the log into a state machine that is ' +
    'not empty, or not at all; a submit that answers OK for an entry a new leader replaced); a store kept in a plain object ' +
    '(keys such as "__proto__", "constructor" or "toString" already exist there, and writing "__proto__" changes its ' +
    'prototype: use a Map); a put of the value the key already holds treated as nothing to do (it is still a put: the ' +
    'version goes up); an empty value taken for a missing key; or keys or values changed on the way.',
  version:
    'a version check other than exact equality (a version ahead, behind, negative, fractional or past 2^32 let through, or ' +
    'a version coerced to an integer); a re-sent put answered ErrVersion returned as ErrVersion by the clerk (it must be ' +
    'ErrMaybe: an earlier copy may have taken effect); a put applied twice or lost across a leader change or a restart; a ' +
    'put recognised as a re-sent copy by its value; a put of the value the key already holds treated as nothing to do; or a store kept in a plain object, where a key such as "__proto__" ' +
    'seems to exist already.',
  missing:
    'a missing key created by a version other than 0 (a check such as "version > 0" lets a negative or fractional version ' +
    'create it), or refused at version 0; ErrVersion where the key does not exist (ErrNoKey is the answer for a missing ' +
    'key, and a re-sent copy does not change that); or a store kept in a plain object, where a key such as "constructor" ' +
    'seems to exist already.',
};

/** The real side of a run: a fresh group of servers and one recorded clerk. */
interface KVReal extends StepLog {
  readonly ts: KvTester;
  readonly ck: RecordingClerk;
}

/** How long a step may take before it fails as unanswered (virtual ms): a leader change takes about two seconds. */
const STEP_LIMIT_MS = 20_000;
/** What a step's race gets when the operation is not answered in time. */
const LATE = Symbol('late');

/** Awaits the clerk's operation, or fails the step as unanswered after STEP_LIMIT_MS. */
async function answered<T>(r: KVReal, op: Promise<T>, what: string): Promise<T> {
  const got = await Promise.race([op, sleep(STEP_LIMIT_MS).then(() => LATE)]);
  if (got !== LATE) return got as T;
  r.steps.push(`${what} had not returned after ${STEP_LIMIT_MS / 1000} s`);
  throw new ModelMismatch(
    r,
    'an answer once a leader is elected (every server runs and reaches the others)',
    `no answer within ${STEP_LIMIT_MS / 1000} s`,
    'no leader elected (parts 1-3), a submit that never resolves once its entry is applied or its peer stops leading, or ' +
      'a clerk that stops trying other servers after a lost reply or ErrWrongLeader.',
  );
}

/** A key as the grammar names it: one of the edge keys, or the key of the last put. */
type KeyPick = string | { readonly last: true };
/** The grammar's "key of the last put". */
const LAST_KEY: KeyPick = { last: true };

/** The model, with the key of the last put (the grammar's LAST_KEY). */
export class ServiceModel extends KVModel {
  lastKey = 'k';
  /** The key a pick names. */
  keyOf(pick: KeyPick): string {
    return typeof pick === 'string' ? pick : this.lastKey;
  }
}

/** A pick, for a command's name. */
function showPick(pick: KeyPick): string {
  return typeof pick === 'string' ? showCommand(pick) : 'the last key put';
}

/** get(key), compared with the model. */
class GetCommand implements fc.AsyncCommand<ServiceModel, KVReal> {
  readonly key: KeyPick;
  constructor(key: KeyPick) {
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(m: ServiceModel, r: KVReal): Promise<void> {
    const key = m.keyOf(this.key);
    const want = m.get(key);
    const what = `get(${showCommand(key)})`;
    const got = await answered(r, r.ck.get(key), what);
    r.steps.push(`${what} returned ${showCommand(got)}`);
    if (!sameGet(got, want))
      throw new ModelMismatch(
        r,
        want.err === 'OK'
          ? `value ${showCommand(want.value)} (${want.value.length} chars) at version ${want.version}`
          : 'ErrNoKey: no put ever created this key',
        showCommand(got),
        CAUSES.get,
      );
  }
  toString(): string {
    return `get(${showPick(this.key)})`;
  }
}

/** What happens to a put while it runs: nothing, its first reply lost, or its leader cut off until others elect one. */
type Fault = 'none' | 'lost reply' | 'leader cut off';

/** How long a leader stays cut off: the others elect a new one meanwhile. */
const AWAY_MS = 2 * ELECTION_TIMEOUT_MS;
/** How long the clerk's link to a server stays cut when its reply is lost: its next copy goes out after it heals. */
const CUT_MS = 5;

/** The first server the clerk's call waits on within `ms`, or undefined (the put returned, or no call is out). */
async function waitedOn(r: KVReal, done: () => boolean, ms: number): Promise<number | undefined> {
  for (let t = 0; t < ms && !done(); t++) {
    for (let i = 0; i < SERVERS; i++) if (r.ts.waitsOn(r.ck, i)) return i;
    await sleep(1);
  }
  return undefined;
}

/** Applies the put's fault once its first copy is out, `after` ms later; returns what it did, for the replay. */
async function applyFault(r: KVReal, fault: Fault, after: number, done: () => boolean): Promise<string> {
  if (fault === 'none') return '';
  const at = await waitedOn(r, done, 200);
  if (at !== undefined) await sleep(after);
  if (fault === 'lost reply') {
    if (at === undefined || done() || !r.ts.waitsOn(r.ck, at)) return '; it returned before its link could be cut';
    r.ts.reach(r.ck, at, false);
    await sleep(CUT_MS);
    r.ts.reach(r.ck, at, true);
    return `; ${after} ms after its first copy went to ${peerName(at)}, the clerk's link to that server was cut for ${CUT_MS} ms (the copy's reply, or the copy, lost)`;
  }
  const leader = r.ts.leader();
  if (leader === undefined) return '; no server led yet, so none was cut off';
  r.ts.group.disconnect(leader);
  await sleep(AWAY_MS);
  r.ts.group.connect(leader);
  return `; ${after} ms after it went out, the leader ${peerName(leader)} was cut off from the other servers for ${AWAY_MS} ms (the clerk still reaching it)`;
}

/** put(key, value, version) under a fault, with the value and version drawn by kind and resolved against the model. */
class PutCommand implements fc.AsyncCommand<ServiceModel, KVReal> {
  readonly key: KeyPick;
  readonly valueKind: ValueKind;
  readonly versionKind: VersionKind;
  readonly fault: Fault;
  readonly after: number;
  constructor(key: KeyPick, valueKind: ValueKind, versionKind: VersionKind, fault: Fault, after: number) {
    this.key = key;
    this.valueKind = valueKind;
    this.versionKind = versionKind;
    this.fault = fault;
    this.after = after;
  }
  check(): boolean {
    return true;
  }
  async run(m: ServiceModel, r: KVReal): Promise<void> {
    const key = m.keyOf(this.key);
    m.lastKey = key;
    const version = VERSION_KINDS[this.versionKind](m.version(key));
    const value = valueOf(this.valueKind, m.n++, m.past(key), HUGE_BYTES);
    const call = `put(${showCommand(key)}, ${showCommand(value)} [${this.valueKind}], version ${version} [${this.versionKind}])`;
    let finished = false;
    const put = r.ck.put(key, value, version).finally(() => (finished = true));
    const fault = await applyFault(r, this.fault, this.after, () => finished);
    const got: PutResult = await answered(r, put, `${call}${fault}`);
    r.steps.push(`${call}${fault}; it returned ${got}`);
    const want = m.put(key, value, version);
    // A put the clerk sent more than once may say ErrMaybe for OK or ErrVersion: with one clerk, it took effect exactly
    // when the model says OK (an ErrVersion to a later copy means an earlier one moved the version).
    const allowed: PutResult[] = want.err === 'ErrNoKey' ? ['ErrNoKey'] : [want.err, 'ErrMaybe'];
    if (!allowed.includes(got))
      throw new ModelMismatch(
        r,
        `${want.err}${want.err === 'ErrNoKey' ? '' : ' (or ErrMaybe, if the clerk sent it more than once)'}: ${want.rule}`,
        got,
        CAUSES[want.kind],
      );
  }
  toString(): string {
    const fault = this.fault === 'none' ? '' : `, ${this.fault} after ${this.after} ms`;
    return `put(${showPick(this.key)}, ${this.valueKind} value, ${this.versionKind} version${fault})`;
  }
}

/** A server (the leader, or a server that does not lead) crashes and restarts from what it saved. */
class RestartCommand implements fc.AsyncCommand<ServiceModel, KVReal> {
  readonly leader: boolean;
  constructor(leader: boolean) {
    this.leader = leader;
  }
  check(): boolean {
    return true;
  }
  run(_m: ServiceModel, r: KVReal): Promise<void> {
    const leader = r.ts.leader();
    const i = this.leader ? (leader ?? 0) : ((leader ?? 0) + 1) % SERVERS;
    r.ts.group.restart(i);
    r.steps.push(`${peerName(i)}${i === leader ? ', the leader,' : ''} crashed and restarted from what it saved`);
    return Promise.resolve();
  }
  toString(): string {
    return `restart ${this.leader ? 'the leader' : 'a server that does not lead'}`;
  }
}

/** fast-check's draw of a key: the last one put as often as any edge key. */
const keyPickArb = (): fc.Arbitrary<KeyPick> => fc.oneof(keyArb(), fc.constant(LAST_KEY));
/** A put's fault: none half the time (a failing sequence shrinks towards none), a lost reply, or its leader cut off. */
const FAULTS: readonly Fault[] = ['none', 'none', 'none', 'lost reply', 'lost reply', 'leader cut off'];
const putArb = (): fc.Arbitrary<PutCommand> =>
  fc
    .tuple(keyPickArb(), valueKindArb(), versionKindArb(), fc.constantFrom(...FAULTS), fc.constantFrom(0, 2, 4, 8))
    .map(([k, value, version, fault, after]) => new PutCommand(k, value, version, fault, after));

/** The grammar: gets, puts (some with a lost reply or their leader cut off), restarts of the leader or another server. */
const commands = (): Array<fc.Arbitrary<fc.AsyncCommand<ServiceModel, KVReal>>> => [
  keyPickArb().map((k) => new GetCommand(k)),
  keyPickArb().map((k) => new GetCommand(k)),
  putArb(),
  putArb(),
  putArb(),
  putArb(),
  fc.boolean().map((leader) => new RestartCommand(leader)),
];

/** Sequences per run, and their longest length. */
const RUNS = 30;
const MAX_COMMANDS = 20;

/** A sequence's start: a fresh group of three servers (no snapshots) and one clerk. */
function setup(ctx: Ctx): { model: ServiceModel; real: KVReal } {
  const ts = new KvTester(ctx, { servers: SERVERS, maxRaftState: NO_SNAPSHOTS });
  return { model: new ServiceModel(), real: { ts, ck: ts.makeClerk(), steps: [] } };
}

/** TestModelKV: random gets and puts through the service, compared with lab 2's store after every step. */
export const modelKV: TestDefinition<Lab6Impl> = {
  name: 'TestModelKV',
  description: `${RUNS} random sequences of up to ${MAX_COMMANDS} gets and puts by one clerk on 3 servers (keys like __proto__, empty, numeric-looking, huge; versions negative, zero, fractional, huge, reused; values empty, huge, equal to the one held or held before), some puts losing their first reply or their leader (cut off until another is elected), servers restarted between steps: every answer as lab 2's store gives it (ErrMaybe only for a re-sent put), compared after every step; the shortest failing sequence is printed as a replay`,
  // Each leader change takes seconds of virtual time (which costs little real time).
  virtualLimitMs: 900_000,
  async run(ctx: Ctx) {
    const done = await runModelTest<ServiceModel, KVReal>({
      seed: ctx.seed,
      key: 'TestModelKV',
      what: "lab 2's versioned store (lab 6's service: 3 servers, one clerk)",
      commands: commands(),
      runs: RUNS,
      maxCommands: MAX_COMMANDS,
      setup: () => setup(ctx),
      teardown: (real) => {
        for (let i = 0; i < SERVERS; i++) real.ts.group.crash1(i);
      },
    });
    ctx.log(`${done.runs} sequences agreed with the model (fast-check seed ${done.fcSeed})`);
  },
};
