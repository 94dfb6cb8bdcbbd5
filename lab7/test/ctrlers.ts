/**
 * Lab 7's part 3 tests (MIT's 5C): several controllers changing the configuration at once, and a controller cut off
 * in the middle of a change, superseded by a new one, and then reconnected.
 */
import { within, type TestContext, type TestDefinition } from '../../suite';
import { sleep } from '../../world';
import type { Controller } from '../rpc';
import { TimeoutError } from '../../labrpc';
import { GID1, key2shard, NSHARDS, type Gid } from '../shardcfg';
import { EARLIER_LABS, fail, interceptCalls, keysCoveringShards, type Lab7Impl, ShardTester } from './harness';
import { checkOwnership } from './direct';
import { DELETE, FREEZE } from './ctrler-rules';
import { checkAll, putAll, runClerks, type Written } from './workload';

type Ctx = TestContext<Lab7Impl>;

/** MIT's pause between two changes of one controller (INTERGRPDELAY, virtual ms). */
const INTER_GROUP_MS = 200;
/** Controllers racing in the concurrent tests, and for how long (MIT's N and NSEC). */
const RACING_CTRLERS = 4;
const RACING_MS = 2000;
/** Time a controller, or the tester's reads, may take once nothing stops it any more (virtual ms). */
const SETTLE_MS = 10_000;
/** Time the reads of every key may take while a reconnected controller goes on moving shards (virtual ms). */
const READ_MS = 60_000;
/** Virtual time of a partition-recovery test: rounds of about 4 s, each with reads that may take READ_MS. */
const PARTITION_LIMIT_MS = 360_000;

/** Fails unless `op` ends within SETTLE_MS; `what` names it for the message. */
function settles<T>(op: Promise<T>, what: string, ms = SETTLE_MS): Promise<T> {
  return within(
    op,
    ms,
    () =>
      `${what} did not finish within ${ms / 1000} s, every group that has not left running. Expected it to finish ` +
      'once nothing stops it. Likely causes: a shard frozen that nobody serves (a ' +
      'change claimed by a controller that was cut off, which initController must finish); a controller waiting ' +
      'for ever on a group that left and was shut down (give up once the stored configuration has reached your ' +
      'number); a clerk waiting for ever on such a group (give up after a while and read the configuration again); ' +
      'a controller waiting for a lock that a cut-off controller holds; two controllers that both moved shards for ' +
      'configurations of one number (a claim must refuse a number another controller claimed); or a controller ' +
      'that came back storing its configuration over a newer one (store at the version read before the moves, and ' +
      'only once every move went through). ' +
      EARLIER_LABS,
  );
}

/** What the tests of part 3 share: the tester, a clerk, and the keys it wrote (none in the tests with clerks racing). */
interface Setup {
  ts: ShardTester;
  ck: ReturnType<ShardTester['makeClerk']>;
  keys: string[];
  written: Written;
}

/** MIT's setup of part 3: group 1, a clerk, and (unless `clerks`) a value put to two keys of every shard. */
async function setup(ctx: Ctx, unreliable: boolean, withKeys = true): Promise<Setup> {
  const ts = new ShardTester(ctx, { unreliable });
  await ts.setup();
  const ck = ts.makeClerk();
  const keys = withKeys ? keysCoveringShards(2) : [];
  const written: Written = new Map();
  await putAll(ck, keys, written, 'a');
  return { ts, ck, keys, written };
}

/** Every key reads back, and every shard is served by the group the stored configuration names and by no other. */
async function checkServed(s: Setup, when: string): Promise<void> {
  await settles(checkAll(s.ck, s.keys, s.written, when), `reading every key ${when}`);
  await checkOwnership(s.ts, await s.ts.ctrler.query(), when);
}

/**
 * MIT's concurCtrler: four workers, each making a new controller (initController first) that joins a new group
 * and, if the join went through, has it leave again, for two seconds. Only one controller may publish each
 * configuration; the others return without changing anything. Returns how many joins went through.
 */
