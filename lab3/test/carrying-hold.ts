/** A scripted delay matched by content: the calls on one link that carry a value the test wrote are held back. */
import { readOnce } from '../../labrpc/read-once';

/**
 * Every call on one server → server link whose arguments carry `value` (a string that holds it, anywhere in them) is
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

  /** One call sent on the link (`args`: the network's copy): its extra delay, and what to call once it arrived. */
  send(args: unknown): { extraMs: number; arrived: () => void } {
    const id = this.sent++;
    if (carries(args, this.value)) {
      this.held++;
      this.onTheirWay.add(id);
      return { extraMs: this.ms, arrived: () => this.onTheirWay.delete(id) };
    }
    const ahead = [...this.onTheirWay];
    return {
      extraMs: 0,
      arrived: () => {
        if (ahead.some((h) => this.onTheirWay.has(h))) this.overtaken = true;
      },
    };
  }
}

/** What the holds on one link make of a call: the arguments to send, its extra delay, the signal that it arrived. */
export interface HeldSend {
  /** The network's copy of the call's arguments, read once: what is matched is what is sent. */
  readonly args: unknown;
  /** Extra one-way delay for this call, ms (the longest of the holds it meets). */
  readonly extraMs: number;
  /** Call when the call's way out is over (it reaches the receiver). */
  readonly arrived: () => void;
}

/** A call on a link with `holds`: read once, then shown to each hold. A value the network would refuse goes as it was. */
export function sendThrough(holds: readonly CarryingHold[], args: unknown): HeldSend {
  const seen = readOnce(args, 'the arguments of a call between servers');
  if (!('copy' in seen)) return { args, extraMs: 0, arrived: () => undefined };
  const each = holds.map((h) => h.send(seen.copy));
  return {
    args: seen.copy,
    extraMs: Math.max(0, ...each.map((e) => e.extraMs)),
    arrived: () => each.forEach((e) => e.arrived()),
  };
}

/**
 * Whether `data` (a copy the network made: plain objects, arrays, strings, numbers ...) carries the string `value`:
 * a string that holds it (the value itself, or a JSON text or other string with the value inside), or a key.
 */
function carries(data: unknown, value: string): boolean {
  if (typeof data === 'string') return data.includes(value);
  if (typeof data !== 'object' || data === null) return false;
  return Object.entries(data).some(([k, v]) => k.includes(value) || carries(v, value));
}
