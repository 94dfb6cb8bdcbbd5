/**
 * Lab 4's tester: a leader and N followers of the student's KVNode on a simulated network, the original's
 * per-message delay on the leader's ends, a record of every log entry the leader sends, and checks that
 * replicas agree with the leader's order.
 */
import { Network, RpcEnd, Server, TimeoutError } from '../../labrpc';
import { World } from '../../world';
import { methodOnce, readOnce } from '../../labrpc/read-once';
import { TestContext, TestFailure, check } from '../../suite';
import { DelayedEnd, SEED_DELAY_MS } from '../delayed-end';
import {
  DEFAULT_CONFIG,
  SERVICE,
  type GetReply,
  type KVNodeService,
  type LogEntry,
  type NodeConfig,
  type ReplicateArgs,
  type ReplicateReply,
  type SetArgs,
  type SetReply,
  type StatusReply,
} from '../rpc';
import { brandHarness } from '../../world/brand';

/** What the grader loads from lab4/ (or solutions/lab4/). */
export interface Lab4Impl {
  /** The folder the code is loaded from (the real HTTP tests load it in node processes of their own). */
  readonly dir: string;
  readonly KVNode: new (config: NodeConfig, followers: RpcEnd[]) => KVNodeService;
}

/** How a test's cluster is built. */
export interface ClusterOptions {
  followers: number;
  quorum: number;
  reliable: boolean;
  /** Per-message delay on the leader's ends, ms (default: the original's 0.1–1). */
  delay?: { min: number; max: number };
  /** Per-follower delays (uneven links), overriding `delay` for the followers they name by index. */
  delays?: ReadonlyArray<{ min: number; max: number } | undefined>;
  /** Overrides of the node config (writeTimeoutMs, ...). */
  config?: Partial<NodeConfig>;
  /** Nodes that are not of this cluster put among the leader's followers (a misconfigured cluster): see Outsider. */
  outsiders?: readonly Outsider[];
}

/**
 * A node the leader is given as one of its followers that is not one of this cluster's: configured with another
 * cluster's token, or as a leader. It answers the leader's calls (ErrForbidden, ErrNotFollower) but never holds
 * this cluster's writes, so it must never count towards a quorum; the tester never counts it as a holder.
 */
export interface Outsider {
  /** Its place among the leader's ends (0: first); the cluster's own followers keep their order around it. */
  readonly at: number;
  /** Builds the node (it runs on its own lane, as a server of the network). */
  readonly make: () => KVNodeService;
  /** What it is, for messages ("a follower of another cluster"). */
  readonly what: string;
}

/** An acknowledged write as the client saw it. */
export interface Ack {
  client: number;
  seq: number;
  key: string;
  value: string;
  /** Virtual ms from sending the write to the acknowledgement. */
  latencyMs: number;
}

/** Clusters made so far in each world (names must be unique per network, and equal across replays). */
const clusterCount = new WeakMap<World, number>();

/** Follower i (0-based) as the tests' messages and the trace page name it: "follower 1". */
export function followerName(i: number): string {
  return `follower ${i + 1}`;
}

/**
 * The retry pacing of the running test's cluster, read by the suite's monitors when they judge (one test runs at a
 * time in a process): `retryMs` as the cluster was configured, and whether the test chose it (then a leader must not
 * wait much longer either).
 */
let pacing = { retryMs: DEFAULT_CONFIG.retryMs, chosen: false };

/** The running test's retry pacing (see above): a function, so that no frozen export can hold it. */
export function retryPacing(): { readonly retryMs: number; readonly chosen: boolean } {
  return pacing;
}

