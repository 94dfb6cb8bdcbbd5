/**
 * The monitors' call rules over a real transport (HTTP between processes): ends that tell a rule of every call they
 * carry, on the process's own clock, as the simulated world's CallBook does on the virtual one.
 */
import type { RpcEnd } from '../../labrpc';
import type { CallRecord, CallRule } from './calls';
import { methodOnce, readOnce } from '../../labrpc/read-once';

/** Counts the calls each sender has in flight (all, and to each receiver) and tells `rules` what became of each. */
export class RealCallBook {
  private readonly rules: readonly CallRule[];
  private readonly unsettled = new Map<string, number>();
  private readonly start = performance.now();

  constructor(rules: readonly CallRule[]) {
    this.rules = rules;
  }

  /** Real ms since this book was made. */
  now(): number {
    return performance.now() - this.start;
  }

  /** `inner`, watched: every call through it is `sender`'s to `receiver`. */
  end(inner: RpcEnd, sender: string, receiver: string): RpcEnd {
    return { call: <Reply>(method: string, args?: unknown) => this.call<Reply>(inner, sender, receiver, method, args) };
  }

  private async call<Reply>(
    inner: RpcEnd,
    sender: string,
    receiver: string,
    sentMethod: string,
    sent: unknown,
  ): Promise<Reply> {
    // What the rules judge is what is sent: one name, and the arguments read once, as data (a field set to
    // undefined, which JSON leaves out, would otherwise make each copy of a call look new to the pacing rule).
    const name = methodOnce(sentMethod);
    if ('error' in name) throw name.error;
    const method = name.copy as string;
    const once = readOnce(sent, `the arguments of ${method}`);
    if ('error' in once) throw once.error;
    const args = once.copy;
    const pair = `${sender}\n${receiver}`;
    const record: CallRecord = {
      sender,
      receiver,
      method,
      sentAt: this.now(),
      othersInFlight: this.unsettled.get(sender) ?? 0,
      othersToReceiver: this.unsettled.get(pair) ?? 0,
      args,
      tester: false,
      shared: false,
      reply: undefined,
      key: undefined,
    };
    this.count(sender, 1);
    this.count(pair, 1);
    for (const rule of this.rules) rule.sent(record, record.sentAt);
    try {
      const reply = await inner.call<Reply>(method, args);
      record.reply = reply;
      for (const rule of this.rules) rule.answered(record, this.now());
      return reply;
    } catch (err) {
      for (const rule of this.rules) rule.failed(record, undefined, this.now());
      throw err;
    } finally {
      this.count(sender, -1);
      this.count(pair, -1);
    }
  }

  private count(key: string, by: number): void {
    const n = (this.unsettled.get(key) ?? 0) + by;
    if (n === 0) this.unsettled.delete(key);
    else this.unsettled.set(key, n);
  }
}
