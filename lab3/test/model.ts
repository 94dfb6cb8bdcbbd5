/**
 * Lab 3's executable specification: what a read may return at each consistency level, as the handout promises it,
 * run beside the student's servers on random sequences of writes, reads, simultaneous writes and quiet periods
 * (TestModelConsistency).
 */
import { fc } from '../../suite/fast-check';
import { ModelMismatch, runModelTest, type StepLog } from '../../suite/model-based';
import type { TestContext, TestDefinition } from '../../suite';
import { sleep } from '../../world';
import { CONSISTENCY_LEVELS, type ConsistencyLevel } from '../rpc';
import { Cluster, show, type Lab3Client, type Lab3Impl } from './harness';
import { GRAMMAR_KEYS, valueKindArb, valueOf, type KeyPast, type ValueKind } from '../../suite/nemesis/edge-grammar';

type Ctx = TestContext<Lab3Impl>;

/** Servers per cluster; client i is bound to server i. */
const SERVERS = 3;

/** One write the model knows of: where it was issued, its key and its value. */
interface Write {
  readonly server: number;
  readonly key: string;
  readonly value: string;
}

/** A read's verdict: undefined when the model allows what it returned, else what the model expected. */
type Verdict = string | undefined;

/** The values a read may return, for a message. */
function oneOf(values: Iterable<string>): string {
  const shown = [...new Set(values)].map((v) => `${show(v)}${v.length > 40 ? ` (${v.length} chars)` : ''}`);
  return shown.length === 1 ? shown[0] : `one of ${shown.join(', ')}`;
}

/** What every level's model shares: the values written so far (for values that repeat one), and the last write. */
export abstract class LevelModel {
  /** Every value written to each key, in the order the writes were issued. */
  private readonly written = new Map<string, string[]>();
  /** Numbers fresh values, so that each is unique. */
  n = 0;
  /** The last write issued (the grammar's "last written key" and "last writer" resolve to it). */
  last: Write | undefined;

  /** What the key holds now and held before, as the writes were issued. */
  past(key: string): KeyPast {
    const values = this.written.get(key) ?? [];
    return { held: values.at(-1), before: values.slice(0, -1) };
  }

  /** One write, or two issued at once at two servers, all returned. */
  write(writes: readonly Write[]): void {
    for (const w of writes) this.written.set(w.key, [...(this.written.get(w.key) ?? []), w.value]);
    this.last = writes.at(-1);
    this.wrote(writes);
  }

  /** True while the model may still take two simultaneous writes (it keeps one world per order they may take). */
  roomForPair(): boolean {
    return true;
  }

  protected abstract wrote(writes: readonly Write[]): void;
  /** A read at `server` returned `got`: allowed or not (the model narrows what it knows by it). */
  abstract read(server: number, key: string, got: string): Verdict;
  /** The keys to read everywhere after a quiet period (those written since the last). */
  abstract touched(): string[];
  /** After a quiet period every server holds `got` for `key`: allowed or not. */
  abstract settled(key: string, got: string): Verdict;
  /** A quiet period passed and every touched key was read everywhere: every message has been delivered. */
  abstract quiet(): void;
}

/** One total order the writes may have taken, and the prefix of it each server has at least delivered. */
interface Order {
  readonly ids: readonly number[];
  readonly lo: readonly number[];
}

/** The most orders the model keeps (each pair of simultaneous writes doubles them until a read tells them apart). */
const MAX_ORDERS = 64;

/**
 * Linearizable and sequential: every write goes through the totally ordered broadcast and returns once its own server
 * delivered it. A write issued after another returned comes after it in the total order: that one was delivered only
 * once every server had acknowledged it, so every clock had passed its timestamp. Two writes issued at once may take
 * either order. A linearizable read sees the whole order; a sequential read sees a prefix its server has delivered:
 * at least up to its own clients' writes (and all before them), never less than what an earlier read there showed.
 */
export class OrderModel extends LevelModel {
  private readonly writes: Write[] = [];
  private orders: Order[] = [{ ids: [], lo: new Array<number>(SERVERS).fill(0) }];
  private readonly since = new Set<string>();
  private readonly linearizable: boolean;

