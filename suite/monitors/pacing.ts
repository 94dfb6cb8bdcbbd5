/** The retry pacing monitor: after a call fails, the same call is tried again no sooner than the handout says. */
import type { RetryPacing } from '../types';
import { argsKey, pairName, sameCall, type CallRecord, type CallRule } from './calls';

/** Virtual time is exact, but a wait is measured between two sums of fractions: this much less still counts. */
export const VIRTUAL_SLACK_MS = 1e-6;
/** Failed calls kept per sender and receiver while waiting for their retry (a sender rarely has more in flight). */
const PENDING_PER_PAIR = 8;
/** Waits kept per sender and receiver for a median. */
const WAITS_KEPT = 1000;
/** Retries of one sender to one receiver the mean needs by default. */
const DEFAULT_SAMPLES = 20;
/**
 * A pause after this many earlier pauses in one call without an answer (rounds, or failures), or more, is a late
 * one: a pause that grows with each (a back-off started afresh for each call) shows in their median, where most
 * calls, needing one pause at most, hide it from the median of all.
 */
const LATE_ROUND = 3;
/** Late pauses the median of late pauses needs. */
const LATE_SAMPLES = 3;

/** The waits of one sender's retries to one receiver (or, for a round, to any). */
interface Waits {
  count: number;
  total: number;
  /** The first waits (up to WAITS_KEPT), for their median. */
  readonly kept: number[];
  /** The first late waits (after LATE_ROUND pauses or more in one call), for their median. */
  readonly late: number[];
  /** The retries that came sooner than the rule's minimum: how many, and the first. */
  early: number;
  first?: { at: number; waited: number };
}

/** A sender's current run of failures of one call at one receiver after another (a `round` rule). */
interface Streak {
  receivers: Set<string>;
  /** The receivers that refused the call in this run (answered one of the rule's refusals; not lost). */
  refused: Set<string>;
  lastFailAt: number;
  /** Tries that failed in this run, one after another with no pause between. */
  fails: number;
  /**
   * A try of it went beside other calls of its sender: the sender's tries may then share one way round the servers
   * (a leader hint), so that one call asks a server twice in a round; its round is counted in tries, not servers.
   */
  overlapped: boolean;
  /** When the run's first try was sent. */
  since: number;
}

/** Watches one pacing rule. */
export class PacingWatch implements CallRule {
  private readonly rule: RetryPacing;
  /** Whether the rule is about calls of `method`. */
  private readonly aboutMethod: (method: string) => boolean;
  /** How much shorter than the rule's wait still counts, ms (a clock's resolution). */
  private readonly slackMs: number;
  private readonly refusals: ReadonlySet<string>;
  private readonly pending = new Map<string, Array<{ call: CallRecord; at: number }>>();
  private readonly waits = new Map<string, Waits>();
  /** When each sender last sent a call beside another of its own (a round rule): its calls may share a leader hint. */
  private readonly lastOverlapAt = new Map<string, number>();
  /** Each sender's current runs of failures (a round rule), by the call's arguments (argsKey). */
  private readonly streaks = new Map<string, Map<string, Streak>>();
  private readonly receiversOf = new Map<string, Set<string>>();
  /** The pauses so far in each call still without an answer, by whose waits they are and the call's arguments. */
  private readonly pausesOf = new Map<string, Map<string, number>>();
  /**
   * Who was seen with calls overlapping through an end the tester shares among its tasks (a sender, for a round
   * rule; a sender and receiver, else): one task's new call would pass for another's quick retry, so they are not
   * judged. Only the tester can share an end: calls the code under test sends side by side are judged by their
   * arguments, so a call kept in flight beside the others buys no exemption.
   */
  private readonly overlapping = new Set<string>();

  /** `slackMs`: how much shorter a wait may look and still count (the virtual clock's sums; a real clock's resolution). */
  constructor(rule: RetryPacing, slackMs = VIRTUAL_SLACK_MS) {
    this.rule = rule;
    this.slackMs = slackMs;
    const methods = rule.methods ? new Set(rule.methods) : undefined;
    const except = new Set(rule.exceptMethods ?? []);
    this.aboutMethod = (method) => (methods ? methods.has(method) : !except.has(method));
    this.refusals = new Set(rule.refusals ?? []);
  }

