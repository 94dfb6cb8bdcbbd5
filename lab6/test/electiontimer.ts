/** Lab 6's election timer rule: a peer resets its timer only on the events the handout names, and then times out within a second. */
import { keyedRng, sleep, World } from '../../world';
import type { Rng } from '../../world';
import { TestDefinition, TestContext } from '../../suite';
import { ELECTION_TIMEOUT_MS, Lab6Impl, RaftTester, peerName, requestTerm } from './harness';

type Ctx = TestContext<Lab6Impl>;

/** Rounds per run, each on a follower drawn per seed (a timer reset on a refused vote shows in about one round in four). */
const ROUNDS = 24;
/** How long a round waits for the stale peer's term to pass the leader's, or for the voter's term to move (virtual ms). */
const WAIT_MS = 5000;
/** How often the round looks at the peers' terms (virtual ms). */
const LOOK_MS = 1;
/** Longest extra wait, drawn per round, once the stale peer's term passed the leader's (virtual ms). */
const MAX_EXTRA_MS = 800;

/** A promise that never resolves: a reply held for good. */
function forever(): Promise<void> {
  return new Promise(() => undefined);
}

/** Peer i's term as it reports it (-1 while crashed or when getState fails). */
function termOf(ts: RaftTester, i: number): number {
  try {
    return ts.peer(i)?.getState().term ?? -1;
  } catch {
    return -1;
  }
}

/** Waits until `cond` holds (looking every LOOK_MS) or `ms` passed; returns the virtual time it first held, or undefined. */
async function when(cond: () => boolean, ms: number): Promise<number | undefined> {
  const world = World.current();
  const end = world.now() + ms;
  while (world.now() <= end) {
    if (cond()) return world.now();
    await sleep(LOOK_MS);
  }
  return undefined;
}

/** What one round saw: the moment the voter's term passed the old leader's, and its first RequestVote after. */
interface Seen {
  leader: number;
  stale: number;
  voter: number;
  switchedAt: number;
  electionAt: number | undefined;
}

/**
 * One round: a follower (the stale peer) is cut off while a command commits, so its log is behind, and its term
 * climbs past the leader's; it comes back reaching only the other follower (the voter), whose replies to the
 * leader's AppendEntries are held for good (the leader never learns it was deposed and keeps sending heartbeats of
 * its old term). The voter refuses the stale peer's votes and must start an election within ELECTION_TIMEOUT_MS of
 * the moment its term moved past the leader's: nothing after that may reset its timer.
 */
async function round(ts: RaftTester, rng: Rng, r: number): Promise<Seen | undefined> {
  const leader = await ts.checkOneLeader();
  const [stale, voter] = rng.chance(0.5) ? [(leader + 1) % 3, (leader + 2) % 3] : [(leader + 2) % 3, (leader + 1) % 3];
  ts.disconnect(stale);
  await ts.one(1000 + r, 2, true);
  // No clean round when the lead moved meanwhile, or the cut-off peer's term never passed the leader's: the peer is
  // connected again before the next round, which needs its majority.
  const leaderTerm = termOf(ts, leader);
  if (!ts.state(leader).isLeader || (await when(() => termOf(ts, stale) > leaderTerm, WAIT_MS)) === undefined) {
    ts.connect(stale);
    return undefined;
  }
  await sleep(rng.int(MAX_EXTRA_MS + 1));
  let electionAt: number | undefined;
  let reconnected = false;
  // The highest term of a RequestVote the voter received: its own election asks in a higher one, while a RequestVote
  // of a term it was handed (sent, say, as it refuses one) is no election.
  let received = leaderTerm;
  ts.onRequest = (i, method, request) => {
    const stated = i === voter && /RequestVote$/.test(method) ? requestTerm(request) : undefined;
    if (stated !== undefined && 'term' in stated) received = Math.max(received, stated.term);
  };
  ts.onCall = (from, to, method, request, callerTerm) => {
    // ... and in the voter's own term: a candidate asks in the term it moved to.
    const stated = from === voter && /RequestVote$/.test(method) ? requestTerm(request) : undefined;
    const term = stated !== undefined && 'term' in stated && stated.term === callerTerm ? stated.term : undefined;
    if (reconnected && electionAt === undefined && term !== undefined && term > received)
      electionAt = World.current().now();
    if (from === leader && to === voter && /AppendEntries$/.test(method)) return { release: forever() };
    return undefined;
  };
  ts.cutLink(stale, leader);
  ts.connect(stale);
  reconnected = true;
  const switchedAt = await when(() => termOf(ts, voter) > leaderTerm, WAIT_MS);
  if (switchedAt !== undefined) await when(() => electionAt !== undefined, ELECTION_TIMEOUT_MS + LOOK_MS);
  ts.onCall = undefined;
  ts.onRequest = undefined;
  ts.healLinks();
  return switchedAt === undefined ? undefined : { leader, stale, voter, switchedAt, electionAt };
}

