/**
 * Lab 7's own scenarios for rules of the handout that MIT's tests leave unchecked: a write already in the log when
 * its shard freezes, a put whose reply is lost while its shard moves, and a late copy of an old InstallShard.
 */
import { TimeoutError } from '../../labrpc';
import { within, type TestContext, type TestDefinition } from '../../suite';
import { sleep } from '../../world';
import { ELECTION_TIMEOUT_MS, showCommand } from '../../lab6/test/harness';
import type { FreezeShardReply, GetReply, PutReply, ShardReply } from '../rpc';
import { GID1, key2shard, NSHARDS, NUM_FIRST, type Gid } from '../shardcfg';
import {
  EARLIER_LABS,
  fail,
  interceptCalls,
  keysCoveringShards,
  type Lab7Impl,
  type ShardRpc,
  ShardTester,
  TESTER,
} from './harness';
import { callGroup, checkOwnership, snapshotNow } from './direct';
import { DELETE, FREEZE } from './ctrler-rules';
import { checkAll, putAll, type Written } from './workload';

type Ctx = TestContext<Lab7Impl>;

/** maxRaftState where a scenario needs snapshots. */
const SNAPSHOTS = 1000;
/** How long the leader's answers are held while the freeze and the put enter its log (virtual ms, each step). */
const IN_LOG_MS = 20;
/** Shards the freeze scenario tries before it gives up finding a leader that keeps leading (an inconclusive run). */
const FREEZE_TRIES = 3;

/** The tester's own end to server i of group `gid`. */
function endTo(ts: ShardTester, gid: Gid, i: number): ReturnType<ReturnType<ShardTester['makeEnd']>> {
  return ts.makeEnd(TESTER)(`g${gid}-${i}`);
}

/**
 * One try of the freeze scenario on `key` (written once: `before` at version 1): while the answers to group 1's
 * leader's own calls are held (its followers still hear it, so it keeps leading, but it commits nothing), a
 * FreezeShard of the key's shard and then a Put of the key reach it; both enter its log, the freeze first. Returns
 * false when the leader lost the lead meanwhile (nothing to judge), after judging the answers otherwise.
 */
async function freezeBeforePut(ts: ShardTester, key: string, before: string, num: number): Promise<boolean> {
  const g = ts.group(GID1);
  const leader = await g.checkOneLeader();
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  g.onCall = (from) => (from === leader ? { release: released } : undefined);
  const end = endTo(ts, GID1, leader);
  const freezing = end.call<FreezeShardReply>('KVServer.FreezeShard', { shard: key2shard(key), num });
  await sleep(IN_LOG_MS);
  const putting = end.call<PutReply>('KVServer.Put', { key, value: 'b', version: 1 });
  await sleep(IN_LOG_MS);
  g.onCall = undefined;
  release();
  const [f, p] = await Promise.all([freezing, putting]);
  if (f.err === 'ErrWrongLeader' || p.err === 'ErrWrongLeader') return false;
  if (p.err !== 'ErrWrongGroup')
    fail(
      `a Put of ${showCommand(key)} reached group 1's leader after a FreezeShard of its shard (both were in the log ` +
        `before either was applied, the freeze first) and was answered ${showCommand(p)}. Expected ErrWrongGroup: ` +
        'a frozen shard never serves a write, and one answered OK here is lost (it is not in the state the freeze ' +
        'handed over). Likely causes: the shard checked in the RPC handler when the Put arrives (the freeze was in ' +
        'the log but not applied yet) instead of in doOp when the Put is applied, or a frozen shard still taking puts.',
    );
  if (f.err !== 'OK')
    fail(`FreezeShard of shard ${key2shard(key)} at configuration ${num} was answered ${showCommand(f)}; expected OK.`);
  await checkHandedOver(ts, key, before, f.state, num);
  return true;
}

/** The state a freeze handed over, installed at a new group 2, holds the key as it was before the freeze. */
async function checkHandedOver(
  ts: ShardTester,
  key: string,
  before: string,
  state: string,
  num: number,
): Promise<void> {
  ts.startGroup(2);
  const installed = await callGroup<ShardReply>(ts, 2, 'KVServer.InstallShard', { shard: key2shard(key), state, num });
  if (installed?.err !== 'OK')
    fail(`InstallShard at a new group 2 (configuration ${num}) was answered ${showCommand(installed)}; expected OK.`);
  const r = await callGroup<GetReply>(ts, 2, 'KVServer.Get', { key });
  if (r?.err !== 'OK' || r.value !== before || r.version !== 1)
    fail(
      `the state FreezeShard handed over, installed at group 2, gives ${showCommand(r)} for ${showCommand(key)}; ` +
        `expected value ${showCommand(before)} at version 1 (the write before the freeze; the one after it was refused). Likely ` +
        'causes: a write applied to the frozen shard after the freeze, or a state that leaves keys or versions out.',
    );
}