async function raceCtrlers(ts: ShardTester): Promise<number> {
  let stop = false;
  let joined = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const gid = ts.newGid();
      const c = ts.makeCtrler();
      await c.initController();
      if (!(await ts.joinThrough(c, gid))) continue;
      joined++;
      await sleep(INTER_GROUP_MS);
      if (await ts.leaveThrough(c, gid)) ts.shutdownGroup(gid);
      await sleep(INTER_GROUP_MS);
    }
  };
  const workers = Promise.all(Array.from({ length: RACING_CTRLERS }, () => ts.background(worker())));
  await sleep(RACING_MS);
  stop = true;
  await settles(workers, 'the racing controllers’ last changes');
  return joined;
}

/** TestConcurrentReliable5C and TestAcquireLockConcurrentUnreliable5C. */
async function concurrent(ctx: Ctx, unreliable: boolean): Promise<void> {
  const s = await setup(ctx, unreliable);
  const joined = await raceCtrlers(s.ts);
  ctx.log(`${joined} joins went through among ${RACING_CTRLERS} racing controllers`);
  if (joined === 0)
    fail(
      `in ${RACING_MS / 1000} s, none of ${RACING_CTRLERS} racing controllers' joins went through. Expected one ` +
        'controller to win each configuration number while the others return. Likely causes: every controller ' +
        'giving up (a claim that fails for all, as with a put at a version never read), or one waiting for ever.',
    );
  await checkServed(s, `after ${RACING_CTRLERS} controllers raced`);
  s.ts.checkLinearizable();
}

export const concurrentReliable: TestDefinition<Lab7Impl> = {
  name: 'TestConcurrentReliable5C',
  description:
    'four controllers race for two seconds, each joining a new group and having it leave: one configuration per number, every key kept, each shard served by its owner alone',
  run: (ctx: Ctx) => concurrent(ctx, false),
};

export const acquireLockConcurrentUnreliable: TestDefinition<Lab7Impl> = {
  name: 'TestAcquireLockConcurrentUnreliable5C',
  description: 'the same race of four controllers on a network that loses and delays messages',
  run: (ctx: Ctx) => concurrent(ctx, true),
};

/** What a controller's loop of joins and leaves is doing (MIT's state and ngid): the change it asked for last. */
interface Doing {
  what: 'join' | 'leave' | undefined;
  gid: Gid;
  /** The number of the configuration it asked for (NOT_ASKED before it asks). */
  num: number;
}

/** The number of a change not asked for yet: no configuration has reached it. */
const NOT_ASKED = Number.POSITIVE_INFINITY;

/** MIT's loop of partitionCtrler: a new group joins and leaves through `c`, again and again, until a join fails. */
function joinsAndLeaves(ts: ShardTester, c: Controller, doing: Doing): Promise<void> {
  const asked = (next: { num: number }): void => void (doing.num = next.num);
  return ts.background(
    (async () => {
      for (;;) {
        // Until the change is asked for (its number known), it has not begun: nothing for a new controller to finish.
        Object.assign(doing, { gid: ts.newGid(), what: 'join', num: NOT_ASKED });
        if (!(await ts.joinThrough(c, doing.gid, asked))) return;
        await sleep(INTER_GROUP_MS);
        Object.assign(doing, { what: 'leave', num: NOT_ASKED });
        if (await ts.leaveThrough(c, doing.gid, asked)) ts.shutdownGroup(doing.gid);
        await sleep(INTER_GROUP_MS);
      }
    })(),
  );
}

/**
 * Fails unless configuration `now` (after a new controller's initController) is consistent with the change the
 * cut-off controller was making: done if it had sent a shard RPC for it (it had claimed the number), and in either
 * case the group is in the configuration exactly when the change was done for a join, or not done for a leave.
 */
