/**
 * Lab 6's tester for parts 5-7: groups of servers running the student's RSM (over a counter the tester owns) or
 * key/value service, on RaftTester's cluster, with clerks that reach them and a history the checker judges.
 */
import { Service } from '../../labrpc';
import type { ClientEnd, RpcEnd } from '../../labrpc';
import { versionedModel, versionedState } from '../../checker/models/versioned';
import type { VersionedInput, VersionedOutput, VersionedState } from '../../checker/models/versioned';
import { assertLinearizable, TestFailure, within } from '../../suite';
import type { TestContext } from '../../suite';
import { HistoryRecorder, clientLane, type HistoryKeeps } from '../../suite/history';
import { World, sleep } from '../../world';
import { keyedRng } from '../../world/rng';
import type { GetResult, KVClerk, KVService, PutResult, Version } from '../kvapi';
import type { Persister } from '../persister';
import type { Op, RsmPeer, StateMachine, SubmitResult } from '../rsmapi';
import { ELECTION_TIMEOUT_MS, Lab6Impl, RaftTester, peerName, showCommand } from './harness';
import { ClerkReplies, clerkArgsProblem, resultOnce } from '../../suite/clerk-replies';
import { watchGiveUp } from './giveup';
import { brandHarness } from '../../world/brand';

/** The likely causes of a key/value history that is not linearizable, in parts 6 and 7. */
const KV_CAUSES =
  'Likely causes: a read answered from the local map without the log; an operation answered before it committed, ' +
  "or with another entry's result; a clerk that returns ErrMaybe only after a lost message, not after ErrWrongLeader " +
  "(a deposed leader's entry may be committed by the next leader), or ErrVersion for a re-sent put; a snapshot that " +
  'encodes the map through a plain object (a key such as "__proto__" is lost) or is not restored whole.';

/** maxRaftState when the service must not snapshot. */
export const NO_SNAPSHOTS = -1;
/** maxRaftState in the snapshot tests (characters of saved Raft state), as in MIT's tests. */
export const MAX_RAFT_STATE = 1000;
/** maxRaftState "drawn per seed" (from DRAWN_MAX_RAFT_STATES, each below MIT's 1000): a size written into the code shows. */
export const DRAWN = 'drawn';
export const DRAWN_MAX_RAFT_STATES: readonly number[] = [300, 500, 700];

/** A test's maxRaftState: DRAWN is drawn from DRAWN_MAX_RAFT_STATES by the seed (and logged), any other value kept. */
export function resolveMaxRaftState(ctx: Ctx, maxRaftState: number | typeof DRAWN): number {
  if (maxRaftState !== DRAWN) return maxRaftState;
  const drawn = keyedRng(ctx.seed, 'max-raft-state').pick(DRAWN_MAX_RAFT_STATES);
  ctx.log(`maxRaftState ${drawn} (drawn for this seed)`);
  return drawn;
}
/**
 * Every message of parts 5-7 takes this much longer than on one machine (ms): servers on a LAN. Each operation
 * then takes a few ms, as between real machines, rather than a fraction of one, which would let a client make
 * tens of thousands of operations a round and grow an untrimmed log past what any Raft can save each time.
 */
export const LATENCY_MS = 3;
/** The saved Raft state may reach this many times maxRaftState before the log counts as not trimmed (MIT: 8). */
export const LOG_SLACK = 8;

type Ctx = TestContext<Lab6Impl>;

/** Part 5's operations on the tester's counter (MIT's Inc, Dec and Null). */
export type CounterOp = { op: 'inc' } | { op: 'dec' } | { op: 'null' };

/** What the counter returns for each operation: the count after it. */
export interface CounterResult {
  n: number;
}

/** The tester's state machine in part 5: a counter, which checks that what the RSM hands it was submitted. */
export class Counter implements StateMachine {
  private readonly me: number;
  /** Reports a wrong call as the test's failure (without throwing into the RSM). */
  private readonly fail: (message: string) => void;
  n = 0;

  constructor(me: number, fail: (message: string) => void) {
    this.me = me;
    this.fail = fail;
  }