  constructor(linearizable: boolean) {
    super();
    this.linearizable = linearizable;
  }

  override roomForPair(): boolean {
    return this.orders.length * 2 <= MAX_ORDERS;
  }

  protected wrote(writes: readonly Write[]): void {
    const ids = writes.map((w) => this.writes.push(w) - 1);
    for (const w of writes) this.since.add(w.key);
    const ways = ids.length === 1 ? [ids] : [ids, [...ids].reverse()];
    this.orders = this.orders.flatMap((o) =>
      ways.map((way) => {
        const order = [...o.ids, ...way];
        const lo = [...o.lo];
        for (const id of way) lo[this.writes[id].server] = Math.max(lo[this.writes[id].server], order.indexOf(id) + 1);
        return { ids: order, lo };
      }),
    );
  }

  /** The key's value after the first `p` writes of `o` ("" when none of them wrote it). */
  private valueAt(o: Order, key: string, p: number): string {
    for (let i = p - 1; i >= 0; i--) if (this.writes[o.ids[i]].key === key) return this.writes[o.ids[i]].value;
    return '';
  }

  read(server: number, key: string, got: string): Verdict {
    const allowed: string[] = [];
    const kept: Order[] = [];
    for (const o of this.orders) {
      const from = this.linearizable ? o.ids.length : o.lo[server];
      let at = -1;
      for (let p = from; p <= o.ids.length; p++) {
        const v = this.valueAt(o, key, p);
        allowed.push(v);
        if (at < 0 && v === got) at = p;
      }
      if (at >= 0) kept.push({ ids: o.ids, lo: o.lo.map((l, s) => (s === server ? at : l)) });
    }
    if (kept.length > 0) {
      this.orders = kept;
      return undefined;
    }
    return this.linearizable
      ? `${oneOf(allowed)}: a linearizable read sees every write that returned before it began (the last of them, in the one order they took)`
      : `${oneOf(allowed)}: a sequential read shows its server's copy, which holds its own clients' writes and every write ordered before them, ` +
          'and never goes back to an older value than an earlier read there showed';
  }

  touched(): string[] {
    return [...this.since];
  }

  settled(key: string, got: string): Verdict {
    const kept = this.orders.filter((o) => this.valueAt(o, key, o.ids.length) === got);
    if (kept.length > 0) {
      this.orders = kept;
      return undefined;
    }
    return `${oneOf(this.orders.map((o) => this.valueAt(o, key, o.ids.length)))}: once every message is delivered, every server holds the last write in the total order`;
  }

  quiet(): void {
    this.since.clear();
    this.orders = this.orders.map((o) => ({ ids: o.ids, lo: o.lo.map(() => o.ids.length) }));
  }
}

/**
 * Eventual: a write is applied at its own server at once and reaches the others later; every server keeps the write
 * with the largest (clock, server id). Once a quiet period has passed, every server holds the same value, and a later
 * write anywhere beats it (its server's clock has passed it). A read at a server returns its own clients' latest write
 * since then, or that settled value when they wrote none, unless a write issued elsewhere since has reached it and wins;
 * which of two writes issued at two servers between quiet periods wins depends on their clocks, so either may.
 */
export class EventualModel extends LevelModel {
  /** The value every server held after the last quiet period ("" for a key nobody wrote). */
  private readonly base = new Map<string, string>();
  /** The writes issued since the last quiet period. */
  private since: Write[] = [];

  protected wrote(writes: readonly Write[]): void {
    this.since.push(...writes);
  }

  /** The latest write of each server to `key` since the last quiet period. */
  private latest(key: string): Map<number, Write> {
    const out = new Map<number, Write>();
    for (const w of this.since) if (w.key === key) out.set(w.server, w);
    return out;
  }

  read(server: number, key: string, got: string): Verdict {
    const latest = this.latest(key);
    const own = latest.get(server);
    const allowed = [own ? own.value : (this.base.get(key) ?? '')];
    for (const w of this.since) if (w.key === key && w.server !== server) allowed.push(w.value);
    if (allowed.includes(got)) return undefined;
    return (
      `${oneOf(allowed)}: a server answers from its own copy at once, which holds ${own ? 'its own clients\u2019 latest write' : 'the value every server agreed on at the last quiet period'}` +
      `${allowed.length > 1 ? ', or a write issued at another server since, if it has arrived and wins' : ''}`
    );
  }

