/**
 * The simulated network (after MIT 6.5840's labrpc). Clients hold ClientEnds; each end can be connected to
 * one server and enabled or disabled. Calls travel through virtual time in the current World, may be delayed,
 * dropped or reordered, and cross the wire as deep copies.
 */
import { TEST_LANE, World, keyedRngAfter, keyPrefix, type LossCause, type Rng } from '../world';
import { Call, type CallInit, type FaultDecider, type Unsettled } from './call';
import { encode } from './codec';
import { Flights, type Flight } from './flights';
import { worldObserver, type CallObserver } from './observer';
import { lostCall, RpcUsageError } from './errors';
import { methodNotAString } from './read-once';
import { Server } from './service';
import { codeFrames } from './stack';
import { brandHarness } from '../world/brand';

/** Fault probabilities and delays of the unreliable network, all taken from MIT's labrpc. */
export const FAULTS = {
  /** Fraction of requests dropped on the unreliable network (the handler never runs). */
  requestDrop: 0.1,
  /** Fraction of replies dropped on the unreliable network (the handler ran). */
  replyDrop: 0.1,
  /** Maximum delivery delay of a request on the unreliable network, ms. */
  unreliableDelayMs: 27,
  /** A call to a disabled end or a dead server fails after up to this many ms ... */
  unreachableMs: 100,
  /** ... or up to this many ms with long delays on. */
  longUnreachableMs: 7000,
  /** With long reordering, this fraction of replies is held back ... */
  reorderFraction: 600 / 900,
  /** ... for 200 ms plus up to this many ms. */
  reorderExtraMs: 2000,
  /** Every message on the reliable network takes this many ms at least ... */
  baseDelayMs: 0.05,
  /** ... plus up to this many more. */
  jitterMs: 0.1,
} as const;

/** One message the network is about to schedule, as a delivery schedule sees it. */
export interface MessageInfo {
  /** The caller's end. */
  readonly end: string;
  /** The server the end is connected to. */
  readonly server: string;
  /** "Service.Method". */
  readonly method: string;
  /** The request (to the server) or the reply (back to the end). */
  readonly which: 'request' | 'reply';
}

/** An exploration strategy: extra delays that steer which message arrives first (see suite/nemesis/pct.ts). */
export interface DeliverySchedule {
  /** Extra ms before this message is delivered (0 for none); asked once per message, in the order they are sent. */
  extraDelayMs(message: MessageInfo): number;
}

interface EndState {
  enabled: boolean;
  server: string | undefined;
  /** Who sends through the end (see makeEnd). */
  readonly owner?: string;
  /** The tester's own end (see makeEnd): no monitor judges its calls. */
  readonly tester?: boolean;
  /** Shared by several of the tester's tasks (see shareEnd). */
  shared?: boolean;
  /** keyPrefix of the seed and `${name}#`: each call's generator is keyed by the end's name and the call's number. */
  readonly rngPrefix: number;
  /** The calls made through the end's name. */
  readonly book: EndBook;
}

/** What the network keeps of the calls made through one end name. */
interface EndBook extends Unsettled {
  /** Calls made so far: a call's number on its end keys its random draws and its faults. */
  calls: number;
}

/**
 * Anything that can make an RPC: the simulated ClientEnd, or a real transport (labs whose node code also runs as
 * real processes type their ends with this). Rejects with TimeoutError when no reply comes.
 */
export interface RpcEnd {
  call<Reply = unknown>(method: string, args?: unknown): Promise<Reply>;
}

/** The client side of a connection: make calls with `call`. */
export class ClientEnd implements RpcEnd {
  readonly name: string;
  private readonly net: Network;

  /** @internal use Network.makeEnd */
  constructor(name: string, net: Network) {
    this.name = name;
    this.net = net;
  }

  /**
   * Calls "Service.Method" on the connected server with a deep copy of `args`.
   * Resolves to a deep copy of the reply; rejects with TimeoutError when the request or reply was lost,
   * the end is disabled, or the server is dead.
   */
  call<Reply = unknown>(method: string, args?: unknown): Promise<Reply> {
    return this.net.send(this.name, method, args) as Promise<Reply>;
  }
}

