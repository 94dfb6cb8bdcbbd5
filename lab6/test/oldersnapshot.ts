/** Lab 6's older-snapshot test: a follower already ahead of the leader's snapshot is sent that snapshot, and must not go back. */
import { keyedRng, sleep } from '../../world';
import type { Rng } from '../../world';
import { TestDefinition, TestContext } from '../../suite';
import { Lab6Impl, RaftTester, SNAPSHOT_INTERVAL, peerName } from './harness';

type Ctx = TestContext<Lab6Impl>;

/** Rounds per run, each on the leader of the moment and a follower drawn per seed. */
const ROUNDS = 3;
/** Batches of commands a round starts at most while waiting for the leader to send its snapshot. */
const BATCHES = 4;
/** Bounds of the delay, drawn per seed, between an apply at a snapshot point and the tester's snapshot() (virtual ms). */
const MIN_DELAY_MS = 150;
const MAX_DELAY_MS = 400;

/** A fresh command (a whole number, as MIT's tests use). */
function command(rng: Rng): number {
  return rng.int(2 ** 31);
}

/**
 * One round: the follower's replies to the leader's AppendEntries are held, so the leader keeps an old nextIndex for
 * it while the follower takes every entry and applies what the leader commits; batches of commands cross snapshot
 * points, and the tester's snapshots come late, so the follower has applied past the leader's next snapshot point
 * when the leader, short of the entries at that nextIndex, sends it that snapshot. The tester's apply check fails a
 * follower that hands its service the older snapshot. Returns whether the leader sent the follower a snapshot (it
 * must: the entry at the follower's nextIndex is gone from its log).
 */
async function round(
  ts: RaftTester,
  rng: Rng,
  delayMs: number,
): Promise<{ leader: number; follower: number; sent: boolean }> {
  const leader = await ts.checkOneLeader();
  const follower = (leader + 1 + rng.int(ts.n - 1)) % ts.n;
  let sent = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  ts.onCall = (from, to, method) => {
    if (from !== leader || to !== follower) return undefined;
    if (/AppendEntries$/.test(method)) return { release: released };
    if (/InstallSnapshot$/.test(method)) sent = true;
    return undefined;
  };
  for (let b = 0; b < BATCHES && !sent; b++) {
    const size = SNAPSHOT_INTERVAL / 2 + rng.int(SNAPSHOT_INTERVAL);
    for (let k = 0; k < size; k++) ts.peer(leader)?.start(command(rng));
    await ts.one(command(rng), ts.n - 1, true);
    await sleep(delayMs + rng.int(200));
  }
  release();
  ts.onCall = undefined;
  await ts.one(command(rng), ts.n, true);
  return { leader, follower, sent };
}

export const olderSnapshot: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotOlderThanApplied',
  description: `three peers, ${ROUNDS} rounds: a follower's replies to the leader are held while batches of commands commit and the tester snapshots late (each peer at its own points; the delay drawn per seed, ${MIN_DELAY_MS}-${MAX_DELAY_MS} ms), so the leader must send it a snapshot, older than what it applied: it must not hand that to its service`,
  async run(ctx: Ctx) {
    const rng = keyedRng(ctx.seed, 'lab6-older-snapshot');
    const delayMs = rng.between(MIN_DELAY_MS, MAX_DELAY_MS);
    const ts = new RaftTester(ctx, { servers: 3, snapshots: true, snapshotDelayMs: delayMs });
    ctx.log(`the tester calls snapshot() ${delayMs} ms after each peer applies one of its snapshot points`);
    await ts.one(command(rng), ts.n, true);
    for (let r = 0; r < ROUNDS; r++) {
      const { leader, follower, sent } = await round(ts, rng, delayMs);
      if (!sent)
        ts.fail(
          `round ${r}: ${peerName(follower)}'s replies to ${peerName(leader)} were held, so the leader's nextIndex for ` +
            `it stayed where it was while ${BATCHES} batches of commands crossed snapshot points, and the leader never ` +
            'sent it a Raft.InstallSnapshot. Expected one once the entry at that nextIndex was gone from the ' +
            "leader's log (Figure 13: the leader sends its snapshot to a follower whose next entry it discarded). " +
            'Likely causes: a leader that moves nextIndex forward without an answer from the follower (past its ' +
            'snapshot, say), snapshot() that does not trim the log, or InstallSnapshot sent only after a refusal.',
        );
      ctx.log(`round ${r}: ${peerName(follower)}'s replies to ${peerName(leader)} held; the leader sent it a snapshot`);
    }
  },
};