  touched(): string[] {
    return [...new Set(this.since.map((w) => w.key))];
  }

  settled(key: string, got: string): Verdict {
    const latest = [...this.latest(key).values()].map((w) => w.value);
    const allowed = latest.length > 0 ? latest : [this.base.get(key) ?? ''];
    if (!allowed.includes(got))
      return (
        `${oneOf(allowed)}: once every write has reached every server, each keeps the one with the largest (clock, server id), ` +
        "which is one server's latest write since the last quiet period (a server's later write beats its earlier ones)"
      );
    this.base.set(key, got);
    return undefined;
  }

  quiet(): void {
    this.since = [];
  }
}

/** The model of a level. */
function modelOf(level: ConsistencyLevel): LevelModel {
  return level === 'eventual' ? new EventualModel() : new OrderModel(level === 'linearizable');
}

/** The real side of a run: a fresh cluster, one client per server. */
interface ConsistencyReal extends StepLog {
  readonly cluster: Cluster;
  readonly clients: readonly Lab3Client[];
  readonly level: ConsistencyLevel;
}

/** The likely causes of a disagreement, by level and by what disagreed. */
const CAUSES: Record<ConsistencyLevel | 'agree' | 'late', string> = {
  linearizable:
    'a write answered before its own server delivered it (then a read elsewhere, with a smaller timestamp, is ordered first); a ' +
    'read answered from the local copy, or when its broadcast comes back to its own server, or with the value it found on arrival, ' +
    'instead of the value when this server delivers it; a write of the value the key already holds (or held before) treated as ' +
    'nothing to do, or dropped as a duplicate of an earlier message; a store kept in a plain object (writing "__proto__" changes its ' +
    'prototype, and keys such as "constructor" already exist: use a Map); an empty key or value taken for a missing one; or keys ' +
    'or values changed on the way (trimmed, truncated, re-encoded).',
  sequential:
    "a write answered before its own server delivered it (when it is sent, or when its broadcast comes back to its own server), so its client's " +
    'next read misses it; a server that applies writes out of the total order (its own at once, or in arrival order); a read that ' +
    'shows a write still waiting in the queue; a write of the value the key already holds (or held before) treated as nothing to ' +
    'do, or dropped as a duplicate of an earlier message; a store kept in a plain object (writing "__proto__" changes its prototype, ' +
    'and keys such as "constructor" already exist: use a Map); an empty key or value taken for a missing one; or keys or values ' +
    'changed on the way.',
  eventual:
    'a write not applied at its own server before it is answered; a propagated write that beats a later write of the server that ' +
    "received it (the receiver's clock does not jump past the writes it receives, or timestamps are compared in another order " +
    'than clock, then server id); a write of the value the key already holds (or held before) treated as nothing to do, or dropped ' +
    'as a duplicate of an earlier message; a store kept in a plain object (writing "__proto__" changes its prototype, and keys ' +
    'such as "constructor" already exist: use a Map); an empty key or value taken for a missing one; or keys or values changed on the way.',
  agree:
    'a write of the value the key already holds (or held before) treated as nothing to do; a message dropped as a duplicate because its key and value were seen before (a re-sent message is recognised by its number ' +
    'on its link, never by its content); a message held back for good (a FIFO link waiting for a number that never comes, an ' +
    'acknowledgement kept under another timestamp than its message); last-writer-wins decided differently at different servers ' +
    '(by arrival order, or without the server id); a store kept in a plain object (keys such as "__proto__"); or keys or values ' +
    'changed on the way.',
  late:
    'a message dropped as a duplicate because its key and value were seen before (recognise a re-sent message by its number on its ' +
    'link, never by its content), so its broadcast is never acknowledged by everyone; an acknowledgement that arrives before its ' +
    'message and is lost; a FIFO link waiting for a number that never comes; or a handler that waits for the replies of calls it ' +
    'sent to other servers.',
};

