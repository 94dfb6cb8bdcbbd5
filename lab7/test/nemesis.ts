/**
 * Lab 7's generic attackers: clerks reading and writing many keys (some at the edges: "__proto__", the empty key,
 * numeric-looking, non-ASCII) while the nemesis crashes, restarts and cuts off shard group servers, crashes whole
 * groups, joins new groups and has groups leave through controllers that race one another, and cuts controllers
 * off in the middle of a change (some come back, some never do), and late copies of old shard RPCs arrive, under
 * lost, delayed and reordered messages.
 * Judged only by the service's promises once the faults heal: every call finished; a history linearizable key by
 * key, with every key read back at the end (no acknowledged write lost); every shard served by the group the stored
 * configuration names and by no other; a controller that can still change the configuration; with snapshots,
 * saved Raft state within bounds.
 */
import { keyedRng, sleep, World, type Rng } from '../../world';
import { within, type TestContext, type TestDefinition } from '../../suite';
import { mayDisturb } from '../../suite/nemesis/disturbance';
import { applyPlan, drawPlan, healNetwork, type NetworkPlan } from '../../suite/nemesis/plan';
import { EDGE_KEYS, edgeKeys, edgeValue } from '../../suite/nemesis/values';
import { ELECTION_TIMEOUT_MS, showCommand } from '../../lab6/test/harness';
import { LOG_SLACK, type RecordingClerk } from '../../lab6/test/kvharness';
import type { Controller } from '../rpc';
import { GID1, key2shard, NSHARDS, type Gid } from '../shardcfg';
import { EARLIER_LABS, fail, keysCoveringShards, type Lab7Impl, ShardTester } from './harness';
import { callGroup, checkOwnership, snapshotNow } from './direct';

type Ctx = TestContext<Lab7Impl>;

/** Rounds per graded run (each a fresh service): rounds 0-3 each meet one kind of network fault (drawPlan). */
const ROUNDS = 4;
/** Virtual time the calls in flight may take once the faults heal. */
const HEAL_MS = 30_000;
/** Controller changes the nemesis keeps in flight at most. */
const MAX_CHANGES = 3;
/** A run's virtual time: four rounds of up to 6 s of faults, the heal and the checks after each. */
const VIRTUAL_LIMIT_MS = 240_000;
/** Groups in the configuration when the faults begin. */
const START_GROUPS = 3;
/** maxRaftState of the attacker with snapshots. */
const SNAPSHOTS = 1000;

/** One controller change the nemesis started: through a controller of its own, which it may cut off. */
interface Change {
  c: Controller;
  /** 'cut': cut off for now (it comes back at the latest when the faults heal); 'dead': cut off for good. */
  state: 'running' | 'cut' | 'dead';
  done: Promise<void>;
}

/** One round of an attack: the service, its random draws, and what the nemesis did and started. */
interface Round {
  ctx: Ctx;
  /** The round's number, for messages. */
  r: number;
  ts: ShardTester;
  rng: Rng;
  /** "name#round", which keys the round's other random streams. */
  key: string;
  actions: string[];
  changes: Change[];
  /** Groups shut down for good once they had left. */
  exited: Set<Gid>;
  /** False once the faults heal: timers the nemesis set then do nothing. */
  faulty: boolean;
}

/** The running groups the nemesis may disturb: started, not shut down for good. */
function live(rd: Round): Gid[] {
  return [...rd.ts.groups.keys()].filter((g) => !rd.exited.has(g));
}

/** Puts the round's network plan on every network: lab 2's and each group's, as each group starts. */
function planNetworks(rd: Round, plan: NetworkPlan): string {
  const line = applyPlan(rd.ts.kvNet, plan, keyedRng(rd.ctx.seed, `${rd.key}/net-kv`), 400);
  const onStart = (gid: Gid, group: { net: Parameters<typeof applyPlan>[0] }): void =>
    void applyPlan(group.net, plan, keyedRng(rd.ctx.seed, `${rd.key}/net-g${gid}`), 800);
  for (const [gid, group] of rd.ts.groups) onStart(gid, group);
  rd.ts.onGroupStart = onStart;
  return line;
}

/**
 * A change through a new controller of its own (initController first): a new group joins, or a group the
 * configuration has (not the last) leaves and, half the time, is shut down for good once it left.
 */