function judgeRecovery(
  ts: ShardTester,
  cut: Controller,
  doing: Doing,
  now: { num: number; has(g: Gid): boolean },
): void {
  const done = now.num >= doing.num;
  if (!done && ts.sentShardRpc(cut, doing.num))
    fail(
      `the cut-off controller had sent shard RPCs for configuration ${doing.num} (the ${doing.what} of group ` +
        `${doing.gid}), but after a new controller's initController the configuration is still ${now.num}. Expected ` +
        'initController to finish a change that was under way. Likely causes: the configuration being moved to not ' +
        'stored before the first shard RPC, or initController not looking for it.',
    );
  if (now.has(doing.gid) !== (done === (doing.what === 'join')))
    fail(
      `after a new controller's initController, configuration ${now.num} ${now.has(doing.gid) ? 'lists' : 'does not list'} ` +
        `group ${doing.gid}, which the cut-off controller was asking to ${doing.what} (in configuration ` +
        `${doing.num}). Expected the ${doing.what} finished, or not started. Likely causes: initController storing a ` +
        'configuration other than the one the cut-off controller claimed, or two controllers publishing one number.',
    );
}

/**
 * MIT's partitionCtrler: a controller joins and leaves new groups; group 1 shuts down, so that it is stuck in a
 * change; it is cut off; group 1 restarts; a new controller's initController must finish that change; then the old
 * controller is reconnected (with `reconnect`: MIT's tests of part 3), which must change nothing more, and every
 * key must read back.
 */
async function partitionCtrler(s: Setup, round: number, reconnect: boolean): Promise<void> {
  const { ts } = s;
  const cut = ts.makeCtrler();
  await cut.initController();
  const num = (await ts.ctrler.query()).num;
  const doing: Doing = { what: undefined, gid: 0, num: 0 };
  void joinsAndLeaves(ts, cut, doing);
  await sleep(1000 + Math.floor(Math.random() * 400));
  ts.shutdownGroup(GID1);
  await sleep(1000);
  ts.killCtrler(cut);
  if (reconnect) await sleep(1000);
  ts.restartGroup(GID1);
  const fresh = ts.makeCtrler();
  await settles(fresh.initController(), `round ${round + 1}: the new controller's initController`);
  const now = await fresh.query();
  ts.log(
    `round ${round + 1}: the controller was cut off asking to ${doing.what} group ${doing.gid} (configuration ` +
      `${doing.num}); after a new controller's initController, configuration ${now.num} (${now.shards.join(',')})`,
  );
  if (now.num <= num)
    fail(
      `round ${round + 1}: after the cut-off controller ran its joins and leaves and a new controller's ` +
        `initController, the configuration is still number ${now.num}. Expected changes beyond ${num}. Likely ` +
        'causes: changeConfigTo returning without changing anything though no other controller ran.',
    );
  if (doing.what !== undefined) judgeRecovery(ts, cut, doing, now);
  if (now.has(doing.gid) && (await ts.leaveThrough(fresh, doing.gid))) ts.shutdownGroup(doing.gid);
  if (reconnect) {
    ts.reviveCtrler(cut);
    await sleep(100);
  }
  const when = `round ${round + 1}, after recovery`;
  // The old controller, back, may go on joining and removing groups meanwhile (as in MIT's test): shards move on.
  await settles(checkAll(s.ck, s.keys, s.written, when), `reading every key ${when}`, READ_MS);
  // MIT's DeleteClient: the old controller is gone for good; a new one finishes any change it left.
  ts.killCtrler(cut);
  await settles(ts.makeCtrler().initController(), `round ${round + 1}: initController after the old controller left`);
  await checkOwnership(ts, await ts.ctrler.query(), when);
}

/** The key the clerks race on: one of the shard a join moves first, so that it moves in every round. */
const MOVING_KEY = keysCoveringShards().find((k) => key2shard(k) === NSHARDS - 1) as string;

/** MIT's partitionRecovery5C: `rounds` cut-off controllers, with five clerks racing on one key or none. */
async function partitionRecovery(ctx: Ctx, unreliable: boolean, rounds: number, clerks: number): Promise<void> {
  const s = await setup(ctx, unreliable, clerks === 0);
  let stop = false;
  const racing =
    clerks > 0
      ? runClerks(
          s.ts,
          Array.from({ length: clerks }, () => s.ts.makeClerk()),
          () => stop,
          [MOVING_KEY],
        )
      : undefined;
  for (let round = 0; round < rounds; round++) await partitionCtrler(s, round, true);
  stop = true;
  if (racing === undefined) return;
  const ops = await settles(racing, 'the clerks’ last operations');
  ctx.log(`${ops} operations by ${clerks} clerks on one key`);
  s.ts.checkLinearizable();
}

