/**
 * PCT-style delivery schedules: random priorities over the network's channels with d change points, so that a bug
 * needing one particular order of d messages is met with a probability that does not shrink with the run's length.
 */
import type { DeliverySchedule, MessageInfo } from '../../labrpc';
import type { Rng } from '../../world';

/** How one PCT schedule explores. */
export interface PctOptions {
  /** Bug depth d: the schedule has d - 1 change points (d >= 1). */
  readonly depth: number;
  /** About how many messages the run sends: the change points are drawn among the first this many. */
  readonly messages: number;
  /** Extra delay that separates the highest and the lowest initial priority, ms. */
  readonly spanMs: number;
  /**
   * The channel (counted in the order channels first speak, from 0) that starts below every other; undefined: none
   * chosen. Rounds that step it through 0, 1, 2, ... make each of the first channels the slowest once, in turn.
   */
  readonly slowest?: number;
}

/**
 * A channel is one direction of one end: the requests it sends, or the replies it gets. Each channel draws a random
 * priority when it first speaks (a uniformly random place among the channels so far), and a message is held back by
 * `spanMs` times how low its channel stands; at each change point, the channel of the message sent then drops below
 * every other, so its later messages arrive after everyone else's (Burckhardt et al.'s PCT, on a timed network).
 */
export class PctSchedule implements DeliverySchedule {
  private readonly rng: Rng;
  readonly options: PctOptions;
  private readonly priority = new Map<string, number>();
  private readonly changeAt: number[];
  private sent = 0;
  private lowered = 0;

  constructor(rng: Rng, options: PctOptions) {
    this.rng = rng;
    this.options = options;
    if (!(options.depth >= 1)) throw new RangeError(`PCT depth must be at least 1 (got ${options.depth}).`);
    this.changeAt = Array.from({ length: options.depth - 1 }, () => 1 + rng.int(Math.max(1, options.messages)));
  }

  extraDelayMs(message: MessageInfo): number {
    this.sent++;
    const channel = `${message.which === 'request' ? '>' : '<'}${message.end}`;
    let p = this.priority.get(channel);
    if (p === undefined) {
      p = this.priority.size === this.options.slowest ? -0.5 : this.rng.float();
      this.priority.set(channel, p);
    }
    for (const at of this.changeAt) {
      if (at === this.sent) {
        this.lowered++;
        p = -this.lowered;
        this.priority.set(channel, p);
      }
    }
    return (1 - p) * this.options.spanMs;
  }

  /** The change points, for the test's log (replays show the same). */
  describe(): string {
    const slowest = this.options.slowest === undefined ? '' : `, channel ${this.options.slowest} slowest`;
    return `PCT depth ${this.options.depth}, span ${this.options.spanMs} ms${slowest}, change points at messages ${this.changeAt.join(', ') || 'none'}`;
  }
}
