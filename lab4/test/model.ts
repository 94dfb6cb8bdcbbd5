/**
 * Lab 4's executable specification: a follower (Replicate, Get, Set, Status) and a leader with its followers cut off
 * and healed (Set, Get, Status), as the handout states them, run as sequential models beside the student's node on
 * random command sequences (TestModelReplication).
 */
import { fc } from '../../suite/fast-check';
import { ModelMismatch, runModelTest, type StepLog } from '../../suite/model-based';
import type { TestContext, TestDefinition } from '../../suite';
import { sleep } from '../../world';
import type { RpcEnd } from '../../labrpc';
import { SERVICE, type LogEntry, type ReplicateReply, type SetReply, type StatusReply } from '../rpc';
import { Lab4Tester, followerName, show, type Lab4Impl, type TestClerk } from './harness';
import { keyArb, valueKindArb, valueOf, type KeyPast, type ValueKind } from '../../suite/nemesis/edge-grammar';

type Ctx = TestContext<Lab4Impl>;

/** A log and the state it gives at each prefix: the model's half of both sub-models. */
export class LogModel {
  /** Entries by seq (the test's own log as a follower's leader, or the real leader's as the model sees it). */
  readonly entries = new Map<number, LogEntry>();
  /** Numbers fresh values. */
  n = 0;

  /** The data the log replayed from #1 to #seq gives. */
  stateAt(seq: number): Map<string, string> {
    const out = new Map<string, string>();
    for (let s = 1; s <= seq; s++) {
      const e = this.entries.get(s);
      if (e) out.set(e.key, e.value);
    }
    return out;
  }

  /** What `key` holds after #seq and held before (for values that repeat one). */
  past(key: string, seq: number): KeyPast {
    const values: string[] = [];
    for (let s = 1; s <= seq; s++) {
      const e = this.entries.get(s);
      if (e?.key === key) values.push(e.value);
    }
    return { held: values.at(-1), before: values.slice(0, -1) };
  }
}

/** The first way a node's reported data differs from `want`, or undefined. */
function dataDifference(want: ReadonlyMap<string, string>, st: StatusReply): string | undefined {
  const data = st.data;
  for (const [k, v] of want) {
    if (!Object.hasOwn(data, k)) return `key ${show(k)} is missing from its data (expected ${show(v)})`;
    if (data[k] !== v) return `key ${show(k)} is ${show(data[k])}, expected ${show(v)}`;
  }
  for (const k of Object.keys(data)) if (!want.has(k)) return `its data has key ${show(k)}, which no entry wrote`;
  if (st.dataCount !== want.size) return `dataCount is ${st.dataCount}, but the log writes ${want.size} keys`;
  return undefined;
}

/** The likely causes of a follower that disagrees with the model. */
const FOLLOWER_CAUSES =
  'a token compared loosely, or not checked before the entries (a call without the cluster\u2019s token must apply nothing, ' +
  'ErrForbidden); a gap taken for a batch to apply from its start (entries that start after lastSeq + 1 apply nothing: ' +
  'ErrGap), or a batch whose first entries are already held refused instead of skipped; lastSeq answered as the batch\u2019s ' +
  'last seq rather than what the follower holds; an empty batch refused; data kept in a plain object (keys such as ' +
  '"__proto__" or "constructor"); a value equal to the one held skipped; or a Set on a follower that changes its data.';

/** The real side of a follower sequence: the follower (the leader's link to it is cut), and ends to it. */
interface FollowerReal extends StepLog {
  readonly ts: Lab4Tester;
  readonly stranger: RpcEnd;
  readonly clerk: TestClerk;
}

/** Where a Replicate's entries start, relative to the follower's lastSeq `l`. */
const STARTS = {
  next: (l: number) => l + 1,
  'one held': (l: number) => Math.max(1, l),
  'two held': (l: number) => Math.max(1, l - 1),
  'from #1': () => 1,
  gap: (l: number) => l + 2,
  'far gap': (l: number) => l + 40,
} as const;
type Start = keyof typeof STARTS;

