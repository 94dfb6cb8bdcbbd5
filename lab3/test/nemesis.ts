// Lab 3's generic attackers: seeded delay faults, refused peer calls, random workloads, the handout's promises as checks.
/**
 * One test per consistency level. Each runs several rounds on a fresh cluster: an opening in which every server
 * writes one key as its very first event (equal Lamport clocks), then a FAULT phase (a PCT delivery schedule, links
 * that reorder, slow links, a temporary partition made of long delays, single overtaken messages) during which
 * clients at every server read and write three hot edge keys from the cluster's first millisecond, so that writes
 * of one key are in flight whenever the Lamport clocks cross 9 -> 10, 99 -> 100 and 999 -> 1000, watchers read
 * those keys everywhere, and small multi-key litmus episodes run on fresh keys. Then the faults HEAL: every
 * operation must return, relays run on the quiet cluster (a write at one server whose clock runs ahead, then, once it
 * returned, a write of the same key at another, with the messages that would carry the first write's timestamp there
 * held back), local operations must be answered at once, a write issued once everything settled must win
 * everywhere, and all servers must agree. The CHECKS use only the public API and what the handout promises:
 * the linearizability or sequential-consistency checker, convergence, reads of written values only, and (eventual)
 * last-writer-wins under Lamport clocks as seen from outside.
 */
import { kvModel } from '../../checker';
import type { KvInput, KvOutput, Operation } from '../../checker';
import { check, checkForTest, TestFailure } from '../../suite';
import type { TestContext, TestDefinition } from '../../suite';
import { PctSchedule } from '../../suite/nemesis/pct';
import { drawPlan } from '../../suite/nemesis/plan';
import { edgeKeys, edgeValue } from '../../suite/nemesis/values';
import { keyedRng, sleep } from '../../world';
import type { Rng } from '../../world';
import type { ConsistencyLevel } from '../rpc';
import { Cluster, DEFAULT_LINKS, show } from './harness';
import type { Lab3Client, Lab3Impl, LinkOptions } from './harness';

type Ctx = TestContext<Lab3Impl>;
type Op = Operation<KvInput, KvOutput>;

/** Rounds per graded run: rounds 0-3 each meet one kind of fault, the later ones mix them. */
const ROUNDS = 5;
/** Length of the fault phase, virtual ms. */
const FAULT_MS = 400;
/** Once the faults heal, every operation in flight must return within this many virtual ms. */
const PROGRESS_MS = 3000;
/** A quiet period long enough for every message in flight to arrive (the handout's convergence wait). */
const SETTLE_MS = 1000;
/** A local answer (sequential reads, eventual reads and writes) takes less than one server-to-server message. */
const LOCAL_MS = DEFAULT_LINKS.serverMs;
/** The key every server writes as its first event. */
const OPENING_KEY = 'opening';
/** Small multi-key episodes per round (checked as a whole for sequential consistency). */
const EPISODES = 16;
/** Relays per round, once the cluster is quiet: a write at one server, then (once it returned) one at another. */
const RELAYS = 4;
/** How long a timed hold of the plan slows every message on its link (virtual ms): the messages of one moment. */
const OVERTAKE_WINDOW_MS = 1;
/** How long the messages carrying a held write's value are held back after the write starts, virtual ms. */
const HOLD_LIFE_MS = 30;
/** How long a relay waits once its two writes returned, so that the next one starts on a quiet cluster, virtual ms. */
const RELAY_QUIET_MS = 200;
/** A refused server refuses its peers' calls for at least this long (virtual ms): more than five re-sends take. */
const REFUSAL_MIN_MS = 600;
/**
 * One refusal in LONG_REFUSAL_ODDS lasts at least this long instead (virtual ms): long enough that a back-off which
 * doubles from 100 ms without a cap waits more than the 2 s the handout allows between re-sends.
 */
const LONG_REFUSAL_MS = 3_500;
const LONG_REFUSAL_ODDS = 3;
/**
 * One long refusal in VERY_LONG_REFUSAL_ODDS lasts 8-12 s instead (virtual ms): longer than a give-up after a fixed
 * number of re-sends (60 of them 100 ms apart) would wait. The handout asks for re-sends until the call succeeds.
 */
const VERY_LONG_REFUSAL_MS = 8_000;
const VERY_LONG_REFUSAL_ODDS = 2;

/** A server -> server link slowed by `ms` more per message. */
interface SlowLink {
  readonly from: number;
  readonly to: number;
  readonly ms: number;
}

/** One message on a link held back by `ms`, `atMs` into the fault phase, so that later ones overtake it. */
interface Overtake extends SlowLink {
  readonly atMs: number;
}

/** A temporary partition: messages across the cut take `ms` longer while it lasts (they are delayed, never lost). */
interface Cut {
  readonly side: readonly number[];
  readonly ms: number;
  readonly atMs: number;
  readonly forMs: number;
}

/**
 * A server that refuses its peers' calls for a while, as one not listening yet does over HTTP: their calls to it
 * fail (TimeoutError), and each must be sent again until it gets through (its clients still reach it).
 */
interface Refusal {
  readonly server: number;
  readonly atMs: number;
  readonly forMs: number;
}

/** One round's faults: delays (the lab's network never loses a message), and a server that refuses its peers' calls. */
interface RoundPlan {
  readonly round: number;
  readonly servers: number;
  readonly links: LinkOptions;
  readonly pct: { readonly depth: number; readonly spanMs: number } | undefined;
  readonly slow: readonly SlowLink[];
  readonly cut: Cut | undefined;
  readonly overtakes: readonly Overtake[];
  /** A server whose clients work several times faster than the others (uneven Lamport clocks). */
  readonly busy: number | undefined;
  /** The messages one server sends on one link carrying its opening write, held back so that later ones overtake them. */
  readonly openingHold: SlowLink | undefined;
  /** The chance that a write holds back the messages carrying it that its server sends on one link. */
  readonly holdChance: number;
  /** A server whose peers' calls fail for a while (rounds 1 and 3, half the later ones). */
  readonly refused?: Refusal;
}

/**
 * Round `round`'s refusal, drawn from a random stream of its own (the rest of the round is drawn as before): a
 * server refuses its peers' calls from early in the fault phase for 0.6-1.5 s, longer than a few re-sends take, or
 * one time in three for 3.5-5 s, longer than a back-off that keeps doubling stays under 2 s (half of those for 8-12 s,
 * longer than a fixed number of re-sends lasts).
 */
