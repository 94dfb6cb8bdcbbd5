/**
 * Lab 2 — a helper to hold a lock around some work. Given: you do not need to change it.
 *
 *   const pages = await withLock(new Lock(ck, 'printer'), async () => printAll(), 1000);
 *
 * It returns what the work returns, throws if the lock is not taken within the timeout, and releases the lock
 * afterwards even when the work throws. With TypeScript 5.2+ you can also write
 *
 *   await using lock = new Lock(ck, 'printer');
 *   if (await lock.acquire(1000)) { ... }   // released when the block ends
 */
import type { DistributedLock } from './rpc';

/** Runs `fn` while holding `lock`; throws if the lock cannot be taken within `timeoutMs`. */
export async function withLock<T>(lock: DistributedLock, fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
  if (!(await lock.acquire(timeoutMs))) {
    throw new Error(`Could not acquire the lock within ${timeoutMs} ms`);
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
