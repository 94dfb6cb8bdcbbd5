/**
 * Lab 7's tester: shard groups (each a lab 6 RaftTester whose servers run the student's ShardServer), lab 2's
 * key/value server holding the configuration, the student's controller driving joins and leaves, and recorded
 * clerks whose history the checker judges per key.
 */
import { Server, Service } from '../../labrpc';
import type { ClientEnd, RpcEnd } from '../../labrpc';
import { Network } from '../../labrpc';
import { methodOnce, readOnce } from '../../labrpc/read-once';
import type { VersionedInput, VersionedOutput } from '../../checker/models/versioned';
import { versionedModel } from '../../checker/models/versioned';
import { assertLinearizable, TestFailure } from '../../suite';
import type { TestContext } from '../../suite';
import { HistoryRecorder } from '../../suite/history';
import { World } from '../../world';
import type { KVService as ConfigService } from '../../lab2/rpc';
import { CheckedConfigStore } from './config-store';
import type { Persister } from '../../lab6/persister';
import { Lab6Impl, RaftTester, showCommand } from '../../lab6/test/harness';
import { LATENCY_MS, RecordingClerk } from '../../lab6/test/kvharness';
import { ClerkReplies, argsProblem } from '../../suite/clerk-replies';
import { CtrlerRules, DELETE, FREEZE } from './ctrler-rules';
import type {
  ClerkConstructor,
  Controller,
  ControllerConstructor,
  MakeEnd,
  ShardClerk,
  ShardServerConstructor,
  ShardService,
} from '../rpc';
import { GID1, key2shard, NSHARDS, ShardConfig, type Gid } from '../shardcfg';

/** What the grader loads: lab 7's code from lab7/, and the lab 6 and lab 2 code it builds on. */
export interface Lab7Impl {
  ShardServer: ShardServerConstructor;
  ShardCtrler: ControllerConstructor;
  Clerk: ClerkConstructor;
  /** Lab 2's key/value server, which keeps the configuration. */
  ConfigServer: new () => ConfigService;
  /** Lab 6's code (the shard servers' RSM and Raft come in through lab7/server.ts's imports). */
  lab6: Lab6Impl;
}

type Ctx = TestContext<Lab7Impl>;

/** A shard RPC a controller sent, as the tester saw it go (its fields as sent, whatever their types). */
export interface ShardRpc {
  /** The controller's owner name. */
  owner: string;
  /** The server it went to ("g2-0"). */
  server: string;
  method: string;
  shard: unknown;
  num: unknown;
  state: unknown;
  /** The reply's `err`, once a reply came. */
  answered?: unknown;
}

/** Servers per shard group (MIT's NSRV). */
export const GROUP_SERVERS = 3;
/** The owner of the tester's own ends to the groups' servers (its checks, late copies), which no monitor judges. */
export const TESTER = 'tester';

/** The owner of `owner`'s ends to group `gid`: a lane of its own on that group's network ("clerk-2 (to group 101)"). */
function laneOwner(owner: string, gid: Gid): string {
  return `${owner} (to group ${gid})`;
}

/** Who sends through a lane `laneOwner` named: "clerk-2" for "clerk-2 (to group 101)". */
export function laneSender(lane: string): string {
  return lane.replace(/ \(to group \d+\)$/, '');
}
/** The name of lab 2's server on its network. */
const CONFIG_SERVER = 'kvsrv';

/** How to build the sharded service. */
export interface ShardOptions {
  /** Lose and delay messages on every network (tests whose name says Unreliable). */
  unreliable?: boolean;
  /** The shard servers' maxRaftState (-1: no snapshots). */
  maxRaftState?: number;
  /** Every string a message carries is a copy of its own (Network.setCopyStrings): a memory test weighs one group. */
  copyStrings?: boolean;
  /** The number of servers of group `gid`, asked once as it starts (default GROUP_SERVERS; the attackers draw it). */
  groupSize?: (gid: Gid) => number;
}