/** One test's cluster. */
export class Lab4Tester {
  private readonly ctx: TestContext<Lab4Impl>;
  readonly options: ClusterOptions;
  readonly net = new Network();
  readonly leader: KVNodeService;
  readonly followers: KVNodeService[] = [];
  readonly quorum: number;
  /** The nodes' maxBatch: no Replicate call may carry more entries. */
  readonly maxBatch: number;
  /** Every log entry the leader sent, by seq. */
  readonly sent = new Map<number, LogEntry>();
  /** Replicate calls the leader has sent so far (to any follower). */
  replicateCalls = 0;
  /** The cluster's shared secret (config.token): the leader must send it with every Replicate. */
  readonly token: string;
  /** How many times each follower was restarted with empty state. */
  readonly restarts: number[];
  /** The outsiders (ClusterOptions.outsiders) as built, in the order given. */
  readonly outsiders: KVNodeService[] = [];
  /** Replicate calls the leader has sent to each follower, then to each outsider (ClusterOptions.outsiders, in order). */
  readonly replicateCallsTo: number[];
  /** Per follower: the lastSeq its current incarnation last answered a Replicate with. */
  private readonly answered: number[];
  /**
   * Per follower: the highest seq an earlier incarnation held when it restarted empty. A leader can only learn
   * of a restart from the next answer, so a write it acknowledged counting such a follower is not its fault.
   */
  private readonly lostAt: number[];
  /** Per follower: the incarnation (its restart count) that handled the leader's call now in flight. */
  private readonly handledBy: number[];
  /**
   * Per follower: the leader has had an answer (OK or ErrGap, with its lastSeq) from the incarnation started by the
   * last restart, so it knows what the follower lost: from then on, what an earlier incarnation held no longer counts.
   */
  private readonly heardSinceRestart: boolean[];
  /** Per follower: cut the leader's link the moment an answer of a restarted incarnation reaches the leader. */
  private readonly cutOnAnswer: boolean[];
  /** Per follower: runs after it handled a Replicate call; returning true restarts it before the reply leaves. */
  private readonly traps: Array<((args: ReplicateArgs, reply: ReplicateReply) => boolean) | undefined> = [];
  private readonly base: Omit<NodeConfig, 'id' | 'role'>;
  private readonly prefix: string;
  private ends = 0;

  constructor(ctx: TestContext<Lab4Impl>, options: ClusterOptions) {
    this.ctx = ctx;
    this.options = options;
    const n = clusterCount.get(World.current()) ?? 0;
    clusterCount.set(World.current(), n + 1);
    this.prefix = `c${n}`;
    this.quorum = options.quorum;
    this.net.setReliable(options.reliable);
    // Fixed per cluster (no draw from the seed's random stream): the tests only need the leader to know it and an intruder not to.
    this.token = `${this.prefix}-replication-secret`;
    const base = { ...DEFAULT_CONFIG, token: this.token, ...options.config, quorum: options.quorum };
    // The retry pacing the monitors hold this run to: this cluster's retryMs, and an upper bound where the test
    // chose a retryMs of its own (a leader that waits a constant of its own instead is then seen).
    pacing = { retryMs: base.retryMs, chosen: options.config?.retryMs !== undefined };
    this.base = base;
    this.maxBatch = base.maxBatch;
    this.restarts = new Array<number>(options.followers).fill(0);
    this.answered = new Array<number>(options.followers).fill(0);
    this.lostAt = new Array<number>(options.followers).fill(0);
    this.handledBy = new Array<number>(options.followers).fill(0);
    this.heardSinceRestart = new Array<boolean>(options.followers).fill(false);
    this.cutOnAnswer = new Array<boolean>(options.followers).fill(false);
    this.replicateCallsTo = new Array<number>(options.followers + (options.outsiders?.length ?? 0)).fill(0);
    const world = World.current();
    const delay = options.delay ?? SEED_DELAY_MS;
    const leaderEnds: RpcEnd[] = [];
    for (let i = 0; i < options.followers; i++) {
      this.startFollower(i);
      const end = this.makeEnd(`leader->f${i}`, this.serverName(i), this.serverName('leader'));
      const d = options.delays?.[i] ?? delay;
      leaderEnds.push(
        new RecordingEnd(
          new DelayedEnd(
            end,
            d.min,
            d.max,
            (ms) => world.sleep(ms),
            () => world.rng.float(),
          ),
          this,
          i + 1,
          followerName(i),
        ),
      );
    }
    // Outsiders go in at their places, each behind its own end with the original's delay, recorded like the others.
    const outsiders = (options.outsiders ?? []).map((o, j) => ({ o, j })).sort((a, b) => a.o.at - b.o.at);
    for (const { o, j } of outsiders) {
      const server = `${this.prefix}-x${j}`;
      const node = world.inLane(server, () => o.make());
      this.outsiders[j] = node;
      this.net.addServer(server, new Server().addService(node, SERVICE));
      const end = this.makeEnd(`leader->x${j}`, server, this.serverName('leader'));
      const recorded = new RecordingEnd(
        new DelayedEnd(
          end,
          delay.min,
          delay.max,
          (ms) => world.sleep(ms),
          () => world.rng.float(),
        ),
        this,
        options.followers + j + 1,
        `${o.what} (the leader's end ${Math.min(o.at, leaderEnds.length)})`,
      );
      leaderEnds.splice(Math.min(o.at, leaderEnds.length), 0, recorded);
    }
    // Each node is built on its own lane: the timers its constructor starts (and their RPCs and lines) are the node's.
    this.leader = world.inLane(
      this.serverName('leader'),
      () => new ctx.impl.KVNode({ ...base, id: 'leader', role: 'leader' }, leaderEnds),
    );
    this.net.addServer(this.serverName('leader'), new Server().addService(new LeaderWatch(this.leader, this), SERVICE));
  }

