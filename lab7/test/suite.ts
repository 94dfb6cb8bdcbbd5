/**
 * Lab 7's named tests: MIT 6.5840's Lab 5 tests by their names (5A and 5B here, 5C in ctrlers.ts), the kit's own
 * (scenarios.ts, memory.ts) and the attackers (nemesis.ts), each in its own simulated world, so a seed replays it
 * exactly: npm run grade lab7 -- --test <Name> --seed <N>
 */
import { BUILDS_ON, IMPL_FILES, load } from '../load';
import { LabSuite, scored, TestContext, TestDefinition, within, type Monitors } from '../../suite';
import { monitored } from '../../suite/monitors';
import { keyedRng } from '../../world/rng';
import { sleep } from '../../world';
import { GID1, key2shard, NSHARDS, NUM_FIRST } from '../shardcfg';
import { ELECTION_TIMEOUT_MS } from '../../lab6/test/harness';
import { EARLIER_LABS, fail, keysCoveringShards, Lab7Impl, laneSender, ShardTester } from './harness';
import { checkAll, promptly, putAll, runClerks, Written } from './workload';
import {
  acquireLockConcurrentUnreliable,
  concurrentReliable,
  lateStore5C,
  lostClaim,
  partitionControllerJoin,
  staleClaim5C,
  stuckAfterLeave,
  stuckDelete5C,
  stuckFreeze5C,
  stuckJoinGroupDown,
  partitionRecoveryReliableClerks,
  partitionRecoveryReliableNoClerk,
  partitionRecoveryUnreliableClerks,
  partitionRecoveryUnreliableNoClerk,
} from './ctrlers';
import { emptyConfig, lateDelete, lateInstall, putAcrossMove, writeAcrossFreeze } from './scenarios';
import { checkOwnership, snapshotNow } from './direct';
import { memDeletedShard } from './memory';
import { DELETE, FREEZE, INSTALL } from './ctrler-rules';
import { modelShards } from './model';
import { nemesisShards, nemesisShardsSnapshots } from './nemesis';

type Ctx = TestContext<Lab7Impl>;

/** Value size in TestDeleteBasic5A (characters): large, so that a shard's keys dominate a snapshot. */
const BIG_VALUE = 3000;
/** maxRaftState where a test needs snapshots (as in lab 6's snapshot tests). */
const SNAPSHOTS = 1000;

const initQuery: TestDefinition<Lab7Impl> = {
  name: 'TestInitQuery5A',
  description:
    'the first configuration is stored, and a new controller reads it back: number 1, group 1 owns every shard',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const cfg = await ts.makeCtrler().query();
    const bad =
      cfg.num !== NUM_FIRST ||
      cfg.shards.some((g) => g !== GID1) ||
      cfg.servers(GID1).join() !== ts.servers(GID1).join();
    if (bad)
      fail(
        `after initConfig(the first configuration), query() returned ${cfg.toString()}; expected configuration ` +
          `${NUM_FIRST} with every shard owned by group ${GID1}. Likely causes: initConfig not storing the ` +
          'configuration (config.toString()) in the key/value service, or query() not reading it back with ' +
          'ShardConfig.fromString. ' +
          EARLIER_LABS,
      );
  },
};

const staticOneShardGroup: TestDefinition<Lab7Impl> = {
  name: 'TestStaticOneShardGroup5A',
  description: 'one group serves every shard: puts and gets work, and a group shut down and restarted keeps the keys',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    const first = await ts.setup();
    // Straight to group 1's servers first: a group that refuses the shards it owns fails here with a clear message.
    await checkOwnership(ts, first, 'once the first configuration was stored (group 1 owns every shard)');
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await checkAll(ck, keys, written, 'before any put');
    await putAll(ck, keys, written, 'a');
    await checkAll(ck, keys, written, 'after the puts');
    ts.shutdownGroup(GID1);
    await sleep(ELECTION_TIMEOUT_MS);
    ts.restartGroup(GID1);
    await checkAll(ck, keys, written, 'after group 1 was shut down and restarted');
    await putAll(ck, keys, written, 'b');
    ts.checkLinearizable();
  },
};

