/**
 * Lab 1's tester, after MIT's config helpers: makes N servers that hold the shards, clerks with ends to every
 * server, stops and restarts servers, records clerk operations for the linearizability checker, and measures
 * what the cluster keeps in memory.
 */
import { Network, Server, Service } from '../../labrpc';
import type { ClientEnd, RpcEnd } from '../../labrpc';
import { HistoryRecorder, clientLane, type HistoryKeeps } from '../../suite/history';
import { World, recordedValue } from '../../world';
import { kvModel } from '../../checker';
import type { KvInput, KvOutput } from '../../checker';
import { liveHeapBytes, stopHoldersOfServers } from '../../suite/memory';
import { TestContext, TestFailure, assertLinearizable } from '../../suite';
import type { ClusterConfig, KVClerk, ServerConfig } from '../rpc';
import { brandHarness } from '../../world/brand';

/** What the grader loads from lab1/ (or solutions/lab1/). */
export interface Lab1Impl {
  KVServer: new (config: ServerConfig) => object;
  Clerk: new (servers: readonly RpcEnd[], config: ClusterConfig) => KVClerk;
  /**
   * The same classes from a private copy of the student's modules (memory tests: see suite/fresh.ts); each server,
   * and each clerk unless `clerksShareCopy`, a machine of its own (suite/machines.ts).
   */
  fresh?: (clerksShareCopy?: boolean) => Pick<Lab1Impl, 'KVServer' | 'Clerk'>;
}

/** What a cluster's classes become once its memory was measured: it cannot be used any more. */
const MEASURED: Pick<Lab1Impl, 'KVServer' | 'Clerk'> = {
  KVServer: class {
    constructor() {
      throw new Error('This cluster was taken apart to measure its memory; make a new Lab1Tester.');
    }
  },
  Clerk: class {
    constructor() {
      throw new Error('This cluster was taken apart to measure its memory; make a new Lab1Tester.');
    }
  } as unknown as Lab1Impl['Clerk'],
};

/** How a test's cluster is built. */
export interface ClusterOptions extends ClusterConfig {
  /** False for the lossy network (10% of requests and 10% of replies lost, 0–27 ms delays). */
  reliable: boolean;
  /**
   * False when no reading counts the clerks (measureRetained(false)): the clerks made are then not kept by the
   * tester, so 100,000 of them never make the heap the collector walks over and over while they are made.
   */
  keepClerks?: boolean;
  /**
   * What the history keeps (HistoryRecorder): 'unfinished' for a test that judges every answer itself and checks no
   * history (MIT's append tests, whose answers are whole values).
   */
  history?: HistoryKeeps;
}

/**
 * Watches every call that reaches a server's handlers, before the handler runs (forced-interleaving tests).
 * Return a promise to keep the call from the handler until it resolves (one that never resolves holds the call
 * until the caller's end is cut by stopServer: the handler never runs, and the caller sees a lost message).
 * `args` is a copy of what the caller sent.
 */
export type CallWatcher = (server: number, method: string, args: unknown) => Promise<void> | void;

/** A promise that never resolves: a CallWatcher's way to hold a call for good. */
export function forever(): Promise<void> {
  return new Promise(() => undefined);
}

/** Server `i` on the network, which is its lane on the trace page, named as the tests' messages name it: "server 2". */
export function serverName(i: number): string {
  return `server ${i}`;
}

/** The index of the server named `name` by serverName. */
export function serverIndex(name: string): number {
  return Number(name.slice('server '.length));
}

/** One test's cluster: a network, the servers, the clerks, and the history of recorded operations. */
export class Lab1Tester {
  private readonly ctx: TestContext<Lab1Impl>;
  readonly net = new Network();
  readonly history: HistoryRecorder<KvInput, KvOutput>;
  readonly config: ClusterConfig;
  private readonly running: boolean[];
  /** Names of every end that points at server i (clerks' and other servers'), so stopping i can cut them. */
  private readonly endsTo: Set<string>[];
  /** Names of server i's own ends to its peers. */
  private readonly endsFrom: string[][];
  /** The student's server objects (dropped by removeCluster, so their memory can be measured). */
  private servers: object[] = [];
  /** Every clerk made here (dropped by removeCluster), unless the options say not to keep them. */
  private clerks: KVClerk[] = [];
  private readonly keepClerks: boolean;
  private ends = 0;
  /** Clerks made by makeClerk (not recording ones), numbered for their trace lanes. */
  private plainClerks = 0;
  /** The names of the ends each clerk made by makeClerk was given (forgetClerk deletes them). */
  private readonly clerkEnds = new WeakMap<KVClerk, readonly string[]>();
  /** The forced-interleaving hook (see CallWatcher); undefined lets every call through untouched. */
  onCall: CallWatcher | undefined;