  /** Starts follower i with empty state on its server name (replacing a running one, whose pending replies are lost). */
  private startFollower(i: number): void {
    const node = World.current().inLane(
      this.serverName(i),
      () => new this.ctx.impl.KVNode({ ...this.base, id: `follower-${i + 1}`, role: 'follower' }, []),
    );
    this.followers[i] = node;
    this.net.addServer(this.serverName(i), new Server().addService(new FollowerWatch(node, this, i), SERVICE));
  }

  /** Stops follower i and starts it again on the same address with empty state (a crash and restart). */
  restartFollower(i: number): void {
    this.followers[i]._stop();
    this.restarts[i]++;
    this.lostAt[i] = Math.max(this.lostAt[i], this.answered[i]);
    this.answered[i] = 0;
    this.heardSinceRestart[i] = false;
    this.startFollower(i);
  }

  /** Cuts the leader's link to follower i as soon as the leader has an answer from it after its next restart. */
  cutWhenRestartAnswered(i: number, on = true): void {
    this.cutOnAnswer[i] = on;
  }

  /** Whether the leader has had an answer from follower i since it last restarted. */
  restartAnswered(i: number): boolean {
    return this.heardSinceRestart[i];
  }

  /** Called by RecordingEnd when an answer of follower i (0-based) to the leader's Replicate reaches the leader. */
  noteAnswer(i: number, reply: unknown): void {
    if (i >= this.followers.length) return; // an outsider
    const err = (reply as Partial<ReplicateReply> | undefined)?.err;
    if (this.restarts[i] === 0 || this.handledBy[i] !== this.restarts[i] || (err !== 'OK' && err !== 'ErrGap')) return;
    this.heardSinceRestart[i] = true;
    if (this.cutOnAnswer[i]) {
      this.cutOnAnswer[i] = false;
      this.cut(i, true);
    }
  }

  /**
   * Arms a trap on follower i: after it handles each Replicate call, `when(args, reply)` runs; when it returns
   * true the follower restarts empty at that very moment, so the call's effect is lost and so is its reply.
   * The trap fires once.
   */
  restartWhen(i: number, when: (args: ReplicateArgs, reply: ReplicateReply) => boolean): void {
    this.traps[i] = when;
  }