const joinBasic: TestDefinition<Lab7Impl> = {
  name: 'TestJoinBasic5A',
  description: 'group 2 joins: half the shards move with their keys, and group 2 serves them with group 1 shut down',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards(2);
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    const cfg = await ts.join([2]);
    await checkAll(ck, keys, written, 'after group 2 joined');
    await putAll(ck, keys, written, 'b');
    // Group 2's shards must be served by group 2 alone.
    const moved = keys.filter((k) => cfg.shards[key2shard(k)] === 2);
    ts.shutdownGroup(GID1);
    await checkAll(ck, moved, written, "with group 1 shut down, for a key of group 2's shards");
    ts.checkLinearizable();
  },
};

/** The share of the values it received by InstallShard that group 2 may still save once it left and gave them back. */
const LEFT_SHARE = 0.25;

/**
 * Group 2, which received its shards by InstallShard and then left (every one of them moved back to group 1 and was
 * deleted at group 2), snapshots once more: what it saves must not hold the `moved` characters it gave back.
 */
async function checkLeftSaved(ts: ShardTester, moved: number): Promise<void> {
  await snapshotNow(ts, 2);
  await sleep(ELECTION_TIMEOUT_MS);
  const size = ts.group(2).savedSize();
  ts.log(`group 2's saved state after it left: ${size} characters (values it received and gave back: ${moved})`);
  if (size > LEFT_SHARE * moved)
    fail(
      `group 2 received half the shards by InstallShard and then left (every one of them moved back to group 1 and ` +
        `was deleted at group 2), yet its latest saved state (Raft state and snapshot) is ${size} characters, with ` +
        `${moved} characters of values given back; expected under ${LEFT_SHARE * moved}: a group that owns no shard ` +
        "keeps none of their keys. Likely causes: an installed shard's keys kept somewhere DeleteShard does not " +
        'clear (the last InstallShard state kept per shard to recognise a repeat: compare the shard’s status and ' +
        'number instead), DeleteShard not applied (or not called by the controller), deleted shards still written ' +
        'into the snapshot or the Raft state, or a Get answered from the server’s own state without going through ' +
        'the RSM (the tester’s gets, each an entry of the log, are what make group 2 snapshot again).',
    );
}

const deleteBasic: TestDefinition<Lab7Impl> = {
  name: 'TestDeleteBasic5A',
  description:
    'after group 2 joins, what group 1 saves (snapshots and Raft state) no longer holds the shards that moved, and once group 2 leaves, what it saves holds none of the shards it received and gave back: DeleteShard frees them',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx, { maxRaftState: SNAPSHOTS });
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards(2);
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a', BIG_VALUE);
    const all = ts.group(GID1).savedSize();
    const cfg = await ts.join([2]);
    // Small puts to group 1's own keys, so that it snapshots again after the deletes.
    const stay = keys.filter((k) => cfg.shards[key2shard(k)] === GID1);
    for (let round = 0; round < 3; round++) await putAll(ck, stay, written, `s${round}`, BIG_VALUE);
    const after = ts.group(GID1).savedSize();
    ctx.log(`group 1's saved state: ${all} characters with every shard, ${after} after the join`);
    // What group 1's snapshot keeps is bounded by what it still owns, not only by what it held before: ballast in
    // the first snapshot cannot buy room for the deleted shards.
    const kept = stay.length * BIG_VALUE;
    const moved = (keys.length - stay.length) * BIG_VALUE;
    const snapshot = ts.group(GID1).snapshotSize();
    ctx.log(`group 1's largest snapshot after the join: ${snapshot} characters (its own values: ${kept})`);
    if (snapshot > kept + moved / 2)
      fail(
        `group 1's largest snapshot is ${snapshot} characters after half its shards moved to group 2: its own keys' ` +
          `values take ${kept}, and those of the shards it gave away ${moved}. Expected under ` +
          `${kept + moved / 2}: a deleted shard's keys must be gone. Likely causes: DeleteShard not applied (or not ` +
          'called by the controller), a frozen shard whose keys are kept after the delete, a snapshot (or a Raft ' +
          'state) that still includes deleted shards, or old values of a key kept beside its latest.',
      );
    if (after > 0.75 * all)
      fail(
        `group 1's largest saved state (Raft state and snapshot) is ${after} characters after half its shards moved to ` +
          `group 2; with every shard ` +
          `it was ${all}. Expected well under ${Math.round(0.75 * all)}: a deleted shard's keys must be gone. Likely ` +
          'causes: DeleteShard not applied (or not called by the controller), a frozen shard whose keys are kept ' +
          'after the delete, or a snapshot (or a Raft state) that still includes deleted shards.',
      );
    await checkAll(ck, keys, written, 'after the join');
    await ts.leave([2]);
    await checkLeftSaved(ts, moved);
    await checkAll(ck, keys, written, 'after group 2 left');
  },
};