  /** Whether the rule judges `call`: one of its methods, with arguments it is about. */
  private about(call: CallRecord): boolean {
    return this.aboutMethod(call.method) && (this.rule.only === undefined || this.rule.only.args(call.args));
  }

  sent(call: CallRecord, now: number): void {
    if (!this.about(call)) return;
    const perSender = this.rule.after === 'round' || this.rule.by !== undefined;
    if (!this.rule.distinctCalls && call.shared && (perSender ? call.othersInFlight > 0 : call.othersToReceiver > 0))
      this.overlapping.add(this.whose(call));
    if (this.rule.after === 'round') return this.sentInRound(call, now);
    const pending = this.pending.get(this.whose(call));
    if (!pending || pending.length === 0) return;
    const i = pending.findIndex((p) => sameCall(p.call, call));
    if (i < 0) return;
    this.note(this.whose(call), now - pending[i].at, now, this.nextPause(call));
    pending.splice(i, 1);
  }

  /** Whose waits `call` counts among: its sender's (a round), the rule's `by`, or its sender's to its receiver. */
  private whose(call: CallRecord): string {
    if (this.rule.after === 'round') return call.sender;
    return this.rule.by ? this.rule.by(call.sender) : pairName(call);
  }

  failed(call: CallRecord, refusal: string | undefined, now: number): void {
    if (!this.about(call)) return;
    if (refusal !== undefined && !this.refusals.has(refusal)) {
      // Another rule's refusal (lab 7's ErrWrongGroup) is an answer to this one: the sender starts afresh.
      if (this.rule.after === 'round') this.endStreak(call);
      return;
    }
    if (refusal === undefined && this.rule.refusalsOnly === true) return;
    if (this.rule.after === 'round') return this.failedInRound(call, refusal !== undefined, now);
    if (this.rule.after === 'each') this.await(call, now);
  }

  answered(call: CallRecord, now: number): void {
    if (!this.about(call)) return;
    if (this.rule.after === 'each') this.forget(this.pausesOf.get(this.whose(call)), call);
    if (this.rule.after === 'round') this.endStreak(call);
    if (this.rule.after === 'answer') this.await(call, now);
  }

  /**
   * An answer to `call` ends its run of failures; a sender with nothing else in flight (or a shared end, whose calls
   * cannot be told apart) starts afresh.
   */
  private endStreak(call: CallRecord): void {
    if (call.othersInFlight === 0 || call.shared) {
      this.streaks.delete(call.sender);
      this.pausesOf.delete(call.sender);
    } else {
      this.forget(this.streaks.get(call.sender), call);
      this.forget(this.pausesOf.get(call.sender), call);
    }
  }

  /** Removes `call` from a map keyed by arguments (its key is written only if the map holds anything). */
  private forget(byArgs: Map<string, unknown> | undefined, call: CallRecord): void {
    if (byArgs !== undefined && byArgs.size > 0) byArgs.delete(argsKey(call));
  }

  /** Counts one more pause in `call`'s call (after a whole round, or a failure); returns how many came before it. */
  private nextPause(call: CallRecord): number {
    const who = this.whose(call);
    let calls = this.pausesOf.get(who);
    if (!calls) this.pausesOf.set(who, (calls = new Map()));
    const key = argsKey(call);
    // A new call with none beside it: the sender moved on from the others.
    if (call.othersInFlight === 0) for (const other of [...calls.keys()]) if (other !== key) calls.delete(other);
    const before = calls.get(key) ?? 0;
    calls.set(key, before + 1);
    return before;
  }

  /** Keeps `call` (failed, or answered) until the same call is sent again (to its receiver, unless the rule has `by`). */
  private await(call: CallRecord, now: number): void {
    const who = this.whose(call);
    const pending = this.pending.get(who) ?? [];
    pending.push({ call, at: now });
    if (pending.length > PENDING_PER_PAIR) pending.shift();
    this.pending.set(who, pending);
  }