  /** Called by FollowerWatch after follower i handled a Replicate; restarts it if its trap says so. */
  afterReplicate(i: number, args: ReplicateArgs, reply: ReplicateReply): void {
    if (args.token === this.token) this.handledBy[i] = this.restarts[i];
    if (reply.err === 'OK' || reply.err === 'ErrGap') this.answered[i] = reply.lastSeq;
    const trap = this.traps[i];
    if (trap && trap(args, reply)) {
      this.traps[i] = undefined;
      this.restartFollower(i);
    }
  }

  /** The leader's server name on the network. */
  get leaderServer(): string {
    return this.serverName('leader');
  }

  /**
   * A node's name on the network, which is its lane on the trace page: "follower 1 (c0)", "leader (c0)" (c0: the
   * test's first cluster), so that the page shows the name the test's messages use.
   */
  private serverName(i: number | 'leader'): string {
    return `${i === 'leader' ? 'leader' : followerName(i)} (${this.prefix})`;
  }

  /**
   * An end `name` (unique in the cluster) to `server`, sent through by `owner` (a node's server name) when one is
   * named; `tester`: an end the tester sends through itself (clients, intruders), which no monitor judges.
   */
  private makeEnd(name: string, server: string, owner?: string, tester = false): RpcEnd {
    const full = `${this.prefix}-${name}`;
    const end = this.net.makeEnd(full, owner, { tester });
    this.net.connect(full, server);
    this.net.enable(full, true);
    return end;
  }

  /** A client talking to the leader (`to` undefined) or to follower `to`. */
  clerk(to?: number): TestClerk {
    const n = this.ends++;
    return new TestClerk(
      this.makeEnd(`client-${n}`, this.serverName(to ?? 'leader'), undefined, true),
      to === undefined ? 'the leader' : followerName(to),
    );
  }

  /** A raw end to the leader (`to` undefined) or to follower `to`, with no retries: one call is one attempt. */
  rawClient(to?: number): RpcEnd {
    return this.makeEnd(`raw-${this.ends++}`, this.serverName(to ?? 'leader'), undefined, true);
  }

  /** A raw end to follower `to` that is not the leader's: what any other client on the network could send. */
  stranger(to: number): RpcEnd {
    return this.makeEnd(`stranger-${this.ends++}`, this.serverName(to), undefined, true);
  }

  /** Cuts the leader's link to follower i (true) or restores it (false). */
  cut(i: number, off: boolean): void {
    this.net.enable(`${this.prefix}-leader->f${i}`, !off);
  }

  /** Says what the test is doing to the cluster: put before the failures the tester raises from handlers. */
  context: (() => string) | undefined;

  /** Fails the run from inside a handler (the test sees the failure when its current step ends). */
  fail(message: string): void {
    World.current().fail(new TestFailure(this.context ? `${this.context()}: ${message}` : message));
  }

  /** Called by RecordingEnd for every Replicate the leader sends (`to`: the follower's index, or beyond them an outsider's). */
  noteSent(args: unknown, to = -1): void {
    this.replicateCalls++;
    if (to >= 0 && to < this.replicateCallsTo.length) this.replicateCallsTo[to]++;
    const entries = (args as Partial<ReplicateArgs> | undefined)?.entries;
    if (!Array.isArray(entries)) {
      return this.fail(
        `The leader called ${SERVICE}.Replicate with ${show(args, 200)}; the arguments must be { entries: LogEntry[], token } (see lab4/rpc.ts).`,
      );
    }
    const token = (args as Partial<ReplicateArgs>).token;
    if (token !== this.token) {
      return this.fail(
        `The leader called ${SERVICE}.Replicate with token ${show(token)}; it must send its config.token (${show(this.token)}) in every call, ` +
          'or its followers, which accept entries only from their leader, refuse them all. Likely causes: a Replicate sent from ' +
          "outside the follower's loop (a write pushed to the followers at once in a call of its own) without the token; the " +
          'token read from the wrong field of the config.',
      );
    }
    if (entries.length > this.maxBatch) {
      return this.fail(
        `The leader sent ${entries.length} entries (#${(entries[0] as LogEntry).seq}..) in one Replicate call; config.maxBatch is ${this.maxBatch}. ` +
          'Send at most maxBatch entries per call (a follower far behind catches up in several calls): an unbounded batch can exceed what the transport carries.',
      );
    }
    for (let i = 1; i < entries.length; i++) {
      const [a, b] = [entries[i - 1] as LogEntry, entries[i] as LogEntry];
      if (b.seq !== a.seq + 1) {
        return this.fail(
          `The leader sent a Replicate call whose entries are not consecutive: #${b.seq} follows #${a.seq}. A batch is a run of the log with no gaps and no repeats, in seq order. ` +
            'Likely causes: an entry taken out of the log (a write that timed out stays in the log, so the entries after it keep ' +
            'their seqs); a batch built by filtering the log or from entries in arrival order rather than by seq.',
        );
      }
    }
    for (const e of entries as LogEntry[]) {
      const old = this.sent.get(e.seq);
      if (old === undefined) this.sent.set(e.seq, { seq: e.seq, key: e.key, value: e.value });
      else if (old.key !== e.key || old.value !== e.value) {
        return this.fail(
          `The leader sent two different writes as #${e.seq}: first ${show(old.key)}=${show(old.value)}, later ${show(e.key)}=${show(e.value)}. ` +
            'A sequence number names one write forever; give each new write the next free number.',
        );
      }
    }
  }

