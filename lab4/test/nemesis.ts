// Lab 4's generic attackers: random clusters, workloads and fault schedules, judged only by what the handout promises.
/*
 * Each graded run plays several ROUNDS, each on a fresh cluster from the harness (3 to 5 followers, a random W,
 * maxBatch and writeTimeoutMs). A round has a FAULT phase: a network plan from suite/nemesis (drops, delays,
 * held replies, PCT delivery orders) plus the lab's own faults (followers restarted empty, crashed right after
 * applying a batch, started late, cut off, down for good, the quorum lost for longer than writeTimeoutMs, nodes
 * of another cluster among the leader's followers, an intruder's forged Replicate calls, old batches delivered
 * again), under a random workload (several clients, two tasks per client end, writes to the leader and to
 * followers, reads everywhere, edge keys and values). Then a HEAL phase: every pending operation must finish,
 * the followers that are up must converge to the leader's log without new writes, an idle cluster sends only
 * heartbeats, a follower restarted while idle is caught up, new writes are acknowledged at once, and after
 * _stop() the leader sends nothing. The checks use only Status, Get, Set's replies and the leader's own
 * Replicate calls as the harness records them.
 */
import { FAULTS, TimeoutError, type RpcEnd } from '../../labrpc';
import { World, keyedRng, sleep, type Rng } from '../../world';
import { TestFailure, isTestFailure, type TestContext, type TestDefinition } from '../../suite';
import { applyPlan, drawPlan, healNetwork, type NetworkPlan } from '../../suite/nemesis/plan';
import { EDGE_KEYS, edgeKeys, edgeValue } from '../../suite/nemesis/values';
import { GRAMMAR_KEYS, drawValueKind, valueOf, type KeyPast } from '../../suite/nemesis/edge-grammar';
import {
  DEFAULT_CONFIG,
  SERVICE,
  type GetReply,
  type KVNodeService,
  type LogEntry,
  type ReplicateArgs,
  type ReplicateReply,
  type SetReply,
} from '../rpc';
import { Lab4Tester, followerName, show, type Ack, type Lab4Impl, type Outsider } from './harness';

type Ctx = TestContext<Lab4Impl>;

/** The lab's own faults a round may use besides its network plan. */
export type LabFault =
  'restart' | 'crash-after-apply' | 'late-start' | 'cut' | 'outage' | 'dead' | 'outsider' | 'intruder' | 'duplicate';

/** How one attacker test explores: its rounds, the lab fault each of the first rounds always has, the others' odds. */
export interface NemesisProfile {
  readonly test: string;
  readonly rounds: number;
  /** Round i always has forced[i % length]: every graded run meets each of them. */
  readonly forced: readonly LabFault[];
  /** The chance of each other lab fault in a round. */
  readonly chance: Readonly<Partial<Record<LabFault, number>>>;
}

/** Everything drawn for one round before it starts. */
interface RoundSpec {
  readonly round: number;
  readonly followers: number;
  readonly quorum: number;
  readonly maxBatch: number;
  readonly writeTimeoutMs: number;
  readonly plan: NetworkPlan;
  readonly faults: ReadonlySet<LabFault>;
  /** Followers that crash during the fault phase and stay down (at most followers - quorum). */
  readonly dead: readonly number[];
  /** Followers that start only later in the fault phase. */
  readonly late: readonly number[];
  readonly outsiders: readonly OutsiderKind[];
  readonly clients: number;
  readonly faultMs: number;
  readonly keys: readonly string[];
  /** Names no one writes in this round: they must read as ErrNoKey everywhere, always. */
  readonly unwritten: readonly string[];
  /** Whether one write carries a value larger than any sensible byte bound on a batch. */
  readonly huge: boolean;
}

/** A node of another configuration put among the leader's followers. */
type OutsiderKind = 'other-cluster-follower' | 'wrong-token-follower' | 'other-cluster-leader';

/** Each kind of outsider, as a failure message names it. */
const OUTSIDER_WORDS: Readonly<Record<OutsiderKind, string>> = {
  'other-cluster-follower': "a follower of another cluster (with that cluster's token)",
  'wrong-token-follower': 'a follower configured with a wrong token',
  'other-cluster-leader': 'a leader of another cluster',
};

/** A write's value larger than the 1 MiB a batch should carry: it must still go, alone. */
const HUGE_VALUE_BYTES = 1_200_000;
/** Quiet time after the faults during which the cluster may send only heartbeats. */
const IDLE_MS = 600;
/** Writes into a healed, idle cluster, and how soon each must be acknowledged (links take about 1 ms). */
const WAKE_WRITES = 5;
const WAKE_LIMIT_MS = 15;
/** Virtual ms after _stop() during which the leader must send nothing. */
const STOP_WATCH_MS = 200;
/** Log lines per round for the nemesis's actions (the rest are counted). */
const MAX_EVENT_LINES = 40;

/** The replication attacker: restarts, crashes, late starts, cut links, intruders and old batches. */
export const REPLICATION_PROFILE: NemesisProfile = {
  test: 'TestNemesisReplication',
  rounds: 6,
  forced: ['restart', 'crash-after-apply', 'intruder', 'late-start', 'duplicate', 'cut'],
  chance: {
    restart: 0.5,
    'crash-after-apply': 0.4,
    'late-start': 0.3,
    cut: 0.5,
    outage: 0.45,
    dead: 0.25,
    outsider: 0.15,
    intruder: 0.4,
    duplicate: 0.4,
  },
};

/** The quorum attacker: outsiders among the followers, followers down for good, the quorum lost for a while. */
export const QUORUM_PROFILE: NemesisProfile = {
  test: 'TestNemesisQuorum',
  rounds: 6,
  forced: ['outsider', 'outage', 'dead', 'outsider', 'outage', 'dead'],
  chance: {
    restart: 0.4,
    'crash-after-apply': 0.2,
    'late-start': 0.2,
    cut: 0.3,
    outage: 0.5,
    dead: 0.4,
    outsider: 0.5,
    intruder: 0.15,
    duplicate: 0.15,
  },
};

const now = (): number => World.current().now();

