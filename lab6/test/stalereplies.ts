/**
 * Lab 6's stale replies, generically: the attackers hold back every reply to one peer's calls of one term until
 * that peer has moved to a later term, then let them all arrive at once, whatever the RPCs are called.
 */
import type { Rng } from '../../world';
import type { RaftTester } from './harness';

/** Terms whose replies a round may hold back. */
const HELD_TERMS = 3;
/** A peer's first call in a new term starts a hold with this chance (while holds are left). */
const HOLD_CHANCE = 0.3;
/** How often the holder looks whether a held caller has moved on (virtual ms). */
const LOOK_MS = 5;

/** One held term: the replies to peer `from`'s calls made while it was in `term`. */
interface HeldTerm {
  readonly from: number;
  readonly raft: unknown;
  readonly term: number;
  readonly release: () => void;
  readonly released: Promise<void>;
}

/** The stale-reply nemesis of one round; `releaseAll` ends it when the faults heal. */
export class StaleReplies {
  private readonly ts: RaftTester;
  private readonly rng: Rng;
  private readonly log: string[];
  private left = HELD_TERMS;
  /** The last term each peer was seen calling in (a call in a higher one is its first call there). */
  private readonly lastTerm: number[];
  private readonly held: HeldTerm[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(ts: RaftTester, rng: Rng, log: string[]) {
    this.ts = ts;
    this.rng = rng;
    this.log = log;
    this.lastTerm = new Array<number>(ts.n).fill(-1);
  }

  /** Starts holding: a peer's first call in a new term may begin a hold of all its replies of that term. */
  start(): void {
    this.ts.onCall = (from) => {
      const raft = this.ts.peer(from);
      if (raft === undefined) return undefined;
      const { term } = this.ts.state(from);
      this.releaseMovedOn();
      if (term > this.lastTerm[from]) {
        this.lastTerm[from] = term;
        if (this.left > 0 && this.rng.chance(HOLD_CHANCE)) {
          this.left--;
          let release = (): void => undefined;
          const released = new Promise<void>((resolve) => (release = resolve));
          this.held.push({ from, raft, term, release, released });
          this.log.push(`hold the replies to peer ${from}'s calls of term ${term} until it is in a later term`);
        }
      }
      const hold = this.held.find((h) => h.from === from && h.raft === raft && h.term === term);
      return hold === undefined ? undefined : { release: hold.released };
    };
    this.timer = setInterval(() => this.releaseMovedOn(), LOOK_MS);
  }

  /** Lets through the replies of every held term whose caller moved to a later term (or crashed). */
  private releaseMovedOn(): void {
    for (let k = this.held.length - 1; k >= 0; k--) {
      const h = this.held[k];
      const raft = this.ts.peer(h.from);
      if (raft === h.raft && this.ts.state(h.from).term <= h.term) continue;
      this.held.splice(k, 1);
      h.release();
    }
  }

  /** The faults heal: every held reply goes through, and no more are held. */
  releaseAll(): void {
    clearInterval(this.timer);
    this.ts.onCall = undefined;
    for (const h of this.held.splice(0)) h.release();
  }
}