/** Which token a Replicate carries. */
type Token = 'the cluster\u2019s' | 'another' | 'empty';

/** Replicate(entries from `start`, `count` of them, `token`): new seqs get entries of the drawn keys and value kinds. */
class ReplicateCommand implements fc.AsyncCommand<FollowerState, FollowerReal> {
  readonly start: Start;
  readonly count: number;
  readonly token: Token;
  readonly writes: ReadonlyArray<readonly [string, ValueKind]>;
  constructor(start: Start, count: number, token: Token, writes: ReadonlyArray<readonly [string, ValueKind]>) {
    this.start = start;
    this.count = count;
    this.token = token;
    this.writes = writes;
  }
  check(): boolean {
    return true;
  }
  async run(m: FollowerState, r: FollowerReal): Promise<void> {
    const from = STARTS[this.start](m.applied);
    const entries: LogEntry[] = [];
    for (let s = from; s < from + this.count; s++) {
      if (!m.log.entries.has(s)) {
        const [key, kind] = this.writes[s % this.writes.length];
        m.log.entries.set(s, { seq: s, key, value: valueOf(kind, m.log.n++, m.log.past(key, s - 1), 2048) });
      }
      entries.push({ ...(m.log.entries.get(s) as LogEntry) });
    }
    const token = this.token === 'another' ? `${r.ts.token}-not` : this.token === 'empty' ? '' : r.ts.token;
    const want = m.replicate(entries, token === r.ts.token);
    const got = await r.stranger.call<ReplicateReply>(`${SERVICE}.Replicate`, { entries, token });
    const what = entries.length === 0 ? 'no entries' : `#${from}..#${from + entries.length - 1}`;
    r.steps.push(`Replicate(${what} [${this.start}], ${this.token} token) returned ${show(got, 80)}`);
    if (got?.err !== want.reply.err || got.lastSeq !== want.reply.lastSeq)
      throw new ModelMismatch(r, `${show(want.reply)}: ${want.rule}`, show(got, 200), FOLLOWER_CAUSES);
  }
  toString(): string {
    return `Replicate(${this.count} from ${this.start}, ${this.token} token)`;
  }
}

/** The model of one follower: the test's log (as its leader) and what the follower applied. */
export class FollowerState {
  readonly log = new LogModel();
  applied = 0;

  /** Replicate's answer and the handout's rule behind it; applies what the follower must apply. */
  replicate(entries: readonly LogEntry[], tokenOk: boolean): { reply: ReplicateReply; rule: string } {
    if (!tokenOk)
      return {
        reply: { err: 'ErrForbidden', lastSeq: this.applied },
        rule: 'a token that is not config.token applies nothing',
      };
    if (entries.length > 0 && entries[0].seq > this.applied + 1)
      return {
        reply: { err: 'ErrGap', lastSeq: this.applied },
        rule: `the first entry (#${entries[0].seq}) is beyond lastSeq + 1 (#${this.applied + 1}): a gap applies nothing`,
      };
    for (const e of entries) if (e.seq === this.applied + 1) this.applied = e.seq;
    return {
      reply: { err: 'OK', lastSeq: this.applied },
      rule: 'entries already held are skipped and the ones after lastSeq applied in order (an empty batch is fine)',
    };
  }
}

/** Get(key) at the follower: what the log applied so far wrote, or ErrNoKey. */
class FollowerGetCommand implements fc.AsyncCommand<FollowerState, FollowerReal> {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(m: FollowerState, r: FollowerReal): Promise<void> {
    const want = m.log.stateAt(m.applied).get(this.key);
    const got = await r.clerk.get(this.key);
    r.steps.push(`Get(${show(this.key)}) at the follower returned ${show(got, 80)}`);
    const ok = want === undefined ? got.err === 'ErrNoKey' : got.err === 'OK' && got.value === want;
    if (!ok)
      throw new ModelMismatch(
        r,
        want === undefined
          ? 'ErrNoKey: no entry it applied wrote that key'
          : `${show({ err: 'OK', value: want })}: the last entry it applied for that key`,
        show(got, 200),
        FOLLOWER_CAUSES,
      );
  }
  toString(): string {
    return `Get(${show(this.key)}) at the follower`;
  }
}

