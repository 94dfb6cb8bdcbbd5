/**
 * The simulated world: virtual time, seeded randomness and the run loop that drives a test body.
 *
 * While `world.run(body)` is active, `setTimeout`, `setInterval`, `setImmediate`, `Date`, `performance.now`,
 * `process.hrtime`, `Math.random` and crypto's random functions (`randomUUID`, `getRandomValues`, `randomBytes`,
 * `randomFillSync`, `randomInt`) are the world's own, so student code and kit code see the same deterministic
 * clock and random numbers. Virtual time only moves when every piece of code is waiting.
 */
import { DeadlockError, UncaughtError, VirtualTimeLimitError, WatchdogError } from './errors';
import { TraceHash } from './hash';
import { EventQueue, TimerEvent } from './queue';
import { Rng, assertValidSeed } from './rng';
import { FaultControl } from './faults';
import { TEST_LANE, TraceRecorder } from './recorder';
import { brandHarness } from './brand';
import { TimerLedger } from './timers';
import type { CallListener } from './calls';

// The real module objects (not read-only namespace copies), so they can be patched.
const nodeCrypto = process.getBuiltinModule('node:crypto');
const timersModule = process.getBuiltinModule('node:timers');
const timersPromises = process.getBuiltinModule('node:timers/promises');

/** How a world is set up. */
export interface WorldOptions {
  /** The seed for every random choice in the run. */
  seed: number;
  /** Virtual time budget for one run, in ms (MIT's tester allows 120 s per test). */
  virtualLimitMs?: number;
  /** CPU time budget for one run, in ms: stops code that keeps yielding but never finishes (a busy machine does not count). */
  realLimitMs?: number;
  /** Record every message, fault, operation and printed line (a failing test's replay); off by default. */
  record?: boolean;
  /** Note the network's faults, and allow only these (by key) when given: a minimizing replay. Off by default. */
  faults?: { readonly allowed?: readonly string[] };
}

/** Points a handle at its timer's next event (an interval re-arms); the world's alone. */
let rearm: (handle: VirtualTimeout, event: TimerEvent) => void;
/** The event a handle stands for; the world's alone. */
let eventOf: (handle: VirtualTimeout) => TimerEvent;

/**
 * A handle returned by the world's timers; mirrors the parts of Node's Timeout that code uses. Frozen, its event
 * private, no numeric value: code that holds a handle can clear its timer, never reach the world's queue or its
 * event counter through it.
 */
export class VirtualTimeout {
  #event: TimerEvent;

  static {
    rearm = (handle, event) => {
      handle.#event = event;
    };
    eventOf = (handle) => handle.#event;
  }

  constructor(event: TimerEvent) {
    this.#event = event;
    Object.freeze(this);
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  // No number (node's handles have one): the event's would be the world's own counter, which every machine in the
  // run could read and move, a channel between servers that share no memory.
}
for (const key of Reflect.ownKeys(VirtualTimeout.prototype))
  Object.freeze((VirtualTimeout.prototype as unknown as Record<PropertyKey, object>)[key]);
Object.freeze(VirtualTimeout.prototype);
Object.freeze(VirtualTimeout);

/** What the world itself needs of the real clock and event loop, captured before any world replaces them. */
const real = {
  setTimeout: globalThis.setTimeout,
  setImmediate: globalThis.setImmediate,
  Date: globalThis.Date,
  performanceNow: performance.now.bind(performance),
  nextTick: process.nextTick,
};

/** CPU time this process has used, ms (user and system): the watchdog's clock, which a busy machine does not move. */
export function cpuNow(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** Real time in ms, unaffected by any world. */
export function realNow(): number {
  return real.performanceNow();
}

/** Waits `ms` of real time, whether or not a world is running (a real-time test's clock; `sleep` is the world's). */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => real.setTimeout(resolve, ms));
}

