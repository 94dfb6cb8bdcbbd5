/**
 * Lab 1's named tests (MIT 6.5840's 2024 key/value lab, with the static sharding of our Python port). Each carries
 * its points (the suite's list, at the end) and runs in its own simulated world, so a seed replays it exactly:
 * npm run grade lab1 -- --test <Name> --seed <N>
 */
import { IMPL_FILES, load } from '../load';
import { runClients } from '../../suite/clients';
import { keyedRng, sleep, World } from '../../world';
import { groupDigits } from '../../suite/digits';
import { lighterWeighing } from '../../suite/memory';
import { LabSuite, scored, TestDefinition, TestContext, check, Monitors } from '../../suite';
import { monitored } from '../../suite/monitors';
import { keyToShard, shardServers } from '../rpc';
import type { ClusterConfig, KVClerk } from '../rpc';
import {
  oddKeys,
  readAtLaggingCopy,
  replicaOrder,
  replicateRetries,
  stopMidReplicate,
  retakeover,
  getAfterTakeover,
  syncBesideWrite,
  getDuringReplicate,
  takeoverReplacesCopy,
  lateCopy,
  takeoverOrder,
  unseenLead,
  restartMidReplicate,
  unreliableMixed,
} from './failover';
import { CAUSES_DUPLICATE, Lab1Impl, Lab1Tester, show, within } from './harness';
import { nemesisKV, nemesisShards } from './nemesis';
import { restartMidWrite } from './restarts';
import { modelKV } from './modelcheck';

type Ctx = TestContext<Lab1Impl>;

/** Rounds and virtual length of a round in the append/get workloads (MIT: 3 rounds of 1 s). */
const ROUNDS = 3;
const ROUND_MS = 1000;
/** How long a test waits for operations it expects to finish once the clients stop (virtual ms). */
const SETTLE_MS = 10_000;

/** The single-server layout of parts 1 and 2. */
const SINGLE: ClusterConfig = { nshards: 1, nreplicas: 1 };

/** The random stream of this run (the world's, so runs replay). */
function rng(ctx: Ctx) {
  return ctx.world!.rng;
}

/** The string client `cli` appends as its `j`-th append (MIT's format). */
function element(cli: number, j: number): string {
  return `x ${cli} ${j} y`;
}

/**
 * Checks that `v` holds each of client `cli`'s appends numbered `js` exactly once and in that order (the
 * value is a run of "x <client> <number> y" elements, so one pass over it finds them all).
 */
function checkAppends(cli: number, key: string, v: string, js: readonly number[], hint = ''): void {
  const seen: number[] = [];
  for (const m of v.matchAll(/x (\d+) (\d+) y/g)) if (Number(m[1]) === cli) seen.push(Number(m[2]));
  const count = new Map<number, number>();
  for (const j of seen) count.set(j, (count.get(j) ?? 0) + 1);
  const missing = js.find((j) => !count.has(j));
  check(
    missing === undefined,
    () =>
      `Key ${show(key)} is missing client ${cli}'s append ${show(element(cli, missing!))} (the append returned, so it must have happened${hint}). Value: ${show(v)}. Likely causes: the clerk took a refusal (ErrRetry, ErrWrongShard) for success; a write acknowledged before every running copy had it; a copy replaced without it when a replica took over.`,
  );
  const twice = js.find((j) => count.get(j)! > 1);
  check(
    twice === undefined,
    () =>
      `Key ${show(key)} holds client ${cli}'s append ${show(element(cli, twice!))} ${count.get(twice!)} times: a re-sent append was executed again. Value: ${show(v)}`,
  );
  const extra = seen.find((j) => !js.includes(j));
  check(
    extra === undefined,
    () =>
      `Key ${show(key)} holds ${show(element(cli, extra!))}, which client ${cli} never appended to this key. Value: ${show(v)}`,
  );
  const wrong = seen.findIndex((j, i) => j !== js[i]);
  check(
    wrong < 0,
    () =>
      `Key ${show(key)} holds client ${cli}'s appends out of order: ${show(element(cli, seen[wrong]))} where ${show(element(cli, js[wrong]))} was expected${hint ? " (do the replicas apply a shard's operations in the order the primary did?)" : ''}. Value: ${show(v)}`,
  );
}

/** 0, 1, ..., n-1. */
function upTo(n: number): number[] {
  return [...Array(n).keys()];
}

