/**
 * Lab 3's tester: a cluster of the student's servers on the simulated network, with links that take
 * milliseconds (so latencies mean something), clients bound to one server each, a recorded history, and the
 * checks of each consistency level. The runner (lab3/tools/run.ts) uses the same cluster.
 */
import { Network, Server } from '../../labrpc';
import type { ClientEnd, RpcEnd } from '../../labrpc';
import { HistoryRecorder, clientLane, type HistoryKeeps } from '../../suite/history';
import { kvModel } from '../../checker';
import type { CheckMode, KvInput, KvOutput, KvState, Model, Operation } from '../../checker';
import { TestFailure, checkForTest } from '../../suite';
import { World, sleep } from '../../world';
import type { ScenarioDriver } from '../tools/scenario';
import type { ConsistencyLevel, KVService, ReadReply, ServerOptions, WriteReply } from '../rpc';
import { brandHarness } from '../../world/brand';
import { CarryingHold, sendThrough } from './carrying-hold';

/** What the grader loads from lab3/ (or solutions/lab3/). */
export interface Lab3Impl {
  /** The folder the code is loaded from (TestRealLateStart loads it in server processes of their own). */
  readonly dir: string;
  readonly KVServer: new (options: ServerOptions) => KVService;
}

/** One-way delays of the simulated links, in virtual ms (the network itself adds about 0.1 ms). */
export interface LinkOptions {
  /** Client → its server and back: a client sits next to its server. */
  clientMs: number;
  /** Server → another server: at least this much … */
  serverMs: number;
  /** … plus up to this much more, drawn per message (so messages to one peer can overtake each other). */
  serverJitterMs: number;
}

/** The default links: clients 0.5 ms from their server, servers 5–15 ms apart. */
export const DEFAULT_LINKS: LinkOptions = { clientMs: 0.5, serverMs: 5, serverJitterMs: 10 };

/** How to build a cluster. */
export interface ClusterOptions {
  servers: number;
  level: ConsistencyLevel;
  links?: Partial<LinkOptions>;
  /**
   * What the history keeps (HistoryRecorder): 'unfinished' for a test that checks no history, so that the tester
   * holds no written value once its write returned (a memory test must see a value the servers keep).
   */
  history?: HistoryKeeps;
}

/** An end that spends the link's delay on the way out and on the way back (waits of its network's: see Network.wait). */
class DelayedEnd implements RpcEnd {
  private readonly inner: ClientEnd;
  private readonly net: Network;
  private readonly out: () => number;
  private readonly back: () => number;
  /** The holds on this link's calls that tests placed (usually none). */
  private readonly holds: () => readonly CarryingHold[];

  constructor(
    inner: ClientEnd,
    net: Network,
    delays: { out: () => number; back: () => number },
    holds: () => readonly CarryingHold[],
  ) {
    this.inner = inner;
    this.net = net;
    this.out = delays.out;
    this.back = delays.back;
    this.holds = holds;
  }

  async call<Reply = unknown>(method: string, args?: unknown): Promise<Reply> {
    const holds = this.holds();
    let sent = args;
    if (holds.length === 0) await this.net.wait(this.out());
    else {
      const h = sendThrough(holds, args, World.current().now());
      sent = h.args;
      await this.net.wait(this.out() + h.extraMs);
      h.arrived();
    }
    const reply = await this.inner.call<Reply>(method, sent);
    await this.net.wait(this.back());
    return reply;
  }
}

/** A link without holds. */
const NO_HOLDS: readonly CarryingHold[] = [];

/** Server i on the network and as the tests' messages and the trace page name it: "server 0". */
export function serverName(i: number): string {
  return `server ${i}`;
}

/** A client bound to one server: reads and writes are recorded for the checkers. */
export class Lab3Client {
  readonly id: number;
  readonly server: number;
  private readonly end: RpcEnd;
  private readonly history: HistoryRecorder<KvInput, KvOutput>;
  private readonly onOp: () => void;