/** Virtual wall-clock epoch: Date.now() at virtual time 0. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** The seed's distance to the seed of the code clock's offsets (any constant: a stream apart from the run's). */
const CODE_CLOCK_STREAM = 0x9e3779b9;
/** performance.now()'s offset in the code under test: at least the first, plus up to the second (ms: 1 s to about 3 h). */
const CODE_PERFORMANCE_OFFSET_MS: readonly [number, number] = [1000, 1e7];
/** Date.now()'s offset in the code under test, beyond the virtual epoch: up to about a year, ms. */
const CODE_DATE_OFFSET_MS = 3e10;

let active: World | undefined;

/** A deterministic simulated world. Create one per test run. */
export class World {
  readonly seed: number;
  /** The world's random source; all simulated randomness comes from here. */
  readonly rng: Rng;
  /** Virtual time limit for a run, in ms. */
  readonly virtualLimitMs: number;
  /** CPU time limit for a run, in ms (the watchdog's). */
  readonly realLimitMs: number;
  /**
   * Counters shown in test reports: the RPCs sent through labrpc (operations are counted by the tests: suite/run.ts),
   * and the servers put on a network (each start or restart), which the timer monitor's bound counts.
   */
  readonly stats = { rpcs: 0, serverStarts: 0, serverKills: 0 };
  /** The live timers set through setTimeout and setInterval (the runner's timer monitor weighs them). */
  readonly timers = new TimerLedger();
  /** What hears every RPC of the run's networks besides the trace (the runner's monitors; see listenCalls). */
  private readonly callListeners: CallListener[] = [];
  private readonly queue = new EventQueue();
  private readonly hash = new TraceHash();
  private clock = 0;
  private seq = 0;
  /** Virtual time at which the body's promise settled (the run may fire one more event before it notices). */
  private settledAt: number | undefined;
  private events = 0;
  private failure: { error: unknown } | undefined;
  private finished = false;
  /** The recording, when recording is on (undefined otherwise, so the normal run pays one check per step). */
  readonly recorder: TraceRecorder | undefined;
  /** The fault control of a minimizing replay (undefined otherwise). */
  readonly faults: FaultControl | undefined;
  /** While recording: the lane (client or server) whose code runs now; timers inherit it from whoever set them. */
  private lane = TEST_LANE;
  /** While recording: what runs after every step (see watchSteps). */
  private readonly stepWatchers: Array<() => void> = [];
  /**
   * What the code under test's clocks read beyond the world's: performance.now() and Date.now() there are the
   * world's time plus these offsets (drawn from the seed, so a run replays), so that no machine can tell when in the
   * run it was made. A machine made at virtual time 0 (every test's first) would otherwise know it is the first, and
   * keep memory only where a later one (a memory test's second weighing, its long life) would not show it.
   */
  readonly codeClockOffsetMs: { readonly performance: number; readonly date: number };

  constructor(options: WorldOptions) {
    assertValidSeed(options.seed);
    this.seed = options.seed;
    this.rng = new Rng(options.seed);
    // A stream of its own, so that the run's draws are the same as without it.
    const clock = new Rng((options.seed + CODE_CLOCK_STREAM) % 2 ** 53);
    this.codeClockOffsetMs = {
      performance: CODE_PERFORMANCE_OFFSET_MS[0] + clock.float() * CODE_PERFORMANCE_OFFSET_MS[1],
      date: Math.floor(clock.float() * CODE_DATE_OFFSET_MS),
    };
    this.virtualLimitMs = options.virtualLimitMs ?? 120_000;
    this.realLimitMs = options.realLimitMs ?? 120_000;
    this.recorder = options.record ? new TraceRecorder() : undefined;
    this.faults = options.faults
      ? new FaultControl(options.faults.allowed ? new Set(options.faults.allowed) : undefined)
      : undefined;
  }

  /** While recording: the lane whose code runs now (the test, a client, a server). */
  get currentLane(): string {
    return this.lane;
  }

