/**
 * Lab 6's stale messages, generically: the attackers hold back every reply to one peer's calls of one term until
 * that peer has moved to a later term; and one peer's requests of one RPC in one term and role, either all until
 * its term or role changes (a lost election, a deposed leader) or each until its receiver leads; then let them all
 * arrive at once, whatever the RPCs are called.
 */
import type { Rng } from '../../world';
import { mayDisturb } from '../../suite/nemesis/disturbance';
import type { RaftTester } from './harness';

/** Terms whose replies a round may hold back. */
const HELD_TERMS = 3;
/** Sets of requests a round may hold back. */
const HELD_REQUESTS = 4;
/** A set of requests holds at most this many calls (the rest go at once): a leader's held heartbeats carry its log. */
const HELD_CALLS = 20;
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

/** One held set of requests: a peer's calls of one RPC in one term and role (`key`), made by the running `raft`. */
interface HeldRequests {
  readonly from: number;
  readonly key: string;
  readonly raft: unknown;
  /** Each call goes once its receiver leads (or is down); otherwise all go once the sender's term or role changes. */
  readonly untilReceiverLeads: boolean;
  readonly release: () => void;
  readonly released: Promise<void>;
  /** The calls held so far. */
  calls: number;
}

/** The stale-message nemesis of one round; `releaseAll` ends it when the faults heal. */
export class StaleReplies {
  private readonly ts: RaftTester;
  private readonly rng: Rng;
  /** Draws the request holds (apart from `rng`, so that the reply holds stay as they were); none without it. */
  private readonly requestRng: Rng | undefined;
  private readonly log: string[];
  private left = HELD_TERMS;
  private requestsLeft = HELD_REQUESTS;
  /** The last term each peer was seen calling in (a call in a higher one is its first call there). */
  private readonly lastTerm: number[];
  private readonly held: HeldTerm[] = [];
  /** The keys (peer, term, role, RPC) of the calls seen, and per RPC how many keys it had. */
  private readonly seen = new Set<string>();
  private readonly starts = new Map<string, number>();
  private readonly heldRequests: HeldRequests[] = [];
  /** Requests held until their receiver leads: each with its receiver and its release. */
  private readonly heldCalls: Array<{ to: number; release: () => void }> = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  /** With `requestRng`, requests are held too (see the file's comment). */
  constructor(ts: RaftTester, rng: Rng, log: string[], requestRng?: Rng) {
    this.ts = ts;
    this.rng = rng;
    this.requestRng = requestRng;
    this.log = log;
    this.lastTerm = new Array<number>(ts.n).fill(-1);
  }

  /** Starts holding: a peer's first call in a new term may begin a hold of all its replies of that term. */
  start(): void {
    this.ts.onCall = (from, to, method) => {
      const raft = this.ts.peer(from);
      if (raft === undefined) return undefined;
      const { term } = this.ts.state(from);
      this.releaseMovedOn();
      if (term > this.lastTerm[from]) {
        this.lastTerm[from] = term;
        if (this.left > 0 && this.rng.chance(HOLD_CHANCE)) {
          this.left--;
          const what = `hold the replies to peer ${from}'s calls of term ${term} until it is in a later term`;
          if (mayDisturb(this.log, what)) this.held.push({ from, raft, term, ...deferred() });
        }
      }
      const sendAfter = this.requestHold(from, raft, term, to, method);
      const hold = this.held.find((h) => h.from === from && h.raft === raft && h.term === term);
      if (hold === undefined && sendAfter === undefined) return undefined;
      return { release: hold?.released ?? Promise.resolve(), sendAfter };
    };
    this.timer = setInterval(() => this.releaseMovedOn(), LOOK_MS);
  }

  /**
   * Whether peer `from`'s call of `method` to `to` waits for a request hold: its first call of an RPC in a new term
   * and role may start one, with a chance that falls with how many such starts that RPC had before (so that rare
   * RPCs are held about as often as common ones, whatever they are called).
   */
  private requestHold(from: number, raft: object, term: number, to: number, method: string): Promise<void> | undefined {
    if (this.requestRng === undefined) return undefined;
    const role = this.roleOf(from);
    const key = `${from}/${term}/${role}/${method}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      const count = (this.starts.get(method) ?? 0) + 1;
      this.starts.set(method, count);
      if (this.requestsLeft > 0 && this.requestRng.chance(Math.min(HOLD_CHANCE, 2 / count))) {
        this.requestsLeft--;
        const untilReceiverLeads = this.requestRng.chance(0.5);
        const until = untilReceiverLeads ? 'its receiver leads' : 'the sender is in another term or role';
        const what = `hold peer ${from}'s ${method} requests as ${role} of term ${term}, each until ${until}`;
        if (mayDisturb(this.log, what))
          this.heldRequests.push({ from, key, raft, untilReceiverLeads, calls: 0, ...deferred() });
      }
    }
    const hold = this.heldRequests.find((h) => h.key === key && h.raft === raft);
    if (hold === undefined || hold.calls >= HELD_CALLS) return undefined;
    hold.calls++;
    if (!hold.untilReceiverLeads) return hold.released;
    const call = deferred();
    this.heldCalls.push({ to, release: call.release });
    return call.released;
  }

  /** Peer i's role as getState tells it. */
  private roleOf(i: number): string {
    return String(this.ts.peer(i)?.getState().role);
  }

  /** Lets through the holds whose time came: callers that moved on (or crashed), receivers that lead. */
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
      if (h.untilReceiverLeads || (raft === h.raft && h.key.startsWith(this.keyPrefix(h.from)))) continue;
      this.heldRequests.splice(k, 1);
      h.release();
    }
    for (let k = this.heldCalls.length - 1; k >= 0; k--) {
      const { to, release } = this.heldCalls[k];
      if (this.ts.isRunning(to) && !this.ts.state(to).isLeader) continue;
      this.heldCalls.splice(k, 1);
      release();
    }
  }

  /** The start of the keys of running peer i's calls now: "peer/term/role/". */
  private keyPrefix(i: number): string {
    return `${i}/${this.ts.state(i).term}/${this.roleOf(i)}/`;
  }

  /** The faults heal: every held reply and request goes through, and no more are held. */
  releaseAll(): void {
    clearInterval(this.timer);
    this.ts.onCall = undefined;
    for (const h of this.held.splice(0)) h.release();
    for (const h of this.heldRequests.splice(0)) h.release();
    for (const c of this.heldCalls.splice(0)) c.release();
  }
}

/** A promise and the function that resolves it. */
function deferred(): { release: () => void; released: Promise<void> } {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { release, released };
}