/** How long the loser's lost put is held at most while the other controller changes the configuration (virtual ms). */
const CLAIM_HOLD_MS = 2000;
/** How long after the other controller's claim took effect the loser's lost put is let go (virtual ms). */
const CLAIM_LET_GO_MS = 5;

export const lostClaim: TestDefinition<Lab7Impl> = {
  name: 'TestLostClaim5C',
  description:
    "two controllers race for one configuration number; the first one's put of its configuration is lost on the way and sent again after the other's change: it must see that it lost (ErrMaybe is no win), and each shard is served by the winner's owner alone",
  async run(ctx: Ctx) {
    const s = await setup(ctx, false);
    const { ts } = s;
    const cfg = await ts.ctrler.query();
    const [ga, gb] = [ts.newGid(), ts.newGid()];
    const [nextA, nextB] = [ga, gb].map((g) => (ts.startGroup(g), cfg.join(new Map([[g, ts.servers(g)]]))));
    let held = (): void => undefined;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let armed = true;
    let lost = 0;
    // A's claim never leaves until B has had its turn, and then fails, as lost: every put of A's that lab 2's server
    // would carry out is held (whatever its key and value: a claim may be stored in any form); a put bound to be
    // refused goes through, so that a put A sends first cannot take the loss meant for its claim.
    const a = ts.makeCtrler((end) =>
      interceptCalls(end, async (send, method, args) => {
        if (!armed || method !== 'KVServer.Put' || !(await ts.wouldAccept(args))) return send();
        lost++;
        held();
        await released;
        throw new TimeoutError(method, end.name);
      }),
    );
    // B's claim: its first put that lab 2's server carries out. A's lost claim is let go (to fail, and be sent again)
    // soon after it, while B is still moving shards, so that A, if it took ErrMaybe for a win, moves them too.
    let bClaimed = (): void => undefined;
    const claimedByB = new Promise<void>((resolve) => (bClaimed = resolve));
    const b = ts.makeCtrler((end) =>
      interceptCalls(end, async (send, method, args) => {
        const claim = method === 'KVServer.Put' && (await ts.wouldAccept(args));
        const reply = await send();
        if (claim) bClaimed();
        return reply;
      }),
    );
    const changingA = ts.background(a.changeConfigTo(nextA));
    await Promise.race([holding, changingA]);
    if (lost === 0)
      fail(
        `the controller's changeConfigTo(configuration ${nextA.num}) returned without a KVServer.Put that lab 2's server would carry out. ` +
          'Expected it to claim and store the configuration it changes to (a put at the version it read) before it returns. ' +
          'Likely causes: the configuration not stored, or stored with a put bound to be refused.',
      );
    const changingB = ts.background(b.changeConfigTo(nextB));
    await Promise.race([changingB, claimedByB.then(() => sleep(CLAIM_LET_GO_MS)), sleep(CLAIM_HOLD_MS)]);
    armed = false;
    release();
    await settles(Promise.all([changingA, changingB]), 'the two controllers’ changes');
    const now = await ts.ctrler.query();
    if (now.toString() !== nextA.toString() && now.toString() !== nextB.toString())
      fail(
        `after two controllers raced for configuration ${nextA.num}, the stored configuration is ${now.toString()}; ` +
          'expected one of the two asked for. Likely causes: a claim of the number that two controllers both take.',
      );
    await checkServed(s, 'after two controllers raced, one of them with a lost put');
    s.ts.checkLinearizable();
  },
};

/**
 * A controller's reads of the configuration come back late: every reply to it that carries the stored configuration
 * is held while two other controllers change it twice (the second one's claim stays stored under the claim key).
 * Its claim then finds a number above its own: it must give up and change nothing, and no shard may be frozen for a
 * configuration nobody finishes (a new controller must still be able to change the configuration).
 */