  constructor(id: number, server: number, end: RpcEnd, history: HistoryRecorder<KvInput, KvOutput>, onOp: () => void) {
    this.id = id;
    this.server = server;
    this.end = end;
    this.history = history;
    this.onOp = onOp;
  }

  /** Reads `key` at this client's server. */
  async read(key: string): Promise<string> {
    const op = this.history.begin(this.id, { op: 'get', key });
    const reply = await this.end.call<ReadReply>('KVServer.Read', { key });
    if (!reply || typeof reply.value !== 'string') {
      throw new TestFailure(
        `KVServer.Read at server ${this.server} replied ${JSON.stringify(reply)}; expected { value: string } ("" for a key nobody wrote).`,
      );
    }
    this.history.end(op, reply.value);
    this.onOp();
    return reply.value;
  }

  /** Writes `key` = `value` at this client's server. */
  async write(key: string, value: string): Promise<void> {
    const op = this.history.begin(this.id, { op: 'put', key, value });
    const reply = await this.end.call<WriteReply>('KVServer.Write', { key, value });
    if (!reply || reply.ok !== true) {
      throw new TestFailure(
        `KVServer.Write at server ${this.server} replied ${JSON.stringify(reply)}; expected { ok: true }.`,
      );
    }
    this.history.end(op, '');
    this.onOp();
  }
}

/** A cluster of lab 3 servers on a simulated network. Build it inside a running World. */
export class Cluster {
  private readonly impl: Lab3Impl;
  readonly net = new Network();
  readonly history: HistoryRecorder<KvInput, KvOutput>;
  readonly n: number;
  readonly level: ConsistencyLevel;
  readonly links: LinkOptions;
  /** Extra one-way delay on chosen server → server links, ms (key "from>to"). */
  private readonly extra = new Map<string, number>();
  /** Time windows on chosen server → server links (key "from>to"): every message sent before `until` waits `ms` more. */
  private readonly windows = new Map<string, Array<{ until: number; ms: number }>>();
  /** Holds matched by content on chosen server → server links (key "from>to"). */
  private readonly holds = new Map<string, CarryingHold[]>();
  private clients = 0;
  private probes = 0;
  /** Counts every recorded operation (tests hook this to ctx.countOps). */
  onOp: () => void = () => {};

  constructor(impl: Lab3Impl, options: ClusterOptions) {
    this.impl = impl;
    this.history = new HistoryRecorder<KvInput, KvOutput>(undefined, options.history);
    this.n = options.servers;
    this.level = options.level;
    this.links = { ...DEFAULT_LINKS, ...options.links };
    const world = World.current();
    for (let i = 0; i < this.n; i++) {
      const peers: RpcEnd[] = [];
      for (let j = 0; j < this.n; j++) {
        const end = this.makeEnd(`s${i}>s${j}`, j, serverName(i));
        const link = (from: number, to: number) => (): number =>
          from === to
            ? this.windowMs(from, to) // a server's link to itself: instant, unless a test delays its messages
            : this.links.serverMs +
              world.rng.float() * this.links.serverJitterMs +
              (this.extra.get(`${from}>${to}`) ?? 0) +
              this.windowMs(from, to);
        const hold = (): readonly CarryingHold[] => this.holds.get(`${i}>${j}`) ?? NO_HOLDS;
        peers.push(new DelayedEnd(end, this.net, { out: link(i, j), back: link(j, i) }, hold));
      }
      // Built on its own lane: the timers its constructor starts (and their RPCs and printed lines) are the server's.
      const server = world.inLane(serverName(i), () => new this.impl.KVServer({ me: i, peers, level: this.level }));
      this.net.addServer(serverName(i), new Server().addService(server, 'KVServer'));
    }
  }

  /**
   * Takes the servers off the network, the last thing that holds them, so that the heap they free can be weighed
   * (TestMemManyOps). Drop a quiet cluster (no message in flight): it cannot be used afterwards.
   */
  dropServers(): void {
    for (let i = 0; i < this.n; i++) this.net.deleteServer(serverName(i));
  }