  /**
   * A round rule's send: the try after a whole round of failures is a retry. A sender's calls are told apart by their
   * arguments, so a call beside others goes on with its own run; a new call with none beside it ends the sender's
   * other runs (it moved on), and on a shared end any call beside another ends them all (not told apart).
   */
  private sentInRound(call: CallRecord, now: number): void {
    const receivers = this.receiversOf.get(call.sender) ?? new Set<string>();
    receivers.add(call.receiver);
    this.receiversOf.set(call.sender, receivers);
    if (call.othersInFlight > 0) this.lastOverlapAt.set(call.sender, now);
    const runs = this.streaks.get(call.sender);
    if (!runs) return;
    if (call.shared && call.othersInFlight > 0) return void this.streaks.delete(call.sender);
    const key = argsKey(call);
    if (call.othersInFlight === 0) for (const other of [...runs.keys()]) if (other !== key) runs.delete(other);
    const streak = runs.get(key);
    if (!streak) return;
    if (this.besideOthers(call, streak) && receivers.size >= 2) return this.triedInRound(call, streak, now);
    // A round ends when every receiver the sender knows has failed the call, or when the call goes again to one
    // that already failed it in this run: the next try after a failure goes to the next receiver, so a clerk that
    // asks such a server again goes round, and must have paused (a clerk that asked the refusing server again at
    // once could time its copies to it at will). A sender with one receiver (lab 2's clerk) goes round only after a
    // refusal: it may send a lost call again at once.
    const again = receivers.size >= 2 ? streak.receivers.has(call.receiver) : streak.refused.has(call.receiver);
    if (streak.receivers.size < Math.max(2, receivers.size) && !again) return;
    this.note(call.sender, now - streak.lastFailAt, now, this.nextPause(call));
    runs.delete(key);
  }

  /**
   * The next try of a call that went beside others: after as many failed tries in a row as the sender has receivers
   * (a whole round), it must come after the pause; a try after a pause that long starts the count again.
   */
  private triedInRound(call: CallRecord, streak: Streak, now: number): void {
    const runs = this.streaks.get(call.sender);
    const receivers = this.receiversOf.get(call.sender)?.size ?? 0;
    if (streak.fails >= receivers) {
      this.note(call.sender, now - streak.lastFailAt, now, this.nextPause(call));
      runs?.delete(argsKey(call));
    } else if (now - streak.lastFailAt >= (this.rule.minWaitMs ?? 0) - this.slackMs) runs?.delete(argsKey(call));
  }

  /**
   * Whether `call`'s run went beside other calls of its sender: one of its tries did, or the sender sent another call
   * beside one since the run's first try left (which may have moved a leader hint the run's tries share).
   */
  private besideOthers(call: CallRecord, streak: Streak): boolean {
    if (!streak.overlapped && (this.lastOverlapAt.get(call.sender) ?? -Infinity) >= streak.since)
      streak.overlapped = true;
    return streak.overlapped || call.othersInFlight > 0;
  }

  private failedInRound(call: CallRecord, refused: boolean, now: number): void {
    if (call.shared && call.othersInFlight > 0) return void this.streaks.delete(call.sender);
    const key = argsKey(call);
    let runs = this.streaks.get(call.sender);
    if (!runs) this.streaks.set(call.sender, (runs = new Map()));
    let streak = runs.get(key);
    if (!streak) {
      if (call.othersInFlight === 0) runs.clear();
      streak = {
        receivers: new Set(),
        refused: new Set(),
        lastFailAt: now,
        fails: 0,
        overlapped: false,
        since: call.sentAt,
      };
      runs.set(key, streak);
    }
    streak.fails++;
    if (call.othersInFlight > 0) streak.overlapped = true;
    streak.receivers.add(call.receiver);
    if (refused) streak.refused.add(call.receiver);
    streak.lastFailAt = now;
  }

  /** One retry by `who`, `waited` ms after the failure it follows (`round`: after how many earlier pauses in its call). */
  private note(who: string, waited: number, now: number, round = 0): void {
    const w = this.waits.get(who) ?? { count: 0, total: 0, kept: [], late: [], early: 0 };
    w.count++;
    w.total += waited;
    if (this.rule.maxMedianWaitMs !== undefined && w.kept.length < WAITS_KEPT) w.kept.push(waited);
    if (this.rule.maxMedianWaitMs !== undefined && round >= LATE_ROUND && w.late.length < WAITS_KEPT)
      w.late.push(waited);
    if (this.rule.minWaitMs !== undefined && waited < this.rule.minWaitMs - this.slackMs) {
      w.early++;
      w.first ??= { at: now, waited };
    }
    this.waits.set(who, w);
  }

