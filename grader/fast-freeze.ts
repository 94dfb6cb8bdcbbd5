/**
 * Object.freeze for the locked-down realm that keeps V8's fast indexed stores: installed before SES loads, which
 * takes freeze from Object once. V8 gives an object frozen by its own freeze a "frozen elements" kind, and from then
 * on every store by index (`a[i] = x`) to an object with that object on its prototype chain takes the slow runtime
 * path (to look for read-only elements). Once Object.prototype and the typed arrays' prototypes are frozen that way,
 * every typed array and Buffer store is 60 to 80 times slower, harness and student code alike. Those prototypes are
 * frozen here as the specification's SetIntegrityLevel does it (no more extensions, then each property
 * non-configurable and, for data, non-writable), which V8 keeps apart from its elements kind; every other object
 * (Array.prototype too, see elementPrototypes) is frozen by V8's own freeze, whose objects stay fast to read.
 */

/** V8's own Object.freeze: the kit's freeze of objects that are no prototype (the crossing's facades and copies). */
export const nativeFreeze = Object.freeze;

/** The prototypes on the chains of typed arrays and Buffers (and every object): where a frozen elements kind slows every store. */
function elementPrototypes(): WeakSet<object> {
  const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
  // Not Array.prototype: frozen key by key it keeps its elements kind but loses V8's fast properties, and array
  // methods (push, slice ...) called through it cost lab 2's grade more than its faster stores save.
  const set = new WeakSet<object>([Object.prototype, typedArray.prototype, Buffer.prototype]);
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
