/**
 * What crosses from the harness into the compartment: when a test hands the code under test a value (a
 * constructor's arguments, what a function of the code under test is called with), the code gets plain data as
 * a copy of its own, a function as a stand-in that calls it, and any other object (an RPC end, a recording
 * clerk) as a frozen facade of its methods and primitive fields. So it can use what it was given, but never
 * reach the harness's state behind it (an end's network, a clerk's history).
 */

type AnyFunction = (...args: unknown[]) => unknown;

/** True for arrays and objects whose prototype is Object.prototype or null. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** The methods and accessors of one class chain (not Object's), found once per prototype. */
const chains = new WeakMap<object, ReadonlyMap<PropertyKey, PropertyDescriptor>>();

/** Every method and accessor `o`'s class chain gives it (own properties of the chain's prototypes). */
function chainOf(proto: object | null): ReadonlyMap<PropertyKey, PropertyDescriptor> {
  if (!proto || proto === Object.prototype) return new Map();
  const known = chains.get(proto);
  if (known) return known;
  const found = new Map(chainOf(Object.getPrototypeOf(proto) as object | null));
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (key !== 'constructor' && d) found.set(key, d);
  }
  chains.set(proto, found);
  return found;
}

/** The key for objects without a prototype in per-prototype caches. */
const NO_PROTOTYPE = Object.freeze(Object.create(null) as object);

/** Attenuates values for one crossing direction; facades and stand-ins are reused, so identity holds. */
export class Crossing {
  private readonly made = new WeakMap<object, unknown>();
  /** The kit's reachability test's observer, if any, and the copies made while it watches. */
  private readonly witness: ((given: unknown, ownCopy: boolean) => void) | undefined;
  private readonly copies = new WeakSet<object>();

  constructor(witness?: (given: unknown, ownCopy: boolean) => void) {
    this.witness = witness;
  }

  /** What the code under test gets for `value`. */
  handOver(value: unknown): unknown {
    const out = this.give(value);
    if (this.witness) this.witness(out, typeof out === 'object' && out !== null && this.copies.has(out));
    return out;
  }

  private give(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    // What a kit call resolves to is already a copy (labrpc's codec); the promise itself is frozen, so that no
    // `then` or `constructor` of the code's own is found on it where the harness awaits it too.
    if (value instanceof Promise) return Object.freeze(value);
    const known = this.made.get(value);
    if (known !== undefined) return known;
    if (typeof value === 'function') return this.remember(value, this.standIn(value as AnyFunction));
    if (isPlain(value)) return this.copy(value);
    // Not remembered: a WeakMap entry per facade (100,000 clerks' ends in lab 2's memory test) costs more than the
    // identity is worth; handing the same object over twice gives two facades of it.
    return this.facade(value);
  }

  private remember<T>(original: object, made: T): T {
    this.made.set(original, made);
    return made;
  }

  /** A function that calls `fn` and hands over what it returns. */
  private standIn(fn: AnyFunction): AnyFunction {
    const handOver = (v: unknown): unknown => this.handOver(v);
    const standIn = function (this: unknown, ...args: unknown[]): unknown {
      return handOver(Reflect.apply(fn, undefined, args));
    };
    Object.defineProperty(standIn, 'name', { value: fn.name });
    return harden(standIn);
  }

  /** A mutable copy of plain data (the code under test may change its copy; the harness's stays as it was). */
  private copy(value: object): unknown {
    const out: Record<PropertyKey, unknown> | unknown[] = Array.isArray(value) ? [] : {};
    this.made.set(value, out);
    if (this.witness) this.copies.add(out);
    for (const key of Reflect.ownKeys(value)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (d && 'value' in d) (out as Record<PropertyKey, unknown>)[key] = this.handOver(d.value);
    }
    return out;
  }

  /** Per class chain: its method names and its accessors' names. */
  private readonly shapes = new WeakMap<object, { methods: PropertyKey[]; getters: PropertyKey[] }>();

  private shapeOf(proto: object | null): { methods: PropertyKey[]; getters: PropertyKey[] } {
    const known = this.shapes.get(proto ?? NO_PROTOTYPE);
    if (known) return known;
    const shape = { methods: [] as PropertyKey[], getters: [] as PropertyKey[] };
    for (const [key, d] of chainOf(proto)) {
      if ('value' in d && typeof d.value === 'function') shape.methods.push(key);
      else if (d.get) shape.getters.push(key);
    }
    this.shapes.set(proto ?? NO_PROTOTYPE, shape);
    return shape;
  }

  /**
   * A frozen object with `target`'s methods and accessors (calling through to it, the method looked up at each
   * call, so a Proxy the harness made sees the call) and its primitive fields; never its object-valued fields.
   */
  private facade(target: object): object {
    const out = Object.create(null) as Record<PropertyKey, unknown>;
    const handOver = (v: unknown): unknown => this.handOver(v);
    // The closures are the facade's own (nothing shared with the harness), frozen like everything the code gets.
    const method = (key: PropertyKey): AnyFunction =>
      Object.freeze((...args: unknown[]): unknown =>
        handOver(Reflect.apply(Reflect.get(target, key) as AnyFunction, target, args)),
      );
    const getter = (key: PropertyKey): (() => unknown) =>
      Object.freeze((): unknown => handOver(Reflect.get(target, key)));
    const shape = this.shapeOf(Object.getPrototypeOf(target) as object | null);
    for (const key of shape.methods) out[key] = method(key);
    for (const key of shape.getters) Object.defineProperty(out, key, { get: getter(key), enumerable: true });
    for (const key of Reflect.ownKeys(target)) {
      const d = Object.getOwnPropertyDescriptor(target, key);
      if (!d) continue;
      if ('value' in d && typeof d.value === 'function') out[key] = method(key);
      else if ('value' in d) {
        if (d.value === null || (typeof d.value !== 'object' && typeof d.value !== 'function')) out[key] = d.value;
      } else if (d.get) Object.defineProperty(out, key, { get: getter(key), enumerable: true });
    }
    return Object.freeze(out);
  }
}

/**
 * The code under test's export as the harness uses it: calling or constructing it hands every argument over.
 * Anything else is returned as it is.
 */
export function guarded(value: unknown, crossing: Crossing): unknown {
  if (typeof value !== 'function') return value;
  const target = value as AnyFunction;
  const args = (list: unknown[]): unknown[] => list.map((a) => crossing.handOver(a));
  const proxy: unknown = new Proxy(target, {
    apply: (t, thisArg, list: unknown[]) => Reflect.apply(t, thisArg, args(list)),
    construct: (t, list: unknown[], newTarget: AnyFunction) =>
      Reflect.construct(t, args(list), newTarget === proxy ? t : newTarget) as object,
  });
  return proxy;
}