function startChange(rd: Round, kind: 'join' | 'leave', n: number): Change {
  const { ts } = rd;
  const c = ts.makeCtrler();
  const crng = keyedRng(rd.ctx.seed, `${rd.key}/change${n}`);
  const run = async (): Promise<void> => {
    await c.initController();
    if (kind === 'join') {
      await ts.joinThrough(c, ts.newGid());
      return;
    }
    // Computed from the configuration read here: never the last group (a configuration without groups drops every
    // key), and if another change was stored meanwhile, the controller refuses this one as stale.
    const cfg = await c.query();
    if (cfg.gids().length < 2) return;
    const gid = crng.pick(cfg.gids());
    await ts.changeThrough(c, cfg.leave([gid]));
    if (!(await c.query()).has(gid) && crng.chance(0.5) && !rd.exited.has(gid)) {
      rd.exited.add(gid);
      ts.shutdownGroup(gid);
    }
  };
  const change: Change = { c, state: 'running', done: ts.background(run()) };
  rd.changes.push(change);
  return change;
}

/** The changes whose controllers still run (cut off or not) and have not finished. */
function inFlight(rd: Round): Change[] {
  return rd.changes.filter((ch) => ch.state !== 'dead');
}

/** The nemesis's disturbances of controllers: a change, several racing, or a controller cut off mid-change. */
function disturbCtrlers(rd: Round, what: number): void {
  const { rng, ts } = rd;
  const running = rd.changes.filter((ch) => ch.state === 'running');
  if (what < 30) {
    const kind = rng.chance(0.5) ? 'join' : 'leave';
    if (running.length < MAX_CHANGES && mayDisturb(rd.actions, `a controller's ${kind}`))
      startChange(rd, kind, rd.changes.length);
  } else if (what < 55) {
    const kinds = Array.from({ length: 2 + rng.int(2) }, (): 'join' | 'leave' => (rng.chance(0.5) ? 'join' : 'leave'));
    if (running.length === 0 && mayDisturb(rd.actions, `${kinds.length} controllers racing: ${kinds.join(', ')}`))
      for (const kind of kinds) startChange(rd, kind, rd.changes.length);
  } else if (running.length > 0) {
    const ch = rng.pick(running);
    const back = rng.chance(0.6) ? 200 + rng.int(1500) : undefined;
    const id = rd.changes.indexOf(ch);
    if (!mayDisturb(rd.actions, `cut off controller ${id}${back === undefined ? ' for good' : ` for ${back} ms`}`))
      return;
    ts.killCtrler(ch.c);
    ch.state = back === undefined ? 'dead' : 'cut';
    if (back !== undefined)
      setTimeout(() => {
        if (!rd.faulty || ch.state !== 'cut') return;
        ts.reviveCtrler(ch.c);
        ch.state = 'running';
      }, back);
  }
}

/** The nemesis's disturbances of groups: a server crashed, restarted or cut off; a whole group down for a while. */
function disturbGroups(rd: Round, what: number): void {
  const { rng, ts } = rd;
  const gids = live(rd);
  if (gids.length === 0) return;
  const gid = rng.pick(gids);
  const g = ts.group(gid);
  const size = ts.size(gid);
  const i = rng.int(size);
  if (what < 25) {
    if (g.isRunning(i) && mayDisturb(rd.actions, `crash g${gid}-${i}`)) g.crash1(i);
  } else if (what < 60) {
    // A server that is down or cut off, if the group has one.
    const away = Array.from({ length: size }, (_, k) => k).filter((k) => !g.isRunning(k) || !g.isConnected(k));
    const k = away.length > 0 ? rng.pick(away) : i;
    if (!mayDisturb(rd.actions, `restart/reconnect g${gid}-${k}`)) return;
    if (g.isRunning(k)) g.connect(k);
    else g.restart(k);
  } else if (what < 80) {
    if (mayDisturb(rd.actions, `cut off g${gid}-${i}`)) g.disconnect(i);
  } else {
    const back = 300 + rng.int(1500);
    if (!mayDisturb(rd.actions, `group ${gid} down for ${back} ms`)) return;
    ts.shutdownGroup(gid);
    setTimeout(() => {
      if (rd.faulty && !rd.exited.has(gid)) ts.restartGroup(gid);
    }, back);
  }
}

/**
 * A late copy of a shard RPC some controller sent earlier in the round, delivered again to its group's leader (as a
 * network that duplicates and delays a message would): a correct group refuses it or changes nothing.
 */