  /** The classes servers and clerks are built from (dropped by measureRetained). */
  private impl: Pick<Lab1Impl, 'KVServer' | 'Clerk'>;

  /**
   * Servers and clerks come from a private copy of the student's modules, so that what those modules keep at
   * their top level is measured with them in the memory tests (suite/fresh.ts). Every test loads one, not only
   * the memory tests, so that code under test cannot recognise a memory test by its modules being loaded again.
   * The copy is loaded here rather than passed in, so that no caller's frame keeps it alive.
   */
  constructor(ctx: TestContext<Lab1Impl>, options: ClusterOptions) {
    this.ctx = ctx;
    this.history = new HistoryRecorder<KvInput, KvOutput>(undefined, options.history);
    // The 100,000-clerk memory tests (keepClerks false) give their clerks one copy: a copy each doubled their time.
    this.impl = ctx.impl.fresh?.(options.keepClerks === false) ?? ctx.impl;
    this.config = { nshards: options.nshards, nreplicas: options.nreplicas };
    this.keepClerks = options.keepClerks ?? true;
    const n = options.nshards;
    this.net.setReliable(options.reliable);
    this.running = Array.from({ length: n }, () => true);
    this.endsTo = Array.from({ length: n }, () => new Set<string>());
    this.endsFrom = Array.from({ length: n }, () => []);
    for (let me = 0; me < n; me++) {
      const peers = Array.from({ length: n }, (_, j) => this.makeEnd(j, me));
      const running = this.running;
      const config: ServerConfig = { ...this.config, me, peers, isRunning: (s: number) => running[s] === true };
      // Built on its own lane: the timers its constructor starts (and what they print) are the server's.
      const server = World.current().inLane(serverName(me), () => new this.impl.KVServer(config));
      this.servers.push(server);
      this.net.addServer(serverName(me), new Server().addService(this.watched(me, new Service(server, 'KVServer'))));
    }
  }

  /** A service with the same handlers as `svc` that first shows each call to `onCall`. */
  private watched(me: number, svc: Service): Service {
    const handlers: Record<string, (args: never) => unknown> = {};
    for (const method of svc.methods()) {
      const handler = svc.handler(method)!;
      handlers[method] = (args: never) => {
        const gate = this.onCall?.(me, method, args);
        return gate ? gate.then(() => handler(args)) : handler(args);
      };
    }
    return new Service(handlers, 'KVServer');
  }

  /** Number of servers. */
  get nservers(): number {
    return this.config.nshards;
  }

  /**
   * A new end to server `to`, enabled when both ends are running (`from` is a server, or undefined for a clerk,
   * whose lane `clerk` names: the name its lost messages and timeouts are reported under).
   */
  private makeEnd(to: number, from?: number, clerk?: string): ClientEnd {
    const name = from === undefined ? `clerk-end-${this.ends++}` : `peer-${from}-${to}`;
    const end = this.net.makeEnd(name, from === undefined ? clerk : serverName(from));
    this.net.connect(name, serverName(to));
    this.net.enable(name, this.running[to] && (from === undefined || this.running[from]));
    this.endsTo[to].add(name);
    if (from !== undefined) this.endsFrom[from].push(name);
    return end;
  }

  /**
   * The student's clerk with ends to every server. `config` and `servers` override what the clerk is told
   * (TestRejection gives a clerk a wrong layout and an end to server 0 only).
   */
  makeClerk(
    config: ClusterConfig = this.config,
    servers: readonly number[] = [...Array(this.nservers).keys()],
  ): KVClerk {
    const lane = `clerk ${this.plainClerks++}`;
    const ends = servers.map((s) => this.makeEnd(s, undefined, lane));
    const ck = new TracedClerk(this.studentClerk(config, ends), lane);
    this.clerkEnds.set(
      ck,
      ends.map((e) => e.name),
    );
    return ck;
  }

  /**
   * Deletes the ends of `ck`, a clerk of makeClerk's whose work is done: the 100,000-clerk memory tests make each
   * clerk, use it and forget it, so that the tester holds nothing of the clerks gone (their ends, their names) while
   * the next ones are made, and each collection walks a heap of the servers and the clerks at work only. A call the
   * clerk made after this would be a usage error that stops the test; a clerk's operation sends none once it returns.
   */
  forgetClerk(ck: KVClerk): void {
    for (const name of this.clerkEnds.get(ck) ?? []) {
      this.net.deleteEnd(name);
      for (const to of this.endsTo) to.delete(name);
    }
    this.clerkEnds.delete(ck);
  }

