/**
 * Lab 6's attackers crash a peer right after an answer that moved it to a new term and restart it at once: the
 * moment Figure 2 says the new term and any vote must already be saved (the term is read with getState; no RPC
 * is named). The restarted peer may then be asked again in the same term by a rival candidate.
 */
import type { Rng } from '../../world';
import { mayDisturb } from '../../suite/nemesis/disturbance';
import type { RaftTester } from './harness';

/**
 * From now on, up to `crashes` times, crash-restarts a peer after an answer that moved it to a higher term, with
 * chance `chance` (any onReplied already set still sees the other answers); each crash adds a line to `log`.
 */
export function crashAtNewTerms(ts: RaftTester, rng: Rng, log: string[], crashes: number, chance: number): void {
  const others = ts.onReplied;
  let left = crashes;
  ts.onReplied = (i, method, termBefore) => {
    const { term } = ts.state(i);
    if (termBefore !== undefined && term > termBefore && left > 0 && rng.chance(chance)) {
      left--;
      if (!mayDisturb(log, `crash ${i} after its answer (${method}) that moved it to term ${term}, restart at once`))
        return;
      const connected = ts.isConnected(i);
      ts.start1(i);
      if (connected) ts.connect(i);
      return;
    }
    others?.(i, method, termBefore);
  };
}
