/** The world's timer events and the queue that orders them. */
import { brandHarness } from './brand';

/** One scheduled callback in virtual time. */
export interface TimerEvent {
  /** Virtual time (ms) at which it fires. */
  time: number;
  /** Tie-breaker: events at the same time fire in the order they were scheduled. */
  seq: number;
  /** What to run. */
  fn: () => void;
  /** Set when cancelled; the queue skips cancelled events. */
  cancelled: boolean;
  /** While recording: the lane (client or server) the callback works for. */
  lane?: string;
  /** Who scheduled it, when it said (a network: see World.cancelWhere). */
  owner?: object;
}

/** A binary min-heap of timer events ordered by (time, seq). */
export class EventQueue {
  private heap: TimerEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(ev: TimerEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
  }

  /** Removes and returns the earliest live event, or undefined when none is left. */
  pop(): TimerEvent | undefined {
    for (;;) {
      const h = this.heap;
      if (h.length === 0) return undefined;
      const top = h[0];
      const last = h.pop() as TimerEvent;
      if (h.length > 0) {
        let i = 0;
        const n = h.length;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && before(h[r], h[l]) ? r : l;
          if (!before(h[c], last)) break;
          h[i] = h[c];
          i = c;
        }
        h[i] = last;
      }
      if (!top.cancelled) return top;
    }
  }

  /** Every event still queued (cancelled ones included), in no particular order; not to be changed. */
  events(): readonly TimerEvent[] {
    return this.heap;
  }

  /** Drops every event. */
  clear(): void {
    this.heap = [];
  }
}

function before(a: TimerEvent, b: TimerEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

brandHarness(EventQueue);