const joinLeaveBasic: TestDefinition<Lab7Impl> = {
  name: 'TestJoinLeaveBasic5A',
  description: 'group 2 joins and group 1 leaves: every key is then served by group 2, also with group 1 shut down',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    await ts.join([2]);
    await putAll(ck, keys, written, 'b');
    const cfg = await ts.leave([GID1]);
    if (cfg.shardsOf(2).length !== NSHARDS) fail(`after group 1 left, group 2 owns ${cfg.shardsOf(2).length} shards.`);
    await checkAll(ck, keys, written, 'after group 1 left');
    ts.shutdownGroup(GID1);
    await checkAll(ck, keys, written, 'with group 1 (which left) shut down');
    await putAll(ck, keys, written, 'c');
    ts.checkLinearizable();
  },
};

/** Joins and leaves of MIT's many-join-leave tests: groups 2 to 4 join, then leave and rejoin in turn. */
async function manyJoinLeave(ctx: Ctx, unreliable: boolean): Promise<void> {
  // Each group has three or five servers (drawn): the servers a configuration lists are all there is to a group.
  const sizes = keyedRng(ctx.seed, 'group-sizes');
  const ts = new ShardTester(ctx, { unreliable, groupSize: () => (sizes.int(2) === 0 ? 5 : 3) });
  await ts.setup();
  const ck = ts.makeClerk();
  const keys = keysCoveringShards();
  const written: Written = new Map();
  await putAll(ck, keys, written, 'a');
  const steps: Array<['join' | 'leave', number]> = [
    ['join', 2],
    ['join', 3],
    ['join', 4],
    ['leave', 1],
    ['leave', 3],
    ['join', 1],
    ['leave', 2],
    ['join', 3],
  ];
  for (const [what, gid] of steps) {
    if (what === 'join') await ts.join([gid]);
    else await ts.leave([gid]);
    await checkAll(ck, keys, written, `after group ${gid} ${what === 'join' ? 'joined' : 'left'}`);
    await putAll(ck, keys, written, `${what}${gid}`);
  }
  ts.checkLinearizable();
}

const manyJoinLeaveReliable: TestDefinition<Lab7Impl> = {
  name: 'TestManyJoinLeaveReliable5A',
  description:
    'eight joins and leaves (a group leaves and joins again), groups of three or five servers: every key keeps its value and version',
  run: (ctx: Ctx) => manyJoinLeave(ctx, false),
};

const manyJoinLeaveUnreliable: TestDefinition<Lab7Impl> = {
  name: 'TestManyJoinLeaveUnreliable5A',
  description: 'the same eight joins and leaves on a network that loses and delays messages',
  run: (ctx: Ctx) => manyJoinLeave(ctx, true),
};