/** The server names of group `gid` of `size` servers, as configurations list them. */
export function groupServers(gid: Gid, size = GROUP_SERVERS): string[] {
  return Array.from({ length: size }, (_, i) => `g${gid}-${i}`);
}

/** Why a clerk's put returns ErrVersion when a copy of it may have taken effect, perhaps at another group. */
const ERRVERSION_CAUSES =
  '"sent more than once" counted per group (the group clerk’s count starts again at the new owner, so a put whose ' +
  'first copy was applied at the old owner and lost its reply, then answered ErrWrongGroup once the shard froze, ' +
  'comes back ErrVersion from the new owner), or ErrVersion passed on after a lost reply.';

/** The likely causes a lab 7 failure may have in lab 6 or lab 2 code, said once. */
export const EARLIER_LABS =
  'Lab 7 runs on your lab 6 Raft and RSM and your lab 2 server and clerk: if npm run grade lab6 or npm run grade ' +
  'lab2 does not score full marks, fix those first.';

/** Lab 7's likely causes of a history that is not linearizable, after the checker's own explanation. */
const LINEARIZABLE_CAUSES =
  'Likely causes in lab 7: a Get answered from the server’s own state without going through the RSM (a server ' +
  'that no longer leads answers stale values); a put applied whatever its version (lab 2’s check left out); a ' +
  'shard’s keys kept in a plain object, where a key named "__proto__" is lost in a move (use a Map); a frozen ' +
  'shard’s keys lost at a restart (snapshot and restore every shard, frozen ones with their keys); a frozen shard ' +
  'still served, or a late InstallShard of an older configuration applied. ' +
  EARLIER_LABS;

/** What a lab 7 run that ran out of time was likely waiting on (said once per run, whatever its testers). */
const STUCK_CAUSES = [
  'Likely causes in lab 7: a clerk that never reads the configuration again after ErrWrongGroup, or whose ' +
    "controller's query() returns a copy it kept instead of reading the key/value service; a shard nobody serves: " +
    'the configuration stored before its moves finished (clerks go to an owner that has not installed the shard, ' +
    'and a controller finishing the change finds it done), or a move a failed controller left that initController ' +
    'does not finish; a controller or clerk waiting for ever on a group that is down or left; a clerk that tries ' +
    "only some of a group's servers, from a number of servers the code assumes (groups may have any number: use " +
    "the configuration's list).",
];
/** The runs whose stuck report already says STUCK_CAUSES. */
const stuckSaid = new WeakSet<object>();

/** The sharded service under test. */
export class ShardTester {
  private readonly ctx: Ctx;
  private readonly options: ShardOptions;
  readonly groups = new Map<Gid, RaftTester>();
  /** The network between the controllers and lab 2's server that keeps the configuration. */
  readonly kvNet: Network;
  /** Called with each group as it starts (the attackers put their network faults on it). */
  onGroupStart: ((gid: Gid, group: RaftTester) => void) | undefined;
  readonly history = new HistoryRecorder<VersionedInput, VersionedOutput>();
  /** The tester's own controller (MIT's tester changes configurations through the student's controller too). */
  readonly ctrler: Controller;
  private ends = 0;
  private clerks = 0;
  /** Each owner's ends (a controller's, a clerk's), so that a controller can be cut off like a crashed process. */
  private readonly endsOf = new Map<string, Array<{ net: Network; name: string }>>();
  /** Owners several of the test's tasks send through at once (shareClerk): their ends, made now or later, are shared. */
  private readonly sharedOwners = new Set<string>();
  /** Each recorded clerk's owners: its own and its controller's (for shareClerk). */
  private readonly clerkOwners = new Map<number, readonly string[]>();
  /** Owners cut off: their ends, and any they make later, reach nobody. */
  private readonly dead = new Set<string>();
  /** The owner name of each controller made. */
  private readonly ctrlerOwner = new Map<Controller, string>();
  /** Runs as each controller's shard RPC is about to go out (a test that stops a group at that very moment). */
  beforeShardRpc: ((rpc: ShardRpc) => void) | undefined;
  /** Every shard RPC a controller sent, in order: which controller (by owner), to which server, and a copy of it. */
  readonly shardRpcs: ShardRpc[] = [];
  /** What the controllers may send the groups, and when. */
  private readonly ctrlerRules = new CtrlerRules();
  /** The gid the next new group gets (MIT's newGid): group 1 is the first configuration's. */
  private nextGid = GID1 + 1;
  /** Lab 2's server that keeps the configuration, held to lab 2's rules, which the tester reads straight (checkStored). */
  private readonly kv: CheckedConfigStore;
  /** Every key a Put RPC to lab 2's server named, in the order first seen: where the configuration may be stored. */
  private readonly kvKeys = new Set<string>();
  /** The number of servers of each group, fixed when it is first asked for. */
  private readonly sizes = new Map<Gid, number>();

