/**
 * Lab 7's memory scenario, which MIT's tests leave unchecked (TestDeleteBasic5A weighs snapshots only): once a
 * shard moved away and was deleted, its keys are gone from the old owner's memory too, whether the owner started
 * with the shard or received it by InstallShard.
 */
import type { TestContext, TestDefinition } from '../../suite';
import { freedInTurn, lighterWeighing, stopHoldersOfServers } from '../../suite/memory';
import { keyedRng, sleep } from '../../world';
import { ELECTION_TIMEOUT_MS, showCommand } from '../../lab6/test/harness';
import type { ShardClerk } from '../rpc';
import { GID1, key2shard, ShardConfig, type Gid } from '../shardcfg';
import { fail, GROUP_SERVERS, groupServers, keysCoveringShards, type Lab7Impl, ShardTester } from './harness';
import { checkAll, putAll, type Written } from './workload';
import { snapshotNow } from './direct';

type Ctx = TestContext<Lab7Impl>;

/** Characters of each value written to the shards that move: large, so that they dominate group 1's memory. */
const VALUE_BYTES = 200_000;
/** maxRaftState: group 1 snapshots, so that its log does not hold the values either. */
const SNAPSHOTS = 1000;
/** Rounds of small puts to group 1's own keys after the move, so that it snapshots again after the deletes. */
const SMALL_ROUNDS = 3;
/** Characters of those small values. */
const SMALL_BYTES = 400;
/** The share of the moved values that group 1's servers may still hold, together, once the shards were deleted. */
const RETAINED_SHARE = 0.25;

/** Bytes of heap freed when the servers of each group of `gids` crash and go (what they held), in turn. */
async function retainedBy(ts: ShardTester, gids: readonly Gid[]): Promise<number[]> {
  // Work still in flight (replies, heartbeats) holds the servers until it lands.
  await sleep(ELECTION_TIMEOUT_MS);
  // Every group's timers stop (nothing runs after this weighing); its networks stay: the crashed servers' calls in
  // flight must fail (below), and a killed peer's calls are refused (lab 6's tester).
  stopHoldersOfServers([]);
  // The groups never restart: what their servers saved goes with them (a copy kept for a restart would hold the very
  // strings they saved, and a server could keep what the test weighs there, out of the reading). The crashed
  // servers' own calls in flight fail within an election timeout, and let go of them.
  return freedInTurn(
    gids.map((gid) => () => ts.shutdownGroup(gid, false)),
    ELECTION_TIMEOUT_MS,
  );
}

/**
 * The configuration after `cfg` in which group `to`, new, takes over every shard of group `from`, which leaves: one
 * change, so that the shards `from` received by InstallShard all move on at once and none comes back to group 1.
 */
function handedOver(cfg: ShardConfig, from: Gid, to: Gid): ShardConfig {
  const gids = cfg.gids().filter((g) => g !== from);
  return ShardConfig.fromString(
    JSON.stringify({
      num: cfg.num + 1,
      shards: cfg.shards.map((g) => (g === from ? to : g)),
      groups: [...gids.map((g) => [g, [...cfg.servers(g)]]), [to, groupServers(to)]],
    }),
  );
}

/** The configuration group 2's join moves to, and the keys written: those of the shards it moves, and the others. */
function plan(): { next: ShardConfig; moving: string[]; staying: string[] } {
  const next = ShardConfig.first(groupServers(GID1)).join(new Map([[2, groupServers(2)]]));
  const keys = keysCoveringShards(2);
  const moving = keys.filter((k) => next.shards[key2shard(k)] !== GID1);
  return { next, moving, staying: keys.filter((k) => !moving.includes(k)) };
}

/**
 * The big value of `key` written in round `round`: random characters with no pattern a server could store in less,
 * made afresh each time, so that the tester holds no copy.
 */
function bigValue(key: string, round: number): string {
  return keyedRng(0, `${round}-${key}`).text(VALUE_BYTES);
}

/** Writes a big value to each key of `keys` (version `version`) through `ck`, which records nothing. */
async function putBig(ck: ShardClerk, keys: readonly string[], version: number): Promise<void> {
  for (const key of keys) {
    const err = await ck.put(key, bigValue(key, version), version);
    if (err !== 'OK' && err !== 'ErrMaybe')
      fail(`put(${showCommand(key)}, version ${version}) returned ${err} with nobody else writing; expected OK.`);
  }
}

/** Reads each key of `keys` back through `ck`: its big value of round `round`, at version `round + 1`. */
async function checkBig(ck: ShardClerk, keys: readonly string[], round: number, when: string): Promise<void> {
  for (const key of keys) {
    const r = await ck.get(key);
    if (r.err !== 'OK' || r.value !== bigValue(key, round) || r.version !== round + 1)
      fail(
        `${when}, get(${showCommand(key)}) returned ${r.err === 'OK' ? `a value of ${r.value.length} characters at ` + `version ${r.version}` : showCommand(r)}; expected the ${VALUE_BYTES}-character value written at version ${round}. ` +
          'Likely causes: a shard moved without its keys, or a shard served by a group that froze it.',
      );
  }
}

/** What the servers of each group weighed hold, in bytes (the heap freed when they crash). */
interface Retained {
  /** Group 1's, which started with the moved shards and gave them to group 2. */
  group1: number;
  /** Group 2's, which received them by InstallShard and gave them to group 3. */
  group2: number;
}