/** How long a step may take before it fails as unanswered (virtual ms): every message arrives within 15 ms. */
const STEP_LIMIT_MS = 3000;
/** What a step's race gets when the operation is not answered in time. */
const LATE = Symbol('late');

/** Awaits an operation of the step, or reports it unanswered after STEP_LIMIT_MS. */
async function answered<T>(r: ConsistencyReal, op: Promise<T>, what: string): Promise<T> {
  const got = await Promise.race([op, sleep(STEP_LIMIT_MS).then(() => LATE)]);
  if (got !== LATE) return got as T;
  r.steps.push(`${what} had not returned after ${STEP_LIMIT_MS} ms`);
  throw new ModelMismatch(
    r,
    `an answer within a few tens of ms: the network loses nothing, and every message takes at most 15 ms`,
    `no answer within ${STEP_LIMIT_MS} ms`,
    CAUSES.late,
  );
}

/** A server as the grammar names it: 0, 1, 2, or the one that took the last write. */
type ServerPick = number | 'last writer';
/** A key as the grammar names it: one of the edge keys, or the key of the last write. */
type KeyPick = string | { readonly last: true };

/** The grammar's "key of the last write". */
const LAST_KEY: KeyPick = { last: true };

/** The server a pick names, against the model. */
function serverOf(m: LevelModel, pick: ServerPick): number {
  return pick === 'last writer' ? (m.last?.server ?? 0) : pick;
}
/** The key a pick names, against the model. */
function keyOf(m: LevelModel, pick: KeyPick): string {
  return typeof pick === 'string' ? pick : (m.last?.key ?? 'k');
}
/** A pick, for a command's name. */
function showPick(pick: KeyPick | ServerPick): string {
  return typeof pick === 'object' ? 'the last written key' : typeof pick === 'string' ? show(pick) : String(pick);
}

/** The client at `server` writes `key` with a value of `kind` (or `value`, when given: one the kind chose earlier). */
class WriteCommand implements fc.AsyncCommand<LevelModel, ConsistencyReal> {
  readonly server: ServerPick;
  readonly key: KeyPick;
  readonly kind: ValueKind;
  readonly value: string | undefined;
  constructor(server: ServerPick, key: KeyPick, kind: ValueKind, value?: string) {
    this.server = server;
    this.key = key;
    this.kind = kind;
    this.value = value;
  }
  check(): boolean {
    return true;
  }
  async run(m: LevelModel, r: ConsistencyReal): Promise<void> {
    const server = serverOf(m, this.server);
    const key = keyOf(m, this.key);
    const value = this.value ?? valueOf(this.kind, m.n++, m.past(key));
    const what = `the client at server ${server} wrote ${show(key)} = ${show(value)} [${this.kind}]`;
    await answered(r, r.clients[server].write(key, value), what);
    r.steps.push(`${what}; the write returned`);
    m.write([{ server, key, value }]);
  }
  toString(): string {
    return `write(server ${showPick(this.server)}, ${showPick(this.key)}, ${this.kind} value)`;
  }
}

/** Clients at two servers write the same key at the same moment. */
class PairCommand implements fc.AsyncCommand<LevelModel, ConsistencyReal> {
  readonly servers: readonly [number, number];
  readonly key: KeyPick;
  readonly kinds: readonly [ValueKind, ValueKind];
  constructor(servers: readonly [number, number], key: KeyPick, kinds: readonly [ValueKind, ValueKind]) {
    this.servers = servers;
    this.key = key;
    this.kinds = kinds;
  }
  check(m: Readonly<LevelModel>): boolean {
    return m.roomForPair();
  }
  async run(m: LevelModel, r: ConsistencyReal): Promise<void> {
    const key = keyOf(m, this.key);
    const writes = this.servers.map((server, i) => ({
      server,
      key,
      value: valueOf(this.kinds[i], m.n++, m.past(key)),
    }));
    const what = `at the same moment ${writes.map((w, i) => `the client at server ${w.server} wrote ${show(key)} = ${show(w.value)} [${this.kinds[i]}]`).join(' and ')}`;
    await answered(r, Promise.all(writes.map((w) => r.clients[w.server].write(key, w.value))), what);
    r.steps.push(`${what}; both writes returned`);
    m.write(writes);
  }
  toString(): string {
    return `pair(servers ${this.servers.join(' and ')}, ${showPick(this.key)}, ${this.kinds.join(' and ')} values)`;
  }
}