function drawRefusal(rng: Rng, round: number, servers: number): Refusal | undefined {
  if (servers < 2 || round === 0 || round === 2 || (round >= 4 && rng.chance(0.5))) return undefined;
  const refusal = { server: rng.int(servers), atMs: rng.int(FAULT_MS / 2), forMs: REFUSAL_MIN_MS + rng.int(900) };
  if (rng.int(LONG_REFUSAL_ODDS) !== 0) return refusal;
  const long = LONG_REFUSAL_MS + rng.int(1_500);
  const veryLong = rng.int(VERY_LONG_REFUSAL_ODDS) === 0;
  return { ...refusal, forMs: veryLong ? VERY_LONG_REFUSAL_MS + rng.int(4_000) : long };
}

/** Links that reorder messages to one peer often (as in TestReorderingLinks). */
const WIDE_LINKS: LinkOptions = { clientMs: DEFAULT_LINKS.clientMs, serverMs: 1, serverJitterMs: 40 };

/**
 * Round `round`'s faults. The shared plan's kinds are mapped onto the lab's network, which delays but never
 * loses: round 0 a PCT schedule, round 1 reordering links, round 2 slow links and a PCT schedule, round 3 a
 * temporary partition and overtaken messages; later rounds mix them.
 */
function drawRoundPlan(rng: Rng, round: number): RoundPlan {
  const base = drawPlan(rng, round);
  const servers = round < 4 ? 3 : rng.pick([2, 4, 5, 10, 11, 12]);
  const mixed = round >= 4;
  const wide = round === 1 || (mixed && !base.reliable);
  const slow = round === 2 || (mixed && (base.longReordering || rng.chance(0.4)));
  const cut = round === 3 || (mixed && base.requestDrop >= 0.3);
  const overtake = round >= 2;
  const busy = round === 0 && rng.chance(0.5) ? undefined : rng.int(servers);
  return {
    round,
    servers,
    links: wide ? WIDE_LINKS : DEFAULT_LINKS,
    pct: round === 0 || round === 2 || mixed ? base.pct : undefined,
    slow: slow ? drawSlowLinks(rng, servers, busy) : [],
    cut: cut ? drawCut(rng, servers) : undefined,
    overtakes: overtake ? drawOvertakes(rng, servers) : [],
    busy,
    openingHold: round === 0 ? undefined : drawOpeningHold(rng, servers, round % 2 === 1),
    holdChance: round === 2 || round === 3 || (mixed && rng.chance(0.6)) ? 0.3 : 0,
  };
}

/** A few slow links; the first one leaves the busy server, so that its peers learn its writes at different times. */
function drawSlowLinks(rng: Rng, servers: number, busy: number | undefined): SlowLink[] {
  const out: SlowLink[] = [];
  for (let k = 1 + rng.int(servers); k > 0; k--) {
    const from = out.length === 0 && busy !== undefined ? busy : rng.int(servers);
    const to = (from + 1 + rng.int(servers - 1)) % servers;
    out.push({ from, to, ms: rng.pick([20, 40, 100, 200]) });
  }
  return out;
}

function drawCut(rng: Rng, servers: number): Cut {
  const side = Array.from({ length: servers }, (_, s) => s).filter(() => rng.chance(0.5));
  if (side.length === 0 || side.length === servers) side.splice(0, side.length, rng.int(servers));
  return { side, ms: rng.pick([100, 200, 300]), atMs: rng.int(FAULT_MS / 2), forMs: 50 + rng.int(200) };
}

/** A server below the highest id (so some opening write sorts after its own) and one of its links (to itself or not). */
function drawOpeningHold(rng: Rng, servers: number, toItself: boolean): SlowLink {
  const from = rng.int(servers - 1);
  const to = toItself ? from : (from + 1 + rng.int(servers - 1)) % servers;
  return { from, to, ms: rng.pick([40, 60, 80]) };
}

function drawOvertakes(rng: Rng, servers: number): Overtake[] {
  return Array.from({ length: 3 + rng.int(6) }, () => {
    const from = rng.int(servers);
    const to = rng.chance(0.3) ? from : rng.int(servers); // a server's link to itself too
    return { from, to, ms: rng.pick([10, 30, 60]), atMs: rng.int(FAULT_MS) };
  });
}

/** The plan in one line, for the test's log and for failure messages. */
function describePlan(plan: RoundPlan): string {
  const parts = [`${plan.servers} servers`];
  parts.push(
    plan.links === WIDE_LINKS ? 'links of 1-41 ms (messages to a peer overtake each other)' : 'links of 5-15 ms',
  );
  if (plan.pct) parts.push(`PCT schedule (depth ${plan.pct.depth}, span ${plan.pct.spanMs} ms)`);
  if (plan.slow.length > 0)
    parts.push(`slow links ${plan.slow.map((l) => `${l.from}->${l.to} +${l.ms} ms`).join(', ')}`);
  if (plan.cut)
    parts.push(
      `servers {${plan.cut.side.join(',')}} cut off from the others (messages +${plan.cut.ms} ms) from ${plan.cut.atMs} ms for ${plan.cut.forMs} ms`,
    );
  if (plan.openingHold)
    parts.push(
      `the opening write's messages on ${plan.openingHold.from}->${plan.openingHold.to} held back ${plan.openingHold.ms} ms`,
    );
  if (plan.overtakes.length > 0)
    parts.push(
      `the messages of one millisecond held back on ${plan.overtakes.map((o) => `${o.from}->${o.to} (+${o.ms} ms at ${o.atMs} ms)`).join(', ')}`,
    );
  if (plan.holdChance > 0)
    parts.push(`${plan.holdChance * 100}% of writes hold back the messages carrying them on one link of their server`);
  if (plan.busy !== undefined) parts.push(`server ${plan.busy}'s clients work fastest`);
  if (plan.refused)
    parts.push(
      `server ${plan.refused.server} refuses its peers' calls from ${plan.refused.atMs} ms for ${plan.refused.forMs} ms`,
    );
  return parts.join('; ');
}