/** MIT's generic test: clients append to and read their own key for 3 rounds of 1 s; nothing lost, nothing doubled. */
function genericTest(name: string, nclients: number, reliable: boolean): TestDefinition<Lab1Impl> {
  return {
    name,
    description: `${nclients} client${nclients > 1 ? 's' : ''}, ${reliable ? 'reliable' : 'unreliable'} network: ${ROUNDS} rounds of ${ROUND_MS / 1000} s of appends and gets on one server; every reply exactly the value before it; every append once, in order`,
    async run(ctx: Ctx) {
      // Every answer is judged as it comes (below), so the history keeps only what is still running.
      const ts = new Lab1Tester(ctx, { ...SINGLE, reliable, history: 'unfinished' });
      const checker = ts.makeRecordingClerk(nclients);
      for (let round = 0; round < ROUNDS; round++) {
        const work = runClients(nclients, ROUND_MS, async (cli, done) => {
          const ck = ts.makeRecordingClerk(cli);
          const key = String(cli);
          let last = '';
          await ck.put(key, last);
          let j = 0;
          while (!done()) {
            if (rng(ctx).chance(0.5)) {
              const nv = element(cli, j);
              const old = await ck.append(key, nv);
              check(
                old === last || !old.includes(nv),
                () =>
                  `round ${round}, client ${cli}: append(${show(key)}, ${show(nv)}) returned an old value that already contains ${show(nv)}: the append was executed twice. Returned: ${show(old)}. ${CAUSES_DUPLICATE}`,
              );
              check(
                old === last,
                () =>
                  `round ${round}, client ${cli}: append(${show(key)}, ${show(nv)}) returned ${show(old)}; expected the value before the append, ${show(last)} (only this client writes this key).`,
              );
              last += nv;
              j++;
            } else {
              const v = await ck.get(key);
              check(
                v === last,
                () =>
                  `round ${round}, client ${cli}: get(${show(key)}) returned ${show(v)}; expected ${show(last)} (only this client writes this key).`,
              );
            }
          }
          return { appends: j, last };
        });
        const ends = await within(
          work,
          ROUND_MS + SETTLE_MS,
          () =>
            `round ${round}: the clients' operations did not finish within ${SETTLE_MS / 1000} s after the round ended. Does the clerk keep re-sending after a lost message?`,
        );
        for (let cli = 0; cli < nclients; cli++) {
          const key = String(cli);
          const v = await checker.get(key);
          checkAppends(cli, key, v, upTo(ends[cli].appends));
          check(
            v === ends[cli].last,
            () =>
              `round ${round}: after the round, get(${show(key)}) returned ${show(v)}; expected ${show(ends[cli].last)}, the value client ${cli} last saw (nothing has written the key since).`,
          );
        }
        ctx.log(`round ${round}: appends per client ${ends.map((e) => e.appends).join(' ')}`);
      }
      // One client per key, each of its calls checked against exactly the value before it, and each round's last
      // read too: that is all linearizability asks of these histories, so no search is needed (it took half the
      // test's time, comparing long values).
    },
  };
}

/**
 * TestUnreliableOneKey's outages: the server is stopped during an append, each time for a while drawn per seed from
 * these ranges (virtual ms): once 7 minutes to an hour (a clerk that gives up after a few thousand tries, or after
 * some minutes), then twice briefer (a back-off far past 100 ms shows at each return with some chance).
 */
const OUTAGES_MS: ReadonlyArray<readonly [number, number]> = [
  [420_000, 3_600_000],
  [20_000, 40_000],
  [20_000, 40_000],
];
/** How soon after the server is back the append made during the outage must return (virtual ms). */
const AFTER_OUTAGE_MS = 1000;

/**
 * The server stops for OUTAGE_MS while a clerk appends, then runs again: the clerk must still be trying, and not
 * after a long pause, so the append returns within AFTER_OUTAGE_MS.
 */
async function appendThroughOutage(
  ctx: Ctx,
  ts: Lab1Tester,
  ck: KVClerk,
  [from, to]: readonly [number, number],
  n: number,
): Promise<void> {
  const outage = from + keyedRng(ctx.seed, `lab1-outage-${n}`).int(to - from + 1);
  ts.stopServer(0);
  let outcome: string | undefined;
  const appending = ck.append('k', `after-outage-${n}`).then(
    () => (outcome = 'returned'),
    (err: unknown) => (outcome = `threw ${String(err)}`),
  );
  await sleep(outage);
  ts.startServer(0);
  const backAt = World.current().now();
  await Promise.race([appending, sleep(AFTER_OUTAGE_MS)]);
  ctx.log(
    `the server was stopped ${outage} ms; the append ${outcome ?? 'was still waiting'} ${World.current().now() - backAt} ms after it came back`,
  );
  check(
    outcome === 'returned',
    () =>
      `The server was stopped for ${(outage / 1000).toFixed(1)} virtual seconds while a clerk's append("k", "after-outage-${n}") was under way (outage ${n + 1} of ${OUTAGES_MS.length}); it then ran again, and ` +
      `${outcome === undefined ? `${AFTER_OUTAGE_MS} ms later the append had still not returned` : `the append ${outcome}`}. ` +
      `Expected: the clerk keeps trying until an answer arrives, however long that takes, waiting about 100 ms at most between tries, so the append returns within about ${AFTER_OUTAGE_MS} ms of the server's return. ` +
      'Likely causes: a clerk that gives up after a number of tries or a time limit (throwing, or returning a value it never got); a back-off that grows far past 100 ms (seconds between tries); a wait between tries that is never capped.',
  );
}