  /** While recording: says that the code running from now on (and the timers it sets) works for `lane`. */
  enterLane(lane: string): void {
    if (this.recorder) this.lane = lane;
  }

  /**
   * While recording: runs `fn` (say, a server's constructor) as code of `lane`, so that the timers it sets and the
   * lines it prints are that lane's, then goes back to the lane that ran before. Returns what `fn` returns.
   */
  inLane<T>(lane: string, fn: () => T): T {
    if (!this.recorder) return fn();
    const before = this.lane;
    this.lane = lane;
    try {
      return fn();
    } finally {
      this.lane = before;
    }
  }

  /**
   * While recording (a no-op otherwise): runs `watch` after every step of the run (a fired event and the promise
   * callbacks it set off), so a test can draw state as it changes without adding events of its own: a recorded
   * replay then has the same events, trace hash and ending (a deadlock stays a deadlock) as the run it replays.
   * What `watch` throws is ignored.
   */
  watchSteps(watch: () => void): void {
    if (this.recorder) this.stepWatchers.push(watch);
  }

  /** Makes `listener` hear every step of every RPC on the networks of this world (labrpc tells it). */
  listenCalls(listener: CallListener): void {
    this.callListeners.push(listener);
  }

  /** The listeners of this world's RPCs (labrpc's observer calls them). */
  get calls(): readonly CallListener[] {
    return this.callListeners;
  }

  /** The world whose run is in progress; throws a helpful error when there is none. */
  static current(): World {
    if (!active) {
      throw new Error(
        'No simulated world is running. Create a World and call world.run(async () => { ... }); ' +
          'the network and the virtual clock only work inside it.',
      );
    }
    return active;
  }

  /** The active world, or undefined. */
  static maybeCurrent(): World | undefined {
    return active;
  }

  /** Current virtual time in ms since the start of the run (fractional: the network uses sub-ms delays). */
  now(): number {
    return this.clock;
  }

  /** Virtual time at which the test body ended (its promise settled), or now while it runs or when it never did. */
  get endedAt(): number {
    return this.settledAt ?? this.clock;
  }

  /** How many timer events have fired so far. */
  get eventCount(): number {
    return this.events;
  }

  /**
   * Runs `fn` after `delayMs` of virtual time (fractions allowed, negative counts as 0). While recording, `fn`
   * runs on `lane` (default: the lane running now). `owner`, if given, can cancel it with others (cancelOwnedBy).
   */
  schedule(delayMs: number, fn: () => void, lane?: string, owner?: object): TimerEvent {
    const d = delayMs > 0 ? delayMs : 0;
    const ev: TimerEvent = { time: this.clock + d, seq: this.seq++, fn, cancelled: false, lane: undefined, owner };
    if (this.recorder) ev.lane = lane ?? this.lane;
    this.queue.push(ev);
    return ev;
  }

  /** Cancels a scheduled event (a no-op if it already fired). */
  cancel(ev: TimerEvent | undefined): void {
    if (!ev) return;
    ev.cancelled = true;
    ev.fn = NOTHING; // a cancelled event waits in the queue until its time: it must not keep its callback alive
  }

  /** Cancels every queued event `owner` scheduled (schedule's `owner`); returns how many. */
  cancelOwnedBy(owner: object): number {
    let n = 0;
    for (const ev of this.queue.events())
      if (ev.owner === owner && !ev.cancelled) {
        this.cancel(ev);
        n++;
      }
    return n;
  }

  /**
   * Stops every live timer the code under test set (setTimeout, setInterval), so that what only those timers keep
   * alive can be collected: a memory test weighs what a server holds once it is gone, its timers' closures included
   * (a timer the server left running would otherwise keep its tables alive past the weighing). Returns how many.
   */
  stopCodeTimers(): number {
    const handles = this.timers.codeTimers();
    for (const handle of handles) this.clearTimer(handle);
    return handles.length;
  }