/** Plays the plan's timed faults during the fault phase (the slow links and the schedule are already on). */
async function playFaults(c: Cluster, plan: RoundPlan): Promise<void> {
  const events: Array<{ at: number; run: () => void }> = plan.overtakes.map((o) => ({
    at: o.atMs,
    run: () => void c.holdWindow(o.from, o.to, o.ms, OVERTAKE_WINDOW_MS),
  }));
  const refused = plan.refused;
  if (refused) {
    events.push({ at: refused.atMs, run: () => c.refusePeers(refused.server, true) });
    events.push({ at: refused.atMs + refused.forMs, run: () => c.refusePeers(refused.server, false) });
  }
  const cut = plan.cut;
  if (cut) {
    const across = crossLinks(plan.servers, cut.side);
    events.push({ at: cut.atMs, run: () => across.forEach(([a, b]) => c.slowLink(a, b, slowOf(plan, a, b) + cut.ms)) });
    events.push({
      at: cut.atMs + cut.forMs,
      run: () => across.forEach(([a, b]) => c.slowLink(a, b, slowOf(plan, a, b))),
    });
  }
  events.sort((a, b) => a.at - b.at);
  let now = 0;
  for (const e of events) {
    await sleep(e.at - now);
    now = e.at;
    e.run();
  }
}

/** Every directed server pair with one end in `side` and the other outside it. */
function crossLinks(servers: number, side: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 0; a < servers; a++)
    for (let b = 0; b < servers; b++) if (side.includes(a) !== side.includes(b)) out.push([a, b]);
  return out;
}

function slowOf(plan: RoundPlan, from: number, to: number): number {
  return plan.slow.find((l) => l.from === from && l.to === to)?.ms ?? 0;
}

/** Takes every fault off: links at their plain delays, no schedule (messages already delayed still arrive late). */
function heal(c: Cluster, plan: RoundPlan): void {
  for (let a = 0; a < plan.servers; a++) for (let b = 0; b < plan.servers; b++) c.slowLink(a, b, 0);
  c.net.setSchedule(undefined);
}

/** What a round's workload did, for the checks. */
class Workload {
  readonly c: Cluster;
  readonly rng: Rng;
  readonly plan: RoundPlan;
  readonly level: ConsistencyLevel;

  /** Which server each client id talks to. */
  readonly serverOf = new Map<number, number>();
  /** The keys whose final values are compared across servers. */
  readonly shared = new Set<string>();
  /** The keys of each episode. */
  readonly episodes: string[][] = [];
  private n = 0;
  private stop = false;

  constructor(c: Cluster, rng: Rng, plan: RoundPlan, level: ConsistencyLevel) {
    this.c = c;
    this.rng = rng;
    this.plan = plan;
    this.level = level;
  }

  client(server: number): Lab3Client {
    const cl = this.c.client(server);
    this.serverOf.set(cl.id, server);
    return cl;
  }

  /** A value no one wrote before (edge shapes: numeric-looking, non-ASCII, a NUL, long...). */
  value(): string {
    return edgeValue(this.rng, ++this.n, { hugeBytes: 1024 });
  }

  get over(): boolean {
    return this.stop;
  }

  end(): void {
    this.stop = true;
  }

  /**
   * With the plan's probability, holds back the messages server `s` sends on one of its links (its link to itself
   * half of the time) that carry `value`, the value this client is about to write: the write's own broadcast or
   * update, whatever the server sends before it. The hold lasts HOLD_LIFE_MS.
   */
  maybeHoldWrite(s: number, value: string): void {
    if (!this.rng.chance(this.plan.holdChance)) return;
    const to = this.rng.chance(0.5) ? s : this.rng.int(this.plan.servers);
    const ms = this.rng.pick([40, 60, 80]);
    const hold = this.c.holdCarrying(s, to, ms, value);
    void sleep(HOLD_LIFE_MS).then(() => this.c.dropHold(s, to, hold));
  }

  /** Client pause between operations: short on the busy server, and at the eventual level (answers are local). */
  pause(server: number): number {
    const base = this.level === 'eventual' ? 6 : 12;
    return this.rng.float() * (server === this.plan.busy ? base / 4 : base);
  }
}

/**
 * Watchers: one client per server reads the hot keys in turn every few milliseconds, all through the fault phase,
 * so that a server that applies two writes of a key in another order than its peers shows it.
 */
async function watchers(w: Workload, keys: readonly string[]): Promise<void> {
  await Promise.all(
    Array.from({ length: w.plan.servers }, async (_, s) => {
      const cl = w.client(s);
      for (let i = 0; !w.over; i++) {
        await cl.read(keys[i % keys.length]);
        await sleep(2 + w.rng.float() * 3);
      }
    }),
  );
}

/**
 * Random reads, writes, read-write-read and write-read by three clients per server on the round's three hot keys
 * (edge keys), from the cluster's first millisecond to the end of the fault phase: whenever the Lamport clocks
 * cross 9 -> 10, 99 -> 100 or 999 -> 1000 (timestamps of one and two digits, two and three, ... ordered against
 * each other), however the implementation ticks, writes of these keys from every server are in flight, and a
 * write held up at one server meets later writes of the same key there.
 */
async function mixed(w: Workload, keys: readonly string[]): Promise<void> {
  keys.forEach((k) => w.shared.add(k));
  const tasks: Array<Promise<void>> = [];
  for (let s = 0; s < w.plan.servers; s++) {
    for (let k = 0; k < 3; k++) {
      const cl = w.client(s);
      tasks.push(
        (async () => {
          while (!w.over) {
            const key = w.rng.pick(keys);
            const dice = w.rng.float();
            const write = async (): Promise<void> => {
              const value = w.value();
              w.maybeHoldWrite(s, value);
              await cl.write(key, value);
            };
            if (dice < 0.3) await write();
            else if (dice < 0.6) await cl.read(key);
            else if (dice < 0.85) {
              await cl.read(key);
              await write();
              await cl.read(key);
            } else {
              await write();
              await cl.read(key);
            }
            await sleep(w.pause(s));
          }
        })(),
      );
    }
  }
  await Promise.all(tasks);
}

/** One client of a litmus shape: its server (a or b), when it starts (ms after the episode, a range), its program. */
interface LitmusClient {
  readonly at: 'a' | 'b';
  readonly startMs: readonly [number, number];
  /** Reads and writes of the episode's keys: "w0 r1" writes key 0, then reads key 1. */
  readonly program: string;
}

/**
 * Classic litmus shapes (store buffering, message passing, independent reads of independent writes, and a write
 * read at its own server while an earlier one is still on its way); each episode picks one, or a random program.
 */