const unreliableOneKey: TestDefinition<Lab1Impl> = {
  name: 'TestUnreliableOneKey',
  description: `5 clients each append 10 times to one key on the unreliable network: all 50 appends once, each client's in order; then the server stops during an append, for ${OUTAGES_MS.map(([a, b]) => `${a / 1000}-${b / 1000}`).join(', then ')} virtual seconds (drawn), and each append must return within ${AFTER_OUTAGE_MS / 1000} s of the server's return`,
  // The appends' 30 s, the outages, and room for the rest.
  virtualLimitMs: 30_000 + OUTAGES_MS.reduce((sum, [, most]) => sum + most + AFTER_OUTAGE_MS, 0) + 60_000,
  async run(ctx: Ctx) {
    const nclients = 5;
    const upto = 10;
    const ts = new Lab1Tester(ctx, { ...SINGLE, reliable: false });
    const ck = ts.makeRecordingClerk(nclients);
    await ck.put('k', '');
    const work = runClients(nclients, 0, async (me) => {
      const myck = ts.makeRecordingClerk(me);
      for (let n = 0; n < upto; n++) {
        const nv = element(me, n);
        const old = await myck.append('k', nv);
        check(
          !old.includes(nv),
          () =>
            `client ${me}: append("k", ${show(nv)}) returned an old value that already contains ${show(nv)}: the append was executed twice. Returned: ${show(old)}. ${CAUSES_DUPLICATE}`,
        );
      }
    });
    await within(
      work,
      30_000,
      () =>
        `${nclients} clients could not finish ${upto} appends each within 30 s. Does the clerk keep re-sending after a lost message?`,
    );
    const v = await ck.get('k');
    for (let me = 0; me < nclients; me++) checkAppends(me, 'k', v, upTo(upto));
    check(
      v.length === nclients * upto * element(0, 0).length,
      () => `Key "k" should hold exactly the ${nclients * upto} appends, but it is ${show(v)}.`,
    );
    for (const [n, range] of OUTAGES_MS.entries()) await appendThroughOutage(ctx, ts, ck, range, n);
    ts.checkLinearizable();
  },
};

/** Keys "0".."9" with random values, written and checked through `ck`. */
async function putTenKeys(ctx: Ctx, ck: KVClerk): Promise<Map<string, string>> {
  const kv = new Map<string, string>();
  for (let i = 0; i < 10; i++) kv.set(String(i), rng(ctx).string(20));
  for (const [k, v] of kv) await ck.put(k, v);
  for (const [k, v] of kv) {
    const got = await ck.get(k);
    check(
      got === v,
      () => `get(${show(k)}) returned ${show(got)} right after put(${show(k)}, ${show(v)}) on a reliable network.`,
    );
  }
  ctx.countOps(2 * kv.size);
  return kv;
}

/**
 * MIT's probe of which keys still work: one fresh clerk per key, all started at once; counts the gets that
 * finish within 2 virtual seconds (the others keep trying in the background) and checks their values.
 */
/** The keys of `reached` that are not in `expected`, and those of `expected` not in `reached`. */
function keyDifference(
  reached: readonly string[],
  expected: readonly string[],
): { extra: string[]; missing: string[] } {
  return { extra: reached.filter((k) => !expected.includes(k)), missing: expected.filter((k) => !reached.includes(k)) };
}

async function countReachable(ctx: Ctx, kv: Map<string, string>, makeClerk: () => KVClerk): Promise<string[]> {
  const reached: string[] = [];
  const wrong: string[] = [];
  let crash: { error: unknown } | undefined;
  for (const [k, v] of kv) {
    makeClerk()
      .get(k)
      .then(
        (got) =>
          got === v ? reached.push(k) : wrong.push(`get(${show(k)}) returned ${show(got)}; expected ${show(v)}`),
        (error: unknown) => (crash ??= { error }),
      );
  }
  await new Promise((r) => setTimeout(r, 2000));
  ctx.countOps(reached.length + wrong.length);
  if (crash) throw crash.error;
  check(wrong.length === 0, () => `Wrong values: ${wrong.join('; ')}.`);
  return reached.sort();
}

const staticShards: TestDefinition<Lab1Impl> = {
  name: 'TestStaticShards',
  description:
    '3 servers, 2 replicas per shard: with servers 1 and 2 stopped only the keys held by server 0 answer; after a restart all do',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, { nshards: 3, nreplicas: 2, reliable: true });
    const ck = ts.makeClerk();
    const kv = await putTenKeys(ctx, ck);
    ts.stopServer(1);
    ts.stopServer(2);
    const onServer0 = [...kv.keys()].filter((k) => shardServers(keyToShard(k, 3), ts.config).includes(0));
    const reached = await countReachable(ctx, kv, () => ts.makeClerk());
    ctx.log(`with servers 1 and 2 stopped, ${reached.length} of 10 gets finished: keys ${reached.join(' ')}`);
    const { extra, missing } = keyDifference(reached, onServer0);
    check(
      extra.length === 0 && missing.length === 0,
      () =>
        `With servers 1 and 2 stopped, ${reached.length} of 10 gets finished (keys ${reached.join(' ') || 'none'}); expected exactly the ` +
        `${onServer0.length} keys whose shard lives on server 0 — its own shard or a shard it replicates (keys ${onServer0.join(' ')}). ` +
        (extra.length > 0
          ? `Keys ${extra.join(' ')} were answered although all their servers are stopped: is every key stored only on its shard's servers?`
          : `Keys ${missing.join(' ')} were not answered: does the clerk try the shard's next replica when one does not answer, and does a replica serve the shard when the servers before it are stopped?`),
    );
    ts.startServer(1);
    ts.startServer(2);
    const all = Promise.all(
      [...kv].map(async ([k, v]) => {
        const got = await ck.get(k);
        ctx.countOps();
        check(
          got === v,
          () => `After restarting servers 1 and 2, get(${show(k)}) returned ${show(got)}; expected ${show(v)}.`,
        );
      }),
    );
    await within(
      all,
      SETTLE_MS,
      () => `After restarting servers 1 and 2, not every key could be read within ${SETTLE_MS / 1000} s.`,
    );
  },
};