  /** The student's clerk itself, with `ends` to the servers. */
  private studentClerk(config: ClusterConfig, ends: ClientEnd[]): KVClerk {
    const ck = new this.impl.Clerk(ends, config);
    if (this.keepClerks) this.clerks.push(ck);
    return ck;
  }

  /** A clerk whose operations are recorded in the history under `clientId` (`servers` as for makeClerk). */
  makeRecordingClerk(clientId: number, servers?: readonly number[]): KVClerk {
    const lane = clientLane(clientId);
    const ends = (servers ?? [...Array(this.nservers).keys()]).map((s) => this.makeEnd(s, undefined, lane));
    return new RecordingClerk(this.studentClerk(this.config, ends), clientId, this.history, this.ctx);
  }

  /**
   * Cuts (or restores) server `from`'s link to server `to` while both keep running: its calls in flight and
   * later ones are lost, as on a network that loses every message for a while.
   */
  setLink(from: number, to: number, on: boolean): void {
    const name = `peer-${from}-${to}`;
    this.net.enable(name, on && this.running[from] && this.running[to]);
    this.ctx.log(`${on ? 'restored' : 'cut'} the link from server ${from} to server ${to}`);
  }

  /**
   * Fails every clerk's call to server `i` now on its way or in its handler, as if its messages were lost: the clerk
   * sees a lost call; a handler the call reached (held there through onCall, say) still runs, its answer never
   * delivered. Later calls pass as before.
   */
  loseClerkCallsTo(i: number): void {
    for (const name of this.endsTo[i]) {
      if (!name.startsWith('clerk-end-')) continue;
      this.net.enable(name, false);
      this.net.enable(name, this.running[i]);
    }
    this.ctx.log(`lost the clerks' calls in flight to server ${i}`);
  }

  /** Whether server i is running. */
  isRunning(i: number): boolean {
    return this.running[i];
  }

  /**
   * Calls between two running servers not yet answered or failed: a copy of a shard sent before a stop or a
   * restart may still be on its way, and would then land on a copy made after it.
   */
  peerCallsPending(): number {
    const between = new Set(this.endsFrom.flatMap((ends, from) => (this.running[from] ? ends : [])));
    return this.net.pendingCalls((end) => between.has(end) && this.running[Number(end.split('-')[2])]);
  }

  /**
   * Stops server i: every end to or from it is disabled (calls in flight fail), and servers asking
   * `isRunning(i)` hear false. The server object and its state stay as they are.
   */
  stopServer(i: number): void {
    if (!this.running[i]) return;
    this.running[i] = false;
    for (const name of [...this.endsTo[i], ...this.endsFrom[i]]) this.net.enable(name, false);
    this.ctx.log(`stopped server ${i}`);
  }

  /** Restarts server i with the state it had when stopped (as MIT's 2024 port does): its ends work again. */
  startServer(i: number): void {
    if (this.running[i]) return;
    this.running[i] = true;
    for (const name of this.endsTo[i]) {
      const from = /^peer-(\d+)-/.exec(name);
      this.net.enable(name, from === null || this.running[Number(from[1])]);
    }
    for (const name of this.endsFrom[i]) {
      const to = Number(/-(\d+)$/.exec(name)![1]);
      this.net.enable(name, this.running[to]);
    }
    this.ctx.log(`restarted server ${i}`);
  }

  /**
   * Heap bytes the cluster keeps alive: the live heap now minus the live heap once the servers (and, with
   * `withClerks`, the clerks) are gone. Plain before/after heap differences drift by megabytes inside V8;
   * what an object graph frees when it is dropped does not. The cluster cannot be used afterwards.
   */
  async measureRetained(withClerks: boolean): Promise<number> {
    // Let the work still in flight at this instant (replies being delivered, copies to backups) finish first:
    // until it does, pending events hold the servers and the values they carry.
    await new Promise((resolve) => setTimeout(resolve, 1));
    // Without `withClerks` the clerks are not counted: they go before the first reading (their ends stay in the
    // network, small and counted in neither reading). Keeping them alive instead would also keep V8 holding on
    // to the student's modules, hiding their top-level tables.
    if (!withClerks) this.clerks = [];
    stopHoldersOfServers([this.net]);
    const before = liveHeapBytes();
    for (let i = 0; i < this.nservers; i++) this.net.deleteServer(serverName(i));
    this.servers = [];
    if (withClerks) this.clerks = [];
    // The classes too: from a fresh copy of the student's modules, they hold its top-level variables.
    this.impl = MEASURED;
    const after = liveHeapBytes();
    return before - after;
  }

  /** Fails the test if the recorded history is not linearizable (a checker timeout passes, as in MIT's tester). */
  checkLinearizable(): void {
    assertLinearizable(this.ctx, kvModel, this.history.operations());
  }
}