/** The simulated network. Create it inside a running World. */
export class Network {
  private readonly world: World;
  private readonly ends = new Map<string, EndState>();
  private readonly servers = new Map<string, Server>();
  private readonly inFlight = new Flights();
  /**
   * Each end name's calls, kept for good (an end made again under a deleted one's name goes on with its numbering):
   * its end holds it, so a call changes no map. A deleted end's book with no call unsettled is kept as its count
   * alone (a memory test's 100,000 deleted clerk ends would otherwise keep 100,000 objects the collector walks).
   */
  private readonly books = new Map<string, EndBook | number>();
  private reliable = true;
  private longDelays = false;
  private longReordering = false;
  /** Extra time every message takes (ms): 0 is one machine; a few ms is a LAN (setLatency). */
  private latencyMs = 0;
  private requestDrop: number = FAULTS.requestDrop;
  private replyDrop: number = FAULTS.replyDrop;
  private totalCount = 0;
  private totalBytes = 0;
  private closed = false;
  /** Halted for a memory test's weighing (halt): nothing is sent, delivered or failed any more. */
  private halted = false;
  /** Every string a message carries is a copy of its own (setCopyStrings). */
  private copyStrings = false;
  /** The exploration strategy steering delivery order, if any. */
  private schedule: DeliverySchedule | undefined;

  /** Hears every step of every call: the trace hash and the recording. */
  private readonly observer: CallObserver;

  constructor(world: World = World.current()) {
    this.world = world;
    this.observer = worldObserver(world);
  }

  /**
   * Creates a client end; it starts disabled and unconnected. `owner` names who sends through it, as the trace
   * page names that lane ("client 4", "server-2"): its calls are drawn on that lane, and a lost message or a
   * TimeoutError of the end names the owner first, then the end, so the console and the page use the same name.
   * `tester`: the tester sends through it itself (playing a leader, an intruder), so the runner's monitors, which
   * judge the code under test, leave its calls alone.
   */
  makeEnd(name: string, owner?: string, options: { readonly tester?: boolean } = {}): ClientEnd {
    if (this.ends.has(name))
      throw new RpcUsageError(`An end named "${name}" already exists; end names must be unique.`);
    this.ends.set(name, {
      enabled: false,
      server: undefined,
      owner,
      tester: options.tester === true,
      rngPrefix: keyPrefix(this.world.seed, `${name}#`),
      book: this.bookOf(name),
    });
    return new ClientEnd(name, this);
  }

  /** The book of the calls made through end name `name` (made at its first end). */
  private bookOf(name: string): EndBook {
    const known = this.books.get(name);
    if (typeof known === 'object') return known;
    const book: EndBook = { calls: known ?? 0, n: 0 };
    this.books.set(name, book);
    return book;
  }

  /**
   * Marks end `name` as one the tester sends through from several tasks at once (a clerk shared by concurrent tasks):
   * one task's new call may then look like another's quick retry, so the runner's monitors judge its calls' pacing
   * only where they can tell them apart. The code under test cannot mark an end.
   */
  shareEnd(name: string): void {
    const end = this.ends.get(name);
    if (!end) throw new RpcUsageError(`shareEnd: there is no end named "${name}".`);
    end.shared = true;
  }

  /** Forgets an end: its calls in flight fail, and later calls are refused as a usage error. */
  deleteEnd(name: string): void {
    this.ends.delete(name);
    this.failInFlight((c) => c.call.endName === name);
    const book = this.books.get(name);
    if (typeof book === 'object' && book.n === 0) this.books.set(name, book.calls);
  }

  /** Registers a server under `name` (replacing any old one: the old one's pending replies are lost). */
  addServer(name: string, server: Server): void {
    const old = this.servers.get(name);
    this.note(name, old ? 'restarted (a new server replaces the old one)' : 'started');
    if (old !== server) this.world.stats.serverStarts++;
    this.servers.set(name, server);
    if (old && old !== server) this.failInFlight((c) => c.server === old);
  }

