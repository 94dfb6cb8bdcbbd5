/** Lab 1's generic attackers (TestNemesisKV, TestNemesisShards): random workloads under random faults, judged only by the handout's promises. */
import { FAULTS } from '../../labrpc';
import type { DeliverySchedule, MessageInfo } from '../../labrpc';
import { TestDefinition, TestContext, TestFailure, isTestFailure, check } from '../../suite';
import { runClients } from '../../suite/clients';
import { PctSchedule } from '../../suite/nemesis/pct';
import { applyPlan, drawPlan, healNetwork } from '../../suite/nemesis/plan';
import type { NetworkPlan } from '../../suite/nemesis/plan';
import { EDGE_KEYS, edgeValue } from '../../suite/nemesis/values';
import type { Operation } from '../../checker';
import type { KvInput, KvOutput } from '../../checker';
import { keyedRng } from '../../world';
import type { Rng } from '../../world';
import { keyToShard, shardServers } from '../rpc';
import type { ClusterConfig, KVClerk } from '../rpc';
import { CAUSES_DUPLICATE, Lab1Impl, Lab1Tester, serverIndex, serverName, show, within } from './harness';

type Ctx = TestContext<Lab1Impl>;
type Op = Operation<KvInput, KvOutput>;

/** Virtual time the clients run with faults on, and the time everything gets to finish once they heal (ms). */
const FAULT_MS = 1000;
const SETTLE_MS = 10_000;
/** About how many messages a round's fault phase sends (where PCT change points and stop points are drawn). */
const ROUND_MESSAGES = 1500;
/** Think time between one client's operations: up to this many virtual ms. */
const THINK_MS = 8;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// Values: every append carries a token found nowhere else, so a value shows which appends it holds, and how often.

/** The token of client `cli`'s `n`-th append, e.g. "{a3.12}". */
function appendToken(cli: number, n: number): string {
  return `{a${cli}.${n}}`;
}

/** What client `cli` appends as its `n`-th append: its token, sometimes followed by an awkward tail. */
function appendArg(rng: Rng, cli: number, n: number): string {
  return appendToken(cli, n) + (rng.chance(0.3) ? edgeValue(rng, n, { hugeBytes: 4096 }) : '');
}

/** What client `cli` puts as its `n`-th put: "" sometimes, else a marker and an awkward tail. */
function putValue(rng: Rng, cli: number, n: number): string {
  return rng.chance(0.15) ? '' : `{p${cli}.${n}}` + (rng.chance(0.3) ? edgeValue(rng, n, { hugeBytes: 4096 }) : '');
}

