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

/** Every method and accessor an object answers to, from its own properties and its class chain (not Object's). */
function interfaceOf(target: object): Map<PropertyKey, PropertyDescriptor> {
  const found = new Map<PropertyKey, PropertyDescriptor>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null)
    for (const key of Reflect.ownKeys(o)) {
      if (key === 'constructor' || found.has(key)) continue;
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d) found.set(key, d);
    }
  return found;
}

/** Attenuates values for one crossing direction; facades and stand-ins are reused, so identity holds. */
export class Crossing {
  private readonly made = new WeakMap<object, unknown>();

  /** What the code under test gets for `value`. */
  handOver(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    if (value instanceof Promise) return value; // what a kit call resolves to is already a copy (labrpc's codec)
    const known = this.made.get(value);
    if (known !== undefined) return known;
    if (typeof value === 'function') return this.remember(value, this.standIn(value as AnyFunction));
    if (isPlain(value)) return this.copy(value);
    return this.remember(value, this.facade(value));
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
    for (const key of Reflect.ownKeys(value)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (d && 'value' in d) (out as Record<PropertyKey, unknown>)[key] = this.handOver(d.value);
    }
    return out;
  }

  /** A frozen object with `target`'s methods and accessors (bound to it) and its primitive fields. */
  private facade(target: object): object {
    const out: Record<PropertyKey, unknown> = Object.create(null) as Record<PropertyKey, unknown>;
    const handOver = (v: unknown): unknown => this.handOver(v);
    for (const [key, d] of interfaceOf(target)) {
      if ('value' in d && typeof d.value === 'function') {
        // Looked up at each call, through `target` (a Proxy the harness made, say, sees the call).
        const bound = (...args: unknown[]): unknown =>
          handOver(Reflect.apply(Reflect.get(target, key) as AnyFunction, target, args));
        Object.defineProperty(bound, 'name', { value: String((d.value as AnyFunction).name) });
        out[key] = bound;
      } else if ('value' in d) {
        if (d.value === null || (typeof d.value !== 'object' && typeof d.value !== 'function')) out[key] = d.value;
      } else if (d.get) {
        const get = d.get;
        Object.defineProperty(out, key, { get: () => handOver(Reflect.apply(get, target, [])), enumerable: true });
      }
    }
    return harden(out);
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