/**
 * A relay: the client at the first server writes a fresh value, and the moment that write returns, the client at the
 * second server (whose copy may not have it yet) writes the same key with a value of `kind`. "Held before" is then
 * the value the key held just before the relay: the one the second server's copy may still hold, so that a write
 * taken for a no-op there is seen.
 */
class RelayCommand implements fc.AsyncCommand<LevelModel, ConsistencyReal> {
  readonly servers: readonly [number, number];
  readonly key: KeyPick;
  readonly kind: ValueKind;
  constructor(servers: readonly [number, number], key: KeyPick, kind: ValueKind) {
    this.servers = servers;
    this.key = key;
    this.kind = kind;
  }
  check(): boolean {
    return true;
  }
  async run(m: LevelModel, r: ConsistencyReal): Promise<void> {
    const key = keyOf(m, this.key);
    const [a, b] = this.servers;
    const before = m.past(key).held;
    await new WriteCommand(a, key, 'fresh').run(m, r);
    const stale = this.kind === 'held before' ? before : undefined;
    await new WriteCommand(b, key, this.kind, stale).run(m, r);
  }
  toString(): string {
    return `relay(servers ${this.servers.join(' then ')}, ${showPick(this.key)}, then a ${this.kind} value)`;
  }
}

/** The client at `server` reads `key`, compared with the model. */
class ReadCommand implements fc.AsyncCommand<LevelModel, ConsistencyReal> {
  readonly server: ServerPick;
  readonly key: KeyPick;
  constructor(server: ServerPick, key: KeyPick) {
    this.server = server;
    this.key = key;
  }
  check(): boolean {
    return true;
  }
  async run(m: LevelModel, r: ConsistencyReal): Promise<void> {
    const server = serverOf(m, this.server);
    const key = keyOf(m, this.key);
    const what = `the client at server ${server} read ${show(key)}`;
    const got = await answered(r, r.clients[server].read(key), what);
    r.steps.push(`${what}: ${show(got)}`);
    const wrong = m.read(server, key, got);
    if (wrong !== undefined) throw new ModelMismatch(r, wrong, show(got), CAUSES[r.level]);
  }
  toString(): string {
    return `read(server ${showPick(this.server)}, ${showPick(this.key)})`;
  }
}

/** A quiet period: every message arrives within 15 ms, so by then every write has reached every server many times over. */
const QUIET_MS = 500;

/** Nothing happens for QUIET_MS; then every key written since the last quiet period is read at every server. */
class QuietCommand implements fc.AsyncCommand<LevelModel, ConsistencyReal> {
  check(): boolean {
    return true;
  }
  async run(m: LevelModel, r: ConsistencyReal): Promise<void> {
    await sleep(QUIET_MS);
    r.steps.push(`${QUIET_MS} ms pass with no operation`);
    for (const key of m.touched()) {
      const what = `${show(key)} is read at every server`;
      const values = await answered(r, r.cluster.readEverywhere(key), what);
      r.steps.push(`${what}: ${values.map((v, s) => `server ${s} has ${show(v)}`).join(', ')}`);
      if (values.some((v) => v !== values[0]))
        throw new ModelMismatch(
          r,
          'the same value at every server: once writes stop and every message has arrived, the servers agree',
          values.map(show).join(', '),
          CAUSES.agree,
        );
      const wrong = m.settled(key, values[0]);
      if (wrong !== undefined) throw new ModelMismatch(r, wrong, show(values[0]), CAUSES[r.level]);
    }
    m.quiet();
  }
  toString(): string {
    return 'quiet';
  }
}

