/**
 * Lab 7's executable specification of the shard groups (part 1): three groups driven straight by the tester, which
 * plays the controller (moves of shards: FreezeShard, InstallShard, DeleteShard), the clerks (gets and puts at the
 * owner or at another group), the network (late copies of any shard RPC sent before) and crashes (a whole group
 * restarted from what it saved), compared after every step with a model of the handout's rules (TestModelShards5A).
 */
import { fc } from '../../suite/fast-check';
import { TimeoutError } from '../../labrpc';
import { ModelMismatch, runModelTest, type StepLog } from '../../suite/model-based';
import type { TestContext, TestDefinition } from '../../suite';
import { KVModel, sameGet, type StoreGet } from '../../suite/versioned-store';
import { VERSION_KINDS, versionKindArb, type VersionKind } from '../../suite/nemesis/version-grammar';
import { GRAMMAR_KEYS, valueKindArb, valueOf, type ValueKind } from '../../suite/nemesis/edge-grammar';
import { sleep, World } from '../../world';
import { showCommand } from '../../lab6/test/harness';
import type { FreezeShardReply, GetReply, PutReply, ShardReply } from '../rpc';
import { GID1, key2shard, NSHARDS, NUM_FIRST, type Gid } from '../shardcfg';
import { EARLIER_LABS, ShardTester, TESTER, type Lab7Impl } from './harness';
import { DELETE, FREEZE, INSTALL } from './ctrler-rules';

type Ctx = TestContext<Lab7Impl>;

/** The groups of every sequence: group 1 starts out serving every shard, the others none. */
const GROUPS: readonly Gid[] = [GID1, 2, 3];
/** A fourth group, where the tester installs the state a repeated FreezeShard handed over, to read what it holds. */
const PROBE: Gid = 4;
/** The shard servers' maxRaftState: small, so that restarts come back from snapshots. */
const SNAPSHOTS = 1000;
/** Sequences per run, and their longest length. */
const RUNS = 20;
const MAX_COMMANDS = 30;
/** How long a group may take to answer one call (virtual ms): a restarted group elects a leader first. */
const ANSWER_MS = 10_000;
/** The pause after a round of a group's servers in which none led (virtual ms). */
const ROUND_PAUSE_MS = 100;
/** A value with the characters an encoding of a shard's state may trip on. */
const SEPARATORS = ',;|:=\t\n"\'\\[]{}';
/** A huge value's length: large next to a key, small enough for the logs and snapshots that carry it. */
const HUGE_BYTES = 4 * 1024;

/** How many of the latest shard RPCs a late copy is drawn from (a copy of an older one is refused the same way). */
const RECENT_RPCS = 6;

/** What one group has done with one shard: its status and the highest configuration number it has seen for it. */
interface ShardAt {
  status: 'serving' | 'frozen' | 'deleted' | 'never had it';
  num: number;
}

/** A shard RPC the tester sent and a group carried out (answered OK): what a late copy repeats. */
interface SentRpc {
  readonly gid: Gid;
  readonly method: string;
  readonly args: { readonly shard: number; readonly num: number; readonly state?: string };
}

/** The handout's rules for three groups: every key's value and version (wherever served), each group's shards. */
class GroupsModel {
  readonly kv = new KVModel();
  /** Each group's view of each shard. */
  readonly at = new Map<Gid, ShardAt[]>(
    GROUPS.map((gid) => [
      gid,
      Array.from({ length: NSHARDS }, (): ShardAt =>
        gid === GID1 ? { status: 'serving', num: NUM_FIRST } : { status: 'never had it', num: 0 },
      ),
    ]),
  );
  /** Which group each shard's last move gave it to. */
  readonly owner: Gid[] = new Array<Gid>(NSHARDS).fill(GID1);
  /** The last configuration number used. */
  num = NUM_FIRST;
  /** Every shard RPC carried out, in order. */
  readonly sent: SentRpc[] = [];
  /** What each group's frozen or deleted shard holds ("gid/shard"): its keys as they were at the freeze, or none. */
  readonly held = new Map<string, Map<string, StoreGet>>();
  /** The last configuration number the tester used at the probe group (each probe install is newer). */
  probeNum = NUM_FIRST;
  /** The key of the last put (the grammar's last-key pick). */
  lastKey = 'k';