const LITMUS: ReadonlyArray<readonly LitmusClient[]> = [
  [
    { at: 'a', startMs: [0, 3], program: 'w0 r1' },
    { at: 'b', startMs: [0, 3], program: 'w1 r0' },
  ],
  [
    { at: 'a', startMs: [0, 3], program: 'w0 w1' },
    { at: 'b', startMs: [0, 40], program: 'r1 r0' },
  ],
  [
    { at: 'a', startMs: [0, 5], program: 'w0' },
    { at: 'b', startMs: [0, 5], program: 'w1' },
    { at: 'a', startMs: [5, 20], program: 'r0 r1' },
    { at: 'b', startMs: [5, 20], program: 'r1 r0' },
  ],
  [
    { at: 'a', startMs: [0, 0], program: 'w0 r1' },
    { at: 'b', startMs: [5, 16], program: 'w1' },
    { at: 'b', startMs: [17, 19], program: 'r1 r0' },
  ],
];

/** A random program for each of 2-4 clients over `keys` keys. */
function randomLitmus(rng: Rng, keys: number): LitmusClient[] {
  return Array.from({ length: 2 + rng.int(3) }, () => ({
    at: rng.chance(0.5) ? 'a' : 'b',
    startMs: [0, 20],
    program: Array.from({ length: 2 + rng.int(3) }, () => `${rng.chance(0.4) ? 'w' : 'r'}${rng.int(keys)}`).join(' '),
  }));
}

/**
 * Small multi-key episodes on fresh keys: litmus shapes played by clients on two servers a and b, at random
 * times during the fault phase. Keys of one episode are used by nothing else, so its operations alone must be
 * sequentially consistent.
 */
async function episodes(w: Workload): Promise<void> {
  const tasks: Array<Promise<void>> = [];
  for (let e = 0; e < EPISODES; e++) {
    const shape = w.rng.chance(0.7) ? w.rng.pick(LITMUS) : randomLitmus(w.rng, 3);
    const a = w.rng.int(w.plan.servers);
    const b = w.plan.servers === 1 ? a : (a + 1 + w.rng.int(w.plan.servers - 1)) % w.plan.servers;
    const keys = [0, 1, 2].map((i) => `e${e}.${i}`);
    w.episodes.push(keys);
    const startMs = w.rng.float() * (FAULT_MS - 60);
    for (const client of shape) {
      const cl = w.client(client.at === 'a' ? a : b);
      const delay = startMs + client.startMs[0] + w.rng.float() * (client.startMs[1] - client.startMs[0]);
      tasks.push(
        (async () => {
          await sleep(delay);
          for (const op of client.program.split(' ')) {
            const key = keys[Number(op.slice(1))];
            if (op[0] === 'w') await cl.write(key, w.value());
            else await cl.read(key);
          }
        })(),
      );
    }
  }
  await Promise.all(tasks);
}

/** One relay: server `a` wrote `first` to `key`; once that returned, server `b` wrote `second` to it. */
interface Relay {
  readonly key: string;
  readonly a: number;
  readonly b: number;
  readonly first: string;
  readonly second: string;
  /** What was held back, for the failure message. */
  readonly held: string;
}

/**
 * Relays on the quiet cluster, one after another: server a's clients write 2-4 fresh keys at once (a's Lamport
 * clock runs ahead of the others'); then a client of a writes the relay's key while the messages carrying it that a
 * sends itself are held back 20-80 ms, and so is every message the other servers send b until that write returns; as soon as that write
 * returns, a client of b writes the same key. The second write follows the first in real time, after b has
 * received the first (b's server acknowledged it before it could return), so a total order puts it last.
 */
async function relays(w: Workload): Promise<Relay[]> {
  const out: Relay[] = [];
  const n = w.plan.servers;
  for (let r = 0; r < RELAYS; r++) {
    const a = w.rng.int(n);
    const b = (a + 1 + w.rng.int(n - 1)) % n;
    const key = `relay${r}`;
    const ahead = 2 + w.rng.int(3);
    await Promise.all(Array.from({ length: ahead }, (_, i) => w.client(a).write(`${key}.${i}`, w.value())));
    const selfMs = w.rng.pick([20, 40, 80]);
    const intoMs = w.rng.pick([50, 80]);
    const first = w.value();
    const second = w.value();
    const self = w.c.holdCarrying(a, a, selfMs, first);
    const into = Array.from({ length: n }, (_, s) => s)
      .filter((s) => s !== a && s !== b)
      .map((s) => w.c.holdWindow(s, b, intoMs, Infinity));
    await w.client(a).write(key, first);
    w.c.dropHold(a, a, self);
    for (const end of into) end();
    await w.client(b).write(key, second);
    const held =
      `after ${ahead} writes at server ${a} at once, the messages carrying the write that server ${a} sent itself held back ${selfMs} ms` +
      (n > 2 ? ` and every message the other servers sent server ${b} meanwhile held back ${intoMs} ms` : '');
    out.push({ key, a, b, first, second, held });
    await sleep(RELAY_QUIET_MS);
  }
  return out;
}

/**
 * Fails with the operations still in flight unless `work` finishes within PROGRESS_MS of the heal, or of the end of a
 * refusal that outlasts the fault phase (`refusedMs` after the heal).
 */
async function expectProgress(c: Cluster, work: Promise<unknown>, context: string, refusedMs: number): Promise<void> {
  let finished = false;
  await Promise.race([work.then(() => (finished = true)), sleep(refusedMs + PROGRESS_MS)]);
  if (finished) return;
  const stuck = c.history.inFlight();
  const list = stuck
    .slice(0, 5)
    .map(
      (o) =>
        `client ${o.clientId} ${o.input.op === 'put' ? `Write(${show(o.input.key)}, ${show(o.input.value)})` : `Read(${show(o.input.key)})`} sent at ${o.call.toFixed(1)} ms`,
    )
    .join('; ');
  throw new TestFailure(
    `${context}: ${PROGRESS_MS} ms after the faults healed${refusedMs > 0 ? ' and the refusal ended' : ''} (every message is delivered; links back to 5-15 ms), ${stuck.length} ` +
      `operation${stuck.length === 1 ? ' is' : 's are'} still waiting: ${list}. Every operation must finish once messages flow. Likely ` +
      'causes: a message or an acknowledgement that arrived out of order (before the message it acknowledges, or overtaken on its link, ' +
      "the link to itself included) was dropped instead of kept; the queue's head waits for an acknowledgement that was counted under " +
      'another key; two timestamps given one key (such as clock * 10 + server id, unique only while there are fewer than 10 ' +
      'servers: a cluster may have any number); the answer to the client is keyed by something that changed between the broadcast and its delivery; ' +
      "a peer call that failed (a server refusing its peers' calls) was not sent again until it got through, or gives " +
      'up after a few tries.',
  );
}