  /** Kills a server: it gets no more calls, and replies of calls it is still handling are never delivered. */
  deleteServer(name: string): void {
    const server = this.servers.get(name);
    if (server) this.note(name, 'killed');
    if (server) this.world.stats.serverKills++;
    this.servers.delete(name);
    if (server) this.failInFlight((c) => c.server === server);
  }

  /** Connects an end to a server name (the server may be added later). */
  connect(endName: string, serverName: string): void {
    this.end(endName).server = serverName;
  }

  /** Enables or disables an end; a disabled end's calls, including those in flight, fail. */
  enable(endName: string, on: boolean): void {
    const end = this.end(endName);
    if (end.enabled !== on) this.note(end.server ?? endName, `end ${endName} ${on ? 'enabled' : 'disabled'}`);
    end.enabled = on;
    if (!on) this.failInFlight((c) => c.call.endName === endName);
  }

  /** Reliable (default) or unreliable: delays, request drops and reply drops. */
  setReliable(yes: boolean): void {
    if (yes !== this.reliable)
      this.note(TEST_LANE, yes ? 'network reliable' : 'network unreliable (delays, lost requests and replies)');
    this.reliable = yes;
  }

  /** Sets the drop probabilities used while unreliable (MIT's default is 0.1 and 0.1). */
  setDropRates(request: number, reply: number): void {
    for (const [label, p] of [
      ['request', request],
      ['reply', reply],
    ] as const) {
      if (!(p >= 0 && p <= 1)) throw new RangeError(`The ${label} drop rate must be between 0 and 1 (got ${p}).`);
    }
    this.requestDrop = request;
    this.replyDrop = reply;
  }

