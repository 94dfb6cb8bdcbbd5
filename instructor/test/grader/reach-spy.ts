/**
 * The reachability probe's spy, on the code under test's side of the boundary: it wraps the code's exports as they
 * load (as the harness gets them), and sees every value the code receives, whichever route it comes by (a constructor's or function's
 * arguments, the arguments of the methods of the objects it builds and hands back, of the callbacks it hands out,
 * what the harness's functions and methods it calls return, throw or reject with). It relies on nothing of the
 * grader's crossing, so it sees what a crossing lets through.
 */
type AnyFunction = (...args: unknown[]) => unknown;

/** True for arrays and objects whose prototype is Object.prototype or null. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** True for data: plain, with no method of its own (a facade has no prototype, and methods). */
function isData(v: object): boolean {
  return (
    isPlain(v) && !Reflect.ownKeys(v).some((k) => typeof Reflect.getOwnPropertyDescriptor(v, k)?.value === 'function')
  );
}

/** A view of `v` whose reads go through `read` (a method read gives a function calling through a spy). */
function viewOf(v: object, read: (key: PropertyKey) => unknown): object {
  return new Proxy(Object.create(null) as object, {
    get: (_t, key) => read(key),
    set: (_t, key, x) => Reflect.set(v, key, x),
    has: (_t, key) => Reflect.has(v, key),
    ownKeys: () => Reflect.ownKeys(v),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(v, key);
      return d && { enumerable: d.enumerable, configurable: true, writable: false, value: read(key) };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(v),
  });
}

/**
 * A spy that calls `note` with each value the code receives: it gives, for one module's exports, what the harness
 * gets in their place (the code's own modules keep importing each other unwatched).
 */
export function spy(note: (received: unknown, how: string) => void): (exports: unknown) => unknown {
  /** The spy's views of the code's objects, and what each views (handed back, the code gets its own). */
  const views = new WeakMap<object, unknown>();
  /** What the code receives: noted, and watched (calls out through it are seen). */
  const inbound = (v: unknown, how: string): unknown => {
    if (typeof v === 'object' && v !== null && views.has(v)) return views.get(v);
    note(v, how);
    return watchIn(v, how);
  };
  /** A promise the code receives: what it settles with is received too. */
  const settled = (p: Promise<unknown>, name: string): Promise<unknown> =>
    p.then(
      (v) => inbound(v, `what ${name} resolved to`),
      (e: unknown) => {
        throw inbound(e, `what ${name} rejected with`);
      },
    );
  /** Calls a function of the harness's for the code: what it returns or throws is received. */
  const callOut = (fn: AnyFunction, thisArg: unknown, args: unknown[], name: string): unknown => {
    let result: unknown;
    try {
      result = Reflect.apply(
        fn,
        thisArg,
        args.map((a, i) => outbound(a, `argument ${i} to ${name}()`)),
      );
    } catch (e) {
      throw inbound(e, `what ${name}() threw`);
    }
    return result instanceof Promise ? settled(result, `${name}()`) : inbound(result, `what ${name}() returned`);
  };
  const watchIn = (v: unknown, how: string): unknown => {
    if (typeof v === 'function') return (...args: unknown[]) => callOut(v as AnyFunction, undefined, args, `(${how})`);
    if (v === null || typeof v !== 'object' || v instanceof Promise || isData(v)) return v;
    return viewOf(v, (key) => {
      const x = Reflect.get(v, key) as unknown;
      const name = `(${how}).${String(key)}`;
      return typeof x === 'function' ? (...args: unknown[]) => callOut(x as AnyFunction, v, args, name) : x;
    });
  };
  /** Calls a function of the code's for the harness: its arguments are received. */
  const argsIn = (args: unknown[], call: string): unknown[] =>
    args.map((a, i) => inbound(a, `argument ${i} of ${call}`));
  const callIn = (fn: AnyFunction, thisArg: unknown, args: unknown[], name: string): unknown =>
    outbound(Reflect.apply(fn, thisArg, argsIn(args, `${name}()`)), `what ${name}() returned`);
  /** What the code hands out: its functions, and the methods of its objects, seen through a view. */
  const outbound = (v: unknown, name: string): unknown => {
    if (typeof v === 'function') return watchOut(v as AnyFunction, name);
    if (v === null || typeof v !== 'object' || isPlain(v)) return v;
    if (v instanceof Promise) return v.then((x) => outbound(x, name));
    const read = (key: PropertyKey): unknown => {
      const x = Reflect.get(v, key) as unknown;
      if (typeof x !== 'function' || key === 'constructor') return x;
      return (...args: unknown[]) => callIn(x as AnyFunction, v, args, `(${name}).${String(key)}`);
    };
    const view = viewOf(v, read);
    views.set(view, v);
    return view;
  };
  const watchOut = (fn: AnyFunction, name: string): unknown =>
    new Proxy(fn, {
      apply: (t, thisArg, args: unknown[]) => callIn(t, thisArg, args, name),
      construct: (t, args: unknown[], newTarget: AnyFunction) =>
        outbound(Reflect.construct(t, argsIn(args, `new ${name}()`), newTarget), `new ${name}()`) as object,
    });
  return (exports) => {
    if (exports === null || typeof exports !== 'object') return exports;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(exports)) out[key] = outbound((exports as Record<string, unknown>)[key], key);
    return out;
  };
}