  /** Waits `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** Adds an observable fact to the run's trace: the outcome of a call (its end, its method, ok or its fate). */
  trace(end: string, method: string, outcome: string): void {
    this.hash.addString(end);
    this.hash.addString(method);
    this.hash.addString(outcome);
  }

  /** A compact hash of everything traced so far plus the timing of every event: equal runs hash equal. */
  traceHash(): string {
    return this.hash.digest();
  }

  /** Makes the run fail with this error as soon as the current step ends (used for crashes in handlers). */
  fail(error: unknown): void {
    if (!this.failure) this.failure = { error };
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * Runs `body` to completion in virtual time and returns its result.
   * Rejects when the body throws, when `fail` was called, on deadlock, or when a time limit is exceeded.
   */
  async run<T>(body: () => T | Promise<T>): Promise<T> {
    if (active) throw new Error('Another simulated world is already running in this process; run one at a time.');
    if (this.finished) throw new Error('This world has already run; create a new World for each run.');
    const startCpu = cpuNow();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    try {
      // Inside the try: if a patch fails halfway, `finally` still restores the ones made.
      install(this);
      Promise.resolve()
        .then(body)
        .then(
          (value) => {
            this.settledAt = this.clock;
            outcome = { ok: true, value };
          },
          (error: unknown) => {
            this.settledAt = this.clock;
            outcome = { ok: false, error };
          },
        );
      for (;;) {
        await drainMicrotasks();
        this.throwIfFailed();
        this.afterStep();
        if (outcome) break;
        if (!this.fireNext()) {
          // Let real I/O and stray real callbacks run before declaring that nothing can happen.
          await yieldToEventLoop();
          this.throwIfFailed();
          if (outcome) break;
          if (!this.fireNext()) throw new DeadlockError(this.clock);
        }
        if ((this.events & 1023) === 0) {
          await yieldToEventLoop();
          const spent = cpuNow() - startCpu;
          if (spent > this.realLimitMs) throw new WatchdogError(spent, this.clock);
        }
      }
    } finally {
      this.finished = true;
      this.queue.clear();
      uninstall();
    }
    const result = outcome as { ok: true; value: T } | { ok: false; error: unknown };
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** Runs the step watchers (recording only). */
  private afterStep(): void {
    for (const watch of this.stepWatchers) {
      try {
        watch();
      } catch {
        // a watcher only draws; it never changes the run
      }
    }
  }

  /**
   * Advances the clock to the earliest event and fires it; false when no event is waiting. A method of its own so
   * that the run loop's suspended frame never holds a fired event (and, through it, what the test has dropped).
   */
  private fireNext(): boolean {
    const ev = this.queue.pop();
    if (!ev) return false;
    if (ev.time > this.virtualLimitMs) throw new VirtualTimeLimitError(this.virtualLimitMs);
    if (ev.time > this.clock) this.clock = ev.time;
    this.hash.addNumber(Math.round(this.clock * 1000));
    this.events++;
    if (ev.lane !== undefined) this.lane = ev.lane;
    try {
      ev.fn();
    } catch (error) {
      throw new UncaughtError(error);
    }
    return true;
  }

  /** Node-compatible setTimeout on the virtual clock (delays below 1 ms count as 1 ms, as in Node). */
  setTimeout = <A extends unknown[]>(fn: (...args: A) => void, delay?: number, ...args: A): VirtualTimeout => {
    const handle = new VirtualTimeout(
      this.schedule(nodeDelay(delay), () => {
        this.timers.remove(handle);
        fn(...args);
      }),
    );
    this.timers.add(handle);
    return handle;
  };

  /** Node-compatible setInterval on the virtual clock. */
  setInterval = <A extends unknown[]>(fn: (...args: A) => void, delay?: number, ...args: A): VirtualTimeout => {
    const period = nodeDelay(delay);
    const tick = (): void => {
      // Re-arm first so clearInterval inside fn cancels the next tick.
      rearm(handle, this.schedule(period, tick));
      fn(...args);
    };
    const handle = new VirtualTimeout(this.schedule(period, tick));
    this.timers.add(handle);
    return handle;
  };

  /** setImmediate on the virtual clock: runs after everything already waiting at the current time. */
  setImmediate = <A extends unknown[]>(fn: (...args: A) => void, ...args: A): VirtualTimeout => {
    return new VirtualTimeout(this.schedule(0, () => fn(...args)));
  };

  /** Clears any handle made by the world's timers. */
  clearTimer = (handle: unknown): void => {
    if (!(handle instanceof VirtualTimeout)) return;
    this.cancel(eventOf(handle));
    this.timers.remove(handle);
  };
}

/** What a cancelled event runs (nothing): its own callback is dropped. */
const NOTHING = (): void => undefined;

/** Node's rule: a delay that is not a number in [1, 2^31-1] becomes 1 ms. */
function nodeDelay(delay: number | undefined): number {
  const d = Number(delay);
  return d >= 1 && d <= 2147483647 ? d : 1;
}

/**
 * Resolves once the whole microtask queue is empty: Node runs process.nextTick callbacks queued from a
 * microtask only after V8 has drained every pending microtask.
 */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => real.nextTick.call(process, resolve));
}