const shutdown: TestDefinition<Lab7Impl> = {
  name: 'TestShutdown5A',
  description:
    'three groups share the shards; every server is shut down and restarted from its snapshot: every key is still there, and a clerk with the first configuration is turned away from shards that moved',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx, { maxRaftState: SNAPSHOTS });
    await ts.setup();
    const ck = ts.makeClerk();
    // A clerk that read configuration 1 and then slept through the joins.
    const sleeper = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await checkAll(sleeper, keys, written, 'before any put');
    await ts.join([2]);
    await ts.join([3]);
    await putAll(ck, keys, written, 'a');
    for (const gid of [1, 2, 3]) ts.shutdownGroup(gid);
    await sleep(ELECTION_TIMEOUT_MS);
    for (const gid of [1, 2, 3]) ts.restartGroup(gid);
    await checkAll(ck, keys, written, 'after every group was shut down and restarted');
    // Group 1 must still know which shards it gave away: the sleeping clerk's puts must reach their new owners.
    await putAll(sleeper, keys, written, 'b');
    await checkAll(ck, keys, written, 'after a clerk with configuration 1 wrote every key (restarted groups)');
    ts.checkLinearizable();
  },
};

/** Time an operation on a live group may take while another group is down or a move is stuck (virtual ms). */
const PROGRESS_MS = 2000;
/**
 * Time a clerk whose configuration names a group that left and was shut down may take to reach its keys' new owners
 * (virtual ms): about a second of rounds without an answer before it gives up, then the configuration read again.
 */
const GONE_GROUP_MS = 3000;

const progressShutdown: TestDefinition<Lab7Impl> = {
  name: 'TestProgressShutdown5A',
  description: `with group 3 shut down, gets and puts of the other groups' shards go on promptly; then group 3 leaves and is shut down for good, and a clerk that still has the configuration naming it reaches its keys' new owners within ${GONE_GROUP_MS / 1000} s`,
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await ts.join([2]);
    const cfg = await ts.join([3]);
    await putAll(ck, keys, written, 'a');
    ts.shutdownGroup(3);
    const live = keys.filter((k) => cfg.shards[key2shard(k)] !== 3);
    await promptly(checkAll(ck, live, written, 'with group 3 shut down'), PROGRESS_MS, 'reading the live groups’ keys');
    await promptly(putAll(ck, live, written, 'b'), PROGRESS_MS, 'writing the live groups’ keys');
    ts.restartGroup(3);
    await ts.leave([3]);
    ts.shutdownGroup(3, false);
    // ck still has the configuration in which group 3 owns these keys' shards.
    const gone = keys.filter((k) => cfg.shards[key2shard(k)] === 3);
    await within(
      checkAll(ck, gone, written, 'after group 3 left and was shut down'),
      GONE_GROUP_MS,
      () =>
        `a clerk whose configuration still names group 3 read the keys of group 3's old shards after group 3 left and ` +
        `was shut down for good, and did not finish within ${GONE_GROUP_MS / 1000} s. Expected it to give up on group ` +
        '3 after about a second of rounds of its servers without any answer (an ErrWrongLeader is an answer, a ' +
        'TimeoutError is not), read the configuration again and go to the new owners. Likely causes: a clerk ' +
        'waiting for ever on such a group, or for many more rounds than a few (patience counted in dozens of rounds, ' +
        'or in seconds well past one); a pause between rounds far longer than about 100 ms. ' +
        EARLIER_LABS,
    );
    ts.checkLinearizable();
  },
};