async function staleClaim(ctx: Ctx): Promise<void> {
  const s = await setup(ctx, false);
  const { ts } = s;
  const cfg = await ts.ctrler.query();
  const stored = cfg.toString();
  const [gl, gw, gc] = [ts.newGid(), ts.newGid(), ts.newGid()];
  for (const g of [gl, gw, gc]) ts.startGroup(g);
  let armed = true;
  let held = 0;
  let holding = (): void => undefined;
  const late = new Promise<void>((resolve) => (holding = resolve));
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  // Every reply carrying the configuration as stored, whichever key it was read from, waits for the other two changes.
  const l = ts.makeCtrler((end) =>
    interceptCalls(end, async (send) => {
      const reply = await send();
      if (armed && (reply as { value?: unknown } | undefined)?.value === stored) {
        held++;
        holding();
        await released;
      }
      return reply;
    }),
  );
  const next = cfg.join(new Map([[gl, ts.servers(gl)]]));
  const changing = ts.background(l.changeConfigTo(next));
  await Promise.race([late, changing]);
  if (held === 0)
    fail(
      `the controller's changeConfigTo(configuration ${next.num}) returned without reading the stored configuration. ` +
        'Expected it to read the configuration (and its version) before it claims and moves anything.',
    );
  for (const gid of [gw, gc]) {
    const other = ts.makeCtrler();
    await settles(other.initController(), 'another controller’s initController');
    if (!(await ts.joinThrough(other, gid)))
      fail(`group ${gid} did not join through another controller. Expected its join to go through.`);
  }
  const before = await ts.ctrler.query();
  ts.log(`while the late controller waited, two others made configuration ${before.num}; its replies now arrive`);
  armed = false;
  release();
  await settles(changing, 'the late controller’s changeConfigTo');
  await sleep(1000);
  const after = await ts.ctrler.query();
  if (after.toString() !== before.toString())
    fail(
      `a controller asked for configuration ${next.num}, whose reads came back only after two others had made ` +
        `configuration ${before.num}, changed the stored configuration to number ${after.num}. Expected it to change ` +
        'nothing. Likely causes: a claim that gives up only when the stored claim has exactly its number (give up ' +
        'when it has next.num or more), or changes that go on after the claim failed.',
    );
  await checkServed(
    s,
    'after a controller whose reads came back late tried to change the configuration (its claim must give up when ' +
      'the stored claim has next.num or more, not only exactly its number)',
  );
  const fresh = ts.makeCtrler();
  await settles(fresh.initController(), 'a new controller’s initController');
  if (!(await ts.leaveThrough(fresh, gc)))
    fail(
      `group ${gc} did not leave through a new controller after the late controller returned. Expected the change ` +
        'to go through. Likely causes: a claim that gives up only when the stored claim has exactly its number, ' +
        'which wrote an older claim over a newer one.',
    );
  await checkServed(s, 'after one more change');
  ts.checkLinearizable();
}

export const staleClaim5C: TestDefinition<Lab7Impl> = {
  name: 'TestStaleClaim5C',
  description:
    'a controller whose reads of the configuration come back only after two other controllers changed it twice must give up (the stored claim has a higher number): it changes nothing, and the next change still goes through',
  run: staleClaim,
};

/**
 * A controller stuck in a leave at its first `method` (FreezeShard or DeleteShard): the leaving group is stopped the
 * moment that RPC goes out, so nothing after it is answered (for a delete, its freezes and installs were). It is cut
 * off; the group restarts; a new controller's initController finishes the leave; the group is shut down for good;
 * the old controller, reconnected, must see that the stored configuration reached its number, give up, and change
 * nothing.
 */