/** TestRejection's last gets, each passed on by server 0 to the primary of a shard it copies. */
const FORWARDED_GETS = 100;

const rejection: TestDefinition<Lab1Impl> = {
  name: 'TestRejection',
  description:
    'a clerk told that server 0 holds every key: server 0 answers exactly the keys of the shards it holds (the one it leads and the one it copies) and refuses the rest; then 100 gets of a key it copies, each passed on to the primary',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, { nshards: 3, nreplicas: 2, reliable: true });
    const kv = await putTenKeys(ctx, ts.makeClerk());
    const onServer0 = [...kv.keys()].filter((k) => shardServers(keyToShard(k, 3), ts.config).includes(0));
    // A clerk with a wrong layout (one shard, one replica) and an end to server 0 only sends every key there.
    const reached = await countReachable(ctx, kv, () => ts.makeClerk({ nshards: 1, nreplicas: 1 }, [0]));
    ctx.log(`through server 0 alone, ${reached.length} of 10 gets finished: keys ${reached.join(' ')}`);
    const { extra, missing } = keyDifference(reached, onServer0);
    check(
      extra.length === 0 && missing.length === 0,
      () =>
        `Asked only server 0, ${reached.length} of 10 gets finished (keys ${reached.join(' ') || 'none'}); expected exactly the ` +
        `${onServer0.length} keys of the shards server 0 holds (keys ${onServer0.join(' ')}). ` +
        (extra.length > 0
          ? `Keys ${extra.join(' ')} were answered: a server must refuse a key whose shard it does not hold (reply with an error, so that a clerk with an out-of-date layout keeps trying) instead of serving or forwarding it.`
          : `Keys ${missing.join(' ')} were not answered: server 0 must answer for its own shard and for the shards it copies. ` +
            'Likely causes: a backup that refuses a request instead of passing it to the shard’s primary and relaying the answer; ' +
            'a server that works out which shards it holds from the wrong layout (use its own ServerConfig, not the clerk’s); ' +
            'or a forward sent to a server that is not the shard’s primary.'),
    );
    // Last, a burst of gets that server 0 passes on to the primary of a shard it copies; the test ends right after,
    // so a timer set for each forward and never cleared is still live when the timers are counted.
    const copied = onServer0.find((k) => shardServers(keyToShard(k, 3), ts.config)[0] !== 0);
    if (copied === undefined) return;
    const through0 = ts.makeClerk({ nshards: 1, nreplicas: 1 }, [0]);
    for (let i = 0; i < FORWARDED_GETS; i++) {
      const got = await within(
        through0.get(copied),
        SETTLE_MS,
        () =>
          `get(${show(copied)}) through server 0, which copies its shard and passes it to the primary, did not finish within ${SETTLE_MS / 1000} s.`,
      );
      check(
        got === kv.get(copied),
        () =>
          `get(${show(copied)}) through server 0 (passed on to the shard's primary) returned ${show(got)}; expected ${show(kv.get(copied))}.`,
      );
      ctx.countOps();
    }
  },
};

const unreliableShards: TestDefinition<Lab1Impl> = {
  name: 'TestUnreliableShards',
  description:
    '5 servers, 5 shards, 3 replicas, unreliable network, primaries stopped between rounds: appends once and in order, linearizable',
  async run(ctx: Ctx) {
    const nclients = 5;
    const nkeys = 5;
    const ts = new Lab1Tester(ctx, { nshards: 5, nreplicas: 3, reliable: false });
    const checker = ts.makeRecordingClerk(nclients);
    /** appended[cli] lists, in order, the key of each append client cli made. */
    const appended: string[][] = Array.from({ length: nclients }, () => []);
    const stopAfter = [0, 2];
    for (let round = 0; round < ROUNDS; round++) {
      const work = runClients(nclients, ROUND_MS, async (cli, done) => {
        const ck = ts.makeRecordingClerk(cli);
        while (!done()) {
          const key = String(rng(ctx).int(nkeys));
          if (rng(ctx).chance(0.5)) {
            const j = appended[cli].length;
            appended[cli].push(key);
            const nv = element(cli, j);
            const old = await ck.append(key, nv);
            check(
              !old.includes(nv),
              () =>
                `round ${round}, client ${cli}: append(${show(key)}, ${show(nv)}) returned an old value that already contains ${show(nv)}: the append was executed twice. Returned: ${show(old)}. ${CAUSES_DUPLICATE}`,
            );
          } else {
            await ck.get(key);
          }
        }
      });
      const stopped = [...Array(ts.nservers).keys()].filter((s) => !ts.isRunning(s));
      await within(
        work,
        ROUND_MS + SETTLE_MS,
        () =>
          `round ${round}: the clients' operations did not finish within ${SETTLE_MS / 1000} s after the round ended` +
          (stopped.length > 0
            ? ` (stopped servers: ${stopped.join(', ')}; every shard still has a running replica, which must take over)`
            : '') +
          '.',
      );
      for (let k = 0; k < nkeys; k++) {
        const key = String(k);
        const v = await within(
          checker.get(key),
          SETTLE_MS,
          () => `round ${round}: get(${show(key)}) did not finish within ${SETTLE_MS / 1000} s.`,
        );
        for (let cli = 0; cli < nclients; cli++) {
          const js = appended[cli].flatMap((k, j) => (k === key ? [j] : []));
          checkAppends(cli, key, v, js, '; was it lost when a replica took over?');
        }
      }
      if (round < stopAfter.length) ts.stopServer(stopAfter[round]);
    }
    ts.checkLinearizable();
  },
};

