/**
 * Lab 6's attackers: leader handoffs in the shape of the Raft paper's Figure 8, with the peers picked at random
 * and found by getState alone. A leader is cut off with one follower right after it accepted a command (the entry
 * reaches a minority), the other side elects a leader that accepts a command and is cut off alone at once, the
 * first minority rejoins the rest and one of its peers leads a later term (it may copy the old entry to a
 * majority), and is cut off again: the lone leader's newer entry then wins the index. Committing the old entry by
 * counting its replicas loses a committed entry here; the harness's state machine safety judges it.
 */
import { sleep, type Rng } from '../../world';
import type { RaftTester } from './harness';

/** How often a handoff looks for the side's new leader (virtual ms), and for how long at most. */
const LOOK_MS = 10;
const LOOK_FOR_MS = 4000;

/** The peer of `side` that leads a term above `above` (the highest such), or -1 once LOOK_FOR_MS passed. */
async function leaderOf(
  ts: RaftTester,
  side: readonly number[],
  above: number,
): Promise<{ peer: number; term: number }> {
  for (let waited = 0; waited < LOOK_FOR_MS; waited += LOOK_MS) {
    let found = { peer: -1, term: above };
    for (const i of side) {
      const { term, isLeader } = ts.state(i);
      if (isLeader && term > found.term) found = { peer: i, term };
    }
    if (found.peer !== -1) return found;
    await sleep(LOOK_MS);
  }
  return { peer: -1, term: above };
}

/**
 * One run of the handoffs on a cluster of five running, connected peers on a reliable network (the clients
 * stopped); `start` offers a command to a peer, `log` takes a line per step. Ends with every link healed. A side
 * that elects no leader within a few seconds ends the run early (liveness is judged elsewhere).
 */
export async function figure8Handoffs(
  ts: RaftTester,
  rng: Rng,
  start: (peer: number) => void,
  log: (line: string) => void,
): Promise<void> {
  const all = Array.from({ length: ts.n }, (_, i) => i);
  const except = (...out: number[]): number[] => all.filter((i) => !out.includes(i));
  try {
    const first = await leaderOf(ts, all, -1);
    if (first.peer === -1) return;
    const partner = rng.pick(except(first.peer));
    start(first.peer);
    cut(ts, [first.peer, partner]);
    const second = await leaderOf(ts, except(first.peer, partner), first.term);
    if (second.peer === -1) return;
    start(second.peer);
    cut(ts, [second.peer]);
    const third = await leaderOf(ts, except(second.peer), second.term);
    if (third.peer === -1) return;
    // A moment to copy what it holds to the others, then it and the peer it shared the first minority with go.
    await sleep(5 + rng.int(60));
    const pair = third.peer === first.peer || third.peer === partner ? [first.peer, partner] : [third.peer, partner];
    cut(ts, pair);
    const fourth = await leaderOf(ts, except(...pair), third.term);
    if (fourth.peer !== -1) start(fourth.peer);
    log(
      `Figure 8 handoffs: ${first.peer} (term ${first.term}) cut off with ${partner}, ${second.peer} (term ` +
        `${second.term}) cut off alone, ${third.peer} (term ${third.term}) cut off with ${pair.join(',')}, then ` +
        `${fourth.peer === -1 ? 'no leader' : `${fourth.peer} (term ${fourth.term})`}`,
    );
  } finally {
    ts.healLinks();
  }
}

/** Splits the running peers in two, `side` and the rest, each side whole (earlier cuts healed first). */
export function cut(ts: RaftTester, side: Iterable<number>): void {
  ts.healLinks();
  const inside = new Set(side);
  for (let a = 0; a < ts.n; a++)
    for (let b = a + 1; b < ts.n; b++) if (inside.has(a) !== inside.has(b)) ts.cutLink(a, b);
  for (let k = 0; k < ts.n; k++) if (ts.isRunning(k)) ts.connect(k);
}