/** Sequential reads and eventual reads and writes are answered from the local copy: checked on a quiet cluster. */
async function expectLocalAnswers(w: Workload, context: string): Promise<void> {
  if (w.level === 'linearizable') return;
  for (let s = 0; s < w.plan.servers; s++) {
    const cl = w.client(s);
    const ops: Array<[string, () => Promise<unknown>]> = [['a read', () => cl.read(OPENING_KEY)]];
    if (w.level === 'eventual') ops.unshift(['a write', () => cl.write(`local${s}`, w.value())]);
    for (const [what, run] of ops) {
      const t = performance.now();
      await run();
      const took = performance.now() - t;
      check(
        took < LOCAL_MS,
        `${context}: on a quiet cluster, ${what} at server ${s} took ${took.toFixed(2)} ms, at least one message between servers ` +
          `(${LOCAL_MS} ms). At the ${w.level} level ${w.level === 'eventual' ? 'reads and writes are' : 'reads are'} answered from the ` +
          'local copy at once. Likely causes: the operation goes through the broadcast (or waits for another server) although its level does not need it.',
      );
    }
  }
}

/** Reads every key at every server with fresh recorded clients (in parallel across servers). */
async function readAll(w: Workload, keys: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(keys.map((k) => [k, new Array<string>(w.plan.servers).fill('')]));
  await Promise.all(
    Array.from({ length: w.plan.servers }, async (_, s) => {
      const cl = w.client(s);
      for (const key of keys) out.get(key)![s] = await cl.read(key);
    }),
  );
  return out;
}

/** One round on a fresh cluster; throws a TestFailure that names the round and its faults. */
async function runRound(ctx: Ctx, level: ConsistencyLevel, round: number): Promise<void> {
  const rng = keyedRng(ctx.seed, `lab3 nemesis ${level} ${round}`);
  const drawn = drawRoundPlan(rng, round);
  const refusal = drawRefusal(keyedRng(ctx.seed, `lab3 nemesis ${level} ${round} refusal`), round, drawn.servers);
  const plan: RoundPlan = refusal ? { ...drawn, refused: refusal } : drawn;
  const context = `${level} round ${round} (${describePlan(plan)})`;
  ctx.log(`round ${round}: ${describePlan(plan)}`);
  const c = new Cluster(ctx.impl, { servers: plan.servers, level, links: plan.links });
  c.onOp = () => ctx.countOps();
  const w = new Workload(c, rng, plan, level);

  // The opening: every server's first event is a write of the same key, so all carry Lamport clock 1.
  const openingValues = Array.from({ length: plan.servers }, (_, s) => `${String.fromCharCode(0x7a - s)} opening`);
  const opened = plan.openingHold;
  const openingHold = opened && c.holdCarrying(opened.from, opened.to, opened.ms, openingValues[opened.from]);
  const opening = Promise.all(openingValues.map((v, s) => w.client(s).write(OPENING_KEY, v)));
  if (opened && openingHold) void opening.then(() => c.dropHold(opened.from, opened.to, openingHold));
  await sleep(LOCAL_MS / 5); // every opening write reached its server; none has reached another

  // The fault phase.
  for (const l of plan.slow) c.slowLink(l.from, l.to, l.ms);
  if (plan.pct) c.net.setSchedule(new PctSchedule(rng, { ...plan.pct, messages: 2000 }));
  const timer = sleep(FAULT_MS).then(() => w.end());
  const hot = edgeKeys(rng, 3);
  const work = Promise.all([opening, mixed(w, hot), watchers(w, hot), episodes(w), playFaults(c, plan), timer]);
  await Promise.race([work, timer]);
  heal(c, plan);
  const refusedMs = refusal ? Math.max(0, refusal.atMs + refusal.forMs - FAULT_MS) : 0;
  await expectProgress(c, work, context, refusedMs);

  // Quiet: relays, local answers, then a write issued after everything settled, which must win everywhere.
  await sleep(SETTLE_MS);
  const relayed = plan.servers > 1 ? await relays(w) : [];
  const quietAt = performance.now();
  await expectLocalAnswers(w, context);
  const shared = [...w.shared];
  const overwritten = new Map<string, string>();
  for (const key of shared.filter(() => rng.chance(0.3)).slice(0, 6)) overwritten.set(key, w.value());
  await Promise.all([...overwritten].map(([key, value]) => w.client(rng.int(plan.servers)).write(key, value)));
  await sleep(SETTLE_MS);
  const finals = await readAll(w, [OPENING_KEY, ...shared, ...relayed.map((r) => r.key)]);

  const ops = c.operations();
  // The relays first: their failure names the scenario, which the history's explanation does not.
  expectRelays(w, relayed, finals, context);
  if (level === 'linearizable') expectHistory(c, 'linearizable', ops, context);
  // Sequential consistency is judged per episode (keys nobody else uses, so each check is exact for its part of
  // the history); the whole history's check cost 0.6 s a run (80% of the test) and caught no mutant the episodes
  // miss. Orders across episodes are the scripted tests' (TestSequential*).
  if (level === 'sequential') expectEpisodes(w, ops, context);
  expectConvergence(w, finals, context);
  expectOpening(finals.get(OPENING_KEY)![0], openingValues, context);
  for (const [key, value] of overwritten) {
    const got = finals.get(key)![0];
    check(
      got === value,
      () =>
        `${context}: once every server had been quiet for ${SETTLE_MS} ms, a client wrote ${show(key)}=${show(value)}; ` +
        `${SETTLE_MS} ms later every server holds ${show(got)}. A write issued after a server has received every earlier write ` +
        'carries a larger Lamport timestamp than all of them, so it must come last everywhere. Likely causes: the clock does not ' +
        'jump past received timestamps (clock = max(clock, received) + 1); timestamps compared as strings ("10.1" < "9.2") or ' +
        'server id before clock; the last write to arrive wins instead of the largest timestamp.',
    );
  }
  if (level === 'eventual') expectEventual(w, ops, finals, quietAt, context);
  ctx.log(`round ${round}: ${ops.length} operations on ${shared.length + 1} shared keys and ${EPISODES} episodes: ok`);
  if (round === MINUTES_REFUSAL_ROUND && plan.servers > 1)
    await expectLongRefusalOutlasted(c, w, keyedRng(ctx.seed, `lab3 nemesis ${level} long refusal`), context);
}