  /** Slows the server → server link `from` → `to` by `ms` more per message. */
  slowLink(from: number, to: number, ms: number): void {
    this.extra.set(`${from}>${to}`, ms);
  }

  /**
   * Slows every call on the server → server link `from` → `to` that carries `value` (the value of a write the test
   * makes) by `ms`, so that the calls after it overtake it; the hold returned tells whether that happened.
   */
  holdCarrying(from: number, to: number, ms: number, value: string): CarryingHold {
    const hold = new CarryingHold(value, ms);
    const key = `${from}>${to}`;
    this.holds.set(key, [...(this.holds.get(key) ?? []), hold]);
    return hold;
  }

  /**
   * Slows every message on the server → server link `from` → `to` (calls and replies) sent in the next `forMs` by
   * `ms`: whatever the server sends in that window, the message a fault is meant for among it. Returns a function
   * that ends the window early.
   */
  holdWindow(from: number, to: number, ms: number, forMs: number): () => void {
    const key = `${from}>${to}`;
    const window = { until: World.current().now() + forMs, ms };
    this.windows.set(key, [...(this.windows.get(key) ?? []), window]);
    return () => (window.until = -Infinity);
  }

  /** The extra delay the open windows on `from` → `to` give a message sent now (expired windows are dropped). */
  private windowMs(from: number, to: number): number {
    const key = `${from}>${to}`;
    const open = this.windows.get(key);
    if (open === undefined) return 0;
    const now = World.current().now();
    const left = open.filter((w) => w.until >= now);
    if (left.length === 0) this.windows.delete(key);
    else if (left.length < open.length) this.windows.set(key, left);
    return Math.max(0, ...left.map((w) => w.ms));
  }

  /** Takes a hold of holdCarrying off its link: later calls carrying its value go at the link's usual pace. */
  dropHold(from: number, to: number, hold: CarryingHold): void {
    const key = `${from}>${to}`;
    const left = (this.holds.get(key) ?? []).filter((h) => h !== hold);
    if (left.length > 0) this.holds.set(key, left);
    else this.holds.delete(key);
  }

  /**
   * While `on`, server `to` refuses its peers' calls, as a server not listening yet does over HTTP: each call to it
   * (and each one in flight) fails with a TimeoutError, and its sender must send it again. Its clients still reach it.
   */
  refusePeers(to: number, on: boolean): void {
    for (let i = 0; i < this.n; i++) if (i !== to) this.net.enable(`s${i}>s${to}`, !on);
  }

  /** An end to `server`, sent through by `owner` (a server's or a client's lane) when one is named. */
  private makeEnd(name: string, server: number, owner?: string, tester = false): ClientEnd {
    const end = this.net.makeEnd(name, owner, { tester });
    this.net.connect(name, serverName(server));
    this.net.enable(name, true);
    return end;
  }

  /**
   * An end from a client named `name` to `server`, over a client link (not recorded); `owner` as for makeEnd. The
   * clients are the tester's: the monitors judge the servers' calls only, whatever their method.
   */
  clientEnd(name: string, server: number, owner?: string): RpcEnd {
    const d = (): number => this.links.clientMs;
    return new DelayedEnd(this.makeEnd(name, server, owner, true), this.net, { out: d, back: d }, () => NO_HOLDS);
  }

  /** A new recorded client talking to `server` (client ids are 0, 1, … in creation order unless given). */
  client(server: number, id: number = this.clients): Lab3Client {
    if (server < 0 || server >= this.n || !Number.isInteger(server))
      throw new Error(`no server ${server} in a cluster of ${this.n}`);
    this.clients = Math.max(this.clients, id + 1);
    const end = this.clientEnd(`c${id}>s${server}`, server, clientLane(id));
    return new Lab3Client(id, server, end, this.history, () => this.onOp());
  }