  constructor(ctx: Ctx, options: ShardOptions = {}) {
    this.ctx = ctx;
    this.options = options;
    this.kvNet = new Network();
    this.kvNet.setReliable(!options.unreliable);
    this.kvNet.setCopyStrings(options.copyStrings === true);
    const kv = new CheckedConfigStore(new ctx.impl.ConfigServer());
    this.kv = kv;
    const handlers = {
      Get: (a: never) => kv.get(a),
      Put: (a: never) => {
        const key = (a as { key?: unknown } | null)?.key;
        if (typeof key === 'string') this.kvKeys.add(key);
        return kv.put(a);
      },
    };
    this.kvNet.addServer(CONFIG_SERVER, new Server().addService(new Service(handlers, 'KVServer')));
    this.ctrler = this.makeCtrler();
    if (!stuckSaid.has(ctx.onStuck)) {
      stuckSaid.add(ctx.onStuck);
      ctx.onStuck(() => STUCK_CAUSES);
    }
  }

  /** Starts group 1 and stores the first configuration (MIT's setupKVService). */
  async setup(): Promise<ShardConfig> {
    this.startGroup(GID1);
    const first = ShardConfig.first(this.servers(GID1));
    await this.ctrler.initConfig(first);
    await this.checkStored(first, 'after initConfig(the first configuration) returned');
    return first;
  }

  /** The number of servers of group `gid` (GROUP_SERVERS unless the test draws it). */
  size(gid: Gid): number {
    let n = this.sizes.get(gid);
    if (n === undefined) {
      n = this.options.groupSize?.(gid) ?? GROUP_SERVERS;
      this.sizes.set(gid, n);
    }
    return n;
  }

  /** The server names of group `gid`, as configurations list them. */
  servers(gid: Gid): string[] {
    return groupServers(gid, this.size(gid));
  }

  /** Starts the servers of group `gid` (once). */
  startGroup(gid: Gid): RaftTester {
    const known = this.groups.get(gid);
    if (known) return known;
    const ctx6: TestContext<Lab6Impl> = { ...this.ctx, impl: this.ctx.impl.lab6 };
    const group = new RaftTester(ctx6, {
      servers: this.size(gid),
      unreliable: this.options.unreliable,
      build: (peers, me, persister) => this.build(gid, peers, me, persister),
    });
    group.net.setLatency(LATENCY_MS);
    group.net.setCopyStrings(this.options.copyStrings === true);
    this.groups.set(gid, group);
    this.onGroupStart?.(gid, group);
    return group;
  }