const progressJoin: TestDefinition<Lab7Impl> = {
  name: 'TestProgressJoin5A',
  description: 'while a join waits on a new group that is down, the shards that do not move keep being served',
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    const cfg = await ts.join([2]);
    await putAll(ck, keys, written, 'a');
    ts.startGroup(3);
    ts.shutdownGroup(3);
    const next = cfg.join(new Map([[3, ts.servers(3)]]));
    const joining = ts.background(ts.ctrler.changeConfigTo(next));
    await sleep(500);
    const still = keys.filter((k) => cfg.shards[key2shard(k)] === next.shards[key2shard(k)]);
    await promptly(checkAll(ck, still, written, 'while group 3 joins'), PROGRESS_MS, 'reading keys whose shards stay');
    await promptly(putAll(ck, still, written, 'b'), PROGRESS_MS, 'writing keys whose shards stay');
    ts.restartGroup(3);
    await joining;
    await ts.checkConfig(next);
    await checkAll(ck, keys, written, 'after group 3 joined');
    ts.checkLinearizable();
  },
};

/** MIT's concurrent-clerk tests: clerks race on shared keys while groups join and leave; judged per key. */
async function concurrentClerks(ctx: Ctx, clerks: number, unreliable: boolean): Promise<void> {
  const ts = new ShardTester(ctx, { unreliable });
  await ts.setup();
  let stop = false;
  const running = runClerks(
    ts,
    Array.from({ length: clerks }, () => ts.makeClerk()),
    () => stop,
  );
  await sleep(300);
  for (const gid of [2, 3]) {
    await ts.join([gid]);
    await sleep(300);
  }
  await ts.leave([GID1]);
  await sleep(300);
  await ts.join([GID1]);
  await ts.leave([2]);
  await sleep(300);
  stop = true;
  const ops = await running;
  ctx.log(`${ops} operations by ${clerks} clerks`);
  if (ops === 0) fail('the clerks made no operation at all while the shards moved.');
  ts.checkLinearizable();
}

const oneConcurrentClerkReliable: TestDefinition<Lab7Impl> = {
  name: 'TestOneConcurrentClerkReliable5A',
  description: 'one clerk reads and writes while groups join and leave: its history is linearizable key by key',
  run: (ctx: Ctx) => concurrentClerks(ctx, 1, false),
};

const manyConcurrentClerkReliable: TestDefinition<Lab7Impl> = {
  name: 'TestManyConcurrentClerkReliable5A',
  description: 'ten clerks race on twenty keys while groups join and leave: linearizable key by key',
  run: (ctx: Ctx) => concurrentClerks(ctx, 10, false),
};

const oneConcurrentClerkUnreliable: TestDefinition<Lab7Impl> = {
  name: 'TestOneConcurrentClerkUnreliable5A',
  description: 'one clerk while groups join and leave, on a network that loses and delays messages',
  run: (ctx: Ctx) => concurrentClerks(ctx, 1, true),
};

const manyConcurrentClerkUnreliable: TestDefinition<Lab7Impl> = {
  name: 'TestManyConcurrentClerkUnreliable5A',
  description: 'ten clerks while groups join and leave, on a network that loses and delays messages',
  run: (ctx: Ctx) => concurrentClerks(ctx, 10, true),
};

// ---- Part 2 (MIT 5B): a change that survives the controller ----

/**
 * How long TestJoinLeave5B keeps group 1 down while the join waits (drawn), virtual ms: longer than any wait after
 * which a controller might give up on a silent group (a few seconds, half a minute), since it must never give up.
 */
const DOWN_MS: readonly [number, number] = [30_000, 120_000];