/** The round after whose checks one server refuses its peers' calls for minutes, and for how long (virtual ms). */
const MINUTES_REFUSAL_ROUND = 3;
const MINUTES_REFUSAL_MS: readonly [number, number] = [60_000, 600_000];
/** The key written while a server refuses its peers' calls for minutes (no other operation uses it). */
const LONG_REFUSAL_KEY = 'long-refusal';

/**
 * One server refuses its peers' calls for minutes while another's client writes a fresh key; once the refusal ends,
 * the write must return and the refused server must hold it. A re-send loop that gives up after a fixed time or a
 * fixed number of tries (anything under the drawn minutes) never delivers it. Few messages wait meanwhile, so the
 * minutes cost little.
 */
async function expectLongRefusalOutlasted(c: Cluster, w: Workload, rng: Rng, context: string): Promise<void> {
  const refused = rng.int(c.n);
  const writer = (refused + 1) % c.n;
  const forMs = rng.between(MINUTES_REFUSAL_MS[0], MINUTES_REFUSAL_MS[1]);
  const value = w.value();
  const story =
    `${context}, then on the quiet cluster: server ${refused} refused its peers' calls for ${(forMs / 1000).toFixed(1)} s ` +
    `while a client of server ${writer} wrote ${show(LONG_REFUSAL_KEY)}=${show(value)}`;
  const causes =
    "Likely causes: a peer call that failed is sent again only a fixed number of times, or for a fixed time, and then dropped (re-send it until it succeeds, however long that takes, waiting RESEND_MS between tries); a back-off that grows without a cap, so that the next try comes long after the refusal ended; a message given up on once the refused server's queue or the sender's pending list looked full.";
  c.refusePeers(refused, true);
  let returned = false;
  const write = w
    .client(writer)
    .write(LONG_REFUSAL_KEY, value)
    .then(() => (returned = true));
  await sleep(forMs);
  c.refusePeers(refused, false);
  await Promise.race([write, sleep(PROGRESS_MS)]);
  check(returned, () => `${story}; ${PROGRESS_MS} ms after the refusal ended the write had not returned. ${causes}`);
  await sleep(SETTLE_MS);
  const got = await w.client(refused).read(LONG_REFUSAL_KEY);
  check(
    got === value,
    () => `${story}; ${SETTLE_MS} ms after it returned, a read at server ${refused} gave ${show(got)}. ${causes}`,
  );
}

/** Fails unless the round's history satisfies `mode` (sequential: key by key when long). */
function expectHistory(c: Cluster, mode: 'linearizable' | 'sequential', ops: readonly Op[], context: string): void {
  const r = c.check(mode, `lab3 ${c.level} nemesis`);
  if (r.ok) return;
  throw new TestFailure(
    `${context}: the history of ${ops.length} operations is not ${mode === 'linearizable' ? 'linearizable' : 'sequentially consistent'}.\n` +
      `${r.explanation}\nLikely causes: the hold-back queue is not ordered by (clock, server id) compared as numbers (as strings, ` +
      'clock 10 sorts before 9); a message is delivered before every server (itself included) acknowledged it; links are not made FIFO ' +
      "(a server's link to itself included); " +
      (mode === 'linearizable'
        ? 'a read or write is answered before this server delivered it, or a read returns the value from before its turn.'
        : "a server applies its own client's write before the broadcast delivers it, or a read shows a write still waiting in the queue."),
    { historyHtml: r.html },
  );
}

/** Each episode's operations alone (its keys are its own) must be sequentially consistent. */
function expectEpisodes(w: Workload, ops: readonly Op[], context: string): void {
  for (const [e, keys] of w.episodes.entries()) {
    const mine = ops.filter((o) => keys.includes(o.input.key));
    const { ok, explanation, html } = checkForTest(kvModel, mine, {
      mode: 'sequential',
      title: `lab3 sequential nemesis, episode ${e}`,
    });
    if (ok) continue;
    throw new TestFailure(
      `${context}: episode ${e} (clients at ${[...new Set(mine.map((o) => `server ${w.serverOf.get(o.clientId)}`))].join(', ')} on keys ` +
        `${keys.map(show).join(', ')}, used by nothing else) is not sequentially consistent: no single order of its writes explains ` +
        `what every client read.\n${explanation}\nLikely causes: a sequential write answered before the broadcast delivered it at its ` +
        'own server (applied at once, as at the eventual level); a read that shows a write still waiting in the queue; servers ' +
        'delivering the writes in different orders.',
      { historyHtml: html },
    );
  }
}

/**
 * Each relay's key: every server ends with one value and, where writes are totally ordered as they happen
 * (linearizable), with the relay's second write, which began after the first had returned.
 */
function expectRelays(w: Workload, relayed: readonly Relay[], finals: Map<string, string[]>, context: string): void {
  for (const r of relayed) {
    const values = finals.get(r.key)!;
    const agreed = values.every((v) => v === values[0]);
    const inOrder = w.level !== 'linearizable' || values[0] === r.second;
    check(
      agreed && inOrder,
      () =>
        `${context}: on the quiet cluster, ${r.held}, a client of server ${r.a} wrote ${show(r.key)}=${show(r.first)}; once ` +
        `that returned, a client of server ${r.b} wrote ${show(r.key)}=${show(r.second)}. A second later ` +
        `${values.map((v, s) => `server ${s} has ${show(v)}`).join(', ')}; expected ` +
        `${w.level === 'linearizable' ? `${show(r.second)} everywhere (it began after the first write returned, so it comes last)` : 'one value everywhere'}. ` +
        `Server ${r.b} had received and acknowledged the first write before it returned (a server delivers a broadcast once every ` +
        `server acknowledged it), so its own write must carry a larger Lamport timestamp and sort after it everywhere. Likely causes: a received broadcast's timestamp reaches the clock only ` +
        'when the message is delivered, not as soon as it arrives (clock = max(clock, received) + 1 on receipt); an acknowledgement ' +
        "sent with a clock that has not passed the message's timestamp; a server delivering a message before every server " +
        '(itself included) acknowledged it.',
    );
  }
}