  private build(gid: Gid, peers: readonly RpcEnd[], me: number, persister: Persister) {
    const made = new this.ctx.impl.ShardServer(peers, me, persister, this.options.maxRaftState ?? -1, gid);
    if (typeof made.rsm?.raft?.getState !== 'function')
      fail(`server ${me} of group ${gid} has no rsm field whose raft is its Raft peer (see lab7/rpc.ts).`);
    // Held here only until the server is killed, so that a crashed server's memory is freed (TestMemDeletedShard5A).
    const holder: { s: ShardService | undefined } = { s: made };
    const on = (): ShardService => {
      if (holder.s === undefined) throw new Error(`the tester called server ${me} of group ${gid} after killing it`);
      return holder.s;
    };
    const handlers = {
      Get: (a: never) => on().Get(a),
      Put: (a: never) => on().Put(a),
      FreezeShard: (a: never) => on().FreezeShard(a),
      InstallShard: (a: never) => on().InstallShard(a),
      DeleteShard: (a: never) => on().DeleteShard(a),
    };
    const kill = (): void => {
      holder.s?.kill();
      holder.s = undefined;
    };
    return { raft: made.rsm.raft, services: [new Service(handlers, 'KVServer')], kill };
  }

  /** The group of `gid` (started). */
  group(gid: Gid): RaftTester {
    const g = this.groups.get(gid);
    if (!g) throw new Error(`the tester asked for group ${gid}, which it never started`);
    return g;
  }

  /** A makeEnd for code of `owner`: ends to the servers a configuration names; `watch` sees each end made. */
  makeEnd(owner: string, watch?: (end: ClientEnd, server: string) => void): MakeEnd {
    return (server: string) => {
      const m = /^g(\d+)-(\d+)$/.exec(String(server));
      const group = m ? this.groups.get(Number(m[1])) : undefined;
      if (!m || !group || Number(m[2]) >= this.size(Number(m[1])))
        fail(
          `makeEnd(${showCommand(server)}) was asked for a server no configuration names (they are "g<gid>-<i>", ` +
            `i below the group's number of servers, of a group that joined${
              group ? `; group ${m?.[1]} has ${this.size(Number(m?.[1]))}` : ''
            }). Likely causes: a name taken from the wrong group, or server names made up from a number of servers ` +
            "the code assumes (groups may have any number of servers: use the configuration's list).",
        );
      const name = `${owner}-${server}-${this.ends++}`;
      // Owned, so that the runner's monitors tell one clerk's calls from another's, and its calls to one group from
      // those to another (each group's servers are "peer 0" to "peer 2" on its own network); the tester's own calls
      // are not judged.
      const end = group.net.makeEnd(name, laneOwner(owner, Number(m[1])), { tester: owner === TESTER });
      watch?.(end, server);
      group.net.connect(name, RaftTester.serverName(Number(m[2])));
      this.own(owner, group.net, name);
      return end;
    };
  }

  /** Records `name` on `net` as one of `owner`'s ends and enables it, unless `owner` is cut off. */
  private own(owner: string, net: Network, name: string): void {
    const list = this.endsOf.get(owner) ?? [];
    list.push({ net, name });
    this.endsOf.set(owner, list);
    if (this.sharedOwners.has(owner)) net.shareEnd(name);
    net.enable(name, !this.dead.has(owner));
  }