function lateCopy(rd: Round): void {
  const { rng, ts } = rd;
  if (ts.shardRpcs.length === 0) return;
  // From the older half: a copy of a recent move is most often a harmless repeat, one of an older move a stale one.
  const r = rng.pick(ts.shardRpcs.slice(0, Math.ceil(ts.shardRpcs.length / 2)));
  const gid = Number(/^g(\d+)-/.exec(r.server)?.[1]);
  const label = `${r.method.replace('KVServer.', '')}(shard ${String(r.shard)}, configuration ${String(r.num)})`;
  if (rd.exited.has(gid) || !mayDisturb(rd.actions, `a late copy of ${label} to group ${gid}`)) return;
  const args =
    r.method === 'KVServer.InstallShard'
      ? { shard: r.shard, state: r.state, num: r.num }
      : { shard: r.shard, num: r.num };
  // Its answer goes nowhere; a group that does not answer within callGroup's time simply never got it.
  void callGroup(ts, gid, r.method, args).catch(() => undefined);
}

/** What a clerk's tasks share with the round: when to stop. */
interface TaskControl {
  over: boolean;
}

/** One task: gets and versioned puts on `keys` through `ck`, with the versions it saw (sometimes one off). */
async function task(ck: RecordingClerk, keys: readonly string[], rng: Rng, stop: TaskControl): Promise<void> {
  const seen = new Map<string, number>();
  let n = 0;
  while (!stop.over) {
    const key = rng.pick(keys);
    if (rng.chance(0.4)) {
      const r = await ck.get(key);
      seen.set(key, r.err === 'OK' ? r.version : 0);
    } else {
      const known = seen.get(key) ?? 0;
      const version = rng.pick([known, known, known, Math.max(0, known - 1), known + 1]);
      const err = await ck.put(key, edgeValue(rng, n++, { hugeBytes: 512 }), version);
      if (err === 'OK') seen.set(key, version + 1);
    }
    if (rng.chance(0.3)) await sleep(rng.int(20));
  }
}

/** Ends the faults: reliable networks, every group that has not left for good running whole, cut-off controllers back. */
function healAll(rd: Round): void {
  const { ts } = rd;
  rd.faulty = false;
  ts.onGroupStart = undefined;
  healNetwork(ts.kvNet);
  for (const gid of ts.groups.keys()) {
    const g = ts.group(gid);
    healNetwork(g.net);
    if (rd.exited.has(gid)) continue;
    g.healLinks();
    g.reviveAll();
  }
  for (const ch of rd.changes)
    if (ch.state === 'cut') {
      ts.reviveCtrler(ch.c);
      ch.state = 'running';
    }
}

/**
 * After the heal: every change of a controller that was not cut off for good finishes; a new controller's
 * initController finishes any change a dead one left, and a new group can still join through it.
 */
async function settleCtrlers(rd: Round): Promise<void> {
  const { ts } = rd;
  const late = (what: string) => (): string =>
    `Round ${rd.r}: ${what} did not finish within ${HEAL_MS / 1000} virtual seconds after every server was back and the ` +
    'networks reliable. Expected controllers to finish once nothing stops them. Likely causes: a controller ' +
    'waiting for a claim another controller left (the next configuration must be claimed by one conditional put, ' +
    'which a new controller can finish), a move waiting on a group that left and was shut down, or a controller ' +
    'that retries a refused RPC (ErrOldConfig) for ever. ' +
    EARLIER_LABS;
  await within(Promise.all(inFlight(rd).map((ch) => ch.done)), HEAL_MS, late('a controller change'));
  const fresh = ts.makeCtrler();
  await within(fresh.initController(), HEAL_MS, late("a new controller's initController"));
  const gid = ts.newGid();
  const joined = await within(ts.joinThrough(fresh, gid), HEAL_MS, late('a join through a new controller'));
  if (!joined)
    fail(
      `Round ${rd.r}: after the faults healed, a new controller alone asked for group ${gid} to join, and its query then did not ` +
        'list it. Expected a controller with no rival to change the configuration. Likely causes: a claim that ' +
        'fails because of a change a cut-off controller left (initController must finish it first), or a ' +
        'changeConfigTo that returns early.',
    );
}

/** Every key read back by a new clerk (the reads join the history, so a lost write shows there). */
async function readBack(rd: Round, keys: readonly string[]): Promise<void> {
  const reader = rd.ts.makeClerk();
  for (const key of keys)
    await within(
      reader.get(key),
      HEAL_MS,
      () => `Round ${rd.r}: a read of ${showCommand(key)} after the faults healed did not return.`,
    );
}