/** `count` distinct numbers from 0..n-1 (fewer when n is smaller). */
function pickSome(rng: Rng, n: number, count: number, exclude: readonly number[] = []): number[] {
  const pool = Array.from({ length: n }, (_, i) => i).filter((i) => !exclude.includes(i));
  const out: number[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out.sort((a, b) => a - b);
}

/** Draws round `round` of `profile` from the run's seed. */
export function drawRound(seed: number, profile: NemesisProfile, round: number): RoundSpec {
  const rng = keyedRng(seed, `lab4-nemesis/${profile.test}/round-${round}`);
  const plan = drawPlan(rng, round);
  const faults = new Set<LabFault>([profile.forced[round % profile.forced.length]]);
  for (const [fault, p] of Object.entries(profile.chance) as Array<[LabFault, number]>)
    if (rng.chance(p)) faults.add(fault);
  const followers = rng.between(3, 5);
  let quorum = rng.between(1, followers);
  if (faults.has('dead') && quorum === followers) quorum = rng.between(1, followers - 1);
  const dead = faults.has('dead') ? pickSome(rng, followers, rng.between(1, followers - quorum)) : [];
  const late = faults.has('late-start') ? pickSome(rng, followers, rng.between(1, followers - 1), dead) : [];
  const outsiders: OutsiderKind[] = [];
  if (faults.has('outsider')) {
    for (let i = rng.between(1, 2); i > 0; i--)
      outsiders.push(rng.pick(['other-cluster-follower', 'wrong-token-follower', 'other-cluster-leader'] as const));
  }
  const writeTimeoutMs = rng.pick([200, 400, 1000]);
  // Edge keys, and one from the grammar TestModelReplication draws from (a 4 KiB key among them).
  const keys = [...new Set([...edgeKeys(rng, rng.between(4, 14)), rng.pick(GRAMMAR_KEYS)])];
  const unwritten = [...EDGE_KEYS, 'isPrototypeOf', 'valueOf', 'propertyIsEnumerable']
    .filter((k) => !keys.includes(k))
    .slice(0, 5);
  // Long enough for an outage that outlasts writeTimeoutMs.
  const faultMs = Math.max(rng.between(500, 1100), faults.has('outage') ? writeTimeoutMs + 700 : 0);
  return {
    round,
    followers,
    quorum,
    maxBatch: rng.pick([2, 3, 8, 16, 256]),
    writeTimeoutMs,
    plan,
    faults,
    dead,
    late,
    outsiders,
    clients: rng.between(2, 3),
    faultMs,
    keys,
    unwritten,
    huge: outsiders.length === 0 && rng.chance(0.8),
  };
}

/** One line saying what a round is. */
function describeSpec(spec: RoundSpec, network: string): string {
  const parts = [
    `${spec.followers} followers, W=${spec.quorum}, maxBatch ${spec.maxBatch}, writeTimeoutMs ${spec.writeTimeoutMs}`,
    `network: ${network}`,
    `lab faults: ${[...spec.faults].join(', ')}`,
  ];
  if (spec.dead.length > 0) parts.push(`down for good: ${spec.dead.map((i) => `${followerName(i)}`).join(', ')}`);
  if (spec.late.length > 0) parts.push(`starting late: ${spec.late.map((i) => `${followerName(i)}`).join(', ')}`);
  if (spec.outsiders.length > 0) parts.push(`among the leader's followers also: ${spec.outsiders.join(', ')}`);
  return parts.join('; ');
}

/** The leader's log as the harness saw it sent, indexed by key, to replay any prefix of it. */
class LogIndex {
  private readonly sent: ReadonlyMap<number, LogEntry>;
  private readonly byKey = new Map<string, { seqs: number[]; values: string[] }>();
  private upTo = 0;

  constructor(sent: ReadonlyMap<number, LogEntry>) {
    this.sent = sent;
  }

  /** Indexes the log up to `seq`; returns the first seq the leader never sent, or undefined. */
  private extend(seq: number): number | undefined {
    while (this.upTo < seq) {
      const e = this.sent.get(this.upTo + 1);
      if (!e) return this.upTo + 1;
      let slot = this.byKey.get(e.key);
      if (!slot) this.byKey.set(e.key, (slot = { seqs: [], values: [] }));
      slot.seqs.push(e.seq);
      slot.values.push(e.value);
      this.upTo++;
    }
    return undefined;
  }

  /** The data the log replayed from #1 to #seq gives, or the first seq in that range the leader never sent. */
  stateAt(seq: number): Map<string, string> | { missing: number } {
    const missing = this.extend(seq);
    if (missing !== undefined) return { missing };
    const out = new Map<string, string>();
    for (const [key, slot] of this.byKey) {
      // The last write of the key at or before seq (binary search).
      let lo = 0;
      let hi = slot.seqs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (slot.seqs[mid] <= seq) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) out.set(key, slot.values[lo - 1]);
    }
    return out;
  }

  /** Whether some entry the leader sent wrote `value` to `key`. */
  wrote(key: string, value: string): boolean {
    this.extend(Number.MAX_SAFE_INTEGER);
    return this.byKey.get(key)?.values.includes(value) ?? false;
  }
}

/** The first way `data` differs from `want`, in words, or undefined. */
function difference(want: ReadonlyMap<string, string>, data: Record<string, string>): string | undefined {
  if (data === null || typeof data !== 'object') return `its data is ${show(data)}, not an object`;
  for (const [k, v] of want) {
    if (!Object.hasOwn(data, k)) return `key ${show(k)} is missing (expected ${show(v)})`;
    if (data[k] !== v) return `key ${show(k)} is ${show(data[k])}, expected ${show(v)}`;
  }
  for (const k of Object.keys(data))
    if (!want.has(k)) return `it has key ${show(k)} (= ${show(data[k])}), which no entry wrote`;
  return undefined;
}

