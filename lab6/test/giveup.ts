/** Parts 5-7's watch on every submit: ErrWrongLeader only once the peer no longer leads in the term it led in. */
import { TestFailure } from '../../suite';
import { World } from '../../world';
import type { RaftPeer } from '../raftapi';
import { peerName } from './harness';

/** What a submit, or a Get or Put answered through one, resolves to, as far as this watch reads it. */
type Answer = { err?: unknown } | null | undefined;

/**
 * The handout's rule for a waiting submit: give up (ErrWrongLeader) once the peer no longer leads or its term has
 * changed, "not before". Runs `answer` (a submit on server `me`, or its Get or Put handler) and, when it resolves
 * ErrWrongLeader while the peer's Raft still leads in the very term it led in when the operation arrived (and the
 * server was not killed meanwhile), fails the test. Returns what `answer` returns, a promise or not.
 */
export function watchGiveUp<R>(me: number, raft: RaftPeer, killed: () => boolean, what: string, answer: () => R): R {
  const before = raft.getState();
  const world = World.current();
  const arrived = world.now();
  const out = answer();
  if (before.role !== 'leader') return out;
  const judge = (r: unknown): void => {
    if ((r as Answer)?.err !== 'ErrWrongLeader' || killed()) return;
    const now = raft.getState();
    if (now.role !== 'leader' || now.term !== before.term) return;
    world.fail(
      new TestFailure(
        `${peerName(me)} answered ErrWrongLeader to ${what} at ${seconds(world.now())}, although its Raft led in ` +
          `term ${before.term} when the operation arrived (${seconds(arrived)}) and still leads in that term. The ` +
          'handout: a waiting submit gives up "once the peer no longer leads or its term has changed. Not before": ' +
          'its entry may still commit, and the clerk, told to try elsewhere, offers the operation a second time.\n' +
          'Likely causes: the submit gives up while its peer still leads: after a timeout of its own (a commit can ' +
          'take 100 ms and more, and a leader cut off in a minority waits for as long as the cut lasts), after a ' +
          'fixed number of leadership checks, or at its first check; a leadership check that compares the wrong ' +
          'term (the current one with itself, or the term of the last log entry) or reads the role wrongly.',
      ),
    );
  };
  if (out instanceof Promise)
    return out.then((r: unknown) => {
      judge(r);
      return r;
    }) as R;
  judge(out);
  return out;
}

/** Virtual time for a message: "1.234 s". */
function seconds(t: number): string {
  return `${(t / 1000).toFixed(3)} s`;
}
