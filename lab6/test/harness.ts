/**
 * Lab 6's tester: a cluster of the student's Raft peers on the simulated network, with MIT's checks (one leader,
 * agreement on terms, how many peers committed an index) and a watch on every apply: in order, once, and the same
 * command at an index on every peer (state machine safety).
 */
import { Network, Server, Service } from '../../labrpc';
import { encode } from '../../labrpc/codec';
import { lostCall } from '../../labrpc/errors';
import { readOnce } from '../../labrpc/read-once';
import type { Handler } from '../../labrpc';
import type { RpcEnd } from '../../labrpc';
import { TestFailure } from '../../suite';
import { describeError } from '../../suite/run';
import type { TestContext } from '../../suite';
import { World, keyedRng, sleep } from '../../world';
import { Persister } from '../persister';
import type { ApplyMsg, Command, RaftConstructor, RaftPeer } from '../raftapi';
import type { RsmConstructor } from '../rsmapi';
import type { ClerkConstructor, KVServerConstructor } from '../kvapi';
import { brandHarness } from '../../world/brand';

/** What the grader loads from lab6/ (or solutions/lab6/). */
export interface Lab6Impl {
  Raft: RaftConstructor;
  RSM: RsmConstructor;
  KVServer: KVServerConstructor;
  Clerk: ClerkConstructor;
}

/** What runs on one server in parts 5-7, where the tester builds a service rather than a bare Raft peer. */
export interface BuiltServer {
  /** The server's Raft peer: its handlers are registered as "Raft.<Method>" and the tester watches its state. */
  raft: RaftPeer;
  /** Further RPC services on the same server (the key/value service's "KVServer"). */
  services: Service[];
  /** Stops the whole server (service, RSM and Raft peer): the tester's crash. */
  kill(): void;
}

/** Builds server `me` on its ends to the peers and its persister (parts 5-7). */
export type ServerBuilder = (peers: readonly RpcEnd[], me: number, persister: Persister) => BuiltServer;

/** MIT's RaftElectionTimeout: a new leader must be chosen well within this after the old one is lost (ms). */
export const ELECTION_TIMEOUT_MS = 1000;
/** In the snapshot tests the tester asks each peer to snapshot once every this many applied commands. */
export const SNAPSHOT_INTERVAL = 10;
/** With snapshots, a peer's saved Raft state must stay below this many characters (the log must be trimmed). */
export const MAX_LOG_SIZE = 4000;

/** How to build a cluster. */
export interface ClusterOptions {
  /** Number of peers. */
  servers: number;
  /** Drop and delay messages (MIT's unreliable network). */
  unreliable?: boolean;
  /** Ask peers for snapshots every SNAPSHOT_INTERVAL applied commands, each peer at its own indexes (part 4). */
  snapshots?: boolean;
  /** Virtual ms between an apply at a snapshot point and the tester's snapshot() call (default 0: at once). */
  snapshotDelayMs?: number;
  /** Parts 5-7: what each server runs (a service built on a Raft peer it makes itself); the tester sees no applies. */
  build?: ServerBuilder;
}

/** The tester's own snapshot: every command up to `index`, so a peer restarted from it knows what it applied. */
interface TesterSnapshot {
  index: number;
  commands: Command[];
}

/** True when `data` is exactly a snapshot's text as the tester makes it: its index and commands, nothing else. */
function isTesterMade(data: string): boolean {
  try {
    const snap = JSON.parse(data) as TesterSnapshot;
    return JSON.stringify({ index: snap.index, commands: snap.commands }) === data;
  } catch {
    return false;
  }
}

/** What is wrong with a saved or installed snapshot that holds more than the tester's (parts 3A-3D). */
const NOT_AS_MADE =
  "it is not exactly the snapshot the tester made: it holds more than the tester's index and commands, or the same " +
  're-encoded. Raft saves and sends the snapshot it is given unchanged, beside its own state. Likely causes: the log ' +
  '(or other Raft state) saved inside the snapshot instead of in the Raft state; a snapshot re-encoded on the way.';