/** Lets the real event loop run once (I/O, real timers), then continues. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => real.setImmediate(resolve));
}

type Patchable = Record<string, unknown>;
const saved: Array<[Patchable, string, PropertyDescriptor | undefined]> = [];

function patch(target: object, key: string, value: unknown): void {
  const t = target as Patchable;
  saved.push([t, key, Object.getOwnPropertyDescriptor(t, key)]);
  Object.defineProperty(t, key, { value, configurable: true, writable: true, enumerable: true });
}

function install(world: World): void {
  active = world;
  const VirtualDate = makeVirtualDate(world);
  const timers = {
    setTimeout: world.setTimeout,
    clearTimeout: world.clearTimer,
    setInterval: world.setInterval,
    clearInterval: world.clearTimer,
    setImmediate: world.setImmediate,
    clearImmediate: world.clearTimer,
  };
  for (const [k, v] of Object.entries(timers)) {
    patch(globalThis, k, v);
    patch(timersModule, k, v);
  }
  patch(
    timersPromises,
    'setTimeout',
    <T>(ms?: number, value?: T) => new Promise<T | undefined>((resolve) => world.setTimeout(() => resolve(value), ms)),
  );
  patch(
    timersPromises,
    'setImmediate',
    <T>(value?: T) => new Promise<T | undefined>((resolve) => world.setImmediate(() => resolve(value))),
  );
  patch(globalThis, 'Date', VirtualDate);
  patch(performance, 'now', () => world.now());
  // Math itself may be frozen (the grader's sandbox locks every intrinsic down): a copy whose random is the world's.
  const math = Object.create(Object.getPrototypeOf(Math) as object, {
    ...Object.getOwnPropertyDescriptors(Math),
    random: { value: () => world.rng.float(), writable: true, configurable: true },
  }) as Math;
  patch(globalThis, 'Math', math);
  const uuid = (): string => virtualUUID(world.rng);
  patch(nodeCrypto, 'randomUUID', uuid);
  if (globalThis.crypto) patch(globalThis.crypto, 'randomUUID', uuid);
  const { getRandomValues, ...nodeOnly } = seededCrypto(world);
  for (const [k, v] of Object.entries(nodeOnly)) patch(nodeCrypto, k, v);
  // node:crypto's getRandomValues cannot be replaced, but it calls the Web Crypto object's, which can.
  if (globalThis.crypto) patch(globalThis.crypto, 'getRandomValues', getRandomValues);
  patch(process, 'hrtime', virtualHrtime(world));
}

/** Virtual nanoseconds since the world began. */
function virtualNanos(world: World): bigint {
  return BigInt(Math.round(world.now() * 1e6));
}