  doOp(op: Op): CounterResult {
    const kind = (op as { op?: unknown } | null)?.op;
    if (kind === 'inc') this.n++;
    else if (kind === 'dec') this.n--;
    else if (kind !== 'null')
      this.fail(
        `${peerName(this.me)}'s RSM called doOp(${showCommand(op)}), but the tester only submits { op: "inc" | "dec" | ` +
          '"null" }. Expected doOp to receive exactly what was submitted. Likely causes: the wrapper the RSM puts ' +
          'around an operation (with its id) passed to doOp instead of the operation inside it.',
      );
    return { n: this.n };
  }

  snapshot(): string {
    return JSON.stringify({ n: this.n });
  }

  restore(snapshot: string): void {
    let n: unknown;
    try {
      n = (JSON.parse(snapshot) as { n?: unknown }).n;
    } catch {
      n = undefined;
    }
    if (!Number.isInteger(n))
      return this.fail(
        `${peerName(this.me)}'s RSM called restore(${showCommand(snapshot)}), which is not a snapshot this state ` +
          "machine made. Expected restore to get exactly what snapshot() returned (Raft's snapshot, or the persister's).",
      );
    this.n = n as number;
  }
}

/** Fails the running test with `message` (a TestFailure, reported as the verdict); usable before a group exists. */
function failTest(message: string): never {
  const error = new TestFailure(message);
  World.current().fail(error);
  throw error;
}

/**
 * Fails the running test with `message` without throwing into the caller: for verdicts reached inside the
 * student's own call stack (the run stops once this step ends), and harmless after the run is over.
 */
function reportFailure(message: string): void {
  World.maybeCurrent()?.fail(new TestFailure(message));
}

/** Checks what an RSM's submit resolved to; returns it, or fails the test. */
function checkSubmitResult(group: RaftTester, i: number, r: unknown): SubmitResult {
  const err = (r as { err?: unknown } | null)?.err;
  if (err === 'OK' || err === 'ErrWrongLeader') return r as SubmitResult;
  return group.fail(
    `${peerName(i)}'s submit resolved to ${showCommand(r)}; expected { err: "OK", result } or { err: "ErrWrongLeader" }.`,
  );
}

/** Part 5's group: the student's RSM on every server, each over a Counter. */
export class RsmTester {
  private readonly ctx: Ctx;
  readonly group: RaftTester;
  private readonly machines: Array<Counter | undefined> = [];
  private readonly rsms: Array<RsmPeer | undefined> = [];
  /** The RSMs the tester killed (a submit of theirs may give up at once). */
  private readonly killed = new WeakSet<RsmPeer>();
  private leader = 0;
  /** The servers' maxRaftState (NO_SNAPSHOTS when they must not snapshot). */
  readonly maxRaftState: number;

  /** `latencyMs`: each message's extra time, LATENCY_MS unless a test spreads the servers farther apart. */
  constructor(ctx: Ctx, options: { servers: number; maxRaftState?: number | typeof DRAWN; latencyMs?: number }) {
    this.ctx = ctx;
    const maxRaftState = resolveMaxRaftState(ctx, options.maxRaftState ?? NO_SNAPSHOTS);
    this.maxRaftState = maxRaftState;
    this.group = new RaftTester(ctx, {
      servers: options.servers,
      build: (peers, me, persister) => this.build(peers, me, persister, maxRaftState),
    });
    this.group.net.setLatency(options.latencyMs ?? LATENCY_MS);
  }

  private build(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number) {
    const sm = new Counter(me, reportFailure);
    const rsm = new this.ctx.impl.RSM(peers, me, persister, maxRaftState, sm);
    if (typeof rsm.raft?.getState !== 'function')
      failTest(`${peerName(me)}'s RSM has no raft field holding its Raft peer (see lab6/rsmapi.ts).`);
    this.machines[me] = sm;
    this.rsms[me] = rsm;
    const kill = (): void => {
      this.killed.add(rsm);
      rsm.kill();
    };
    return { raft: rsm.raft, services: [], kill };
  }

  /** Server i's RSM while it runs. */
  rsm(i: number): RsmPeer | undefined {
    return this.group.isRunning(i) ? this.rsms[i] : undefined;
  }

  /** Submits `op` to server i's RSM and checks the shape of what comes back. */
  async submit(i: number, op: CounterOp): Promise<SubmitResult> {
    const rsm = this.rsms[i];
    if (rsm === undefined) throw new Error(`the tester submitted to ${peerName(i)}, which has no RSM`);
    const done = watchGiveUp(
      i,
      rsm.raft,
      () => this.killed.has(rsm),
      `a submit of ${showCommand(op)}`,
      () => rsm.submit(op),
    );
    return checkSubmitResult(this.group, i, await done);
  }

