/**
 * Locks the harness down inside the sandboxed test process, after the suite loaded and before the code under
 * test does: the suite and the kit's modules (their exports, exported classes' methods) are frozen, the
 * module loader can no longer be replaced, and so are the functions the harness measures and signs with.
 * The intrinsics the harness relies on (Array.prototype, JSON, Promise...) get read-only methods and no new
 * properties; node's --frozen-intrinsics cannot be used, because the simulated world replaces Math.random,
 * Date, timers and process.hrtime during a test.
 */
import type { createHmac as CreateHmac } from 'node:crypto';
import Module from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';

type Obj = Record<PropertyKey, unknown>;

/** Makes every function-valued data property of `o` read-only (methods; data fields stay writable). */
function lockMethods(o: object): void {
  for (const key of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (!d || !('value' in d) || typeof d.value !== 'function' || !d.configurable) continue;
    Object.defineProperty(o, key, { value: d.value, writable: false, configurable: false, enumerable: d.enumerable });
  }
}

/** Makes one method of `o` read-only. */
function lockOne(o: object, key: PropertyKey): void {
  const d = Object.getOwnPropertyDescriptor(o, key);
  if (d?.configurable && 'value' in d)
    Object.defineProperty(o, key, { value: d.value, writable: false, configurable: false, enumerable: d.enumerable });
}

/** The global names the world never replaces: their bindings become read-only. */
const GLOBALS = [
  'Object',
  'Function',
  'Array',
  'String',
  'Number',
  'Boolean',
  'Symbol',
  'BigInt',
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'Promise',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'RegExp',
  'JSON',
  'Reflect',
  'Proxy',
  'Math',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Uint8ClampedArray',
  'Buffer',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURIComponent',
  'decodeURIComponent',
  'globalThis',
] as const;

/**
 * Read-only methods on the intrinsics and their prototypes, no new properties on the prototypes (no getter
 * planted on Object.prototype), and read-only global bindings for them. Math.random stays replaceable (the
 * world replaces it).
 */
function lockIntrinsics(): void {
  const g = globalThis as unknown as Obj;
  const iteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
  const asyncFn = Object.getPrototypeOf(async () => undefined) as object;
  const typedArray = Object.getPrototypeOf(Uint8Array) as object;
  const protos: object[] = [iteratorProto, asyncFn, typedArray, (typedArray as { prototype: object }).prototype];
  for (const name of GLOBALS) {
    const v = g[name];
    if (name === 'globalThis' || (typeof v !== 'function' && (typeof v !== 'object' || v === null))) continue;
    if (name === 'Math') {
      for (const key of Reflect.ownKeys(Math)) if (key !== 'random') lockOne(Math, key);
    } else lockMethods(v as object);
    const proto = (v as { prototype?: unknown }).prototype;
    if (proto && typeof proto === 'object') protos.push(proto);
  }
  for (const p of protos) {
    lockMethods(p);
    Object.preventExtensions(p);
  }
  for (const name of GLOBALS) lockOne(globalThis, name);
}

/** Freezes plain objects and arrays all the way down (class instances are left as they are). */
function deepFreeze(v: unknown, seen: Set<unknown>): void {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return;
  seen.add(v);
  if (typeof v === 'function') {
    lockMethods(v);
    const proto = (v as { prototype?: unknown }).prototype;
    if (proto && typeof proto === 'object') lockMethods(proto);
    return;
  }
  const p = Object.getPrototypeOf(v);
  if (p !== Object.prototype && p !== Array.prototype && p !== null) return;
  for (const key of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (d && 'value' in d) deepFreeze(d.value, seen);
  }
  Object.freeze(v);
}

/** True when `file` is inside `dir`. */
function inside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Locks the harness down; `implDir` holds the code under test (not loaded yet), whose modules stay as written. */
export function lockDown(implDir: string, suite: object, createHmac: typeof CreateHmac): void {
  const seen = new Set<unknown>();
  deepFreeze(suite, seen);
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!mod || inside(file, implDir)) continue;
    const exports = mod.exports as unknown;
    if (exports === null || typeof exports !== 'object') continue;
    if (!file.split(path.sep).includes('node_modules')) {
      for (const key of Reflect.ownKeys(exports)) {
        const d = Object.getOwnPropertyDescriptor(exports, key);
        if (d && 'value' in d) deepFreeze(d.value, seen);
        else if (d?.get) deepFreeze((exports as Obj)[key], seen);
      }
    }
    Object.freeze(exports);
  }
  // The module loader: a lazily required kit module must load as the kit wrote it.
  const loader = Module as unknown as Obj & { prototype: object; _extensions: object };
  for (const key of ['_load', '_resolveFilename', '_findPath', 'wrap']) {
    const d = Object.getOwnPropertyDescriptor(loader, key);
    if (d?.configurable && 'value' in d)
      Object.defineProperty(loader, key, { value: d.value, writable: false, configurable: false });
  }
  lockMethods(loader.prototype);
  Object.freeze(loader._extensions);
  // What the harness signs and measures with.
  Object.freeze(Object.getPrototypeOf(createHmac('sha256', 'lock')));
  lockMethods(Buffer);
  lockMethods(Buffer.prototype);
  for (const key of ['memoryUsage', 'exit', 'on', 'emit', 'removeListener', 'off'] as const) lockOne(process, key);
  lockMethods(process.memoryUsage);
  lockIntrinsics();
  lockMethods(v8);
  const gc = Object.getOwnPropertyDescriptor(globalThis, 'gc');
  if (gc?.configurable)
    Object.defineProperty(globalThis, 'gc', { value: gc.value, writable: false, configurable: false });
}