async function stuckInLeave(ctx: Ctx, method: typeof FREEZE | typeof DELETE): Promise<void> {
  const name = method.replace('KVServer.', '');
  const s = await setup(ctx, false);
  const { ts } = s;
  const gid = ts.newGid();
  if (!(await ts.joinThrough(ts.ctrler, gid))) fail(`group ${gid} did not join. Expected its join to go through.`);
  await putAll(s.ck, s.keys, s.written, 'b');
  const old = ts.makeCtrler();
  await old.initController();
  let stopped = false;
  ts.beforeShardRpc = (rpc) => {
    if (stopped || rpc.owner !== ts.ownerOf(old) || rpc.method !== method) return;
    stopped = true;
    ts.shutdownGroup(gid);
    ts.log(`group ${gid} was shut down as the controller's first ${name} (shard ${String(rpc.shard)}) went out`);
  };
  const leaving = ts.background(ts.leaveThrough(old, gid));
  for (let t = 0; !stopped && t < SETTLE_MS; t += 10) await sleep(10);
  ts.beforeShardRpc = undefined;
  if (!stopped)
    fail(
      `the controller asked to have group ${gid} leave sent no ${name} within ${SETTLE_MS / 1000} s. Expected ` +
        'it to freeze, install and then delete each shard the group gives away.',
    );
  await sleep(1000);
  ts.killCtrler(old);
  ts.restartGroup(gid);
  const fresh = ts.makeCtrler();
  await settles(fresh.initController(), 'the new controller’s initController');
  const now = await fresh.query();
  if (now.has(gid))
    fail(
      `after a new controller's initController, configuration ${now.num} still lists group ${gid}, whose leave the ` +
        'cut-off controller had claimed. Expected initController to finish the leave.',
    );
  ts.shutdownGroup(gid);
  ts.log(`group ${gid} left and was shut down for good before the old controller came back`);
  ts.reviveCtrler(old);
  await settles(leaving, 'the reconnected old controller’s changeConfigTo');
  await sleep(1000);
  const after = await fresh.query();
  if (after.num !== now.num)
    fail(
      `the old controller, reconnected after a new one had finished its leave (and the group was shut down since), ` +
        `changed the configuration from number ${now.num} to ${after.num}. Expected it to change nothing more and ` +
        'return.',
    );
  await checkServed(s, `after the old controller, stuck on its ${name}, was reconnected`);
  ts.checkLinearizable();
}

export const stuckDelete5C: TestDefinition<Lab7Impl> = {
  name: 'TestStuckDeleteAfterLeave5C',
  description:
    'a controller stuck in a leave on its DeleteShard (the leaving group stopped as the delete went out) is cut off; a new one finishes the leave; the group is shut down for good; the old one, reconnected, must give up on the delete, return, and change nothing',
  run: (ctx: Ctx) => stuckInLeave(ctx, DELETE),
};

export const stuckFreeze5C: TestDefinition<Lab7Impl> = {
  name: 'TestStuckFreezeAfterLeave5C',
  description:
    'a controller stuck in a leave on its first FreezeShard (the leaving group stopped as the freeze went out) is cut off; a new one finishes the leave; the group is shut down for good; the old one, reconnected, must give up on the freeze, return, and change nothing',
  run: (ctx: Ctx) => stuckInLeave(ctx, FREEZE),
};

/**
 * What happens to the joined group before the old controller of a stuck join comes back: nothing (it serves), it
 * leaves and is shut down for good (the stored configuration passed the old controller's number), or it is shut down
 * while still in the configuration (the stored configuration has reached that number, and no more).
 */
type StuckJoinEnding = 'serving' | 'left' | 'down';

/**
 * MIT's partitionCtrler of TestPartitionControllerJoin5C: a controller stuck installing shards at a joining group
 * that is down is cut off; a new one's initController finishes the join; every key is written again; the old one is
 * reconnected and must change nothing and return. When the joined group has left or is down by then (`ending`), the
 * old controller's install is never answered: it must see that the stored configuration reached its number and give
 * up.
 */
