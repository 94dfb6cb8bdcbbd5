/** The world's ledger of live timers: those set with setTimeout or setInterval and neither fired nor cleared yet. */
import { brandHarness } from './brand';

/** Stacks taken of every timer set over the bound, before only one in STACK_SAMPLE is. */
const STACKS_ALWAYS = 256;
const STACK_SAMPLE = 16;

/**
 * Counts the live timers of a run, and, once more of them are live than `watchAbove`, keeps where each new one was
 * set (a stack, taken when the timer is set; past the first few hundred, of one timer in sixteen), so that a leak can
 * be traced to the lines that made it. Immediates and the world's own events (`sleep`, the network's deliveries) are
 * not timers here: they end on their own.
 */
export class TimerLedger {
  private readonly live = new Set<object>();
  private readonly sites = new Map<object, Error>();
  /** The live timers the code under test set (the grader's compartment says which: see markCode). */
  private readonly code = new Set<object>();
  /** While more timers than this are live, new ones' stacks are kept (Infinity: never). */
  watchAbove = Infinity;
  /** The most timers live at one time so far. */
  peak = 0;
  /** Timers set so far. */
  created = 0;
  /** Stacks taken so far. */
  private stacksTaken = 0;

  /** A timer was set: `handle` stands for it until it fires (a timeout) or is cleared. */
  add(handle: object): void {
    this.live.add(handle);
    this.created++;
    if (this.live.size > this.peak) this.peak = this.live.size;
    // A stack costs about 10 µs in a locked-down realm, and a correct server may go over the bound for a while
    // (lab 3's reference, thousands of times a grade): the first stacks are kept, then one timer in STACK_SAMPLE.
    if (this.live.size > this.watchAbove && (this.stacksTaken < STACKS_ALWAYS || this.created % STACK_SAMPLE === 0)) {
      this.stacksTaken++;
      this.sites.set(handle, new Error('timer set here'));
    }
  }

  /** The timer fired (a timeout) or was cleared; a no-op for one already gone. */
  remove(handle: object): void {
    if (this.live.delete(handle)) this.sites.delete(handle);
    this.code.delete(handle);
  }

  /** Timer `handle`, live, was set by the code under test (its compartment's setTimeout or setInterval). */
  markCode(handle: object): void {
    if (this.live.has(handle)) this.code.add(handle);
  }

  /** The live timers the code under test set. */
  codeTimers(): object[] {
    return [...this.code];
  }

  /** How many timers are live now. */
  get count(): number {
    return this.live.size;
  }

  /** The stacks kept of the timers still live (those set while more than `watchAbove` were live). */
  liveStacks(): string[] {
    return [...this.sites.values()].map((e) => e.stack ?? '');
  }
}

brandHarness(TimerLedger);