/**
 * Wraps a clerk whose operations are not checked, so that on a trace page its calls still sit on a clerk lane of
 * their own, as operations (the test's count includes them), rather than on the test's lane.
 */
class TracedClerk implements KVClerk {
  private readonly inner: KVClerk;
  private readonly lane: string;

  constructor(inner: KVClerk, lane: string) {
    this.inner = inner;
    this.lane = lane;
  }

  /**
   * Runs one operation on this clerk's lane, recorded in the trace when recording. It returns the student's own
   * promise, and notes the return on a side branch, so that the run's schedule is the same recorded or not.
   */
  private traced<T>(input: KvInput, run: () => Promise<T>, output: (v: T) => unknown): Promise<T> {
    const world = World.maybeCurrent();
    const rec = world?.recorder;
    if (!world || !rec) return run();
    world.enterLane(this.lane);
    const id = rec.id();
    // The input as recorded (a long value cut short): a trace holding the value would keep it alive, so a server
    // keeping it too would weigh nothing in a memory test's recorded replay.
    rec.add({ k: 'op', t: world.now(), id, lane: this.lane, input: recordedValue(input) });
    const p = run();
    p.then(
      (v) => rec.add({ k: 'ret', t: world.now(), id, output: recordedValue(output(v)) }),
      () => undefined,
    );
    return p;
  }

  get(key: string): Promise<string> {
    return this.traced(
      { op: 'get', key },
      () => this.inner.get(key),
      (v) => v,
    );
  }

  put(key: string, value: string): Promise<void> {
    return this.traced(
      { op: 'put', key, value },
      () => this.inner.put(key, value),
      () => '',
    );
  }

  append(key: string, arg: string): Promise<string> {
    return this.traced(
      { op: 'append', key, value: arg },
      () => this.inner.append(key, arg),
      (v) => v,
    );
  }
}

/** Wraps a clerk so that each operation is recorded with its call and return times. */
class RecordingClerk implements KVClerk {
  private readonly inner: KVClerk;
  private readonly id: number;
  private readonly history: HistoryRecorder<KvInput, KvOutput>;
  private readonly ctx: TestContext<Lab1Impl>;

  constructor(inner: KVClerk, id: number, history: HistoryRecorder<KvInput, KvOutput>, ctx: TestContext<Lab1Impl>) {
    this.inner = inner;
    this.id = id;
    this.history = history;
    this.ctx = ctx;
  }

  async get(key: string): Promise<string> {
    const op = this.history.begin(this.id, { op: 'get', key });
    const value = await this.inner.get(key);
    if (typeof value !== 'string')
      throw new TestFailure(
        `get(${show(key)}) returned ${show(value)}; Clerk.get must return a string. Likely causes: the data kept in a ` +
          'plain object, where a key such as "__proto__" or "constructor" already holds something (use a Map); the ' +
          "reply's value field misread.",
      );
    this.history.end(op, value);
    this.ctx.countOps();
    return value;
  }

  async put(key: string, value: string): Promise<void> {
    const op = this.history.begin(this.id, { op: 'put', key, value });
    await this.inner.put(key, value);
    this.history.end(op, '');
    this.ctx.countOps();
  }

  async append(key: string, arg: string): Promise<string> {
    const op = this.history.begin(this.id, { op: 'append', key, value: arg });
    const old = await this.inner.append(key, arg);
    if (typeof old !== 'string')
      throw new TestFailure(
        `append(${show(key)}, ...) returned ${show(old)}; Clerk.append must return the old value, a string.`,
      );
    this.history.end(op, old);
    this.ctx.countOps();
    return old;
  }
}

/** Resolves like `p`, or fails the test when `p` takes longer than `ms` of virtual time (the tester's, shared by the labs). */
export { within } from '../../suite';

/** The likely causes of a write that took effect twice, for every message that finds one. */
export const CAUSES_DUPLICATE =
  'Likely causes: the server executes every copy of a re-sent write (it must remember, per clerk, its latest ' +
  "request's number and reply, and answer a copy from there); the clerk gives a re-send a fresh number, so the server " +
  'cannot tell it is a copy; two clerks share an id (draw it from a range of about 2^52); a backup that applies a ' +
  'Replicate to its data without updating its exactly-once table, or a duplicate table that does not travel with the ' +
  'data to the backups, or is not installed when a new primary brings the copies up to date; ' +
  "an Install merged into the backup's copy instead of replacing it (a key only the backup had, from a write the new " +
  "primary never saw, stays, and that write's re-send then runs again on top of it).";

/** Shows a value in a message, shortened when long. */
export function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 50)}...${s.slice(-20)} (${s.length} characters)` : s;
}

brandHarness(Lab1Tester);