  /** What each of the grammar's keys in shard `s` holds now. */
  keysOf(s: number): Map<string, StoreGet> {
    return new Map(GRAMMAR_KEYS.filter((k) => key2shard(k) === s).map((k) => [k, this.kv.get(k)]));
  }

  /** Group `gid`'s view of shard `s`. */
  shard(gid: Gid, s: number): ShardAt {
    return (this.at.get(gid) as ShardAt[])[s];
  }
}

/** The real side of a sequence: three groups and the tester's ends to them. */
interface GroupsReal extends StepLog {
  readonly ts: ShardTester;
  readonly ctx: Ctx;
}

/** A group's answer, and how many copies of the call went out (more than one: an earlier copy may have taken effect). */
interface Answer<R> {
  readonly reply: R;
  readonly copies: number;
}

/** Sends `method` to group `gid`'s servers in turn until one that leads answers; a mismatch when none does in time. */
async function ask<R extends { err: string }>(
  r: GroupsReal,
  gid: Gid,
  method: string,
  args: object,
  what: string,
): Promise<Answer<R>> {
  const makeEnd = r.ts.makeEnd(TESTER);
  const ends = r.ts.servers(gid).map((name) => makeEnd(name));
  const world = World.current();
  const t0 = world.now();
  let copies = 0;
  while (world.now() - t0 < ANSWER_MS) {
    for (const end of ends) {
      try {
        copies++;
        const reply = await end.call<R>(method, args);
        if (reply.err !== 'ErrWrongLeader') return { reply, copies };
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
      }
    }
    await sleep(ROUND_PAUSE_MS);
  }
  r.steps.push(`${what}: no server of group ${gid} answered within ${ANSWER_MS / 1000} s`);
  throw new ModelMismatch(
    r,
    'an answer from the leader (every server of the group runs and reaches the others, the network reliable)',
    `no answer within ${ANSWER_MS / 1000} s`,
    'the RSM or Raft stuck, most often after a restart (npm run grade lab6); an RPC handler that never returns for a ' +
      'shard it does not serve (answer ErrWrongGroup) or for a configuration number it refuses (answer ErrOldConfig). ' +
      EARLIER_LABS,
  );
}

/** Why a shard RPC's answer can differ from the handout's, by what the model expected. */
const SHARD_CAUSES =
  'a configuration number compared with one kept for the whole group instead of per shard; a number not recorded ' +
  'by each of FreezeShard, InstallShard and DeleteShard (a shard frozen or deleted keeps its number); a repeat at ' +
  'the number already seen refused instead of answered OK again; a number compared with ">" or "<=" where the ' +
  'handout says "below"; the numbers or statuses left out of snapshot() or restore() (lost at a restart).';
/** Why a get or put can be answered at the wrong group, or not at the owner. */
const GROUP_CAUSES =
  'ErrWrongGroup decided in the RPC handler rather than in doOp from the shard’s status; a frozen or deleted shard ' +
  'still served; an InstallShard that does not make its group serve the shard; a late InstallShard of an old ' +
  'configuration applied after a newer move (refuse a number below the one the shard has seen); statuses lost at a ' +
  'restart (snapshot and restore every shard’s status and number).';
/** Why a key's value or version can differ from the model's. */
const KEY_CAUSES =
  'a shard moved without some of its keys, values or versions (FreezeShard must hand over all of them, InstallShard ' +
  'restore them as they were: an encoding that splits on a separator a value may hold, or a version reset to 1); a ' +
  'repeated InstallShard at the number the shard is already served at installing its old state over the writes made ' +
  'since; a late DeleteShard forgetting keys of a shard the group serves again; keys lost at a restart; or lab 2’s ' +
  'version rules broken in doOp.';

/** The expected answer to a shard RPC the model carries out, checked; fails the step otherwise. */
function expectShard(r: GroupsReal, got: { err: string }, want: string, rule: string): void {
  if (got.err !== want) throw new ModelMismatch(r, `${want}: ${rule}`, showCommand(got), SHARD_CAUSES);
}