export const writeAcrossFreeze: TestDefinition<Lab7Impl> = {
  name: 'TestWriteAcrossFreeze5A',
  description:
    'a Put already in the log behind a FreezeShard of its shard is answered ErrWrongGroup, and the state handed over holds the key as it was before the freeze',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const written: Written = new Map();
    for (const key of keysCoveringShards().slice(0, FREEZE_TRIES)) {
      await putAll(ck, [key], written, 'a');
      await checkAll(ck, [key], written, 'before the freeze');
      if (await freezeBeforePut(ts, key, written.get(key)?.value ?? '', NUM_FIRST + 1)) return;
      ctx.log(`group 1's leader lost the lead while its answers were held (shard ${key2shard(key)}): tried again`);
    }
  },
};

/** The key of the put that crosses a move: one of the shard group 2's join moves first. */
const MOVED_KEY = keysCoveringShards().find((k) => key2shard(k) === NSHARDS - 1) as string;

export const putAcrossMove: TestDefinition<Lab7Impl> = {
  name: 'TestPutAcrossMove5A',
  description:
    "a put applied at the shard's old owner loses its reply, the shard moves, and the clerk sends it again to the new owner, which answers ErrVersion: the put returns ErrMaybe",
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    let applied = (): void => undefined;
    const reached = new Promise<void>((resolve) => (applied = resolve));
    let moved = (): void => undefined;
    const movedAway = new Promise<void>((resolve) => (moved = resolve));
    let armed = true;
    // The first copy of the put reaches group 1 and is applied; its reply is lost once the shard has moved.
    const ck = ts.makeClerk((end) =>
      interceptCalls(end, async (send, method, args) => {
        if (!armed || method !== 'KVServer.Put' || (args as { key?: unknown } | null)?.key !== MOVED_KEY) return send();
        const reply = await send();
        if ((reply as { err?: unknown } | null)?.err !== 'OK') return reply;
        armed = false;
        applied();
        await movedAway;
        throw new TimeoutError(method, end.name);
      }),
    );
    const putting = ck.put(MOVED_KEY, 'x', 0);
    await reached;
    await ts.join([2]);
    moved();
    const err = await putting;
    if (err !== 'ErrMaybe')
      fail(
        `put(${showCommand(MOVED_KEY)}, "x", version 0) returned ${showCommand(err)}. Its first copy was applied at ` +
          'group 1 and its reply lost; the shard then moved to group 2, which answered the copy sent again ' +
          'ErrVersion (its own first copy had set version 1). Expected ErrMaybe: a put sent more than once, to one ' +
          'group or to several, that ends with ErrVersion may have taken effect. Likely causes: "sent more than ' +
          'once" counted per group (the group clerk’s count starts again at the new owner), or ErrVersion passed on.',
      );
    await checkAll(
      ck,
      [MOVED_KEY],
      new Map([[MOVED_KEY, { value: 'x', version: 1 }]]),
      'after the put crossed the move',
    );
    ts.checkLinearizable();
  },
};

/** The copies of InstallShard a controller sent to group `gid` for configuration `num`. */
function installsTo(ts: ShardTester, gid: Gid, num: number): ShardRpc[] {
  return ts.shardRpcs.filter(
    (r) => r.method === 'KVServer.InstallShard' && r.num === num && r.server.startsWith(`g${gid}-`),
  );
}

/**
 * Sends group `gid` again every InstallShard of `late`: each must be answered ErrOldConfig. `since` says what
 * happened to the shard since, as "after <since>".
 */
async function deliverLate(ts: ShardTester, gid: Gid, late: readonly ShardRpc[], since: string): Promise<void> {
  for (const r of late) {
    const reply = await callGroup<ShardReply>(ts, gid, 'KVServer.InstallShard', {
      shard: r.shard,
      state: r.state,
      num: r.num,
    });
    if (reply?.err !== 'ErrOldConfig')
      fail(
        `a late copy of configuration ${String(r.num)}'s InstallShard of shard ${String(r.shard)} reached group ` +
          `${gid} after ${since}, and was answered ${showCommand(reply)}. Expected ErrOldConfig: a late copy of an ` +
          'old move must not undo a newer one. Likely causes: InstallShard not comparing its number with the ' +
          'highest the shard has seen; that number not kept for a shard frozen or deleted (FreezeShard and ' +
          'DeleteShard each record theirs); or it is not in the snapshot (lost at a restart). ' +
          EARLIER_LABS,
      );
  }
}

/**
 * Freezes each of `shards` at group `gid` at configuration `num`, as a newer change's controller does first (the
 * group serves them at `servedAt`); fails unless each is answered OK. Returns each shard's state.
 */