  /**
   * Every message takes `ms` more, on either network: a LAN rather than one machine. Lab 6's key/value tests use
   * it so that a client's operations take the few milliseconds they take between machines, not a fraction of one.
   */
  setLatency(ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`The latency must be a number of ms >= 0 (got ${ms}).`);
    if (ms !== this.latencyMs) this.note(TEST_LANE, `latency ${ms} ms per message`);
    this.latencyMs = ms;
  }

  /** With long delays, calls to unreachable servers take up to 7 s to fail instead of 100 ms. */
  setLongDelays(yes: boolean): void {
    this.longDelays = yes;
  }

  /** With long reordering, two thirds of replies are held back 200–2200 ms. */
  setLongReordering(yes: boolean): void {
    if (yes !== this.longReordering) this.note(TEST_LANE, yes ? 'long reordering on' : 'long reordering off');
    this.longReordering = yes;
  }

  /** Lets `schedule` add a delay to every message from now on (undefined: none), to explore delivery orders. */
  setSchedule(schedule: DeliverySchedule | undefined): void {
    if (schedule !== this.schedule) this.note(TEST_LANE, schedule ? 'delivery schedule on' : 'delivery schedule off');
    this.schedule = schedule;
  }

  /** The schedule's extra delay for one message (0 without a schedule). */
  private extraDelay(end: string, server: string, method: string, which: 'request' | 'reply'): number {
    return this.schedule ? Math.max(0, this.schedule.extraDelayMs({ end, server, method, which })) : 0;
  }

  /** How many calls reached the named server's handlers. */
  getCount(serverName: string): number {
    return this.servers.get(serverName)?.count ?? 0;
  }

  /** How many calls were made on this network in total. */
  getTotalCount(): number {
    return this.totalCount;
  }

  /** Bytes of arguments sent plus bytes of replies delivered. */
  getTotalBytes(): number {
    return this.totalBytes;
  }

  /** Shuts the network down: calls in flight fail and new calls are refused. */
  /** Calls sent on the ends `which` accepts that have not yet been answered or failed (in transit, handled, or replying). */
  pendingCalls(which: (endName: string) => boolean): number {
    let n = 0;
    for (const [end, book] of this.books) if (typeof book === 'object' && book.n > 0 && which(end)) n += book.n;
    return n;
  }

  cleanup(): void {
    this.closed = true;
    this.failInFlight(() => true);
  }

  /**
   * Makes every string a message carries a copy of its own, as on a real wire (a memory test that weighs some machines
   * while others live: a machine that kept a string object another machine sent would otherwise weigh nothing for it).
   */
  setCopyStrings(on: boolean): void {
    this.copyStrings = on;
  }

  /**
   * Waits `ms` of virtual time as part of this network (a link's own delay, say): halt drops the wait with the
   * messages on their way, so that nothing waiting on it keeps its sender alive.
   */
  wait(ms: number): Promise<void> {
    if (this.halted) return new Promise<never>(() => undefined);
    return new Promise((resolve) => this.world.schedule(ms, resolve, undefined, this));
  }

  /**
   * Stops the network for good before a memory test weighs what its servers hold: every message on its way is
   * dropped with all it refers to (a message keeps its sender's promise callbacks, and through them its sender,
   * alive), a handler still running is forgotten, and a call made from now on never settles and keeps nothing. A
   * server that always had a call on its way could otherwise never be freed, and what it kept never weighed.
   */
  halt(): void {
    this.closed = true;
    this.halted = true;
    this.inFlight.clear();
    this.world.cancelOwnedBy(this);
    this.observer.halted();
  }

  /** While recording: a change of the network, on `lane`. */
  private note(lane: string, what: string): void {
    this.world.recorder?.add({ k: 'net', t: this.world.now(), lane, what });
  }

  /** Why a message to or from `server` through `endName` cannot pass now. */
  private lossCause(endName: string, server: Server | undefined): LossCause {
    if (this.closed) return 'closed';
    const end = this.ends.get(endName);
    if (!end || !end.enabled) return 'disabled';
    return server && end.server !== undefined && this.servers.get(end.server) === server ? 'unreliable' : 'killed';
  }

  private end(name: string): EndState {
    const e = this.ends.get(name);
    if (!e)
      throw new RpcUsageError(`There is no end named "${name}"; create it with network.makeEnd("${name}") first.`);
    return e;
  }

  private failInFlight(which: (c: Flight) => boolean): void {
    this.inFlight.removeWhere(which, (c) => this.failFlight(c));
  }

  private delay(rng: Rng): number {
    return FAULTS.baseDelayMs + this.latencyMs + rng.float() * FAULTS.jitterMs;
  }

  /** Stops the run with a usage error (so a retry loop cannot spin on it) and returns the rejected promise. */
  private usage(message: string): Promise<never> {
    const err = new RpcUsageError(message);
    this.world.fail(err);
    return Promise.reject(err);
  }

  /** @internal the body of ClientEnd.call */
  send(endName: string, method: string, args: unknown): Promise<unknown> {
    if (this.halted) return new Promise<never>(() => undefined);
    // A name every reader (the server's lookup, the monitors) reads alike: a string, never an object of the code's.
    if (typeof method !== 'string') return this.usage(methodNotAString(method).message);
    if (this.closed) return this.usage(`Call to ${method} after network.cleanup(); the network is shut down.`);
    const end = this.ends.get(endName);
    if (!end) return this.usage(`The end "${endName}" was deleted; make a new end to call ${method}.`);
    if (end.server === undefined) {
      return this.usage(
        `The end "${endName}" was never connected to a server; call network.connect("${endName}", serverName) ` +
          `and network.enable("${endName}", true) before calling ${method}.`,
      );
    }
    let encoded;
    try {
      encoded = encode(args, 'the arguments of', this.copyStrings, method);
    } catch (err) {
      this.world.fail(err);
      return Promise.reject(err);
    }
    this.totalCount++;
    this.world.stats.rpcs++;
    this.totalBytes += encoded.bytes;
    const server = end.enabled ? this.servers.get(end.server) : undefined;
    const init = this.describeCall(endName, end, end.server, method, encoded.copy);
    end.book.n++;
    return new Promise((resolve, reject) => {
      const call = new Call(init, resolve, reject, end.book);
      // The call itself, not its description: the observer hears each later step of the same object.
      this.observer.sent(call, init.args);
      if (server) this.sendRequest(call, server);
      else {
        const max = this.longDelays ? FAULTS.longUnreachableMs : FAULTS.unreachableMs;
        this.lose(call, 'request', end.enabled ? 'killed' : 'disabled', 'unreachable', call.rng.float() * max);
      }
    });
  }

  /** What a call about to be sent is: its id, its lane, its number on its end and the random draws that number keys. */
  private describeCall(endName: string, end: EndState, serverName: string, method: string, args: unknown): CallInit {
    const world = this.world;
    const id = this.observer.newId();
    const n = ++end.book.calls;
    return {
      id,
      endName,
      owner: end.owner,
      tester: end.tester === true,
      shared: end.shared === true,
      serverName,
      method,
      // The caller's lane, so that the reply and the timeout run on it (undefined when not recording).
      from: world.recorder ? (end.owner ?? world.currentLane) : undefined,
      args,
      // The call's own random draws (delays, drops, holds), fixed by the seed and the call's key alone: when a
      // minimizing replay removes one fault, every other message keeps its fate and its timing.
      rng: keyedRngAfter(end.rngPrefix, n),
      fault: world.faults ? this.faultDecider(endName, end.owner, n, method, args) : undefined,
    };
  }

  /** Puts the request on the wire to `server`: it arrives after the network's delay (the reliability of now). */
  private sendRequest(call: Call, server: Server): void {
    const reliable = this.reliable;
    const requestDelay =
      (reliable ? this.delay(call.rng) : this.delay(call.rng) + call.rng.float() * FAULTS.unreliableDelayMs) +
      this.extraDelay(call.endName, call.serverName, call.method, 'request');
    this.world.schedule(requestDelay, () => this.arrive(call, server, reliable), call.serverName, this);
  }

  /** The request reaches the server, unless it is lost on the way or the server is gone. */
  private arrive(call: Call, server: Server, reliable: boolean): void {
    if (!reliable && call.rng.chance(this.requestDrop) && call.allows('request', 'was lost'))
      return this.lose(call, 'request', 'unreliable', 'drop-request');
    if (this.closed || !this.isAlive(call.endName, server))
      return this.lose(call, 'request', this.lossCause(call.endName, server), 'dead-before');
    this.observer.delivered(call);
    let handler;
    try {
      handler = server.resolve(call.method);
    } catch (err) {
      this.world.fail(err);
      return call.reject(err);
    }
    server.noteCall();
    this.handle(call, server, handler as (a: unknown) => unknown);
  }

  /** Runs the handler; its reply goes back unless the server is killed (or its end cut) while it runs. */
  private handle(call: Call, server: Server, handler: (a: unknown) => unknown): void {
    const flight = this.inFlight.start(call, server);
    let out;
    try {
      out = handler(call.args);
    } catch (err) {
      return this.handlerCrashed(flight, err);
    }
    if (out instanceof Promise)
      out.then(
        (reply: unknown) => this.handlerReplied(flight, reply),
        (err: unknown) => this.handlerCrashed(flight, err),
      );
    else this.handlerReplied(flight, out);
  }

  /** The handler answered: the reply goes back, unless the call already failed (its server killed, its end cut). */
  private handlerReplied(flight: Flight, reply: unknown): void {
    if (flight.settled || this.halted) return;
    flight.settled = true;
    this.inFlight.remove(flight);
    const call = flight.call;
    this.observer.handled(call, reply);
    const extra = this.extraDelay(call.endName, call.serverName, call.method, 'reply');
    this.deliver(call, flight.server, reply, extra);
  }

  /** The handler threw (or its promise rejected): the run fails. */
  private handlerCrashed(flight: Flight, err: unknown): void {
    flight.settled = true;
    this.inFlight.remove(flight);
    if (!this.halted) this.world.fail(handlerCrash(flight.call.method, err));
  }

  /** A call whose handler is still running fails now: its reply is lost. */
  private failFlight(flight: Flight): void {
    if (flight.settled) return;
    flight.settled = true;
    this.lose(flight.call, 'reply', this.lossCause(flight.call.endName, flight.server), 'killed', 0);
  }

  /** Sends the handler's reply back: it may be lost, held back, or find its caller's end cut. */
  private deliver(call: Call, server: Server, reply: unknown, extraMs: number): void {
    const world = this.world;
    let encoded;
    try {
      encoded = encode(reply, 'the reply of', this.copyStrings, call.method);
    } catch (err) {
      world.fail(err);
      return;
    }
    if (this.closed || !this.isAlive(call.endName, server))
      return this.lose(call, 'reply', this.lossCause(call.endName, server), 'dead-after');
    const rng = call.rng;
    if (!this.reliable && rng.chance(this.replyDrop) && call.allows('reply', 'was lost'))
      return this.lose(call, 'reply', 'unreliable', 'drop-reply');
    let delay = this.delay(rng) + extraMs;
    if (this.longReordering && rng.chance(FAULTS.reorderFraction)) {
      const extra = 200 + rng.int(1 + rng.int(FAULTS.reorderExtraMs));
      if (call.allows('reply', `was held back ${extra} ms`, 'hold')) delay += extra;
    }
    world.schedule(
      delay,
      () => {
        if (this.closed) return this.lose(call, 'reply', 'closed', 'closed');
        this.totalBytes += encoded.bytes;
        this.observer.replied(call);
        call.resolve(encoded.copy);
      },
      call.from,
      this,
    );
  }

  /** The message is lost now; the caller's timeout follows at once, or `later` ms later (on the caller's lane). */
  private lose(call: Call, which: 'request' | 'reply', why: LossCause, fate: string, later?: number): void {
    if (this.halted) return;
    this.observer.lost(call, which, why);
    if (later === undefined) this.timeout(call, fate);
    else this.world.schedule(later, () => this.timeout(call, fate), call.from, this);
  }

  /** The caller's call fails with a TimeoutError. */
  private timeout(call: Call, fate: string): void {
    this.observer.timedOut(call, fate);
    call.reject(lostCall(call.method, call.endName, call.owner));
  }

  /** A minimizing replay's decider for the faults of one call: keyed by end, the call's number on it, and the message. */
  private faultDecider(
    endName: string,
    owner: string | undefined,
    n: number,
    method: string,
    args: unknown,
  ): FaultDecider {
    const world = this.world;
    const sent = world.now();
    return (which, what, kind = 'drop') =>
      world.faults?.decide(`${endName}#${n}:${which}:${kind}`, () => {
        let shown = JSON.stringify(args) ?? '';
        if (shown.length > 80) shown = `${shown.slice(0, 79)}…`;
        const of = which === 'request' ? 'the request of' : 'the reply to';
        const through = owner === undefined ? '' : ` (end ${endName})`;
        return `${of} ${owner ?? endName}'s ${method}(${shown}) sent at ${sent.toFixed(1)} ms${through} ${what}`;
      }) ?? true;
  }

  /** True while the end is enabled and still connected to this very server. */
  private isAlive(endName: string, server: Server): boolean {
    const end = this.ends.get(endName);
    return !!end && end.enabled && end.server !== undefined && this.servers.get(end.server) === server;
  }
}

function handlerCrash(method: string, err: unknown): Error {
  let detail = String(err);
  if (err instanceof Error) {
    // Keep the frames of the code under test; the network's and the world's own frames only add noise.
    detail = [`${err.name}: ${err.message}`, ...codeFrames(err.stack).map((f) => `    ${f}`)].join('\n');
  }
  const e = new Error(`The RPC handler for ${method} threw an error: ${detail}`);
  e.name = 'HandlerError';
  return e;
}

brandHarness(Network, ClientEnd);