/** Set(key, value) at the follower: ErrNotLeader with a message, and nothing changes. */
class FollowerSetCommand implements fc.AsyncCommand<FollowerState, FollowerReal> {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(_m: FollowerState, r: FollowerReal): Promise<void> {
    const got: SetReply = await r.clerk.set(this.key, 'written to a follower');
    r.steps.push(`Set(${show(this.key)}, "written to a follower") at the follower returned ${show(got, 80)}`);
    if (!(got.err === 'ErrNotLeader' && typeof got.message === 'string' && got.message.length > 0))
      throw new ModelMismatch(
        r,
        '{"err":"ErrNotLeader","message":...} (a sentence for a person), changing nothing',
        show(got, 200),
        FOLLOWER_CAUSES,
      );
  }
  toString(): string {
    return `Set(${show(this.key)}) at the follower`;
  }
}

/** Status() of the follower: its role, lastSeq = commitSeq = what it applied, and exactly the data the log gives. */
class FollowerStatusCommand implements fc.AsyncCommand<FollowerState, FollowerReal> {
  check(): boolean {
    return true;
  }
  async run(m: FollowerState, r: FollowerReal): Promise<void> {
    const st = await r.ts.followers[0].Status({});
    r.steps.push(`Status() of the follower returned lastSeq ${st.lastSeq}, commitSeq ${st.commitSeq}, role ${st.role}`);
    const diff =
      st.role !== 'follower'
        ? `role ${show(st.role)}`
        : st.lastSeq !== m.applied || st.commitSeq !== m.applied
          ? `lastSeq ${st.lastSeq} and commitSeq ${st.commitSeq}`
          : dataDifference(m.log.stateAt(m.applied), st);
    if (diff !== undefined)
      throw new ModelMismatch(
        r,
        `role "follower", lastSeq and commitSeq ${m.applied}, and the data of entries #1..#${m.applied}`,
        diff,
        FOLLOWER_CAUSES,
      );
  }
  toString(): string {
    return 'Status() of the follower';
  }
}

/** A follower sequence's grammar. */
const followerCommands = (): Array<fc.Arbitrary<fc.AsyncCommand<FollowerState, FollowerReal>>> => [
  fc
    .tuple(
      fc.constantFrom(...(Object.keys(STARTS) as Start[])),
      fc.integer({ min: 0, max: 4 }),
      fc.constantFrom<Token>('the cluster\u2019s', 'the cluster\u2019s', 'the cluster\u2019s', 'another', 'empty'),
      fc.array(fc.tuple(keyArb(), valueKindArb()), { minLength: 1, maxLength: 4 }),
    )
    .map(([start, count, token, writes]) => new ReplicateCommand(start, count, token, writes)),
  fc
    .tuple(
      fc.constantFrom<Start>('next', 'one held'),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(keyArb(), valueKindArb()), { minLength: 1, maxLength: 4 }),
    )
    .map(([start, count, writes]) => new ReplicateCommand(start, count, 'the cluster\u2019s', writes)),
  keyArb().map((k) => new FollowerGetCommand(k)),
  keyArb().map((k) => new FollowerSetCommand(k)),
  fc.constant(new FollowerStatusCommand()),
];

/** A follower sequence's start: a cluster of one follower whose leader's link is cut, so only the test writes to it. */
function followerSetup(ctx: Ctx): { model: FollowerState; real: FollowerReal } {
  const ts = new Lab4Tester(ctx, { followers: 1, quorum: 1, reliable: true });
  ts.cut(0, true);
  return { model: new FollowerState(), real: { ts, stranger: ts.stranger(0), clerk: ts.clerk(0), steps: [] } };
}