/** process.hrtime on the virtual clock: [seconds, nanoseconds], relative to `previous` when given, and .bigint(). */
function virtualHrtime(world: World): typeof process.hrtime {
  const hrtime = (previous?: [number, number]): [number, number] => {
    let ns = virtualNanos(world);
    if (previous) ns -= BigInt(previous[0]) * 1_000_000_000n + BigInt(previous[1]);
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  };
  hrtime.bigint = (): bigint => virtualNanos(world);
  return hrtime;
}

/** crypto's random functions, drawing from the world's seeded generator instead of the operating system. */
function seededCrypto(world: World) {
  const fill = (view: ArrayBufferView, offset = 0, size = view.byteLength - offset): void => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, size);
    for (let i = 0; i < bytes.length; i++) bytes[i] = world.rng.int(256);
  };
  const later = (fn: () => void): void => void world.setImmediate(fn);
  return {
    getRandomValues<T extends ArrayBufferView | null>(array: T): T {
      if (
        !ArrayBuffer.isView(array) ||
        array instanceof Float32Array ||
        array instanceof Float64Array ||
        array instanceof DataView
      ) {
        throw new TypeError('crypto.getRandomValues needs an integer typed array (Uint8Array, Int32Array, ...).');
      }
      if (array.byteLength > 65536)
        throw new RangeError(`crypto.getRandomValues fills at most 65536 bytes at a time (got ${array.byteLength}).`);
      fill(array);
      return array;
    },
    randomBytes(size: number, callback?: (err: Error | null, buf: Buffer) => void): Buffer | undefined {
      const buf = Buffer.alloc(size);
      fill(buf);
      if (!callback) return buf;
      later(() => callback(null, buf));
      return undefined;
    },
    randomFillSync<T extends ArrayBufferView | ArrayBuffer>(buffer: T, offset = 0, size?: number): T {
      // As Node's: offset and size count elements of a typed array (bytes of anything else).
      const view: ArrayBufferView =
        buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : (buffer as ArrayBufferView);
      const unit = 'BYTES_PER_ELEMENT' in view ? (view as Uint8Array).BYTES_PER_ELEMENT : 1;
      fill(view, offset * unit, (size ?? view.byteLength / unit - offset) * unit);
      return buffer;
    },
    randomInt(...args: unknown[]): number | undefined {
      const callback =
        typeof args[args.length - 1] === 'function'
          ? (args.pop() as (err: Error | null, n: number) => void)
          : undefined;
      const [min, max] = args.length >= 2 ? [Number(args[0]), Number(args[1])] : [0, Number(args[0])];
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
        throw new RangeError(`crypto.randomInt needs safe integers with min < max (got min ${min}, max ${max}).`);
      }
      const n = min + world.rng.int(max - min);
      if (!callback) return n;
      later(() => callback(null, n));
      return undefined;
    },
  };
}

function uninstall(): void {
  while (saved.length > 0) {
    const [target, key, desc] = saved.pop() as [Patchable, string, PropertyDescriptor | undefined];
    if (desc) Object.defineProperty(target, key, desc);
    else delete target[key];
  }
  active = undefined;
}

function virtualUUID(rng: Rng): string {
  const hex = (n: number): string => rng.nextUint32().toString(16).padStart(8, '0').slice(0, n);
  const variant = (8 + rng.int(4)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(8)}${hex(4)}`;
}

function makeVirtualDate(world: World): DateConstructor {
  const RealDate = real.Date;
  const nowMs = (): number => EPOCH_MS + Math.floor(world.now());
  class VirtualDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(nowMs());
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return nowMs();
    }
  }
  return VirtualDate as DateConstructor;
}

/** Waits `ms` of virtual time in the running world (throws without one; `realSleep` waits on the machine's clock). */
export function sleep(ms: number): Promise<void> {
  return World.current().sleep(ms);
}

brandHarness(World);