/** fast-check's draws of a server, a key, and two distinct servers. */
const serverArb = (): fc.Arbitrary<ServerPick> =>
  fc.oneof(fc.integer({ min: 0, max: SERVERS - 1 }), fc.constant<ServerPick>('last writer'));
const keyPickArb = (): fc.Arbitrary<KeyPick> => fc.oneof(fc.constantFrom(...GRAMMAR_KEYS), fc.constant(LAST_KEY));
/** A value kind: a repeated value (the one held, or one held before) as often as any other kind. */
const kindArb = (): fc.Arbitrary<ValueKind> =>
  fc.oneof(valueKindArb(), fc.constantFrom<ValueKind>('held', 'held before'));
const pairArb = (): fc.Arbitrary<readonly [number, number]> =>
  fc
    .tuple(fc.integer({ min: 0, max: SERVERS - 1 }), fc.integer({ min: 1, max: SERVERS - 1 }))
    .map(([a, d]) => [a, (a + d) % SERVERS] as const);

/** The grammar: writes and reads at any server (often the last writer, of the last written key), pairs, quiet periods. */
const commands = (): Array<fc.Arbitrary<fc.AsyncCommand<LevelModel, ConsistencyReal>>> => [
  fc.tuple(serverArb(), keyPickArb(), kindArb()).map(([s, k, v]) => new WriteCommand(s, k, v)),
  fc.tuple(serverArb(), keyPickArb(), kindArb()).map(([s, k, v]) => new WriteCommand(s, k, v)),
  fc.tuple(serverArb(), keyPickArb()).map(([s, k]) => new ReadCommand(s, k)),
  fc.tuple(serverArb(), keyPickArb()).map(([s, k]) => new ReadCommand(s, k)),
  fc.tuple(serverArb(), keyPickArb()).map(([s, k]) => new ReadCommand(s, k)),
  fc.tuple(pairArb(), keyPickArb(), kindArb(), kindArb()).map(([p, k, a, b]) => new PairCommand(p, k, [a, b])),
  fc.tuple(pairArb(), keyPickArb(), kindArb()).map(([p, k, b]) => new RelayCommand(p, k, b)),
  fc.constant(new QuietCommand()),
];

/** Sequences per level, and their longest length. */
const RUNS = 30;
const MAX_COMMANDS = 25;

/** A sequence's start: a fresh cluster of the level, a client at each server. */
function setup(ctx: Ctx, level: ConsistencyLevel): { model: LevelModel; real: ConsistencyReal } {
  const cluster = new Cluster(ctx.impl, { servers: SERVERS, level });
  cluster.onOp = () => ctx.countOps();
  const clients = Array.from({ length: SERVERS }, (_, s) => cluster.client(s));
  return { model: modelOf(level), real: { cluster, clients, level, steps: [] } };
}

/** TestModelConsistency: random sequences at each level, every read compared with what the level allows. */
export const modelConsistency: TestDefinition<Lab3Impl> = {
  name: 'TestModelConsistency',
  // Each sequence's quiet periods add up to seconds of virtual time (which costs no real time).
  virtualLimitMs: 900_000,
  description: `every level, ${RUNS} random sequences each of up to ${MAX_COMMANDS} writes, reads, simultaneous writes at two servers and quiet periods, at 3 servers (keys like __proto__, empty, numeric-looking, huge; values empty, huge, non-ASCII, equal to the one held or held before): each read returns what the level allows (linearizable: the last write; sequential: a prefix of the one order with the client's own writes; eventual: its own latest write or one that may win), and after a quiet period every server holds the same value, the right one; the shortest failing sequence is printed as a replay`,
  async run(ctx: Ctx) {
    for (const level of CONSISTENCY_LEVELS) {
      const done = await runModelTest<LevelModel, ConsistencyReal>({
        seed: ctx.seed,
        key: `TestModelConsistency/${level}`,
        what: `lab 3's ${level} level (3 servers, the client at server i bound to it)`,
        commands: commands(),
        runs: RUNS,
        maxCommands: MAX_COMMANDS,
        setup: () => setup(ctx, level),
      });
      ctx.log(`${level}: ${done.runs} sequences agreed with the model (fast-check seed ${done.fcSeed})`);
    }
  },
};