/** With snapshots, every running group's saved Raft state within LOG_SLACK times maxRaftState. */
function checkSizes(rd: Round, maxRaftState: number): void {
  if (maxRaftState <= 0) return;
  for (const gid of live(rd)) {
    const size = rd.ts.group(gid).logSize();
    if (size > LOG_SLACK * maxRaftState)
      fail(
        `group ${gid}'s saved Raft state is ${size} characters; with maxRaftState ${maxRaftState} it must stay within ` +
          `${LOG_SLACK * maxRaftState}. Likely causes: the RSM never asking Raft to snapshot, or a snapshot() that ` +
          'fails to shrink (lab 6, part 7).',
      );
  }
}

/** One round: a fresh service, clerks and the nemesis for a while, then the heal and the judgement. */
async function round(ctx: Ctx, r: number, maxRaftState: number, name: string): Promise<void> {
  const key = `${name}#${r}`;
  const rng = keyedRng(ctx.seed, key);
  // One group in three has five servers, the rest three: code that assumes a group's size meets another.
  const sizes = keyedRng(ctx.seed, `${key}/group-sizes`);
  const ts = new ShardTester(ctx, { maxRaftState, groupSize: () => (sizes.int(3) === 0 ? 5 : 3) });
  const rd: Round = { ctx, r, ts, rng, key, actions: [], changes: [], exited: new Set(), faulty: true };
  await ts.setup();
  // Three groups to begin with, so that shards move between running groups from the first change on.
  for (let k = 0; k < START_GROUPS - 1; k++) await ts.join([ts.newGid()]);
  const network = planNetworks(rd, drawPlan(rng, r));
  const keys = [...new Set(['__proto__', '', ...edgeKeys(rng, 6)])];
  const stop: TaskControl = { over: false };
  const clerks = [ts.makeClerk(), ts.makeClerk(), ts.makeClerk()];
  const users = [...clerks, ts.shareClerk(clerks[0], 1000)];
  const tasks = users.map((ck, k) => ts.background(task(ck, keys, keyedRng(ctx.seed, `${key}/task${k}`), stop)));
  const faultMs = 3000 + rng.int(3000);
  const t0 = World.current().now();
  while (World.current().now() - t0 < faultMs) {
    await sleep(50 + rng.int(300));
    const what = rng.int(100);
    if (what < 42) disturbCtrlers(rd, rng.int(100));
    else if (what < 80) disturbGroups(rd, rng.int(100));
    else lateCopy(rd);
  }
  ctx.log(`round ${r}: ${network}; ${rd.actions.length} disturbances: ${rd.actions.join('; ')}`);
  healAll(rd);
  // The clerks finish their last calls while the controllers settle: more traffic would only lengthen the logs.
  stop.over = true;
  await settleCtrlers(rd);
  await within(
    Promise.all(tasks),
    HEAL_MS,
    () =>
      `Round ${r}: ${HEAL_MS / 1000} virtual seconds after every server was back, the networks reliable and the ` +
      'controllers done, some clerk calls had still not returned. Expected every call to finish soon after the ' +
      'faults stop. Likely causes: a clerk that waits for ever on a group that left and was shut down (give up ' +
      'after a while and read the configuration again), a clerk that never reads the configuration again after ' +
      'ErrWrongGroup, or a shard nobody serves (a move left unfinished). ' +
      EARLIER_LABS,
  );
  await readBack(rd, keys);
  ts.checkLinearizable();
  await checkOwnership(ts, await ts.ctrler.query(), `Round ${r}, after the faults healed`);
  checkSizes(rd, maxRaftState);
  for (const gid of ts.groups.keys()) ts.shutdownGroup(gid);
}

/** How long the doomed controller of the last round runs before it is cut off, its installs stuck (virtual ms). */
const DOOMED_MS = 500;

/**
 * The last round, after the random ones: every edge key put once with an edge value; group 2 joins; then a
 * controller asking group 1 to leave (every key's shard moves) freezes group 1's shards and is cut off for good
 * while group 2 is down (its installs stuck); group 1 snapshots, if it may, and every server of both groups restarts
 * from what it saved; a new controller's initController finishes the move from the frozen shards as restored, and
 * every key must read back as it was put.
 */