const joinLeave5B: TestDefinition<Lab7Impl> = {
  name: 'TestJoinLeave5B',
  description: `a join waits while the old owner is down (${DOWN_MS[0] / 1000}-${DOWN_MS[1] / 1000} s) and finishes once it is back; then only the keys of a group that is down wait`,
  // The group's outage (up to two minutes) and what follows.
  virtualLimitMs: DOWN_MS[1] + 120_000,
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    ts.shutdownGroup(GID1);
    let done = false;
    const joining = ts.background(ts.join([2]).then((cfg) => ((done = true), cfg)));
    // Down for a while, drawn per seed (a controller keeps trying however long the group is down).
    const downMs = keyedRng(ctx.seed, 'join-leave-down').between(DOWN_MS[0], DOWN_MS[1]);
    await sleep(downMs);
    if (done)
      fail(
        `the join of group 2 finished while group 1, which owned every shard, was shut down (for ${(downMs / 1000).toFixed(1)} s). ` +
          'Expected it to wait: no shard can move before its old owner freezes it. Likely causes: a FreezeShard ' +
          'error taken for success, the configuration stored without the moves, or a controller that gives up on a ' +
          'group after some rounds without an answer (keep trying: the group comes back).',
      );
    ts.restartGroup(GID1);
    const cfg = await promptly(joining, 10_000, 'the join, once group 1 was back,');
    ts.shutdownGroup(2);
    const live = keys.filter((k) => cfg.shards[key2shard(k)] === GID1);
    await promptly(checkAll(ck, live, written, 'with group 2 shut down'), PROGRESS_MS, "reading group 1's keys");
    ts.restartGroup(2);
    await checkAll(ck, keys, written, 'after group 2 was restarted');
    ts.checkLinearizable();
  },
};

/** Times a doomed controller runs before the tester cuts it off (virtual ms): before, during and after its moves. */
const KILL_AFTER_MS = [0, 5, 20, 60, 150];

const recoverCtrler5B: TestDefinition<Lab7Impl> = {
  name: 'TestRecoverCtrler5B',
  description:
    "five controllers are cut off in the middle of a join or a leave; each time a new one's initController finishes the change, and every key is served",
  async run(ctx: Ctx) {
    const ts = new ShardTester(ctx);
    await ts.setup();
    await ts.join([2]);
    const ck = ts.makeClerk();
    const keys = keysCoveringShards();
    const written: Written = new Map();
    await putAll(ck, keys, written, 'a');
    for (const [round, ms] of KILL_AFTER_MS.entries()) {
      const old = await ts.ctrler.query();
      ts.startGroup(3);
      const next = old.has(3) ? old.leave([3]) : old.join(new Map([[3, ts.servers(3)]]));
      const doomed = ts.makeCtrler();
      void doomed.changeConfigTo(next).catch(() => undefined);
      await sleep(ms + Math.floor(Math.random() * 10));
      ts.killCtrler(doomed);
      const fresh = ts.makeCtrler();
      await promptly(fresh.initController(), 10_000, `round ${round + 1}: initController`);
      const now = await fresh.query();
      if (now.num !== old.num && now.num !== next.num)
        fail(
          `round ${round + 1}: after initController the configuration is number ${now.num}; expected ${old.num} or ${next.num}.`,
        );
      if (now.num === old.num && ts.sentFreeze(doomed))
        fail(
          `round ${round + 1}: the cut-off controller had sent FreezeShard for configuration ${next.num}, but after ` +
            `a new controller's initController() the configuration is still ${old.num}. Expected initController to ` +
            'finish the change (a frozen shard is served by nobody until it does). Likely causes: the configuration ' +
            'being moved to not stored before the first move, or initController not looking for it.',
        );
      // A change the doomed controller never started is the tester's to make.
      if (now.num === old.num) await fresh.changeConfigTo(next);
      await ts.checkConfig(next);
      await promptly(checkAll(ck, keys, written, `round ${round + 1}, after recovery`), 10_000, 'reading every key');
      await putAll(ck, keys, written, `r${round}`);
    }
    ts.checkLinearizable();
  },
};