/**
 * A configuration change: the shards of the picked keys move to group `to` as a controller moves them (freeze at the
 * old owner, install there the state it handed over, delete at the old owner), at the next configuration number;
 * with `deletes` false the deletes never come (a controller that failed after its installs).
 */
class MoveCommand implements fc.AsyncCommand<GroupsModel, GroupsReal> {
  readonly keys: ReadonlyArray<string | undefined>;
  readonly to: Gid;
  readonly deletes: boolean;
  constructor(keys: ReadonlyArray<string | undefined>, to: Gid, deletes: boolean) {
    this.keys = keys;
    this.to = to;
    this.deletes = deletes;
  }
  check(): boolean {
    return true;
  }
  async run(m: GroupsModel, r: GroupsReal): Promise<void> {
    const num = ++m.num;
    for (const shard of new Set(this.keys.map((k) => key2shard(keyOf(m, k))))) {
      const from = m.owner[shard];
      if (from === this.to) continue;
      const line = `configuration ${num}: shard ${shard} moves from group ${from} to group ${this.to}`;
      const fArgs = { shard, num };
      const frozen = await ask<FreezeShardReply>(r, from, FREEZE, fArgs, line);
      r.steps.push(`${line}: FreezeShard at group ${from} answered ${showCommand(frozen.reply)}`);
      expectShard(
        r,
        frozen.reply,
        'OK',
        `group ${from} serves shard ${shard}, and ${num} is newer than any number it saw for it`,
      );
      if (frozen.reply.err !== 'OK') return;
      m.shard(from, shard).status = 'frozen';
      m.shard(from, shard).num = num;
      m.held.set(`${from}/${shard}`, m.keysOf(shard));
      m.sent.push({ gid: from, method: FREEZE, args: fArgs });
      const iArgs = { shard, num, state: frozen.reply.state };
      const installed = await ask<ShardReply>(r, this.to, INSTALL, iArgs, line);
      r.steps.push(`${line}: InstallShard at group ${this.to} answered ${showCommand(installed.reply)}`);
      expectShard(r, installed.reply, 'OK', `${num} is newer than any number group ${this.to} saw for shard ${shard}`);
      m.at.get(this.to)![shard] = { status: 'serving', num };
      m.sent.push({ gid: this.to, method: INSTALL, args: iArgs });
      m.owner[shard] = this.to;
      if (!this.deletes) continue;
      const deleted = await ask<ShardReply>(r, from, DELETE, fArgs, line);
      r.steps.push(`${line}: DeleteShard at group ${from} answered ${showCommand(deleted.reply)}`);
      expectShard(r, deleted.reply, 'OK', `group ${from} froze shard ${shard} at ${num}, the number of this delete`);
      m.at.get(from)![shard] = { status: 'deleted', num };
      m.held.set(`${from}/${shard}`, new Map());
      m.sent.push({ gid: from, method: DELETE, args: fArgs });
    }
  }
  toString(): string {
    const keys = this.keys.map((k) => (k === undefined ? 'the last key put' : showCommand(k))).join(', ');
    return `move the shards of ${keys} to group ${this.to}${this.deletes ? '' : ' (no deletes)'}`;
  }
}

/** A late copy of one of the latest shard RPCs carried out (`pick` says which): refused if older, else a repeat. */
class LateCopyCommand implements fc.AsyncCommand<GroupsModel, GroupsReal> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<GroupsModel>): boolean {
    return m.sent.length > 0;
  }
  async run(m: GroupsModel, r: GroupsReal): Promise<void> {
    const recent = Math.min(RECENT_RPCS, m.sent.length);
    const rpc = m.sent[m.sent.length - 1 - (this.pick % recent)];
    const { shard, num } = rpc.args;
    const seen = m.shard(rpc.gid, shard);
    const what = `a late copy of configuration ${num}'s ${rpc.method.replace('KVServer.', '')} of shard ${shard} reaches group ${rpc.gid} (which has seen ${seen.num} for it, ${seen.status})`;
    const got = await ask<ShardReply | FreezeShardReply>(r, rpc.gid, rpc.method, rpc.args, what);
    r.steps.push(`${what}: answered ${showCommand(got.reply)}`);
    if (num < seen.num)
      expectShard(
        r,
        got.reply,
        'ErrOldConfig',
        `${num} is below ${seen.num}, the number the group has seen for the shard: a late copy of an old move must not undo a newer one`,
      );
    else
      expectShard(r, got.reply, 'OK', 'a repeat of an RPC the group carried out changes nothing and answers OK again');
    if (rpc.method === FREEZE && 'state' in got.reply) await probe(m, r, rpc.gid, shard, got.reply.state);
  }
  toString(): string {
    return `late copy of the latest shard RPC but ${this.pick % RECENT_RPCS}`;
  }
}