/** The leader's model: its log, the highest seq known committed, and which followers are cut off. */
export class LeaderState {
  readonly log = new LogModel();
  /** Entries in the log (the last seq). */
  last = 0;
  /** Every entry up to here is committed (acknowledged, or reported as commitSeq). */
  sure = 0;
  readonly cut: boolean[];
  readonly quorum: number;
  constructor(followers: number, quorum: number) {
    this.cut = new Array<boolean>(followers).fill(false);
    this.quorum = quorum;
  }
  /** Followers the leader can reach. */
  reachable(): number {
    return this.cut.filter((c) => !c).length;
  }
}

/** The real side of a leader sequence: its cluster and a client of the leader. */
interface LeaderReal extends StepLog {
  readonly ts: Lab4Tester;
  readonly clerk: TestClerk;
}

/** The likely causes of a leader that disagrees with the model. */
const LEADER_CAUSES =
  'the leader applying a write to its data before W followers hold it, or never; commitSeq counted from the followers ' +
  'the leader sent to rather than those that answered; a quorum counted as more (or fewer) than W, or with the leader ' +
  'itself among the followers; seq numbers not 1, 2, 3, ... (a write that failed its quorum still takes its seq: it stays ' +
  'in the log); replicas counting followers that do not hold the write; a write answered before writeTimeoutMs with ' +
  'ErrNoQuorum while W followers were reachable, or OK while fewer were; followers not sent what they lack after they ' +
  'come back; or data kept in a plain object (keys such as "__proto__" or "constructor").';

/** Set(key, value) at the leader: OK with the next seq when W followers are reachable, else ErrNoQuorum. */
class LeaderSetCommand implements fc.AsyncCommand<LeaderState, LeaderReal> {
  readonly key: string;
  readonly kind: ValueKind;
  constructor(key: string, kind: ValueKind) {
    this.key = key;
    this.kind = kind;
  }
  check(): boolean {
    return true;
  }
  async run(m: LeaderState, r: LeaderReal): Promise<void> {
    const value = valueOf(this.kind, m.log.n++, m.log.past(this.key, m.last), 2048);
    const seq = ++m.last;
    m.log.entries.set(seq, { seq, key: this.key, value });
    const reachable = m.reachable();
    const got = await r.clerk.set(this.key, value);
    r.steps.push(`Set(${show(this.key)}, ${show(value)} [${this.kind}]) returned ${show(got, 80)}`);
    if (reachable >= m.quorum) {
      if (!(got.err === 'OK' && got.seq === seq && got.replicas >= m.quorum && got.replicas <= reachable))
        throw new ModelMismatch(
          r,
          `{"err":"OK","seq":${seq},"replicas":${m.quorum}..${reachable}}: ${reachable} followers are reachable and the quorum is ${m.quorum}, ` +
            `so the write is committed; it is the log's entry #${seq}`,
          show(got, 200),
          LEADER_CAUSES,
        );
      m.sure = seq;
    } else if (!(
      got.err === 'ErrNoQuorum' &&
      typeof got.message === 'string' &&
      got.message.length > 0 &&
      Number.isInteger(got.replicas) &&
      got.replicas >= 0 &&
      got.replicas <= reachable
    ))
      throw new ModelMismatch(
        r,
        `{"err":"ErrNoQuorum","message":...,"replicas":0..${reachable}}: only ${reachable} followers are reachable and the quorum is ${m.quorum}`,
        show(got, 200),
        LEADER_CAUSES,
      );
  }
  toString(): string {
    return `Set(${show(this.key)}, ${this.kind} value)`;
  }
}

