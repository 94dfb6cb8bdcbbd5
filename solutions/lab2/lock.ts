/**
 * Lab 2 reference solution — a lock stored in one key.
 *
 * The key holds the owner's id, or "" when the lock is free. Taking the lock is a conditional put of our id
 * over a free value; the version check makes sure only one contender wins. After an ErrMaybe we cannot know
 * whether our put happened, so we read the key again: if it holds our id, the lock is ours.
 */
import type { DistributedLock, KVClerk } from '../../lab2/rpc';

/** How long to wait before looking at a busy lock again (virtual ms). */
const RETRY_MS = 5;

export class Lock implements DistributedLock {
  private readonly ck: KVClerk;
  private readonly name: string;

  /** A random id, different for every Lock object (Math.random is seeded in the simulation). */
  private readonly id = Math.random().toString(36).slice(2, 12);
  private held = false;

  constructor(ck: KVClerk, name: string) {
    this.ck = ck;
    this.name = name;
  }

  async acquire(timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await this.ck.get(this.name);
      if (current.err === 'OK' && current.value === this.id) {
        this.held = true; // an earlier put of ours answered ErrMaybe but did happen
        return true;
      }
      const free = current.err === 'ErrNoKey' || current.value === '';
      if (free) {
        const version = current.err === 'OK' ? current.version : 0;
        const result = await this.ck.put(this.name, this.id, version);
        if (result === 'OK') {
          this.held = true;
          return true;
        }
        if (result === 'ErrMaybe') continue; // look again before deciding
      }
      if (Date.now() >= deadline) return false;
      await sleep(RETRY_MS);
    }
  }

  async release(): Promise<void> {
    if (!this.held) throw new Error(`Lock "${this.name}" released without being held`);
    for (;;) {
      const current = await this.ck.get(this.name);
      if (current.err !== 'OK' || current.value !== this.id) break; // an earlier ErrMaybe put did free it
      const result = await this.ck.put(this.name, '', current.version);
      if (result === 'OK') break;
    }
    this.held = false;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.held) await this.release();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