  /**
   * A new controller of the student's, with its own ends; `intercept` may wrap its end to lab 2's server. The tester's
   * calls of it are watched (its shard RPCs must come from inside them); a clerk's controller (`ofClerk`) is the code's
   * own object, handed to the clerk, and may send the groups nothing.
   */
  makeCtrler(intercept?: (end: ClientEnd) => void, ofClerk = false, owner = `ctrler-${this.ends++}`): Controller {
    const kvEnd = this.kvNet.makeEnd(owner);
    intercept?.(kvEnd);
    checkConfigCalls(kvEnd);
    this.kvNet.connect(owner, CONFIG_SERVER);
    this.own(owner, this.kvNet, owner);
    const watchShardRpcs = (end: ClientEnd, server: string): void => {
      const call = end.call.bind(end);
      const watched = <Reply>(sentMethod: string, sent?: unknown): Promise<Reply> => {
        // What is judged is what is sent: one name, and the arguments read once.
        const name = methodOnce(sentMethod);
        if ('error' in name) return Promise.reject(name.error);
        const method = name.copy as string;
        const once = readOnce(sent, `the arguments of ${method}`);
        if ('error' in once) return Promise.reject(once.error);
        const args = once.copy;
        const problem = this.ctrlerRules.problem(owner, ofClerk, method, args);
        if (problem !== undefined) {
          const failure = new TestFailure(problem);
          World.current().fail(failure);
          throw failure;
        }
        const { shard, num, state } = (args ?? {}) as { shard?: unknown; num?: unknown; state?: unknown };
        const rpc: ShardRpc = { owner, server, method, shard, num, state };
        this.shardRpcs.push(rpc);
        this.beforeShardRpc?.(rpc);
        const reply = call<Reply>(method, args);
        reply.then(
          (r) => (rpc.answered = (r as { err?: unknown } | undefined)?.err),
          () => undefined,
        );
        // A tap beside the code's own reaction, not a link before it: the code sees the reply when it would have.
        if (method === FREEZE)
          reply.then(
            (r) => this.ctrlerRules.froze(args, r),
            () => undefined,
          );
        return reply;
      };
      // Defined, not assigned: the grader freezes ClientEnd.prototype.
      Object.defineProperty(end, 'call', { value: watched });
    };
    const ctrler = new this.ctx.impl.ShardCtrler(kvEnd, this.makeEnd(owner, watchShardRpcs));
    if (ofClerk) return ctrler;
    const watchedCtrler = this.watchCalls(owner, ctrler);
    this.ctrlerOwner.set(watchedCtrler, owner);
    return watchedCtrler;
  }

  /** The tester's handle on controller `c` of `owner`: each call that may move shards is noted while it runs. */
  private watchCalls(owner: string, c: Controller): Controller {
    const during = (num: number | undefined, run: () => Promise<void>): Promise<void> => {
      this.ctrlerRules.begin(owner, num);
      let p: Promise<void>;
      try {
        p = run();
      } catch (error) {
        this.ctrlerRules.end(owner);
        throw error;
      }
      const end = (): void => this.ctrlerRules.end(owner);
      Promise.resolve(p).then(end, end);
      return p;
    };
    return {
      initConfig: (cfg) => during(cfg.num, () => c.initConfig(cfg)),
      query: () => c.query(),
      changeConfigTo: (cfg) => during(cfg.num, () => c.changeConfigTo(cfg)),
      initController: () => during(undefined, () => c.initController()),
    };
  }

  /** True once controller `c` has sent a FreezeShard: from then on a shard may be frozen until a move finishes. */
  sentFreeze(c: Controller): boolean {
    const owner = this.ctrlerOwner.get(c);
    return this.shardRpcs.some((r) => r.owner === owner && r.method === 'KVServer.FreezeShard');
  }

  /** True once controller `c` has sent a shard RPC for configuration `num`: it had claimed that number by then. */
  sentShardRpc(c: Controller, num: number): boolean {
    const owner = this.ctrlerOwner.get(c);
    return this.shardRpcs.some((r) => r.owner === owner && r.num === num);
  }

  /** The shards controller `c` has had an OK answer to a DeleteShard of, for configuration `num`. */
  deletedShards(c: Controller, num: number): Set<unknown> {
    const owner = this.ctrlerOwner.get(c);
    return new Set(
      this.shardRpcs
        .filter((r) => r.owner === owner && r.method === DELETE && r.num === num && r.answered === 'OK')
        .map((r) => r.shard),
    );
  }

  /** The owner name of controller `c`'s ends (ShardRpc.owner). */
  ownerOf(c: Controller): string | undefined {
    return this.ctrlerOwner.get(c);
  }

  /** Cuts controller `c` off from everything, as if its process crashed: its calls in flight and later ones fail. */
  killCtrler(c: Controller): void {
    this.reachCtrler(c, false);
  }

  /** Reconnects a controller killCtrler cut off (MIT's partitioned controller that heals): its calls go through again. */
  reviveCtrler(c: Controller): void {
    this.reachCtrler(c, true);
  }