  /**
   * Gets `op` applied through a server of `among` (every server by default), like MIT's onePartition: offers it to
   * each running, connected one in turn, from the last that led, until one answers OK; gives up after 10 s.
   */
  async one(op: CounterOp, among?: readonly number[]): Promise<CounterResult> {
    const world = World.current();
    const t0 = world.now();
    while (world.now() - t0 < 10_000) {
      let index = this.leader;
      for (let k = 0; k < this.group.n; k++) {
        if (this.group.isConnected(index) && this.group.isRunning(index) && (among ?? [index]).includes(index)) {
          const r = await this.submit(index, op);
          if (r.err === 'OK') {
            this.leader = index;
            this.ctx.countOps();
            return this.checkResult(index, op, r.result);
          }
        }
        index = (index + 1) % this.group.n;
      }
      await sleep(50);
    }
    return this.group.fail(
      `no server applied ${showCommand(op)} within 10 s (each connected server was offered it in turn). Likely ` +
        'causes: submit never resolves OK on the leader (the RSM does not match the applied entry to its waiting ' +
        'submit, or compares by identity: the log holds copies), a submit that gives up (ErrWrongLeader) while its ' +
        'peer still leads in the same term, as with a timeout shorter than a commit takes, no leader (part 1), or ' +
        'Raft not committing (part 2).',
    );
  }

  private checkResult(i: number, op: CounterOp, result: unknown): CounterResult {
    const n = (result as { n?: unknown } | null)?.n;
    if (!Number.isInteger(n))
      this.group.fail(
        `${peerName(i)}'s submit(${showCommand(op)}) resolved OK with result ${showCommand(result)}; expected what ` +
          "the state machine's doOp returned for it ({ n }).",
      );
    return result as CounterResult;
  }

  /** Waits (up to about 10 s) for `servers` servers' counters to read `n`, like MIT's checkCounter. */
  async checkCounter(n: number, servers: number): Promise<void> {
    let to = 10;
    let have = 0;
    for (let iters = 0; iters < 30; iters++) {
      have = this.countValue(n);
      if (have >= servers) return;
      await sleep(to);
      if (to < 1000) to *= 2;
    }
    this.group.fail(
      `only ${have} servers' state machines reached ${n} (counters: ${this.counters()}); expected ${servers}. Likely ` +
        'causes: committed operations not applied on followers, an operation applied twice or skipped (after a ' +
        'restart or a snapshot), a restarted server that does not replay its log into the state machine, or a ' +
        'snapshot Raft hands over dropped by the RSM (after a restart, or on a server that lags: a snapshot past what ' +
        'the state machine holds must be restored into it).',
    );
  }

  /** How many running servers' counters read `n`. */
  private countValue(n: number): number {
    let count = 0;
    for (let i = 0; i < this.group.n; i++) if (this.group.isRunning(i) && this.machines[i]?.n === n) count++;
    return count;
  }

  /** Each server's counter, for messages. */
  counters(): string {
    return Array.from({ length: this.group.n }, (_, i) =>
      this.group.isRunning(i) ? String(this.machines[i]?.n) : 'down',
    ).join(', ');
  }

  /** The server that answered the last submit OK. */
  lastLeader(): number {
    return this.leader;
  }
}

/** One clerk of a KvTester: its ends (one per server) and the student's Clerk on them, recorded. */
interface ClerkLinks {
  ends: string[];
}

/** How to build a key/value group. */
export interface KvOptions {
  servers: number;
  /** Lose and delay messages (tests whose name says Unreliable). */
  unreliable?: boolean;
  /** NO_SNAPSHOTS, MAX_RAFT_STATE, or DRAWN. */
  maxRaftState: number | typeof DRAWN;
  /**
   * What the history keeps (HistoryRecorder): 'unfinished' for a test that checks no history, so that the tester
   * holds no operation's value once it returned (a memory test must see a value the servers keep).
   */
  history?: HistoryKeeps;
}

/** Characters a snapshot may take besides its keys and values (the service's other state, an encoding's frame). */
const SNAPSHOT_FLOOR = 2000;
/** Characters a snapshot may take per key besides the key and its value (its version, quotes, separators). */
const SNAPSHOT_PER_KEY = 40;