/** Every server must end with the same value for each key, and only with a value somebody wrote. */
function expectConvergence(w: Workload, finals: Map<string, string[]>, context: string): void {
  const written = writtenValues(w.c.operations());
  for (const [key, values] of finals) {
    check(
      values.every((v) => v === values[0]),
      () =>
        `${context}: after the faults healed and ${2 * SETTLE_MS} ms of quiet, the servers disagree on ${show(key)}: ` +
        `${values.map((v, s) => `server ${s} has ${show(v)}`).join(', ')}. ${w.level === 'eventual' ? 'Every server must apply last-writer-wins by (clock, server id, value) to the same writes, whatever order they arrive in.' : 'Every server must deliver the writes in one total order.'} ` +
        'Likely causes: timestamps (in the hold-back queue, or in last-writer-wins) compared as strings, clock 10 sorts before 9, ' +
        'or clock before server id mixed up; the last write to arrive wins; links not made FIFO, or a message delivered ' +
        'before every server acknowledged it.',
    );
    check(
      values[0] === '' || (written.get(key)?.has(values[0]) ?? false),
      () => `${context}: every server holds ${show(key)}=${show(values[0])}, but nobody wrote that value to that key.`,
    );
  }
}

/** The opening's writes all carry clock 1, so the total order (and last-writer-wins) puts the highest server id last. */
function expectOpening(got: string, values: readonly string[], context: string): void {
  const want = values[values.length - 1];
  check(
    got === want,
    () =>
      `${context}: at the start every server wrote ${show(OPENING_KEY)} as its very first event (${values.map((v, s) => `server ${s}: ${show(v)}`).join(', ')}), ` +
      `so the writes carry equal Lamport clocks and the server id decides: the highest id comes last. Every server ended with ${show(got)}; ` +
      `expected ${show(want)}. Likely causes: equal clocks broken by arrival order or by the value instead of the server id; ` +
      'the clock not ticked before the first message.',
  );
}

/** Key -> the values written to it. */
function writtenValues(ops: readonly Op[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of ops) {
    if (o.input.op !== 'put') continue;
    const set = out.get(o.input.key) ?? new Set<string>();
    set.add(o.input.value);
    out.set(o.input.key, set);
  }
  return out;
}

/**
 * A set of writes, as seen from outside: every write at server s2 that returned by `upTo[s2]`, and those in `extra`.
 */
interface WriteSet {
  upTo: number[];
  extra: Set<number>;
}

function emptyWriteSet(n: number): WriteSet {
  return { upTo: new Array<number>(n).fill(-Infinity), extra: new Set() };
}

function copyWriteSet(k: WriteSet): WriteSet {
  return { upTo: [...k.upTo], extra: new Set(k.extra) };
}

/** Adds `more` and the write `also` to `into`. */
function addWrites(into: WriteSet, more: WriteSet, also: number): void {
  more.upTo.forEach((t, j) => (into.upTo[j] = Math.max(into.upTo[j], t)));
  more.extra.forEach((x) => into.extra.add(x));
  into.extra.add(also);
}

/**
 * The eventual level's promises, seen from outside. For each server two sets of writes are followed in time:
 * `below`, the writes whose timestamps its Lamport clock is known to have passed (its own writes once they
 * returned, every write it was seen to hold, and whatever those writes' servers had passed when they issued them),
 * and `held`, the writes it is known to have received (its own, those a read there returned, and after a quiet
 * period all of them). A write issued at s carries a timestamp above everything in `below` of s at that moment:
 * it supersedes those. Under last-writer-wins a read at s never returns a write superseded by one s holds (nor ""
 * once s holds a write of the key), the final value is superseded by no write, and reads return written values.
 */
function expectEventual(
  w: Workload,
  ops: readonly Op[],
  finals: Map<string, string[]>,
  quietAt: number,
  context: string,
): void {
  const witness = new EventualWitness(w, ops, context);
  for (const ev of callsAndReturns(ops, quietAt)) {
    if (ev.i < 0) witness.quiet(quietAt);
    else if (ev.returned) witness.returned(ev.i);
    else witness.called(ev.i);
  }
  witness.expectFinals(finals);
}

/** One call or return of operation `i` at time `t`; `i` is -1 for the start of the quiet period. */
interface TimedEvent {
  t: number;
  returned: boolean;
  i: number;
}

/**
 * The history's calls and returns in time order, and the quiet period's start as a return; at equal times a
 * return comes first (a request sent then arrives later).
 */
function callsAndReturns(ops: readonly Op[], quietAt: number): TimedEvent[] {
  const events: TimedEvent[] = [];
  ops.forEach((o, i) => {
    events.push({ t: o.call, returned: false, i });
    if (o.return !== Infinity) events.push({ t: o.return, returned: true, i });
  });
  events.push({ t: quietAt, returned: true, i: -1 });
  events.sort((x, y) => x.t - y.t || Number(y.returned) - Number(x.returned));
  return events;
}

/** What expectEventual knows of each server's writes as it follows a round's history in time (see there). */
class EventualWitness {
  /** Key and value -> the write of that value to that key. */
  private readonly byValue = new Map<string, number>();
  /** Key -> its writes. */
  private readonly writesOf = new Map<string, number[]>();
  private readonly written: Map<string, Set<string>>;
  private readonly below: WriteSet[];
  private readonly held: WriteSet[];
  /** Write -> the writes its timestamp is above (by operation index). */
  private readonly before: WriteSet[] = [];
  /** Operation -> the server its client talks to, and its return time (the hot loops read these, not the operations). */
  private readonly serverAt: Int32Array;
  private readonly returnAt: Float64Array;
  private readonly w: Workload;
  private readonly ops: readonly Op[];
  private readonly context: string;

  constructor(w: Workload, ops: readonly Op[], context: string) {
    this.w = w;
    this.ops = ops;
    this.context = context;
    const n = w.plan.servers;
    ops.forEach((o, i) => {
      if (o.input.op !== 'put') return;
      this.byValue.set(`${o.input.key}\u0000${o.input.value}`, i);
      this.writesOf.set(o.input.key, [...(this.writesOf.get(o.input.key) ?? []), i]);
    });
    this.written = writtenValues(ops);
    this.serverAt = Int32Array.from(ops, (o) => w.serverOf.get(o.clientId)!);
    this.returnAt = Float64Array.from(ops, (o) => o.return);
    this.below = Array.from({ length: n }, () => emptyWriteSet(n));
    this.held = Array.from({ length: n }, () => emptyWriteSet(n));
  }

  /** The server an operation's client talks to. */
  private server(o: Op): number {
    return this.w.serverOf.get(o.clientId)!;
  }

  /** The write whose value a read returned (undefined for "" or no answer). */
  private writeOf(o: Op): number | undefined {
    return o.output === undefined || o.output === '' ? undefined : this.byValue.get(`${o.input.key}\u0000${o.output}`);
  }

  /** Whether write `i` is in the set by its return time. */
  private inUpTo(k: WriteSet, i: number): boolean {
    return this.returnAt[i] <= k.upTo[this.serverAt[i]];
  }

