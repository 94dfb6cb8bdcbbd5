/**
 * Heap measurements for memory tests. Trustworthy numbers need a full collection first: run node with
 * --expose-gc (the grade and test scripts do); without it we enable gc at run time.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { World } from '../world';

let gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/** Runs two full garbage collections (one can leave objects that a finaliser revived). */
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

/**
 * Live bytes the program holds: V8's heap outside its code spaces, and the memory V8 counts as external, which lives
 * outside the heap: ArrayBuffers (Buffers and typed arrays) and external strings (node makes a string decoded from a
 * Buffer of about a megabyte or more one). A server that kept every reply in either would otherwise weigh nothing.
 * Machine code is the engine's, not the program's data, and it grows with how long a function has run (one optimised
 * the more it is called): each server runs its own copy of the code under test (suite/machines.ts), so a server
 * dropped after a long life frees more of it than one dropped after a short life.
 */
function bytesBesidesCode(external: boolean): number {
  let bytes = external ? process.memoryUsage().external : 0;
  for (const space of v8.getHeapSpaceStatistics())
    if (!space.space_name.startsWith('code_')) bytes += space.space_used_size;
  return bytes;
}

/**
 * Live bytes (machine code left out, external memory counted) after full collections. V8 also discards the
 * bytecode of functions that have not run for a while (the TypeScript compiler loaded by ts-node is megabytes of it)
 * a few collections later, which would make a before/after difference meaningless; so collect until the reading
 * settles. Without `external`, the heap alone (external memory moves by 100 KiB and more with node's own I/O
 * buffers, more than the finest bound, lab 3's, allows).
 */
export function liveHeapBytes(external = true): number {
  let last = Infinity;
  for (let i = 0; i < 30; i++) {
    collectGarbage();
    const now = bytesBesidesCode(external);
    if (Math.abs(now - last) < 16 * 1024) return now;
    last = now;
  }
  return last;
}

/**
 * The lighter of two weighings, the second made only when the first is over `bound`. A heap reading can still
 * catch the engine dropping its own caches between a test's two readings (a lab 2 sweep saw a correct server weigh
 * 391 bytes a client once in 1,000 runs); code that really keeps memory is over the bound both times. `weigh` must
 * build what it weighs afresh each time.
 */
export async function lighterWeighing(bound: number, weigh: (attempt: number) => Promise<number>): Promise<number> {
  const first = await weigh(1);
  return first <= bound ? first : Math.min(first, await weigh(2));
}

/** What can be halted for good: a simulated network (labrpc's Network.halt). */
interface Haltable {
  halt(): void;
}

/**
 * The heap freed when `remove` takes servers away for good (the tester's crash, which runs their kill()): read just
 * before, and again `settleMs` of virtual time later, once their calls in flight have failed. The code's timers are
 * stopped again just before the second reading: a timer its kill() set would keep the server, and all it holds,
 * alive past it, so that it would weigh as nothing freed.
 */
export async function freedWhenGone(remove: () => void, settleMs: number): Promise<number> {
  const world = World.current();
  const before = liveHeapBytes();
  remove();
  await world.sleep(settleMs);
  world.stopCodeTimers();
  return before - liveHeapBytes();
}

/**
 * freedWhenGone for several removals in turn, each weighed alone: one reading before the first and one after each
 * (the reading after one removal is the reading before the next), so that n removals cost n + 1 readings.
 */
export async function freedInTurn(removes: ReadonlyArray<() => void>, settleMs: number): Promise<number[]> {
  const world = World.current();
  const freed: number[] = [];
  let before = liveHeapBytes();
  for (const remove of removes) {
    remove();
    await world.sleep(settleMs);
    world.stopCodeTimers();
    const after = liveHeapBytes();
    freed.push(before - after);
    before = after;
  }
  return freed;
}

/**
 * Stops what could keep a server alive past its removal, before a memory test's first reading: the code's timers
 * (World.stopCodeTimers) and every message on its way on `networks` (Network.halt). What the servers can still reach
 * is then counted in the first reading and freed when they go; a timer left running, or a call always on its way,
 * would otherwise hold them, and what they keep, out of the weighing.
 */
export function stopHoldersOfServers(networks: readonly Haltable[]): void {
  World.current().stopCodeTimers();
  for (const net of networks) net.halt();
}