/** Parts 6-7's group: the student's KVServer on every server, clerks, and the history of their operations. */
export class KvTester {
  private readonly ctx: Ctx;
  readonly group: RaftTester;
  readonly history: HistoryRecorder<VersionedInput, VersionedOutput>;
  readonly maxRaftState: number;
  private readonly clerks: ClerkLinks[] = [];
  /** Users of shared clerks so far. */
  private shared = 0;

  constructor(ctx: Ctx, options: KvOptions) {
    this.ctx = ctx;
    this.history = new HistoryRecorder<VersionedInput, VersionedOutput>(undefined, options.history);
    this.maxRaftState = resolveMaxRaftState(ctx, options.maxRaftState);
    this.group = new RaftTester(ctx, {
      servers: options.servers,
      unreliable: options.unreliable,
      build: (peers, me, persister) => this.build(peers, me, persister),
    });
    this.group.net.setLatency(LATENCY_MS);
    ctx.onStuck(() =>
      this.history.inFlight().map((op) => {
        const input = op.input;
        const what =
          input.op === 'put'
            ? `put(${showCommand(input.key)}, version ${input.version})`
            : `get(${showCommand(input.key)})`;
        return `client ${op.clientId}: ${what} called at ${(op.call / 1000).toFixed(3)} s and not returned`;
      }),
    );
  }

  private build(peers: readonly RpcEnd[], me: number, persister: Persister) {
    const kv: KVService = new this.ctx.impl.KVServer(peers, me, persister, this.maxRaftState);
    if (typeof kv.rsm?.raft?.getState !== 'function')
      failTest(`${peerName(me)}'s KVServer has no rsm field whose raft is its Raft peer (see lab6/kvapi.ts).`);
    const raft = kv.rsm.raft;
    let killed = false;
    // Each answer is watched: ErrWrongLeader only once the peer no longer leads in the term it led in.
    const handlers = {
      Get: (args: never) =>
        watchGiveUp(
          me,
          raft,
          () => killed,
          'a Get',
          () => kv.Get(args),
        ),
      Put: (args: never) =>
        watchGiveUp(
          me,
          raft,
          () => killed,
          'a Put',
          () => kv.Put(args),
        ),
    };
    const kill = (): void => {
      killed = true;
      kv.kill();
    };
    return { raft, services: [new Service(handlers, 'KVServer')], kill };
  }

  /** A recorded clerk whose ends reach the servers of `to` (every server by default). */
  makeClerk(to?: readonly number[]): RecordingClerk {
    const id = this.clerks.length;
    const names: string[] = [];
    const ends: ClientEnd[] = [];
    // Its ends are watched in the order of the servers: the witness knows which one answered last.
    const replies = new ClerkReplies({ firstToLastAnswer: true });
    for (let i = 0; i < this.group.n; i++) {
      const name = `clerk-${id}-${i}`;
      // Owned by the clerk's client: its lost messages name it, and the monitors see one sender going round.
      const end = this.group.net.makeEnd(name, clientLane(id));
      replies.watch(end);
      ends.push(end);
      this.group.net.connect(name, RaftTester.serverName(i));
      this.group.net.enable(name, to === undefined || to.includes(i));
      names.push(name);
    }
    this.clerks.push({ ends: names });
    return new RecordingClerk(new this.ctx.impl.Clerk(ends), id, this.history, this.ctx, replies);
  }

  /** Another recorded user of `ck`'s clerk (a task sharing it): a client of its own in the history. */
  shareClerk(ck: RecordingClerk): RecordingClerk {
    // The monitors cannot tell one task's call from another's retry: they leave the pacing alone where calls overlap.
    for (const name of this.clerks[ck.id].ends) this.group.net.shareEnd(name);
    return ck.sharedAs(SHARED_CLIENT_IDS + this.shared++);
  }

  /** Lets clerk `ck` reach every server again. */
  connectClerk(ck: RecordingClerk): void {
    for (const name of this.clerks[ck.id].ends) this.group.net.enable(name, true);
  }

  /** Lets clerk `ck` (one makeClerk made) reach server i, or not: its calls to i in flight then fail. */
  reach(ck: RecordingClerk, i: number, on: boolean): void {
    this.group.net.enable(this.clerks[ck.id].ends[i], on);
  }

  /** True while clerk `ck` (one makeClerk made) has a call to server i that is not answered yet. */
  waitsOn(ck: RecordingClerk, i: number): boolean {
    const end = this.clerks[ck.id].ends[i];
    return this.group.net.pendingCalls((name) => name === end) > 0;
  }