  /** Whether write `i` is in the set. */
  private inSet(k: WriteSet, i: number): boolean {
    return this.inUpTo(k, i) || k.extra.has(i);
  }

  /** Whether write z carries a larger timestamp than write y (z was issued after its server passed y). */
  private supersedes(z: number, y: number): boolean {
    return y !== z && this.inSet(this.before[z], y);
  }

  /** A write as a failure message shows it. */
  private describe(i: number): string {
    const o = this.ops[i];
    return `${show(o.input.key)}=${show(o.input.op === 'put' ? o.input.value : '')} (written at server ${this.server(o)}, ${o.call.toFixed(1)}-${o.return.toFixed(1)} ms)`;
  }

  /** After a quiet period every server has received every write that returned before it began. */
  quiet(quietAt: number): void {
    for (const k of [...this.below, ...this.held])
      k.upTo.forEach((t, j) => (k.upTo[j] = Math.max(t, quietAt - SETTLE_MS)));
  }

  /** Operation `i` is called: a write notes what its timestamp is above; a read is checked against what its server holds. */
  called(i: number): void {
    const o = this.ops[i];
    if (o.input.op === 'put') this.before[i] = copyWriteSet(this.below[this.server(o)]);
    if (o.input.op === 'get') this.expectReadNotSuperseded(i);
  }

  /** Operation `i` returns: a read must show a written value; what its server holds and has passed grows. */
  returned(i: number): void {
    const o = this.ops[i];
    const s = this.server(o);
    const y = o.input.op === 'put' ? i : this.writeOf(o);
    if (o.input.op === 'get')
      check(
        o.output === '' || (this.written.get(o.input.key)?.has(o.output!) ?? false),
        () =>
          `${this.context}: a read of ${show(o.input.key)} at server ${s} returned ${show(o.output)}, which nobody wrote to that key.`,
      );
    if (y === undefined) return;
    const below = this.below[s];
    const held = this.held[s];
    if (o.input.op === 'put') {
      // Every write of s that returned by now is applied there, and s's clock has passed it.
      below.upTo[s] = Math.max(below.upTo[s], o.return);
      held.upTo[s] = Math.max(held.upTo[s], o.return);
    } else {
      // s holds y, so its clock has passed y and everything y's timestamp is above.
      addWrites(below, this.before[y], y);
      held.extra.add(y);
    }
    below.extra.forEach((x) => this.inUpTo(below, x) && below.extra.delete(x));
  }

  /** A read at s never returns "" once s holds a write of its key, nor a write superseded by one s holds. */
  private expectReadNotSuperseded(r: number): void {
    const { ops, context } = this;
    const o = ops[r];
    const s = this.server(o);
    const y = this.writeOf(o);
    const held = this.held[s];
    // The hot loop of the check (every read against every write of its key): no closure made per write.
    for (const z of this.writesOf.get(o.input.key) ?? []) {
      if (!this.inSet(held, z)) continue;
      if (y === undefined)
        throw new TestFailure(
          `${context}: a read of ${show(o.input.key)} at server ${s} (sent at ${o.call.toFixed(1)} ms) returned "", but server ${s} ` +
            `already held the write ${this.describe(z)}. A stored key never goes back to "". Likely causes: the store is a plain object ` +
            '(keys such as "__proto__" or "constructor" are not ordinary keys); a write is answered before it is applied.',
        );
      if (this.supersedes(z, y))
        throw new TestFailure(
          `${context}: a read of ${show(o.input.key)} at server ${s} (sent at ${o.call.toFixed(1)} ms) returned the write ${this.describe(y)}, ` +
            `but server ${s} already held ${this.describe(z)}, which was issued after its server had seen the first one (or a later ` +
            'write of the same server), so it carries a larger Lamport timestamp and must win under last-writer-wins. Likely causes: ' +
            'the clock is not ticked before each write (two writes of one server tie and the value decides); the clock does not jump ' +
            'on receipt (max(clock, received) + 1), or only when a value is read; timestamps compared as strings (clock 10 before 9) ' +
            'or the server id before the clock.',
        );
    }
  }

  /** Each key's final value must be a write that no returned write of the key supersedes. */
  expectFinals(finals: Map<string, string[]>): void {
    for (const [key, values] of finals) {
      const y = this.byValue.get(`${key}\u0000${values[0]}`);
      for (const z of this.writesOf.get(key) ?? []) {
        if (this.ops[z].return === Infinity) continue;
        check(
          y !== undefined && !this.supersedes(z, y),
          () =>
            `${this.context}: every server ended with ${show(key)}=${show(values[0])}${y === undefined ? '' : `, the write ${this.describe(y)}`}, ` +
            (y === undefined
              ? `although the write ${this.describe(z)} returned. `
              : `but the write ${this.describe(z)} was issued after its server had seen that one, so it carries a larger Lamport timestamp and must win. `) +
            'Likely causes: the clock is not ticked before each write; the clock does not jump past received timestamps; timestamps ' +
            'compared as strings (clock 10 before 9) or the server id before the clock; the last write to arrive wins.',
        );
      }
    }
  }
}

/** The generic attacker for one consistency level. */
export function nemesisTest(level: ConsistencyLevel, name: string): TestDefinition<Lab3Impl> {
  return {
    name,
    description:
      `${level} level, ${ROUNDS} fresh clusters under seeded delay faults (a PCT schedule, reordering or slow links, a temporary ` +
      "partition, overtaken messages) and a server refusing its peers' calls for 0.6-1.5 s, 3.5-5 s or 8-12 s (once, after the checks of a round, for 1-10 minutes): reads and writes of hot edge keys " +
      'from every server while the Lamport clocks cross 9->10, 99->100 and 999->1000, small multi-key litmus episodes; after ' +
      'the faults heal every operation returns, relays on the quiet ' +
      'cluster (a write, then once it returned one of the same key at another server) and all servers agree; ' +
      (level === 'linearizable'
        ? 'the history is linearizable'
        : level === 'sequential'
          ? 'the history is sequentially consistent and reads are local'
          : 'reads return only written values, last-writer-wins holds as seen from outside, operations are local'),
    generic: true,
    // The rounds (about 30 s) and one refusal of minutes.
    virtualLimitMs: 60_000 + MINUTES_REFUSAL_MS[1] + 2 * (PROGRESS_MS + SETTLE_MS),
    async run(ctx: Ctx) {
      for (let round = 0; round < ROUNDS; round++) await runRound(ctx, level, round);
    },
  };
}
