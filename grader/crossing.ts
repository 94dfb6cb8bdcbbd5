/**
 * The one place where values cross between the harness and the code under test, both ways. To the code (`handOver`:
 * the arguments of its functions, constructors and methods, the arguments of its callbacks, what a harness function
 * it calls returns): plain data as a copy of its own, a function as a stand-in, an object as a frozen facade of its
 * methods and primitive fields, a value class's object (a lab 7 ShardConfig) as a copy of the compartment's own
 * class, a promise as a promise of its own, a thrown or rejected error as a fresh error carrying only its name and
 * message. From the code (`receive`: what its functions return or resolve to, what it passes the harness): an object
 * with behaviour as a view whose methods hand their arguments over, a function as a stand-in, a value class's object
 * as the harness's own class; plain data is read as data. So the code can use what it was given, but never reach the
 * harness's state behind it (an end's network, a clerk's history, a kit class or constant).
 */
import { types } from 'node:util';
import { nativeFreeze as freeze } from './fast-freeze';
import { stacklessError } from '../labrpc/stackless';

type AnyFunction = (...args: unknown[]) => unknown;
type ErrorClass = abstract new (...args: never[]) => Error;

/** True for arrays and objects whose prototype is Object.prototype or null. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** Map.prototype.entries, captured: a map's own `entries` or iterator may be the code's. */
const mapEntries = Map.prototype.entries;

/** What copy() answers, asked to, for a plain object with a method of its own (it is viewed, not copied). */
const HAS_BEHAVIOUR = Symbol('has behaviour');

/**
 * True for plain data frozen all through: every property a data property, every object in it plain and frozen too,
 * every array of the realm's own Array.prototype (one whose prototype the code chose answers a read of a hole, or
 * `toString`, with the code's functions: it is copied instead, which reads each index once).
 */