async function freezeAt(
  ts: ShardTester,
  gid: Gid,
  shards: Iterable<unknown>,
  num: number,
  servedAt: number,
): Promise<Map<unknown, string>> {
  const states = new Map<unknown, string>();
  for (const shard of shards) {
    const frozen = await callGroup<FreezeShardReply>(ts, gid, FREEZE, { shard, num });
    if (frozen?.err !== 'OK')
      fail(
        `FreezeShard of shard ${String(shard)} at configuration ${num} was answered ${showCommand(frozen)} by group ` +
          `${gid}, which serves the shard at configuration ${servedAt}. Expected OK with the shard's keys. ` +
          EARLIER_LABS,
      );
    states.set(shard, frozen.state);
  }
  return states;
}

export const lateInstall: TestDefinition<Lab7Impl> = {
  name: 'TestLateInstall5A',
  description:
    "late copies of an old configuration's InstallShard reach a group: refused with ErrOldConfig once a newer FreezeShard froze the shards there, after they left it (and it restarted), and after they came back with newer writes",
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx, { maxRaftState: SNAPSHOTS });
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    const joined = await ts.join([2]);
    const late = installsTo(ts, 2, joined.num);
    await putAll(ck, keys, written, 'b');
    // As the next change's controller does first: freeze group 2's shards at the next number (not deleted yet).
    const next = joined.num + 1;
    await freezeAt(ts, 2, new Set(late.map((r) => r.shard)), next, joined.num);
    await deliverLate(ts, 2, late, `configuration ${next}'s FreezeShard had frozen that shard (before any delete)`);
    const left = await ts.leave([2]);
    await snapshotNow(ts, 2);
    ts.shutdownGroup(2);
    await sleep(ELECTION_TIMEOUT_MS);
    ts.restartGroup(2);
    await deliverLate(ts, 2, late, `configuration ${left.num} had moved that shard away and group 2 had restarted`);
    await checkOwnership(
      ts,
      left,
      `after late InstallShards of configuration ${joined.num} reached group 2, which left`,
    );
    await checkAll(ck, keys, written, 'after late InstallShards reached group 2, which left');
    const back = await ts.join([2]);
    await putAll(ck, keys, written, 'c');
    await snapshotNow(ts, 2);
    ts.shutdownGroup(2);
    await sleep(ELECTION_TIMEOUT_MS);
    ts.restartGroup(2);
    await deliverLate(
      ts,
      2,
      late,
      `configuration ${back.num} had brought that shard back with newer writes and group 2 had restarted`,
    );
    await checkAll(ck, keys, written, 'after late InstallShards reached group 2, which owns the shards again');
    ts.checkLinearizable();
  },
};

/** How long the change to a configuration with no group may take (virtual ms): one change takes well under a second. */
const EMPTY_CHANGE_MS = 20_000;

/**
 * Asks group GID1, which left to nobody at configuration `num`, to freeze each shard again at that number (as a
 * controller repeating the change would): the state handed back must hold none of the keys written (values "a-<key>,"
 * in any encoding that keeps them readable), since each shard was deleted there.
 */
async function checkLeftEmpty(ts: ShardTester, keys: readonly string[], num: number): Promise<void> {
  for (let shard = 0; shard < NSHARDS; shard++) {
    const frozen = await callGroup<FreezeShardReply>(ts, GID1, FREEZE, { shard, num });
    if (frozen?.err !== 'OK') continue;
    const kept = keys.filter((k) => key2shard(k) === shard && frozen.state.includes(`a-${k},`));
    if (kept.length > 0)
      fail(
        `after group ${GID1}, the last group, left (configuration ${num}: every shard to nobody), a repeated ` +
          `FreezeShard of shard ${shard} at ${num} handed back a state that still holds ${showCommand(kept[0])}'s ` +
          `value. Expected an empty state: the change to nobody freezes and deletes each shard, and the keys go. ` +
          'Likely causes: a controller that deletes a shard only once a new owner installed it (a shard whose new ' +
          'owner is 0 is frozen and deleted, never installed), or a DeleteShard that keeps the keys. ' +
          EARLIER_LABS,
      );
  }
}