/** The clerk's pause after ErrWrongGroup before it tries the same server again: at least this (the handout says about 50 ms). */
const WRONG_GROUP_PAUSE_MIN_MS = 10;
/** The most the clerk's pauses after ErrWrongGroup may last, as a median: from the answer to the same call sent again, ms. */
const WRONG_GROUP_PAUSE_MAX_MEDIAN_MS = 500;
/** Why a clerk's pauses after ErrWrongGroup run long, for a student. */
const WRONG_GROUP_SLOW_CAUSES =
  `a pause far longer than the handout's "about 50 ms" after ErrWrongGroup (a median of at most ` +
  `${WRONG_GROUP_PAUSE_MAX_MEDIAN_MS} ms, from the answer to the same call sent again to any group): while a ` +
  'shard moves, every call to it waits that long for nothing; or a pause that grows with each ErrWrongGroup (a ' +
  'back-off), whether it is never reset or starts again for each call';
/** The least pause the tester accepts after a whole round of a group's servers without an answer, ms (lab 6's). */
const ROUND_PAUSE_MIN_MS = 10;
/** The most a clerk's pauses after whole rounds may last on average, ms (the handout says about 100). */
const ROUND_PAUSE_MAX_MEDIAN_MS = 500;

/**
 * What the runner's monitors hold MIT's concurrent-clerk tests to, where clerks race while shards move
 * (suite/monitors): the timers live at the end, and the clerk's pause after ErrWrongGroup before it sends the same call to the same server again (while a
 * shard is frozen and its new configuration not stored yet, a clerk that does not pause loops on the group and on
 * the configuration's server as fast as they answer).
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 4,
    perCall: 2,
    causes:
      'a wait of the clerk, the group clerk or the controller made with setTimeout and never cleared or awaited; ' +
      "lab 6's causes: a submit's leadership check (setInterval) not cleared when the submit returns, an election or " +
      'heartbeat timer set again without clearing the one before, timers left running by kill()',
  },
  pacing: [
    {
      rule: `when the group answers ErrWrongGroup waits a little (about 50 ms; the tester requires at least ${WRONG_GROUP_PAUSE_MIN_MS}) and reads the configuration again`,
      methods: ['KVServer.Get', 'KVServer.Put'],
      refusals: ['ErrWrongGroup'],
      refusalsOnly: true,
      after: 'each',
      minWaitMs: WRONG_GROUP_PAUSE_MIN_MS,
      causes:
        'the clerk reads the configuration again at once after ErrWrongGroup and, finding it unchanged (the shard is ' +
        'frozen and the move not stored yet), sends the call to the same server again: no pause (at least ' +
        `${WRONG_GROUP_PAUSE_MIN_MS} ms; about 50 ms is plenty), a pause whose promise is not awaited, or a pause ` +
        'only after the group clerk gives up on a group that does not answer',
    },
    {
      rule: `when the group answers ErrWrongGroup waits a little (about 50 ms; half of such pauses no longer than ${WRONG_GROUP_PAUSE_MAX_MEDIAN_MS} ms) and reads the configuration again`,
      methods: ['KVServer.Get', 'KVServer.Put'],
      refusals: ['ErrWrongGroup'],
      refusalsOnly: true,
      after: 'each',
      by: laneSender,
      maxMedianWaitMs: WRONG_GROUP_PAUSE_MAX_MEDIAN_MS,
      samples: 2,
      causes: WRONG_GROUP_SLOW_CAUSES,
      slowCauses: WRONG_GROUP_SLOW_CAUSES,
    },
    {
      rule: `the group clerk, as lab 6's clerk, tries the next server after ErrWrongLeader or a TimeoutError, and after a whole round of the group's servers without an answer waits a little (about 100 ms; the tester requires at least ${ROUND_PAUSE_MIN_MS})`,
      methods: ['KVServer.Get', 'KVServer.Put', FREEZE, INSTALL, DELETE],
      refusals: ['ErrWrongLeader'],
      after: 'round',
      minWaitMs: ROUND_PAUSE_MIN_MS,
      maxMedianWaitMs: ROUND_PAUSE_MAX_MEDIAN_MS,
      samples: 3,
      slowCauses: `a pause far longer than the handout's "about 100 ms" after a whole round (a median of at most ${ROUND_PAUSE_MAX_MEDIAN_MS} ms): while a new leader is elected, every call waits that long for nothing; or a pause that grows with each round (a back-off), whether it is never reset or starts again for each call`,
      causes:
        'the group clerk asks a server again at once after it answered ErrWrongLeader or was lost (the next try goes ' +
        'to the next server), or goes round the group again with no pause after a whole round (at least ' +
        `${ROUND_PAUSE_MIN_MS} ms; about 100 ms is plenty), for a get or put or for the controller's FreezeShard, ` +
        'InstallShard and DeleteShard alike (a pause in get and put only), or a pause whose promise is not awaited',
    },
  ],
};

/**
 * Lab 7's named tests with their points and the handout's part after which each first passes: MIT's 5A, 5B and 5C
 * tests, the kit's own scenarios for rules MIT's tests leave unchecked, and the generic attackers.
 */
