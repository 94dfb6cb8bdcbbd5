/** The re-send monitor: a call that failed is sent again, to the same receiver, within the time the handout allows. */
import type { ResendPromise } from '../types';
import { argsKey, pairName, type CallRecord, type CallRule } from './calls';

/** A failed call still waiting for its re-send. */
interface Waiting {
  readonly call: CallRecord;
  readonly failedAt: number;
  /** How many times this call has failed in a row, this failure included. */
  readonly tries: number;
}

/** Watches one re-send promise. */
export class ResendWatch implements CallRule {
  private readonly rule: ResendPromise;
  /** Whether the rule is about calls of `method`. */
  private readonly about: (method: string) => boolean;
  /** Per sender and receiver: the failed calls not sent again yet, by their arguments. */
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  /**
   * The calls sent again after a failure and not settled yet, with how many times the call had failed before (kept
   * only while they are in flight, so that a long test's book does not grow with every failure).
   */
  private readonly resent = new Map<CallRecord, number>();
  /** The failed calls whose re-send came too late: how many, and the first. */
  private late = 0;
  private firstLate: { waiting: Waiting; after: number } | undefined;

  constructor(rule: ResendPromise) {
    this.rule = rule;
    const methods = rule.methods ? new Set(rule.methods) : undefined;
    const except = new Set(rule.exceptMethods ?? []);
    this.about = (method) => (methods ? methods.has(method) : !except.has(method));
  }

  sent(call: CallRecord, now: number): void {
    const waiting = this.about(call.method) ? this.waiting.get(pairName(call)) : undefined;
    if (!waiting || waiting.size === 0) return;
    const key = argsKey(call);
    const w = waiting.get(key);
    if (!w) return;
    waiting.delete(key);
    this.resent.set(call, w.tries);
    if (now - w.failedAt > this.rule.withinMs) {
      this.late++;
      this.firstLate ??= { waiting: w, after: now - w.failedAt };
    }
  }

  failed(call: CallRecord, refusal: string | undefined, now: number): void {
    const before = this.resent.get(call) ?? 0;
    this.resent.delete(call);
    if (!this.about(call.method) || refusal !== undefined) return;
    const pair = pairName(call);
    let waiting = this.waiting.get(pair);
    if (waiting === undefined) this.waiting.set(pair, (waiting = new Map<string, Waiting>()));
    waiting.set(argsKey(call), { call, failedAt: now, tries: before + 1 });
  }

  answered(call: CallRecord): void {
    this.resent.delete(call);
  }

  /** How long after `now` the oldest failed call still waiting for its copy runs out of time, ms (0: none waits). */
  waitLeft(now: number): number {
    let left = 0;
    for (const waiting of this.waiting.values())
      for (const w of waiting.values()) left = Math.max(left, w.failedAt + this.rule.withinMs - now);
    return left;
  }

  /** What broke the promise by virtual time `end` (the test's end), for a student; undefined when nothing did. */
  finding(end: number): string | undefined {
    const never: Waiting[] = [];
    for (const waiting of this.waiting.values())
      for (const w of waiting.values()) if (end - w.failedAt > this.rule.withinMs) never.push(w);
    if (never.length === 0 && this.late === 0) return undefined;
    never.sort((a, b) => a.failedAt - b.failedAt);
    const lines: string[] = [];
    if (never.length > 0) {
      const w = never[0];
      lines.push(
        `${never.length} failed call(s) were never sent again; the first: ${pairName(w.call)}, ${w.call.method} ` +
          `failed at ${seconds(w.failedAt)} (after ${w.tries} ${w.tries === 1 ? 'try' : 'tries'}), and the test ran on ` +
          `to ${seconds(end)} without another copy`,
      );
    }
    if (this.firstLate) {
      const { waiting: w, after } = this.firstLate;
      lines.push(
        `${this.late} failed call(s) were sent again only after more than ${this.rule.withinMs} ms; the first: ` +
          `${pairName(w.call)}, ${w.call.method} failed at ${seconds(w.failedAt)}, sent again ${Math.round(after)} ms later`,
      );
    }
    return (
      `A failed call not sent again: the handout says "${this.rule.rule}" (the tester allows ${this.rule.withinMs} ms ` +
      `after each failure).\n${lines.map((l) => `  ${l}`).join('\n')}\nLikely causes: ${this.rule.causes}`
    );
  }
}

/** Virtual time for a message: "1.234 s". */
function seconds(t: number): string {
  return `${(t / 1000).toFixed(3)} s`;
}