async function frozenRoundTrip(ctx: Ctx, maxRaftState: number, name: string): Promise<void> {
  const rng = keyedRng(ctx.seed, `${name}/round-trip`);
  const ts = new ShardTester(ctx, { maxRaftState });
  await ts.setup();
  await ts.join([2]);
  const ck = ts.makeClerk();
  let n = 0;
  for (const key of EDGE_KEYS) await ck.put(key, edgeValue(rng, n++, { hugeBytes: 512 }), 0);
  // Bulk on group 1's own shards: what it must no longer hold once they moved away.
  const bulk = keysCoveringShards().filter((k) => key2shard(k) < NSHARDS / 2);
  const bulkRng = keyedRng(ctx.seed, `${name}/bulk`); // random values: none kept in less than its size
  for (const key of bulk) {
    const head = `${n++}-`;
    await ck.put(key, head + bulkRng.text(BULK_BYTES - head.length), 0);
  }
  const doomed = ts.makeCtrler();
  ts.shutdownGroup(2);
  void ts.leaveThrough(doomed, GID1).catch(() => undefined);
  await sleep(DOOMED_MS);
  ts.killCtrler(doomed);
  await snapshotNow(ts, GID1);
  for (const gid of [GID1, 2]) {
    ts.shutdownGroup(gid);
    ts.restartGroup(gid);
  }
  const fresh = ts.makeCtrler();
  await within(
    fresh.initController(),
    HEAL_MS,
    () => "The last round: a new controller's initController did not finish.",
  );
  await within(ts.leaveThrough(fresh, GID1), HEAL_MS, () => 'The last round: group 1 did not leave.');
  const reader = ts.makeClerk();
  for (const key of EDGE_KEYS)
    await within(reader.get(key), HEAL_MS, () => `The last round: a read of ${showCommand(key)} did not return.`);
  ts.checkLinearizable();
  if (maxRaftState > 0) await checkLeftSnapshot(ts, bulk.length * BULK_BYTES);
  for (const gid of ts.groups.keys()) ts.shutdownGroup(gid);
}

/** Characters of each bulk value of the last round, and the share of them group 1 may still hold once it left. */
const BULK_BYTES = 4000;
const LEFT_SHARE = 0.25;

/** Group 1, which left, snapshots once more: what it saves must not hold the `moved` characters it gave away. */
async function checkLeftSnapshot(ts: ShardTester, moved: number): Promise<void> {
  await snapshotNow(ts, GID1);
  await sleep(ELECTION_TIMEOUT_MS);
  const size = ts.group(GID1).savedSize();
  if (size > LEFT_SHARE * moved)
    fail(
      `The last round: group 1 left (every shard it had moved to group 2 and was deleted there), yet its latest ` +
        `saved state (Raft state and snapshot) is ${size} characters, with ${moved} characters of values moved away; ` +
        `expected under ` +
        `${LEFT_SHARE * moved}. Likely causes: DeleteShard not freeing the shard's keys (or never sent by the ` +
        'controller that finishes a move); deleted shards still written into the snapshot or the Raft state; or a Get ' +
        'answered from ' +
        'the server’s own state without going through the RSM (the tester’s gets, each an entry of the log, are ' +
        'what make group 1 snapshot again).',
    );
}

/** TestNemesisShards5C: the sharded service under random faults of its groups, controllers and networks. */
export const nemesisShards: TestDefinition<Lab7Impl> = {
  name: 'TestNemesisShards5C',
  description: `${ROUNDS} rounds of clerks reading and writing edge keys and values while group servers are crashed, restarted and cut off, whole groups go down, groups join and leave through controllers that race and are cut off mid-change (some for good), late copies of old shard RPCs arrive, under lost, delayed and reordered messages: once the faults heal, every call finished, a linearizable history key by key with every key read back, each shard served by its owner alone, and a new controller still able to change the configuration; then a move finished from shards frozen by a controller cut off for good, after a restart of their old owner`,
  generic: true,
  virtualLimitMs: VIRTUAL_LIMIT_MS,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, -1, 'nemesis-shards');
    await frozenRoundTrip(ctx, -1, 'nemesis-shards');
  },
};

/** TestNemesisShardsSnapshots5C: the same with snapshots (maxRaftState 1000). */
export const nemesisShardsSnapshots: TestDefinition<Lab7Impl> = {
  name: 'TestNemesisShardsSnapshots5C',
  description: `the same ${ROUNDS} rounds and last round with snapshots (maxRaftState ${SNAPSHOTS}): the promises above, every group's saved Raft state within ${LOG_SLACK} times maxRaftState, and a group that left holding none of the keys it gave away`,
  generic: true,
  virtualLimitMs: VIRTUAL_LIMIT_MS,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, SNAPSHOTS, 'nemesis-shards-snapshots');
    await frozenRoundTrip(ctx, SNAPSHOTS, 'nemesis-shards-snapshots');
  },
};