async function stuckJoin(ctx: Ctx, ending: StuckJoinEnding): Promise<void> {
  const s = await setup(ctx, false);
  const { ts } = s;
  const old = ts.makeCtrler();
  await old.initController();
  const gid = ts.newGid();
  ts.startGroup(gid);
  ts.shutdownGroup(gid);
  const joining = ts.background(ts.joinThrough(old, gid));
  await sleep(1000);
  ts.killCtrler(old);
  await sleep(1000);
  ts.restartGroup(gid);
  const fresh = ts.makeCtrler();
  await settles(fresh.initController(), 'the new controller’s initController');
  const now = await fresh.query();
  if (!now.has(gid))
    fail(
      `after a new controller's initController, configuration ${now.num} does not list group ${gid}, whose join ` +
        'the cut-off controller had started (it was stuck installing shards at that group, which was down). ' +
        'Expected initController to finish the join. Likely causes: the configuration being moved to not stored ' +
        'before the first shard RPC, or initController not finishing it.',
    );
  // Newer writes, which the old controller's late InstallShard (it was stuck sending one) must not undo.
  await putAll(s.ck, s.keys, s.written, 'b');
  if (ending === 'left') {
    if (!(await ts.leaveThrough(fresh, gid)))
      fail(`group ${gid} did not leave through a new controller. Expected its leave to go through.`);
    ts.shutdownGroup(gid);
    ts.log(`group ${gid} left and was shut down for good before the old controller came back`);
  }
  if (ending === 'down') {
    ts.shutdownGroup(gid);
    ts.log(`group ${gid}, still in configuration ${now.num}, was shut down before the old controller came back`);
  }
  const before = await fresh.query();
  ts.reviveCtrler(old);
  await settles(joining, 'the reconnected old controller’s changeConfigTo');
  if (ending === 'down') ts.restartGroup(gid);
  await sleep(1000);
  const after = await fresh.query();
  if (after.num !== before.num)
    fail(
      `the old controller, reconnected after a new one had finished its join${ending === 'left' ? ' (and the group had left since)' : ending === 'down' ? ' (and the group had been shut down since)' : ''}, ` +
        `changed the configuration from number ${before.num} to ${after.num}. Expected it to change nothing more and ` +
        'return. Likely causes: a controller that publishes its configuration without checking that the stored one ' +
        'is still the one it started from, or that goes on to another change after its own was finished by another.',
    );
  await checkServed(s, 'after the old controller was reconnected');
  ts.checkLinearizable();
}

/**
 * A controller cut off after its last move and before it stores the configuration (every call it makes to the
 * configuration store from then on is held); a new one's initController finishes the change, and it makes one more;
 * the old one's held calls then go through. Storing at the version read before the moves, it must change nothing.
 */
async function lateStore(ctx: Ctx): Promise<void> {
  const s = await setup(ctx, false);
  const { ts } = s;
  const cfg = await ts.ctrler.query();
  const gid = ts.newGid();
  ts.startGroup(gid);
  const next = cfg.join(new Map([[gid, ts.servers(gid)]]));
  const deletes = new Set(
    next.shards.flatMap((g, shard) => (cfg.shards[shard] !== 0 && g !== cfg.shards[shard] ? [shard] : [])),
  );
  let held = 0;
  let holding = (): void => undefined;
  const cutOff = new Promise<void>((resolve) => (holding = resolve));
  let reconnect = (): void => undefined;
  const reconnected = new Promise<void>((resolve) => (reconnect = resolve));
  const old = ts.makeCtrler((end) =>
    interceptCalls(end, async (send) => {
      if (ts.deletedShards(old, next.num).size < deletes.size) return send();
      held++;
      holding();
      await reconnected;
      return send();
    }),
  );
  const changing = ts.background(old.changeConfigTo(next));
  await Promise.race([cutOff, changing]);
  if (held === 0)
    fail(
      `the controller's changeConfigTo(configuration ${next.num}) returned without calling the configuration store ` +
        `after its DeleteShards of shards ${[...deletes].join(', ')} were answered OK. Expected it to store the ` +
        'configuration last, once every shard has moved (a conditional put at the version it read). Likely causes: ' +
        'the configuration stored before the moves, or not stored at all.',
    );
  const fresh = ts.makeCtrler();
  await settles(fresh.initController(), 'the new controller’s initController');
  const gid2 = ts.newGid();
  if (!(await ts.joinThrough(fresh, gid2)))
    fail(`group ${gid2} did not join through a new controller. Expected its join to go through.`);
  const before = await fresh.query();
  ts.log(`a new controller finished configuration ${next.num} and made ${before.num}; the old one is reconnected`);
  reconnect();
  await settles(changing, 'the reconnected old controller’s changeConfigTo');
  await sleep(1000);
  const after = await fresh.query();
  if (after.toString() !== before.toString())
    fail(
      `the old controller, cut off after its moves for configuration ${next.num} and reconnected after a new one had ` +
        `finished that change and made configuration ${before.num}, changed the stored configuration to number ` +
        `${after.num}. Expected it to change nothing. Likely causes: the configuration stored at a version read ` +
        'again after the moves (store at the version read before them, so that the put fails once another ' +
        'controller stored since), or a controller that goes on to another change after its own was finished by another.',
    );
  await checkServed(s, 'after the old controller was reconnected');
  ts.checkLinearizable();
}