  /** Checks at the moment the leader acknowledges a write that W followers hold it. */
  async checkAck(args: SetArgs, reply: SetReply): Promise<void> {
    if (reply.err !== 'OK') return;
    const { holders, forgotten } = await this.holdersOf(reply.seq);
    if (holders.length < this.quorum) {
      const lost = forgotten.map(
        (f) =>
          ` Follower ${f} held #${reply.seq} before it restarted empty, and has not held it since. Likely causes: the leader kept ` +
          `the highest seq follower ${f} ever confirmed, although an answer since (an OK or ErrGap, to a heartbeat or to a write) ` +
          'gave a lower lastSeq: record the lastSeq of every answer, lower or not, since a lower one means the follower lost ' +
          'those entries; or the leader counted a call that rejected (TimeoutError) as if the follower had confirmed it: a ' +
          'rejected call tells nothing, so keep the record as it was and send again.',
      );
      const outsiders =
        this.outsiders.length === 0
          ? ''
          : ` Among the leader's followers are also ${this.outsiders.length} node(s) of another configuration (${(this.options.outsiders ?? []).map((o) => o.what).join('; ')}): ` +
            'they answer ErrForbidden or ErrNotFollower, which never means they hold an entry, so they must never count towards a quorum.';
      return this.fail(
        `The leader acknowledged write #${reply.seq} (${show(args.key)}=${show(args.value)}) when only ${holders.length} follower(s) held it ` +
          `(${holders.join(', ') || 'none'}); with quorum ${this.quorum} it must wait until ${this.quorum} followers have applied it.${lost.join('')}${outsiders}` +
          (lost.length === 0 && outsiders === ''
            ? ' Likely causes: a follower counted as holding a batch when it was sent, before its answer came (a lost batch ' +
              'then counts); a write acknowledged before W followers hold it (W - 1, or the leader counted as one of them); ' +
              'a commit point taken from the wrong follower (the sorted seqs read from the wrong end).'
            : ''),
      );
    }
    if (!(Number.isInteger(reply.replicas) && reply.replicas >= this.quorum && reply.replicas <= holders.length)) {
      return this.fail(
        `The leader acknowledged write #${reply.seq} with replicas=${reply.replicas}, but at that moment ${holders.length} follower(s) held it (${holders.join(', ')}). ` +
          `replicas must count the followers known to hold the write: at least the quorum (${this.quorum}), and never more than really hold it. ` +
          'Likely causes: a write acknowledged before W followers hold it (counting W - 1 of them); replicas counted as every ' +
          'follower, or as the quorum, instead of the followers whose answers show they hold the write.',
      );
    }
    const entry = this.sent.get(reply.seq);
    if (entry && (entry.key !== args.key || entry.value !== args.value)) {
      return this.fail(
        `The leader acknowledged ${show(args.key)}=${show(args.value)} as write #${reply.seq}, but it sent #${reply.seq} to followers as ${show(entry.key)}=${show(entry.value)}.`,
      );
    }
  }

