/**
 * Lab 2 — a lock built on the key/value service. YOU WRITE THIS FILE.
 *
 * Store the lock's state in the key `name`. Many clients, each with its own Lock object, may compete for the
 * same name; only one may hold it at a time. See lab2/README.md, part 3.
 */
import type { DistributedLock, KVClerk } from './rpc';

export class Lock implements DistributedLock {
  private readonly ck: KVClerk;
  private readonly name: string;

  // TODO: what does each Lock object need to know to recognise its own ownership?

  constructor(ck: KVClerk, name: string) {
    this.ck = ck;
    this.name = name;
  }

  /** Takes the lock, waiting while another client holds it; gives up (false) after `timeoutMs` virtual ms. */
  async acquire(timeoutMs = Infinity): Promise<boolean> {
    // TODO: implement acquire with conditional puts.
    void this.ck;
    throw new Error(
      `TODO: Lock.acquire is not implemented yet (lock "${this.name}", timeout ${timeoutMs}); see lab2/README.md, part 3`,
    );
  }

  /** Frees the lock so another client can take it. */
  async release(): Promise<void> {
    // TODO: implement release.
    throw new Error(`TODO: Lock.release is not implemented yet (lock "${this.name}"); see lab2/README.md, part 3`);
  }

  /** Lets `await using lock = new Lock(ck, name)` release the lock at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    // TODO: release the lock, but only if this object holds it (a block may end without having acquired it).
  }
}
