/** Side-by-side lanes over one queue of work, and the gate that lets a job run alone: the grader's tests and the batch's submissions use both. */
import type { Job } from './protocol';

/** Work shared by lanes: each lane takes the next item, in order, until none is left. */
export class WorkQueue<T> {
  private readonly items: readonly T[];
  private next = 0;

  constructor(items: readonly T[]) {
    this.items = items;
  }

  /** The next item and its position in the list, or undefined once every item has been taken. */
  take(): { readonly item: T; readonly index: number } | undefined {
    if (this.next >= this.items.length) return undefined;
    const index = this.next++;
    return { item: this.items[index], index };
  }

  /** Whether every item has been taken. */
  get empty(): boolean {
    return this.next >= this.items.length;
  }
}

/** Runs `lane` `lanes` times side by side (never more than there are items) over one queue of `items`, and waits for all. */
export async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  lane: (queue: WorkQueue<T>) => Promise<void>,
): Promise<void> {
  const queue = new WorkQueue(items);
  const n = Math.max(1, Math.min(lanes, items.length));
  await Promise.all(Array.from({ length: n }, () => lane(queue)));
}

/**
 * Lets jobs run side by side, except exclusive ones: an exclusive job waits until nothing else runs, and while
 * one runs or waits, no other job starts (so it is neither starved nor disturbed).
 */
export class ExclusiveGate {
  private readonly isExclusive: (job: Job) => boolean;
  private running = 0;
  private exclusiveWaiting = 0;
  private exclusiveRunning = false;
  private waiters: Array<() => void> = [];

  constructor(isExclusive: (job: Job) => boolean) {
    this.isExclusive = isExclusive;
  }

  async enter(job: Job): Promise<void> {
    const exclusive = this.isExclusive(job);
    if (exclusive) this.exclusiveWaiting++;
    while (exclusive ? this.running > 0 : this.exclusiveRunning || this.exclusiveWaiting > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (exclusive) {
      this.exclusiveWaiting--;
      this.exclusiveRunning = true;
    }
    this.running++;
  }

  leave(job: Job): void {
    this.running--;
    if (this.isExclusive(job)) this.exclusiveRunning = false;
    for (const wake of this.waiters.splice(0)) wake();
  }
}