/** Get(key) at the leader: what the log gives at a commit point the model allows (exactly, once all is committed). */
class LeaderGetCommand implements fc.AsyncCommand<LeaderState, LeaderReal> {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(m: LeaderState, r: LeaderReal): Promise<void> {
    const got = await r.clerk.get(this.key);
    r.steps.push(`Get(${show(this.key)}) at the leader returned ${show(got, 80)}`);
    const allowed = new Set<string | undefined>();
    for (let c = m.sure; c <= m.last; c++) allowed.add(m.log.stateAt(c).get(this.key));
    const value = got.err === 'OK' ? got.value : undefined;
    if (!allowed.has(value))
      throw new ModelMismatch(
        r,
        `${[...allowed].map((v) => (v === undefined ? 'ErrNoKey' : show(v))).join(' or ')}: the leader answers from the writes it committed ` +
          `(#1..#${m.sure} at least${m.last > m.sure ? `, #${m.last} at most` : ''})`,
        show(got, 200),
        LEADER_CAUSES,
      );
  }
  toString(): string {
    return `Get(${show(this.key)}) at the leader`;
  }
}

/** Status() of the leader: lastSeq the log's end, commitSeq between what is known committed and the end, data to match. */
class LeaderStatusCommand implements fc.AsyncCommand<LeaderState, LeaderReal> {
  check(): boolean {
    return true;
  }
  async run(m: LeaderState, r: LeaderReal): Promise<void> {
    const st = await r.ts.leader.Status({});
    r.steps.push(`Status() of the leader returned lastSeq ${st.lastSeq}, commitSeq ${st.commitSeq}, role ${st.role}`);
    const diff =
      st.role !== 'leader'
        ? `role ${show(st.role)}`
        : st.lastSeq !== m.last || st.commitSeq < m.sure || st.commitSeq > m.last
          ? `lastSeq ${st.lastSeq} and commitSeq ${st.commitSeq}`
          : dataDifference(m.log.stateAt(st.commitSeq), st);
    if (diff !== undefined)
      throw new ModelMismatch(
        r,
        `role "leader", lastSeq ${m.last}, commitSeq from ${m.sure} to ${m.last}, and exactly the data of entries #1..#commitSeq`,
        diff,
        LEADER_CAUSES,
      );
    m.sure = st.commitSeq;
  }
  toString(): string {
    return 'Status() of the leader';
  }
}

/** Cuts the leader's link to follower i, or restores it. */
class LinkCommand implements fc.AsyncCommand<LeaderState, LeaderReal> {
  readonly follower: number;
  readonly off: boolean;
  constructor(follower: number, off: boolean) {
    this.follower = follower;
    this.off = off;
  }
  check(m: Readonly<LeaderState>): boolean {
    return this.follower < m.cut.length && m.cut[this.follower] !== this.off;
  }
  run(m: LeaderState, r: LeaderReal): Promise<void> {
    r.ts.cut(this.follower, this.off);
    m.cut[this.follower] = this.off;
    r.steps.push(`the leader's link to ${followerName(this.follower)} ${this.off ? 'is cut' : 'comes back'}`);
    return Promise.resolve();
  }
  toString(): string {
    return `${this.off ? 'cut' : 'heal'} ${followerName(this.follower)}`;
  }
}

/** Virtual time a settle waits: several heartbeats and retries, so every reachable follower catches up. */
const SETTLE_MS = 400;

