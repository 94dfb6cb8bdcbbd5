/**
 * Object.freeze for the locked-down realm that keeps V8's fast indexed stores: installed before SES loads, which
 * takes freeze from Object once. V8 gives an object frozen by its own freeze a "frozen elements" kind, and from then
 * on every store by index (`a[i] = x`) to an object with that object on its prototype chain takes the slow runtime
 * path (to look for read-only elements). Once Object.prototype, Array.prototype and the typed arrays' prototypes
 * are frozen that way, every array, typed array and Buffer store is 10 to 80 times slower, harness and student code
 * alike. Those prototypes are frozen here as the specification's SetIntegrityLevel does it (no more extensions, then
 * each property non-configurable and, for data, non-writable), which V8 keeps apart from its elements kind; every
 * other object is frozen by V8's own freeze, whose objects stay fast to read.
 */

/** V8's own Object.freeze. */
const nativeFreeze = Object.freeze;

/** The prototypes on the chains of arrays, typed arrays and Buffers: where a frozen elements kind slows every store. */
function elementPrototypes(): WeakSet<object> {
  const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
  const set = new WeakSet<object>([Object.prototype, Array.prototype, typedArray.prototype, Buffer.prototype]);
  for (const TypedArray of [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ])
    set.add(TypedArray.prototype);
  return set;
}

/** SetIntegrityLevel(o, frozen), step by step as the specification writes it. */
export function freezeStepByStep<T extends object>(o: T): T {
  if (!Reflect.preventExtensions(o)) throw new TypeError('Cannot freeze: the object refused preventExtensions');
  for (const key of Reflect.ownKeys(o)) {
    const current = Reflect.getOwnPropertyDescriptor(o, key);
    if (current === undefined) continue;
    const frozen: PropertyDescriptor =
      'value' in current ? { configurable: false, writable: false } : { configurable: false };
    if (!Reflect.defineProperty(o, key, frozen)) throw new TypeError(`Cannot freeze property ${String(key)}`);
  }
  return o;
}

/** Replaces Object.freeze by one that freezes the element prototypes step by step (done once, before SES loads). */
function installFreeze(): void {
  const stepByStep = elementPrototypes();
  const freeze = <T>(o: T): Readonly<T> =>
    typeof o === 'object' && o !== null && stepByStep.has(o) ? freezeStepByStep(o) : nativeFreeze(o);
  Object.defineProperty(Object, 'freeze', { value: freeze, writable: true, enumerable: false, configurable: true });
}

installFreeze();