  /** Servers of p1 reach only each other, and those of p2 only each other (clerks keep reaching everyone). */
  partition(p1: readonly number[], p2: readonly number[]): void {
    this.connectAll();
    for (const a of p1) for (const b of p2) this.group.cutLink(a, b);
  }

  /** Every server connected to every other. */
  connectAll(): void {
    this.group.healLinks();
    for (let i = 0; i < this.group.n; i++) this.group.connect(i);
  }

  /** MIT's crash of a whole group: every server shut down, an election timeout, then all restarted and connected. */
  async crashAndRestartAll(): Promise<void> {
    for (let i = 0; i < this.group.n; i++) this.group.crash1(i);
    await sleep(ELECTION_TIMEOUT_MS);
    for (let i = 0; i < this.group.n; i++) this.group.start1(i);
    this.connectAll();
  }

  /** The server that believes it leads in the highest term (undefined when none does). */
  leader(): number | undefined {
    let best: number | undefined;
    let bestTerm = -1;
    for (let i = 0; i < this.group.n; i++) {
      if (!this.group.isRunning(i)) continue;
      const s = this.group.state(i);
      if (s.isLeader && s.term > bestTerm) [best, bestTerm] = [i, s.term];
    }
    return best;
  }

  /**
   * Fails the test if the history is not linearizable: all of it, or (with `from`) the operations from index
   * `from.op` on, starting from a state every earlier operation had finished before (a read when nobody wrote).
   */
  checkLinearizable(from?: { op: number; state: VersionedState }): void {
    const ops = this.history.operations();
    if (from === undefined) return assertLinearizable(this.ctx, versionedModel, ops, KV_CAUSES);
    const model = { ...versionedModel, init: () => from.state };
    assertLinearizable(this.ctx, model, ops.slice(from.op), KV_CAUSES);
  }

  /**
   * The most characters a snapshot of what the clerks put may take: each key once, with its longest value (as JSON
   * writes them), a version and room for the encoding, twice over, and SNAPSHOT_FLOOR for the rest of the service.
   */
  snapshotBound(): number {
    const longest = new Map<string, number>();
    for (const { input } of this.history.operations())
      if (input.op === 'put')
        longest.set(input.key, Math.max(longest.get(input.key) ?? 0, JSON.stringify(input.value).length));
    let chars = 0;
    for (const [key, value] of longest) chars += JSON.stringify(key).length + value + SNAPSHOT_PER_KEY;
    return SNAPSHOT_FLOOR + 2 * chars;
  }

  /**
   * With snapshots, the saved Raft state must stay within LOG_SLACK times maxRaftState and each snapshot within
   * snapshotBound (so that no log hides in it); without, no snapshot at all.
   */
  checkSizes(): void {
    if (this.maxRaftState > 0) {
      const size = this.group.logSize();
      if (size > LOG_SLACK * this.maxRaftState)
        this.group.fail(
          `a server's saved Raft state is ${size} characters; with maxRaftState ${this.maxRaftState} it must stay ` +
            `within ${LOG_SLACK * this.maxRaftState}. Likely causes: the RSM never calls raft.snapshot (or compares ` +
            'the wrong size: persister.raftStateSize()), or Raft does not trim its log when asked (part 4).',
        );
      const snapshot = this.group.snapshotSize();
      const bound = this.snapshotBound();
      if (snapshot > bound)
        this.group.fail(
          `a server's saved snapshot is ${snapshot} characters, while every key put so far with its longest value ` +
            `needs about ${Math.round((bound - SNAPSHOT_FLOOR) / 2)} (at most ${bound} allowed). A snapshot holds ` +
            "the service's state, not its history. Likely causes: the log (or Raft's other state) saved inside the " +
            "snapshot slot instead of the Raft state's; every operation or reply kept in the service's state; old " +
            'versions of a value kept beside the latest.',
        );
    } else {
      const size = this.group.snapshotSize();
      if (size > 0)
        this.group.fail(
          `a server saved a snapshot of ${size} characters although maxRaftState is ${this.maxRaftState}: -1 means ` +
            'no snapshots at all.',
        );
    }
  }