/** How long every peer is cut off from the others after the rounds, virtual ms: the followers keep starting elections. */
const ISOLATED_MS = 10_000;
/** How much later than ELECTION_TIMEOUT_MS after the last one a peer's next election may start, virtual ms (a timer checked on a tick of up to 10 ms). */
const RETRY_SLACK_MS = 10;
/**
 * Gaps between one follower's elections, all within this much of each other (virtual ms), show a timeout drawn once:
 * a fresh draw each time from a range of a hundred milliseconds or more, even counted in 10 ms ticks, repeats itself
 * SAME_GAPS_AT_LEAST times running far less often than once in a million runs.
 */
const SAME_GAP_MS = 1;
/** How many gaps between elections, all alike, the test needs before it judges the timeout drawn once. */
const SAME_GAPS_AT_LEAST = 6;

/**
 * Every peer cut off from the others for ISOLATED_MS: returns, per peer, the moment each peer was cut off and then
 * each moment it started an election (its first RequestVote of a term it moved to). The leader may go on leading;
 * every other peer hears nothing, so it must start an election within ELECTION_TIMEOUT_MS, and again and again.
 */
async function isolatedElections(ts: RaftTester): Promise<number[][]> {
  const cutAt = World.current().now();
  const starts: number[][] = Array.from({ length: ts.n }, () => [cutAt]);
  const lastTerm: number[] = Array.from({ length: ts.n }, (_, i) => termOf(ts, i));
  ts.onCall = (from, _to, method, request, callerTerm) => {
    const stated = /RequestVote$/.test(method) ? requestTerm(request) : undefined;
    if (stated !== undefined && 'term' in stated && stated.term === callerTerm && stated.term > lastTerm[from]) {
      lastTerm[from] = stated.term;
      starts[from].push(World.current().now());
    }
    return undefined;
  };
  for (let i = 0; i < ts.n; i++) ts.disconnect(i);
  await sleep(ISOLATED_MS);
  ts.onCall = undefined;
  for (let i = 0; i < ts.n; i++) ts.connect(i);
  return starts;
}

/**
 * Fails unless every peer that was not leading started an election at most ELECTION_TIMEOUT_MS (and a little) after
 * the last, after a timeout drawn afresh each time.
 */
function judgeIsolatedElections(ts: RaftTester, leader: number, starts: number[][]): void {
  for (const [i, moments] of starts.entries()) {
    if (i === leader) continue;
    const ends = [...moments, moments[0] + ISOLATED_MS];
    const gaps = ends.slice(1).map((t, k) => t - ends[k]);
    const longest = Math.max(...gaps);
    if (longest <= ELECTION_TIMEOUT_MS + RETRY_SLACK_MS) {
      judgeDrawnAfresh(ts, i, moments);
      continue;
    }
    ts.fail(
      `Every peer was cut off from the others for ${ISOLATED_MS / 1000} s (virtual). ${peerName(i)}, a follower then, heard ` +
        `nothing and started ${moments.length - 1} election${moments.length === 2 ? '' : 's'} (at ${moments.slice(1).map(Math.round).join(', ') || 'no moment'} ms, cut off at ${Math.round(moments[0])} ms): ` +
        `${Math.round(longest)} ms passed without one. Expected a new election within ${ELECTION_TIMEOUT_MS} ms of the last (or of the last heartbeat): ` +
        'a candidate that wins no election starts another when its timer runs out, with a timeout drawn afresh from the same range each time. ' +
        "Likely causes: an election timeout that grows after each election lost (a back-off: the handout's timeout is at most one second, every time); " +
        'a candidate that waits for the replies of its RequestVotes before its timer runs again (they never come); the election timer stopped ' +
        'while a peer is a candidate; an election timeout that can be drawn longer than one second.',
    );
  }
}