  /**
   * Which followers hold entry `seq` now, by name; a follower that held it before it restarted empty counts too
   * (marked so) until the leader has had an answer from it since, or always with `ever`. `forgotten`: the
   * followers (1-based) that held it before a restart the leader has since heard of.
   */
  async holdersOf(seq: number, ever = false): Promise<{ holders: string[]; forgotten: number[] }> {
    const holders: string[] = [];
    const forgotten: number[] = [];
    for (let i = 0; i < this.followers.length; i++) {
      const st = await this.followers[i].Status({ noData: true });
      if (st.lastSeq >= seq) holders.push(`${followerName(i)}`);
      else if (this.lostAt[i] >= seq) {
        if (this.heardSinceRestart[i] && !ever) forgotten.push(i + 1);
        else holders.push(`${followerName(i)} (before it restarted empty)`);
      }
    }
    return { holders, forgotten };
  }

  /** Status of every node, leader first. */
  async statuses(): Promise<StatusReply[]> {
    const out = [await this.leader.Status({})];
    for (const f of this.followers) out.push(await f.Status({}));
    return out;
  }

  /** Waits (virtual time) until every follower holds the leader's whole log and the leader committed it. */
  async waitConverged(limitMs: number, skip: ReadonlySet<number> = new Set()): Promise<void> {
    const start = performance.now();
    for (;;) {
      const leader = await this.leader.Status({ noData: true });
      let behind: string[] = [];
      for (let i = 0; i < this.followers.length; i++) {
        if (skip.has(i)) continue;
        const st = await this.followers[i].Status({ noData: true });
        if (st.lastSeq !== leader.lastSeq) behind.push(`${followerName(i)} at #${st.lastSeq}`);
      }
      if (leader.commitSeq !== leader.lastSeq) behind = [`the leader committed only #${leader.commitSeq}`, ...behind];
      if (behind.length === 0) return;
      if (performance.now() - start > limitMs) {
        throw new TestFailure(
          `${(limitMs / 1000).toFixed(1)} s after the last write the replicas still differ from the leader's log (which ends at #${leader.lastSeq}): ` +
            `${behind.join(', ')}. The leader must keep sending each follower what it lacks until it holds everything.`,
        );
      }
      await World.current().sleep(10);
    }
  }

  /**
   * The original's consistency check, made strict: every replica (and the leader) holds exactly the state of the
   * leader's log replayed in order, and each acknowledged write is the entry its seq names.
   */
  async checkReplicasMatchLog(acks: readonly Ack[]): Promise<void> {
    const [leader, ...followers] = await this.statuses();
    const expected = new Map<string, string>();
    for (let s = 1; s <= leader.lastSeq; s++) {
      const e = this.sent.get(s);
      check(
        e !== undefined,
        `The leader's log ends at #${leader.lastSeq}, but it never sent entry #${s} to any follower.`,
      );
      expected.set(e.key, e.value);
    }
    for (const a of acks) {
      const e = this.sent.get(a.seq);
      check(
        e !== undefined && e.key === a.key && e.value === a.value,
        () =>
          `Client ${a.client}'s write ${show(a.key)}=${show(a.value)} was acknowledged as #${a.seq}, but entry #${a.seq} of the log is ${e ? `${show(e.key)}=${show(e.value)}` : 'missing'}.`,
      );
    }
    const compare = (who: string, st: StatusReply): void => {
      const diff = firstDifference(expected, st.data);
      check(
        diff === undefined,
        () =>
          `${who} differs from the leader's log replayed in order (#1..#${leader.lastSeq}): ${diff}. Replicas must apply exactly the leader's writes, in sequence order.`,
      );
    };
    compare('The leader', leader);
    followers.forEach((st, i) => {
      check(
        st.lastSeq === leader.lastSeq,
        `Follower ${i + 1} holds up to #${st.lastSeq} but the leader's log ends at #${leader.lastSeq}.`,
      );
      compare(`Follower ${i + 1}`, st);
    });
    this.ctx.log(
      `${followers.length + 1} replicas identical: ${expected.size} keys after ${leader.lastSeq} log entries`,
    );
  }