  /** `ck.put` until it returns OK, as MIT's PutAtLeastOnce: ErrMaybe or ErrVersion moves on to the next version. */
  async putAtLeastOnce(ck: KVClerk, key: string, value: string, version: Version): Promise<Version> {
    let v = version;
    for (;;) {
      const err = await ck.put(key, value, v);
      if (err === 'OK') return v;
      if (err === 'ErrMaybe' || err === 'ErrVersion') v++;
      else if (v !== 0)
        this.group.fail(
          `put(${showCommand(key)}, version ${v}) returned ${showCommand(err)}; expected OK or ErrVersion.`,
        );
    }
  }

  /** Reads `key` and fails unless it holds `value` at `version`. */
  async checkGet(ck: KVClerk, key: string, value: string, version: Version): Promise<void> {
    const r = await ck.get(key);
    if (r.err !== 'OK' || r.value !== value || r.version !== version)
      this.group.fail(
        `get(${showCommand(key)}) returned ${showCommand(r)}; expected value ${showCommand(value)} at version ${version}. ` +
          'Likely causes: a put lost (not in the log, or lost across a restart or a snapshot), a read answered from a ' +
          'server that was not the leader, or versions not counted with lab 2’s rules.',
      );
  }
}

/** Client ids of the tasks that share a clerk with another (their own lanes in the history and the trace). */
const SHARED_CLIENT_IDS = 1000;

/** Wraps a student's clerk so that each operation is recorded with its call and return times. */
export class RecordingClerk implements KVClerk {
  private readonly inner: KVClerk;
  /** The clerk's number: its ends are clerk-<id>-<server>, and its operations are client <id> in the history. */
  readonly id: number;
  private readonly history: HistoryRecorder<VersionedInput, VersionedOutput>;
  private readonly ctx: Ctx;
  /** The clerk's RPCs and the replies that reached it, against which each get's and put's result is checked. */
  private readonly replies: ClerkReplies;

  constructor(
    inner: KVClerk,
    id: number,
    history: HistoryRecorder<VersionedInput, VersionedOutput>,
    ctx: Ctx,
    replies: ClerkReplies,
  ) {
    this.inner = inner;
    this.id = id;
    this.history = history;
    this.ctx = ctx;
    this.replies = replies;
  }

  /** The same clerk, recorded as client `id` (another task using it). */
  sharedAs(id: number): RecordingClerk {
    return new RecordingClerk(this.inner, id, this.history, this.ctx, this.replies);
  }

  async get(key: string): Promise<GetResult> {
    const wrongArgs = clerkArgsProblem(key);
    if (wrongArgs !== undefined) failTest(wrongArgs);
    const op = this.history.begin(this.id, { op: 'get', key });
    const watch = this.replies.beginGet(key);
    const reply = resultOnce(await this.inner.get(key));
    const err = (reply as { err?: unknown } | null)?.err;
    if (err !== 'OK' && err !== 'ErrNoKey')
      throw new TestFailure(
        `Clerk.get(${showCommand(key)}) returned ${showCommand(reply)}; expected OK or ErrNoKey. Likely causes: a ` +
          "submit answered with the result of whatever operation was applied at its index, here another client's put " +
          "(compare the entry's id with the submit's: another id there means ErrWrongLeader); a Get answered with " +
          'the reply of a put.',
      );
    const problem = this.replies.endGet(watch, reply);
    if (problem !== undefined) failTest(problem);
    this.history.end(
      op,
      reply.err === 'OK' ? { err: 'OK', value: reply.value, version: reply.version } : { err: 'ErrNoKey' },
    );
    this.ctx.countOps();
    return reply;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    const wrongArgs = clerkArgsProblem(key, value, version);
    if (wrongArgs !== undefined) failTest(wrongArgs);
    const op = this.history.begin(this.id, { op: 'put', key, value, version });
    const watch = this.replies.beginPut(key, value, version);
    const err = await this.inner.put(key, value, version);
    if (err !== 'OK' && err !== 'ErrNoKey' && err !== 'ErrVersion' && err !== 'ErrMaybe')
      throw new Error(
        `Clerk.put(${showCommand(key)}, ...) returned ${showCommand(err)}; expected OK, ErrNoKey, ErrVersion or ` +
          'ErrMaybe (never ErrWrongLeader: the clerk tries another server).',
      );
    const problem = this.replies.endPut(watch, err);
    if (problem !== undefined) failTest(problem);
    this.history.end(op, { err });
    this.ctx.countOps();
    return err;
  }
}

