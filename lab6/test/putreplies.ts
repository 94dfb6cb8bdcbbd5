/**
 * Lab 6's witness of a clerk's Put RPCs (parts 6-7): counts the copies of each put the clerk sends and the answers
 * that reach it, so the tester can hold Clerk.put's result to lab 2's rule: the result is a server's answer, or
 * ErrMaybe for a re-sent put answered ErrVersion.
 */
import type { ClientEnd } from '../../labrpc';
import type { PutResult, Version } from '../kvapi';
import { showCommand } from './harness';

/** One call of Clerk.put under watch: its arguments, the copies sent, and the answers that came back. */
export interface PutWatch {
  key: string;
  value: string;
  version: Version;
  /** KVServer.Put calls with these arguments sent while the put was running. */
  sent: number;
  /** Their answers (the reply's err) that reached the clerk. */
  answers: Set<string>;
  /** Copies that may have taken effect: answered OK or ErrWrongLeader (a leader's entry may commit after it), or lost. */
  doubtful: number;
  /** Copies settled (answered or lost). */
  settled: number;
  /** True when a copy also matched another running put with the same arguments (whose is it?). */
  shared: boolean;
}

/** Stricter rules a lab may hold its clerks' put results to, beside lab 2's. */
export interface PutRules {
  /**
   * ErrVersion is no answer for a put one of whose copies may have taken effect (lab 7: an earlier copy applied at
   * the shard's old owner, whose reply was lost, makes the new owner answer ErrVersion): the lab's likely causes.
   */
  readonly errVersionAfterDoubt?: string;
}

/** True when an RPC's args carry this put's key, value and version (other fields, such as ids, are the student's). */
function carries(w: PutWatch, args: unknown): boolean {
  const a = args as { key?: unknown; value?: unknown; version?: unknown } | null;
  return a?.key === w.key && a.value === w.value && a.version === w.version;
}

/** The Put RPCs of one clerk (shared by the tasks that use it), matched to its running puts by their arguments. */
export class PutReplies {
  private readonly running = new Set<PutWatch>();
  /** Every RPC the watched ends sent (a clerk's get or put must send at least one). */
  calls = 0;
  private readonly rules: PutRules;

  constructor(rules: PutRules = {}) {
    this.rules = rules;
  }

  /** Routes `end`'s KVServer.Put calls through the witness; the clerk gets the same end, the same replies. */
  watch(end: ClientEnd): void {
    const call = end.call.bind(end);
    // Defined, not assigned: the grader freezes ClientEnd.prototype, and assigning over a frozen prototype's method fails.
    const watched = <Reply>(method: string, args?: unknown): Promise<Reply> => {
      this.calls++;
      const reply = call<Reply>(method, args);
      if (method !== 'KVServer.Put') return reply;
      // Two running puts with the same arguments both get the copy: the check below only ever gets more lenient.
      const mine = [...this.running].filter((w) => carries(w, args));
      for (const w of mine) {
        w.sent++;
        w.shared ||= mine.length > 1;
      }
      return reply.then(
        (r) => {
          const err = String((r as { err?: unknown } | null)?.err);
          for (const w of mine) {
            w.answers.add(err);
            w.settled++;
            if (err === 'OK' || err === 'ErrWrongLeader') w.doubtful++;
          }
          return r;
        },
        (error: unknown) => {
          for (const w of mine) w.settled++;
          throw error;
        },
      );
    };
    Object.defineProperty(end, 'call', { value: watched });
  }

  /** Starts watching one Clerk.put call. */
  begin(key: string, value: string, version: Version): PutWatch {
    const w: PutWatch = { key, value, version, sent: 0, answers: new Set(), doubtful: 0, settled: 0, shared: false };
    this.running.add(w);
    return w;
  }

  /** Ends the watch of a put that returned `result`: what is wrong with that result, or undefined. */
  end(w: PutWatch, result: PutResult): string | undefined {
    this.running.delete(w);
    // No copy seen with these arguments (a clerk that rewrites them): nothing to compare with.
    if (w.sent === 0) return undefined;
    const what = `Clerk.put(${showCommand(w.key)}, ${showCommand(w.value)}, version ${w.version})`;
    const heard = `the answers that reached the clerk: ${[...w.answers].join(', ') || 'none'}`;
    if (result === 'ErrMaybe') {
      if (w.sent > 1 && w.answers.has('ErrVersion')) return undefined;
      return (
        `${what} returned ErrMaybe after sending ${w.sent} ${w.sent === 1 ? 'copy' : 'copies'} of the Put RPC (${heard}). ` +
        'Expected ErrMaybe only for a put sent more than once and answered ErrVersion (lab 2’s rule): a put answered ' +
        'OK took effect, and a put sent once and answered ErrVersion did not. Likely causes: ErrMaybe returned for ' +
        'any answer after a retry (check the answer is ErrVersion); "re-sent" decided before the first copy went out; ' +
        'or the count of copies kept in a field of the clerk that another call resets or shares (count per call of put).'
      );
    }
    if (result === 'ErrVersion') {
      const doubt = this.doubt(w, what, heard);
      if (doubt !== undefined) return doubt;
    }
    if (w.answers.has(result)) return undefined;
    return (
      `${what} returned ${showCommand(result)}, but no server answered that (${heard}). Expected the clerk to ` +
      'return the answer of the server that leads (or ErrMaybe for a re-sent put answered ErrVersion). Likely ' +
      'causes: a result made up by the clerk after retries, or the answer of an earlier put kept in the clerk.'
    );
  }

  /** With errVersionAfterDoubt: what is wrong with ErrVersion for a put a copy of which may have taken effect. */
  private doubt(w: PutWatch, what: string, heard: string): string | undefined {
    const causes = this.rules.errVersionAfterDoubt;
    // Settled copies answered OK or ErrWrongLeader, and copies lost or still on their way.
    const doubtful = w.doubtful + (w.sent - w.settled);
    if (causes === undefined || w.shared || doubtful === 0) return undefined;
    return (
      `${what} returned ErrVersion, but ${doubtful} of the ${w.sent} copies of the Put RPC it sent may have taken ` +
      `effect (lost on the way or back, or answered OK or ErrWrongLeader; ${heard}). A copy that took effect makes ` +
      'every later copy ErrVersion, so the put may have happened: expected ErrMaybe (a put sent more than once that ' +
      `ends with ErrVersion returns ErrMaybe). Likely causes: ${causes}`
    );
  }
}