  private reachCtrler(c: Controller, on: boolean): void {
    const owner = this.ctrlerOwner.get(c);
    if (owner === undefined) throw new Error('the tester asked to cut off a controller it did not make');
    if (on) this.dead.delete(owner);
    else this.dead.add(owner);
    for (const { net, name } of this.endsOf.get(owner) ?? []) net.enable(name, on);
  }

  /** A gid no group has had yet (MIT's newGid). */
  newGid(): Gid {
    return this.nextGid++;
  }

  /**
   * A recorded clerk of the student's, with its own controller (MIT's MakeClerk); `intercept` may wrap each end it
   * gets to a group's server (inside the watch of its puts, which sees what the wrapper returns).
   */
  makeClerk(intercept?: (end: ClientEnd, server: string) => void): RecordingClerk {
    const id = this.clerks++;
    const replies = new ClerkReplies({ errVersionAfterDoubt: ERRVERSION_CAUSES });
    const ctrlerOwner = `ctrler-${this.ends++}`;
    this.clerkOwners.set(id, [`clerk-${id}`, ctrlerOwner]);
    const inner = new this.ctx.impl.Clerk(
      this.makeCtrler(undefined, true, ctrlerOwner),
      this.makeEnd(`clerk-${id}`, (e, server) => {
        intercept?.(e, server);
        replies.watch(e);
      }),
    );
    const ctx6: TestContext<Lab6Impl> = { ...this.ctx, impl: this.ctx.impl.lab6 };
    return new RecordingClerk(inner, id, this.history, ctx6, replies);
  }

  /**
   * Another recorded user of clerk `ck` (one makeClerk made), as client `id`: a task sharing it. The monitors cannot
   * tell one task's call from another's retry, so they leave the pacing of its ends (and its controller's) alone
   * where calls overlap.
   */
  shareClerk(ck: RecordingClerk, id: number): RecordingClerk {
    for (const owner of this.clerkOwners.get(ck.id) ?? []) {
      this.sharedOwners.add(owner);
      for (const { net, name } of this.endsOf.get(owner) ?? []) net.shareEnd(name);
    }
    return ck.sharedAs(id);
  }

  /**
   * A clerk of the student's whose operations nobody records: the tester keeps none of the values it writes
   * (TestMemDeletedShard5A weighs what the servers hold, and a value the tester also holds would never be freed).
   */
  makeBareClerk(): ShardClerk {
    return new this.ctx.impl.Clerk(this.makeCtrler(undefined, true), this.makeEnd(`clerk-${this.clerks++}`));
  }

  /** Starts the groups `gids`, moves to the configuration with them joined, and checks what the controller stored. */
  async join(gids: readonly Gid[]): Promise<ShardConfig> {
    for (const gid of gids) this.startGroup(gid);
    const cfg = await this.ctrler.query();
    const next = cfg.join(new Map(gids.map((g) => [g, this.servers(g)])));
    await this.ctrler.changeConfigTo(next);
    await this.checkConfig(next);
    return next;
  }

  /** Moves to the configuration without the groups `gids` (their servers keep running). */
  async leave(gids: readonly Gid[]): Promise<ShardConfig> {
    const cfg = await this.ctrler.query();
    const next = cfg.leave(gids);
    await this.ctrler.changeConfigTo(next);
    await this.checkConfig(next);
    return next;
  }

  /**
   * MIT's joinGroups for one group through controller `c` (part 3, where controllers race): starts group `gid`,
   * asks `c` to move to its query's configuration with the group joined, and says whether `c`'s query then lists
   * it (another controller may have changed the configuration first). `asked` sees the configuration asked for.
   */
  async joinThrough(c: Controller, gid: Gid, asked?: (next: ShardConfig) => void): Promise<boolean> {
    this.startGroup(gid);
    const next = (await c.query()).join(new Map([[gid, this.servers(gid)]]));
    asked?.(next);
    await this.changeThrough(c, next);
    return (await c.query()).has(gid);
  }