/** The recorded entries MIT's workload puts: which client wrote it, at which version. */
interface Entry {
  id: number;
  v: Version;
}

/** How a workload client's puts went: answered OK, or ErrMaybe (it may or may not have taken effect). */
interface ClientTally {
  ok: number;
  maybe: number;
}

/** What MIT's generic key/value test varies. */
export interface GenericOptions extends KvOptions {
  clients: number;
  /** Crash and restart every server after each round. */
  crash?: boolean;
  /** Re-partition the servers at random while the clients run. */
  partitions?: boolean;
  /** Each client writes 100 keys at random instead of one shared key. */
  randomKeys?: boolean;
}

/** Rounds of MIT's generic test, and how long the clients run in each (virtual ms). */
const ROUNDS = 3;
const ROUND_MS = 1000;
const KEYS = 100;

/**
 * MIT's generic test: three rounds of clients racing to put versioned entries (and read them back) while the
 * network may lose messages and re-partition, each round checked for linearizability and then ended, when asked,
 * by healing and by crashing and restarting every server; with snapshots, the logs must stay trimmed.
 */
export async function genericTest(ctx: Ctx, options: GenericOptions): Promise<void> {
  const ts = new KvTester(ctx, options);
  const keys = options.randomKeys ? Array.from({ length: KEYS }, (_, i) => `k${i}`) : ['k'];
  const ck = ts.makeClerk();
  const total: ClientTally = { ok: 0, maybe: 0 };
  const clerks = Array.from({ length: options.clients }, () => ts.makeClerk());
  // With one key, each round's history is checked on its own, from the key's state read once the last round ended.
  let from: { op: number; state: VersionedState } | undefined = options.randomKeys
    ? undefined
    : { op: 0, state: versionedState('', 0) };
  for (let round = 0; round < ROUNDS; round++) {
    let done = false;
    const clients = ts.group.background(Promise.all(clerks.map((c, i) => oneClientPut(ts, i, c, keys, () => done))));
    let partitioner: Promise<void> | undefined;
    let stopPartitions = false;
    if (options.partitions) {
      await sleep(1000);
      partitioner = ts.group.background(partitionAtRandom(ts, () => stopPartitions));
    }
    await sleep(ROUND_MS);
    done = true;
    const tallies = await within(
      clients,
      60_000,
      () => 'the clients did not finish their last operations within 60 s of the round ending.',
    );
    const state = options.randomKeys ? undefined : await checkPutCount(ts, ck, keys[0], tallies, total);
    ts.checkLinearizable(from);
    if (state !== undefined) from = { op: ts.history.operations().length, state };
    if (options.partitions) {
      stopPartitions = true;
      await partitioner;
      ts.connectAll();
      await sleep(ELECTION_TIMEOUT_MS);
    }
    if (options.crash) await ts.crashAndRestartAll();
    ts.checkSizes();
  }
}

/** One workload client: until told to stop, puts its own entry at a key's next version and reads the key back. */
async function oneClientPut(
  ts: KvTester,
  me: number,
  ck: KVClerk,
  keys: readonly string[],
  stop: () => boolean,
): Promise<ClientTally> {
  const tally: ClientTally = { ok: 0, maybe: 0 };
  const versions = new Map<string, Version>(keys.map((k) => [k, 0]));
  while (!stop()) {
    const key = keys.length === 1 ? keys[0] : keys[Math.floor(Math.random() * keys.length)];
    const [version, ok] = await onePut(ts, me, ck, key, versions.get(key) ?? 0);
    versions.set(key, version);
    if (ok) tally.ok++;
    else tally.maybe++;
  }
  return tally;
}

/** Puts client `me`'s entry at `version` until a put is answered OK or ErrMaybe; returns the key's version seen after. */
async function onePut(
  ts: KvTester,
  me: number,
  ck: KVClerk,
  key: string,
  version: Version,
): Promise<[Version, boolean]> {
  let v = version;
  for (;;) {
    const entry: Entry = { id: me, v };
    const err = await ck.put(key, JSON.stringify(entry), v);
    if (err !== 'OK' && err !== 'ErrVersion' && err !== 'ErrMaybe')
      ts.group.fail(
        `client ${me}'s put(${showCommand(key)}, version ${v}) returned ${err}; expected OK, ErrVersion or ErrMaybe ` +
          '(the key exists: every client read it before).',
      );
    const got = await ck.get(key);
    if (got.err !== 'OK')
      return ts.group.fail(
        `client ${me}'s get(${showCommand(key)}) returned ${got.err} right after a put to it; expected the key to exist.`,
      );
    if (err === 'OK' && got.version === v + 1 && got.value !== JSON.stringify(entry))
      ts.group.fail(
        `client ${me}'s put at version ${v} was answered OK, and the key is now at version ${v + 1}, but it holds ` +
          `${showCommand(got.value)} instead of ${showCommand(JSON.stringify(entry))}: only that put can have made version ${v + 1}.`,
      );
    v = got.version;
    if (err === 'OK' || err === 'ErrMaybe') return [v, err === 'OK'];
  }
}