/** The append tokens in a value, with how many times each occurs. */
function tokenCounts(value: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of value.matchAll(/\{a\d+\.\d+\}/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return counts;
}

/** The token an append operation carries. */
function tokenOf(op: Op): string {
  return op.input.op === 'append' ? (/^\{a\d+\.\d+\}/.exec(op.input.value)?.[0] ?? '') : '';
}

/** An operation as a student reads it: "client 3: append("7", "{a3.4}") → "..." (at 120.5 ms, returned at 131.0 ms)". */
function describeOp(op: Op): string {
  const i = op.input;
  const call = i.op === 'get' ? `get(${show(i.key)})` : `${i.op}(${show(i.key)}, ${show(i.value)})`;
  const out = i.op === 'put' ? '' : ` → ${show(op.output)}`;
  const ret = op.return === Infinity ? 'never returned' : `returned at ${op.return.toFixed(1)} ms`;
  return `client ${op.clientId}: ${call}${out} (called at ${op.call.toFixed(1)} ms, ${ret})`;
}

// ---------------------------------------------------------------------------------------------------------------
// The round's story: what the nemesis did, for the log and for every failure message.

/** The nemesis's actions in one round, told in order. */
class Story {
  private readonly ctx: Ctx;
  readonly round: number;
  private readonly events: string[] = [];

  constructor(ctx: Ctx, round: number) {
    this.ctx = ctx;
    this.round = round;
  }

  /** Notes an action (with the virtual time) in the log and the story. */
  tell(what: string): void {
    const line = `${performance.now().toFixed(1)} ms: ${what}`;
    this.events.push(line);
    this.ctx.log(`round ${this.round}: ${line}`);
  }

  /** "Round 3 (what happened: ...)". */
  toString(): string {
    return `Round ${this.round} (what the nemesis did: ${this.events.join('; ')})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks of a round's history: duplicated appends, lost acknowledged appends, then linearizability.

const CAUSES_LOST =
  'Likely causes: a primary that replies before every running copy has the write (or stops re-sending to a backup that does not answer, ' +
  'or takes a backup that has not answered for a while for stopped: only config.isRunning says so); ' +
  'a new primary that serves before bringing the other running copies up to date (every time it takes over, gets included); ' +
  'a re-send answered from the duplicate table although not every running copy has the write; a clerk that takes an error reply (a refusal) for success; ' +
  "an Install that merges into the backup's copy instead of replacing its data and duplicate table.";

/** Fails if any value a client saw holds an append twice, or an append's old value already holds that append. */
function checkNoDuplicates(ops: readonly Op[], story: Story): void {
  for (const op of ops) {
    if (op.output === undefined || op.input.op === 'put') continue;
    const own = tokenOf(op);
    check(
      own === '' || !op.output.includes(own),
      () =>
        `${story}: ${describeOp(op)} returned an old value that already holds its own token ${show(own)}: the append was executed twice (a re-send of it ran again). ${CAUSES_DUPLICATE}`,
    );
    for (const [token, n] of tokenCounts(op.output)) {
      check(
        n === 1,
        () =>
          `${story}: ${describeOp(op)} saw the append ${show(token)} ${n} times; every append must take effect exactly once. ${CAUSES_DUPLICATE}`,
      );
    }
  }
}

/**
 * Fails if a value read after an acknowledged append misses it although no put on that key can have come between
 * (a put overlapping or following the append in real time may have replaced it; none did here).
 */
function checkNoLostAppends(ops: readonly Op[], story: Story): void {
  const byKey = new Map<string, Op[]>();
  for (const op of ops) byKey.set(op.input.key, [...(byKey.get(op.input.key) ?? []), op]);
  for (const keyOps of byKey.values()) {
    const puts = keyOps.filter((op) => op.input.op === 'put');
    const reads = keyOps.filter((op) => op.input.op !== 'put' && op.output !== undefined);
    for (const a of keyOps) {
      if (a.input.op !== 'append' || a.return === Infinity) continue;
      const token = tokenOf(a);
      for (const r of reads) {
        if (r.call <= a.return || r.output!.includes(token)) continue;
        if (puts.some((p) => p.return > a.call && p.call < r.return)) continue;
        throw new TestFailure(
          `${story}: ${describeOp(a)} was acknowledged, but a later operation, ${describeOp(r)}, does not hold it, and no put on that key ran in between: an acknowledged append was lost. ${CAUSES_LOST}`,
        );
      }
    }
  }
}

/** All the checks of one round's history, in the order that gives the most specific message first. */
function checkRound(ts: Lab1Tester, story: Story): void {
  const ops = ts.history.operations();
  checkNoDuplicates(ops, story);
  checkNoLostAppends(ops, story);
  try {
    ts.checkLinearizable();
  } catch (err) {
    if (!isTestFailure(err)) throw err;
    throw new TestFailure(
      `${story}: ${err.message}\nLikely causes: a read answered by a copy that is not up to date (a backup answering from its own copy, or a new primary that did not sync first); ` +
        "copies that apply a shard's writes in different orders (the primary must run a shard's operations one at a time); a lost or doubled write (see above).",
      err.attachments,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The workload: clients doing random gets, appends and puts on many keys, one call at a time per clerk.

/** What the round's clients share: the keys, whether writes are paused, and the writes in flight. */
interface Workload {
  /** The round's keys; writes sometimes add a fresh one (a key created in the middle of the faults). */
  readonly keys: string[];
  /** The first keys, most clients' favourites: writes and reads on one key through several servers at once. */
  readonly hot: number;
  /** Shards in the round (fresh keys are spread over them). */
  readonly nshards: number;
  /** Fresh keys made so far. */
  fresh: number;
  /** The share of writes that go to a fresh key. */
  readonly freshShare: number;
  /** While true, clients only read (a restart is allowed only for a server that missed no writes). */
  readOnly: boolean;
  /** While true, clients start no operation at all (a restart waits until none is in flight). */
  paused: boolean;
  /** Operations in flight. */
  busy: number;
  /**
   * The writes started and not yet returned (their key and client), by a number of the write; `creates`: an append
   * on a key no write had started on (a put would hide a copy that kept the key: its re-send overwrites it).
   */
  readonly writing: Map<number, { key: string; cli: number; token: string; creates: boolean }>;
  /** How many writes have started on each key (a write on any other key creates it). */
  readonly written: Map<string, number>;
  /** When a write, and when a get, was last answered on each shard (virtual ms). */
  readonly acked: Map<number, number>;
  readonly read: Map<number, number>;
  /** The key of each client's operation in flight (gets included), by client. */
  readonly current: Map<number, string>;
  /** Called when a write starts, with its key. */
  onWrite: (key: string) => void;
  /** Writes started so far. */
  writes: number;
  /** The share of operations that are puts (a put hides a lost or doubled append: rounds vary it). */
  readonly puts: number;
  /**
   * The key in doubt (undefined: none): the key of a write a stop cut, or of the stopped server's shard; clients
   * then pick it half the time, so that the servers left serve it (and show what their copies hold) before the
   * next stop.
   */
  focus: string | undefined;
  /** A key written by no one until the next stop (undefined: none): the server left serves reads of it first. */
  quiet: string | undefined;
}

function newWorkload(
  keys: readonly string[],
  puts = 0.1,
  opts: { nshards?: number; freshShare?: number } = {},
): Workload {
  return {
    keys: [...keys],
    hot: 1,
    nshards: opts.nshards ?? 1,
    fresh: 0,
    freshShare: opts.freshShare ?? 0,
    readOnly: false,
    paused: false,
    busy: 0,
    writing: new Map(),
    written: new Map(),
    acked: new Map(),
    read: new Map(),
    current: new Map(),
    onWrite: () => undefined,
    writes: 0,
    puts,
    focus: undefined,
    quiet: undefined,
  };
}

/** A key for a client's next operation: the key in doubt half the time, else one of the hot keys half the time, else any key. */
function pickKey(rng: Rng, w: Workload): string {
  if (w.focus !== undefined && rng.chance(0.5)) return w.focus;
  return rng.chance(0.5) ? w.keys[rng.int(Math.min(w.hot, w.keys.length))] : rng.pick(w.keys);
}

/** A key nobody has written yet, on a random shard (numeric, so that keyToShard spreads it). */
function freshKey(rng: Rng, w: Workload): string {
  const key = String(rng.int(w.nshards) + w.nshards * (1000 + w.fresh++));
  w.keys.push(key);
  return key;
}

/**
 * One client's loop: random operations with think time until `done()`; returns the number of operations. A reader
 * only reads, mostly the hot keys, with little think time: reads through several servers while writes are copied.
 */
async function runClient(
  rng: Rng,
  ck: KVClerk,
  cli: number,
  w: Workload,
  done: () => boolean,
  reader = false,
): Promise<number> {
  let appends = 0;
  let puts = 0;
  let ops = 0;
  while (!done()) {
    if (w.paused) {
      await sleep(1);
      continue;
    }
    w.busy++;
    const r = rng.float();
    if (w.readOnly || reader || r < 0.4) {
      const key =
        reader && rng.chance(0.7) ? (w.focus ?? w.keys[rng.int(Math.min(w.hot, w.keys.length))]) : pickKey(rng, w);
      w.current.set(cli, key);
      await ck.get(key);
      w.read.set(keyToShard(key, w.nshards), performance.now());
    } else {
      const key = w.freshShare > 0 && rng.chance(w.freshShare) ? freshKey(rng, w) : pickKey(rng, w);
      w.current.set(cli, key);
      // The key in doubt is read, not written, until the next stop: the new server serves reads of it first.
      if (key === w.quiet) {
        await ck.get(key);
        w.current.delete(cli);
        w.busy--;
        ops++;
        continue;
      }
      const id = w.writes++;
      // The key in doubt is only appended to: a put would hide what its copies lost or doubled.
      const isPut = r >= 1 - w.puts && key !== w.focus;
      const value = isPut ? putValue(rng, cli, puts++) : appendArg(rng, cli, appends++);
      const token = /^\{[ap]\d+\.\d+\}/.exec(value)?.[0] ?? '';
      w.writing.set(id, { key, cli, token, creates: !isPut && !w.written.has(key) });
      w.written.set(key, (w.written.get(key) ?? 0) + 1);
      w.onWrite(key);
      try {
        if (isPut) await ck.put(key, value);
        else await ck.append(key, value);
      } finally {
        w.writing.delete(id);
      }
      w.acked.set(keyToShard(key, w.nshards), performance.now());
    }
    w.current.delete(cli);
    w.busy--;
    ops++;
    await sleep(rng.float() * (reader ? THINK_MS / 2 : THINK_MS));
  }
  return ops;
}

/** Keys for a round: numeric ones around 9/10 and 99/100 (spread over the shards), and a few edge keys. */
function roundKeys(rng: Rng, nshards: number, edges: number): string[] {
  const keys = new Set<string>();
  for (let s = 0; s < nshards; s++) keys.add(String(s + nshards * rng.int(4)));
  for (const k of ['9', '10', '99', '100']) if (rng.chance(0.5)) keys.add(k);
  while (keys.size < nshards + 2 + edges) keys.add(rng.pick(EDGE_KEYS));
  return [...keys];
}

/** Waits for the clients, failing with the round's story and the operations still pending when they do not finish. */
async function settle<T>(ts: Lab1Tester, work: Promise<T>, story: Story, what: string): Promise<T> {
  return within(work, FAULT_MS + SETTLE_MS, () => {
    const pending = ts.history
      .inFlight()
      .slice(0, 5)
      .map((p) => `client ${p.clientId}: ${p.input.op}(${show(p.input.key)}) called at ${p.call.toFixed(1)} ms`);
    return (
      `${story}: ${what} did not finish within ${SETTLE_MS / 1000} s after the faults healed (${pending.join('; ') || 'no operation pending'}). ` +
      'Every shard still had a running server, the network was reliable again: the service must make progress. Likely causes: a clerk that stops ' +
      "re-sending, or does not move on to the shard's next server; a server that waits forever for a stopped server (ask config.isRunning); " +
      'a shard that is never led by its first running server once the servers before it stop.'
    );
  });
}

/** Puts the round's network faults on: the plan without its PCT schedule, which `scheduleOf` builds (to wrap it). */
function applyNetworkFaults(
  ts: Lab1Tester,
  plan: NetworkPlan,
  rng: Rng,
): { line: string; pct: PctSchedule | undefined } {
  const line = applyPlan(ts.net, { ...plan, pct: undefined }, rng, ROUND_MESSAGES);
  const pct = plan.pct ? new PctSchedule(rng, { ...plan.pct, messages: ROUND_MESSAGES }) : undefined;
  ts.net.setSchedule(pct);
  return { line: pct ? `${line}, ${pct.describe()}` : line, pct };
}

// ---------------------------------------------------------------------------------------------------------------
// TestNemesisKV: one server (parts 1 and 2).

/** Network plans of TestNemesisKV (drawPlan's four kinds, then a mix, whose round ends with the memory phase). */
const KV_PLANS = 5;
const KV_CLIENTS = 5;
/** Clerks made one after another, each doing a single append, in TestNemesisKV's churn phase. */
const CHURN_CLERKS = 2400;
const CHURN_KEYS = 40;
/** Size of the big values of the memory phase, and what a correct server may keep beyond the replies it owes. */
const BIG_BYTES = 1536 * 1024;
const MEMORY_SLACK = 1024 * 1024;
/** Gets of unwritten 1 KiB keys in the memory phase: 5 MiB of names for a server that remembers its gets. */
const GET_SWEEP = 5000;

/** One round of TestNemesisKV: a fresh server, random operations under the round's network faults, then the checks. */
async function kvRound(ctx: Ctx, round: number, planIndex: number): Promise<void> {
  const rng = keyedRng(ctx.seed, `lab1-nemesis-kv-${round}`);
  const ts = new Lab1Tester(ctx, { nshards: 1, nreplicas: 1, reliable: true });
  const story = new Story(ctx, round);
  const plan = drawPlan(rng, planIndex);
  story.tell(`network: ${applyNetworkFaults(ts, plan, rng).line}`);
  const w = newWorkload(roundKeys(rng, 1, 4));
  story.tell(`${KV_CLIENTS} clients on keys ${w.keys.map((k) => show(k)).join(' ')}`);
  const clerks = Array.from({ length: KV_CLIENTS }, (_, cli) => ts.makeRecordingClerk(cli));
  const work = runClients(KV_CLIENTS, FAULT_MS, (cli, done) =>
    runClient(keyedRng(ctx.seed, `lab1-nemesis-kv-${round}-${cli}`), clerks[cli], cli, w, done),
  );
  setTimeout(() => {
    healNetwork(ts.net);
    story.tell('faults healed');
  }, FAULT_MS);
  const counts = await settle(ts, work, story, "the clients' operations");
  story.tell(`operations per client: ${counts.join(' ')}`);
  await readEveryKey(ts, w.keys, [ts.makeRecordingClerk(KV_CLIENTS)], story);
  if (planIndex === KV_PLANS - 1) await memoryPhase(ts, rng, w.keys, story);
  else checkRound(ts, story);
}

/** Reads every key through each reader (fresh clerks: one per server to ask first), failing if one never answers. */
async function readEveryKey(ts: Lab1Tester, keys: readonly string[], readers: KVClerk[], story: Story): Promise<void> {
  for (const reader of readers)
    await settle(ts, Promise.all(keys.map((k) => reader.get(k))), story, 'fresh reads of every key');
}

/**
 * Many clerks, made at nearly the same moments, each doing one append: no two may take each other's write for a
 * re-send (promise 5), so every append is there exactly once.
 */
async function churnRound(ctx: Ctx, round: number): Promise<void> {
  const rng = keyedRng(ctx.seed, `lab1-nemesis-churn-${round}`);
  const ts = new Lab1Tester(ctx, { nshards: 1, nreplicas: 1, reliable: true });
  const story = new Story(ctx, round);
  const keys = Array.from({ length: CHURN_KEYS }, (_, i) => String(i));
  const tasks = 8;
  story.tell(`${CHURN_CLERKS} clerks made by ${tasks} tasks at once, one append each, on ${CHURN_KEYS} keys`);
  const work = runClients(tasks, 0, async (task) => {
    for (let i = task; i < CHURN_CLERKS; i += tasks) {
      const ck = ts.makeRecordingClerk(100 + i);
      await ck.append(rng.pick(keys), appendToken(100 + i, 0));
    }
  });
  await settle(ts, work, story, 'the churn');
  await readEveryKey(ts, keys, [ts.makeRecordingClerk(KV_CLIENTS)], story);
  checkRound(ts, story);
}

/**
 * After the round's workload: three new clerks each append two big values to a key (so that an old value holds the
 * first), read it, and put another big value there; then a recorded clerk overwrites every key with "". Every clerk's
 * latest write is then a put (whose reply carries no value) and every key is empty: a correct server keeps next to
 * nothing beyond the replies it still owes (promises 16-18), while one that keeps old replies, write arguments,
 * appended values or get replies keeps megabytes. The big values are not recorded (the test keeps no reference to
 * them, so that what the server keeps is what dropping it frees); their clerks check the lengths they get back.
 */
async function memoryPhase(ts: Lab1Tester, rng: Rng, keys: readonly string[], story: Story): Promise<void> {
  const mine = keys.slice(0, 3);
  story.tell(
    `memory phase: 3 new clerks each append, read and put ${BIG_BYTES / 1024} KiB values (not recorded); ${GET_SWEEP} gets of unwritten 1 KiB keys`,
  );
  const work = runClients(mine.length, 0, async (cli) => {
    const ck = ts.makeClerk();
    const key = mine[cli];
    const before = (await ck.append(key, bigValue(rng, BIG_BYTES))).length;
    const old = (await ck.append(key, bigValue(rng, BIG_BYTES))).length;
    const got = (await ck.get(key)).length;
    await ck.put(key, bigValue(rng, BIG_BYTES));
    const want = before + BIG_BYTES;
    check(
      old === want && got === want + BIG_BYTES,
      () =>
        `${story}: after append(${show(key)}, <${BIG_BYTES} characters>) on a value of ${before} characters, a second such append returned an old value of ${old} characters ` +
        `and a get then returned ${got}; expected ${want} and ${want + BIG_BYTES} (only this clerk wrote this key then).`,
    );
  });
  await settle(ts, work, story, 'the memory phase');
  // Gets change nothing, so a server keeps nothing of them: a clerk reads keys nobody wrote, each name 1 KiB and
  // made afresh (the test keeps none of them), and a server that logs its gets keeps megabytes of names.
  const reader = ts.makeClerk();
  const base = rng.string(1024);
  for (let i = 0; i < GET_SWEEP; i++) {
    const got = await reader.get(`${i}:${base}`.slice(0, 1024));
    check(got === '', () => `${story}: get of a key nobody wrote returned ${show(got)}; expected "".`);
  }
  const cleaner = ts.makeRecordingClerk(300);
  for (const k of keys) await cleaner.put(k, '');
  await readEveryKey(ts, keys, [cleaner], story);
  checkRound(ts, story);
  const owed = repliesOwed(ts.history.operations());
  const retained = await ts.measureRetained(false);
  story.tell(
    `the server retains ${(retained / 1024).toFixed(0)} KiB (it owes ${(owed / 1024).toFixed(0)} KiB of replies)`,
  );
  const limit = owed + MEMORY_SLACK;
  check(
    retained < limit,
    () =>
      `${story}: every key was overwritten with "" and every clerk's latest write was a put, yet the server still keeps ${(retained / 1024 / 1024).toFixed(1)} MiB ` +
      `(at most ${(limit / 1024 / 1024).toFixed(1)} MiB allowed: the latest reply of each clerk, ${(owed / 1024).toFixed(0)} KiB, plus 1 MiB). ` +
      "Likely causes: the duplicate table keeps every reply instead of only each clerk's latest; it keeps the arguments of writes (or the appended values); " +
      "a put's remembered reply holds the old value (a put's reply carries none); gets or their replies are remembered (a get can simply run again); " +
      'such a log kept at the top of server.ts counts too.',
  );
}

/** Bytes of the replies a correct server may still owe: each clerk's latest write's reply (UTF-16, 2 bytes a character). */
function repliesOwed(ops: readonly Op[]): number {
  const latest = new Map<number, Op>();
  for (const op of ops) if (op.input.op !== 'get') latest.set(op.clientId, op);
  let bytes = 0;
  for (const op of latest.values()) if (op.input.op === 'append') bytes += 2 * (op.output?.length ?? 0);
  return bytes;
}

/** A fresh flat string of `bytes` random characters, with no pattern a server could store in less. */
function bigValue(rng: Rng, bytes: number): string {
  return rng.text(bytes);
}

export const nemesisKV: TestDefinition<Lab1Impl> = {
  name: 'TestNemesisKV',
  description:
    'one server, 5 clients on edge keys and values under random network faults (PCT orders, drops, held replies), 2400 short-lived clerks, then big values overwritten: no append lost or doubled, linearizable, progress after healing, little memory kept',
  generic: true,
  async run(ctx: Ctx) {
    // Rounds 0-3 meet each kind of network fault; the churn round comes between; the last ends with the memory phase.
    for (let plan = 0; plan < KV_PLANS; plan++) {
      if (plan === 2) await churnRound(ctx, 2);
      await kvRound(ctx, plan < 2 ? plan : plan + 1, plan);
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// TestNemesisShards: shards, replicas and stops (part 3).

/** Stops and restarts within the handout's model: every shard keeps a running server; only servers that missed no write restart. */
class Stopper {
  private readonly ts: Lab1Tester;
  private readonly w: Workload;
  private readonly story: Story;

  /** Stopped servers that missed (or may have missed) a write of one of their shards: they never restart. */
  private readonly dirty = new Set<number>();

  constructor(ts: Lab1Tester, w: Workload, story: Story) {
    this.ts = ts;
    this.w = w;
    this.story = story;
    w.onWrite = (key) => {
      for (const s of this.holders(key)) if (!ts.isRunning(s)) this.dirty.add(s);
    };
  }

  private get config(): ClusterConfig {
    return this.ts.config;
  }

  /** The servers of a key's shard. */
  holders(key: string): number[] {
    return shardServers(keyToShard(key, this.config.nshards), this.config);
  }

  /** The shards server `s` holds. */
  shardsOf(s: number): number[] {
    return [...Array(this.config.nshards).keys()].filter((sh) => shardServers(sh, this.config).includes(s));
  }

  /** Whether stopping `s` leaves every shard with a running server. */
  canStop(s: number): boolean {
    if (!this.ts.isRunning(s)) return false;
    return this.shardsOf(s).every((sh) => shardServers(sh, this.config).some((o) => o !== s && this.ts.isRunning(o)));
  }

  /** Stops `s` (the caller checked canStop), saying why. */
  stop(s: number, why: string): void {
    this.story.tell(`stopped server ${s} ${why}`);
    for (const { key } of this.w.writing.values()) if (this.holders(key).includes(s)) this.dirty.add(s);
    this.ts.stopServer(s);
  }

  /** Whether `s` is stopped and missed no write, so that it may restart. */
  canRestart(s: number): boolean {
    return !this.ts.isRunning(s) && !this.dirty.has(s);
  }

  restart(s: number, why: string): void {
    this.story.tell(`restarted server ${s} ${why}`);
    this.ts.startServer(s);
  }

  /** The first running server of some shard (a primary under the usual design), or any server that may stop. */
  pickVictim(rng: Rng): number | undefined {
    const may = [...Array(this.config.nshards).keys()].filter((s) => this.canStop(s));
    return may.length === 0 ? undefined : rng.pick(may);
  }
}

/** When a stop fires: at the first message a server sends to a clerk (or to another server) from a moment on. */
interface StopPoint {
  /** The moment (virtual ms). */
  readonly at: number;
  /**
   * reply-lost: the server stops as it replies to a clerk, and the reply is lost; reply-sent: just after the reply
   * went out; peer: as the server's message to another server is handled there (its other messages may not be).
   */
  readonly kind: 'reply-lost' | 'reply-sent' | 'peer';
  /** Only these servers may be the victim (a follow-up stop aims at the copies of the shards the last victim held). */
  readonly among?: readonly number[];
  /**
   * A follow-up's shards: a reply to any clerk whose operation in flight (a get too) is on one of them counts, so
   * that the server now serving the shard (whichever that is) stops as it answers.
   */
  readonly shards?: readonly number[];
  /**
   * peer only: the message must be of the servers' own protocol (a method no clerk calls: copying a write, bringing
   * a copy up to date), not a clerk's request passed on; its sender is then serving the shard, whatever the design.
   */
  readonly own?: boolean;
  /** peer only: the message must go to this server (so that either copy of a shard may be the one that got it). */
  readonly toward?: number;
  /**
   * peer only: the message must go to the server this many places after its sender (mod the number of servers); the
   * sender's messages to the other servers are held back a little meanwhile, so that only that one copy gets it.
   */
  readonly relTo?: number;
  /** Whether the re-send of the write this stop cuts comes before the follow-up stop (undefined: drawn). */
  readonly early?: boolean;
  /** A chain's first stop: the follow-up always comes, of this kind (see Chain; undefined: drawn). */
  readonly follow?: Follow;
  /** reply kinds: which replies count (undefined: any on the point's shards, or any to a clerk writing). */
  readonly replyTo?: 'cut' | 'read' | 'write';
  /** replyTo 'cut': the clients whose write the last stop cut. */
  readonly clients?: readonly number[];
  /** reply kinds: the server to stop when the reply goes out, whoever sends it (undefined: the sender). */
  readonly victim?: number;
  /** reply kinds: only a reply on an end whose last request went out at or after this moment counts (a follow-up's stop time). */
  readonly after?: number;
  /** A follow-up's keys: only an operation on one of them counts (the key of the write the last stop cut). */
  readonly keys?: readonly string[];
  /** peer only: only a message carrying an append that creates its key counts (a boundary: no copy had the key). */
  readonly creates?: boolean;
  /** A chain's follow-up: its stop completes the round's chain. */
  readonly closes?: boolean;
}

/** Whether a reply to client `cli` (undefined: not a workload client) counts for a point's `replyTo`. */
function answers(
  replyTo: StopPoint['replyTo'],
  cli: number | undefined,
  writer: number | undefined,
  clients: readonly number[] = [],
): boolean {
  if (replyTo === undefined) return true;
  if (cli === undefined) return false;
  if (replyTo === 'cut') return clients.includes(cli);
  // A follow-up on a write wants another client's write (the cut client's re-send comes after it).
  if (replyTo === 'write') return writer !== undefined && !clients.includes(cli);
  return writer === undefined;
}

/** The method's own name ("Replicate" for "KVServer.Replicate"). */
function bare(method: string): string {
  return method.slice(method.lastIndexOf('.') + 1);
}

/**
 * The round's stops at the worst moments the network lets the tester see, seen through the delivery schedule (and
 * PCT's delays, if the round has them): as a server replies to a clerk, or as another server handles a message it
 * sent. After a stop, the clerks whose writes were in flight may be slow to re-send (their requests are held back a
 * while), and a follow-up stop may hit another copy of the same shards, so that a takeover meets a second one.
 */
class StopTrigger implements DeliverySchedule {
  private readonly ts: Lab1Tester;
  private readonly inner: PctSchedule | undefined;
  private readonly stopper: Stopper;
  private readonly w: Workload;
  private readonly rng: Rng;
  private readonly story: Story;
  private readonly pending: StopPoint[];
  /** Clerk ends whose requests are held back, and until when (virtual ms). */
  private readonly held = new Map<string, number>();
  /** When each clerk end last sent a request (virtual ms): a reply on it answers that request. */
  private readonly sentAt = new Map<string, number>();
  /** The methods clerks call (the rest are the servers' own protocol). */
  private readonly clerkMethods = new Set<string>();
  /** Whether the round's takeover chain (if any) still waits for its follow-up stop. */
  chainOpen: boolean;
  /** While true, no stop fires (a long cut between two copies is on, and its own stop decides the round). */
  hold = false;
  /** The most a request's trip may take on the round's network beyond the schedule's delay (ms). */
  private readonly wireMs: number;
  /** A server-to-server message whose handling stops its sender. */
  private armed:
    { from: number; to: number; method: string; point: StopPoint; since: number; arrives: number } | undefined;

  constructor(
    ts: Lab1Tester,
    inner: PctSchedule | undefined,
    points: StopPoint[],
    stopper: Stopper,
    w: Workload,
    rng: Rng,
    story: Story,
    round: { chain: boolean; reliable: boolean },
  ) {
    this.ts = ts;
    this.inner = inner;
    this.chainOpen = round.chain;
    this.wireMs = round.reliable ? 0 : FAULTS.unreliableDelayMs;
    this.stopper = stopper;
    this.w = w;
    this.rng = rng;
    this.story = story;
    this.pending = [...points];
    ts.onCall = (server, method, args) => {
      const a = this.armed;
      if (!a || server !== a.to || bare(method) !== a.method) return;
      this.armed = undefined;
      if (this.hold) return void this.pending.push(a.point);
      // Only a message that carries a write in flight (its value's token is in it) makes the moment worth it.
      const text = JSON.stringify(args) ?? '';
      const focus = a.point.shards;
      const cut = [...this.w.writing.values()].filter(
        (x) =>
          x.token !== '' &&
          text.includes(x.token) &&
          (focus?.includes(keyToShard(x.key, this.ts.config.nshards)) ?? true) &&
          (a.point.keys?.includes(x.key) ?? true) &&
          // A key-creating append counts only while no other write on its key has started: none can have run first.
          (!a.point.creates || (x.creates && this.w.written.get(x.key) === 1)),
      );
      if (cut.length === 0) return void this.pending.push(a.point);
      this.stop(
        a.from,
        `as server ${a.to} began handling its ${a.method} of ${show(cut[0].token)} (its other messages may not have arrived)`,
        cut.map((x) => x.cli),
        a.point,
        [...new Set(cut.map((x) => keyToShard(x.key, this.ts.config.nshards)))],
        cut.map((x) => x.key),
      );
    };
  }

  /** Adds a stop point. */
  plan(point: StopPoint): void {
    this.pending.push(point);
  }

  extraDelayMs(m: MessageInfo): number {
    const now = performance.now();
    let extra = this.inner?.extraDelayMs(m) ?? 0;
    const until = this.held.get(m.end);
    if (m.which === 'request' && until !== undefined && until > now) extra += until - now;
    if (m.which === 'request' && m.end.startsWith('clerk-end-')) {
      this.clerkMethods.add(bare(m.method));
      this.sentAt.set(m.end, now);
    }
    const own = !this.clerkMethods.has(bare(m.method));
    const toClerk = m.which === 'reply' && m.end.startsWith('clerk-end-');
    const peer = m.which === 'request' && /^peer-\d+-\d+$/.test(m.end);
    if (!toClerk && !peer) return extra;
    const sender = toClerk ? serverIndex(m.server) : Number(m.end.split('-')[1]);
    const n = this.ts.nservers;
    const target = (p: StopPoint) => (p.relTo === undefined ? p.toward : (sender + p.relTo) % n);
    // While a stop aimed at one copy waits, the sender's own messages to the other copies come later: after any
    // the delivery schedule may hold back, and, once the message to that copy is on its way, after it arrives.
    const a = this.armed;
    if (peer && own && a?.point.relTo !== undefined && a.from === sender && serverName(a.to) !== m.server)
      extra = Math.max(extra, a.arrives - now) + 4 + this.wireMs;
    else if (
      peer &&
      own &&
      this.pending.some((p) => p.relTo !== undefined && p.at <= now && serverName(target(p) ?? -1) !== m.server)
    )
      extra += 4 + (this.inner?.options.spanMs ?? 0) + this.wireMs;
    // A reply to a clerk counts when that clerk has a write in flight (it is, most likely, the write's reply), or,
    // for a follow-up, when the clerk's operation in flight (a get too) is on one of the shards the last stop cut.
    const cli = toClerk ? this.clientOf(m.end) : undefined;
    const writer = cli !== undefined && [...this.w.writing.values()].some((x) => x.cli === cli) ? cli : undefined;
    const key = cli === undefined ? undefined : this.w.current.get(cli);
    const shard = key === undefined ? undefined : keyToShard(key, this.ts.config.nshards);
    // While the round's chain is open, only its own stops fire: another stop could leave its follow-up no victim.
    const i = this.pending.findIndex(
      (p) =>
        p.at <= now &&
        !this.hold &&
        (!this.chainOpen || p.follow !== undefined || p.closes === true) &&
        (p.kind === 'peer') === peer &&
        (p.among?.includes(sender) ?? true) &&
        (!peer || !p.own || own) &&
        (!peer || target(p) === undefined || serverName(target(p) ?? -1) === m.server) &&
        (peer || (p.shards ? shard !== undefined && p.shards.includes(shard) : writer !== undefined)) &&
        (peer || p.keys === undefined || (key !== undefined && p.keys.includes(key))) &&
        (peer || answers(p.replyTo, cli, writer, p.clients)) &&
        (peer || p.after === undefined || (this.sentAt.get(m.end) ?? -1) >= p.after) &&
        this.stopper.canStop(p.victim ?? sender),
    );
    // A message armed but never handled (lost, or its receiver stopped) gives its point back after a while.
    if (this.armed && now - this.armed.since > 50) {
      this.pending.push(this.armed.point);
      this.armed = undefined;
    }
    if (i >= 0 && !this.armed) this.fire(i, m, sender, writer, shard, key, now, now + extra + 1);
    return extra;
  }

  /** Takes pending stop point `i` on message `m` from `sender`: stops its victim now or after the reply, or arms it. */
  private fire(
    i: number,
    m: MessageInfo,
    sender: number,
    writer: number | undefined,
    shard: number | undefined,
    key: string | undefined,
    now: number,
    arrives: number,
  ): void {
    const [point] = this.pending.splice(i, 1);
    const victim = point.victim ?? sender;
    const as = point.victim === undefined ? 'it' : `server ${sender}`;
    const clients = writer === undefined ? [] : [writer];
    const cutShards = shard === undefined ? [] : [shard];
    const cutKeys = key === undefined ? [] : [key];
    if (point.kind === 'reply-lost')
      this.stop(
        victim,
        `as ${as} replied to ${m.end}'s ${m.method} (the reply is lost)`,
        clients,
        point,
        cutShards,
        cutKeys,
      );
    else if (point.kind === 'reply-sent')
      void Promise.resolve().then(() =>
        this.stop(victim, `right after ${as} replied to ${m.end}'s ${m.method}`, clients, point, cutShards, cutKeys),
      );
    else
      this.armed = {
        from: sender,
        to: serverIndex(m.server),
        method: bare(m.method),
        point,
        since: now,
        arrives,
      };
  }

  /** The workload client that owns a clerk end. */
  private clientOf(end: string): number {
    // The workload's clerks were made first, one end per server each: client c owns clerk-end-(c*n) to -(c*n+n-1).
    return Math.floor(Number(end.replace('clerk-end-', '')) / this.ts.nservers);
  }

  /** A follow-up stop happened: the held re-sends go out soon (to whoever serves the shard now). */
  private release(): void {
    const now = performance.now();
    for (const [end, until] of this.held) if (until > now) this.held.set(end, now + 30 + this.rng.float() * 250);
  }

  /**
   * Stops `victim` if it still may; then maybe holds back the requests of `clients` (whose write the stop cut: their
   * re-sends come late), and plans a follow-up stop.
   */
  private stop(
    victim: number,
    why: string,
    clients: readonly number[],
    point: StopPoint,
    cutShards: readonly number[],
    cutKeys: readonly string[],
  ): void {
    if (this.hold || !this.stopper.canStop(victim)) return;
    this.stopper.stop(victim, why);
    if (point.closes) this.chainOpen = false;
    if (point.shards !== undefined) {
      this.release();
      this.w.quiet = undefined;
    }
    const now = performance.now();
    // The cut write's re-send comes either soon (before the next stop: the new server answers it) or only once the
    // next stop has happened (a third copy answers it).
    const early = point.early ?? this.rng.chance(0.5);
    const chain = point.follow !== undefined && cutShards.length > 0;
    if (clients.length > 0 && (chain || this.rng.chance(0.85))) {
      // A chain's late re-send waits for the follow-up stop itself (which releases it), however slow the network.
      const late = chain ? SHARD_FAULT_MS + CHAIN_GRACE_MS : 300 + this.rng.float() * 1000;
      const ms = early ? 20 + this.rng.float() * 130 : late;
      for (const c of clients)
        for (let j = 0; j < this.ts.nservers; j++) this.held.set(`clerk-end-${c * this.ts.nservers + j}`, now + ms);
      this.story.tell(
        `the requests of client ${clients.join(', ')} (its write was in flight) are held back ${ms.toFixed(0)} ms${early ? '' : ', or until the next stop'}`,
      );
    }
    if (chain) {
      // A chain's follow-up: the copy after the victim in the cut shard's list (the server a clerk asks next, a
      // likely new leader) stops at the first moment it has served the cut write's key (see Chain), a key the
      // clients now favour.
      const list = shardServers(cutShards[0], this.ts.config);
      const i = list.indexOf(victim);
      const next = [...list.slice(i + 1), ...list.slice(0, Math.max(0, i))].find((s) => this.ts.isRunning(s));
      this.w.focus = cutKeys[0] ?? this.w.focus;
      if (point.follow === 'read') this.w.quiet = this.w.focus;
      const keys = cutKeys.length > 0 ? cutKeys : undefined;
      if (next === undefined) this.chainOpen = false;
      else if (point.follow === 'peer')
        this.pending.push({ at: now, kind: 'peer', among: [next], shards: cutShards, keys, own: true, closes: true });
      else
        this.pending.push({
          at: now,
          kind: 'reply-sent',
          victim: next,
          shards: cutShards,
          keys,
          replyTo: point.follow === 'answer' ? 'cut' : point.follow === 'read' ? 'read' : 'write',
          clients,
          after: now,
          closes: true,
        });
    } else if (this.rng.chance(0.9)) {
      // The next stop hits another copy of the shards this one held, as it serves them (replies to a clerk, a get
      // included, or copies a write): a takeover that meets a second one before the cut write's re-send arrives.
      const shards = cutShards.length > 0 ? cutShards : this.stopper.shardsOf(victim);
      const copies = [...new Set(shards.flatMap((sh) => shardServers(sh, this.ts.config)))];
      this.pending.push({
        at: now + (early ? 150 + this.rng.float() * 350 : this.rng.float() * 150),
        kind: this.rng.pick(['reply-lost', 'reply-sent', 'peer', 'peer'] as const),
        among: copies.filter((s) => s !== victim),
        shards,
        own: true,
      });
    }
  }
}

/**
 * When a chain's follow-up stops the next copy: right after the cut client's re-send is answered (answer), after
 * the first get of the cut key is answered while nobody writes it (read), after the first write of it is answered
 * (write), or as another copy handles the next copy's own message carrying a write of it (peer).
 */
type Follow = 'answer' | 'read' | 'write' | 'peer';

/** A takeover chain: how its first stop cuts a write, when the re-send comes, and how the follow-up stop hits. */
interface Chain {
  /** The one copy that gets the victim's message: the next server (1) or the one after (2). */
  readonly relTo: 1 | 2;
  /** Whether the cut write's re-send comes before the follow-up stop. */
  readonly early: boolean;
  /** How the follow-up stop hits the next copy once it served the cut write's key (see Follow). */
  readonly follow: Follow;
  /** Whether the victim first stops while the clients only read, another copy leads, and it restarts. */
  readonly restart: boolean;
  /** Whether the cut write must be an append that creates its key. */
  readonly creates?: boolean;
}

/**
 * The chains of the rounds where every server holds every shard, in order (one graded run has seven such rounds):
 * every pair of one copy reached or the other, re-send before or after the follow-up, with or without a lead in
 * between, is met in every graded run; follow-ups as the next copy answers (a get too) or as it copies a write.
 */
const CHAINS: readonly Chain[] = [
  { relTo: 1, early: false, follow: 'read', restart: false },
  { relTo: 2, early: true, follow: 'answer', restart: false, creates: true },
  { relTo: 1, early: true, follow: 'answer', restart: true },
  { relTo: 1, early: true, follow: 'answer', restart: false },
  { relTo: 2, early: false, follow: 'write', restart: true },
  { relTo: 2, early: false, follow: 'write', restart: false },
  { relTo: 1, early: false, follow: 'read', restart: true },
];

/** The layouts TestNemesisShards explores, by round (later rounds pick among them). */
const LAYOUTS: readonly ClusterConfig[] = [
  { nshards: 3, nreplicas: 3 },
  { nshards: 5, nreplicas: 3 },
  { nshards: 3, nreplicas: 3 },
  { nshards: 4, nreplicas: 2 },
  { nshards: 3, nreplicas: 3 },
  { nshards: 3, nreplicas: 3 },
  { nshards: 5, nreplicas: 3 },
  { nshards: 3, nreplicas: 3 },
  { nshards: 3, nreplicas: 3 },
  { nshards: 3, nreplicas: 3 },
];
const SHARD_ROUNDS = 10;
const SHARD_CLIENTS = 6;
/** Clients of TestNemesisShards that only read (mostly the hot key), each asking a different server first. */
const SHARD_READERS = 3;
/** TestNemesisShards' fault phase (virtual ms): longer than TestNemesisKV's, as stopped servers slow the clients. */
const SHARD_FAULT_MS = 2000;
/** How much longer the fault phase may last while the round's takeover chain has not ended (virtual ms). */
const CHAIN_GRACE_MS = 6000;

/** A random order of 0..n-1. */
function shuffled(rng: Rng, n: number): number[] {
  const a = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * A recording clerk; when every server holds every shard, its ends are in a random order, so that it asks a random
 * server first (reads and writes through every server, backups included).
 */
function workloadClerk(ts: Lab1Tester, rng: Rng, cli: number, order?: number[]): KVClerk {
  const all = ts.config.nreplicas === ts.config.nshards;
  return ts.makeRecordingClerk(cli, all ? (order ?? shuffled(rng, ts.nservers)) : undefined);
}

/**
 * The read-only interlude: writes pause, a server stops, clients read, it restarts (it missed no write). With a
 * chain, the victim is chosen first and the clients favour a key of its own shard from then on: it serves the shard
 * (a write acknowledged) before it stops, another server leads it meanwhile, and the restarted server's stop in the
 * middle of a write is the chain's first stop.
 */
async function interlude(
  ts: Lab1Tester,
  rng: Rng,
  w: Workload,
  stopper: Stopper,
  trigger: StopTrigger,
  at: number,
  chain?: Chain,
): Promise<void> {
  const chosen = chain ? stopper.pickVictim(rng) : undefined;
  if (chosen !== undefined) w.focus = w.keys.find((k) => keyToShard(k, ts.config.nshards) === chosen) ?? w.focus;
  await sleep(at);
  for (let t = 0; chosen !== undefined && !w.acked.has(chosen) && t < 1500; t++) await sleep(1);
  w.readOnly = true;
  for (let t = 0; w.writing.size > 0 && t < 3000; t++) await sleep(1);
  const victim = w.writing.size > 0 ? undefined : chain ? chosen : stopper.pickVictim(rng);
  let planned = false;
  if (victim !== undefined && stopper.canStop(victim)) {
    stopper.stop(victim, 'while the clients only read (no write in flight)');
    const stoppedAt = performance.now();
    await sleep(20 + rng.float() * 200);
    // With a chain, another copy must have led the victim's shard meanwhile: a get of it answered since the stop.
    for (let t = 0; chain && (w.read.get(victim) ?? -1) <= stoppedAt && t < 1500; t++) await sleep(1);
    // The restart waits for the reads in flight too (the handout promises nothing for a restart in the middle of one),
    // and for the servers' own calls to one another: a shard's copy sent while the victim was away, still on its way
    // when the victim leads again, would land on the copies made after it (the handout's model restarts a server
    // only into a quiet cluster; the sweep caught the reference failing on 5 of 1,000 seeds when it did not wait).
    w.paused = true;
    for (let t = 0; (w.busy > 0 || ts.peerCallsPending() > 0) && t < 3000; t++) await sleep(1);
    w.paused = false;
    if (w.busy === 0 && ts.peerCallsPending() === 0 && stopper.canRestart(victim)) {
      stopper.restart(victim, 'after the reads (it missed no write), with no operation in flight');
      // It may lead again now: stop it once more in the middle of a write, soon.
      trigger.plan({
        at: performance.now() + (chain ? 0 : rng.float() * 300),
        kind: 'peer',
        among: [victim],
        own: true,
        ...(chain && { relTo: chain.relTo, early: chain.early, follow: chain.follow }),
      });
      planned = true;
    }
  }
  // A chain that could not start this way will not come: the fault phase need not wait for it.
  if (chain && !planned) trigger.chainOpen = false;
  w.readOnly = false;
}

/**
 * Cuts the links from the other servers to one server (and some of its links to them) for a while, all of them
 * running: the servers cannot reach it, the clerks still can. Half the time that server is the first running one of
 * the shard of the key the clients favour, while they read it through the other copies.
 */
async function cutLinks(ts: Lab1Tester, rng: Rng, w: Workload, story: Story): Promise<void> {
  await sleep(rng.float() * SHARD_FAULT_MS * 0.7);
  const hot = shardServers(keyToShard(w.focus ?? w.keys[0], ts.config.nshards), ts.config).find((s) => ts.isRunning(s));
  const target = hot !== undefined && rng.chance(0.5) ? hot : rng.int(ts.nservers);
  const ms = 100 + rng.float() * 600;
  const links: [number, number][] = [];
  for (let s = 0; s < ts.nservers; s++) {
    if (s === target) continue;
    links.push([s, target]);
    if (rng.chance(0.5)) links.push([target, s]);
  }
  story.tell(`cut the links ${links.map(([a, b]) => `${a}->${b}`).join(' ')} for ${ms.toFixed(0)} ms`);
  for (const [a, b] of links) ts.setLink(a, b, false);
  await sleep(ms);
  for (const [a, b] of links) if (ts.isRunning(a) && ts.isRunning(b)) ts.setLink(a, b, true);
}

/**
 * How long a cut between two copies of a shard lasts (virtual ms): longer than a small budget of re-sends takes
 * (each lost request times out within 100 ms), so that a primary that gives up on a running backup does so.
 */
const PAIR_CUT_MS = 1000;
const PAIR_CUT_SPREAD_MS = 800;
/** The share of long cuts in which the next copy stops in the middle of the cut (instead of the first one at its end). */
const BACKUP_STOP_SHARE = 0.35;

/**
 * The round's first fault: cuts the links both ways between the first copy of a shard (its primary, under the usual
 * design) and the next copy, for long, while the clients favour a key of that shard; then stops the first copy, so
 * that the next one, which serves the shard from then on, must hold every write acknowledged meanwhile. No other stop
 * comes before, nor until a get of the shard has been answered after that stop. In some rounds (drawn from their own
 * stream, `backupStops`, so that the rest of the round draws what it drew before) the next copy stops instead, in the
 * middle of the cut, while the first one's copies of writes to it are being lost: the first must notice that the
 * copy it waits for stopped, and go on serving the shard.
 */
async function cutPair(
  ts: Lab1Tester,
  rng: Rng,
  backupStops: Rng,
  w: Workload,
  stopper: Stopper,
  trigger: StopTrigger,
  story: Story,
): Promise<void> {
  trigger.hold = true;
  await sleep(rng.float() * SHARD_FAULT_MS * 0.3);
  const copies = (sh: number) => shardServers(sh, ts.config).filter((s) => ts.isRunning(s));
  const shards = [...Array(ts.config.nshards).keys()].filter(
    (sh) => copies(sh).length >= 2 && stopper.canStop(copies(sh)[0]),
  );
  if (shards.length === 0) return void (trigger.hold = false);
  const shard = rng.pick(shards);
  const [first, next] = copies(shard);
  w.focus = w.keys.find((k) => keyToShard(k, ts.config.nshards) === shard) ?? w.focus;
  const ms = PAIR_CUT_MS + rng.float() * PAIR_CUT_SPREAD_MS;
  story.tell(
    `cut the links ${first}->${next} and ${next}->${first} (both copies of shard ${shard}) for ${ms.toFixed(0)} ms`,
  );
  ts.setLink(first, next, false);
  ts.setLink(next, first, false);
  if (backupStops.chance(BACKUP_STOP_SHARE)) {
    const at = ms * (0.3 + 0.4 * backupStops.float());
    await sleep(at);
    if (stopper.canStop(next))
      stopper.stop(next, `in the middle of the cut (server ${first}'s copies of writes to it were being lost)`);
    await sleep(ms - at);
    if (ts.isRunning(next)) ts.setLink(first, next, true);
    if (ts.isRunning(next)) ts.setLink(next, first, true);
    trigger.hold = false;
    return;
  }
  await sleep(ms);
  if (stopper.canStop(first)) {
    stopper.stop(first, `as its links with server ${next} healed (server ${next} now serves shard ${shard})`);
    const stoppedAt = performance.now();
    for (let t = 0; (w.read.get(shard) ?? -1) <= stoppedAt && t < 1500; t++) await sleep(1);
  }
  ts.setLink(first, next, true);
  ts.setLink(next, first, true);
  trigger.hold = false;
}

/** A round's stop points: where every server holds every shard, a takeover chain stepped by round first. */
function roundStops(
  rng: Rng,
  round: number,
  layout: (typeof LAYOUTS)[number],
  start: number,
): { chain: (typeof CHAINS)[number] | undefined; points: StopPoint[] } {
  // Where every server holds every shard, the round's first stop is a takeover chain, its variant stepped by round
  // (as PCT steps its slowest channel): see CHAINS. A chain that starts with a restart begins with the interlude.
  // The round's other stops then come after the chain's time.
  const full = LAYOUTS.slice(0, round).filter((l) => l.nreplicas === l.nshards).length;
  const chain = layout.nreplicas === layout.nshards ? CHAINS[full % CHAINS.length] : undefined;
  const points: StopPoint[] = Array.from({ length: 1 + rng.int(layout.nreplicas) }, () => ({
    at: start + (chain ? 0.6 + 0.4 * rng.float() : rng.float()) * SHARD_FAULT_MS * 0.8,
    kind: rng.pick(['reply-lost', 'reply-sent', 'peer', 'peer'] as const),
    own: rng.chance(0.8),
    toward: rng.chance(0.5) ? rng.int(layout.nshards) : undefined,
  }));
  if (chain?.restart === false)
    points.unshift({
      at: start + rng.float() * SHARD_FAULT_MS * 0.3,
      kind: 'peer',
      own: true,
      relTo: chain.relTo,
      early: chain.early,
      follow: chain.follow,
      creates: chain.creates,
    });
  return { chain, points };
}

/** One round of TestNemesisShards. */
async function shardRound(ctx: Ctx, round: number): Promise<void> {
  const rng = keyedRng(ctx.seed, `lab1-nemesis-shards-${round}`);
  const layout = round < LAYOUTS.length ? LAYOUTS[round] : rng.pick(LAYOUTS);
  const ts = new Lab1Tester(ctx, { ...layout, reliable: true });
  const story = new Story(ctx, round);
  const plan = drawPlan(rng, round);
  const { line, pct } = applyNetworkFaults(ts, plan, rng);
  story.tell(`${layout.nshards} servers, ${layout.nreplicas} copies of each shard; network: ${line}`);
  const w = newWorkload(roundKeys(rng, layout.nshards, 2), rng.pick([0, 0.03, 0.1]), {
    nshards: layout.nshards,
    freshShare: 0.1,
  });
  story.tell(
    `${SHARD_CLIENTS} clients on keys ${w.keys.map((k) => show(k)).join(' ')} (and fresh keys), ${SHARD_READERS} more that only read, mostly ${show(w.keys[0])}`,
  );
  const stopper = new Stopper(ts, w, story);
  const start = performance.now();
  const { chain, points } = roundStops(rng, round, layout, start);
  const trigger = new StopTrigger(ts, pct, points, stopper, w, rng, story, {
    chain: chain !== undefined,
    reliable: plan.reliable,
  });
  // The fault phase lasts a while longer if the round's chain (or long cut) has not ended by then (a slow network:
  // held replies, heavy losses), so that every graded run meets every chain; the clients keep working until it ends.
  let pairOpen = false;
  const faultsOn = () => (trigger.chainOpen || pairOpen) && performance.now() < start + SHARD_FAULT_MS + CHAIN_GRACE_MS;
  ts.net.setSchedule(trigger);
  const nemesis: Promise<void>[] = [];
  if (chain?.restart) nemesis.push(interlude(ts, rng, w, stopper, trigger, rng.float() * SHARD_FAULT_MS * 0.15, chain));
  else if (!chain) {
    // Without a chain, the round begins with a long cut between two copies (in place of a short cut); the read-only
    // interlude, if any, comes after it.
    pairOpen = true;
    const backupStops = keyedRng(ctx.seed, `lab1-nemesis-shards-backup-stops-${round}`);
    const pair = cutPair(ts, rng, backupStops, w, stopper, trigger, story).finally(() => (pairOpen = false));
    const at = rng.float() * SHARD_FAULT_MS * 0.25;
    nemesis.push(rng.chance(0.7) ? pair.then(() => interlude(ts, rng, w, stopper, trigger, at)) : pair);
  }
  if (chain && rng.chance(0.6)) nemesis.push(cutLinks(ts, rng, w, story));
  const clerks = Array.from({ length: SHARD_CLIENTS }, (_, cli) => workloadClerk(ts, rng, cli));
  // The readers ask a different server first each (where every server holds every shard): through every copy.
  const rotated = (first: number) => [...Array(ts.nservers).keys()].map((j) => (first + j) % ts.nservers);
  for (let r = 0; r < SHARD_READERS; r++) clerks.push(workloadClerk(ts, rng, SHARD_CLIENTS + r, rotated(r)));
  const work = runClients(SHARD_CLIENTS + SHARD_READERS, SHARD_FAULT_MS, (cli, done) =>
    runClient(
      keyedRng(ctx.seed, `lab1-nemesis-shards-${round}-${cli}`),
      clerks[cli],
      cli,
      w,
      () => done() && !faultsOn(),
      cli >= SHARD_CLIENTS,
    ),
  );
  await sleep(SHARD_FAULT_MS);
  while (faultsOn()) await sleep(10);
  await Promise.all(nemesis);
  healNetwork(ts.net);
  ts.onCall = undefined;
  story.tell('faults healed (stopped servers stay stopped)');
  const counts = await settle(ts, work, story, "the clients' operations");
  story.tell(`operations per client: ${counts.join(' ')}`);
  // Fresh reads through every server first (when every server holds every shard), then with one copy left per shard.
  const firsts = layout.nreplicas === layout.nshards ? [...Array(ts.nservers).keys()] : [0];
  const readers = firsts.map((s, i) =>
    workloadClerk(
      ts,
      rng,
      SHARD_CLIENTS + SHARD_READERS + i,
      [...Array(ts.nservers).keys()].map((j) => (s + j) % ts.nservers),
    ),
  );
  await readEveryKey(ts, w.keys, readers, story);
  for (const s of shuffled(rng, ts.nservers))
    if (stopper.canStop(s)) stopper.stop(s, 'to leave one copy of each shard');
  await readEveryKey(ts, w.keys, [ts.makeRecordingClerk(SHARD_CLIENTS + SHARD_READERS + ts.nservers)], story);
  checkRound(ts, story);
  if (layout.nreplicas < layout.nshards) await refusalProbe(ts, rng, story);
}

/**
 * A clerk told that one server holds every key asks it for a key of a shard it does not hold: the server must refuse
 * (promise 8), so the get must not finish.
 */
async function refusalProbe(ts: Lab1Tester, rng: Rng, story: Story): Promise<void> {
  const running = [...Array(ts.nservers).keys()].filter((i) => ts.isRunning(i));
  const s = rng.pick(running);
  const shard = [...Array(ts.config.nshards).keys()].find((sh) => !shardServers(sh, ts.config).includes(s))!;
  const key = String(shard + ts.config.nshards * rng.int(3));
  story.tell(`a clerk told that server ${s} holds every shard asks it for key ${show(key)} (shard ${shard})`);
  let answered: string | undefined;
  ts.makeClerk({ nshards: 1, nreplicas: 1 }, [s])
    .get(key)
    .then((v) => (answered = v));
  await sleep(500);
  check(
    answered === undefined,
    () =>
      `${story}: server ${s}, which does not hold shard ${shard}, answered get(${show(key)}) with ${show(answered)}. A server must refuse a key of a shard it ` +
      'does not hold (an error of your choosing, so that a clerk with a wrong layout keeps trying elsewhere), neither serving it nor passing it on.',
  );
}

export const nemesisShards: TestDefinition<Lab1Impl> = {
  name: 'TestNemesisShards',
  description:
    '3-5 servers, 2-3 copies per shard, 6 clients on random keys through every server, random network faults, links between two copies cut for over a second (then one of them stopped, sometimes in the middle of the cut), servers stopped at the worst moments (as they reply, as they copy a write), read-only restarts; one copy left at the end: no append lost or doubled, linearizable, progress',
  generic: true,
  // Ten rounds of up to 8 s of faults (a chain's round may last longer) and their settling: 37-76 s on 300 seeds.
  virtualLimitMs: 200_000,
  async run(ctx: Ctx) {
    for (let round = 0; round < SHARD_ROUNDS; round++) await shardRound(ctx, round);
  },
};