/**
 * Installs `state`, what a repeated FreezeShard of shard `s` at group `gid` handed over, at the probe group and reads
 * the grammar's keys of that shard there: they must be as the group held them (as at its freeze, or none once deleted).
 */
async function probe(m: GroupsModel, r: GroupsReal, gid: Gid, s: number, state: string): Promise<void> {
  const num = ++m.probeNum;
  const line = `the state it handed over, installed at probe group ${PROBE} (configuration ${num})`;
  const installed = await ask<ShardReply>(r, PROBE, INSTALL, { shard: s, state, num }, line);
  r.steps.push(`${line}: answered ${showCommand(installed.reply)}`);
  expectShard(r, installed.reply, 'OK', `${num} is newer than any number the probe group saw for shard ${s}`);
  for (const [key, want] of m.held.get(`${gid}/${s}`) ?? new Map<string, StoreGet>()) {
    const what = `get(${showCommand(key)}) at probe group ${PROBE}`;
    const { reply } = await ask<GetReply>(r, PROBE, 'KVServer.Get', { key }, what);
    r.steps.push(`${what} returned ${showCommand(reply)}`);
    if (!sameGet(reply, want))
      throw new ModelMismatch(
        r,
        `${want.err === 'OK' ? `value ${showCommand(want.value)} at version ${want.version}` : 'ErrNoKey'}: a repeated ` +
          `FreezeShard hands over the keys group ${gid} holds for the shard (frozen: as they were at the freeze; ` +
          'deleted: none)',
        showCommand(reply),
        'a frozen shard’s keys, status or number left out of snapshot() or restore() (lost at a restart), so that a ' +
          'repeated FreezeShard hands over nothing; a repeated FreezeShard refused or answered with an empty state ' +
          'while the shard is frozen; a deleted shard that still hands over its old keys; ' +
          KEY_CAUSES,
      );
  }
}

/** Whether group `gid` serves shard `s` (its get or put is judged by lab 2's rules); if not, its `reply` must be ErrWrongGroup. */
function servesShard(m: GroupsModel, r: GroupsReal, gid: Gid, s: number, reply: { err: string }): boolean {
  if (m.shard(gid, s).status === 'serving') return true;
  if (reply.err !== 'ErrWrongGroup')
    throw new ModelMismatch(
      r,
      `ErrWrongGroup: group ${gid} does not serve shard ${s}`,
      showCommand(reply),
      GROUP_CAUSES,
    );
  return false;
}

/** Where a key's get or put goes: the group its shard's last move gave it to, or another. */
type Target = 'owner' | 'other';

/** The group a target names for shard `s`. */
function groupFor(m: GroupsModel, s: number, target: Target, n: number): Gid {
  const owner = m.owner[s];
  if (target === 'owner') return owner;
  const others = GROUPS.filter((g) => g !== owner);
  return others[n % others.length];
}

/** The key a pick names: one of the grammar's, or the last one put. */
function keyOf(m: GroupsModel, pick: string | undefined): string {
  return pick ?? m.lastKey;
}

