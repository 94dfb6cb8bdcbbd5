/**
 * Lab 6's attackers after the faults heal: the cluster settles on one leader that every other peer follows in its
 * term, keeps it while nothing fails (a quiet second within the heartbeat budget of TestCount, and a follower that
 * crashes, misses commands and catches up again), as the handout's tests TestInitialElection, TestCount and
 * TestSnapshotInstallCrash promise; judged without knowing any RPC.
 */
import { sleep, type Rng } from '../../world';
import { ELECTION_TIMEOUT_MS, SNAPSHOT_INTERVAL, RaftTester, peerName } from './harness';
import { cut } from './handoffs';
import { crashAtNewTerms } from './newterms';

/** How long the peers have to settle (as checkOneLeader's ten looks), and how often the tester looks (ms). */
const SETTLE_MS = 5000;
const SETTLE_LOOK_MS = 50;
/** TestCount's budget for an idle second: about 10 heartbeats a second to each peer, twice over. */
const IDLE_RPCS_PER_PEER = 20;

/** What a settled cluster looks like: its leader and term. */
interface Settled {
  leader: number;
  term: number;
}

/** Every peer's term and role now, for messages: "peer 0 follower/3, peer 1 leader/3". */
function roles(ts: RaftTester): string {
  return Array.from({ length: ts.n }, (_, i) => {
    const s = ts.peer(i)?.getState();
    return `${peerName(i)} ${s === undefined ? 'crashed' : `${s.role}/${s.term}`}`;
  }).join(', ');
}

/** The cluster now, if settled: exactly one leader, every other running peer a follower of its term. */
function settledNow(ts: RaftTester): Settled | undefined {
  let leader = -1;
  for (let i = 0; i < ts.n; i++) if (ts.isRunning(i) && ts.state(i).isLeader) leader = leader === -1 ? i : -2;
  if (leader < 0) return undefined;
  const term = ts.state(leader).term;
  for (let i = 0; i < ts.n; i++) {
    const s = ts.peer(i)?.getState();
    if (i !== leader && s !== undefined && (s.role !== 'follower' || s.term !== term)) return undefined;
  }
  return { leader, term };
}

/** Waits for every running (and connected) peer to follow one leader in its term. */
async function settle(ts: RaftTester, round: number, when: string): Promise<Settled> {
  for (let waited = 0; waited < SETTLE_MS; waited += SETTLE_LOOK_MS) {
    await sleep(SETTLE_LOOK_MS);
    const s = settledNow(ts);
    if (s !== undefined) return s;
  }
  ts.fail(
    `Round ${round}: ${when}, with every peer running and connected and no message lost, the peers did not settle ` +
      `on one leader that all others follow in its term within ${SETTLE_MS / 1000} s; last seen: ` +
      `${roles(ts)}. Expected a peer that hears the AppendEntries of its term's leader to become (or stay) its ` +
      "follower, and to take on the leader's term. Likely causes: a candidate that stays a candidate when the leader " +
      "of its term contacts it, a follower that takes the leader's entries without its higher term, a leader whose " +
      'own election timer starts elections, or elections that keep splitting (timeouts not random enough).',
  );
}

/** Fails unless the cluster is still settled on `was`: no election happened while nothing failed. */
function judgeKept(ts: RaftTester, round: number, was: Settled, during: string, why: string): void {
  const now = settledNow(ts);
  if (now?.leader === was.leader && now.term === was.term) return;
  ts.fail(
    `Round ${round}: ${during}, the cluster moved from ${peerName(was.leader)} leading term ${was.term} to: ` +
      `${roles(ts)}. Expected the leader to keep leading and the term to stay while nothing fails (a reliable ` +
      `network, ${why}). Likely causes: heartbeats less frequent than the shortest election timeout, a follower ` +
      "that does not reset its election timer on the leader's AppendEntries or InstallSnapshot, a leader whose " +
      'own election timer still starts elections, a leader that steps down on a reply of its own term (only a ' +
      'higher term deposes it), or a leader that stopped sending to a peer after many failed calls (the peer, back ' +
      'and hearing nothing, starts an election: send to every peer for as long as you lead, however long it was silent).',
  );
}

/**
 * The steady-state promises once the faults healed (every peer running, connected, caught up): settling on one
 * leader; an idle second with the leader kept and at most TestCount's RPCs; a follower that crashes, misses
 * commands (more than a snapshot interval) and restarts catches up with the leader kept. `next` gives commands.
 */
/** The pairs of peers where `from` sent `to` more than IDLE_RPCS_PER_PEER calls between two counts, as text. */
function busyPairs(before: number[][], after: number[][]): string[] {
  const busy: string[] = [];
  for (const [i, row] of after.entries())
    for (const [j, n] of row.entries())
      if (n - before[i][j] > IDLE_RPCS_PER_PEER) busy.push(`${peerName(i)} to ${peerName(j)}: ${n - before[i][j]}`);
  return busy;
}

