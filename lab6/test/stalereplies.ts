/**
 * Lab 6's stale messages, generically: the attackers hold back every reply to one peer's calls of one term until
 * that peer has moved to a later term, and every request one peer makes in one term and role until its term or role
 * has changed (a lost election, a deposed leader), then let them all arrive at once, whatever the RPCs are called.
 */
import type { Rng } from '../../world';
import type { RaftTester } from './harness';

/** Terms whose replies a round may hold back. */
const HELD_TERMS = 3;
/** Terms whose requests a round may hold back. */
const HELD_REQUEST_TERMS = 3;
/** A peer's first call in a new term starts a hold with this chance (while holds are left). */
const HOLD_CHANCE = 0.3;
/** How often the holder looks whether a held caller has moved on (virtual ms). */
const LOOK_MS = 5;

/** One held term: the replies to (or the requests of) peer `from`'s calls made while it was in `term` and `role`. */
interface HeldTerm {
  readonly from: number;
  readonly raft: unknown;
  readonly term: number;
  /** For requests: the role the sender had; they go once it has another (or another term). */
  readonly role: string | undefined;
  readonly release: () => void;
  readonly released: Promise<void>;
}

/** The stale-message nemesis of one round; `releaseAll` ends it when the faults heal. */
export class StaleReplies {
  private readonly ts: RaftTester;
  private readonly rng: Rng;
  /** Draws the request holds (apart from `rng`, so that the reply holds stay as they were). */
  private readonly requestRng: Rng | undefined;
  private readonly log: string[];
  private left = HELD_TERMS;
  private requestsLeft = HELD_REQUEST_TERMS;
  /** The last term each peer was seen calling in (a call in a higher one is its first call there). */
  private readonly lastTerm: number[];
  /** The last term and role each peer was seen calling in, for the request holds. */
  private readonly lastCall: string[];
  private readonly held: HeldTerm[] = [];
  private readonly heldRequests: HeldTerm[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  /** With `requestRng`, requests are held too (see the file's comment). */
  constructor(ts: RaftTester, rng: Rng, log: string[], requestRng?: Rng) {
    this.ts = ts;
    this.rng = rng;
    this.requestRng = requestRng;
    this.log = log;
    this.lastTerm = new Array<number>(ts.n).fill(-1);
    this.lastCall = new Array<string>(ts.n).fill('');
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
          this.held.push(this.hold(from, raft, term, undefined));
          this.log.push(`hold the replies to peer ${from}'s calls of term ${term} until it is in a later term`);
        }
      }
      const sendAfter = this.requestHold(from, raft, term);
      const hold = this.held.find((h) => h.from === from && h.raft === raft && h.term === term);
      if (hold === undefined && sendAfter === undefined) return undefined;
      return { release: hold?.released ?? Promise.resolve(), sendAfter };
    };
    this.timer = setInterval(() => this.releaseMovedOn(), LOOK_MS);
  }

  /** A new hold (of replies when `role` is undefined, of requests otherwise). */
  private hold(from: number, raft: unknown, term: number, role: string | undefined): HeldTerm {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    return { from, raft, term, role, release, released };
  }

  /** Whether peer `from`'s call now waits for a request hold (a first call in a new term and role may start one). */
  private requestHold(from: number, raft: object, term: number): Promise<void> | undefined {
    if (this.requestRng === undefined) return undefined;
    const role = this.roleOf(from);
    const now = `${term}/${role}`;
    if (now !== this.lastCall[from]) {
      this.lastCall[from] = now;
      if (this.requestsLeft > 0 && this.requestRng.chance(HOLD_CHANCE)) {
        this.requestsLeft--;
        this.heldRequests.push(this.hold(from, raft, term, role));
        this.log.push(`hold peer ${from}'s requests as ${role} of term ${term} until its term or role changes`);
      }
    }
    const hold = this.heldRequests.find(
      (h) => h.from === from && h.raft === raft && h.term === term && h.role === role,
    );
    return hold?.released;
  }

  /** Peer i's role as getState tells it. */
  private roleOf(i: number): string {
    return String(this.ts.peer(i)?.getState().role);
  }

  /** Lets through the replies of every held term whose caller moved to a later term (or crashed); and the requests. */
  private releaseMovedOn(): void {
    for (let k = this.held.length - 1; k >= 0; k--) {
      const h = this.held[k];
      const raft = this.ts.peer(h.from);
      if (raft === h.raft && this.ts.state(h.from).term <= h.term) continue;
      this.held.splice(k, 1);
      h.release();
    }
    for (let k = this.heldRequests.length - 1; k >= 0; k--) {
      const h = this.heldRequests[k];
      const raft = this.ts.peer(h.from);
      if (raft === h.raft && this.ts.state(h.from).term === h.term && this.roleOf(h.from) === h.role) continue;
      this.heldRequests.splice(k, 1);
      h.release();
    }
  }

  /** The faults heal: every held reply and request goes through, and no more are held. */
  releaseAll(): void {
    clearInterval(this.timer);
    this.ts.onCall = undefined;
    for (const h of this.held.splice(0)) h.release();
    for (const h of this.heldRequests.splice(0)) h.release();
  }
}