/**
 * Every put answered OK took effect once, and each ErrMaybe at most once: the shared key's version says so.
 * Returns the key's state as read (nobody else runs by then).
 */
async function checkPutCount(
  ts: KvTester,
  ck: KVClerk,
  key: string,
  tallies: readonly ClientTally[],
  total: ClientTally,
): Promise<VersionedState> {
  for (const t of tallies) {
    total.ok += t.ok;
    total.maybe += t.maybe;
  }
  const r = await ck.get(key);
  const version = r.err === 'OK' ? r.version : 0;
  if (version < total.ok || version > total.ok + total.maybe)
    ts.group.fail(
      `the key ${showCommand(key)} is at version ${version}, but the clients' puts were answered OK ${total.ok} times ` +
        `and ErrMaybe ${total.maybe} times, so it must be between ${total.ok} and ${total.ok + total.maybe}. Likely ` +
        'causes: a put applied twice (a re-sent put the log holds twice and both applied); a put answered OK that ' +
        'was lost (answered before it committed, or lost by a crash or a new leader); a re-sent put answered ' +
        'ErrVersion reported as ErrVersion (an earlier copy may have taken effect: ErrMaybe).',
    );
  return r.err === 'OK' ? versionedState(r.value, r.version) : versionedState('', 0);
}

/** Until told to stop, splits the servers in two at random, about once an election timeout (MIT's Partitioner). */
async function partitionAtRandom(ts: KvTester, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const side = Array.from({ length: ts.group.n }, () => Math.floor(Math.random() * 2));
    const p1 = side.flatMap((s, i) => (s === 0 ? [i] : []));
    const p2 = side.flatMap((s, i) => (s === 1 ? [i] : []));
    ts.partition(p1, p2);
    await sleep(ELECTION_TIMEOUT_MS + Math.floor(Math.random() * 200));
  }
}

/** Puts MIT's speed test makes; each must take less than a third of a 100 ms heartbeat on average. */
const SPEED_OPS = 1000;
const SPEED_MS_PER_OP = 100 / 3;

/** MIT's speed test: 1,000 puts in a row by one clerk, faster than three per heartbeat interval. */
export async function speedTest(ctx: Ctx, options: KvOptions): Promise<void> {
  const ts = new KvTester(ctx, options);
  const ck = ts.makeClerk();
  // The first operation waits for a leader.
  await ck.get('x');
  const world = World.current();
  const t0 = world.now();
  for (let i = 0; i < SPEED_OPS; i++) {
    const err = await ck.put('k', String(i), i);
    if (err !== 'OK') ts.group.fail(`put("k", ${i}, version ${i}) returned ${err} on a reliable network; expected OK.`);
  }
  const perOp = (world.now() - t0) / SPEED_OPS;
  const r = await ck.get('k');
  if (r.err !== 'OK' || r.version !== SPEED_OPS)
    ts.group.fail(`after ${SPEED_OPS} puts, get("k") returned ${showCommand(r)}; expected version ${SPEED_OPS}.`);
  ctx.log(`${perOp.toFixed(1)} ms per put`);
  if (perOp > SPEED_MS_PER_OP)
    ts.group.fail(
      `${SPEED_OPS} puts took ${perOp.toFixed(1)} ms each on average; expected less than ${SPEED_MS_PER_OP.toFixed(1)} ` +
        '(three per 100 ms heartbeat). Likely causes: the leader sends new entries only with the next heartbeat ' +
        '(send AppendEntries as soon as start() appends), followers or the leader apply on a timer rather than ' +
        'when commitIndex moves, or the RSM or clerk polls with long sleeps.',
    );
  ts.checkSizes();
}

brandHarness(RsmTester, KvTester);
