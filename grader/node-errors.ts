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
  ['buffer.swap16()', () => Buffer.alloc(1).swap16()],
  ['buffer.readBigInt64LE()', () => Buffer.alloc(1).readBigInt64LE()],
  ['new URLSearchParams([[1]])', () => new URLSearchParams([[1]] as unknown as string[][])],
  [
    'new URLSearchParams({ [Symbol.iterator]: 5 })',
    () => new URLSearchParams({ [Symbol.iterator]: 5 } as unknown as string),
  ],
  ['buffer.fill(Buffer.alloc(0))', () => Buffer.alloc(1).fill(Buffer.alloc(0))],
  ['URLSearchParams.prototype.sort.call({})', () => URLSearchParams.prototype.sort.call({})],
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

/**
 * Instances of the endowment classes, made with each kind of argument that changes what they hold: what they keep
 * under their own (often symbol-keyed) properties is node's (a non-UTF-8 TextDecoder keeps ICU's Converter).
 */
export const NODE_INSTANCE_SOURCES: ReadonlyArray<readonly [string, () => unknown]> = [
  ...[
    'utf-8',
    'utf-16le',
    'utf-16be',
    'latin1',
    'windows-1252',
    'iso-8859-2',
    'koi8-r',
    'gbk',
    'shift_jis',
    'big5',
  ].flatMap((encoding): Array<readonly [string, () => unknown]> => [
    [`new TextDecoder("${encoding}")`, () => new TextDecoder(encoding)],
    [`new TextDecoder("${encoding}", { fatal: true })`, () => new TextDecoder(encoding, { fatal: true })],
  ]),
  ['new TextEncoder()', () => new TextEncoder()],
  ['new URL("http://a/b?c=d")', () => new URL('http://a/b?c=d')],
  ['new URLSearchParams("a=1")', () => new URLSearchParams('a=1')],
  ['Buffer.alloc(1)', () => Buffer.alloc(1)],
];

/**
 * node's whole table of error classes (internal/errors' `codes`, each code a class of its own, some with a class per
 * base besides), when the process may read node's internals (the sandbox's `--expose-internals`): undefined otherwise.
 */
function nodeErrorClasses(): object[] | undefined {
  let internal: { codes?: Record<string, unknown>; AbortError?: unknown };
  try {
    internal = require('internal/errors') as typeof internal;
  } catch {
    return undefined;
  }
  const classes: object[] = [];
  const add = (c: unknown): void => {
    if (typeof c === 'function') classes.push(c);
  };
  add(internal.AbortError);
  for (const c of Object.values(internal.codes ?? {})) {
    add(c);
    // A code thrown with more than one base keeps each variant as a static of its class (`.RangeError`, ...).
    if (typeof c === 'function') for (const v of Object.values(c as object)) add(v);
  }
  return classes;
}

/** Locks `first`'s prototype chain up to the realm's frozen intrinsics, and freezes each constructor on it. */
function lockChain(first: object): void {
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

let hardened = false;

/**
 * Once per process, before code under test loads: each source's result or error, and its prototype chain,
 * constructors and their statics, locked (prototypes: their instances still set their own properties) or frozen.
 */
export function hardenNodeObjects(): void {
  if (hardened) return;
  hardened = true;
  // Every error class node has, where the process may list them: no call of the code's can throw one left open.
  for (const c of nodeErrorClasses() ?? []) {
    const proto = (c as { prototype?: unknown }).prototype;
    if (typeof proto === 'object' && proto !== null) lockChain(Object.create(proto) as object);
    if (!Object.isFrozen(c)) freezeClass(c);
  }
  for (const [, source] of NODE_OBJECT_SOURCES) {
    const first = outcome(source);
    if (typeof first === 'object' && first !== null) lockChain(first);
  }
  // What instances keep of node's (an ICU Converter, a URL's context): their classes locked the same way.
  for (const [, source] of NODE_INSTANCE_SOURCES) {
    const made = outcome(source);
    if (typeof made !== 'object' || made === null) continue;
    for (const key of Reflect.ownKeys(made)) {
      const d = Object.getOwnPropertyDescriptor(made, key);
      const held: unknown = d && 'value' in d ? d.value : undefined;
      if (typeof held === 'object' && held !== null) lockChain(held);
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