  /** MIT's leaveGroups for one group through controller `c`: true when `c`'s query no longer lists it. */
  async leaveThrough(c: Controller, gid: Gid, asked?: (next: ShardConfig) => void): Promise<boolean> {
    const cfg = await c.query();
    if (!cfg.has(gid)) return true;
    const next = cfg.leave([gid]);
    asked?.(next);
    await this.changeThrough(c, next);
    return !(await c.query()).has(gid);
  }

  /** `c.changeConfigTo(next)`, which may find another controller first but must not throw. */
  async changeThrough(c: Controller, next: ShardConfig): Promise<void> {
    try {
      await c.changeConfigTo(next);
    } catch (error) {
      fail(
        `changeConfigTo(configuration ${next.num}) threw ${String(error)}. Expected a controller that finds the ` +
          'configuration changed by another (its number taken, or the stored one no longer the one before it) to ' +
          'return without changing anything. Likely causes: an error thrown for a lost race, or a put of lab 2 ' +
          'answered ErrVersion or ErrMaybe taken for a failure.',
      );
    }
  }

  /** Fails unless a new controller's query returns `want`. */
  async checkConfig(want: ShardConfig): Promise<void> {
    const got = await this.makeCtrler().query();
    if (got.toString() !== want.toString())
      fail(
        `after changeConfigTo(configuration ${want.num}) returned, a new controller's query() gave ${got.toString()}; ` +
          `expected ${want.toString()}. Likely causes: the new configuration not stored (or stored under another ` +
          'key or before the moves finished, or not stored after a change that moves no shard: its number is still ' +
          'the next one); query() reading a copy kept in the controller; or a repeated shard ' +
          'RPC refused, so that the controller gave the change up (a FreezeShard, InstallShard or DeleteShard at the ' +
          'number the shard already has is a repeat after a lost reply: it changes nothing and answers OK, a freeze ' +
          'with the same keys); or a controller that gives up on a group after some rounds without an answer (a ' +
          'group that is down comes back: keep trying until the change is done).',
      );
    await this.checkStored(want, `after changeConfigTo(configuration ${want.num}) returned`);
  }

  /**
   * True when lab 2's server would carry out a put (its arguments, as copied) now by lab 2's rules: its key is missing
   * and its version 0, or its key is at exactly its version. Read from lab 2's store run beside the server, to which
   * every reply of the server is held (CheckedConfigStore), not from the server.
   */
  wouldAccept(args: unknown): Promise<boolean> {
    return Promise.resolve(this.kv.wouldAccept(args));
  }

  /**
   * Fails unless lab 2's server holds `want` as the handout says: `want.toString()` as the value of a key some
   * controller put. The tester reads the server's state itself (no RPC), so a configuration kept anywhere else fails.
   */
  async checkStored(want: ShardConfig, when: string): Promise<void> {
    const text = want.toString();
    const keys = [...this.kvKeys];
    for (const key of keys) {
      const r = await this.kv.get({ key });
      if (r?.err === 'OK' && r.value === text) return;
    }
    const named =
      keys.length === 0
        ? 'no key at all'
        : keys
            .slice(0, 5)
            .map((k) => showCommand(k))
            .join(', ');
    fail(
      `${when}, lab 2's key/value server does not hold configuration ${want.num} (${text}) under any key the ` +
        `controllers put (they put ${named}). Expected the controller to keep the configuration in lab 2's ` +
        'server, as cfg.toString() under one key, through a lab 2 Clerk on its kv end. Likely causes: are you keeping ' +
        'the configuration in a variable of the controller or of its module? Or a put of it that was refused ' +
        '(ErrVersion: put at the version you read; ErrNoKey: version 0 creates the key) and not noticed; another ' +
        'form than cfg.toString() stored; or the store forgotten after the moves. ' +
        EARLIER_LABS,
    );
  }

