/**
 * Lab 4 — the original's artificial network delay. Given: the tests and the real cluster wrap each of the leader's
 * ends to its followers in a DelayedEnd, so every Replicate message waits a random 0.1–1 ms (the original's
 * MIN_DELAY and MAX_DELAY) before it is sent. Your node code never sees it.
 */
import type { RpcEnd } from '../labrpc';

/** The original's delay range per message, in ms. */
export const SEED_DELAY_MS = { min: 0.1, max: 1 } as const;

/** An RpcEnd that waits a random time in [minMs, maxMs] before each call. */
export class DelayedEnd implements RpcEnd {
  private readonly inner: RpcEnd;
  private readonly minMs: number;
  private readonly maxMs: number;
  /** Waits that many ms (the simulated world's sleep takes fractions; a real timer rounds up to 1 ms). */
  private readonly sleep: (ms: number) => Promise<void>;
  /** Source of randomness (the simulated world seeds Math.random). */
  private readonly random: () => number;

  constructor(
    inner: RpcEnd,
    minMs: number,
    maxMs: number,
    sleep: (ms: number) => Promise<void>,
    random: () => number = Math.random,
  ) {
    this.inner = inner;
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.sleep = sleep;
    this.random = random;
    if (!(minMs >= 0 && maxMs >= minMs))
      throw new RangeError(`The delay range must satisfy 0 <= min <= max (got ${minMs}..${maxMs} ms).`);
  }

  async call<Reply = unknown>(method: string, args?: unknown): Promise<Reply> {
    const ms = this.minMs + this.random() * (this.maxMs - this.minMs);
    if (ms > 0) await this.sleep(ms);
    return this.inner.call<Reply>(method, args);
  }
}
