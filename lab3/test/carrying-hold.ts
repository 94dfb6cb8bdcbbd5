/** A scripted delay matched by content: the calls on one link that carry a value the test wrote are held back. */
import { readOnce } from '../../labrpc/read-once';

/** What one call on a held link is: the arguments to send, its extra delay, and the signal that its delay is over. */
export interface HeldSend {
  /** The network's copy of the call's arguments, read once: what is matched is what is sent. */
  readonly args: unknown;
  /** Extra one-way delay for this call, ms (0 unless it carries the value). */
  readonly extraMs: number;
  /** Call when the call's way out is over (it reaches the receiver). */
  readonly arrived: () => void;
}

/**
 * Every call on one server → server link whose arguments carry `value` (a string equal to it, anywhere in them) is
 * slowed by `ms`, so that the calls after it overtake it. Matching by content, not "the next message", means a
 * message the code sends first cannot take the delay meant for the one that carries the write; and the hold
 * records whether the scenario happened (a held call, and a later call without the value that arrived first).
 */
export class CarryingHold {
  readonly value: string;
  readonly ms: number;
  /** Calls held back so far. */
  held = 0;
  /** True once a call without the value, sent while a held call was on its way, arrived before it. */
  overtaken = false;
  /** The held calls still on their way, by number. */
  private readonly onTheirWay = new Set<number>();
  private sent = 0;

  constructor(value: string, ms: number) {
    this.value = value;
    this.ms = ms;
  }

  /** One call sent on the link; a value the network would refuse is sent as it was, for the network to refuse. */
  send(args: unknown): HeldSend {
    const seen = readOnce(args, 'the arguments of a call between servers');
    if (!('copy' in seen)) return { args, extraMs: 0, arrived: () => undefined };
    const id = this.sent++;
    if (carries(seen.copy, this.value)) {
      this.held++;
      this.onTheirWay.add(id);
      return { args: seen.copy, extraMs: this.ms, arrived: () => this.onTheirWay.delete(id) };
    }
    const ahead = [...this.onTheirWay];
    return {
      args: seen.copy,
      extraMs: 0,
      arrived: () => {
        if (ahead.some((h) => this.onTheirWay.has(h))) this.overtaken = true;
      },
    };
  }
}

/** Whether `data` (a copy the network made: plain objects, arrays, strings, numbers ...) holds the string `value`. */
function carries(data: unknown, value: string): boolean {
  if (data === value) return true;
  if (typeof data !== 'object' || data === null) return false;
  return Object.values(data).some((v) => carries(v, value));
}