export const suite: LabSuite<Lab7Impl> = {
  lab: 'lab7',
  title: 'Lab 7: a sharded key/value service on Raft groups',
  implFiles: IMPL_FILES,
  buildsOn: BUILDS_ON,
  load,
  tests: [
    scored(initQuery, { points: 3, part: 1 }),
    scored(staticOneShardGroup, { points: 3, part: 1 }),
    scored(joinBasic, { points: 3, part: 1 }),
    scored(deleteBasic, { points: 3, part: 1 }),
    scored(joinLeaveBasic, { points: 3, part: 1 }),
    scored(manyJoinLeaveReliable, { points: 3, part: 1 }),
    scored(manyJoinLeaveUnreliable, { points: 3, part: 1 }),
    scored(shutdown, { points: 3, part: 1 }),
    scored(progressShutdown, { points: 3, part: 1 }),
    scored(progressJoin, { points: 3, part: 1 }),
    ...monitored(MONITORS, [
      scored(oneConcurrentClerkReliable, { points: 3, part: 1 }),
      scored(manyConcurrentClerkReliable, { points: 3, part: 1 }),
      scored(oneConcurrentClerkUnreliable, { points: 3, part: 1 }),
      scored(manyConcurrentClerkUnreliable, { points: 3, part: 1 }),
    ]),
    scored(writeAcrossFreeze, { points: 2, part: 1 }),
    scored(putAcrossMove, { points: 2, part: 1 }),
    scored(lateInstall, { points: 2, part: 1 }),
    scored(lateDelete, { points: 2, part: 1 }),
    scored(emptyConfig, { points: 2, part: 1 }),
    scored(memDeletedShard, { points: 2, part: 1 }),
    scored(modelShards, { points: 2, part: 1 }),
    scored(joinLeave5B, { points: 5, part: 2 }),
    scored(recoverCtrler5B, { points: 5, part: 2 }),
    scored(concurrentReliable, { points: 2, part: 3 }),
    scored(acquireLockConcurrentUnreliable, { points: 2, part: 3 }),
    ...monitored(MONITORS, [scored(partitionControllerJoin, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(stuckAfterLeave, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(stuckJoinGroupDown, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(stuckDelete5C, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(stuckFreeze5C, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(partitionRecoveryReliableNoClerk, { points: 2, part: 3 })]),
    ...monitored(MONITORS, [scored(partitionRecoveryUnreliableNoClerk, { points: 2, part: 3 })]),
    scored(partitionRecoveryReliableClerks, { points: 2, part: 3 }),
    scored(partitionRecoveryUnreliableClerks, { points: 2, part: 3 }),
    scored(lostClaim, { points: 2, part: 3 }),
    scored(lateStore5C, { points: 2, part: 3 }),
    scored(staleClaim5C, { points: 2, part: 3 }),
    scored(nemesisShards, { points: 3, part: 3 }),
    scored(nemesisShardsSnapshots, { points: 3, part: 3 }),
  ],
};