export const lateStore5C: TestDefinition<Lab7Impl> = {
  name: 'TestLateStore5C',
  description:
    'a controller is cut off after its last move, before it stores the configuration; a new one finishes that change and makes one more; the old one, reconnected, must change nothing (it stores at the version it read before the moves)',
  run: lateStore,
};

export const partitionControllerJoin: TestDefinition<Lab7Impl> = {
  name: 'TestPartitionControllerJoin5C',
  description:
    'a controller stuck in a join (the new group is down) is cut off; a new one’s initController finishes the join; every key is written again; the old one, reconnected, changes nothing and returns',
  run: (ctx: Ctx) => stuckJoin(ctx, 'serving'),
};

export const stuckAfterLeave: TestDefinition<Lab7Impl> = {
  name: 'TestStuckJoinAfterLeave5C',
  description:
    'the same, but the joined group leaves and is shut down for good before the old controller is reconnected: its install is never answered, so it must give up once the stored configuration passed its number, return, and change nothing',
  run: (ctx: Ctx) => stuckJoin(ctx, 'left'),
};

export const stuckJoinGroupDown: TestDefinition<Lab7Impl> = {
  name: 'TestStuckJoinGroupDown5C',
  description:
    'as TestPartitionControllerJoin5C, but the joined group is shut down (still in the configuration) before the old controller is reconnected: the stored configuration has reached its number, so it must give up, return, and change nothing',
  run: (ctx: Ctx) => stuckJoin(ctx, 'down'),
};

export const partitionRecoveryReliableNoClerk: TestDefinition<Lab7Impl> = {
  name: 'TestPartitionRecoveryReliableNoClerk5C',
  description:
    'five times, a controller stuck in a join or leave (group 1 down) is cut off, a new one finishes its change, and the old one is reconnected: every key kept',
  virtualLimitMs: PARTITION_LIMIT_MS,
  run: (ctx: Ctx) => partitionRecovery(ctx, false, 5, 0),
};

export const partitionRecoveryUnreliableNoClerk: TestDefinition<Lab7Impl> = {
  name: 'TestPartitionRecoveryUnreliableNoClerk5C',
  description: 'the same three times on a network that loses and delays messages',
  virtualLimitMs: PARTITION_LIMIT_MS,
  run: (ctx: Ctx) => partitionRecovery(ctx, true, 3, 0),
};

export const partitionRecoveryReliableClerks: TestDefinition<Lab7Impl> = {
  name: 'TestPartitionRecoveryReliableClerks5C',
  description: 'five cut-off controllers while five clerks race on one key: linearizable',
  virtualLimitMs: PARTITION_LIMIT_MS,
  run: (ctx: Ctx) => partitionRecovery(ctx, false, 5, 5),
};

export const partitionRecoveryUnreliableClerks: TestDefinition<Lab7Impl> = {
  name: 'TestPartitionRecoveryUnreliableClerks5C',
  description:
    'three cut-off controllers while five clerks race on one key, on a network that loses and delays messages',
  virtualLimitMs: PARTITION_LIMIT_MS,
  run: (ctx: Ctx) => partitionRecovery(ctx, true, 3, 5),
};