/** Numbers written in a message, except those right after '#' (sequence numbers). */
function countsIn(message: string): number[] {
  return [...message.matchAll(/(?<![#\d.])\d+(?![\d.])/g)].map((m) => Number(m[0]));
}

/** Who made a write, for messages: a workload client (0, 1, ...), the nemesis during an outage (-1), or the heal phase (-2). */
function writer(client: number): string {
  return client === -1
    ? 'A write made during the quorum outage'
    : client === -2
      ? 'A write made after the faults healed'
      : `Client ${client}'s write`;
}

/**
 * A value for write number n, half the time of the shapes of suite/nemesis/values.ts (sometimes empty, as the handout
 * allows), else from the kit's edge grammar (shared with TestModelReplication): empty, huge, "__proto__", non-ASCII,
 * or the value the key was last asked to hold or one it was asked to hold before, so that writes repeat values.
 */
function valueFor(rng: Rng, n: number, past: KeyPast): string {
  if (rng.chance(0.5)) return rng.chance(0.06) ? '' : edgeValue(rng, n, { hugeBytes: 2048 + rng.int(8192) });
  return valueOf(drawValueKind(rng), n, past, 2048 + rng.int(8192));
}

/** One round: its cluster, its workload's record, and the checks it makes as it goes. */
class Round {
  readonly ctx: Ctx;
  readonly profile: NemesisProfile;
  readonly spec: RoundSpec;
  readonly ts: Lab4Tester;
  readonly index: LogIndex;
  readonly rng: Rng;
  readonly acks: Ack[] = [];
  /** The values the workload asked the leader to write, by key (the last few): the grammar repeats them. */
  private readonly written = new Map<string, string[]>();
  /** Operations in progress, for the stuck report and the drain's message. */
  readonly pending = new Map<number, string>();
  /** Writes the nemesis itself makes (besides the workload's tasks); the heal phase waits for them too. */
  readonly extraWrites: Array<Promise<void>> = [];
  /** Per follower: how many faults hold its link from the leader cut (the link is up at 0). */
  private readonly holds: number[];
  private readonly events: string[] = [];
  private eventLines = 0;
  private highestCommit = { seq: 0, at: 0 };
  private opCount = 0;
  private writeCount = 0;
  /** While true the workload keeps going; the fault phase ends by setting it false. */
  running = true;
  /** The first error of a background task (workload, prober), thrown by the round at its next step. */
  private failure: { error: unknown } | undefined;
  network = '';
  /** Extra ms any message of the fault phase may take beyond its normal delay (unreliable delays, PCT, held replies). */
  readonly slackMs: number;

  constructor(ctx: Ctx, profile: NemesisProfile, spec: RoundSpec, otherToken: string) {
    this.ctx = ctx;
    this.profile = profile;
    this.spec = spec;
    this.rng = keyedRng(ctx.seed, `lab4-nemesis/${profile.test}/round-${spec.round}/nemesis`);
    const pctMs = spec.plan.pct ? 2 * (spec.plan.pct.depth + 1) * spec.plan.pct.spanMs : 0;
    this.slackMs = 2 * (FAULTS.unreliableDelayMs + 1) + pctMs + (spec.plan.longReordering ? 2300 : 0) + 10;
    this.holds = new Array<number>(spec.followers).fill(0);
    this.ts = new Lab4Tester(ctx, {
      followers: spec.followers,
      quorum: spec.quorum,
      reliable: true,
      config: { maxBatch: spec.maxBatch, writeTimeoutMs: spec.writeTimeoutMs },
      outsiders: spec.outsiders.map((kind, j) => this.outsider(kind, j, otherToken)),
    });
    this.index = new LogIndex(this.ts.sent);
    this.ts.context = () =>
      `Round ${spec.round} of ${profile.test} (${describeSpec(spec, this.network)}; the nemesis's last actions: ${this.recentEvents()})`;
    ctx.onStuck(() => [...this.pending.values()].map((p) => `round ${spec.round}: ${p}`));
  }

  /** Builds an outsider of the given kind: it answers the leader but holds none of this cluster's writes. */
  private outsider(kind: OutsiderKind, j: number, otherToken: string): Outsider {
    const rng = keyedRng(this.ctx.seed, `lab4-nemesis/${this.profile.test}/round-${this.spec.round}/outsider-${j}`);
    const KVNode = this.ctx.impl.KVNode;
    const base = { ...DEFAULT_CONFIG, maxBatch: this.spec.maxBatch, id: `outsider-${j + 1}` };
    // Its own log is long, so a leader that believed the lastSeq it answers would count it for every write.
    const foreign = rng.between(300, 3000);
    const at = rng.int(this.spec.followers + j + 1);
    const make = (): KVNodeService => {
      if (kind === 'other-cluster-leader') {
        const silent: RpcEnd = { call: () => new Promise<never>(() => undefined) };
        const node = new KVNode({ ...base, role: 'leader', quorum: 1, token: otherToken, writeTimeoutMs: 1e9 }, [
          silent,
        ]);
        for (let s = 1; s <= foreign; s++) void Promise.resolve(node.Set({ key: `theirs-${s % 7}`, value: `${s}` }));
        return node;
      }
      const token = kind === 'other-cluster-follower' ? otherToken : `wrong-${rng.string(8)}`;
      const node = new KVNode({ ...base, role: 'follower', quorum: 1, token }, []);
      if (kind === 'other-cluster-follower') {
        const entries = Array.from({ length: foreign }, (_, s) => ({
          seq: s + 1,
          key: `theirs-${s % 7}`,
          value: `${s}`,
        }));
        void Promise.resolve(node.Replicate({ entries, token }));
      }
      return node;
    };
    const what =
      kind === 'other-cluster-leader'
        ? `a leader of another cluster (its log ends at #${foreign})`
        : kind === 'other-cluster-follower'
          ? `a follower of another cluster (holding its #1..#${foreign}, with that cluster's token)`
          : 'a follower configured with a wrong token';
    return { at, make, what };
  }

  /** Adds a line to the round's record of what the nemesis did (the failure message shows the last ones). */
  note(what: string): void {
    const line = `${now().toFixed(1)} ms: ${what}`;
    this.events.push(line);
    if (this.eventLines++ < MAX_EVENT_LINES) this.ctx.log(`round ${this.spec.round} at ${line}`);
  }

  /** The last few actions, for a failure message. */
  recentEvents(): string {
    const last = this.events.slice(-8);
    return last.length === 0 ? 'none yet' : last.join('; ');
  }

  /** Cuts follower i's link from the leader, counting holds so that overlapping faults compose. */
  hold(i: number): void {
    if (this.holds[i]++ === 0) this.ts.cut(i, true);
  }

  /** Releases one hold on follower i's link; the link comes back when no fault holds it. */
  release(i: number): void {
    if (--this.holds[i] === 0) this.ts.cut(i, false);
  }

  /** Whether follower i is up for good (not among the dead). */
  isLive(i: number): boolean {
    return !this.spec.dead.includes(i);
  }

  /** Runs a background task; its first error stops the workload and is thrown by throwIfFailed. */
  guard(task: Promise<unknown>): Promise<void> {
    return task.then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
        this.running = false;
      },
    );
  }

  /** Whether a background task has failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Throws the first error of a background task, if any. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Fails the round with a message a student can act on. */
  fail(message: string): never {
    throw new TestFailure(message);
  }

  /** Runs `op` as a tracked operation (its description shows if the run gets stuck). */
  async track<T>(what: string, op: () => Promise<T>): Promise<T> {
    const id = this.opCount++;
    this.pending.set(id, `${what} (sent at ${now().toFixed(1)} ms)`);
    try {
      return await op();
    } finally {
      this.pending.delete(id);
    }
  }

  /** Checks the leader's Status: its commit point only grows, is held by W followers, and its data is the log to there. */
  async probeLeader(noData: boolean): Promise<void> {
    const st = await this.ts.leader.Status({ noData });
    this.ctx.countOps();
    const at = `${now().toFixed(1)} ms`;
    if (st.role !== 'leader') this.fail(`The leader's Status reports role ${show(st.role)}; expected "leader".`);
    if (!(
      Number.isInteger(st.commitSeq) &&
      Number.isInteger(st.lastSeq) &&
      st.commitSeq >= 0 &&
      st.commitSeq <= st.lastSeq
    ))
      this.fail(
        `At ${at} the leader's Status reports lastSeq ${show(st.lastSeq)} and commitSeq ${show(st.commitSeq)}; both are whole numbers and the commit point never passes the log's end.`,
      );
    if (st.commitSeq < this.highestCommit.seq) {
      this.fail(
        `The leader's commitSeq went back from #${this.highestCommit.seq} (at ${this.highestCommit.at.toFixed(1)} ms) to #${st.commitSeq} (at ${at}). ` +
          'An entry once committed stays committed, even when followers that held it restart empty: recompute the commit point only upwards ' +
          '(lowering it makes the leader apply old entries again, so its reads go back in time).',
      );
    }
    if (st.commitSeq > this.highestCommit.seq) this.highestCommit = { seq: st.commitSeq, at: now() };
    if (noData && Object.keys(st.data ?? {}).length > 0)
      this.fail(
        `The leader's Status({ noData: true }) returned ${Object.keys(st.data).length} keys of data; noData asks for none (data {}).`,
      );
    const want = this.index.stateAt(st.commitSeq);
    if (!(want instanceof Map))
      this.fail(
        `At ${at} the leader reports commitSeq #${st.commitSeq}, but it never sent entry #${want.missing} to any follower: an entry is committed only once W followers hold it.`,
      );
    const applyCauses =
      'Likely causes: the leader applies a write to its data before W followers hold it; its Status reports the end of its log (or a count it never ' +
      'checked against the followers) as commitSeq; or it applies entries again, or out of order, after its commit point moved.';
    if (st.dataCount !== want.size)
      this.fail(
        `At ${at} the leader's Status${noData ? '({ noData: true })' : ''} reports commitSeq #${st.commitSeq} and dataCount ${st.dataCount}, but the log replayed from #1 to #${st.commitSeq} writes ${want.size} keys. ` +
          `The leader's data is exactly its committed entries applied in order${noData ? ', and noData leaves out the data, not its count' : ''}. ${applyCauses}`,
      );
    if (!noData) {
      const diff = difference(want, st.data);
      if (diff)
        this.fail(
          `At ${at} the leader's data is not its log replayed from #1 to its commitSeq #${st.commitSeq}: ${diff}. The leader applies a write only once it is committed, in seq order. ${applyCauses}`,
        );
    }
    if (st.commitSeq > 0) {
      const { holders } = await this.ts.holdersOf(st.commitSeq, true);
      if (holders.length < this.spec.quorum)
        this.fail(
          `At ${at} the leader reports commitSeq #${st.commitSeq}, but only ${holders.length} follower(s) hold that entry or ever held it (${holders.join(', ') || 'none'}); ` +
            `with W=${this.spec.quorum} an entry is committed only once ${this.spec.quorum} of the cluster's followers hold it. ` +
            `Likely causes: an answer that is not OK or ErrGap (ErrForbidden, ErrNotFollower: a node of another cluster among the followers) is taken as ` +
            `holding the entries; commitSeq reports the log's end; or the leader counts itself.`,
        );
    }
  }

  /** Checks follower i's Status: its data is exactly the leader's log replayed to its lastSeq. */
  async probeFollower(i: number): Promise<void> {
    const st = await this.ts.followers[i].Status({});
    this.ctx.countOps();
    const at = `${now().toFixed(1)} ms`;
    if (st.role !== 'follower')
      this.fail(`Follower ${i + 1}'s Status reports role ${show(st.role)}; expected "follower".`);
    if (!(Number.isInteger(st.lastSeq) && st.lastSeq >= 0))
      this.fail(`At ${at} ${followerName(i)}'s Status reports lastSeq ${show(st.lastSeq)}; expected a whole number.`);
    const causes =
      "A follower passes through exactly the leader's states: it applies only the calls that carry its token, only entries whose seq is lastSeq + 1, " +
      'each once. Likely causes: it applied a Replicate from a client that is not its leader (an intruder\'s values start with "forged-by-intruder"), ' +
      "applied an old batch delivered again over newer entries, applied entries after a gap, took a client's write, or reports a lastSeq that is not what it applied.";
    const want = this.index.stateAt(st.lastSeq);
    if (!(want instanceof Map))
      this.fail(
        `At ${at} ${followerName(i)} reports lastSeq #${st.lastSeq}, but the leader never sent entry #${want.missing}: the follower holds entries that did not come from its leader. ${causes}`,
      );
    const diff = difference(want, st.data);
    if (diff)
      this.fail(
        `At ${at} ${followerName(i)}'s data is not the leader's log replayed from #1 to its lastSeq #${st.lastSeq}: ${diff}. ${causes}`,
      );
    if (st.dataCount !== want.size)
      this.fail(
        `At ${at} ${followerName(i)}'s Status reports dataCount ${st.dataCount} with ${want.size} keys in its data.`,
      );
  }

  /** One write to the leader, one attempt; the reply is checked against what the handout promises. */
  async writeToLeader(end: RpcEnd, rng: Rng, client: number): Promise<void> {
    const n = ++this.writeCount;
    const key = rng.pick(this.spec.keys);
    const past = this.written.get(key) ?? [];
    const value =
      this.spec.huge && n === 5
        ? `${n}`.padEnd(HUGE_VALUE_BYTES, 'h')
        : valueFor(rng, n, { held: past.at(-1), before: past.slice(0, -1) });
    this.written.set(key, [...past.slice(-7), value]);
    const sent = now();
    let reply: SetReply;
    try {
      reply = await this.track(`${writer(client)} of ${show(key)}=${show(value)} to the leader`, () =>
        end.call<SetReply>(`${SERVICE}.Set`, { key, value }),
      );
    } catch (err) {
      if (err instanceof TimeoutError) return; // lost: it may or may not be in the log
      throw err;
    }
    this.ctx.countOps();
    const took = now() - sent;
    const what = `${writer(client)} of ${show(key)}=${show(value)}, sent to the leader at ${sent.toFixed(1)} ms,`;
    const limit = this.spec.writeTimeoutMs + this.slackMs;
    if (took > limit)
      this.fail(
        `${what} was answered ${took.toFixed(1)} ms later (${show(reply, 200)}); writeTimeoutMs is ${this.spec.writeTimeoutMs}, and the network can add at most ` +
          `${this.slackMs.toFixed(0)} ms. A write not committed within writeTimeoutMs is answered ErrNoQuorum: give each waiting write its own timer from when it arrives.`,
      );
    if (reply.err === 'OK') {
      if (!(Number.isInteger(reply.seq) && reply.seq >= 1))
        this.fail(`${what} was acknowledged with seq ${show(reply.seq)}; sequence numbers are 1, 2, 3, ...`);
      this.acks.push({ client, seq: reply.seq, key, value, latencyMs: took });
      return;
    }
    if (reply.err !== 'ErrNoQuorum')
      this.fail(
        `${what} returned ${show(reply, 200)}; the leader answers OK or, after writeTimeoutMs without a quorum, ErrNoQuorum.`,
      );
    if (took < this.spec.writeTimeoutMs - 1e-6)
      this.fail(
        `${what} was answered ErrNoQuorum after only ${took.toFixed(1)} ms; writeTimeoutMs is ${this.spec.writeTimeoutMs}. Each write waits for its quorum until its ` +
          'own deadline, counted from when it arrived. Likely causes: one write timing out fails the others still waiting; a deadline counted from another write; a shared timer.',
      );
    const counts = countsIn(typeof reply.message === 'string' ? reply.message : '');
    if (!counts.some((c) => c < this.spec.quorum))
      this.fail(
        `${what} was refused with ErrNoQuorum and the message ${show(reply.message, 300)}; with W=${this.spec.quorum} the message must say how many followers ` +
          `confirmed the write (a number below ${this.spec.quorum}).`,
      );
    if (!(Number.isInteger(reply.replicas) && reply.replicas >= 0 && reply.replicas < this.spec.quorum))
      this.fail(
        `${what} was refused with ErrNoQuorum and replicas ${show(reply.replicas)}; with W=${this.spec.quorum} replicas is how many followers held the ` +
          `write when its time ran out: a whole number from 0 to ${this.spec.quorum - 1}.`,
      );
  }

  /** A write sent to a follower: ErrNotLeader with a message, and nothing changes (the probes check that). */
  async writeToFollower(end: RpcEnd, i: number, rng: Rng): Promise<void> {
    const key = rng.pick(this.spec.keys);
    const value = `sent-to-follower-${++this.writeCount}`;
    let reply: SetReply;
    try {
      reply = await this.track(`a write of ${show(key)} to ${followerName(i)}`, () =>
        end.call<SetReply>(`${SERVICE}.Set`, { key, value }),
      );
    } catch (err) {
      if (err instanceof TimeoutError) return;
      throw err;
    }
    this.ctx.countOps();
    if (!(reply.err === 'ErrNotLeader' && typeof reply.message === 'string' && reply.message.length > 0))
      this.fail(
        `A write of ${show(key)}=${show(value)} sent to ${followerName(i)} returned ${show(reply, 200)}; only the leader takes writes: a follower answers ErrNotLeader with a message and changes nothing.`,
      );
  }

  /** A read at a node: a value some entry of the log wrote to that key, or ErrNoKey; never-written names are ErrNoKey. */
  async read(end: RpcEnd, who: string, rng: Rng): Promise<void> {
    const unwritten = rng.chance(0.2);
    const key = rng.pick(unwritten ? this.spec.unwritten : this.spec.keys);
    let reply: GetReply;
    try {
      reply = await this.track(`a read of ${show(key)} at ${who}`, () => end.call<GetReply>(`${SERVICE}.Get`, { key }));
    } catch (err) {
      if (err instanceof TimeoutError) return;
      throw err;
    }
    this.ctx.countOps();
    if (reply.err === 'ErrNoKey') return;
    if (unwritten || reply.err !== 'OK' || typeof reply.value !== 'string' || !this.index.wrote(key, reply.value))
      this.fail(
        `Get(${show(key)}) at ${who} returned ${show(reply, 200)}; ${unwritten ? 'no one ever wrote that key, so ErrNoKey is the only answer (keep the data in a Map, or an object without a prototype)' : "expected ErrNoKey or a value the leader's log wrote to that key"}.`,
      );
  }
}

/** One client task: random operations until the fault phase ends. */
async function workload(
  rd: Round,
  client: number,
  task: number,
  leaderEnd: RpcEnd,
  followerEnds: RpcEnd[],
): Promise<void> {
  const rng = keyedRng(
    rd.ctx.seed,
    `lab4-nemesis/${rd.profile.test}/round-${rd.spec.round}/client-${client}/task-${task}`,
  );
  while (rd.running) {
    await sleep(1 + rng.int(20));
    if (!rd.running) break;
    const r = rng.float();
    const f = rng.int(rd.spec.followers);
    if (r < 0.62) await rd.writeToLeader(leaderEnd, rng, client);
    else if (r < 0.8) await rd.read(followerEnds[f], `${followerName(f)}`, rng);
    else if (r < 0.88) await rd.read(leaderEnd, 'the leader', rng);
    else if (r < 0.92) await rd.writeToFollower(followerEnds[f], f, rng);
    else await rd.probeFollower(f);
  }
}

/** Probes the leader's and the followers' Status every few ms while the fault phase lasts. */
async function prober(rd: Round): Promise<void> {
  const rng = keyedRng(rd.ctx.seed, `lab4-nemesis/${rd.profile.test}/round-${rd.spec.round}/prober`);
  while (rd.running) {
    await sleep(1 + rng.int(6));
    await rd.probeLeader(rng.chance(0.5));
    if (rng.chance(0.5)) await rd.probeFollower(rng.int(rd.spec.followers));
  }
}

/** A client that is not the leader sends follower i a Replicate with a wrong or missing token: it must be refused. */
async function intrude(rd: Round, end: RpcEnd, i: number, otherToken: string): Promise<void> {
  const before = await rd.ts.followers[i].Status({ noData: true });
  const n = rd.rng.between(1, 3);
  const start = rd.rng.pick([before.lastSeq + 1, 1, before.lastSeq + 4]);
  const entries = Array.from({ length: n }, (_, k) => ({
    seq: start + k,
    key: rd.rng.pick(rd.spec.keys),
    value: `forged-by-intruder-${rd.rng.int(1000)}`,
  }));
  const tokens: Array<[string, Record<string, unknown>]> = [
    ['no token', {}],
    ['an empty token', { token: '' }],
    ["another cluster's token", { token: otherToken }],
    ['the token with one more character', { token: `${rd.ts.token}x` }],
    ['the token without its last character', { token: rd.ts.token.slice(0, -1) }],
    ["the leader's id as token", { token: 'leader' }],
  ];
  const [what, token] = rd.rng.pick(tokens);
  const args = { entries, ...token };
  rd.note(`an intruder sends ${followerName(i)} a Replicate with ${what}, entries #${start}..#${start + n - 1}`);
  let reply: ReplicateReply;
  try {
    reply = await end.call<ReplicateReply>(`${SERVICE}.Replicate`, args);
  } catch (err) {
    if (err instanceof TimeoutError) return;
    throw err;
  }
  rd.ctx.countOps();
  if (reply.err !== 'ErrForbidden')
    rd.fail(
      `A client that is not the leader sent ${followerName(i)} a Replicate with ${what} (${show(args, 200)}); the follower answered ${show(reply)}. ` +
        "Expected ErrForbidden, whatever the entries (next, from #1, or beyond a gap): check the token first, and apply nothing from a call without the cluster's token.",
    );
  await rd.probeFollower(i);
}

/** Delivers follower i an old run of the leader's log again, with the leader's token (a duplicate the network kept). */
async function duplicate(rd: Round, i: number): Promise<void> {
  let top = 0;
  while (rd.ts.sent.has(top + 1)) top++;
  if (top === 0) return;
  const node = rd.ts.followers[i];
  const before = await node.Status({ noData: true });
  // Half the time a run the follower already holds all of (a late copy of an old batch), else anywhere in the log.
  let from: number;
  let to: number;
  if (before.lastSeq >= 2 && before.lastSeq <= top && rd.rng.chance(0.5)) {
    to = rd.rng.between(1, before.lastSeq - 1);
    from = Math.max(1, to - rd.rng.int(rd.spec.maxBatch));
  } else {
    from = rd.rng.between(1, top);
    to = Math.min(top, from + rd.rng.int(rd.spec.maxBatch));
  }
  const entries: LogEntry[] = [];
  for (let s = from; s <= to; s++) {
    const e = rd.ts.sent.get(s) as LogEntry;
    entries.push({ seq: e.seq, key: e.key, value: e.value });
  }
  rd.note(`entries #${from}..#${to} reach ${followerName(i)} again (it holds up to #${before.lastSeq})`);
  const args: ReplicateArgs = { entries, token: rd.ts.token };
  const out = node.Replicate(args);
  const reply = await out;
  if (!(out instanceof Promise)) {
    // Answered at once, so nothing else ran in between: the answer is exactly determined.
    const want: ReplicateReply =
      from > before.lastSeq + 1
        ? { err: 'ErrGap', lastSeq: before.lastSeq }
        : { err: 'OK', lastSeq: Math.max(before.lastSeq, to) };
    if (reply.err !== want.err || reply.lastSeq !== want.lastSeq)
      rd.fail(
        `Follower ${i + 1}, holding #1..#${before.lastSeq}, got the leader's entries #${from}..#${to} again (a batch the network delivered late) and answered ${show(reply)}; ` +
          `expected ${show(want)}: ${from > before.lastSeq + 1 ? 'the entries start after a gap, so nothing is applied' : 'entries already held are skipped, the ones after lastSeq applied in order'}. ` +
          'Likely causes: the answer carries the last seq of the batch it was sent instead of the last one the follower holds; ' +
          'an old batch applied again over newer entries; a gap checked against the batch instead of lastSeq + 1.',
      );
  }
  await rd.probeFollower(i);
}

/**
 * The quorum is lost for longer than writeTimeoutMs: N - W + 1 followers are cut off from the leader. Sometimes one
 * of the W - 1 still reachable, which holds the writes no quorum has, restarts empty and is cut off as soon as the
 * leader has its answer (so the leader knows it lost them); the others come back one at a time.
 */
async function outage(rd: Round): Promise<void> {
  const { spec, ts, rng } = rd;
  await sleep(rng.int(Math.max(1, spec.faultMs - spec.writeTimeoutMs - 500)));
  const count = spec.followers - spec.quorum + 1;
  const out = [...spec.dead, ...pickSome(rng, spec.followers, count, spec.dead)].slice(0, count);
  const lasts = spec.writeTimeoutMs + rng.between(100, 400);
  for (const i of out) rd.hold(i);
  rd.note(`quorum lost for ${lasts} ms: followers ${out.map((i) => i + 1).join(', ')} cut off from the leader`);
  const started = now();
  const reachable = Array.from({ length: spec.followers }, (_, i) => i).filter((i) => !out.includes(i) && rd.isLive(i));
  let forgetter: number | undefined;
  if (reachable.length > 0 && rng.chance(0.85)) {
    const r = rng.pick(reachable);
    // Late in the outage: writes it took just before are still waiting for their quorum when the others return.
    await sleep(Math.max(20, lasts - rng.between(30, 150)));
    // A few writes that only the reachable followers (r among them) can take, then r restarts and forgets them.
    const end = ts.rawClient();
    for (let k = rng.between(1, 3); k > 0; k--) rd.extraWrites.push(rd.guard(rd.writeToLeader(end, rng, -1)));
    await sleep(rng.between(3, 10));
    ts.cutWhenRestartAnswered(r);
    ts.restartFollower(r);
    // A write right away makes the leader's next call to it carry entries (answered ErrGap), not a heartbeat.
    const write = rng.chance(0.6);
    rd.note(
      `${followerName(r)}, which holds writes no quorum has, restarts empty and is cut off once the leader has its answer` +
        (write ? ' (a write follows at once)' : ''),
    );
    if (write) rd.extraWrites.push(rd.guard(rd.writeToLeader(end, rng, -1)));
    const since = now();
    while (!ts.restartAnswered(r) && now() - since < 300) await sleep(1);
    // From here on r is held cut off (the tester may have cut it already, or the leader may not have heard from it).
    ts.cutWhenRestartAnswered(r, false);
    rd.hold(r);
    forgetter = r;
  }
  await sleep(Math.max(0, lasts - (now() - started)));
  for (const i of out) {
    rd.release(i);
    rd.note(`${followerName(i)} reachable again`);
    await sleep(rng.between(0, 60));
  }
  if (forgetter !== undefined) {
    await sleep(rng.between(20, 200));
    rd.release(forgetter);
    rd.note(`${followerName(forgetter)} reachable again`);
  }
}

/** The nemesis of the fault phase: the round's lab faults at random times. */
async function nemesis(rd: Round, otherToken: string): Promise<void> {
  const { spec, ts, rng } = rd;
  const kinds = (['restart', 'crash-after-apply', 'cut', 'intruder', 'duplicate'] as const).filter((k) =>
    spec.faults.has(k),
  );
  const side: Array<Promise<void>> = [];
  const intruderEnds: Array<RpcEnd | undefined> = [];
  const end = now() + spec.faultMs;
  const live = (): number[] => Array.from({ length: spec.followers }, (_, i) => i).filter((i) => rd.isLive(i));
  // Late starters come up at random times; the dead go down once and stay down.
  for (const i of spec.late) {
    side.push(
      (async () => {
        await sleep(rng.int(spec.faultMs));
        ts.restartFollower(i);
        rd.release(i);
        rd.note(`${followerName(i)} starts (late, empty)`);
      })(),
    );
  }
  for (const i of spec.dead) {
    side.push(
      (async () => {
        await sleep(rng.int(Math.floor(spec.faultMs * 0.7)));
        rd.hold(i);
        ts.restartFollower(i);
        rd.note(`${followerName(i)} crashes and stays down`);
      })(),
    );
  }
  if (spec.faults.has('outage')) side.push(outage(rd));
  while (kinds.length > 0 && now() < end && !rd.failed) {
    await sleep(rng.between(15, 120));
    const kind = rng.pick(kinds);
    const i = rng.pick(live());
    switch (kind) {
      case 'restart':
        ts.restartFollower(i);
        rd.note(`${followerName(i)} restarts empty`);
        break;
      case 'crash-after-apply':
        ts.restartWhen(i, (args) => args.token === ts.token && args.entries.length > 0);
        rd.note(
          `${followerName(i)} will crash right after applying its next batch (its reply lost), and restart empty`,
        );
        break;
      case 'cut': {
        const ms = rng.between(30, 400);
        rd.hold(i);
        rd.note(`${followerName(i)} cut off from the leader for ${ms} ms`);
        side.push(sleep(ms).then(() => rd.release(i)));
        break;
      }
      case 'intruder':
        for (let k = rng.between(1, 3); k > 0 && !rd.failed; k--)
          await intrude(rd, (intruderEnds[i] ??= ts.stranger(i)), i, otherToken);
        break;
      case 'duplicate':
        await duplicate(rd, i);
        break;
    }
  }
  await Promise.all(side);
}

/** Waits until every live follower holds the leader's whole log and the leader committed it, or fails. */
async function converge(rd: Round, limitMs: number, when: string): Promise<void> {
  const start = now();
  for (;;) {
    const leader = await rd.ts.leader.Status({ noData: true });
    const behind: string[] = [];
    if (leader.commitSeq !== leader.lastSeq)
      behind.push(`the leader committed only #${leader.commitSeq} of #${leader.lastSeq}`);
    for (let i = 0; i < rd.spec.followers; i++) {
      if (!rd.isLive(i)) continue;
      const st = await rd.ts.followers[i].Status({ noData: true });
      if (st.lastSeq !== leader.lastSeq) behind.push(`${followerName(i)} at #${st.lastSeq}`);
    }
    if (behind.length === 0) return;
    if (now() - start > limitMs)
      rd.fail(
        `${when}, ${limitMs.toFixed(0)} virtual ms later, the followers that are up still differ from the leader's log (which ends at #${leader.lastSeq}): ` +
          `${behind.join(', ')}. With no more faults the leader must bring every follower it reaches to its whole log, even with no new writes. ` +
          'Likely causes: a batch that got no answer is not sent again from the same place; the lastSeq of ErrGap (or a lower one in OK) is ignored, ' +
          'so a follower that restarted empty is never resent the log; no heartbeat to an idle follower; the log goes to only W followers; ' +
          'a batch larger than maxBatch, or an entry over the byte bound that never goes; or a loop that stopped after a misconfigured follower answered.',
      );
    await sleep(5);
  }
}

/** The final check: every live replica is the leader's whole log replayed, acknowledged writes are in it, reads agree. */
async function checkFinal(rd: Round): Promise<void> {
  const leader = await rd.ts.leader.Status({});
  const want = rd.index.stateAt(leader.lastSeq);
  if (!(want instanceof Map))
    return rd.fail(
      `The leader's log ends at #${leader.lastSeq}, but it never sent entry #${want.missing} to any follower.`,
    );
  for (const a of rd.acks) {
    const e = rd.ts.sent.get(a.seq);
    if (!(e && e.key === a.key && e.value === a.value && a.seq <= leader.lastSeq))
      rd.fail(
        `${writer(a.client)} ${show(a.key)}=${show(a.value)} was acknowledged as #${a.seq}, but the leader's log (ending at #${leader.lastSeq}) has ` +
          `${e ? `${show(e.key)}=${show(e.value)}` : 'no such entry'} there: an acknowledged write was lost. A seq names one write forever, and a write answered ErrNoQuorum stays in the log too.`,
      );
  }
  const nodes: Array<[string, KVNodeService, number | undefined]> = [['the leader', rd.ts.leader, undefined]];
  rd.ts.followers.forEach((f, i) => {
    if (rd.isLive(i)) nodes.push([`${followerName(i)}`, f, i]);
  });
  for (const [who, node, i] of nodes) {
    const st = await node.Status({});
    const diff = difference(want, st.data);
    if (diff || st.lastSeq !== leader.lastSeq)
      rd.fail(
        `After the faults healed and every follower caught up, ${who} (lastSeq #${st.lastSeq}) differs from the leader's log replayed in order (#1..#${leader.lastSeq}): ` +
          `${diff ?? 'its lastSeq'}. Replicas must apply exactly the leader's writes, in seq order.`,
      );
    const end = rd.ts.rawClient(i);
    for (const key of [...rd.spec.keys, ...rd.spec.unwritten]) {
      const got = await end.call<GetReply>(`${SERVICE}.Get`, { key });
      rd.ctx.countOps();
      const value = want.get(key);
      const ok = value === undefined ? got.err === 'ErrNoKey' : got.err === 'OK' && got.value === value;
      if (!ok)
        rd.fail(
          `After the faults healed, Get(${show(key)}) at ${who} returned ${show(got, 200)}; expected ${value === undefined ? 'ErrNoKey (no entry wrote it)' : show(value)}, ` +
            'the value of the last entry of the log that wrote it.',
        );
    }
  }
}

/** The heal phase's idle checks: heartbeats only, a follower restarted while idle is caught up, writes go out at once. */
async function checkIdle(rd: Round, leaderEnd: RpcEnd): Promise<void> {
  const { ts, spec, rng } = rd;
  const live = Array.from({ length: spec.followers }, (_, i) => i).filter((i) => rd.isLive(i));
  const before = live.map((i) => ts.replicateCallsTo[i]);
  const outsidersBefore = spec.outsiders.map((_, j) => ts.replicateCallsTo[spec.followers + j]);
  await sleep(IDLE_MS);
  const calls = live.reduce((s, i, k) => s + ts.replicateCallsTo[i] - before[k], 0);
  const [lo, hi] = [(live.length * IDLE_MS) / 100, (live.length * IDLE_MS) / 25];
  spec.outsiders.forEach((kind, j) => {
    const tries = ts.replicateCallsTo[spec.followers + j] - outsidersBefore[j];
    if (tries < IDLE_MS / 100)
      rd.fail(
        `Among the leader's followers is ${OUTSIDER_WORDS[kind]}, which refuses every Replicate (ErrForbidden or ErrNotFollower). ` +
          `In ${IDLE_MS} virtual ms of the healed cluster the leader called it ${tries} time(s); expected at least ${IDLE_MS / 100}: ` +
          `a refusal means the cluster is misconfigured, and the leader waits retryMs (${DEFAULT_CONFIG.retryMs} ms) and tries again, ` +
          'for as long as it runs, so that a node whose configuration is mended catches up. Likely causes: the follower dropped ' +
          'for good after a refusal (its loop returns); a wait after a refusal that grows (doubling) instead of retryMs; ' +
          'a refusal treated as a reason to stop the loop rather than to wait.',
      );
  });
  if (calls < lo || calls > hi)
    rd.fail(
      `Every follower that is up held the whole log, and in the next ${IDLE_MS} virtual ms with no writes the leader sent them ${calls} Replicate calls ` +
        `(${live.length} followers: expected ${lo} to ${hi}, a heartbeat to each every ${DEFAULT_CONFIG.heartbeatMs} ms or so). ` +
        (calls > hi
          ? "With nothing to send, a follower's loop waits for the next write or heartbeatMs, whichever comes first, instead of sending again at once or polling with a shorter timer."
          : 'Send an empty Replicate to each follower whose loop had nothing to send for heartbeatMs; its answer shows a follower that restarted empty.'),
    );
  // A follower restarts empty on the idle cluster: no one writes, so only the heartbeat can find it.
  const j = rng.pick(live);
  const leader = await ts.leader.Status({ noData: true });
  ts.restartFollower(j);
  rd.note(`the cluster is idle; ${followerName(j)} restarts empty and no one writes`);
  const limit = 2 * DEFAULT_CONFIG.heartbeatMs + 20 + 4 * Math.ceil(leader.lastSeq / spec.maxBatch);
  const start = now();
  for (;;) {
    const st = await ts.followers[j].Status({ noData: true });
    if (st.lastSeq === leader.lastSeq) break;
    if (now() - start > limit)
      rd.fail(
        `Follower ${j + 1} restarted empty while the cluster was idle, and ${limit} virtual ms later it holds up to #${st.lastSeq} of the leader's #${leader.lastSeq}. ` +
          `No one writes, so the leader must find out by itself: a heartbeat (an empty Replicate after heartbeatMs, ${DEFAULT_CONFIG.heartbeatMs} ms, with nothing to send) ` +
          'and then acting on the lower lastSeq of its answer (record it, send from lastSeq + 1).',
      );
    await sleep(2);
  }
  // Writes into the idle cluster: with W followers up, each is acknowledged at once.
  for (let w = 0; w < WAKE_WRITES; w++) {
    await sleep(rng.between(20, 45));
    const key = rng.pick(spec.keys);
    // The last one writes an empty value: it is the key's value from then on, and reads must return it (not ErrNoKey).
    const value = w === WAKE_WRITES - 1 ? '' : `after-heal-${w}`;
    const sent = now();
    const reply = await rd.track(`the write of ${show(key)}=${show(value)} after the faults healed`, () =>
      leaderEnd.call<SetReply>(`${SERVICE}.Set`, { key, value }),
    );
    rd.ctx.countOps();
    const took = now() - sent;
    const up = live.map((i) => `${followerName(i)}`).join(', ');
    if (reply.err !== 'OK')
      rd.fail(
        `After the faults healed, the write of ${show(key)}=${show(value)} returned ${show(reply, 300)}; expected OK: ${up} are up and reachable, and W=${spec.quorum}. ` +
          'Likely causes: the leader waits for particular followers (all of them, or the first W) instead of any W; a follower that stays down blocks the others; ' +
          'or a node of another cluster among the followers stopped the leader.',
      );
    rd.acks.push({ client: -2, seq: reply.seq, key, value, latencyMs: took });
    if (took > WAKE_LIMIT_MS)
      rd.fail(
        `After the faults healed, the write of ${show(key)}=${show(value)} into the idle cluster took ${took.toFixed(1)} virtual ms to be acknowledged ` +
          `(links take about 1 ms; limit ${WAKE_LIMIT_MS} ms). A write that arrives while a follower's loop waits for its heartbeat timer must wake it at once. ` +
          'Likely causes: the wake-up is lost (an old heartbeat timer, not cleared, later clears it); the loop looks for new entries only when its timer fires; ' +
          'or the leader waits for a follower that is down.',
      );
  }
}

/** One round, start to finish; failures say which round and what the nemesis did. */
async function playRound(ctx: Ctx, profile: NemesisProfile, spec: RoundSpec, otherToken: string): Promise<string> {
  const rd = new Round(ctx, profile, spec, otherToken);
  const { ts } = rd;
  const header = (): string => `Round ${spec.round} of ${profile.test} (${describeSpec(spec, rd.network)})`;
  try {
    for (const i of spec.late) rd.hold(i);
    rd.network = applyPlan(ts.net, spec.plan, rd.rng, 3000);
    ctx.log(`round ${spec.round}: ${describeSpec(spec, rd.network)}`);
    const clients = Array.from({ length: spec.clients }, () => ({
      leader: ts.rawClient(),
      followers: Array.from({ length: spec.followers }, (_, i) => ts.rawClient(i)),
    }));
    const faultStart = now();
    const tasks = clients.flatMap((c, k) => [0, 1].map((t) => rd.guard(workload(rd, k, t, c.leader, c.followers))));
    const probe = rd.guard(prober(rd));
    await nemesis(rd, otherToken);
    rd.throwIfFailed();
    const left = spec.faultMs - (now() - faultStart);
    if (left > 0) await sleep(left);
    rd.throwIfFailed();
    // Heal: no more faults; every operation in progress must finish.
    rd.running = false;
    healNetwork(ts.net);
    for (let i = 0; i < spec.followers; i++) {
      ts.restartWhen(i, () => false); // disarm crash traps that did not fire
      ts.cutWhenRestartAnswered(i, false);
      if (rd.isLive(i)) ts.cut(i, false);
    }
    rd.note('faults healed: reliable network, links restored (the dead stay down)');
    const drain = spec.writeTimeoutMs + rd.slackMs + 100;
    let drained = false;
    await Promise.race([Promise.all([...tasks, probe, ...rd.extraWrites]).then(() => (drained = true)), sleep(drain)]);
    if (!drained)
      rd.fail(
        `${drain.toFixed(0)} virtual ms after the faults healed, operations sent during them still had no answer: ${[...rd.pending.values()].join('; ')}. ` +
          `The leader answers every write within writeTimeoutMs (${spec.writeTimeoutMs} ms), OK or ErrNoQuorum; reads and refusals at once.`,
      );
    rd.throwIfFailed();
    // Replies held back by the faults may still be on their way; let them land before counting heartbeats.
    await sleep(spec.plan.longReordering ? 2300 : 50);
    const entries = (await ts.leader.Status({ noData: true })).lastSeq;
    await converge(rd, 1000 + 4 * Math.ceil(entries / spec.maxBatch), 'After the faults healed');
    await checkIdle(rd, clients[0].leader);
    await converge(rd, 500, 'After the writes into the healed cluster');
    await checkFinal(rd);
    ts.stop();
    const calls = ts.replicateCalls;
    await sleep(STOP_WATCH_MS);
    if (ts.replicateCalls !== calls)
      rd.fail(
        `After _stop() on every node the leader still sent ${ts.replicateCalls - calls} Replicate calls in ${STOP_WATCH_MS} virtual ms. ` +
          "_stop() must end every follower's loop, including one waiting to retry a follower that is down, and clear the timers.",
      );
    ctx.log(
      `round ${spec.round}: passed; log #1..#${entries}, ${rd.acks.length} writes acknowledged, restarts ${ts.restarts.join('/')}`,
    );
    return ts.token;
  } catch (err) {
    if (!isTestFailure(err)) throw err;
    throw new TestFailure(
      `${header()}: ${err.message}\nWhat the nemesis did last: ${rd.recentEvents()}.`,
      err.attachments,
    );
  } finally {
    rd.running = false;
  }
}

/** A whole attacker run: its rounds in turn, each on a fresh cluster. */
export async function runNemesis(ctx: Ctx, profile: NemesisProfile): Promise<void> {
  let otherToken = 'another-cluster-secret';
  for (let round = 0; round < profile.rounds; round++) {
    // The last round's cluster is "another cluster" for this one: its token is the one a misconfigured node carries.
    otherToken = await playRound(ctx, profile, drawRound(ctx.seed, profile, round), otherToken);
  }
}

export const nemesisReplication: TestDefinition<Lab4Impl> = {
  name: REPLICATION_PROFILE.test,
  description:
    'generic attacker: random clusters (3-5 followers, random W and maxBatch) under random workloads, network faults and PCT delivery orders, ' +
    'with followers restarted empty, crashing right after applying a batch, starting late or cut off, an intruder forging Replicate calls and ' +
    "old batches delivered again: every acknowledgement on W followers, every replica a prefix of the leader's log, all converge after healing",
  generic: true,
  virtualLimitMs: 300_000,
  run: (ctx) => runNemesis(ctx, REPLICATION_PROFILE),
};

export const nemesisQuorum: TestDefinition<Lab4Impl> = {
  name: QUORUM_PROFILE.test,
  description:
    'generic attacker: random clusters with nodes of another cluster (another token, a leader) among the followers, followers down for good ' +
    '(W still reachable) and the quorum lost for longer than writeTimeoutMs: outsiders never count, lost-quorum writes fail in time with the count, ' +
    'and writes succeed again at once after healing',
  generic: true,
  virtualLimitMs: 300_000,
  run: (ctx) => runNemesis(ctx, QUORUM_PROFILE),
};