// ---- Memory tests (MIT 2024's limits). What the cluster retains is measured as the heap freed when it is dropped.

const MiB = 1024 * 1024;
/** Size of the big values of TestMemGet, TestMemPut and TestMemAppend (MIT: 10 MiB). */
const BIG = 10 * MiB;
/**
 * What the cluster may still hold after a 10 MiB test: half a big value. A correct cluster keeps about 30 KiB; one
 * that keeps a single copy of the value keeps 10 MiB plus its own 30 KiB, so a bound of a whole value would leave a
 * margin of the cluster's size only (a CI machine once weighed such a server under it).
 */
const BIG_BOUND = BIG / 2;

/**
 * A fresh string of `bytes` random characters, stored flat on the JavaScript heap (a Buffer's large strings live
 * outside the heap), with no pattern a server could store in less.
 */
function bigValue(ctx: Ctx, bytes: number): string {
  return rng(ctx).text(bytes);
}

/** Runs `workload` on a fresh single-server cluster, then returns the bytes the cluster still retains. */
async function retainedAfter(
  ctx: Ctx,
  reliable: boolean,
  withClerks: boolean,
  workload: (ts: Lab1Tester) => Promise<void>,
): Promise<number> {
  // Servers and clerks from a private copy of the student's modules, so that top-level state is counted too.
  const ts = new Lab1Tester(ctx, { ...SINGLE, reliable, keepClerks: withClerks });
  await workload(ts);
  const bytes = await ts.measureRetained(withClerks);
  ctx.log(`the ${withClerks ? 'cluster' : 'server'} retains ${(bytes / 1024).toFixed(0)} KiB`);
  return bytes;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

const memGet: TestDefinition<Lab1Impl> = {
  name: 'TestMemGet',
  description:
    'two clients get a 10 MiB value, then it is overwritten: the server must not keep it (e.g. in a reply cache)',
  async run(ctx: Ctx) {
    // Weighed once more on a fresh cluster when over the bound, as TestMemPutManyClients is.
    const retained = await lighterWeighing(BIG_BOUND, () =>
      retainedAfter(ctx, false, true, async (ts) => {
        const ck0 = ts.makeClerk();
        const ck1 = ts.makeClerk();
        await ck0.put('k', bigValue(ctx, BIG));
        for (const [name, ck] of [
          ['ck0', ck0],
          ['ck1', ck1],
        ] as const) {
          const len = (await ck.get('k')).length;
          check(len === BIG, `${name}: get("k") returned a value of ${len} characters; expected the ${BIG} just put.`);
        }
        await ck0.put('k', '0');
      }),
    );
    check(
      retained < BIG_BOUND,
      `After the 10 MiB value was overwritten with "0", the cluster still retains ${mib(retained)} (less than ${mib(BIG_BOUND)} allowed). Do not remember the replies of gets: a get can simply be executed again.`,
    );
  },
};

const memPut: TestDefinition<Lab1Impl> = {
  name: 'TestMemPut',
  description:
    'one client puts a 10 MiB value, another overwrites it: the server must not keep it (e.g. in remembered arguments)',
  async run(ctx: Ctx) {
    // Weighed once more on a fresh cluster when over the bound, as TestMemPutManyClients is.
    const retained = await lighterWeighing(BIG_BOUND, () =>
      retainedAfter(ctx, true, true, async (ts) => {
        const ck0 = ts.makeClerk();
        const ck1 = ts.makeClerk();
        await ck0.put('k', bigValue(ctx, BIG));
        await ck1.put('k', '');
      }),
    );
    check(
      retained < BIG_BOUND,
      `After the 10 MiB value was overwritten with "", the cluster still retains ${mib(retained)} (less than ${mib(BIG_BOUND)} allowed). Remember at most what a re-sent request needs as its reply — a put's reply carries no value — not the request's arguments.`,
    );
  },
};

const memAppend: TestDefinition<Lab1Impl> = {
  name: 'TestMemAppend',
  description:
    'two clients each append 10 MiB to one key, then the second puts another key and the first overwrites the first: the server must keep neither the appended values, nor the old value, nor a reply of an earlier request',
  async run(ctx: Ctx) {
    // While the 20 MiB value lives, JavaScript shares its memory with the appended strings (a concatenation points
    // at its pieces), so kept arguments would cost nothing extra. Once the key is overwritten, what is still held
    // is what the server kept. ck1's last request is a put to another key: a table of replies kept per client and
    // key (not per client) would still hold ck1's 10 MiB reply for "k"; ck0 overwrites "k".
    // Weighed once more on a fresh cluster when over the bound, as TestMemPutManyClients is.
    const retained = await lighterWeighing(BIG_BOUND, () =>
      retainedAfter(ctx, true, true, async (ts) => {
        const ck0 = ts.makeClerk();
        const ck1 = ts.makeClerk();
        const old0 = await ck0.append('k', bigValue(ctx, BIG));
        check(old0 === '', `ck0: the first append to "k" returned ${show(old0)}; expected "" (the key did not exist).`);
        const old1 = await ck1.append('k', bigValue(ctx, BIG));
        check(
          old1.length === BIG,
          `ck1: the second append returned an old value of ${old1.length} characters; expected ${BIG}.`,
        );
        const value = await ck0.get('k');
        check(
          value.length === 2 * BIG,
          `get("k") after the two appends returned ${value.length} characters; expected ${2 * BIG}.`,
        );
        await ck1.put('k2', '0');
        await ck0.put('k', '0');
      }),
    );
    check(
      retained < BIG_BOUND,
      `After two 10 MiB appends (ck0's, then ck1's, which returned ck0's 10 MiB as the old value), a put of "k2" by ck1 and an overwrite of "k" with "0" by ck0, the cluster still retains ${mib(retained)} (less than ${mib(BIG_BOUND)} allowed). Remember only each client's latest reply — not the values it appended — and forget that reply once the client sends its next request, whatever key that request is for. Likely causes: the appended values kept (in a log, or the arguments of old requests); the replies kept per client and key rather than per client; the old value kept as well as the new.`,
    );
  },
};

const MANY_CLIENTS = 100_000;
/** Per-client server memory allowed after one put each (MIT 2024: 200 B; a table of request numbers costs about 100-150 B here). */
const PUT_BYTES_PER_CLIENT = 200;
/** Per-client server memory allowed after one get each (MIT 2024: 10 B: gets need no per-client state). */
const GET_BYTES_PER_CLIENT = 10;

/** A fresh flat 1000-byte string on the JavaScript heap, different for each n. */
function kiloValue(n: number): string {
  const b = Buffer.alloc(1000, 'abcdefghijklmnopqrstuvwxyz');
  b.write(String(n), 0, 'latin1');
  return b.toString('latin1');
}

const memPutManyClients: TestDefinition<Lab1Impl> = {
  name: 'TestMemPutManyClients',
  description: `${groupDigits(MANY_CLIENTS)} clients each put a 1000-byte value and read it back: at most ${PUT_BYTES_PER_CLIENT} bytes of server state per client`,
  async run(ctx: Ctx) {
    // Weighed once more on a fresh cluster when over the bound (suite/memory.ts lighterWeighing): a heap reading can
    // catch the engine dropping its own caches; a server that keeps memory per client is over the bound both times.
    const perClient = await lighterWeighing(PUT_BYTES_PER_CLIENT, async (attempt) => {
      const retained = await retainedAfter(ctx, true, false, async (ts) => {
        for (let i = 0; i < MANY_CLIENTS; i++) {
          const ck = ts.makeClerk();
          const value = kiloValue(i);
          await ck.put('k', value);
          // Every clerk reads its put back: with this many clerks, ids drawn from a small range collide, and a new
          // clerk's first put then looks like an old clerk's re-send.
          const got = await ck.get('k');
          ts.forgetClerk(ck);
          check(
            got === value,
            `Clerk ${i} of ${MANY_CLIENTS} put a value into "k" and read back ${got === '' ? '""' : `the value of clerk ${Number.parseInt(got, 10)}`}: ` +
              'its put was taken for a re-send of an earlier write. Likely cause: two clerks drew the same id (an id from a small range, ' +
              'such as Math.random() * 1e6, or from the clock, repeats among thousands of clerks); draw ids from a range of about 2^52 or more.',
          );
        }
        if (attempt === 1) ctx.countOps(2 * MANY_CLIENTS);
      });
      return retained / MANY_CLIENTS;
    });
    ctx.log(`${perClient.toFixed(1)} bytes per client`);
    check(
      perClient <= PUT_BYTES_PER_CLIENT,
      `After ${MANY_CLIENTS} clients did one put each, the server retains ${perClient.toFixed(0)} bytes per client (at most ${PUT_BYTES_PER_CLIENT} allowed). Keep per client only what duplicate detection needs (its last request number and last reply), not the request's arguments or a history of requests.`,
    );
  },
};

const memGetManyClients: TestDefinition<Lab1Impl> = {
  name: 'TestMemGetManyClients',
  description: `${groupDigits(MANY_CLIENTS)} clients each do one get: no per-client server state (at most ${GET_BYTES_PER_CLIENT} bytes per client)`,
  async run(ctx: Ctx) {
    // Weighed once more on a fresh cluster when over the bound, as TestMemPutManyClients is.
    const perClient = await lighterWeighing(GET_BYTES_PER_CLIENT, async (attempt) => {
      const retained = await retainedAfter(ctx, true, false, async (ts) => {
        await ts.makeClerk().put('0', '');
        for (let i = 0; i < MANY_CLIENTS; i++) {
          const ck = ts.makeClerk();
          const v = await ck.get('0');
          ts.forgetClerk(ck);
          if (v !== '') check(false, `get("0") returned ${show(v)}; expected "" (the value put).`);
        }
        if (attempt === 1) ctx.countOps(MANY_CLIENTS + 1);
      });
      return retained / MANY_CLIENTS;
    });
    ctx.log(`${perClient.toFixed(1)} bytes per client`);
    check(
      perClient <= GET_BYTES_PER_CLIENT,
      `After ${MANY_CLIENTS} clients did one get each, the server retains ${perClient.toFixed(0)} bytes per client (at most ${GET_BYTES_PER_CLIENT} allowed). A get changes nothing, so a re-sent get can simply run again: the server needs no memory of the clients that only read.`,
    );
  },
};

const MANY_APPENDS = 1000;
const APPEND_BYTES = 1000;

/** TestMemManyAppends looks into every this-many-th old value an append returns (see there). */
const FLATTEN_EVERY = 10;
const memManyAppends: TestDefinition<Lab1Impl> = {
  name: 'TestMemManyAppends',
  description: `one client appends ${APPEND_BYTES} bytes ${MANY_APPENDS} times: the server keeps the value, not every old value it returned`,
  async run(ctx: Ctx) {
    const retained = await retainedAfter(ctx, true, true, async (ts) => {
      const ck = ts.makeClerk();
      const draw = rng(ctx);
      let last = '';
      for (let i = 0; i < MANY_APPENDS; i++) {
        // A fresh chunk each time: old values that repeat one chunk would be stored in less by a pattern.
        const chunk = draw.text(APPEND_BYTES);
        const old = await ck.append('k', chunk);
        // Looking into a string makes V8 copy a rope into one flat string first, which the server holds too: so a
        // server that keeps every old value it returned keeps each copy made here. Every tenth is enough (a
        // hundred copies, 50 MB against the bound of 3 MB), and copying all of them took seconds.
        check(
          old.length === i * APPEND_BYTES && (i % FLATTEN_EVERY !== 0 || (!/#/.test(old) && old.endsWith(last))),
          () =>
            `append number ${i + 1} returned an old value of ${old.length} characters; expected the ${i} earlier appends (${i * APPEND_BYTES} characters).`,
        );
        last = chunk;
      }
      ctx.countOps(MANY_APPENDS);
    });
    const limit = 3 * APPEND_BYTES * MANY_APPENDS;
    check(
      retained < limit,
      `After ${MANY_APPENDS} appends of ${APPEND_BYTES} bytes the cluster retains ${mib(retained)} (less than ${mib(limit)} allowed; the value itself is ${mib(APPEND_BYTES * MANY_APPENDS)}). Remember only each client's latest reply: once a client sends its next request, its previous reply can go.`,
    );
  },
};

/** Writes of TestMemManyWrites' long life: an entry kept per write (30 bytes or more) outweighs the bound by far. */
const MANY_WRITES = 6_000;
/** Writes of its short life, weighed first: what the shard needs whatever the length of its life. */
const FEW_WRITES = 500;
/** Memory the three copies together may gain per write between the short life and the long one, bytes. */
const WRITE_BYTES = 40;
/**
 * What the three copies may retain together after the long life, bytes. The reference's retain 106-164 KiB. Memory
 * set aside early and overwritten as writes come would show no growth between the two lives; under this bound it
 * holds the long life's write ids in no more than the growth bound allows each.
 */
const LONG_LIFE_BYTES = 320 * 1024;

/** The bytes a fresh cluster of three servers, each a copy of every shard, retains after one clerk's `writes` puts of small values to two keys. */
async function retainedAfterWrites(ctx: Ctx, writes: number): Promise<number> {
  const ts = new Lab1Tester(ctx, { nshards: 3, nreplicas: 3, reliable: true, keepClerks: true });
  const ck = ts.makeClerk();
  for (let i = 0; i < writes; i++) await ck.put(`k${i % 2}`, String(i % 10));
  ctx.countOps(writes);
  return ts.measureRetained(true);
}

/** What a short life and, afresh, a long one retain, and the growth per write between them. */
async function weighWriteLives(ctx: Ctx): Promise<{ short: number; long: number; perWrite: number }> {
  const short = await retainedAfterWrites(ctx, FEW_WRITES);
  const long = await retainedAfterWrites(ctx, MANY_WRITES);
  ctx.log(`the shard retains ${kib(short)} after ${FEW_WRITES} puts, ${kib(long)} after ${MANY_WRITES}`);
  return { short, long, perWrite: (long - short) / (MANY_WRITES - FEW_WRITES) };
}

/** `bytes` in KiB, for a message. */
function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

const memManyWrites: TestDefinition<Lab1Impl> = {
  name: 'TestMemManyWrites',
  description: `one client makes ${groupDigits(MANY_WRITES)} small puts to a shard with three copies: no copy, primary or backup, keeps anything per write (at most ${WRITE_BYTES} bytes a write for the three, and ${LONG_LIFE_BYTES / 1024} KiB in all)`,
  async run(ctx: Ctx) {
    let lives = await weighWriteLives(ctx);
    // Over a bound: weighed once more on fresh shards, as TestMemPutManyClients is (suite/memory.ts lighterWeighing).
    if (lives.perWrite > WRITE_BYTES || lives.long > LONG_LIFE_BYTES) lives = await weighWriteLives(ctx);
    ctx.log(`${lives.perWrite.toFixed(1)} bytes per write`);
    const causes =
      "Expected each copy to keep per client only its last request number and reply, however many writes the client makes. Likely causes: a backup (or the primary) that keeps a set or list of every applied write id (client and number) instead of each client's latest; a log of writes kept to replay to a copy that comes back (send the whole shard instead); a reply kept per request number";
    check(
      lives.perWrite <= WRITE_BYTES,
      `One clerk made ${FEW_WRITES} puts to a shard with three copies, and on a fresh shard ${MANY_WRITES}: the longer life retains ${lives.perWrite.toFixed(1)} bytes more per put (at most ${WRITE_BYTES} allowed; over the bound twice in a row). ${causes}.`,
    );
    check(
      lives.long <= LONG_LIFE_BYTES,
      `One clerk made ${MANY_WRITES} puts of one-character values to two keys of a shard with three copies, and the three retain ${kib(lives.long)} (at most ${kib(LONG_LIFE_BYTES)} allowed; over the bound twice in a row). ${causes}; memory set aside in advance (a table or array sized for many writes, a pool of spare entries), which would also hide what is kept per write from the growth check.`,
    );
  },
};

/** Lab 1's suite: the grader loads it with the student's files or the solution's. */
/**
 * What the runner's monitors hold every simulated test to (suite/monitors): the timers live at its end, and the
 * handout's retry pacing, "waiting a few virtual milliseconds between tries" (at least 2 on average): a call that
 * was lost is sent again to the server it was lost at no sooner. Lab 1's RPCs are the student's, so the rule is
 * about every RPC.
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 2,
    perCall: 1,
    causes:
      "a wait between a clerk's or a server's re-sends made with setTimeout or setInterval and never cleared or awaited",
  },
  pacing: [
    {
      rule: 'waiting a few virtual milliseconds between tries (at least 2 on average',
      callsAre: "clerk's or server's",
      after: 'each',
      meanWaitMs: 2,
      causes:
        'a clerk or a primary that sends a lost call again to the same server at once: no wait after a round of ' +
        "the shard's servers, or after a backup did not answer; a wait of 0 or 1 ms (setTimeout(fn, 0), which " +
        'waits 1 ms, or setImmediate); a sleep whose promise is not awaited; a back-off that starts at 0 or is ' +
        'reset to 0 on every try',
    },
  ],
};

export const suite: LabSuite<Lab1Impl> = {
  lab: 'lab1',
  title: 'Lab 1: exactly-once key/value server, then static sharding with replication',
  implFiles: IMPL_FILES,
  load,
  tests: monitored(MONITORS, [
    scored(genericTest('TestBasic', 1, true), { points: 5, part: 1 }),
    scored(genericTest('TestConcurrent', 5, true), { points: 5, part: 1 }),
    scored(genericTest('TestUnreliable', 5, false), { points: 6, part: 2 }),
    scored(unreliableOneKey, { points: 6, part: 2 }),
    scored(staticShards, { points: 3, part: 3 }),
    scored(rejection, { points: 3, part: 3 }),
    scored(unreliableShards, { points: 4, part: 3 }),
    scored(stopMidReplicate, { points: 3, part: 3 }),
    scored(retakeover, { points: 3, part: 3 }),
    scored(getAfterTakeover, { points: 2, part: 3 }),
    scored(syncBesideWrite, { points: 1, part: 3 }),
    scored(getDuringReplicate, { points: 2, part: 3 }),
    scored(takeoverReplacesCopy, { points: 3, part: 3 }),
    scored(takeoverOrder, { points: 3, part: 3 }),
    scored(unseenLead, { points: 2, part: 3 }),
    scored(restartMidReplicate, { points: 2, part: 3 }),
    scored(replicaOrder, { points: 3, part: 3 }),
    scored(readAtLaggingCopy, { points: 3, part: 3 }),
    scored(replicateRetries, { points: 3, part: 3 }),
    scored(oddKeys, { points: 2, part: 3 }),
    scored(modelKV, { points: 2, part: 3 }),
    scored(unreliableMixed, { points: 3, part: 3 }),
    scored(lateCopy, { points: 1, part: 3 }),
    scored(restartMidWrite, { points: 2, part: 3 }),
    scored(nemesisShards, { points: 4, part: 3 }),
    scored(memManyWrites, { points: 1, part: 3 }),
    scored(memGet, { points: 3, part: 2 }),
    scored(memPut, { points: 3, part: 2 }),
    scored(memAppend, { points: 3, part: 2 }),
    scored(memPutManyClients, { points: 3, part: 2, timeoutSec: 180 }),
    scored(memGetManyClients, { points: 3, part: 2, timeoutSec: 180 }),
    scored(memManyAppends, { points: 3, part: 2 }),
    scored(nemesisKV, { points: 5, part: 2 }),
  ]),
};