/** Commands compare by their JSON text (the network copies them, so identity means nothing). */
function same(a: Command, b: Command): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A command as a message shows it: short. */
export function showCommand(c: Command): string {
  const s = JSON.stringify(c) ?? String(c);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * A scripted test's grip on one call's reply (see RaftTester.onCall): `arrived` runs when the network delivers the
 * reply to the caller's end, and the caller's promise resolves only once `release` does, as if the reply had been
 * slow on the wire. A call that fails (lost, unreachable) fails at once, held or not.
 */
export interface ReplyHold {
  arrived?: () => void;
  release: Promise<void>;
  /** When set, the request itself (copied as it was at the call) goes out only once this resolves. */
  sendAfter?: Promise<void>;
}

/** A scripted test's loss of one call (see RaftTester.onCall): the request never arrives, and the call fails. */
export interface CallLoss {
  lose: true;
}

/** How long a lost call takes to fail, as the network's own lost requests do (virtual ms). */
const LOSS_NOTICE_MS = 10;

/** Peer i as the tests' messages and the trace page (its lane, its server on the network) name it: "peer 2". */
export function peerName(i: number): string {
  return `peer ${i}`;
}

/** The names a request's term field may have (Figure 2's `term`; `currentTerm` too), in any case. */
const TERM_FIELD = /^(current)?term$/i;

/**
 * The term a request (its arguments, as copied) says it was made in: its one own numeric field named `term` (or
 * `currentTerm`, any case), not a log's or snapshot's term; or why it shows none.
 */
export function requestTerm(args: unknown): { term: number } | { problem: string } {
  const fields = typeof args === 'object' && args !== null ? Object.entries(args) : [];
  const terms = fields.filter(([key]) => TERM_FIELD.test(key));
  if (terms.length === 1 && typeof terms[0][1] === 'number') return { term: terms[0][1] };
  const shown = terms.length === 0 ? 'no such field' : terms.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
  return { problem: `its arguments show ${shown}` };
}

/** The RPCs one Raft peer may send another: Figure 2's, by the names the tests watch them by. */
const RAFT_RPCS: readonly string[] = ['Raft.RequestVote', 'Raft.AppendEntries', 'Raft.InstallSnapshot'];

/** The failure of an RPC between peers that is not one of RAFT_RPCS. */
function unknownRaftRpc(from: number, method: string): string {
  return (
    `${peerName(from)} called ${JSON.stringify(method)} on another peer. Expected only ${RAFT_RPCS.join(', ')}: ` +
    'the handlers are named as in Figure 2 (RequestVote, AppendEntries, InstallSnapshot), and the tests watch those ' +
    'RPCs by name (holding a reply, counting heartbeats). Likely causes: a handler named otherwise (appendEntries, ' +
    'Raft.Heartbeat), a service name other than Raft, or an RPC of your own between peers (fold it into one of the three).'
  );
}

/** The failure of a Raft request that shows no term where answered terms are judged. */
function noTermShown(from: number, method: string, problem: string): string {
  return (
    `${peerName(from)} sent ${method}, and ${problem}. Expected every request one Raft peer sends another to carry ` +
    "its sender's current term in one number field named term (Figure 2's name; currentTerm is taken too), which " +
    'this test judges: a peer that answers a request made in a higher term must first move to that term. Likely ' +
    'causes: the field named otherwise (leaderTerm, candidateTerm), two such fields, or a term kept as a string.'
  );
}

/**
 * Each peer's snapshot phase (see RaftTester.snapshotPhase), from the seed's own stream: in a quarter of the runs one
 * phase for every peer (all snapshot at the same indexes), otherwise one per peer.
 */
function drawSnapshotPhases(seed: number, n: number): number[] {
  const rng = keyedRng(seed, 'lab6-snapshot-points');
  const shared = rng.chance(0.25) ? rng.int(SNAPSHOT_INTERVAL) : undefined;
  return Array.from({ length: n }, () => shared ?? rng.int(SNAPSHOT_INTERVAL));
}

/** One test's cluster of Raft peers. */
export class RaftTester {
  private readonly ctx: TestContext<Lab6Impl>;
  readonly net = new Network();
  readonly n: number;
  private readonly rafts: Array<RaftPeer | undefined>;
  /** How to stop each running server (its Raft peer's kill, or the service's in parts 5-7). */
  private readonly killers: Array<() => void>;
  private readonly build: ServerBuilder | undefined;
  private readonly persisters: Persister[];
  private readonly connected: boolean[];
  /** ends[i][j]: the name of the end peer i uses to reach peer j (renamed at each restart of i). */
  private readonly ends: string[][];
  /** calls[i][j]: the RPCs peer i has sent peer j so far, lost ones included. */
  private readonly calls: number[][];
  /** What each peer applied: index → command (kept across a crash: a restarted peer applies the same again). */
  private readonly logs: Array<Map<number, Command>>;
  private readonly lastApplied: number[];
  /** The highest term in which any instance of each peer sent or answered an RPC: what it must have saved. */
  private readonly termUsed: number[];
  /** Which peer said it led each term (Election Safety: never two). */
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly snapshots: boolean;
  /**
   * Where each peer's snapshot points fall: peer i snapshots after applying index k when (k + 1 + phase[i]) is a
   * multiple of SNAPSHOT_INTERVAL. Drawn per seed (sometimes one phase for all), so that a follower can be sent a
   * leader's snapshot older than what it already applied.
   */
  private readonly snapshotPhase: number[];
  private readonly snapshotDelayMs: number;
  /** Peers the tester asks for no snapshot until the promise resolves (holdSnapshots). */
  private readonly snapshotsHeld = new Map<number, Promise<void>>();
  private generation = 0;
  /** Copies delivered late so far (deliverLate), for their ends' names. */
  private lateCopies = 0;
  /** Links cut between two peers that are otherwise connected ("i-j" with i < j). */
  private readonly cuts = new Set<string>();
  /** The highest index any peer applied. */
  maxIndex = 0;
  /**
   * Called (in a microtask) after peer i's handler produced a reply, whatever the RPC: the attackers crash here.
   * `termBefore`: peer i's term as the request arrived (undefined when getState failed).
   */
  onReplied: ((i: number, method: string, termBefore: number | undefined) => void) | undefined;
  /** Called as peer i's handler of `method` is about to run, with the request as delivered (the network's copy). */
  onRequest: ((i: number, method: string, request: unknown) => void) | undefined;
  /** Called (in a microtask) after peer i applied a command: the attackers crash here too. */
  onApplied: ((i: number, index: number) => void) | undefined;
  /**
   * Called as peer `from` calls `method` on peer `to`, before the request goes out (forced-interleaving tests), with
   * the request as the network copied it (what goes out) and the term `from` reports as it calls (undefined when
   * getState failed): return a ReplyHold to hold the reply back from the caller, a CallLoss to lose the request;
   * undefined lets the call through.
   */
  onCall:
    | ((
        from: number,
        to: number,
        method: string,
        request: unknown,
        callerTerm: number | undefined,
      ) => ReplyHold | CallLoss | undefined)
    | undefined;
  /**
   * Called as a reply reaches the code of peer `from` (after any hold), just before that code sees it: `term` is
   * the term `from` was in when it made the call. The attackers judge from it whether a leader heard from a majority.
   */
  onDelivered: ((from: number, to: number, term: number) => void) | undefined;
  /**
   * Called as the reply to a call peer `from` made in `term` reaches its end (before any hold), with `callee`, the
   * instance of peer `to` that the request went to: the attackers judge from it that an answer moved the term.
   */
  onAnswered: ((from: number, to: number, term: number, callee: RaftPeer) => void) | undefined;

  constructor(ctx: TestContext<Lab6Impl>, options: ClusterOptions) {
    this.ctx = ctx;
    this.n = options.servers;
    this.snapshots = options.snapshots ?? false;
    this.snapshotPhase = drawSnapshotPhases(ctx.seed, this.n);
    this.snapshotDelayMs = options.snapshotDelayMs ?? 0;
    if (this.snapshots) ctx.log(`snapshot points drawn per peer: ${this.snapshotPlan()}`);
    this.build = options.build;
    this.rafts = new Array<RaftPeer | undefined>(this.n).fill(undefined);
    this.killers = new Array<() => void>(this.n).fill(() => undefined);
    this.persisters = Array.from({ length: this.n }, () => new Persister());
    this.connected = new Array<boolean>(this.n).fill(false);
    this.ends = Array.from({ length: this.n }, () => new Array<string>(this.n).fill(''));
    this.calls = Array.from({ length: this.n }, () => new Array<number>(this.n).fill(0));
    this.logs = Array.from({ length: this.n }, () => new Map<number, Command>());
    this.lastApplied = new Array<number>(this.n).fill(0);
    this.termUsed = new Array<number>(this.n).fill(0);
    this.net.setReliable(!options.unreliable);
    ctx.onStuck(() => [
      `peers connected: ${
        this.connected
          .map((c, i) => (c ? i : undefined))
          .filter((i) => i !== undefined)
          .join(', ') || 'none'
      }`,
      `highest index applied: ${this.maxIndex} (per peer: ${this.lastApplied.join(', ')})`,
    ]);
    for (let i = 0; i < this.n; i++) this.start1(i);
    for (let i = 0; i < this.n; i++) this.connect(i);
    this.watchRoles();
  }

  /** The lane and server name of peer i: peerName(i). */
  static serverName(i: number): string {
    return peerName(i);
  }

  /**
   * Where answered terms are judged, peer i's request (`args` of `method`, sent in its term `callTerm`) read once,
   * to be judged and sent as that copy, with the term to judge its answer by: the request must show its term, and
   * is judged when that is the sender's term now (one built before the sender's term moved, and sent after, is stale
   * but harmless). Elsewhere, `args` as they are and no term.
   */
  private answeredTermOf(
    i: number,
    method: string,
    args: unknown,
    callTerm: number | undefined,
  ): { args: unknown; term: number | undefined } | { error: unknown } {
    if ((this.onAnswered === undefined && this.onCall === undefined) || callTerm === undefined)
      return { args, term: undefined };
    const once = readOnce(args, `the arguments of ${peerName(i)}'s ${method}`);
    if ('error' in once) return once;
    if (this.onAnswered === undefined) return { args: once.copy, term: undefined }; // read once for onCall alone
    const stated = requestTerm(once.copy);
    if ('problem' in stated) this.fail(noTermShown(i, method, stated.problem));
    return { args: once.copy, term: stated.term === callTerm ? callTerm : undefined };
  }

  /** Starts (or restarts) peer i with a copy of what it saved; a running instance is crashed first. */
  start1(i: number): void {
    this.crash1(i);
    const world = World.current();
    this.generation++;
    let self: RaftPeer | undefined;
    const peers: RpcEnd[] = [];
    for (let j = 0; j < this.n; j++) {
      const name = `end-${i}-${j}-${this.generation}`;
      this.ends[i][j] = name;
      const end = this.net.makeEnd(name, RaftTester.serverName(i));
      peers.push({
        call: <Reply>(method: string, args?: unknown): Promise<Reply> => {
          if (typeof method === 'string' && !RAFT_RPCS.includes(method)) this.fail(unknownRaftRpc(i, method));
          if (self !== undefined && this.rafts[i] !== self) return this.sentAfterKill(i, method);
          this.calls[i][j]++;
          if (self !== undefined) this.noteTermUsed(i, self);
          const callTerm = self === undefined ? undefined : this.readState(self)?.term;
          const judged = this.answeredTermOf(i, method, args, callTerm);
          if ('error' in judged) return Promise.reject(judged.error);
          const answeredTerm = judged.term;
          const hold = this.onCall?.(i, j, method, judged.args, callTerm);
          if (hold !== undefined && 'lose' in hold) return this.lost<Reply>(name, i, method);
          const sent = this.send<Reply>(end, j, method, judged.args, hold?.sendAfter, (callee) => {
            if (answeredTerm !== undefined) this.onAnswered?.(i, j, answeredTerm, callee);
          });
          const reply =
            hold === undefined
              ? sent
              : sent.then((r) => {
                  hold.arrived?.();
                  return hold.release.then(() => r);
                });
          if (this.onDelivered === undefined || callTerm === undefined) return reply;
          return reply.then((r) => {
            if (this.rafts[i] === self) this.onDelivered?.(i, j, callTerm);
            return r;
          });
        },
      });
      this.net.connect(name, RaftTester.serverName(j));
    }
    const persister = this.persisters[i];
    this.lastApplied[i] = 0;
    // In parts 5-7 the snapshot is the service's, which restores it itself.
    const saved = this.build === undefined ? persister.readSnapshot() : '';
    if (saved !== '') {
      const problem = this.ingestSnapshot(i, saved, undefined);
      if (problem) this.fail(`${peerName(i)} restarted from its saved snapshot, but ${problem}`);
    }
    const apply = (msg: ApplyMsg): void => {
      // A crashed instance's late applies are not the peer's any more. The message is read once, as data: the checks
      // and the record must see one and the same apply (an object of the code's could answer each read apart).
      if (self === undefined || this.rafts[i] !== self) return;
      const once = readOnce(msg, `${peerName(i)}'s apply message`);
      if ('copy' in once) this.applied(i, self, once.copy as ApplyMsg);
    };
    const built = world.inLane(RaftTester.serverName(i), () =>
      this.build !== undefined
        ? this.build(peers, i, persister)
        : RaftTester.bare(new this.ctx.impl.Raft(peers, i, persister, apply)),
    );
    const raft = built.raft;
    self = raft;
    this.rafts[i] = raft;
    this.killers[i] = built.kill;
    const restored = this.readState(raft);
    if (restored !== undefined && restored.term < this.termUsed[i])
      world.fail(
        new TestFailure(
          `${peerName(i)} restarted in term ${restored.term}, but before its crash it sent or answered RPCs in term ` +
            `${this.termUsed[i]}. Expected currentTerm to be saved before a peer sends or answers anything in a new ` +
            'term (Figure 2: persistent state is updated on stable storage before responding to RPCs). Likely causes: ' +
            'persister.save not called when the term changes (on starting an election, or on hearing a higher term), ' +
            'the term saved later (in a timer), or the term not read back in the constructor.',
        ),
      );
    const server = new Server().addService(this.watchedService(i, raft, new Service(raft, 'Raft')));
    for (const service of built.services) server.addService(this.watchedService(i, raft, service));
    this.net.addServer(RaftTester.serverName(i), server);
  }

  /**
   * Sends one call on `end`, at once or (with `after`) once `after` resolves, with the arguments as they were now;
   * `answered` then sees the instance the call reached, as its reply arrives (before any hold of the reply).
   */
  private send<Reply>(
    end: RpcEnd,
    j: number,
    method: string,
    args: unknown,
    after: Promise<void> | undefined,
    answered: (callee: RaftPeer) => void,
  ): Promise<Reply> {
    let copy = args;
    if (after !== undefined) {
      try {
        copy = encode(args, `the arguments of ${method}`).copy;
      } catch {
        after = undefined; // the network refuses them at once, held or not
      }
    }
    const go = (): Promise<Reply> => {
      const callee = this.rafts[j];
      const sent = end.call<Reply>(method, copy);
      // Without a watch on answers, the reply is the network's own promise: no step added to anyone's run.
      if (this.onAnswered === undefined || callee === undefined) return sent;
      return sent.then((r) => {
        answered(callee);
        return r;
      });
    };
    return after === undefined ? go() : after.then(go);
  }

  /** A bare Raft peer as a server (parts 1-4). */
  private static bare(raft: RaftPeer): BuiltServer {
    return { raft, services: [], kill: () => raft.kill() };
  }

  /**
   * Server i's handlers of `own` as the network calls them (Raft's, and in parts 5-7 the service's), each followed
   * by `onReplied` once its reply is on its way: a point where a crash finds out whether the server saved what its
   * reply promised. It knows no handler by name.
   */
  private watchedService(i: number, raft: RaftPeer, own: Service): Service {
    const handlers: Record<string, Handler> = {};
    for (const method of own.methods()) {
      const handler = own.handler(method) as (args: unknown) => unknown;
      handlers[method] = (args: never): unknown => {
        if (this.rafts[i] === raft) this.onRequest?.(i, method, args);
        const before = this.onReplied !== undefined && this.rafts[i] === raft ? this.readState(raft)?.term : undefined;
        const reply = handler(args);
        const after = (): void => {
          if (this.rafts[i] === raft) this.noteTermUsed(i, raft);
          if (this.onReplied !== undefined && this.rafts[i] === raft)
            queueMicrotask(() => this.onReplied?.(i, method, before));
        };
        if (reply instanceof Promise) void reply.then(after, () => undefined);
        else after();
        return reply;
      };
    }
    return new Service(handlers, own.name);
  }

  /** A call of peer i's that a scripted test lost: it fails a little later, as a lost request on the network does. */
  private lost<Reply>(endName: string, i: number, method: string): Promise<Reply> {
    return sleep(LOSS_NOTICE_MS).then(() => Promise.reject(lostCall(method, endName, peerName(i))));
  }

  /**
   * Delivers `request`, a copy of a call peer `from` made earlier (one the test lost), to peer `to` now, as a message
   * that was late on the wire: through an end of its own, its reply dropped. Resolves once the reply (or the loss) is in.
   */
  async deliverLate(from: number, to: number, method: string, request: unknown): Promise<void> {
    const name = `late-${from}-${to}-${++this.lateCopies}`;
    const end = this.net.makeEnd(name, peerName(from), { tester: true });
    this.net.connect(name, RaftTester.serverName(to));
    this.net.enable(name, true);
    try {
      await end.call(method, request);
    } catch {
      // Lost too (the peer is down or cut off): the copy did not arrive, which the test's later checks allow.
    }
    this.net.deleteEnd(name);
  }

  /** A killed instance of peer i sent an RPC: that fails the test (kill() promises silence) and the call. */
  private sentAfterKill<Reply>(i: number, method: string): Promise<Reply> {
    const error = new TestFailure(
      `a killed instance of ${peerName(i)} called ${method} after kill() (the tester crashed it, then restarted it or left ` +
        'it down). Expected a killed peer to send nothing more. Likely causes: kill() does not clear every timer (the ' +
        'heartbeat or the election timer), code that resumes after an await does not check that the peer was killed' +
        (this.build !== undefined
          ? ", or (parts 5-7) a kill() that does not reach the Raft peer: the server's kill() must kill its RSM, and the RSM's its Raft peer."
          : '.'),
    );
    World.current().fail(error);
    return Promise.reject(error);
  }

  /** Peer i's state as it reports it, or undefined when getState throws (the test's own calls report that). */
  private readState(raft: RaftPeer): { term: number } | undefined {
    try {
      const s = raft.getState();
      return Number.isInteger(s.term) ? s : undefined;
    } catch {
      return undefined;
    }
  }

  /** Notes that peer i sends or answers an RPC in its current term. */
  private noteTermUsed(i: number, raft: RaftPeer): void {
    const s = this.readState(raft);
    if (s !== undefined && s.term > this.termUsed[i]) this.termUsed[i] = s.term;
  }

  /** Restarts peer i from what it saved and attaches it to the network. */
  restart(i: number): void {
    this.start1(i);
    this.connect(i);
  }

  /** Every peer running (the crashed ones restarted) and attached: how the tests end their faults. */
  reviveAll(): void {
    for (let i = 0; i < this.n; i++) {
      if (!this.isRunning(i)) this.start1(i);
      this.connect(i);
    }
  }

  /** Crashes every peer, then restarts them all from what they saved. */
  crashAndRestartAll(): void {
    for (let i = 0; i < this.n; i++) this.crash1(i);
    for (let i = 0; i < this.n; i++) this.restart(i);
  }

  /**
   * Crashes peer i: cut off, killed, and its persister copied, so that nothing it does from now on is kept; with
   * `keepSaved` false (a peer that never restarts), dropped instead, so that what it saved goes with it.
   */
  crash1(i: number, keepSaved = true): void {
    const raft = this.rafts[i];
    if (raft === undefined) return;
    this.disconnect(i);
    this.net.deleteServer(RaftTester.serverName(i));
    // Its old ends stay disabled (as in MIT's tester): a killed instance that still sends sees its calls fail.
    for (let j = 0; j < this.n; j++) this.ends[i][j] = '';
    this.persisters[i] = keepSaved ? this.persisters[i].copy() : new Persister();
    this.rafts[i] = undefined;
    World.current().inLane(RaftTester.serverName(i), this.killers[i]);
    // The killed instance is not held here any more (a memory test weighs what its going frees).
    this.killers[i] = () => undefined;
  }

  /** Attaches peer i to the network: its ends to connected peers, and theirs to it (except links cut by cutLink). */
  connect(i: number): void {
    this.connected[i] = true;
    for (let j = 0; j < this.n; j++) {
      if (!this.connected[j] || this.cuts.has(RaftTester.link(i, j))) continue;
      if (this.ends[i][j] !== '') this.net.enable(this.ends[i][j], true);
      if (this.ends[j][i] !== '') this.net.enable(this.ends[j][i], true);
    }
  }

  /** Cuts the link between peers i and j both ways, while both stay connected to the others (until healLinks). */
  cutLink(i: number, j: number): void {
    this.cuts.add(RaftTester.link(i, j));
    for (const [a, b] of [
      [i, j],
      [j, i],
    ])
      if (this.ends[a][b] !== '') this.net.enable(this.ends[a][b], false);
  }

  /** Restores every link cutLink cut, between connected peers. */
  healLinks(): void {
    this.cuts.clear();
    for (let i = 0; i < this.n; i++) if (this.connected[i]) this.connect(i);
  }

  /** The name of the link between two peers, either way round. */
  private static link(i: number, j: number): string {
    return i < j ? `${i}-${j}` : `${j}-${i}`;
  }

  /** Detaches peer i: nothing it sends arrives, nothing sent to it arrives. */
  disconnect(i: number): void {
    this.connected[i] = false;
    for (let j = 0; j < this.n; j++) {
      if (this.ends[i][j] !== '') this.net.enable(this.ends[i][j], false);
      if (this.ends[j][i] !== '') this.net.enable(this.ends[j][i], false);
    }
  }

  /** True while peer i is attached to the network. */
  isConnected(i: number): boolean {
    return this.connected[i];
  }

  /** True while peer i runs (it has not crashed, or was restarted). */
  isRunning(i: number): boolean {
    return this.rafts[i] !== undefined;
  }

  /** The running instance of peer i (undefined while crashed). */
  peer(i: number): RaftPeer | undefined {
    return this.rafts[i];
  }

  /** MIT's unreliable network: lost requests and replies, delays. */
  setUnreliable(yes: boolean): void {
    this.net.setReliable(!yes);
  }

  /** Two thirds of replies held back 200-2200 ms. */
  setLongReordering(yes: boolean): void {
    this.net.setLongReordering(yes);
  }

  /** The RPCs each peer has sent each other peer so far: [from][to], lost ones included (a copy). */
  callsBetween(): number[][] {
    return this.calls.map((row) => [...row]);
  }

  /** RPCs sent on the network so far. */
  rpcTotal(): number {
    return this.net.getTotalCount();
  }

  /** Bytes of requests and replies carried so far. */
  bytesTotal(): number {
    return this.net.getTotalBytes();
  }

  /**
   * The largest saved Raft state among the peers, in characters. In parts 3A-3D each saved snapshot must be exactly
   * one the tester made, so that no state can hide in it from this bound (the service's own, in parts 4-7, is
   * bounded by its tester).
   */
  logSize(): number {
    if (this.build === undefined)
      this.persisters.forEach((p, i) => {
        const saved = p.readSnapshot();
        if (saved !== '' && !isTesterMade(saved)) this.fail(`${peerName(i)}'s saved snapshot: ${NOT_AS_MADE}`);
      });
    return Math.max(...this.persisters.map((p) => p.raftStateSize()));
  }

  /** The largest saved snapshot among the peers, in characters. */
  snapshotSize(): number {
    return Math.max(...this.persisters.map((p) => p.snapshotSize()));
  }

  /** The most one peer saved, Raft state and snapshot together, in characters: all a restart could read. */
  savedSize(): number {
    return Math.max(...this.persisters.map((p) => p.raftStateSize() + p.snapshotSize()));
  }

  /** The size of the snapshot peer i saved (0: none yet). */
  snapshotSizeOf(i: number): number {
    return this.persisters[i].snapshotSize();
  }

  /** Peer i's state, its errors turned into clear failures. */
  state(i: number): { term: number; isLeader: boolean } {
    const raft = this.rafts[i];
    if (raft === undefined) throw new Error(`the tester asked crashed ${peerName(i)} for its state`);
    const s = raft.getState();
    if (typeof s !== 'object' || s === null || !Number.isInteger(s.term) || s.term < 0)
      this.fail(
        `${peerName(i)}'s getState() returned ${showCommand(s)}; expected { term, role } with a whole term >= 0.`,
      );
    if (s.role !== 'leader' && s.role !== 'follower' && s.role !== 'candidate')
      this.fail(
        `${peerName(i)}'s getState() returned role ${showCommand(s.role)}; expected "follower", "candidate" or "leader".`,
      );
    if (s.role === 'leader') this.noteLeader(i, s.term);
    return { term: s.term, isLeader: s.role === 'leader' };
  }

  /** Raft's Election Safety, checked at every look the tester takes: at most one peer is ever leader of a term. */
  private noteLeader(i: number, term: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other === undefined) this.leaderOfTerm.set(term, i);
    else if (other !== i)
      this.fail(
        `${peerName(i)} and ${peerName(other)} both said they were leader of term ${term}. Expected at most one ` +
          'leader in a term (Election Safety, Figure 3 of the Raft paper; start() answering isLeader true counts as ' +
          'saying so). Likely causes: a vote granted twice in one term (votedFor not kept, or votedFor not saved ' +
          'before the vote is answered, so that a restarted peer votes again); a candidate that counts its votes ' +
          'across terms or counts a vote twice; a peer that becomes leader without a majority (count against all ' +
          'peers, itself included); a leader that adopts a higher term it hears but keeps its role (it must become a ' +
          "follower); start() not checking the peer's role (only the leader answers isLeader true); or peers that " +
          'never talk to each other (each one its own leader).',
      );
  }

  /**
   * Waits for the connected peers to agree on one leader (MIT's checkOneLeader): up to ten looks about half a
   * second apart; two leaders in one term fail at once.
   */
  async checkOneLeader(): Promise<number> {
    for (let iter = 0; iter < 10; iter++) {
      await sleep(450 + Math.floor(Math.random() * 100));
      const leaders = new Map<number, number[]>();
      for (let i = 0; i < this.n; i++) {
        if (!this.connected[i] || !this.isRunning(i)) continue;
        const { term, isLeader } = this.state(i);
        if (isLeader) leaders.set(term, [...(leaders.get(term) ?? []), i]);
      }
      let lastTerm = -1;
      for (const [term, ids] of leaders) {
        if (ids.length > 1)
          this.fail(
            `term ${term} has ${ids.length} leaders (peers ${ids.join(' and ')}); Raft allows at most one per term. ` +
              'Likely causes: a peer that votes twice in one term (votedFor not checked, or not reset only on a new ' +
              'term, or votedFor not saved before the vote is answered, so a restarted peer votes again), a candidate ' +
              'that counts replies from an older election, or a vote granted without the log check.',
          );
        if (term > lastTerm) lastTerm = term;
      }
      if (lastTerm !== -1) return (leaders.get(lastTerm) as number[])[0];
    }
    this.fail(
      'expected one leader among the connected peers, got none after 10 looks about half a second apart. Likely ' +
        'causes: no election timer (or one that never fires again), votes refused for an up-to-date log, split ' +
        'votes forever (election timeouts not random), or a leader that never sends heartbeats so others keep ' +
        'starting elections.',
    );
  }

  /**
   * From now on, judges that a peer that answered a request made in term T is in term T or later by the time its
   * reply arrives (Figure 2: an RPC carrying a higher term moves its receiver to that term, whatever the RPC). Only
   * a request whose arguments carry the sender's current term in a field named `term` is judged. `where` starts
   * the failure message ("Round 2: ", say).
   */
  judgeAnsweredTerms(where = ''): void {
    this.onAnswered = (from, to, term, callee) => {
      if (this.peer(to) !== callee) return; // crashed since: its restarted instance may be behind (judged elsewhere)
      const now = this.state(to).term;
      if (now < term)
        this.fail(
          `${where}${peerName(to)} answered a request ${peerName(from)} made in term ${term}, and is still in term ` +
            `${now}. Expected any request or reply carrying a higher term to move its receiver to that term (as a ` +
            'follower) before it answers, whatever the RPC. Likely causes: a handler (InstallSnapshot, say) that never ' +
            'compares the term it is sent with its own, or a term taken on without being saved or returned. (Only a ' +
            "request whose arguments carry its sender's current term, in a field named term, is judged.)",
        );
    };
  }

  /** All connected peers report the same term (MIT's checkTerms); returns it. */
  checkTerms(): number {
    let term = -1;
    for (let i = 0; i < this.n; i++) {
      if (!this.connected[i] || !this.isRunning(i)) continue;
      const t = this.state(i).term;
      if (term === -1) term = t;
      else if (t !== term)
        this.fail(
          `the connected peers disagree on the term (${term} and ${t}, ${peerName(i)}) with a leader in place: a peer that ` +
            "hears of a higher term must adopt it, and heartbeats carry the leader's term to everyone.",
        );
    }
    return term;
  }

  /** No connected peer believes it leads (MIT's checkNoLeader). */
  checkNoLeader(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.connected[i] && this.isRunning(i) && this.state(i).isLeader)
        this.fail(
          `${peerName(i)} claims to be leader, but only a minority of peers is connected: no leader can win an election ` +
            'without votes from a majority of all peers (not of those it can reach).',
        );
    }
  }

  /** How many peers applied a command at `index`, and which command (they must agree). */
  nCommitted(index: number): { count: number; command: Command | undefined } {
    let count = 0;
    let command: Command | undefined;
    for (let i = 0; i < this.n; i++) {
      const log = this.logs[i];
      if (!log.has(index)) continue;
      const c = log.get(index);
      if (count > 0 && !same(c, command))
        this.fail(
          `peers applied different commands at index ${index}: ${showCommand(command)} and ${showCommand(c)} (${peerName(i)}).`,
        );
      count++;
      command = c;
    }
    return { count, command };
  }

  /**
   * Agrees on `command` (MIT's one): offers it to each connected peer in turn until a leader takes it, then waits
   * up to 2 s for `expected` peers to apply it; with `retry`, tries again on another leader; gives up after 10 s.
   */
  async one(command: Command, expected: number, retry: boolean): Promise<number> {
    const t0 = World.current().now();
    let starti = 0;
    while (World.current().now() - t0 < 10_000) {
      let index = -1;
      for (let k = 0; k < this.n; k++) {
        starti = (starti + 1) % this.n;
        const raft = this.rafts[starti];
        if (!this.connected[starti] || raft === undefined) continue;
        const r = raft.start(command);
        if (r.isLeader) {
          if (Number.isInteger(r.term)) this.noteLeader(starti, r.term);
          index = r.index;
          break;
        }
      }
      if (index !== -1) {
        const t1 = World.current().now();
        while (World.current().now() - t1 < 2000) {
          const { count, command: got } = this.nCommitted(index);
          if (count > 0 && count >= expected && same(got, command)) {
            this.ctx.countOps();
            return index;
          }
          await sleep(20);
        }
        if (!retry)
          this.fail(
            `one(${showCommand(command)}) failed to reach agreement: a leader took it at index ${index}, but ${expected} ` +
              `peers had not applied it 2 s later (${this.nCommitted(index).count} had). Likely causes: entries not sent ` +
              'to followers, a follower that refuses a matching log, a leader that keeps nextIndex or matchIndex from ' +
              'an earlier term (reset them at every election), commitIndex not advanced, or committed entries not applied.',
          );
      } else {
        await sleep(50);
      }
    }
    this.fail(
      `one(${showCommand(command)}) failed to reach agreement within 10 s: ${this.nCommitted(this.maxIndex + 1).count} ` +
        'peers applied the next index. Likely causes: no leader is elected; the leader does not replicate, or backs off ' +
        'nextIndex too slowly after a mismatch (one entry per heartbeat: back off at once, by the whole conflicting ' +
        'term); a new leader that keeps nextIndex or matchIndex from an earlier term (reset them at every election); it ' +
        'never commits; a snapshot that drops one entry too many (or too few), so the log no longer lines up ' +
        'with its indexes; an exception that stops the leader (see any error printed above).',
    );
  }

  /**
   * Waits for at least `n` peers to apply `index` (MIT's wait), giving up early (-1) once some peer has moved past
   * `startTerm` (a new leader may have replaced the entry).
   */
  async wait(index: number, n: number, startTerm: number): Promise<Command | -1> {
    let to = 10;
    for (let iters = 0; iters < 30; iters++) {
      if (this.nCommitted(index).count >= n) break;
      await sleep(to);
      if (to < 1000) to *= 2;
      if (startTerm > -1) {
        for (let i = 0; i < this.n; i++) {
          if (this.isRunning(i) && this.state(i).term > startTerm) return -1;
        }
      }
    }
    const { count, command } = this.nCommitted(index);
    if (count < n)
      this.fail(
        `only ${count} peers applied index ${index}; expected ${n}. Likely causes: a follower that does not catch up ` +
          'after rejoining (nextIndex never backs off), or commitIndex not passed on to followers.',
      );
    return command;
  }

  /**
   * Runs `task` beside the test body: its failure stops the run at once (not only when the body awaits it), and
   * is never an unhandled rejection.
   */
  background<T>(task: Promise<T>): Promise<T> {
    const world = World.current();
    task.catch((error: unknown) => world.fail(error));
    return task;
  }

  /** Fails the test now, with `message`. */
  fail(message: string): never {
    const error = new TestFailure(message);
    World.current().fail(error);
    throw error;
  }

  /** Checks one apply of a running peer: in order, agreeing with the others; snapshots every interval when on. */
  private applied(i: number, raft: RaftPeer, msg: ApplyMsg): void {
    const problem = this.judgeApply(i, msg);
    // The verdict stops the run once this step ends; it is not thrown into the peer's own code.
    if (problem !== undefined) World.current().fail(new TestFailure(problem));
    else if (msg.kind === 'command') {
      this.snapshotSoon(i, raft, msg.commandIndex);
      const index = msg.commandIndex;
      if (this.onApplied !== undefined) queueMicrotask(() => this.rafts[i] === raft && this.onApplied?.(i, index));
    }
  }

  /** What is wrong with peer i applying `msg` (undefined: nothing, and the apply is recorded). */
  private judgeApply(i: number, msg: ApplyMsg): string | undefined {
    if (msg.kind === 'snapshot') {
      const problem = this.ingestSnapshot(i, msg.snapshot, msg.snapshotIndex);
      return problem ? `${peerName(i)} applied a snapshot, but ${problem}` : undefined;
    }
    const index = msg.commandIndex;
    if (msg.kind !== 'command' || !Number.isInteger(index))
      return `${peerName(i)} applied ${showCommand(msg)}: expected { kind: "command", command, commandIndex } or a snapshot.`;
    if (index !== this.lastApplied[i] + 1)
      return (
        `${peerName(i)} applied index ${index} out of order: it had applied up to ${this.lastApplied[i]}, so the next must ` +
        `be ${this.lastApplied[i] + 1}. Likely causes: lastApplied not advanced by one at a time, entries applied again ` +
        'after a snapshot or a restart, or commitIndex moved backwards.'
      );
    for (let j = 0; j < this.n; j++) {
      const theirs = this.logs[j].get(index);
      if (this.logs[j].has(index) && !same(theirs, msg.command))
        return (
          `${peerName(i)} applied ${showCommand(msg.command)} at index ${index}, but ${peerName(j)} applied ` +
          `${showCommand(theirs)} there (state machine safety). Likely causes: committing an entry of an earlier term ` +
          'by counting replicas (Figure 8); a follower that keeps conflicting entries, or that cuts its log after ' +
          'prevLogIndex on every AppendEntries (only a conflicting entry may go: a late, shorter AppendEntries must ' +
          'not remove entries it acknowledged); an InstallSnapshot that throws away the entries after the snapshot when ' +
          "the log holds the snapshot's last entry (Figure 13, step 6: keep them); a vote granted to a candidate whose " +
          'log is behind; a log entry not ' +
          'saved before it is sent or acknowledged (a restarted peer forgets it); or commitIndex advanced past what ' +
          'the leader sent.'
        );
    }
    this.logs[i].set(index, msg.command);
    this.lastApplied[i] = index;
    if (index > this.maxIndex) this.maxIndex = index;
    return undefined;
  }

  /** Whether, in the snapshot tests, peer i is asked for a snapshot once it applied `index`. */
  snapshotsAt(i: number, index: number): boolean {
    return this.snapshots && (index + 1 + this.snapshotPhase[i]) % SNAPSHOT_INTERVAL === 0;
  }

  /** Each peer's snapshot points, for the log: "peer 0 at 9, 19, ...; peer 1 at 4, 14, ...". */
  private snapshotPlan(): string {
    const first = (i: number): number => (2 * SNAPSHOT_INTERVAL - 1 - this.snapshotPhase[i]) % SNAPSHOT_INTERVAL;
    return this.snapshotPhase
      .map((_, i) => `${peerName(i)} at ${first(i)}, ${first(i) + SNAPSHOT_INTERVAL}, ...`)
      .join('; ');
  }

  /** In the snapshot tests, asks peer i for a snapshot once it applied each of its snapshot points. */
  private snapshotSoon(i: number, raft: RaftPeer, index: number): void {
    if (this.snapshotsAt(i, index)) {
      const snap: TesterSnapshot = { index, commands: [] };
      for (let k = 0; k <= index; k++) snap.commands.push(this.logs[i].get(k) ?? null);
      const data = JSON.stringify(snap);
      const world = World.current();
      const take = (): void => {
        if (this.rafts[i] !== raft) return;
        try {
          world.inLane(RaftTester.serverName(i), () => raft.snapshot(index, data));
        } catch (error) {
          world.fail(
            new TestFailure(
              `${peerName(i)}'s snapshot(${index}, ...) threw:\n${describeError(error)}\nLikely causes: a snapshot that ` +
                'drops one entry too many (or too few): an off-by-one in the slice of the log, so that an index no ' +
                'longer finds its entry; the entry after the snapshot looked for at lastIncludedIndex instead of ' +
                'lastIncludedIndex + 1; lastIncludedTerm read after the entries it comes from were dropped; an ' +
                'InstallSnapshot that throws away the entries after the snapshot when the log holds its last entry ' +
                '(Figure 13, step 6: keep them).',
            ),
          );
        }
      };
      const ask = (): void => {
        if (this.snapshotDelayMs > 0) setTimeout(take, this.snapshotDelayMs);
        else queueMicrotask(take);
      };
      const held = this.snapshotsHeld.get(i);
      if (held === undefined) ask();
      else void held.then(ask);
    }
  }

  /** In the snapshot tests, asks peer i for no snapshot until `until` resolves (then for those it passed meanwhile). */
  holdSnapshots(i: number, until: Promise<void>): void {
    this.snapshotsHeld.set(i, until);
    void until.then(() => {
      if (this.snapshotsHeld.get(i) === until) this.snapshotsHeld.delete(i);
    });
  }

  /** Takes in one of the tester's snapshots for peer i; returns what was wrong with it, if anything. */
  private ingestSnapshot(i: number, data: string, index: number | undefined): string | undefined {
    let snap: TesterSnapshot;
    try {
      snap = JSON.parse(data) as TesterSnapshot;
    } catch {
      return (
        `it is not a snapshot the tester made (it does not parse: ${showCommand(data)}). Pass on the tester's snapshot ` +
        'unchanged. Likely causes: an installed snapshot not saved with persister.save (after a restart the peer hands ' +
        'over an older or an empty one); a snapshot changed or re-encoded on the way.'
      );
    }
    if (!Number.isInteger(snap.index) || !Array.isArray(snap.commands))
      return `it is not a snapshot the tester made (${showCommand(data)}).`;
    if (!isTesterMade(data)) return NOT_AS_MADE;
    if (index !== undefined && index !== snap.index)
      return `its snapshotIndex is ${index} while the snapshot holds the commands up to ${snap.index}.`;
    if (index !== undefined && snap.index < this.lastApplied[i])
      return (
        `it ends at index ${snap.index} while the peer had already applied up to ${this.lastApplied[i]}: a peer must never hand its service an older state. ` +
        "Likely causes: an InstallSnapshot handed to the service because it is newer than the follower's own last snapshot, though not newer than " +
        "what the follower applied (compare its index with lastApplied too, and then keep the log after it); lastApplied set back to the snapshot's index."
      );
    // Every command it holds is the one the other peers applied there: a snapshot is no way around state machine safety.
    for (let k = 1; k <= snap.index; k++)
      for (let j = 0; j < this.n; j++) {
        const theirs = this.logs[j].get(k);
        if (j !== i && this.logs[j].has(k) && !same(theirs, snap.commands[k]))
          return (
            `it holds ${showCommand(snap.commands[k])} at index ${k}, but ${peerName(j)} applied ${showCommand(theirs)} ` +
            'there (state machine safety). Likely causes: a snapshot changed or re-encoded on the way, or one taken from ' +
            "another peer's state than the leader's."
          );
      }
    for (let k = 1; k <= snap.index; k++) this.logs[i].set(k, snap.commands[k]);
    this.lastApplied[i] = snap.index;
    if (snap.index > this.maxIndex) this.maxIndex = snap.index;
    return undefined;
  }

  /**
   * While recording (a failing run's replay), draws each peer's role and term on its lane as they change: looked at
   * after every step of the world, which adds no event, so the replay is the graded run, trace hash and all.
   */
  private watchRoles(): void {
    const world = World.current();
    const recorder = world.recorder;
    if (recorder === undefined) return;
    const seen: string[] = new Array<string>(this.n).fill('');
    const look = (): void => {
      for (let i = 0; i < this.n; i++) {
        const raft = this.rafts[i];
        let role: 'follower' | 'candidate' | 'leader' | 'crashed' | 'unknown' = 'crashed';
        let term: number | undefined;
        if (raft !== undefined) {
          try {
            const s = raft.getState();
            role = s.role === 'follower' || s.role === 'candidate' || s.role === 'leader' ? s.role : 'unknown';
            term = Number.isInteger(s.term) ? s.term : undefined;
          } catch {
            role = 'unknown';
          }
        }
        const now = `${role}/${term}`;
        if (now !== seen[i]) {
          seen[i] = now;
          recorder.add({ k: 'role', t: world.now(), lane: RaftTester.serverName(i), role, term });
        }
      }
    };
    look();
    world.watchSteps(look);
  }
}

brandHarness(RaftTester);