/**
 * A fresh service: big values on the shards that group 2's join moves, small ones on the others; group 2 joins,
 * group 1 writes its own keys again; group 3 takes over every shard of group 2, which leaves; then what group 1's
 * and group 2's servers hold, in bytes.
 */
async function weigh(ctx: Ctx): Promise<Retained> {
  // Strings copied on every network: a group that kept the string object another machine sent it (a state a
  // FreezeShard returned, say) would otherwise weigh nothing for it while that machine lives.
  const ts = new ShardTester(ctx, { maxRaftState: SNAPSHOTS, copyStrings: true });
  await ts.setup();
  const { next, moving, staying } = plan();
  const bare = ts.makeBareClerk();
  const ck = ts.makeClerk();
  const written: Written = new Map();
  await putBig(bare, moving, 0);
  await putAll(ck, staying, written, 'a');
  ts.startGroup(2);
  await ts.ctrler.changeConfigTo(next);
  await ts.checkConfig(next);
  for (let round = 0; round < SMALL_ROUNDS; round++) await putAll(ck, staying, written, `s${round}`, SMALL_BYTES);
  await checkAll(ck, staying, written, 'after group 2 joined');
  await checkBig(bare, moving, 0, 'after group 2 joined');
  const last = handedOver(next, 2, 3);
  ts.startGroup(3);
  await ts.ctrler.changeConfigTo(last);
  await ts.checkConfig(last);
  await checkBig(bare, moving, 0, 'after group 3 took over the shards of group 2');
  // Reads straight to group 2, so that it snapshots after its deletes: the snapshot it took after the installs, with
  // every moved value in it, is not what it keeps.
  await snapshotNow(ts, 2);
  const [group1, group2] = await retainedBy(ts, [GID1, 2]);
  return { group1, group2 };
}

/** The lighter of two weighings (the second only when a group is over `bound`), by the heavier group of each. */
async function lighterRetained(ctx: Ctx, bound: number): Promise<Retained> {
  let lighter: Retained | undefined;
  const heavier = (r: Retained): number => Math.max(r.group1, r.group2);
  await lighterWeighing(bound, async () => {
    const r = await weigh(ctx);
    if (lighter === undefined || heavier(r) < heavier(lighter)) lighter = r;
    return heavier(r);
  });
  return lighter as Retained;
}

/** Fails when group 2, which received the moved shards by InstallShard and gave them to group 3, kept them. */
function checkGroup2(retained: number, moved: number, bound: number): void {
  if (retained > bound)
    fail(
      `group 2's ${GROUP_SERVERS} servers together still held ${(retained / 1e6).toFixed(2)} MB after the shards ` +
        `holding ${(moved / 1e6).toFixed(2)} MB of values, which they had received by InstallShard, moved on to ` +
        `group 3 and were deleted (weighed as the heap freed when group 2 crashed); expected under ` +
        `${(bound / 1e6).toFixed(2)} MB: a group that owns no shard keeps none of their keys. Likely causes: an ` +
        "installed shard's keys kept somewhere DeleteShard does not clear (the last InstallShard state, or its " +
        'arguments, kept per shard to recognise a repeat: compare the shard’s status and number instead), ' +
        'DeleteShard marking the shard gone but keeping its keys in memory (left out of the snapshot only), a ' +
        'frozen shard whose keys outlive the delete, or a Raft that keeps log entries in memory after they went ' +
        'into a snapshot (lab 6).',
    );
}

export const memDeletedShard: TestDefinition<Lab7Impl> = {
  name: 'TestMemDeletedShard5A',
  description:
    "after group 2 joins, group 1's servers no longer hold the moved shards' keys in memory (weighed on the heap, not the snapshot), nor do group 2's once group 3 takes over every shard group 2 received: DeleteShard frees them",
  async run(ctx: Ctx) {
    const moved = plan().moving.length * VALUE_BYTES;
    const bound = RETAINED_SHARE * moved;
    // Weighed once more on a fresh service when over the bound (suite/memory.ts): a heap reading can catch the
    // engine dropping its own caches; code that keeps the keys is over the bound both times.
    const retained = await lighterRetained(ctx, bound);
    ctx.log(
      `group 1's ${GROUP_SERVERS} servers held ${(retained.group1 / 1e6).toFixed(2)} MB and group 2's ` +
        `${(retained.group2 / 1e6).toFixed(2)} MB after ${(moved / 1e6).toFixed(2)} MB of values moved away from them`,
    );
    if (retained.group1 > bound)
      fail(
        `group 1's ${GROUP_SERVERS} servers together still held ${(retained.group1 / 1e6).toFixed(2)} MB after the ` +
          `shards holding ${(moved / 1e6).toFixed(2)} MB of values moved to group 2 and were deleted (weighed as the ` +
          `heap freed when group 1 crashed); expected under ${(bound / 1e6).toFixed(2)} MB. Likely causes: ` +
          'DeleteShard marking the shard gone but keeping its keys in memory (left out of the snapshot only), a ' +
          'frozen shard whose keys outlive the delete, or a Raft that keeps log entries in memory after they went ' +
          'into a snapshot (lab 6).',
      );
    checkGroup2(retained.group2, moved, bound);
  },
};