/** Fails when the gaps between a follower's elections (from its first on) are all alike: a timeout drawn once. */
function judgeDrawnAfresh(ts: RaftTester, i: number, moments: number[]): void {
  const elections = moments.slice(1);
  const gaps = elections.slice(1).map((t, k) => t - elections[k]);
  if (gaps.length < SAME_GAPS_AT_LEAST || Math.max(...gaps) - Math.min(...gaps) > SAME_GAP_MS) return;
  ts.fail(
    `Every peer was cut off from the others for ${ISOLATED_MS / 1000} s (virtual). ${peerName(i)}, a follower then, started ${elections.length} elections, ` +
      `each ${Math.round(gaps[0])} ms after the last (at ${elections.map(Math.round).join(', ')} ms): the same timeout every time. ` +
      'Expected a timeout drawn at random afresh for each wait (section 5.2 of the Raft paper): two peers whose single draws happen to be close time out together, split the vote, and do so again and again; fresh draws part them. ' +
      'Likely causes: the election timeout drawn once (in the constructor, or the first time) and kept; a timeout drawn afresh only when a heartbeat arrives, not when an election starts; a fixed timeout per peer (from its index, say) instead of a random one.',
  );
}

export const electionTimer: TestDefinition<Lab6Impl> = {
  name: 'TestElectionTimer',
  description: `three peers, ${ROUNDS} rounds: a follower whose log is behind and whose term passed the leader's reaches only the other follower, which also keeps getting the old leader's heartbeats (their replies held): refusing both, it must start an election within ${ELECTION_TIMEOUT_MS / 1000} s of leaving the leader's term (draws the stale follower and when it returns); then every peer cut off for ${ISOLATED_MS / 1000} s: each follower starts an election at most ${ELECTION_TIMEOUT_MS / 1000} s after its last`,
  async run(ctx: Ctx) {
    const ts = new RaftTester(ctx, { servers: 3 });
    const rng = keyedRng(ctx.seed, 'lab6-election-timer');
    for (let r = 0; r < ROUNDS; r++) {
      const seen = await round(ts, rng, r);
      if (seen === undefined) {
        ctx.log(
          `round ${r}: the cut-off follower's term never passed the leader's, or never reached the other: no check`,
        );
        continue;
      }
      const late = seen.electionAt === undefined ? undefined : seen.electionAt - seen.switchedAt;
      ctx.log(
        `round ${r}: the voter left the leader's term at ${seen.switchedAt} ms and started an election ${late} ms later`,
      );
      if (late === undefined || late > ELECTION_TIMEOUT_MS)
        ts.fail(
          `round ${r}: ${peerName(seen.voter)}'s term moved past that of its leader, ${peerName(seen.leader)}, at ${seen.switchedAt} ms (virtual), when ${peerName(seen.stale)}, a candidate whose log is behind, asked for its vote; ` +
            `from then on it heard only ${peerName(seen.stale)}'s RequestVotes (to be refused: its log is behind) and ${peerName(seen.leader)}'s heartbeats of an older term (to be refused too), ` +
            `none of which may reset the election timer, yet it ${late === undefined ? `had not started an election ${ELECTION_TIMEOUT_MS / 1000} s later` : `started an election only ${late} ms later`}. ` +
            `Expected an election within ${ELECTION_TIMEOUT_MS} ms: a peer resets its election timer when it grants a vote, when it hears an AppendEntries from the leader of its current term, and when it starts an election, and at no other time. ` +
            'Likely causes: the timer reset on every RequestVote, also a refused one; the timer reset on an AppendEntries of an older term (a deposed leader keeps a follower from electing); ' +
            'the timer reset whenever a higher term is seen; an election timeout that can be drawn longer than one second.',
        );
    }
    const leader = await ts.checkOneLeader();
    judgeIsolatedElections(ts, leader, await isolatedElections(ts));
    await ts.checkOneLeader();
  },
};
