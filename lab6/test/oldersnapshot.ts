/** Lab 6's older-snapshot test: a follower already ahead of the leader's snapshot is sent that snapshot, and must not go back. */
import { keyedRng, sleep } from '../../world';
import type { Rng } from '../../world';
import { TestDefinition, TestContext } from '../../suite';
import { Lab6Impl, RaftTester, SNAPSHOT_INTERVAL, peerName } from './harness';

type Ctx = TestContext<Lab6Impl>;

/** Rounds per run, each on the leader of the moment and a follower drawn per seed; in the last, the snapshot is late. */
const ROUNDS = 4;
/** Batches of commands a round starts at most while waiting for the leader to send its snapshot. */
const BATCHES = 4;
/** Bounds of the delay, drawn per seed, between an apply at a snapshot point and the tester's snapshot() (virtual ms). */
const MIN_DELAY_MS = 150;
const MAX_DELAY_MS = 400;

/** A fresh command (a whole number, as MIT's tests use). */
function command(rng: Rng): number {
  return rng.int(2 ** 31);
}

/** What a round did: on which leader and follower, and whether the leader sent that follower its snapshot. */
interface Round {
  leader: number;
  follower: number;
  sent: boolean;
}

/**
 * One round: the follower's replies to the leader's AppendEntries are held, so the leader keeps an old nextIndex for
 * it while the follower takes every entry and applies what the leader commits; batches of commands cross snapshot
 * points, and the tester's snapshots come late, so the follower has applied past the leader's next snapshot point
 * when the leader, short of the entries at that nextIndex, sends it that snapshot. The tester's apply check fails a
 * follower that hands its service the older snapshot. With `late`, that snapshot is lost on the wire instead, and a
 * copy of it arrives later (see lateCopy); the tester asks the follower for no snapshot of its own until then, so
 * that the copy is newer than the follower's snapshot. Reports whether the leader sent the follower a snapshot (it
 * must: the entry at the follower's nextIndex is gone from its log).
 */
async function round(ctx: Ctx, ts: RaftTester, rng: Rng, delayMs: number, late: boolean): Promise<Round> {
  const leader = await ts.checkOneLeader();
  const follower = (leader + 1 + rng.int(ts.n - 1)) % ts.n;
  let snapshot: { method: string; request: unknown } | undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let delivered: () => void = () => undefined;
  if (late) ts.holdSnapshots(follower, new Promise<void>((resolve) => (delivered = resolve)));
  ts.onCall = (from, to, method, request) => {
    if (from !== leader || to !== follower) return undefined;
    if (/AppendEntries$/.test(method)) return { release: released };
    if (!/InstallSnapshot$/.test(method)) return undefined;
    snapshot ??= { method, request };
    return late ? { lose: true } : undefined;
  };
  for (let b = 0; b < BATCHES && snapshot === undefined; b++) {
    const size = SNAPSHOT_INTERVAL / 2 + rng.int(SNAPSHOT_INTERVAL);
    for (let k = 0; k < size; k++) ts.peer(leader)?.start(command(rng));
    await ts.one(command(rng), ts.n - 1, true);
    await sleep(delayMs + rng.int(200));
  }
  release();
  ts.onCall = undefined;
  await ts.one(command(rng), ts.n, true);
  if (late && snapshot !== undefined) await lateCopy(ctx, ts, rng, { leader, follower, snapshot, delivered });
  delivered();
  return { leader, follower, sent: snapshot !== undefined };
}

/**
 * The late copy: the follower's log has moved past the lost snapshot (its held replies came in, so the leader sent it
 * entries again). The third peer is cut off while a few commands commit on the leader and the follower alone; then
 * the copy of the snapshot reaches the follower. Its log holds the snapshot's last entry, so it must keep the entries
 * after it (Figure 13, step 6). The leader is then cut off and the third peer comes back: a follower that dropped
 * those entries would vote in the third peer, which lacks them and writes other commands at their indexes, and the
 * tester's apply check sees two commands at one index.
 */
async function lateCopy(
  ctx: Ctx,
  ts: RaftTester,
  rng: Rng,
  round: { leader: number; follower: number; snapshot: { method: string; request: unknown }; delivered: () => void },
): Promise<void> {
  const { leader, follower, snapshot, delivered } = round;
  const others = [...Array(ts.n).keys()].filter((i) => i !== leader && i !== follower);
  for (const i of others) ts.disconnect(i);
  const commands = 1 + rng.int(3);
  for (let k = 0; k < commands; k++) await ts.one(command(rng), 2, true);
  ctx.log(
    `the copy of ${peerName(leader)}'s lost snapshot reaches ${peerName(follower)} after ${commands} more commands ` +
      `committed on the two of them (${others.map(peerName).join(', ')} cut off)`,
  );
  await ts.deliverLate(leader, follower, snapshot.method, snapshot.request);
  delivered();
  ts.disconnect(leader);
  for (const i of others) ts.connect(i);
  await ts.one(command(rng), 2, true);
  ts.connect(leader);
  await ts.one(command(rng), ts.n, true);
}

export const olderSnapshot: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotOlderThanApplied',
  description: `three peers, ${ROUNDS} rounds: a follower's replies to the leader are held while batches of commands commit and the tester snapshots late (each peer at its own points; the delay drawn per seed, ${MIN_DELAY_MS}-${MAX_DELAY_MS} ms), so the leader must send it a snapshot, older than what it applied: it must not hand that to its service; in the last round that snapshot is lost and a copy arrives after more commands committed on the leader and the follower alone: the follower must keep the entries after it`,
  async run(ctx: Ctx) {
    const rng = keyedRng(ctx.seed, 'lab6-older-snapshot');
    const delayMs = rng.between(MIN_DELAY_MS, MAX_DELAY_MS);
    const ts = new RaftTester(ctx, { servers: 3, snapshots: true, snapshotDelayMs: delayMs });
    ctx.log(`the tester calls snapshot() ${delayMs} ms after each peer applies one of its snapshot points`);
    await ts.one(command(rng), ts.n, true);
    for (let r = 0; r < ROUNDS; r++) {
      const { leader, follower, sent } = await round(ctx, ts, rng, delayMs, r === ROUNDS - 1);
      if (!sent)
        ts.fail(
          `round ${r}: ${peerName(follower)}'s replies to ${peerName(leader)} were held, so the leader's nextIndex for ` +
            `it stayed where it was while ${BATCHES} batches of commands crossed snapshot points, and the leader never ` +
            'sent it a Raft.InstallSnapshot. Expected one once the entry at that nextIndex was gone from the ' +
            "leader's log (Figure 13: the leader sends its snapshot to a follower whose next entry it discarded). " +
            'Likely causes: a leader that moves nextIndex forward without an answer from the follower (past its ' +
            'snapshot, say), snapshot() that does not trim the log, or InstallSnapshot sent only after a refusal.',
        );
      ctx.log(
        `round ${r}: ${peerName(follower)}'s replies to ${peerName(leader)} held; the leader sent it a snapshot` +
          (r === ROUNDS - 1 ? ' (lost, and its copy delivered late)' : ''),
      );
    }
  },
};