  /** What broke the rule, in a few lines for a student; undefined when nothing did. */
  finding(): string | undefined {
    const broken: string[] = [];
    let slow = false;
    let quick = false;
    const { minWaitMs, meanWaitMs, maxMedianWaitMs } = this.rule;
    const samples = this.rule.samples ?? DEFAULT_SAMPLES;
    for (const [key, w] of this.waits) {
      if (this.overlapping.has(key)) continue;
      const who =
        this.rule.after === 'round'
          ? `${key} (a whole round of servers)`
          : this.rule.by
            ? `${key} (to any server)`
            : key;
      if (minWaitMs !== undefined && w.early > 0 && w.first) {
        quick = true;
        broken.push(
          `${who}: ${w.early} of ${w.count} tries came sooner than ${minWaitMs} ms after the ${this.rule.after === 'answer' ? 'answer' : 'failure'} before them ` +
            `(the first at ${ms(w.first.at)}, ${w.first.waited.toFixed(2)} ms after it)`,
        );
      }
      if (meanWaitMs !== undefined && w.count >= samples && w.total / w.count < meanWaitMs - this.slackMs) {
        quick = true;
        broken.push(
          `${who}: ${w.count} tries came on average ${(w.total / w.count).toFixed(3)} ms after the failure before ` +
            `them (at least ${meanWaitMs} ms on average expected)`,
        );
      }
      const median = maxMedianWaitMs !== undefined && w.count >= samples ? medianOf(w.kept) : 0;
      const lateMedian = maxMedianWaitMs !== undefined && w.late.length >= LATE_SAMPLES ? medianOf(w.late) : 0;
      if (maxMedianWaitMs !== undefined && median > maxMedianWaitMs + this.slackMs) {
        slow = true;
        broken.push(
          `${who}: half of ${w.count} tries came ${median.toFixed(1)} ms or more after the failure before them (a ` +
            `median of at most ${maxMedianWaitMs} ms expected: the pause is a little one)`,
        );
      } else if (maxMedianWaitMs !== undefined && lateMedian > maxMedianWaitMs + this.slackMs) {
        slow = true;
        broken.push(
          `${who}: in calls that had paused ${LATE_ROUND} times or more without an answer, half of the ${w.late.length} later tries came ${lateMedian.toFixed(1)} ms ` +
            `or more after the failure before them (a median of at most ${maxMedianWaitMs} ms expected: the pause stays a little one, however many a call needs; a pause that grows with each is a back-off)`,
        );
      }
    }
    if (broken.length === 0) return undefined;
    const what =
      this.rule.after === 'answer'
        ? 'answered'
        : this.rule.refusals?.length
          ? `${this.rule.refusalsOnly === true ? '' : 'lost or '}answered ${this.rule.refusals.join(' or ')}`
          : 'lost';
    const before = this.rule.after === 'answer' ? 'the answer' : 'the failure';
    const title =
      slow && !quick
        ? 'Retries too slow'
        : this.rule.after === 'answer'
          ? 'Calls repeated too quickly'
          : slow
            ? 'Retries too quick or too slow'
            : 'Retries too quick';
    return (
      `${title}: the handout says "${this.rule.rule}", ` +
      `and the tester watched every ${this.rule.only?.what ?? `${callsOf(this.rule)} call`} that was ${what} and the same call sent ` +
      `again${this.rule.after === 'round' ? ' after a whole round of servers' : ''} (times are from ${before}):\n` +
      broken
        .slice(0, 5)
        .map((b) => `  ${b}`)
        .join('\n') +
      (broken.length > 5 ? `\n  ... and ${broken.length - 5} more` : '') +
      (slow && broken.length === 1 && this.rule.slowCauses
        ? `\nLikely causes: ${this.rule.slowCauses}`
        : `\nLikely causes: ${this.rule.causes}` +
          (slow && this.rule.slowCauses ? `\nLikely causes of a wait too long: ${this.rule.slowCauses}` : ''))
    );
  }
}

/** The median of `values` (not empty). */
function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Virtual time for a message: "1.234 s". */
function ms(t: number): string {
  return `${(t / 1000).toFixed(3)} s`;
}

/** The calls a rule is about, for a message: "KVServer.Get and KVServer.Put", or "server-to-server". */
export function callsOf(rule: RetryPacing): string {
  return rule.methods?.join(' and ') ?? rule.callsAre ?? 'server-to-server';
}