  /** Reads `key` at every server without recording it (at the linearizable level this goes through the broadcast). */
  async readEverywhere(key: string): Promise<string[]> {
    const p = this.probes++;
    return Promise.all(
      Array.from({ length: this.n }, async (_, i) => {
        const reply = await this.clientEnd(`probe${p}>s${i}`, i).call<ReadReply>('KVServer.Read', { key });
        return reply.value;
      }),
    );
  }

  /** A driver for running a configuration's client scripts on this cluster (see lab3/tools/scenario.ts). */
  scenarioDriver(): ScenarioDriver {
    const world = World.current();
    return {
      endFor: (script) => this.clientEnd(`client${script.client}>s${script.server}`, script.server),
      readEverywhere: (key) => this.readEverywhere(key),
      sleepMs: () => world.rng.float() * 1000,
      wait: (ms) => sleep(ms),
      now: () => world.now(),
    };
  }

  /** The recorded operations. */
  operations(): Operation<KvInput, KvOutput>[] {
    return this.history.operations();
  }

  /** Mean latency of the recorded operations, virtual ms (NaN when none finished). */
  meanLatency(ops = this.operations()): number {
    const done = ops.filter((o) => o.return !== Infinity);
    return done.reduce((a, o) => a + (o.return - o.call), 0) / done.length;
  }

  /**
   * Checks the recorded history for `mode` with the key/value model; returns the verdict, an explanation, and
   * the viewer page when it is illegal. Linearizability is checked key by key (it is local). Sequential
   * consistency is not local, but its projection on each key must hold too, and checking the keys together is
   * exponentially harder without real-time order: histories longer than SEQUENTIAL_WHOLE_LIMIT are checked
   * key by key (sound: a failure is always a real violation; anomalies spanning keys go unnoticed).
   */
  check(mode: CheckMode, title?: string): { ok: boolean; verdict: string; explanation: string; html?: string } {
    const ops = this.operations();
    if (mode === 'linearizable' || ops.length <= SEQUENTIAL_WHOLE_LIMIT) {
      const { ok, result, explanation, html } = checkForTest(kvModel, ops, { mode, title });
      return { ok, verdict: result.verdict, explanation, html };
    }
    const keys = [...new Set(ops.map((o) => o.input.key))].sort();
    const verdicts: string[] = [];
    for (const key of keys) {
      const mine = ops.filter((o) => o.input.key === key);
      const { ok, result, explanation, html } = checkForTest(ONE_KEY_MODEL, mine, { mode, title });
      if (!ok) return { ok: false, verdict: result.verdict, explanation: `Key ${show(key)}: ${explanation}`, html };
      verdicts.push(result.verdict);
    }
    const verdict = verdicts.includes('unknown') ? 'unknown' : 'ok';
    return { ok: true, verdict: `${verdict} (key by key)`, explanation: '' };
  }

  /** Fails the test unless the history satisfies `mode`. */
  expect(mode: CheckMode, log: (m: string) => void, context = ''): void {
    const ops = this.operations();
    const r = this.check(mode, `lab3 ${this.level} cluster`);
    log(`${mode} check: ${r.verdict} (${ops.length} operations)`);
    if (!r.ok) {
      const what = mode === 'linearizable' ? 'linearizable' : 'sequentially consistent';
      throw new TestFailure(`${context}The history of the ${this.level} cluster is not ${what}.\n${r.explanation}`, {
        historyHtml: r.html,
      });
    }
  }
}

/** Histories up to this many operations are checked for sequential consistency as a whole. */
const SEQUENTIAL_WHOLE_LIMIT = 40;

/** The key/value model restricted to one key (no partitioning), for checking one key's operations. */
const ONE_KEY_MODEL: Model<KvState, KvInput, KvOutput> = (() => {
  const { partitionKey, ...rest } = kvModel;
  void partitionKey;
  return { ...rest, name: 'kv (one key)' };
})();

/** Shows a value in a message, shortened when long. */
export function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

brandHarness(Cluster);