  /** Crashes every server of group `gid` (with `keepSaved` false, dropping what they saved: a group that never restarts). */
  shutdownGroup(gid: Gid, keepSaved = true): void {
    const g = this.group(gid);
    for (let i = 0; i < this.size(gid); i++) g.crash1(i, keepSaved);
  }

  /** Restarts every server of group `gid` from what it saved. */
  restartGroup(gid: Gid): void {
    const g = this.group(gid);
    for (let i = 0; i < this.size(gid); i++) g.start1(i);
    for (let i = 0; i < this.size(gid); i++) g.connect(i);
  }

  /** Adds a line to the test's log. */
  log(line: string): void {
    this.ctx.log(line);
  }

  /** Fails the test if the clerks' history is not linearizable, key by key. */
  checkLinearizable(): void {
    assertLinearizable(this.ctx, versionedModel, this.history.operations(), LINEARIZABLE_CAUSES);
  }

  /** Runs `task` beside the test body: its failure stops the run at once. */
  background<T>(task: Promise<T>): Promise<T> {
    const world = World.current();
    task.catch((error: unknown) => world.fail(error));
    return task;
  }
}

/** What an interceptor of an end's calls does with one call: `send` sends it as it is. */
export type CallInterceptor = (send: () => Promise<unknown>, method: string, args: unknown) => Promise<unknown>;

/** Routes every call made through `end` through `intercept` (defined, not assigned: the grader freezes ClientEnd.prototype). */
export function interceptCalls(end: ClientEnd, intercept: CallInterceptor): void {
  const call = end.call.bind(end);
  const through = <Reply>(sentMethod: string, sent?: unknown): Promise<Reply> => {
    // What is judged is what is sent: one name, and the arguments read once.
    const name = methodOnce(sentMethod);
    if ('error' in name) return Promise.reject(name.error);
    const method = name.copy as string;
    const once = readOnce(sent, `the arguments of ${method}`);
    if ('error' in once) return Promise.reject(once.error);
    const args = once.copy;
    return intercept(() => call(method, args), method, args) as Promise<Reply>;
  };
  Object.defineProperty(end, 'call', { value: through, configurable: true });
}

/**
 * Holds a controller's calls to lab 2's server to the lab 2 clerk's RPCs, with their exact fields and types
 * (suite/clerk-replies.ts argsProblem), as the clerks' calls are held: a version sent as a string would meet the
 * student's own lab 2 server, and a test that asks how lab 2's rules answer a put would be told something else.
 */
function checkConfigCalls(end: ClientEnd): void {
  const call = end.call.bind(end);
  const checked = <Reply>(sentMethod: string, sent?: unknown): Promise<Reply> => {
    // What is judged is what is sent: one name, and the arguments read once.
    const name = methodOnce(sentMethod);
    if ('error' in name) return Promise.reject(name.error);
    const method = name.copy as string;
    const once = readOnce(sent, `the arguments of ${method}`);
    if ('error' in once) return Promise.reject(once.error);
    const problem = argsProblem(method, once.copy);
    if (problem !== undefined) {
      const failure = new TestFailure(`The controller's lab 2 clerk: ${problem}`);
      World.current().fail(failure);
      return Promise.reject(failure);
    }
    return call<Reply>(method, once.copy);
  };
  // Defined, not assigned: the grader freezes ClientEnd.prototype.
  Object.defineProperty(end, 'call', { value: checked, configurable: true });
}

/** Fails the running test with `message`. */
export function fail(message: string): never {
  const error = new TestFailure(message);
  World.current().fail(error);
  throw error;
}

/** One key in each shard, `per` of them: keys whose shards cover every shard, the same on every run. */
export function keysCoveringShards(per = 1): string[] {
  const keys: string[] = [];
  const count = new Array<number>(NSHARDS).fill(0);
  for (let i = 0; keys.length < per * NSHARDS; i++) {
    const k = `k${i}`;
    const s = key2shard(k);
    if (count[s] < per) {
      count[s]++;
      keys.push(k);
    }
  }
  return keys;
}
