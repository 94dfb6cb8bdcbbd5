/**
 * The globals the code under test sees in its compartment, beyond the frozen JavaScript intrinsics: the world's
 * timers, clock and random numbers (read from the running world at each call, so a seed replays exactly), a
 * console that prints through the grader, and a few pure helpers. Each is a hardened stand-in: nothing here hands
 * out a host object the harness also uses.
 */

import { formatWithOptions, type InspectOptions } from 'node:util';

/** The trusted realm's global object (where the world installs its timers, Date and Math during a test). */
const host = globalThis as unknown as Record<string, unknown>;

/** The world's class, required at first use (after the lockdown, as the harness's modules are), then kept. */
let worldClass: typeof import('../world').World | undefined;

/** The running world's offsets of the code's clocks (none outside a world: node's own clock, at module load). */
function codeClockOffset(): { readonly performance: number; readonly date: number } {
  worldClass ??= (require('../world') as typeof import('../world')).World;
  return worldClass.maybeCurrent()?.codeClockOffsetMs ?? NO_OFFSET;
}
const NO_OFFSET = Object.freeze({ performance: 0, date: 0 });

/** Notes a world timer the code set (its world's ledger; a no-op for an immediate, which the ledger does not count). */
function codeTimerSet(handle: object): void {
  worldClass ??= (require('../world') as typeof import('../world')).World;
  worldClass.maybeCurrent()?.timers.markCode(handle);
}