export async function judgeSteady(
  ts: RaftTester,
  round: number,
  rng: Rng,
  next: () => number,
  log: string[],
): Promise<void> {
  const settled = await settle(ts, round, 'after the faults healed');
  const before = ts.rpcTotal();
  const pairsBefore = ts.callsBetween();
  await sleep(ELECTION_TIMEOUT_MS);
  const idle = ts.rpcTotal() - before;
  const busy = busyPairs(pairsBefore, ts.callsBetween());
  judgeKept(ts, round, settled, 'in an idle second', 'no commands');
  const budget = IDLE_RPCS_PER_PEER * ts.n;
  if (busy.length > 0)
    ts.fail(
      `Round ${round}: in one idle second (no commands, no faults, ${ts.n} peers) one peer sent another more than ${IDLE_RPCS_PER_PEER} RPCs (${busy.join('; ')}); ` +
        `expected at most ${IDLE_RPCS_PER_PEER} to each peer (heartbeats no more than about 10 a second to each follower). Likely causes: a heartbeat interval ` +
        'below 50 ms; AppendEntries sent again before the last reply came back; a failed call sent again at once, in a loop or a few times, before the next heartbeat.',
    );
  if (idle > budget)
    ts.fail(
      `Round ${round}: one idle second (no commands, no faults, ${ts.n} peers) took ${idle} RPCs; expected at most ` +
        `${budget} (as TestCount: heartbeats no more than about 10 a second per follower). Likely causes: a ` +
        'heartbeat interval far below 100 ms, AppendEntries sent again before the last reply came back, or ' +
        'elections while a leader is in place.',
    );
  const follower = (settled.leader + 1) % ts.n;
  ts.crash1(follower);
  for (let k = 0; k < 2 * SNAPSHOT_INTERVAL; k++) ts.peer(settled.leader)?.start(next());
  await ts.one(next(), ts.n - 1, false);
  // An idle second with the follower down costs no more: every call to it fails, and is sent again at the next
  // heartbeat, not at once in a loop.
  const downBefore = ts.rpcTotal();
  const downPairsBefore = ts.callsBetween();
  await sleep(ELECTION_TIMEOUT_MS);
  const downIdle = ts.rpcTotal() - downBefore;
  const downBusy = busyPairs(downPairsBefore, ts.callsBetween());
  if (downBusy.length > 0)
    ts.fail(
      `Round ${round}: in one idle second with ${peerName(follower)} crashed (no commands, ${ts.n} peers) one peer sent another more than ${IDLE_RPCS_PER_PEER} RPCs (${downBusy.join('; ')}); ` +
        `expected at most ${IDLE_RPCS_PER_PEER} to each peer, a peer that does not answer included (heartbeats no more than about 10 a second to each follower). ` +
        'Likely causes: a call that failed sent again at once, in a loop or a few times, to a peer that is down, instead of at the next heartbeat; a new retry loop ' +
        'started by each heartbeat while the last one still runs; a heartbeat interval below 50 ms.',
    );
  if (downIdle > budget)
    ts.fail(
      `Round ${round}: one idle second with ${peerName(follower)} crashed (no commands, ${ts.n} peers) took ` +
        `${downIdle} RPCs; expected at most ${budget}, as with every peer up (heartbeats no more than about 10 a ` +
        'second to each follower, a follower that does not answer included). Likely causes: a call that failed ' +
        'sent again at once, in a loop, to a peer that is down (send again at the next heartbeat); a new retry loop ' +
        'started by each heartbeat while the last one still runs; elections started by the remaining peers.',
    );
  // In two rounds the follower stays down long: a leader never gives up on a peer, however long it is silent.
  const downMs = downTimeMs(round, rng);
  await sleep(downMs);
  ts.restart(follower);
  await ts.one(next(), ts.n, true);
  judgeKept(
    ts,
    round,
    settled,
    `while ${peerName(follower)} crashed, missed ${2 * SNAPSHOT_INTERVAL + 1} commands, ${downMs > 0 ? `stayed down ${(downMs / 1000).toFixed(1)} s more, ` : ''}restarted and caught up`,
    'one follower restarted with the term it saved',
  );
  await missedElection(ts, round, settled, next);
  let now = settled;
  for (let k = 0; k < STORMS; k++) now = await storm(ts, round, rng, log);
  await bareMajority(ts, round, now, rng, next, log);
}

/** How long a crashed follower stays down in the steady state of round 2 (drawn per round), virtual ms. */
const LONG_DOWN_MS: readonly [number, number] = [35_000, 70_000];
/** ... and of round 6: minutes, so that a leader giving up after thousands of failed calls is seen to. */
const VERY_LONG_DOWN_MS: readonly [number, number] = [240_000, 300_000];

