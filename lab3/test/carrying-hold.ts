/** A scripted delay matched by content: the calls on one link that carry a value the test wrote are held back. */
import { readOnce } from '../../labrpc/read-once';

/**
 * The calls on one server → server link whose arguments carry `value` (a string value that holds it, anywhere in
 * them), sent within MOMENT_MS of the first of them, are slowed by `ms`, so that the calls after them overtake them.
 * Matching by content, not "the next message", means a message the code sends first cannot take the delay meant for
 * the one that carries the write; holding only that moment's calls means the code cannot have its later messages
 * held too by making them carry the value. The hold records whether the scenario happened: a held call, later calls
 * sent while it was on its way, and one of them arriving first.
 */
export class CarryingHold {
  readonly value: string;
  readonly ms: number;
  /** Calls held back so far. */
  held = 0;
  /** Calls sent on the link, not held, while a held call was on its way. */
  sentBehind = 0;
  /** True once a call sent behind a held one arrived before it. */
  overtaken = false;
  /** The held calls still on their way, by number. */
  private readonly onTheirWay = new Set<number>();
  private sent = 0;
  /** When the first held call was sent (virtual ms), once there is one. */
  private firstAt: number | undefined;

  constructor(value: string, ms: number) {
    this.value = value;
    this.ms = ms;
  }

  /** One call sent on the link at `now` (`args`: the network's copy): its extra delay, and what to call once it arrived. */
  send(args: unknown, now: number): { extraMs: number; arrived: () => void } {
    const id = this.sent++;
    const inMoment = this.firstAt === undefined || now - this.firstAt <= MOMENT_MS;
    if (inMoment && carries(args, this.value)) {
      this.firstAt ??= now;
      this.held++;
      this.onTheirWay.add(id);
      return { extraMs: this.ms, arrived: () => this.onTheirWay.delete(id) };
    }
    const ahead = [...this.onTheirWay];
    if (ahead.length > 0) this.sentBehind++;
    return {
      extraMs: 0,
      arrived: () => {
        if (ahead.some((h) => this.onTheirWay.has(h))) this.overtaken = true;
      },
    };
  }
}

/** How long after the first call carrying a hold's value other calls carrying it are held too (virtual ms). */
const MOMENT_MS = 1;

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
export function sendThrough(holds: readonly CarryingHold[], args: unknown, now: number): HeldSend {
  const seen = readOnce(args, 'the arguments of a call between servers');
  if (!('copy' in seen)) return { args, extraMs: 0, arrived: () => undefined };
  const each = holds.map((h) => h.send(seen.copy, now));
  return {
    args: seen.copy,
    extraMs: Math.max(0, ...each.map((e) => e.extraMs)),
    arrived: () => each.forEach((e) => e.arrived()),
  };
}

/**
 * Whether `data` (a copy the network made: plain objects, arrays, strings, numbers ...) carries the string `value`:
 * a string in it that holds the value (the value itself, or a JSON text or other string with the value inside).
 */
function carries(data: unknown, value: string): boolean {
  if (typeof data === 'string') return data.includes(value);
  if (typeof data !== 'object' || data === null) return false;
  return Object.values(data).some((v) => carries(v, value));
}