  /** Stops every node's background work. */
  stop(): void {
    this.leader._stop();
    for (const f of this.followers) f._stop();
    for (const o of this.outsiders) o._stop();
  }
}

/** Records every Replicate the leader sends before passing it on, and fails a second one sent while one is in flight. */
/**
 * What is wrong with the arguments of a Replicate call, or undefined when they have exactly ReplicateArgs' fields
 * (entries, each exactly a LogEntry's, and token): a field of the leader's own would make each copy of a call look
 * like a new one to the tester, and tell the follower what the handout does not.
 */
function replicateArgsProblem(args: unknown): string | undefined {
  const exactly = (o: unknown, fields: readonly string[]): o is Record<string, unknown> =>
    typeof o === 'object' &&
    o !== null &&
    !Array.isArray(o) &&
    Object.keys(o).length === fields.length &&
    fields.every((f) => Object.hasOwn(o, f));
  const entryOk = (e: unknown): boolean =>
    exactly(e, ['seq', 'key', 'value']) &&
    typeof e.seq === 'number' &&
    typeof e.key === 'string' &&
    typeof e.value === 'string';
  if (exactly(args, ['entries', 'token']) && Array.isArray(args.entries) && args.entries.every(entryOk))
    return undefined;
  return (
    `a Replicate call with the arguments ${show(args, 300)}. Expected exactly the fields of ReplicateArgs: ` +
    '{ entries, token }, each entry exactly a LogEntry { seq, key, value } (a number and two strings), as lab4/rpc.ts ' +
    "gives them, and nothing else. Likely causes: an extra field (a counter, an id, the leader's commit point: the " +
    'follower must decide from the entries and the token alone); a field misspelt or left out; a seq sent as a string.'
  );
}

class RecordingEnd implements RpcEnd {
  private readonly inner: RpcEnd;
  private readonly tester: Lab4Tester;
  /** The follower this end reaches (1-based; beyond the followers, an outsider). */
  private readonly follower: number;
  /** Who it reaches, for messages ("follower 2"). */
  private readonly label: string;
  private inFlight = 0;

  constructor(inner: RpcEnd, tester: Lab4Tester, follower: number, label = followerName(follower - 1)) {
    this.inner = inner;
    this.tester = tester;
    this.follower = follower;
    this.label = label;
  }

  async call<Reply = unknown>(sentMethod: string, sent?: unknown): Promise<Reply> {
    // One name for every reader: the check below, and the network.
    const name = methodOnce(sentMethod);
    if ('error' in name) throw name.error;
    const method = name.copy as string;
    if (method !== `${SERVICE}.Replicate`) return this.inner.call<Reply>(method, sent);
    // What is judged is what is sent: the arguments read once, as data.
    const once = readOnce(sent, `the arguments of ${method}`);
    if ('error' in once) throw once.error;
    const args = once.copy;
    const wrong = replicateArgsProblem(args);
    if (wrong !== undefined) this.tester.fail(`The leader sent ${this.label} ${wrong}`);
    this.tester.noteSent(args, this.follower - 1);
    if (this.inFlight > 0) {
      this.tester.fail(
        `The leader sent ${this.label} a Replicate call while another call to it had no answer yet. Keep one call in flight per ` +
          'follower: send, wait for the answer (or the TimeoutError), then send what is new since. Calls racing each other reach the follower in any order. ' +
          "Likely causes: a write pushed to the followers at once in a call of its own, beside the follower's loop; a second loop started for a " +
          'follower whose loop still runs (woken again, or started again after a restart); a retry sent before the last call was answered.',
      );
    }
    this.inFlight++;
    try {
      const reply = await this.inner.call<Reply>(method, args);
      this.tester.noteAnswer(this.follower - 1, reply);
      return reply;
    } finally {
      this.inFlight--;
    }
  }
}