function isFrozenData(v: object, depth = 0): boolean {
  if (!Object.isFrozen(v) || depth > 32 || types.isProxy(v) || !isPlain(v)) return false;
  if (Array.isArray(v) && Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (const key of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (!d || !('value' in d)) return false;
    const x = d.value as unknown;
    if (typeof x === 'function' || (typeof x === 'object' && x !== null && !isFrozenData(x, depth + 1))) return false;
  }
  return true;
}

/** A promise of the realm's own class, no proxy, nothing of its own on it: its `then` is the frozen intrinsic's. */
function isGenuinePromise(v: object): v is Promise<unknown> {
  return (
    types.isPromise(v) &&
    !types.isProxy(v) &&
    Object.getPrototypeOf(v) === Promise.prototype &&
    Reflect.ownKeys(v).length === 0
  );
}

/**
 * The key a view of the code's object answers with that object (module-private: a WeakMap of 100,000 clerks' views
 * in lab 2's memory test made each of its collections slower by half).
 */
const VIEWED = Symbol('viewed');

/**
 * The mark of the views the crossing made: a private field stamped on each view's proxy (a base class whose
 * constructor returns the object it is given), read with `#view in`, which no proxy trap sees. A WeakSet of
 * 100,000 clerks' views would cost each collection as the WeakMap did (see VIEWED).
 */
class ViewBrand extends (function (this: unknown, target: object): object {
  return target;
} as unknown as new (target: object) => object) {
  #view = true;

  /** Stamps `view` as one of the crossing's. */
  static mark(view: object): void {
    new ViewBrand(view);
  }

  /** True for a view the crossing made. */
  static marks(value: object): boolean {
    return #view in value;
  }
}

/**
 * The facade each crossing made of a harness object, stamped on that object as a private field (as ViewBrand stamps
 * views): the code gets one facade per object, as a program has one object, so that a table the code keys by it (a
 * WeakMap of clerks) works under the grader as it does anywhere. Not a WeakMap: 100,000 clerks' ends would cost each
 * collection as VIEWED's map did.
 */
class FacadeMemo extends (function (this: unknown, target: object): object {
  return target;
} as unknown as new (target: object) => object) {
  /** The first crossing that handed the object over, and its facade (another crossing makes a facade each time). */
  #by: Crossing | undefined;
  #facade: object | undefined;

  /** The facade `by` made of `target`, if it made one. */
  static of(target: object, by: Crossing): object | undefined {
    return #by in target && (target as FacadeMemo).#by === by ? (target as FacadeMemo).#facade : undefined;
  }

  /** Remembers that `by` made `facade` of `target` (the first crossing only). */
  static remember(target: object, by: Crossing, facade: object): void {
    if (#by in target) return;
    try {
      new FacadeMemo(target);
    } catch {
      return; // an engine that keeps private fields off objects that cannot be extended: a facade per hand-over
    }
    (target as FacadeMemo).#by = by;
    (target as FacadeMemo).#facade = facade;
  }
}

/** Where a view's proxy target holds the code's object it views (module-private, like VIEWED). */
const VIEW_OF = Symbol('view of');

/**
 * A view's proxy target: empty but for the code's object it views, and the methods read through it, each under its
 * key (made on the first read; a map of them per view weighed on lab 2's 100,000 clerks).
 */
interface ViewTarget {
  [VIEW_OF]: object;
  [key: PropertyKey]: AnyFunction | object | undefined;
}

/** The realm's `then`, captured: calling it on a genuine promise runs no code of the code under test. */
const then = Promise.prototype.then;

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
const NO_PROTOTYPE = freeze(Object.create(null) as object);

/** What the crossing is told about the two sides. */
export interface CrossingOptions {
  /** The kit's reachability test's observer: each value handed over, and whether it is a fresh object of the code's own. */
  readonly witness?: (given: unknown, ownCopy: boolean) => void;
  /** Error classes both sides hold (labrpc's, hardened): a harness error of one crosses as a fresh error of that class. */
  readonly sharedErrors?: readonly ErrorClass[];
  /** For a value class's prototype on one side, its twin on the other (lab 7's ShardConfig); undefined for others. */
  readonly twin?: (proto: object) => object | undefined;
  /** Sees each harness error before its copy crosses (a test's own verdict fails the run there, caught or not). */
  readonly onThrown?: (error: unknown) => void;
}

/** Attenuates what crosses between the harness and the code under test; facades and stand-ins are reused, so identity holds. */
export class Crossing {
  /** The stand-in made for each harness function handed over. */
  private readonly made = new WeakMap<object, unknown>();
  /** What each stand-in of the code's functions was made for: handed back, the code gets its own function again. */
  private readonly origins = new WeakMap<object, object>();
  /** Stand-ins made for the code's functions, by function. */
  private readonly received = new WeakMap<object, unknown>();
  private readonly copies = new WeakSet<object>();
  /** What the code threw or rejected with: handed back to it, it is its own again. */
  private readonly fromCode = new WeakSet<object>();
  private readonly options: CrossingOptions;
  /** A harness promise's callbacks when it crosses (made once: a closure pair per call in lab 2's 100,000-clerk test showed). */
  private readonly toCode: readonly [(v: unknown) => unknown, (e: unknown) => never];
  /** A code promise's callbacks when it comes back, made once likewise. */
  private readonly fromCodeSettled: readonly [(v: unknown) => unknown, (e: unknown) => never];
  /** The one handler of every view of the code's objects (each view's target is found on its proxy target). */
  private readonly viewHandler: ProxyHandler<ViewTarget>;

  constructor(options: CrossingOptions = {}) {
    this.options = options;
    this.toCode = [
      (v) => this.handOver(v),
      (e) => {
        throw this.handOverThrown(e);
      },
    ];
    this.fromCodeSettled = [
      (v) => this.receiveResultValue(v),
      (e) => {
        throw this.codeThrew(e);
      },
    ];
    this.viewHandler = this.makeViewHandler();
  }

  /** What the code under test gets for `value`. */
  handOver(value: unknown): unknown {
    const out = this.give(value);
    if (this.options.witness)
      this.options.witness(out, typeof out === 'object' && out !== null && this.copies.has(out));
    return out;
  }

  /** What the code under test gets for `error`, thrown or rejected by the harness: never the harness's object or class. */
  handOverThrown(error: unknown): unknown {
    if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return error;
    const origin = this.originOf(error);
    if (origin !== undefined) return origin;
    if (this.fromCode.has(error)) return error;
    this.options.onThrown?.(error);
    const out = this.errorCopy(error);
    this.options.witness?.(out, true);
    return out;
  }

  /**
   * What the harness gets for `value`, which the code under test returned, resolved to or passed it. A result may be
   * an object literal with methods (`{ port, close }`), viewed like a class's object; anywhere else (a callback's
   * argument, a field, a part of data) a plain object is data, and a function in data is no data: it is left out,
   * so that nothing the harness keeps runs the code's functions when read (`toJSON`, `toString`, `valueOf`).
   */
  receive(value: unknown, result = false): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    if (typeof value === 'function') return this.receivedFunction(value as AnyFunction);
    if (types.isProxy(value) || !isPlain(value)) return this.receivedObject(value);
    // Plain data of the code's is read once, as a copy: a later change cannot make two reads answer apart. Frozen
    // through and through (a hardened given module's exports), it cannot change, and is its own copy. An object
    // literal with a method of its own is viewed, as a class's object is. What a getter of the code's throws while
    // it is read is the code's own, as if its function had thrown it.
    if (Object.isFrozen(value) && isFrozenData(value)) return value;
    let copied: unknown;
    try {
      copied = this.copy(value, this.receiveValue, undefined, result);
    } catch (err) {
      throw this.codeThrew(err);
    }
    return copied === HAS_BEHAVIOUR ? this.receivedObject(value) : copied;
  }

  /** receive for what a function or constructor of the code returned or resolved to. */
  private receiveResultValue(value: unknown): unknown {
    return this.receive(value, true);
  }

  /** receive, bound once (copy's callback for the parts of the code's data). */
  private readonly receiveValue = (v: unknown): unknown => this.receive(v);
  /** handOver, bound once likewise. */
  private readonly handOverValue = (v: unknown): unknown => this.handOver(v);

  private give(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    const origin = this.originOf(value);
    if (origin !== undefined) return origin;
    if (typeof value === 'function')
      return this.made.get(value) ?? this.remember(value, this.standIn(value as AnyFunction));
    if (isPlain(value)) return this.copy(value, this.handOverValue);
    if (types.isPromise(value)) return this.promiseFor(value as Promise<unknown>);
    if (types.isNativeError(value) || value instanceof Error) return this.errorCopy(value);
    const twin = this.twinOf(value);
    if (twin) return this.twinCopy(value, twin, (v) => this.handOver(v));
    const known = FacadeMemo.of(value, this);
    if (known !== undefined) return known;
    const facade = this.facade(value);
    FacadeMemo.remember(value, this, facade);
    return facade;
  }

  private remember<T>(original: object, made: T): T {
    this.made.set(original, made);
    return made;
  }

  /**
   * A promise of the code's own, settled as `p` is: with what it resolves to handed over, or its error's copy. Made
   * for the code and held by nothing of the harness's, it is the code's to change, like a copy (freezing it doubled
   * the cost of a call).
   */
  private promiseFor(p: Promise<unknown>): Promise<unknown> {
    const own = Reflect.apply(then, p, this.toCode) as Promise<unknown>;
    if (this.options.witness) this.copies.add(own);
    return own;
  }

  /** Calls `fn` on the harness's side for the code: arguments received, the result handed over, an error's copy thrown. */
  private callFor(fn: AnyFunction, thisArg: unknown, args: readonly unknown[]): unknown {
    let result: unknown;
    try {
      result = Reflect.apply(
        fn,
        thisArg,
        args.map((a) => this.receive(a)),
      );
    } catch (err) {
      throw this.handOverThrown(err);
    }
    return this.handOver(result);
  }

  /** A function that calls `fn` as callFor does. */
  private standIn(fn: AnyFunction): AnyFunction {
    const call = (args: readonly unknown[]): unknown => this.callFor(fn, undefined, args);
    const standIn = function (this: unknown, ...args: unknown[]): unknown {
      return call(args);
    };
    Object.defineProperty(standIn, 'name', { value: fn.name });
    return harden(standIn);
  }

  /**
   * A mutable copy of plain data: its enumerable string-keyed fields, each read once (an accessor's getter runs once,
   * as the code's function would have to compute the value; symbol-keyed and non-enumerable fields are no data and
   * stay behind, as they do on labrpc's wire), each part that is not plain data crossing by `cross` (the side that
   * gets the copy may change it; the other's stays as it was). Each crossing copies afresh; `seen` keeps shared
   * parts and cycles within one value as they were.
   */
  private copy(value: object, cross: (v: unknown) => unknown, seen?: Map<object, unknown>, viewable = false): unknown {
    const receiving = cross === this.receiveValue;
    // An array's copy is made at its length (one grown by pushes keeps spare room, which a test weighing the heap of
    // servers that keep what they were sent counts) and filled first: a store into a hole is slow in a locked-down realm.
    const out: unknown[] | Record<string, unknown> = Array.isArray(value)
      ? new Array<unknown>(value.length).fill(undefined)
      : {};
    seen?.set(value, out);
    if (this.options.witness) this.copies.add(out);
    // An object part: plain data is copied in turn (the map of parts already copied is made only once there is
    // one), anything else crosses; a function in data the harness receives is no data (undefined: left out).
    const part = (v: object): unknown => {
      if (typeof v === 'function') return receiving ? undefined : cross(v);
      if (!isPlain(v) || types.isProxy(v)) return cross(v);
      if (receiving && isFrozenData(v)) return v;
      seen ??= new Map<object, unknown>([[value, out]]);
      return seen.get(v) ?? this.copy(v, cross, seen);
    };
    if (Array.isArray(out)) {
      const from = value as unknown[];
      for (let i = 0; i < out.length; i++) {
        const v = from[i];
        out[i] = v === null || (typeof v !== 'object' && typeof v !== 'function') ? v : part(v as object);
      }
      return out;
    }
    // A plain object's prototype is Object.prototype (frozen, nothing enumerable) or null: for-in sees its own keys.
    const from = value as Record<string, unknown>;
    for (const key in from) {
      const v = from[key];
      let x: unknown = v;
      if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
        // viewable: an object with a method of its own is no data: the caller views it instead (see receive).
        if (viewable && typeof v === 'function') return HAS_BEHAVIOUR;
        x = part(v as object);
        if (x === undefined && receiving) continue;
      }
      // A key Object.prototype has ("__proto__", "constructor"): assigned, it would set the prototype or fail on the
      // frozen intrinsic; defined, it is a field like any other.
      if (key in out)
        Object.defineProperty(out, key, { value: x, writable: true, enumerable: true, configurable: true });
      else out[key] = x;
    }
    return out;
  }

  /** A fresh error with `error`'s name and message, of its class when both sides hold it (labrpc's), else an Error. */
  private errorCopy(error: object): Error {
    const proto = Object.getPrototypeOf(error) as unknown;
    const shared = this.options.sharedErrors?.find((c) => c.prototype === proto);
    const { name, message } = error as { name?: unknown; message?: unknown };
    // Made without the Error constructor, which would capture the harness's frames.
    const ownName = typeof name === 'string' ? name : 'Error';
    const prototype = (shared ?? Error).prototype as Error;
    const out = stacklessError(
      prototype,
      typeof message === 'string' ? message : '',
      ownName === prototype.name ? {} : { name: ownName },
    );
    if (this.options.witness) this.copies.add(out);
    return out;
  }

  /** The twin prototype of `value`'s class when it is (or derives from) a value class, else undefined. */
  private twinOf(value: object): object | undefined {
    const twin = this.options.twin;
    if (twin === undefined) return undefined;
    // Anywhere in its chain: an object made on a value class's object (or a subclass) is one too, and crosses as its
    // own data fields, never as a view whose methods the harness would run (a configuration whose `join` returns
    // itself would tell the tester that nothing moves).
    for (let p = Object.getPrototypeOf(value) as object | null; p !== null && p !== Object.prototype;) {
      const found = twin(p);
      if (found !== undefined) return found;
      p = Object.getPrototypeOf(p) as object | null;
    }
    return undefined;
  }

  /**
   * A copy of a value class's object made of its twin class (the other side's copy of the same module): its own data
   * fields copied (arrays, maps, plain objects, other value objects), frozen when the original is.
   */
  private twinCopy(value: object, proto: object, inner: (v: unknown) => unknown): object {
    const data = (v: unknown): unknown => {
      if (v === null || typeof v !== 'object') return typeof v === 'function' ? inner(v) : v;
      const twin = this.twinOf(v);
      if (twin) return this.twinCopy(v, twin, inner);
      // Read once, index by index or entry by entry, with the realm's own functions (never a method of the value's,
      // which could hand back a live object of the code's instead of a copy).
      let out: object;
      if (Array.isArray(v)) {
        const items: unknown[] = [];
        for (let i = 0, n = (v as unknown[]).length; i < n; i++) items.push(data((v as unknown[])[i]));
        out = items;
      } else if (types.isMap(v)) {
        const entries: Array<[unknown, unknown]> = [];
        const it = Reflect.apply(mapEntries, v, []) as IterableIterator<[unknown, unknown]>;
        for (let e = it.next(); !e.done; e = it.next()) entries.push([data(e.value[0]), data(e.value[1])]);
        out = new Map(entries);
      } else if (isPlain(v)) out = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, data(x)]));
      else return inner(v);
      return Object.isFrozen(v) ? freeze(out) : out;
    };
    const out = Object.create(proto) as Record<PropertyKey, unknown>;
    for (const key of Reflect.ownKeys(value)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (d && 'value' in d) Object.defineProperty(out, key, { ...d, value: data(d.value) });
    }
    if (Object.isFrozen(value)) freeze(out);
    if (this.options.witness) this.copies.add(out);
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
    // The closures are the facade's own (nothing shared with the harness), frozen like everything the code gets.
    const method = (key: PropertyKey): AnyFunction =>
      freeze((...args: unknown[]): unknown => this.callFor(Reflect.get(target, key) as AnyFunction, target, args));
    const getter = (key: PropertyKey): (() => unknown) =>
      freeze((): unknown => this.callFor(() => Reflect.get(target, key), undefined, []));
    const shape = this.shapeOf(Object.getPrototypeOf(target) as object | null);
    for (const key of shape.methods) out[key] = method(key);
    for (const key of shape.getters) Object.defineProperty(out, key, { get: getter(key), enumerable: true });
    for (const key of Reflect.ownKeys(target)) {
      const d = Object.getOwnPropertyDescriptor(target, key);
      if (!d) continue;
      if ('value' in d && typeof d.value === 'function') out[key] = method(key);
      else if ('value' in d) {
        if (d.value !== null && (typeof d.value === 'object' || typeof d.value === 'function')) continue;
        // A field that may change is read when the code reads it: the facade is made once (FacadeMemo).
        if (d.writable || d.configurable) Object.defineProperty(out, key, { get: getter(key), enumerable: true });
        else out[key] = d.value;
      } else if (d.get) Object.defineProperty(out, key, { get: getter(key), enumerable: true });
    }
    return freeze(out);
  }

  /** The code's own value `value` is a view or stand-in of, if it is one (only proxies are). */
  private originOf(value: unknown): object | undefined {
    if (typeof value !== 'object' && typeof value !== 'function') return undefined;
    if (value === null || !types.isProxy(value)) return undefined;
    // Only a view the crossing made is asked for its object: any other proxy's trap would see the key and answer it.
    if (!ViewBrand.marks(value)) return this.origins.get(value);
    return (value as Record<PropertyKey, unknown>)[VIEWED] as object | undefined;
  }

  /** Calls the code's `fn` for the harness: arguments handed over, the result received, what it throws noted as its. */
  callCode(fn: AnyFunction, thisArg: unknown, args: readonly unknown[]): unknown {
    let result: unknown;
    try {
      result = Reflect.apply(
        fn,
        thisArg,
        args.map((a) => this.handOver(a)),
      );
    } catch (err) {
      throw this.codeThrew(err);
    }
    return this.receiveResult(result);
  }

  /** Notes `error` as the code's own (handed back to it, it gets that very value again). */
  private codeThrew(error: unknown): unknown {
    if (typeof error === 'object' && error !== null) this.fromCode.add(error);
    return error;
  }

  /** What the harness gets for a result of the code's: a promise's value is received when it resolves. */
  private receiveResult(result: unknown): unknown {
    if (typeof result !== 'object' || result === null || !types.isPromise(result))
      return this.receiveResultValue(result);
    const settled = this.fromCodeSettled;
    if (isGenuinePromise(result)) return Reflect.apply(then, result, settled) as Promise<unknown>;
    // Any other promise of the code's (a subclass, one with a `constructor` or `then` of its own) is first adopted
    // by a promise of the harness's, and `then` runs on that one only: run on the code's promise, `then` would make
    // its result with the code's species constructor, whose promise could then settle with the code's object raw.
    const adopted = new Promise<unknown>((resolve) => resolve(result));
    return Reflect.apply(then, adopted, settled) as Promise<unknown>;
  }

  /** A stand-in of the code's function `fn` for the harness (its name kept: labrpc names a service after it). */
  private receivedFunction(fn: AnyFunction): unknown {
    const known = this.received.get(fn);
    if (known !== undefined) return known;
    if (this.origins.has(fn)) return fn;
    const construct = (args: readonly unknown[], newTarget: object): object => {
      const target = newTarget === proxy ? fn : (newTarget as AnyFunction);
      let made: object;
      try {
        made = Reflect.construct(
          fn,
          args.map((a) => this.handOver(a)),
          target,
        ) as object;
      } catch (err) {
        throw this.codeThrew(err);
      }
      return this.receiveResultValue(made) as object;
    };
    const proxy: object = new Proxy(fn, {
      // `this` crosses too: a harness object calling the code's function as its method is never handed over raw.
      apply: (_t, thisArg, args: unknown[]) =>
        this.callCode(fn, this.originOf(thisArg) ?? this.handOver(thisArg), args),
      construct: (_t, args: unknown[], newTarget: object) => construct(args, newTarget),
    });
    this.received.set(fn, proxy);
    this.origins.set(proxy, fn);
    return proxy;
  }

  /**
   * A view of the code's object for the harness: reading a method gives a function that calls it on the object
   * (arguments handed over, result received); reading any other field receives it. The view's proxy target is an
   * empty object of its own, so that a frozen object of the code's views as well.
   */
  private receivedObject(target: object): unknown {
    if (this.originOf(target) !== undefined) return target;
    if (types.isPromise(target)) return this.receiveResult(target);
    const twin = this.twinOf(target);
    // A function in a value class's object is no data, as in plain data: left out.
    if (twin) return this.twinCopy(target, twin, (v) => (typeof v === 'function' ? undefined : this.receive(v)));
    const holder = Object.create(null) as ViewTarget;
    holder[VIEW_OF] = target;
    const view = new Proxy(holder, this.viewHandler);
    ViewBrand.mark(view);
    return view;
  }

  /** The traps every view shares: each reads the code's object from its proxy target (the view's `holder`). */
  private makeViewHandler(): ProxyHandler<ViewTarget> {
    // A method read through a view is made once per view and key (a server's view answers every RPC of a test), and
    // looks the method up at each call, so a method the code replaces later is the one called.
    const method = (h: ViewTarget, key: PropertyKey, v: AnyFunction): AnyFunction => {
      const known = key === VIEW_OF ? undefined : (h[key] as AnyFunction | undefined);
      if (known !== undefined && known.name === v.name) return known;
      const target = h[VIEW_OF];
      const made = Object.defineProperty(
        (...args: unknown[]) => this.callCode(Reflect.get(target, key) as AnyFunction, target, args),
        'name',
        { value: v.name },
      );
      // Defined, not assigned: the holder has no prototype, so even "__proto__" is a key like any other.
      Object.defineProperty(h, key, { value: made, writable: true, configurable: true });
      return made;
    };
    const read = (h: ViewTarget, key: PropertyKey): unknown => {
      const v = Reflect.get(h[VIEW_OF], key) as unknown;
      if (typeof v !== 'function' || key === 'constructor') return this.receive(v);
      return method(h, key, v as AnyFunction);
    };
    return {
      get: (h, key) => (key === VIEWED ? h[VIEW_OF] : read(h, key)),
      set: (h, key, v) => Reflect.set(h[VIEW_OF], key, this.handOver(v)),
      has: (h, key) => Reflect.has(h[VIEW_OF], key),
      ownKeys: (h) => Reflect.ownKeys(h[VIEW_OF]),
      getOwnPropertyDescriptor: (h, key) => {
        const d = Reflect.getOwnPropertyDescriptor(h[VIEW_OF], key);
        return d && { enumerable: d.enumerable, configurable: true, writable: false, value: read(h, key) };
      },
      getPrototypeOf: (h) => Reflect.getPrototypeOf(h[VIEW_OF]),
      defineProperty: () => false,
      deleteProperty: (h, key) => Reflect.deleteProperty(h[VIEW_OF], key),
    };
  }
}

/**
 * The code under test's export as the harness uses it: calling or constructing it hands every argument over and
 * receives what it returns (crossing.ts's `receive`). Anything else is received as data.
 */
export function guarded(value: unknown, crossing: Crossing): unknown {
  return crossing.receive(value);
}
