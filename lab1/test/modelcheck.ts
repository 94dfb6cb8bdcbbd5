/**
 * TestModelKV: random call sequences (fast-check's model-based commands) from a grammar of edge keys and values, run
 * one call at a time through the clerks on the lossy network and compared with the executable specification after
 * each call; a failure is shrunk to the shortest failing sequence found and printed as a replay.
 */
import { fc } from '../../suite/fast-check';
import { sleep } from '../../world';
import { OBJECT_KEYS } from '../../suite/nemesis/values';
import { TestDefinition, TestContext, TestFailure } from '../../suite';
import type { ClusterConfig, KVClerk } from '../rpc';
import { Lab1Impl, Lab1Tester, show, within } from './harness';
import { KvSpec } from './spec';

type Ctx = TestContext<Lab1Impl>;

/** Three servers, three shards, two copies each: every server holds two shards and refuses the third. */
const LAYOUT: ClusterConfig = { nshards: 3, nreplicas: 2 };
/** Clerks taking turns (one call at a time in all, so the specification's order is the calls' order). */
const CLERKS = 2;
/** Sequences tried per run, and the longest sequence. */
const RUNS = 12;
const MAX_CALLS = 20;
/** Virtual time one call may take on the lossy network (ms). */
const SETTLE_MS = 10_000;
/** How long a server that does not hold a key's shard must keep refusing it (virtual ms). */
const REFUSE_MS = 300;
/** A value of a few KiB (a huge value for the wire, cheap for the heap). */
const HUGE = 'h'.repeat(4096);

/** Keys at every edge: empty, huge, non-ASCII, numeric-looking (some not shard numbers), prototype-named. */
const KEYS: readonly string[] = [
  ...OBJECT_KEYS,
  '',
  '0',
  '1',
  '2',
  '10',
  '007',
  '-1',
  '1e3',
  '2.5',
  ' 3',
  '9007199254740993',
  'ключ',
  '🔑',
  'a\u0000b',
  'k'.repeat(1000),
];

/** Keys most calls go to: a numeric one, a prototype-named one, the empty one. */
const HOT_KEYS: readonly string[] = ['0', '__proto__', ''];

/** What a write sends: a literal, or (resolved when the call runs) the value the key holds or held before its last write. */
type ValueArg = { literal: string } | 'held' | 'held before';

/** The value a write sends, for the replay. */
function showArg(arg: ValueArg): string {
  if (arg === 'held') return '<the value it holds>';
  if (arg === 'held before') return '<the value it held before its last write>';
  return show(arg.literal.length > 40 ? `${arg.literal.slice(0, 12)}…(${arg.literal.length} chars)` : arg.literal);
}

/** Values at every edge: empty, huge, non-ASCII, NUL, numeric-looking, prototype-named; and the held ones. */
const valueArb = (): fc.Arbitrary<ValueArg> =>
  fc.oneof(
    fc.constantFrom<ValueArg>('held', 'held before', { literal: '' }),
    fc.constantFrom('x', '0', '00', '1e3', '__proto__', 'é😀', '\u0000', ' ', HUGE).map((literal) => ({ literal })),
    fc.string({ maxLength: 6 }).map((literal) => ({ literal })),
  );

/** What the calls run on: the cluster, its clerks, and what each step did (for the failure's message). */
interface Real {
  ts: Lab1Tester;
  clerks: KVClerk[];
}

/** Fails the sequence at this call: fast-check then shrinks it. */
function mismatch(message: string): never {
  throw new Error(message);
}

/** One call of the grammar: run it, compare with the specification, and print itself for the replay. */
abstract class Call implements fc.AsyncCommand<KvSpec, Real> {
  check(): boolean {
    return true;
  }
  abstract run(m: KvSpec, r: Real): Promise<void>;
  abstract toString(): string;
}

/** What a value argument is, once the call runs. */
function resolve(m: KvSpec, key: string, arg: ValueArg): string {
  if (arg === 'held') return m.get(key);
  if (arg === 'held before') return m.heldBefore(key);
  return arg.literal;
}

/** A call through a clerk, failing the sequence if it does not finish. */
function finish<T>(p: Promise<T>, what: string): Promise<T> {
  return within(p, SETTLE_MS, () => `${what} did not finish within ${SETTLE_MS / 1000} s on the lossy network.`);
}

class Get extends Call {
  readonly clerk: number;
  readonly key: string;
  constructor(clerk: number, key: string) {
    super();
    this.clerk = clerk;
    this.key = key;
  }
  async run(m: KvSpec, r: Real): Promise<void> {
    const got = await finish(r.clerks[this.clerk].get(this.key), `${this}`);
    const want = m.get(this.key);
    if (got !== want) mismatch(`${this} returned ${show(got)}; the specification says ${show(want)}.`);
  }
  toString(): string {
    return `clerk ${this.clerk}: get(${show(this.key)})`;
  }
}

class Put extends Call {
  readonly clerk: number;
  readonly key: string;
  readonly value: ValueArg;
  constructor(clerk: number, key: string, value: ValueArg) {
    super();
    this.clerk = clerk;
    this.key = key;
    this.value = value;
  }
  async run(m: KvSpec, r: Real): Promise<void> {
    const value = resolve(m, this.key, this.value);
    await finish(r.clerks[this.clerk].put(this.key, value), `${this}`);
    m.put(this.key, value);
  }
  toString(): string {
    return `clerk ${this.clerk}: put(${show(this.key)}, ${showArg(this.value)})`;
  }
}