/** A follower as the network sees it: the student's node, with a hook after each Replicate (see restartWhen). */
class FollowerWatch {
  private readonly node: KVNodeService;
  private readonly tester: Lab4Tester;
  private readonly index: number;

  constructor(node: KVNodeService, tester: Lab4Tester, index: number) {
    this.node = node;
    this.tester = tester;
    this.index = index;
  }
  async Replicate(args: ReplicateArgs): Promise<ReplicateReply> {
    const reply = await this.node.Replicate(args);
    this.tester.afterReplicate(this.index, args, reply);
    return reply;
  }
  Set(args: Parameters<KVNodeService['Set']>[0]): ReturnType<KVNodeService['Set']> {
    return this.node.Set(args);
  }
  Get(args: Parameters<KVNodeService['Get']>[0]): ReturnType<KVNodeService['Get']> {
    return this.node.Get(args);
  }
  Status(args: Parameters<KVNodeService['Status']>[0]): ReturnType<KVNodeService['Status']> {
    return this.node.Status(args);
  }
}

/** The leader as the network sees it: the student's node, with each acknowledgement checked as it is given. */
class LeaderWatch {
  private readonly node: KVNodeService;
  private readonly tester: Lab4Tester;

  constructor(node: KVNodeService, tester: Lab4Tester) {
    this.node = node;
    this.tester = tester;
  }
  async Set(args: SetArgs): Promise<SetReply> {
    const reply = await this.node.Set(args);
    await this.tester.checkAck(args, reply);
    return reply;
  }
  Get(args: Parameters<KVNodeService['Get']>[0]): ReturnType<KVNodeService['Get']> {
    return this.node.Get(args);
  }
  Status(args: Parameters<KVNodeService['Status']>[0]): ReturnType<KVNodeService['Status']> {
    return this.node.Status(args);
  }
  Replicate(args: Parameters<KVNodeService['Replicate']>[0]): ReturnType<KVNodeService['Replicate']> {
    return this.node.Replicate(args);
  }
}

/** The tests' client: re-sends a call until it gets an answer. */
export class TestClerk {
  private readonly end: RpcEnd;
  /** Who it talks to, for messages. */
  readonly target: string;

  constructor(end: RpcEnd, target: string) {
    this.end = end;
    this.target = target;
  }

  private async call<R>(method: string, args: unknown): Promise<R> {
    for (;;) {
      try {
        return await this.end.call<R>(`${SERVICE}.${method}`, args);
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        await World.current().sleep(1);
      }
    }
  }

  /** Sends a write (again after a lost message; a write may so land twice in the log, which is allowed). */
  set(key: string, value: string): Promise<SetReply> {
    return this.call<SetReply>('Set', { key, value });
  }

  get(key: string): Promise<GetReply> {
    return this.call<GetReply>('Get', { key });
  }
}

/** The first way `got` differs from `want`, in words, or undefined. */
function firstDifference(want: ReadonlyMap<string, string>, got: Record<string, string>): string | undefined {
  for (const [k, v] of want) {
    if (!Object.hasOwn(got, k)) return `key ${show(k)} is missing (expected ${show(v)})`;
    if (got[k] !== v) return `key ${show(k)} is ${show(got[k])}, expected ${show(v)}`;
  }
  for (const k of Object.keys(got)) if (!want.has(k)) return `it has key ${show(k)}, which the log never wrote`;
  return undefined;
}

/** Shows a value in a message, shortened when long. */
export function show(value: unknown, max = 40): string {
  // A long string is cut before it is written out (the same text: JSON of a prefix begins as JSON of the whole).
  const v = typeof value === 'string' && value.length > max ? value.slice(0, max) : value;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

brandHarness(Lab4Tester);