/** Reads the trusted realm's current value of a global function and calls it. */
function delegate(name: string): (...args: unknown[]) => unknown {
  const fn = (...args: unknown[]): unknown => (host[name] as (...a: unknown[]) => unknown)(...args);
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** Node's own timers, captured before any world replaces them (a world installs its virtual ones while a test runs). */
const nodeTimers: Readonly<Record<string, (...args: unknown[]) => unknown>> = {
  setTimeout: globalThis.setTimeout as (...args: unknown[]) => unknown,
  setInterval: globalThis.setInterval as (...args: unknown[]) => unknown,
  setImmediate: globalThis.setImmediate as (...args: unknown[]) => unknown,
  clearTimeout: globalThis.clearTimeout as (...args: unknown[]) => unknown,
  clearInterval: globalThis.clearInterval as (...args: unknown[]) => unknown,
  clearImmediate: globalThis.clearImmediate as (...args: unknown[]) => unknown,
};

/** What a node timer's handle is to the code that made it: the handle itself stays here (it links to every timer of the process). */
const nodeHandles = new WeakMap<object, { ref(): unknown; unref(): unknown; hasRef(): boolean; refresh(): unknown }>();

/** A node timer as node keeps it: `_destroyed` once it fired (a timeout, an immediate) or was cleared, and its delay. */
interface NodeTimer {
  readonly _destroyed?: boolean;
  /** A Timeout's delay (an interval's period), ms; an Immediate has none. */
  readonly _idleTimeout?: number;
}

/** The node timers the code made that may still be live (those found fired or cleared are dropped as more are made). */
const nodeTimersMade = new Set<NodeTimer>();
/** Past this many, making a timer first drops the ones that ended (so the set stays as large as what is live). */
const PRUNE_AT = 256;

/** Notes a node timer the code made. */
function noteNodeTimer(real: NodeTimer): void {
  if (nodeTimersMade.size >= PRUNE_AT)
    for (const t of nodeTimersMade) if (t._destroyed === true) nodeTimersMade.delete(t);
  nodeTimersMade.add(real);
}

/** The delay of each node timer the code made that is live now (set, neither fired nor cleared; an interval until cleared), ms. */
export function liveCodeTimers(): number[] {
  const delays: number[] = [];
  for (const t of nodeTimersMade) {
    if (t._destroyed === true) nodeTimersMade.delete(t);
    else delays.push(t._idleTimeout ?? 0);
  }
  return delays;
}

/**
 * A timer of the compartment: the running world's (its handles are frozen and hold nothing), or, where no world
 * runs (real-time labs, a module's top level), node's, behind a frozen handle of its own.
 */
function timer(name: string): (...args: unknown[]) => unknown {
  const fn = (...args: unknown[]): unknown => {
    const current = host[name] as (...a: unknown[]) => unknown;
    if (current !== nodeTimers[name]) {
      const handle = current(...args);
      // The running world's timer: noted as the code's, so that a memory test can stop it (World.stopCodeTimers).
      if (typeof handle === 'object' && handle !== null) codeTimerSet(handle);
      return handle;
    }
    // node calls a timer's callback with its Timeout or Immediate as `this`: node's own object, linked to every
    // other timer of the process (the kit's too). The code's callback is called with no `this` instead.
    const [callback, ...rest] = args;
    const called =
      typeof callback === 'function'
        ? (...a: unknown[]): unknown => Reflect.apply(callback as (...b: unknown[]) => unknown, undefined, a)
        : callback;
    const real = current(called, ...rest) as {
      ref(): unknown;
      unref(): unknown;
      hasRef(): boolean;
      refresh(): unknown;
    };
    const handle: object = Object.freeze({
      ref: Object.freeze(() => (real.ref(), handle)),
      unref: Object.freeze(() => (real.unref(), handle)),
      hasRef: Object.freeze(() => real.hasRef()),
      refresh: Object.freeze(() => (real.refresh(), handle)),
    });
    nodeHandles.set(handle, real);
    noteNodeTimer(real as NodeTimer);
    return handle;
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** Clears a timer the compartment made (node's clear functions take no number or handle of anyone else's). */
function clearTimer(name: string): (handle: unknown) => void {
  const fn = (handle: unknown): void => {
    const current = host[name] as (h: unknown) => void;
    if (current !== nodeTimers[name]) return current(handle);
    const real = typeof handle === 'object' && handle !== null ? nodeHandles.get(handle) : undefined;
    if (real) current(real);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/**
 * A Date whose clock is the running world's (virtual time, plus the world's offset for the code: see
 * World.codeClockOffsetMs), and otherwise behaves as Date does.
 */
function delegatingDate(): DateConstructor {
  const RealDate = Date;
  const current = (): DateConstructor => host.Date as DateConstructor;
  const now = (): number => current().now() + codeClockOffset().date;
  const SandboxDate = function Date(this: unknown, ...args: unknown[]): unknown {
    if (new.target === undefined) return new RealDate(now()).toString(); // Date() is a string, as node's
    // Made with the realm's frozen Date.prototype, not the world's Date class's own (which is the harness's).
    return Reflect.construct(
      current(),
      args.length === 0 ? [now()] : args,
      new.target === SandboxDate ? RealDate : new.target,
    );
  } as unknown as DateConstructor;
  Object.defineProperties(SandboxDate, {
    prototype: { value: RealDate.prototype, writable: false },
    now: { value: now, writable: false },
    parse: { value: RealDate.parse, writable: false },
    UTC: { value: RealDate.UTC, writable: false },
  });
  return SandboxDate;
}

/** Math with the running world's random numbers. */
function delegatingMath(): Math {
  return Object.create(Object.getPrototypeOf(Math) as object, {
    ...Object.getOwnPropertyDescriptors(Math),
    random: { value: () => (host.Math as Math).random() },
  }) as Math;
}

/**
 * How the code's values are printed: on this side, into a string, with no hook of the code's run (node would call
 * an `inspect.custom` method with its own live `inspect` function, whose `colors` object every copy of the code in
 * the process could write: a table two servers could share), no getter read and no proxy trap run.
 */
const PRINT_OPTIONS: InspectOptions = { customInspect: false, getters: false, showProxy: true, depth: 4 };

/** The code's arguments to a console method, printed as one string. */
function printed(args: readonly unknown[]): string {
  return formatWithOptions(PRINT_OPTIONS, ...args);
}

/** console's printing methods, through the grader's captured output; what they print is made a string here. */
function sandboxConsole(): Console {
  const real = console as unknown as Record<string, (...a: unknown[]) => void>;
  const out: Record<string, unknown> = {};
  const add = (name: string, fn: (...args: unknown[]) => void): void => {
    Object.defineProperty(fn, 'name', { value: name });
    out[name] = fn;
  };
  // dir and table print their argument as log does (their own options would run the code's hooks again).
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'])
    add(name, (...args) => real[name === 'dir' || name === 'table' ? 'log' : name](printed(args)));
  add('assert', (condition, ...args) => {
    if (!condition) real.error(printed(args.length > 0 ? ['Assertion failed:', ...args] : ['Assertion failed']));
  });
  // A label is printed as a string: made one here, by the same rules.
  for (const name of ['count', 'time', 'timeEnd'])
    add(name, (...args) => real[name](...(args.length > 0 ? [printed([args[0]])] : [])));
  return out as unknown as Console;
}

/** The Web Crypto functions the world makes deterministic. */
interface WebCrypto {
  randomUUID(): string;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}

/** Every global of the compartment besides the intrinsics, not yet hardened. */
export function sandboxGlobals(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['setTimeout', 'setInterval', 'setImmediate']) out[name] = timer(name);
  for (const name of ['clearTimeout', 'clearInterval', 'clearImmediate']) out[name] = clearTimer(name);
  out.queueMicrotask = delegate('queueMicrotask');
  out.Date = delegatingDate();
  out.Math = delegatingMath();
  out.console = sandboxConsole();
  const webCrypto = (): WebCrypto => host.crypto as WebCrypto;
  out.performance = {
    now: (): number => (host.performance as { now(): number }).now() + codeClockOffset().performance,
  };
  out.crypto = {
    randomUUID: (): string => webCrypto().randomUUID(),
    getRandomValues: <T extends ArrayBufferView>(array: T): T => webCrypto().getRandomValues(array),
  };
  out.Buffer = Buffer;
  out.structuredClone = delegate('structuredClone');
  out.TextEncoder = TextEncoder;
  out.TextDecoder = TextDecoder;
  out.URL = URL;
  out.URLSearchParams = URLSearchParams;
  return out;
}

/** Node globals the compartment does not have: reading one throws an error that says so (rather than giving undefined). */
export const ABSENT_GLOBALS = ['process', 'global', 'fetch', 'WebSocket', 'Worker', 'SharedArrayBuffer'] as const;

/** The globals that compile code while it runs: refused in the sandbox (compartment.ts). */
export const RUNTIME_COMPILERS = ['eval', 'Function', 'Compartment'] as const;

/** The error a refused compiler (eval, Function, Compartment) throws when called. */
export function compileRefused(name: string): Error {
  return new EvalError(
    `${name} is not available to your code when the grader runs it: code compiled while the tests run (eval, new ` +
      'Function, a Compartment) would not be loaded as your files are, so the sandbox refuses it. Write the code in ' +
      'your files instead; no lab needs to compile code at run time.',
  );
}

/** The error reading an absent global throws. */
export function absentGlobal(name: string): Error {
  return new ReferenceError(
    `${name} is not available to your code when the grader runs it: lab code runs in a sandbox whose only globals ` +
      "are JavaScript's own and console, the timers, Date, Math, performance.now, crypto's random functions, Buffer, " +
      'TextEncoder/TextDecoder, URL and structuredClone. Use what the handout names instead.',
  );
}
