/**
 * node's own error classes and iterators that the endowments lead to, made unchangeable before code under test
 * loads: SES freezes JavaScript's intrinsics, not node's, and every copy of the code in a process (each server a
 * machine of its own) would otherwise share them as a table (a fortieth review hid a server's store on the
 * prototype of the error `Buffer.alloc(-1)` throws).
 */
import crypto from 'node:crypto';
import { lockAllowingOverrides } from './node-prototypes';

/**
 * Calls of what the endowments give code under test that throw node's own errors (each code has a class of its
 * own) or return node's own iterators: the objects whose prototype chains are made unchangeable.
 */
export const NODE_OBJECT_SOURCES: ReadonlyArray<readonly [string, () => unknown]> = [
  ['Buffer.alloc(-1)', () => Buffer.alloc(-1)],
  ['buffer.readUInt8(9)', () => Buffer.from('a').readUInt8(9)],
  ['Buffer.from(Symbol())', () => Buffer.from(Symbol() as unknown as string)],
  ['buffer.toString("zzz")', () => Buffer.alloc(1).toString('zzz' as BufferEncoding)],
  ['buffer.write("x", 9)', () => Buffer.alloc(1).write('x', 9)],
  ['buffer.fill("x", 9)', () => Buffer.alloc(1).fill('x', 9)],
  ['Buffer.concat("x")', () => Buffer.concat('x' as unknown as Uint8Array[])],
  ['Buffer.allocUnsafe(2**53)', () => Buffer.allocUnsafe(2 ** 53)],
  ['Buffer.compare(1, 2)', () => Buffer.compare(1 as unknown as Uint8Array, 2 as unknown as Uint8Array)],
  ['new TextDecoder("zzz")', () => new TextDecoder('zzz')],
  ['TextDecoder.decode(5)', () => new TextDecoder().decode(5 as unknown as Uint8Array)],
  ['TextEncoder.encodeInto("a", 5)', () => new TextEncoder().encodeInto('a', 5 as unknown as Uint8Array)],
  ['structuredClone(() => 1)', () => structuredClone(() => 1)],
  ['structuredClone(Symbol())', () => structuredClone(Symbol())],
  ['new URL("nope")', () => new URL('nope')],
  ['new URLSearchParams().entries()', () => new URLSearchParams('a=1').entries()],
  ['new URLSearchParams().keys()', () => new URLSearchParams('a=1').keys()],
  ['URLSearchParams.append()', () => (new URLSearchParams() as unknown as { append(): void }).append()],
  ['queueMicrotask(5)', () => queueMicrotask(5 as unknown as () => void)],
  ['hash.update(5)', () => crypto.createHash('sha1').update(5 as unknown as string)],
  ['createHash("nope")', () => crypto.createHash('nope')],
  ['hash.digest("zzz")', () => crypto.createHash('sha1').digest('zzz' as crypto.BinaryToTextEncoding)],
];

/** What one source gives: its result, or what it threw. */
function outcome(source: () => unknown): unknown {
  try {
    return source();
  } catch (error) {
    return error;
  }
}

let hardened = false;

/**
 * Once per process, before code under test loads: each source's result or error, and its prototype chain,
 * constructors and their statics, locked (prototypes: their instances still set their own properties) or frozen.
 */
export function hardenNodeObjects(): void {
  if (hardened) return;
  hardened = true;
  for (const [, source] of NODE_OBJECT_SOURCES) {
    const first = outcome(source);
    if (typeof first !== 'object' || first === null) continue;
    for (
      let p = Object.getPrototypeOf(first) as object | null;
      p !== null;
      p = Object.getPrototypeOf(p) as object | null
    ) {
      if (Object.isFrozen(p)) break; // the realm's own, frozen by the lockdown with all above it
      const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown;
      lockAllowingOverrides(p);
      if (typeof ctor === 'function' && !Object.isFrozen(ctor)) freezeClass(ctor);
    }
  }
}

/** Freezes `ctor` and the functions and plain objects it holds (DOMException's constants, a class's statics). */
function freezeClass(ctor: object): void {
  for (const key of Reflect.ownKeys(ctor)) {
    const d = Object.getOwnPropertyDescriptor(ctor, key);
    const value: unknown = d && 'value' in d ? d.value : undefined;
    if (key !== 'prototype' && typeof value === 'function' && !Object.isFrozen(value)) Object.freeze(value);
  }
  Object.freeze(ctor);
}