export const emptyConfig: TestDefinition<Lab7Impl> = {
  name: 'TestEmptyConfig5A',
  description:
    'a change that moves no shard is stored like any other; the last group leaves (a configuration with no group serves no key; a repeated freeze there hands back no key), then a new group joins: shards with no old owner are installed empty, and a clerk’s get asked while no group served its key waits for the group that joins',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    await putAll(ck, keys, new Map(), 'a');
    // The next configuration with the same owners: nothing to move, but its number must be stored all the same.
    await ts.leave([]);
    const none = await within(
      ts.leave([GID1]),
      EMPTY_CHANGE_MS,
      () =>
        `the change that moves every shard away from group ${GID1}, the last group, to nobody did not finish within ` +
        `${EMPTY_CHANGE_MS / 1000} s. Expected the controller to freeze and delete each shard at group ${GID1} and ` +
        'store the configuration. Likely causes: a shard whose new owner is 0 (nobody) sent to group 0 as to any ' +
        'other group (it has no servers: freeze and delete only). ' +
        EARLIER_LABS,
    );
    await checkOwnership(ts, none, `after group ${GID1}, the last group, left`);
    await checkLeftEmpty(ts, keys, none.num);
    // The clerk asks while no group serves the key: its get waits (re-reading the configuration) until one does.
    const waiting = ck.get(keys[0]);
    const gid = ts.newGid();
    const back = await ts.join([gid]);
    await within(
      waiting,
      EMPTY_CHANGE_MS,
      () =>
        `a clerk's get(${showCommand(keys[0])}), asked while no group served its shard, had not returned ` +
        `${EMPTY_CHANGE_MS / 1000} s after group ${gid} joined and took the shard. Likely causes: a clerk that stops ` +
        'reading the configuration again while no group owns the shard. ' +
        EARLIER_LABS,
    );
    await checkOwnership(ts, back, `after group ${gid} joined a configuration with no group`);
    for (const key of keys) {
      const got = await callGroup<GetReply>(ts, gid, 'KVServer.Get', { key });
      const put =
        got?.err === 'ErrNoKey'
          ? await callGroup<PutReply>(ts, gid, 'KVServer.Put', { key, value: 'b', version: 0 })
          : undefined;
      if (got?.err !== 'ErrNoKey' || put?.err !== 'OK')
        fail(
          `after the last group left and group ${gid} joined, group ${gid} answered get(${showCommand(key)}) with ` +
            `${showCommand(got)}${put ? ` and put(${showCommand(key)}, version 0) with ${showCommand(put)}` : ''}. ` +
            'Expected ErrNoKey, then OK: the keys went with the last group, and a shard that had no owner is ' +
            'installed empty. Likely causes: a shard whose new owner is 0 (nobody) not frozen and deleted, or one ' +
            'whose old owner is 0 not installed with an empty state. ' +
            EARLIER_LABS,
        );
    }
  },
};

export const lateDelete: TestDefinition<Lab7Impl> = {
  name: 'TestLateDelete5A',
  description:
    "late copies of an old configuration's DeleteShard reach a group after the shards came back to it and a newer FreezeShard froze them there: refused with ErrOldConfig, and the freeze, repeated, still hands over the keys",
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    const joined = await ts.join([2]);
    const late = ts.shardRpcs.filter(
      (r) => r.method === DELETE && r.num === joined.num && r.server.startsWith(`g${GID1}-`),
    );
    await ts.leave([2]);
    await putAll(ck, keys, written, 'b');
    // As the controller of a later change does first: freeze the shards back at group 1 (not deleted yet).
    const next = joined.num + 2;
    const shards = [...new Set(late.map((r) => r.shard))];
    const states = await freezeAt(ts, GID1, shards, next, joined.num + 1);
    for (const r of late) {
      const reply = await callGroup<ShardReply>(ts, GID1, DELETE, { shard: r.shard, num: r.num });
      if (reply?.err !== 'ErrOldConfig')
        fail(
          `a late copy of configuration ${String(r.num)}'s DeleteShard of shard ${String(r.shard)} reached group ` +
            `${GID1} after the shard came back to it and configuration ${next}'s FreezeShard froze it there, and was ` +
            `answered ${showCommand(reply)}. Expected ErrOldConfig: a late copy of an old move must not undo a newer ` +
            'one. Likely causes: DeleteShard not comparing its number with the highest the shard has seen when the ' +
            'shard is frozen or gone (only when it is served). ' +
            EARLIER_LABS,
        );
    }
    for (const shard of shards) {
      const again = await callGroup<FreezeShardReply>(ts, GID1, FREEZE, { shard, num: next });
      if (again?.err !== 'OK' || again.state !== states.get(shard))
        fail(
          `FreezeShard of shard ${String(shard)} at configuration ${next}, repeated at group ${GID1} after late ` +
            `DeleteShards of configuration ${joined.num}, was answered ${showCommand(again)}; the first freeze ` +
            `returned ${showCommand(states.get(shard))}. Expected OK with the same state: frozen, a shard keeps its ` +
            'keys until a DeleteShard of its own number or a newer one. Likely causes: DeleteShard not comparing ' +
            'its number with the highest the shard has seen when the shard is frozen or gone. ' +
            EARLIER_LABS,
        );
    }
  },
};