class Append extends Call {
  readonly clerk: number;
  readonly key: string;
  readonly arg: ValueArg;
  constructor(clerk: number, key: string, arg: ValueArg) {
    super();
    this.clerk = clerk;
    this.key = key;
    this.arg = arg;
  }
  async run(m: KvSpec, r: Real): Promise<void> {
    const arg = resolve(m, this.key, this.arg);
    const old = await finish(r.clerks[this.clerk].append(this.key, arg), `${this}`);
    const want = m.append(this.key, arg);
    if (old !== want)
      mismatch(
        `${this} returned ${show(old)}; the specification says it returns the value before, ${show(want)}` +
          (old.length > want.length && old.startsWith(want)
            ? ' (it looks like a write was executed twice: a re-send run again).'
            : '.'),
      );
  }
  toString(): string {
    return `clerk ${this.clerk}: append(${show(this.key)}, ${showArg(this.arg)})`;
  }
}

/** A get sent only to `server` by a clerk told that one server holds everything: answered exactly where the shard lives. */
class AskOne extends Call {
  readonly server: number;
  readonly key: string;
  constructor(server: number, key: string) {
    super();
    this.server = server;
    this.key = key;
  }
  async run(m: KvSpec, r: Real): Promise<void> {
    const holders = KvSpec.holders(this.key, LAYOUT);
    const reply = r.ts.makeClerk({ nshards: 1, nreplicas: 1 }, [this.server]).get(this.key);
    if (holders.includes(this.server)) {
      const got = await finish(reply, `${this}`);
      if (got !== m.get(this.key))
        mismatch(`${this} returned ${show(got)}; the specification says ${show(m.get(this.key))}.`);
      return;
    }
    const answered = await Promise.race([reply.then(() => true), sleep(REFUSE_MS).then(() => false)]);
    if (answered)
      mismatch(
        `${this} was answered, but the key's shard lives on servers ${holders.join(' and ')} only: a server must refuse a key of a shard it does not hold.`,
      );
  }
  toString(): string {
    return `a clerk with a wrong layout and an end to server ${this.server} only: get(${show(this.key)})`;
  }
}

/** The grammar: every call kind, on any clerk, edge key and edge value. */
function grammar(): fc.Arbitrary<Iterable<fc.AsyncCommand<KvSpec, Real>>> {
  const clerk = fc.nat(CLERKS - 1);
  // Half the calls on three hot keys, so that a later call reads what an earlier one wrote.
  const key = fc.oneof(fc.constantFrom(...HOT_KEYS), fc.constantFrom(...KEYS));
  return fc.commands(
    [
      fc.tuple(clerk, key).map(([c, k]) => new Get(c, k)),
      fc.tuple(clerk, key, valueArb()).map(([c, k, v]) => new Put(c, k, v)),
      fc.tuple(clerk, key, valueArb()).map(([c, k, v]) => new Append(c, k, v)),
      // Writes twice as often as reads: each is a chance for a lost reply and its re-send.
      fc.tuple(clerk, key, valueArb()).map(([c, k, v]) => new Put(c, k, v)),
      fc.tuple(clerk, key, valueArb()).map(([c, k, v]) => new Append(c, k, v)),
      fc.tuple(fc.nat(LAYOUT.nshards - 1), key).map(([s, k]) => new AskOne(s, k)),
    ],
    { maxCommands: MAX_CALLS },
  );
}

/** The failure's message: the promise broken, at which call, and the shortest failing sequence found, as a replay. */
function replay(calls: readonly Call[], error: unknown, shrinks: number): string {
  const why = error instanceof Error ? error.message : String(error);
  const steps = calls.map((c, i) => `  ${i + 1}. ${c}`).join('\n');
  return (
    `A sequence of ${calls.length} call${calls.length === 1 ? '' : 's'}, made one at a time on the lossy network (3 servers, 3 shards, 2 copies each), ` +
    `broke the handout's specification (get returns the value or "", put sets it, append returns the value before and adds once, every call takes effect exactly once, ` +
    `a server answers exactly the keys of the shards it holds) at its last call: ${why}\n` +
    `Shortest failing sequence found (after ${shrinks} shrinking step${shrinks === 1 ? '' : 's'}):\n${steps}\n` +
    'Likely causes: a re-sent write executed again (no duplicate table, or a re-send given a new request number); a store kept in a plain object ' +
    '(keys such as "__proto__" or "constructor"); a server that serves or forwards a key of a shard it does not hold; append returning the new value; ' +
    'a missing key read as something other than "".'
  );
}

export const modelKV: TestDefinition<Lab1Impl> = {
  name: 'TestModelKV',
  description: `${RUNS} random sequences of up to ${MAX_CALLS} calls (get, put, append by 2 clerks; gets sent to one server by a clerk with a wrong layout) on edge keys and values (empty, huge, non-ASCII, numeric-looking, prototype-named; the value held or held before; empty appends), drawn per seed, on the lossy network with 3 servers and 2 copies per shard: every result as the handout's specification says; the failure shrunk and printed as a replay`,
  virtualLimitMs: 900_000,
  async run(ctx: Ctx) {
    const result = await fc.check(
      fc.asyncProperty(grammar(), async (calls) => {
        const ts = new Lab1Tester(ctx, { ...LAYOUT, reliable: false });
        const clerks = Array.from({ length: CLERKS }, () => ts.makeClerk());
        await fc.asyncModelRun(() => ({ model: new KvSpec(), real: { ts, clerks } }), calls);
      }),
      { seed: ctx.seed % 2 ** 31, numRuns: RUNS },
    );
    if (!result.failed) return;
    // fast-check hands back its wrappers of the calls, each marked once it ran: the replay stops at the failing one.
    const wrapped = [...(result.counterexample?.[0] ?? [])] as unknown as { hasRan: boolean; cmd: Call }[];
    const ran = wrapped.filter((w) => w.hasRan).map((w) => w.cmd);
    throw new TestFailure(replay(ran, result.errorInstance, result.numShrinks));
  },
};