/** get(key) at the owner or at another group. */
class GetCommand implements fc.AsyncCommand<GroupsModel, GroupsReal> {
  readonly key: string | undefined;
  readonly target: Target;
  constructor(key: string | undefined, target: Target) {
    this.key = key;
    this.target = target;
  }
  check(): boolean {
    return true;
  }
  async run(m: GroupsModel, r: GroupsReal): Promise<void> {
    const key = keyOf(m, this.key);
    const s = key2shard(key);
    const gid = groupFor(m, s, this.target, m.kv.n);
    const what = `get(${showCommand(key)}) at group ${gid} (shard ${s}, ${m.shard(gid, s).status})`;
    const { reply } = await ask<GetReply>(r, gid, 'KVServer.Get', { key }, what);
    r.ctx.countOps();
    r.steps.push(`${what} returned ${showCommand(reply)}`);
    if (!servesShard(m, r, gid, s, reply)) return;
    const want = m.kv.get(key);
    if (!sameGet(reply, want))
      throw new ModelMismatch(
        r,
        want.err === 'OK'
          ? `value ${showCommand(want.value)} (${want.value.length} chars) at version ${want.version}`
          : 'ErrNoKey: no put ever created this key',
        showCommand(reply),
        reply.err === 'ErrWrongGroup' ? GROUP_CAUSES : KEY_CAUSES,
      );
  }
  toString(): string {
    return `get(${this.key === undefined ? 'the last key put' : showCommand(this.key)}) at the ${this.target}`;
  }
}

/** How a put's value is drawn: as the other labs' grammars do, or full of separators. */
type PutValue = ValueKind | 'separators';

/** put(key, value, version) at the owner or at another group, its value and version drawn by kind. */
class PutCommand implements fc.AsyncCommand<GroupsModel, GroupsReal> {
  readonly key: string | undefined;
  readonly valueKind: PutValue;
  readonly versionKind: VersionKind;
  readonly target: Target;
  constructor(key: string | undefined, valueKind: PutValue, versionKind: VersionKind, target: Target) {
    this.key = key;
    this.valueKind = valueKind;
    this.versionKind = versionKind;
    this.target = target;
  }
  check(): boolean {
    return true;
  }
  async run(m: GroupsModel, r: GroupsReal): Promise<void> {
    const key = keyOf(m, this.key);
    m.lastKey = key;
    const s = key2shard(key);
    const n = m.kv.n++;
    const gid = groupFor(m, s, this.target, n);
    const version = VERSION_KINDS[this.versionKind](m.kv.version(key));
    const value =
      this.valueKind === 'separators' ? `${SEPARATORS}${n}` : valueOf(this.valueKind, n, m.kv.past(key), HUGE_BYTES);
    const what = `put(${showCommand(key)}, ${showCommand(value)}, version ${version}) at group ${gid} (shard ${s}, ${m.shard(gid, s).status})`;
    const { reply, copies } = await ask<PutReply>(r, gid, 'KVServer.Put', { key, value, version }, what);
    r.ctx.countOps();
    r.steps.push(`${what} returned ${showCommand(reply)}${copies > 1 ? ` (${copies} copies sent)` : ''}`);
    if (!servesShard(m, r, gid, s, reply)) return;
    const want = m.kv.put(key, value, version);
    if (reply.err === want.err) return;
    // A copy sent earlier may have taken effect (the leader changed under it): then a later copy finds the version moved.
    if (copies > 1 && want.err === 'OK' && reply.err === 'ErrVersion') return;
    throw new ModelMismatch(
      r,
      `${want.err}: ${want.rule}`,
      showCommand(reply),
      reply.err === 'ErrWrongGroup' ? GROUP_CAUSES : KEY_CAUSES,
    );
  }
  toString(): string {
    return `put(${this.key === undefined ? 'the last key put' : showCommand(this.key)}, ${this.valueKind} value, ${this.versionKind} version) at the ${this.target}`;
  }
}

/** Every server of a group crashes (the group of the latest shard RPC, or a given one), and it restarts from what it saved. */
class RestartCommand implements fc.AsyncCommand<GroupsModel, GroupsReal> {
  readonly gid: Gid | 'latest';
  constructor(gid: Gid | 'latest') {
    this.gid = gid;
  }
  check(): boolean {
    return true;
  }
  run(m: GroupsModel, r: GroupsReal): Promise<void> {
    const gid = this.gid === 'latest' ? (m.sent.at(-1)?.gid ?? GID1) : this.gid;
    r.ts.shutdownGroup(gid);
    r.ts.restartGroup(gid);
    r.steps.push(`every server of group ${gid} crashed, and the group restarted from what it saved`);
    return Promise.resolve();
  }
  toString(): string {
    return `restart ${this.gid === 'latest' ? 'the group of the latest shard RPC' : `group ${this.gid}`}`;
  }
}