/** How much longer than the steady state's own steps the crashed follower of `round` stays down, virtual ms. */
function downTimeMs(round: number, rng: Rng): number {
  if (round === 2) return rng.between(LONG_DOWN_MS[0], LONG_DOWN_MS[1]);
  if (round === 6) return rng.between(VERY_LONG_DOWN_MS[0], VERY_LONG_DOWN_MS[1]);
  return 0;
}

/**
 * A follower misses an election (it is down while the leader crash-restarts and the others elect a new one),
 * then restarts: the new leader's AppendEntries must bring it to the new term.
 */
async function missedElection(ts: RaftTester, round: number, was: Settled, next: () => number): Promise<void> {
  const away = (was.leader + 2) % ts.n;
  ts.crash1(away);
  for (let k = 0; k < MISSED_COMMANDS; k++) ts.peer(was.leader)?.start(next());
  await ts.one(next(), ts.n - 1, false);
  ts.restart(was.leader);
  const elected = await settle(ts, round, `after ${peerName(was.leader)} (the leader) crashed and restarted`);
  ts.restart(away);
  await settle(
    ts,
    round,
    `after ${peerName(away)}, down while the others elected ${peerName(elected.leader)} in term ${elected.term}, restarted`,
  );
  // It catches up on the commands it missed (a new leader knows nothing of how far behind it is).
  await ts.one(next(), ts.n, true);
}

/** Commands a follower misses before a new leader is elected without it: a long way to back up. */
const MISSED_COMMANDS = 150;
/** Extra delay of every message during a storm (ms): longer than the spread of election timeouts often is. */
const STORM_DELAY_MS = [50, 150] as const;
/** Storms per round (two candidates of one term, a voter between them, and its crash must line up). */
const STORMS = 2;

/**
 * An election storm: every peer restarts at once while every message is slowed, so that several candidates
 * share a term, and each peer crashes and restarts right after its first answer in each new term (its vote must
 * be saved: the watch fails two leaders of one term). Once a leader is seen the delays go, and the peers must
 * settle on one leader: a candidate that hears the leader of its term follows it.
 */
async function storm(ts: RaftTester, round: number, rng: Rng, log: string[]): Promise<Settled> {
  const [low, high] = STORM_DELAY_MS;
  ts.net.setSchedule({ extraDelayMs: () => low + rng.int(high - low) });
  crashAtNewTerms(ts, rng, log, ts.n, 1);
  for (let i = 0; i < ts.n; i++) ts.restart(i);
  const leading = (): boolean => Array.from({ length: ts.n }, (_, i) => ts.state(i).isLeader).some((l) => l);
  for (let waited = 0; waited < 5 * ELECTION_TIMEOUT_MS && !leading(); waited += 10) await sleep(10);
  ts.onReplied = undefined;
  ts.net.setSchedule(undefined);
  return settle(ts, round, 'after an election storm (every peer restarted at once under slow messages)');
}

/**
 * A command held by a bare majority only: the leader and just enough followers take it while the rest are cut
 * off; the leader crashes and restarts right after it applied the command, and the next majority is the restarted
 * leader with the peers that never had the command. What the leader saved must carry the command into the next
 * term (a crash loses only what was not saved); state machine safety and the final agreement judge it.
 */
async function bareMajority(
  ts: RaftTester,
  round: number,
  was: Settled,
  rng: Rng,
  next: () => number,
  log: string[],
): Promise<void> {
  const others = Array.from({ length: ts.n }, (_, i) => i).filter((i) => i !== was.leader);
  const holders = new Set([was.leader]);
  while (holders.size < Math.floor(ts.n / 2) + 1) holders.add(rng.pick(others));
  cut(ts, holders);
  const index = ts.peer(was.leader)?.start(next()).index ?? -1;
  if (index === -1) return ts.healLinks();
  for (let waited = 0; waited < 2000 && ts.nCommitted(index).count === 0; waited += 5) await sleep(5);
  if (ts.nCommitted(index).count === 0) return ts.healLinks();
  ts.restart(was.leader);
  const side = new Set(others.filter((i) => !holders.has(i)).concat([was.leader]));
  cut(ts, side);
  log.push(
    `index ${index} held by ${[...holders].join(',')} only; ${peerName(was.leader)} crashed after it applied it; ` +
      `then ${[...side].join(',')} alone`,
  );
  for (let waited = 0; waited < 5000; waited += 10) {
    const leader = [...side].find((i) => ts.state(i).isLeader);
    if (leader !== undefined) {
      ts.peer(leader)?.start(next());
      break;
    }
    await sleep(10);
  }
  await sleep(ELECTION_TIMEOUT_MS / 2);
  ts.healLinks();
  await ts.one(next(), ts.n, true);
}