/** Waits SETTLE_MS, then: with W followers reachable everything is committed, and each follower holds a prefix of the log. */
class SettleCommand implements fc.AsyncCommand<LeaderState, LeaderReal> {
  check(): boolean {
    return true;
  }
  async run(m: LeaderState, r: LeaderReal): Promise<void> {
    await sleep(SETTLE_MS);
    r.steps.push(`${SETTLE_MS} ms pass`);
    if (m.reachable() >= m.quorum) m.sure = m.last;
    for (let i = 0; i < m.cut.length; i++) {
      const st = await r.ts.followers[i].Status({});
      const caughtUp = !m.cut[i];
      const diff =
        st.lastSeq > m.last || (caughtUp && st.lastSeq !== m.last)
          ? `lastSeq ${st.lastSeq}`
          : dataDifference(m.log.stateAt(st.lastSeq), st);
      if (diff !== undefined)
        throw new ModelMismatch(
          r,
          caughtUp
            ? `${followerName(i)} (reachable) to hold the whole log, #1..#${m.last}, after ${SETTLE_MS} ms`
            : `${followerName(i)} (cut off) to hold a prefix of the log, exactly the data of #1..#lastSeq`,
          `${followerName(i)}'s Status: ${diff}`,
          LEADER_CAUSES,
        );
    }
  }
  toString(): string {
    return 'settle';
  }
}

/** Followers in a leader sequence. */
const FOLLOWERS = 3;

/** A leader sequence's grammar. */
const leaderCommands = (): Array<fc.Arbitrary<fc.AsyncCommand<LeaderState, LeaderReal>>> => [
  fc.tuple(keyArb(), valueKindArb()).map(([k, kind]) => new LeaderSetCommand(k, kind)),
  fc.tuple(keyArb(), valueKindArb()).map(([k, kind]) => new LeaderSetCommand(k, kind)),
  keyArb().map((k) => new LeaderGetCommand(k)),
  fc.constant(new LeaderStatusCommand()),
  fc.tuple(fc.integer({ min: 0, max: FOLLOWERS - 1 }), fc.boolean()).map(([f, off]) => new LinkCommand(f, off)),
  fc.constant(new SettleCommand()),
];

/** A leader sequence's start: FOLLOWERS followers, quorum `quorum`, a short writeTimeoutMs. */
function leaderSetup(ctx: Ctx, quorum: number): { model: LeaderState; real: LeaderReal } {
  const ts = new Lab4Tester(ctx, {
    followers: FOLLOWERS,
    quorum,
    reliable: true,
    config: { writeTimeoutMs: 300 },
  });
  return { model: new LeaderState(FOLLOWERS, quorum), real: { ts, clerk: ts.clerk(), steps: [] } };
}

/** Sequences per part of the test, and their longest length. */
const RUNS = 12;
const MAX_COMMANDS = 20;

/** TestModelReplication: a follower's and a leader's answers on random sequences, compared with the model after every step. */
export const modelReplication: TestDefinition<Lab4Impl> = {
  name: 'TestModelReplication',
  description: `${RUNS} random sequences of up to ${MAX_COMMANDS} Replicate calls (re-sent, overlapping, after a gap, empty, with a wrong or empty token), Sets, Gets and Status at a follower, and ${RUNS} at each quorum 1-3 of a leader with 3 followers cut off and healed at random (Sets, Gets, Status, waits), keys and values at the edges (like __proto__, empty, huge, equal to the one held): each answer as the handout says; the shortest failing sequence is printed as a replay`,
  async run(ctx: Ctx) {
    await runModelTest<FollowerState, FollowerReal>({
      seed: ctx.seed,
      key: 'TestModelReplication/follower',
      what: "lab 4's follower (its leader's link cut: the test sends it the log itself)",
      commands: followerCommands(),
      runs: RUNS,
      maxCommands: MAX_COMMANDS,
      setup: () => followerSetup(ctx),
      teardown: (real) => real.ts.stop(),
    });
    for (let quorum = 1; quorum <= FOLLOWERS; quorum++) {
      await runModelTest<LeaderState, LeaderReal>({
        seed: ctx.seed,
        key: `TestModelReplication/leader-W${quorum}`,
        what: `lab 4's leader (${FOLLOWERS} followers, quorum ${quorum}, writeTimeoutMs 300)`,
        commands: leaderCommands(),
        runs: RUNS,
        maxCommands: MAX_COMMANDS,
        setup: () => leaderSetup(ctx, quorum),
        teardown: (real) => real.ts.stop(),
      });
    }
  },
};