/** A key pick: one of the grammar's keys, or (undefined) the last key put. */
const keyPickArb = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(fc.constantFrom(...GRAMMAR_KEYS), fc.constant(undefined));
/** Where a get or put goes: the owner more often. */
const targetArb = (): fc.Arbitrary<Target> => fc.constantFrom<Target>('owner', 'owner', 'other');
const putValueArb = (): fc.Arbitrary<PutValue> => fc.oneof(valueKindArb(), fc.constant<PutValue>('separators'));

/** The grammar: moves (some without their deletes), gets and puts at either group, late copies, group restarts. */
const moveArb = (): fc.Arbitrary<MoveCommand> =>
  fc
    .tuple(fc.array(keyPickArb(), { minLength: 1, maxLength: 2 }), fc.constantFrom(...GROUPS), fc.nat(2))
    .map(([keys, to, d]) => new MoveCommand(keys, to, d > 0));
const commands = (): Array<fc.Arbitrary<fc.AsyncCommand<GroupsModel, GroupsReal>>> => [
  moveArb(),
  moveArb(),
  moveArb(),
  fc.tuple(keyPickArb(), targetArb()).map(([k, t]) => new GetCommand(k, t)),
  fc.tuple(keyPickArb(), targetArb()).map(([k, t]) => new GetCommand(k, t)),
  fc
    .tuple(keyPickArb(), putValueArb(), versionKindArb(), targetArb())
    .map(([k, v, ver, t]) => new PutCommand(k, v, ver, t)),
  fc
    .tuple(keyPickArb(), putValueArb(), versionKindArb(), targetArb())
    .map(([k, v, ver, t]) => new PutCommand(k, v, ver, t)),
  fc.nat(1000).map((pick) => new LateCopyCommand(pick)),
  fc.nat(1000).map((pick) => new LateCopyCommand(pick)),
  fc.constantFrom(...GROUPS).map((gid) => new RestartCommand(gid)),
  fc.constant(new RestartCommand('latest')),
];

/** A sequence's start: three fresh groups (group 1 serving every shard), with snapshots. */
function setup(ctx: Ctx): { model: GroupsModel; real: GroupsReal } {
  const ts = new ShardTester(ctx, { maxRaftState: SNAPSHOTS });
  for (const gid of [...GROUPS, PROBE]) ts.startGroup(gid);
  return { model: new GroupsModel(), real: { ts, ctx, steps: [] } };
}

/** TestModelShards5A: random moves, gets, puts, late copies and restarts on three groups, compared with the model. */
export const modelShards: TestDefinition<Lab7Impl> = {
  name: 'TestModelShards5A',
  description: `${RUNS} random sequences of up to ${MAX_COMMANDS} steps on three groups, the tester playing the controller and the clerks: shards moved (freeze, install, delete; some deletes never sent), gets and puts at the owner and at other groups (edge keys, values with separators, edge versions), late copies of any shard RPC sent before, whole groups restarted from their snapshots; every answer as the handout's rules give it, compared after every step; the shortest failing sequence is printed as a replay`,
  virtualLimitMs: 900_000,
  async run(ctx: Ctx) {
    const done = await runModelTest<GroupsModel, GroupsReal>({
      seed: ctx.seed,
      key: 'TestModelShards5A',
      what: "the handout's rules for shard groups (three groups of 3 servers, the tester as controller and clerks)",
      commands: commands(),
      runs: RUNS,
      maxCommands: MAX_COMMANDS,
      setup: () => setup(ctx),
      teardown: (real) => {
        for (const gid of [...GROUPS, PROBE]) real.ts.shutdownGroup(gid, false);
      },
    });
    ctx.log(`${done.runs} sequences agreed with the model (fast-check seed ${done.fcSeed})`);
  },
};
