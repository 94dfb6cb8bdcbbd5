/**
 * Lab 3's named tests. Each carries its points (the suite's list, at the end) and runs in its own simulated world, so a seed
 * replays it exactly: npm run grade lab3 -- --test <Name> --seed <N>
 */
import { IMPL_FILES, load } from '../load';
import * as path from 'node:path';
import { runClients } from '../../suite/clients';
import { LabSuite, scored, TestDefinition, TestContext, TestFailure, check, Monitors } from '../../suite';
import { monitored } from '../../suite/monitors';
import { within } from '../../suite/within';
import { sleep } from '../../world';
import type { ConsistencyLevel } from '../rpc';
import { CONSISTENCY_LEVELS } from '../rpc';
import { loadConfig } from '../tools/config';
import { runScenario } from '../tools/scenario';
import { Cluster, ClusterOptions, DEFAULT_LINKS, Lab3Client, Lab3Impl, show } from './harness';
import { memManyOps } from './memory';
import { modelConsistency } from './model';
import { nemesisTest } from './nemesis';
import { realLateStart } from './real';
import { PEER_PACING, PEER_RESEND } from './resend';

type Ctx = TestContext<Lab3Impl>;

/** The original's configurations shipped with the lab. */
const CONFIG_DIR = path.resolve(__dirname, '../configs');

/** A cluster whose operations count towards the report's #Ops. */
function cluster(ctx: Ctx, options: ClusterOptions): Cluster {
  const c = new Cluster(ctx.impl, options);
  c.onOp = () => ctx.countOps();
  return c;
}

/** Waits long enough for every message in flight to arrive and every broadcast to be delivered. */
const SETTLE_MS = 1000;

/** Why servers can end up disagreeing, by level: the likely causes every agreement check adds to its message. */
const DISAGREEMENT_CAUSES: Record<ConsistencyLevel, string> = {
  eventual:
    'Likely causes: the last write to arrive wins instead of the largest timestamp; timestamps compared as strings, or ' +
    'the server id before the clock; a write not sent to every other server.',
  sequential:
    'Likely causes: a message delivered before every server (itself included) acknowledged it, or a server that does not ' +
    "count its own acknowledgement (or counts another's twice); the hold-back queue not sorted by (clock, server id), or " +
    "equal clocks with ties broken by arrival order; links not made FIFO (a server's link to itself included).",
  linearizable: '',
};
DISAGREEMENT_CAUSES.linearizable = DISAGREEMENT_CAUSES.sequential;

/** Fails unless every server holds the same value for each key. */
async function expectAgreement(c: Cluster, keys: readonly string[], why: string): Promise<Map<string, string>> {
  await sleep(SETTLE_MS);
  const agreed = new Map<string, string>();
  for (const key of keys) {
    const values = await c.readEverywhere(key);
    check(
      values.every((v) => v === values[0]),
      () =>
        `${SETTLE_MS} ms after the last operation the ${c.level} servers still disagree on key ${show(key)}: ` +
        `${values.map((v, i) => `server ${i} has ${show(v)}`).join(', ')}. ${why} ${DISAGREEMENT_CAUSES[c.level]}`,
    );
    agreed.set(key, values[0]);
  }
  return agreed;
}

const basic: TestDefinition<Lab3Impl> = {
  name: 'TestBasic',
  description: 'every level: a key nobody wrote reads "", a client reads its own write, all servers end with it',
  async run(ctx: Ctx) {
    for (const level of CONSISTENCY_LEVELS) {
      const c = cluster(ctx, { servers: 3, level });
      const a = c.client(0);
      const b = c.client(1);
      const missing = await a.read('x');
      check(missing === '', `${level}: reading key "x", which nobody wrote, returned ${show(missing)}; expected "".`);
      await a.write('x', 'hello');
      const mine = await a.read('x');
      check(
        mine === 'hello',
        `${level}: client 0 wrote "hello" to "x" at server 0, then read ${show(mine)} there; a client must see its own write.`,
      );
      await b.write('y', 'world');
      const theirs = await b.read('y');
      check(
        theirs === 'world',
        `${level}: client 1 wrote "world" to "y" at server 1, then read ${show(theirs)} there.`,
      );
      const agreed = await expectAgreement(c, ['x', 'y'], 'Every write must reach every server.');
      check(
        agreed.get('x') === 'hello' && agreed.get('y') === 'world',
        `${level}: after settling, the servers hold x=${show(agreed.get('x'))}, y=${show(agreed.get('y'))}; expected "hello" and "world".`,
      );
      ctx.log(`${level}: ok`);
    }
  },
};

/** Random reads and writes by `clientsPerServer` clients per server on `keys` for `ms`; values are unique. */
async function randomWorkload(
  ctx: Ctx,
  c: Cluster,
  clientsPerServer: number,
  ms: number,
  keys: string[],
  writeShare = 0.5,
  pauseMs = 20,
): Promise<string[]> {
  const clients: Lab3Client[] = [];
  for (let s = 0; s < c.n; s++) for (let k = 0; k < clientsPerServer; k++) clients.push(c.client(s));
  const rng = ctx.world!.rng;
  await runClients(clients.length, ms, async (i, done) => {
    for (let n = 0; !done(); n++) {
      const key = rng.pick(keys);
      if (rng.chance(writeShare)) await clients[i].write(key, `${i}.${n}`);
      else await clients[i].read(key);
      await sleep(rng.float() * pauseMs);
    }
  });
  return keys;
}

const linearizableConcurrent: TestDefinition<Lab3Impl> = {
  name: 'TestLinearizableConcurrent',
  description: 'linearizable level: 6 clients on 3 servers read and write 3 keys for 2 s; the history is linearizable',
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'linearizable' });
    const keys = await randomWorkload(ctx, c, 2, 2000, ['a', 'b', 'c']);
    ctx.log(`${c.operations().length} operations, mean latency ${c.meanLatency().toFixed(1)} ms`);
    c.expect('linearizable', ctx.log);
    await expectAgreement(c, keys, 'All servers must apply the same writes in the same (total) order.');
  },
};

const sequentialConcurrent: TestDefinition<Lab3Impl> = {
  name: 'TestSequentialConcurrent',
  description:
    'sequential level: 6 clients on 3 servers read and write 5 keys for 1 s; the history is sequentially consistent',
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'sequential' });
    const keys = await randomWorkload(ctx, c, 2, 1000, ['a', 'b', 'c', 'd', 'e']);
    ctx.log(`${c.operations().length} operations, mean latency ${c.meanLatency().toFixed(1)} ms`);
    c.expect('sequential', ctx.log);
    await expectAgreement(c, keys, 'All servers must apply the same writes in the same (total) order.');
  },
};

const REORDER_ROUNDS = 40;

const reorderingLinks: TestDefinition<Lab3Impl> = {
  name: 'TestReorderingLinks',
  description: `sequential level on links whose delays vary from 1 to 41 ms, so messages to a peer often overtake each other: ${REORDER_ROUNDS} rounds of two concurrent writes to one key; every server ends with the same value and the history is sequentially consistent`,
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'sequential', links: { serverMs: 1, serverJitterMs: 40 } });
    const clients = Array.from({ length: 3 }, (_, i) => c.client(i));
    const rng = ctx.world!.rng;
    const fifo =
      'Messages between two servers can arrive in another order than they were sent: the broadcast needs FIFO links (number the messages per link and hold back early ones).';
    for (let round = 0; round < REORDER_ROUNDS; round++) {
      const key = `r${round}`;
      const first = rng.int(3);
      const second = (first + 1 + rng.int(2)) % 3;
      await Promise.all(
        [first, second].map((s) => sleep(rng.float() * 5).then(() => clients[s].write(key, `from ${s}`))),
      );
      await sleep(100);
      const values = await c.readEverywhere(key);
      check(
        values.every((v) => v === values[0]),
        () =>
          `round ${round}: servers ${first} and ${second} wrote ${show(key)} at the same time; afterwards the servers hold ${values.map((v, i) => `server ${i}: ${show(v)}`).join(', ')}, so they delivered the two writes in different orders. ${fifo}`,
      );
      await clients[round % 3].read(key);
    }
    c.expect('sequential', ctx.log, `${fifo}\n`);
  },
};

/** The order in which a reader saw values appear: consecutive repeats and the initial "" removed. */
function orderSeen(reads: string[]): string[] {
  const out: string[] = [];
  for (const v of reads) if (v !== '' && v !== out[out.length - 1]) out.push(v);
  return out;
}

const TEXTBOOK_ROUNDS = 15;

const sequentialTextbook: TestDefinition<Lab3Impl> = {
  name: 'TestSequentialTextbook',
  description: `van Steen & Tanenbaum's example, ${TEXTBOOK_ROUNDS} rounds: two clients write a at once, two others read it repeatedly; both readers see the writes in the same order`,
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 4, level: 'sequential' });
    const [w1, w2, r1, r2] = [0, 1, 2, 3].map((s) => c.client(s));
    const rng = ctx.world!.rng;
    const reader = async (r: Lab3Client, key: string): Promise<string[]> => {
      const seen: string[] = [];
      const until = performance.now() + 80;
      while (performance.now() < until) {
        seen.push(await r.read(key));
        await sleep(rng.float() * 3);
      }
      return seen;
    };
    let disagreements = 0;
    for (let round = 0; round < TEXTBOOK_ROUNDS; round++) {
      const key = `a${round}`;
      const [, , seen1, seen2] = await Promise.all([
        sleep(rng.float() * 5).then(() => w1.write(key, '1')),
        sleep(rng.float() * 5).then(() => w2.write(key, '2')),
        reader(r1, key),
        reader(r2, key),
      ]);
      const o1 = orderSeen(seen1);
      const o2 = orderSeen(seen2);
      // Two readers that each saw both values must have seen them in the same order.
      if (o1.length === 2 && o2.length === 2 && o1.join() !== o2.join()) disagreements++;
      check(
        !(o1.length === 2 && o2.length === 2 && o1.join() !== o2.join()),
        () =>
          `round ${round}: client 0 wrote ${key}="1" at server 0 while client 1 wrote ${key}="2" at server 1. ` +
          `The reader at server 2 saw ${o1.map(show).join(' then ')}, the reader at server 3 saw ${o2.map(show).join(' then ')}. ` +
          'Under sequential consistency everyone sees the writes in one order: every server must apply the writes in the same total order.',
      );
      const last = await expectAgreement(c, [key], 'Both writes must be applied everywhere, in the same order.');
      for (const [r, o] of [
        [2, o1],
        [3, o2],
      ] as const) {
        // A reader that saw both writes applied has seen its server's final state.
        check(
          o.length < 2 || o[1] === last.get(key),
          `round ${round}: the reader at server ${r} saw ${o.map(show).join(' then ')}, but all servers ended with ${show(last.get(key))}: ` +
            'its server applied the writes in a different order from the others.',
        );
      }
    }
    ctx.log(`${TEXTBOOK_ROUNDS} rounds, ${disagreements} disagreements`);
    c.expect('sequential', ctx.log);
  },
};

/**
 * The stale-read scenario: 3 servers, and the link from server 1 to server 2 is slow, so server 2 learns
 * that everyone acknowledged a write long after servers 0 and 1 do. A client writes at server 0; when the
 * write has returned, another client reads at server 2.
 */
async function staleReadScenario(
  ctx: Ctx,
  level: ConsistencyLevel,
  rounds: number,
): Promise<{ c: Cluster; stale: number }> {
  const c = cluster(ctx, { servers: 3, level });
  c.slowLink(1, 2, 100);
  const writer = c.client(0);
  const reader = c.client(2);
  let stale = 0;
  for (let round = 0; round < rounds; round++) {
    const key = `k${round}`;
    await writer.write(key, `v${round}`);
    await sleep(1); // the read starts strictly after the write returned
    const got = await reader.read(key);
    ctx.log(
      `round ${round}: write ${key}=v${round} at server 0 returned at ${performance.now().toFixed(1)} ms; read at server 2 returned ${show(got)}`,
    );
    check(
      got === '' || got === `v${round}`,
      `round ${round}: the read of ${key} returned ${show(got)}, which nobody wrote there.`,
    );
    if (got === '') stale++;
    if (level === 'linearizable') {
      check(
        got === `v${round}`,
        `round ${round}: client 0's write of ${key}="v${round}" at server 0 had returned before client 1 read ${key} at server 2, ` +
          `yet the read returned ${show(got)}. A linearizable read must see every write that finished before it started: ` +
          'send reads through the totally ordered broadcast too, and answer when this server delivers the read. Likely ' +
          'causes: a read answered from the local copy instead of through the broadcast; a read answered when its ' +
          'broadcast comes back to its own server, before this server delivers it; a read that answers with the value it ' +
          'found when it arrived instead of the value at its turn in the total order.',
      );
    }
    await sleep(300);
  }
  return { c, stale };
}

const STALE_ROUNDS = 5;

const staleReadSequential: TestDefinition<Lab3Impl> = {
  name: 'TestStaleReadSequential',
  description:
    'sequential level, a slow link: a read at a lagging server just after a write returned may be stale (reads are local); the history is still sequentially consistent',
  async run(ctx: Ctx) {
    const { c, stale } = await staleReadScenario(ctx, 'sequential', STALE_ROUNDS);
    check(
      stale > 0,
      `In ${STALE_ROUNDS} rounds, a read at server 2 right after a write at server 0 was never stale, although server 2 cannot yet know ` +
        'that the write was acknowledged by everyone (its link from server 1 is 100 ms slow). In sequential mode a read must be ' +
        'answered from the local copy at once, without the broadcast.',
    );
    c.expect('sequential', ctx.log);
    const lin = c.check('linearizable');
    check(
      !lin.ok,
      'The history with a stale read should not be linearizable, yet the checker accepted it (the test itself is wrong).',
    );
    ctx.log(`${stale} of ${STALE_ROUNDS} reads were stale: sequentially consistent, not linearizable`);
  },
};

const noStaleReadLinearizable: TestDefinition<Lab3Impl> = {
  name: 'TestNoStaleReadLinearizable',
  description: 'linearizable level, the same slow link: a read that starts after a write returned always sees it',
  async run(ctx: Ctx) {
    const { c } = await staleReadScenario(ctx, 'linearizable', STALE_ROUNDS);
    c.expect('linearizable', ctx.log);
  },
};

const eventualConvergence: TestDefinition<Lab3Impl> = {
  name: 'TestEventualConvergence',
  description:
    'eventual level: 8 clients on 4 servers write and read 2 keys for 1 s; reads return only written values; afterwards every server holds the same value',
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 4, level: 'eventual' });
    const keys = ['a', 'b'];
    const clients = Array.from({ length: 8 }, (_, i) => c.client(i % 4));
    const rng = ctx.world!.rng;
    const written = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
    await runClients(clients.length, 1000, async (i, done) => {
      for (let n = 0; !done(); n++) {
        const key = rng.pick(keys);
        if (rng.chance(0.5)) {
          const value = `${i}.${n}`;
          written.get(key)!.add(value);
          await clients[i].write(key, value);
        } else {
          const got = await clients[i].read(key);
          check(
            got === '' || written.get(key)!.has(got),
            `client ${i} read ${show(got)} from key ${show(key)} at server ${i % 4}: nobody wrote that value there.`,
          );
        }
        await sleep(rng.float() * 10);
      }
    });
    const agreed = await expectAgreement(
      c,
      keys,
      'Eventual consistency: once writes stop, every server must converge to the same value (last writer wins).',
    );
    for (const key of keys) {
      const v = agreed.get(key)!;
      check(
        written.get(key)!.size === 0 || written.get(key)!.has(v),
        `All servers agree on ${show(v)} for key ${show(key)}, but nobody wrote that value.`,
      );
    }
    ctx.log(
      `${c.operations().length} operations, mean latency ${c.meanLatency().toFixed(2)} ms; converged on ${keys.map((k) => `${k}=${show(agreed.get(k))}`).join(', ')}`,
    );
  },
};

const TIE_ROUNDS = 8;

const eventualTieBreak: TestDefinition<Lab3Impl> = {
  name: 'TestEventualTieBreak',
  description: `eventual level, ${TIE_ROUNDS} fresh clusters: three writes with equal Lamport timestamps at three servers; every server keeps the write of the highest server id`,
  async run(ctx: Ctx) {
    const rng = ctx.world!.rng;
    for (let round = 0; round < TIE_ROUNDS; round++) {
      const c = cluster(ctx, { servers: 3, level: 'eventual' });
      // Round 0: values in the opposite order of the server ids, so a tie-break on the value alone picks wrong.
      const values = round === 0 ? ['z', 'm', 'a'] : [0, 1, 2].map(() => rng.string(4));
      // Each server's first event is this write, so all three carry Lamport clock 1.
      await Promise.all(values.map((v, s) => c.client(s).write('x', v)));
      const agreed = await expectAgreement(
        c,
        ['x'],
        'Last-writer-wins must pick the same write on every server, whatever order the writes arrive in.',
      );
      const want = values[2];
      check(
        agreed.get('x') === want,
        `round ${round}: servers 0, 1 and 2 each wrote x as their first event (${values.map((v, s) => `server ${s}: ${show(v)}`).join(', ')}), ` +
          `so the three writes have the same Lamport clock. The servers converged on ${show(agreed.get('x'))}; the tie must be broken by ` +
          `the server id (higher wins), then the value: expected ${show(want)}.`,
      );
    }
    ctx.log(`${TIE_ROUNDS} tied rounds resolved by server id`);
  },
};

const latencyOrder: TestDefinition<Lab3Impl> = {
  name: 'TestLatencyOrder',
  description:
    "the original's performance configs t1-1, t1-2, t1-3 (same requests): mean latency linearizable > sequential > eventual; eventual and sequential reads never wait for other servers",
  async run(ctx: Ctx) {
    const means: Partial<Record<ConsistencyLevel, number>> = {};
    for (const name of ['t1-1.json', 't1-2.json', 't1-3.json']) {
      const config = loadConfig(path.join(CONFIG_DIR, name));
      const c = cluster(ctx, { servers: config.servers, level: config.level });
      const res = await runScenario(config, c.scenarioDriver(), SETTLE_MS);
      ctx.countOps(res.history.length);
      if (!res.verdict.ok)
        throw new TestFailure(`${name} (${config.level}): ${res.verdict.check} failed.\n${res.verdict.text}`, {
          historyHtml: res.verdict.html,
        });
      means[config.level] = res.meanLatencyMs;
      ctx.log(`${name} ${config.level}: mean latency ${res.meanLatencyMs.toFixed(2)} ms`);
      const bound = DEFAULT_LINKS.serverMs;
      for (const o of res.history) {
        const local = config.level === 'eventual' || (config.level === 'sequential' && o.input.op === 'get');
        if (local) {
          check(
            o.return - o.call < bound,
            `${name} (${config.level}): ${o.input.op === 'get' ? 'a read' : 'a write'} by client ${o.clientId} took ${(o.return - o.call).toFixed(2)} ms, ` +
              `longer than one message between servers (at least ${bound} ms): at this level it must be answered from the local copy without waiting for other servers.`,
          );
        }
      }
    }
    const { linearizable: lin, sequential: seq, eventual: ev } = means as Record<ConsistencyLevel, number>;
    check(
      lin > seq && seq > ev,
      `Mean latencies: linearizable ${lin.toFixed(2)} ms, sequential ${seq.toFixed(2)} ms, eventual ${ev.toFixed(2)} ms; expected ` +
        'linearizable > sequential > eventual (linearizable reads go through the broadcast, sequential reads do not, eventual writes do not either).',
    );
  },
};

const originalConfigs: TestDefinition<Lab3Impl> = {
  name: 'TestOriginalConfigs',
  description:
    "the original's correctness configs t2 (linearizable), t3 (sequential) and t4 (eventual) pass their level's check",
  async run(ctx: Ctx) {
    for (const name of ['t2.json', 't3.json', 't4.json']) {
      const config = loadConfig(path.join(CONFIG_DIR, name));
      const c = cluster(ctx, { servers: config.servers, level: config.level });
      const res = await runScenario(config, c.scenarioDriver(), SETTLE_MS);
      ctx.countOps(res.history.length);
      ctx.log(
        `${name} ${config.level}: ${res.verdict.ok ? 'ok' : 'FAILED'}, mean latency ${res.meanLatencyMs.toFixed(2)} ms`,
      );
      if (!res.verdict.ok) {
        throw new TestFailure(
          `${name} (${config.level}): ${res.verdict.check} failed.\n${res.verdict.text}\nReplay it: npm run lab3 -- lab3/configs/${name} --seed <seed>`,
          { historyHtml: res.verdict.html },
        );
      }
    }
  },
};

/** Server → server links of exactly `ms` (no jitter), so a test can decide which message arrives first. */
const FIXED_LINKS = { serverMs: 5, serverJitterMs: 0 };

/** Keys that a store kept in a plain object would mishandle, and values in descending order (so a tie-break on the value would keep the first). */
const STRANGE_KEYS = ['x', '__proto__', 'constructor', 'hasOwnProperty'];
const DESCENDING_VALUES = ['zz 日本', 'y\u00e9', 'x \u{1F600}', 'w\n\u0000'];

const ownLatestWrite: TestDefinition<Lab3Impl> = {
  name: 'TestOwnLatestWrite',
  description:
    'every level: a client writes each of four keys (among them __proto__ and constructor) four times with non-ASCII values, each smaller than the last, reading back after each write: it always reads its latest write; all servers end with it',
  async run(ctx: Ctx) {
    for (const level of CONSISTENCY_LEVELS) {
      const c = cluster(ctx, { servers: 3, level });
      const me = c.client(1);
      const other = c.client(0);
      for (const key of STRANGE_KEYS) {
        for (const [n, value] of DESCENDING_VALUES.entries()) {
          // Another client writes a different key meanwhile, so messages from other servers keep arriving.
          await Promise.all([me.write(key, value), other.write(`other ${key}`, `${n}`)]);
          const got = await me.read(key);
          check(
            got === value,
            `${level}: client 1 wrote ${show(key)}=${show(value)} at server 1 (its write number ${n + 1} to that key; the earlier ones were ` +
              `${DESCENDING_VALUES.slice(0, n).map(show).join(', ') || 'none'}), the write returned, and its next read there returned ${show(got)}. ` +
              'A client must read its own latest write. Likely causes: the Lamport clock is not ticked before each write, so two writes by one ' +
              'server carry the same timestamp and the value decides (every value here is smaller than the one before); the write is answered ' +
              'before this server applied it; the store is a plain object, where keys like "__proto__" or "constructor" are not ordinary keys.',
          );
        }
      }
      const agreed = await expectAgreement(c, STRANGE_KEYS, 'Every write must reach every server.');
      const last = DESCENDING_VALUES[DESCENDING_VALUES.length - 1];
      for (const key of STRANGE_KEYS) {
        check(
          agreed.get(key) === last,
          `${level}: after settling, every server holds ${show(key)}=${show(agreed.get(key))}; the last write (by the only writer of that key) was ${show(last)}.`,
        );
      }
      ctx.log(`${level}: ok`);
    }
  },
};

const eventualCausalWrite: TestDefinition<Lab3Impl> = {
  name: 'TestEventualCausalWrite',
  description:
    "eventual level, a slow link from server 2 to server 0: server 1 hears of ten writes by server 2 and then writes x; a client at server 0 reads that x and overwrites it; the later write must win everywhere, although its server has the lower id (its Lamport clock must have jumped past x's on receipt)",
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'eventual', links: FIXED_LINKS });
    // Server 0 hears of server 2's writes long after everything else. The overwrite comes from server 0, the lowest
    // id, so equal clocks would decide for the older write: only a clock that jumped on receipt gives it the win.
    c.slowLink(2, 0, 300);
    const far = c.client(2);
    const first = c.client(1);
    const second = c.client(0);
    for (let i = 0; i < 10; i++) await far.write(`warm${i}`, `${i}`);
    await sleep(30); // server 1 has received server 2's ten writes (clocks 1 to 10); server 0 has not
    await first.write('x', 'old');
    await sleep(30); // server 0 has received server 1's write
    const seen = await second.read('x');
    check(
      seen === 'old',
      `a client at server 1 wrote x="old"; 30 ms later (a message takes 5 ms) a client at server 0 read ${show(seen)} there; expected "old".`,
    );
    await second.write('x', 'new');
    const mine = await second.read('x');
    const why =
      'The client at server 0 wrote "new" after reading "old", so its write happened after server 1\'s and must carry a larger Lamport clock. ' +
      'Server 1 wrote "old" after receiving ten writes from server 2 (clocks 1 to 10), so "old" carries a clock above 10; server 0 has not ' +
      'heard from server 2 yet, and only the clock carried by "old" can push it past that. Server 0 has the lower id, so a tie goes to "old". ' +
      'On receipt, clock = max(clock, received) + 1; before a write, clock + 1. Likely causes: the clock does not move when a propagated ' +
      'write arrives (server 0 then stamps "new" with clock 1, and the server id cannot save it); the clock is only incremented on receipt ' +
      '(clock + 1) instead of jumping past the received clock; a write is stamped with a clock that was not ticked.';
    check(
      mine === 'new',
      `the client at server 0 read "old", wrote x="new" there, and then read ${show(mine)}. ${why}`,
    );
    const agreed = await expectAgreement(c, ['x'], why);
    check(
      agreed.get('x') === 'new',
      `after settling, every server holds x=${show(agreed.get('x'))}; expected "new". ${why}`,
    );
  },
};

/** How many times the busy server writes x before the idle one overwrites it. */
const BUSY_WRITES = 4;

const eventualOverwriteSeen: TestDefinition<Lab3Impl> = {
  name: 'TestEventualOverwriteSeen',
  description: `eventual level: server 2 writes x ${BUSY_WRITES} times; a client at server 0, which has written nothing, reads the last of them and overwrites it; it reads its own write back and every server ends with it (a received write's clock is carried into the next write)`,
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'eventual', links: FIXED_LINKS });
    const busy = c.client(2);
    for (let i = 1; i <= BUSY_WRITES; i++) await busy.write('x', `busy ${i}`);
    const last = `busy ${BUSY_WRITES}`;
    await sleep(30); // every server has received server 2's writes (a message takes 5 ms)
    const idle = c.client(0);
    const seen = await idle.read('x');
    check(
      seen === last,
      `client 2 wrote x=${show(last)} at server 2 (its ${BUSY_WRITES}th write); 30 ms later (a message takes 5 ms) a client at server 0 read ${show(seen)}; expected ${show(last)}.`,
    );
    await idle.write('x', 'seen and replaced');
    const mine = await idle.read('x');
    const why =
      `Server 0's write was issued after it had received and applied x=${show(last)}, stamped with Lamport clock ${BUSY_WRITES} by server 2, so it is ` +
      `causally later and must carry a larger clock, although server 0 had no events of its own before (its own clock alone would give 1, and ` +
      'the server id 0 loses ties). On receiving a write, clock = max(clock, received clock) + 1; before each write, clock + 1. Likely causes: ' +
      'the clock is not updated when a propagated write arrives (only when a client writes); the write is stamped before the clock is ticked ' +
      'past what was received; the received write is applied without its timestamp, so last-writer-wins compares against a stale one.';
    check(
      mine === 'seen and replaced',
      `a client at server 0 read x=${show(last)}, wrote x="seen and replaced" there, and then read ${show(mine)}. ${why}`,
    );
    const agreed = await expectAgreement(c, ['x'], why);
    check(
      agreed.get('x') === 'seen and replaced',
      `after settling, every server holds x=${show(agreed.get('x'))}; expected "seen and replaced". ${why}`,
    );
  },
};

const eventualBlindOverwrite: TestDefinition<Lab3Impl> = {
  name: 'TestEventualBlindOverwrite',
  description: `eventual level: server 2 writes x ${BUSY_WRITES} times; a client at server 0, which has written and read nothing, then overwrites x without reading it; it reads its own write back and every server ends with it (the clock jumps when a write is received, not when it is read)`,
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'eventual', links: FIXED_LINKS });
    const busy = c.client(2);
    for (let i = 1; i <= BUSY_WRITES; i++) await busy.write('x', `busy ${i}`);
    await sleep(30); // every server has received server 2's writes (a message takes 5 ms)
    const blind = c.client(0);
    await blind.write('x', 'written blind');
    const mine = await blind.read('x');
    const why =
      `Server 0 had received x="busy ${BUSY_WRITES}" (Lamport clock ${BUSY_WRITES}, from server 2) before its client wrote, so that write is ` +
      'causally later and must carry a larger clock, although no one at server 0 read x first. On receiving a write, clock = max(clock, ' +
      'received clock) + 1, at once; before each write, clock + 1. Likely causes: the clock catches up only when a read returns a received ' +
      "entry (or only when the server's own client writes), not when the write arrives; the received write is stored without its timestamp.";
    check(
      mine === 'written blind',
      `a client at server 0 wrote x="written blind" 30 ms after server 2's ${BUSY_WRITES} writes had arrived, then read ${show(mine)}. ${why}`,
    );
    const agreed = await expectAgreement(c, ['x'], why);
    check(
      agreed.get('x') === 'written blind',
      `after settling, every server holds x=${show(agreed.get('x'))}; expected "written blind". ${why}`,
    );
  },
};

/** TestEventualRewrite: server 0's writes to other keys before its rewrite, so its clock passes server 1's. */
const REWRITE_PRE_WRITES = 3;
/** How much longer server 1's messages take to reach server 0 in TestEventualRewrite, virtual ms. */
const REWRITE_HOLD_MS = 200;

const eventualRewrite: TestDefinition<Lab3Impl> = {
  name: 'TestEventualRewrite',
  description: `eventual level: server 0 writes x="same", server 1 overwrites it with a write that reaches server 0 ${REWRITE_HOLD_MS} ms late, and server 0, still showing "same", writes "same" again with a larger clock; every server ends with "same" (a write of the value a server already shows is still a write)`,
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'eventual', links: FIXED_LINKS });
    const first = c.client(0);
    await first.write('x', 'same');
    await sleep(30); // every server has received it (a message takes 5 ms)
    c.slowLink(1, 0, REWRITE_HOLD_MS);
    await c.client(1).write('x', 'other');
    for (let i = 0; i < REWRITE_PRE_WRITES; i++) await first.write(`pre${i}`, `${i}`);
    const shown = await first.read('x');
    check(
      shown === 'same',
      `server 0 shows x=${show(shown)} before its rewrite; expected "same": server 1's write of "other" is held ${REWRITE_HOLD_MS} ms on its way to server 0, and nothing else wrote x.`,
    );
    await first.write('x', 'same');
    const why =
      `Server 0's second write of "same" came after ${REWRITE_PRE_WRITES + 1} writes of its own (Lamport clock ${REWRITE_PRE_WRITES + 2}), ` +
      'while server 1\'s "other" carries clock 3 (it had received the first "same" at clock 1): the rewrite is the last write by the ' +
      'order of (clock, server id), so every server must end with it, although server 0 already showed that value. Likely causes: a ' +
      'write of the value the server already shows is skipped (not stamped, not sent to the others), so the other servers keep "other" ' +
      "and server 0 takes it when it arrives; the local copy's timestamp is not replaced when the value is the same.";
    const agreed = await expectAgreement(c, ['x'], why);
    check(
      agreed.get('x') === 'same',
      `after settling, every server holds x=${show(agreed.get('x'))}; expected "same". ${why}`,
    );
  },
};

const LWW_ROUNDS = 4;

const eventualLastWriterWins: TestDefinition<Lab3Impl> = {
  name: 'TestEventualLastWriterWins',
  description: `eventual level, ${LWW_ROUNDS} fresh clusters with uneven links: two servers write x at once with known Lamport clocks, each write reaching one server last; every server keeps the write with the larger (clock, server id), whatever order it arrived in`,
  async run(ctx: Ctx) {
    for (let round = 0; round < LWW_ROUNDS; round++) {
      const c = cluster(ctx, { servers: 3, level: 'eventual', links: FIXED_LINKS });
      // Server `busy` writes three other keys and then x (clock 4); server `idle` writes x as its first event (clock 1).
      // Rounds alternate which of the two has the higher id, so neither the id alone nor the value decides.
      const [busy, idle] = round % 2 === 0 ? [0, 2] : [2, 0];
      const third = 1;
      c.slowLink(idle, busy, 30); // the losing write reaches the busy server last
      c.slowLink(busy, third, 20); // the winning write reaches the third server last
      const values = round < 2 ? { [busy]: 'a win', [idle]: 'z lose' } : { [busy]: `w${round}`, [idle]: `v${round}` };
      const writeBusy = (async () => {
        const cl = c.client(busy);
        for (let i = 0; i < 3; i++) await cl.write(`pre${i}`, `${i}`);
        await cl.write('x', values[busy]);
      })();
      await Promise.all([writeBusy, c.client(idle).write('x', values[idle])]);
      const agreed = await expectAgreement(
        c,
        ['x'],
        'Every server must apply last-writer-wins to the same writes, whatever order they arrive in.',
      );
      check(
        agreed.get('x') === values[busy],
        `round ${round}: server ${busy} wrote three other keys and then x=${show(values[busy])} (its 4th event: timestamp (4, ${busy})); ` +
          `at the same time server ${idle} wrote x=${show(values[idle])} as its first event (timestamp (1, ${idle})). Links were uneven, so ` +
          `server ${busy} received the other write last and server ${third} received ${show(values[busy])} last. Every server ended with ` +
          `${show(agreed.get('x'))}; the rule keeps the largest (clock, server id, value), so expected ${show(values[busy])}. Likely causes: ` +
          'the last write to arrive wins instead of the largest timestamp; the server id is compared before the clock; the clock is not ticked per write.',
      );
    }
    ctx.log(`${LWW_ROUNDS} rounds: the larger Lamport clock won everywhere`);
  },
};

const sequentialOwnWriteInOrder: TestDefinition<Lab3Impl> = {
  name: 'TestSequentialOwnWriteInOrder',
  description:
    "sequential level, uneven links: server 1 writes x, then server 2 writes x before hearing of it; the total order puts server 1's write first, so a reader at server 2 must never see server 2's own write before server 1's",
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'sequential', links: FIXED_LINKS });
    c.slowLink(1, 2, 40); // server 2 hears of server 1's write 45 ms late
    const w1 = c.client(1);
    const w2 = c.client(2);
    const reader = c.client(2);
    const seen: string[] = [];
    let reading = true;
    const reads = (async () => {
      while (reading) {
        seen.push(await reader.read('x'));
        await sleep(1);
      }
    })();
    // Both are their server's first broadcast: timestamps (1, 1) < (1, 2), so "one" comes first in the total order.
    await Promise.all([w1.write('x', 'one'), sleep(2).then(() => w2.write('x', 'two'))]);
    await sleep(100);
    reading = false;
    await reads;
    const order = orderSeen(seen);
    const agreed = await expectAgreement(c, ['x'], 'Both writes must be delivered everywhere, in the same order.');
    check(
      agreed.get('x') === 'two' &&
        order.join('\u0000') === ['one', 'two'].slice(2 - order.length).join('\u0000') &&
        order.length > 0,
      () =>
        `Server 1 wrote x="one" (timestamp (1, 1)) and 2 ms later server 2 wrote x="two" (timestamp (1, 2)), before it received "one" (its link ` +
        `from server 1 is 40 ms slow). The total order is "one" then "two", so every server must show "one" before "two". A client at server 2 ` +
        `reading every millisecond saw ${order.map(show).join(' then ') || 'nothing'}; the servers ended with ${show(agreed.get('x'))}. ` +
        "Likely causes: the server applies its own client's write at once instead of when the broadcast delivers it; the hold-back queue is " +
        'not sorted by (clock, server id); a message is delivered before every server acknowledged it.',
    );
    c.expect('sequential', ctx.log);
  },
};

/** Who writes first in the total order, who writes second, and whose link from the first is slow, per round. */
const OVERTAKE_ROUNDS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 2, 0],
  [0, 2, 1],
  [0, 1, 2],
  [0, 2, 0], // server 0's broadcast to itself is overtaken by its acknowledgement of "two": peers[me] is a link like the others
];

/** TestOvertakenBroadcast's two values: distinctive, so that no message carries one by chance (an ack's field "done"). */
const ONE = 'one·ov7';
const TWO = 'two·ov7';

const overtakenBroadcast: TestDefinition<Lab3Impl> = {
  name: 'TestOvertakenBroadcast',
  description:
    "sequential level, one delayed message per fresh cluster: a broadcast is overtaken on its link by later messages from the same server (an acknowledgement of a write with a larger timestamp), once on a server's link to itself; every server must still deliver the two writes in timestamp order",
  async run(ctx: Ctx) {
    for (const [first, second, victim] of OVERTAKE_ROUNDS) {
      const c = cluster(ctx, { servers: 3, level: 'sequential', links: FIXED_LINKS });
      // Only the messages that carry the first write's value (its broadcast); the acknowledgements after it are not delayed.
      const hold = c.holdCarrying(first, victim, 50, ONE);
      const reader = c.client(victim);
      const seen: string[] = [];
      let reading = true;
      const reads = (async () => {
        while (reading) {
          seen.push(await reader.read('x'));
          await sleep(1);
        }
      })();
      // Both are their server's first broadcast, "one" from the lower id: timestamps (1, first) < (1, second).
      await Promise.all([c.client(first).write('x', ONE), sleep(1).then(() => c.client(second).write('x', TWO))]);
      await sleep(120);
      reading = false;
      await reads;
      const order = orderSeen(seen);
      const values = await c.readEverywhere('x');
      const fifo =
        'Likely causes: messages from one server (this server itself included) are handled in arrival order, although a later message (here an acknowledgement) can ' +
        'overtake an earlier one on the same link (number the messages per link and hold back early ones); an acknowledgement that ' +
        'arrives before the message it acknowledges is dropped instead of kept by timestamp; the head of the queue is delivered before ' +
        'every server acknowledged it.';
      check(
        values.every((v) => v === TWO),
        () =>
          `Server ${first} wrote x=${show(ONE)} (timestamp (1, ${first})) and 1 ms later server ${second} wrote x=${show(TWO)} (timestamp (1, ${second})); ` +
          `the broadcast of ${show(ONE)} to server ${victim}${first === victim ? ' (itself)' : ''} took ${first === victim ? 50 : 55} ms while every other message between servers took 5 ms (0 to itself). The total order is ${show(ONE)} then ${show(TWO)}, so every ` +
          `server must end with ${show(TWO)}; 120 ms later ${values.map((v, i) => `server ${i} has ${show(v)}`).join(', ')}. ${fifo}`,
      );
      check(
        order.length > 0 && order.join('\u0000') === [ONE, TWO].slice(2 - order.length).join('\u0000'),
        () =>
          `A client at server ${victim} reading x every millisecond saw ${order.map(show).join(' then ') || 'nothing'}; the total order is ${show(ONE)} then ${show(TWO)}. ${fifo}`,
      );
      // The scenario must have happened where it could: a message carrying the write, and later messages on that link
      // overtaking it, whenever the server sent any behind it (a server may send nothing more on a link for a while).
      if (hold.held > 0 && hold.sentBehind === 0)
        ctx.log(`round ${first}-${second}-${victim}: nothing was sent behind the held broadcast on its link`);
      check(
        hold.held > 0 && (hold.overtaken || hold.sentBehind === 0),
        () =>
          `The test held back the broadcast of ${show(ONE)} on the link from server ${first} to server ${victim}${first === victim ? ' (itself)' : ''} so that ` +
          `the server's later messages on that link would overtake it, but ${hold.held === 0 ? `no message on that link carried the value ${show(ONE)}` : `none of the ${hold.sentBehind} messages sent behind it arrived before it`}. ` +
          'Expected: the broadcast of a write carries its value (as given: a string in the arguments, not encoded) to every server (itself included), through its peers[] ends, and every server ' +
          'acknowledges each broadcast to every server (itself included). Likely causes: the write is applied or sent some other way than ' +
          "the broadcast (a shared variable, a message to the server's own object); later messages held back by the server itself until the broadcast arrives.",
      );
      c.expect('sequential', ctx.log);
    }
    ctx.log(`${OVERTAKE_ROUNDS.length} rounds: every server delivered in timestamp order`);
  },
};

const sequentialWritesOrdered: TestDefinition<Lab3Impl> = {
  name: 'TestSequentialWritesOrdered',
  description:
    "sequential level: a client at server 0 writes x and a client at server 1 writes y at the same moment, then each reads the other's key: " +
    'the two writes are in one order, so at least one of them must see the other (both reading "" is not sequentially consistent)',
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'sequential', links: FIXED_LINKS });
    const a = c.client(0);
    const b = c.client(1);
    const [aSaw, bSaw] = await Promise.all([
      a.write('x', 'x1').then(() => a.read('y')),
      b.write('y', 'y1').then(() => b.read('x')),
    ]);
    ctx.log(`after writing, the client at server 0 read y=${show(aSaw)}, the one at server 1 read x=${show(bSaw)}`);
    c.expect(
      'sequential',
      ctx.log,
      `The client at server 0 wrote x and then read y=${show(aSaw)}; at the same moment the client at server 1 wrote y and then read ` +
        `x=${show(bSaw)}. Likely causes: a sequential write answers its client before the broadcast delivers it at that server (applied ` +
        "at once, as at the eventual level, or answered when it is sent), so neither write is ordered before the other one's read. ",
    );
  },
};

const sequentialReadsDelivered: TestDefinition<Lab3Impl> = {
  name: 'TestSequentialReadsDelivered',
  description:
    'sequential level, a slow link from server 2 to server 0: server 1 writes y, then server 0 writes x (a larger timestamp); a second client at ' +
    'server 0 reads x and y while neither write is delivered there, and the writer at server 1 reads x: the history must be sequentially consistent ' +
    '(a read shows only delivered writes, never one still waiting in the queue)',
  async run(ctx: Ctx) {
    const c = cluster(ctx, { servers: 3, level: 'sequential', links: FIXED_LINKS });
    c.slowLink(2, 0, 40); // server 2's acknowledgements reach server 0 45 ms late, so both writes wait there
    const b = c.client(1);
    const a = c.client(0);
    const reader = c.client(0);
    const wroteY = b.write('y', 'y1');
    await sleep(6); // server 0 has received the broadcast of y (5 ms): x's timestamp will be larger than y's
    const wroteX = a.write('x', 'x1');
    await sleep(1);
    const seen = [await reader.read('x'), await reader.read('y')];
    await wroteY; // delivered at server 1 (about 10 ms): y is first in the total order, x cannot be delivered before ~16 ms there
    const bSaw = await b.read('x');
    await wroteX;
    ctx.log(
      `the reader at server 0 saw x=${show(seen[0])}, y=${show(seen[1])}; the writer of y then read x=${show(bSaw)} at server 1`,
    );
    c.expect(
      'sequential',
      ctx.log,
      `A client at server 0 read x=${show(seen[0])} and then y=${show(seen[1])} while the write of x (after y in the total order) was still ` +
        `waiting at server 0; the client that wrote y at server 1 then read x=${show(bSaw)}. Likely causes: a read at the sequential level ` +
        "looks at writes still waiting in the queue (its own server's included) instead of only at the store, which changes only when the " +
        'broadcast delivers a write; or a sequential write is applied at once at its own server (as at the eventual level) instead of when it is delivered. ',
    );
  },
};

/** Writer and reader servers per round: the reader has the lower id, so a read not ordered after the write would come first. */
const REMOTE_WRITE_ROUNDS: ReadonlyArray<readonly [number, number]> = [
  [2, 0],
  [1, 0],
  [2, 1],
];

const linearizableReadAfterRemoteWrite: TestDefinition<Lab3Impl> = {
  name: 'TestLinearizableReadAfterRemoteWrite',
  description:
    'linearizable level, fresh clusters with a slow link from the writer to the reader: a write at a higher-id server returns, then a read at a lower-id server must return it',
  async run(ctx: Ctx) {
    for (const [w, r] of REMOTE_WRITE_ROUNDS) {
      const c = cluster(ctx, { servers: 3, level: 'linearizable', links: FIXED_LINKS });
      c.slowLink(w, r, 40); // the reader's server hears of the write 45 ms after it is sent
      await c.client(w).write('x', 'done');
      const got = await c.client(r).read('x');
      check(
        got === 'done',
        `A client wrote x="done" at server ${w} and the write returned; then a client at server ${r} (whose link from server ${w} is ` +
          `40 ms slow) read x and got ${show(got)}. A linearizable read must see every write that finished before it began. Likely causes: ` +
          'the write is answered before its own server delivered it (then the read, with a smaller timestamp, is ordered first); ' +
          'the read is answered from the local copy, or when its broadcast comes back to its own server, instead of when this server delivers it.',
      );
      c.expect('linearizable', ctx.log);
    }
    ctx.log(`${REMOTE_WRITE_ROUNDS.length} rounds: every read saw the write that had finished`);
  },
};

/**
 * What the runner's monitors hold every simulated test to (suite/monitors): the timers live at its end, and the
 * handout's two promises on a peer call that rejects (lab3/test/resend.ts): sent again no sooner than RESEND_MS after
 * each failure, and no later than RESEND_WITHIN_MS (the attackers make peer calls fail, as a server not listening yet
 * does). TestRealLateStart holds its real servers to the same pacing (real.ts).
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 2,
    perCall: 1,
    causes: 'a re-send timer set for a message and never cleared once the message got through',
  },
  pacing: [PEER_PACING],
  resend: PEER_RESEND,
};

/** Servers in TestManyServersAtOnce's clusters: ids reach past one decimal digit. */
const BURST_SERVERS = 12;
/** Rounds of TestManyServersAtOnce per level. */
const BURST_ROUNDS = 3;
/** The most clients a server has writing at once in a round of TestManyServersAtOnce. */
const BURST_CLIENTS = 3;

/** How long a round of TestManyServersAtOnce may take, virtual ms: the reference's take a few tens. */
const BURST_ROUND_MS = 5000;

/** The servers of TestManyServersAtOnce's skewed round that hear nothing at first: ids of two digits. */
const SKEW_LATE = [BURST_SERVERS - 2, BURST_SERVERS - 1];
/** The servers of the skewed round whose clocks run ahead: one-digit ids, so that "clock then id" strings meet the late ones'. */
const SKEW_EARLY = [0, 1];
/** Writes at once by the clients of each early server, each a tick of its clock (past 10, 20, 30). */
const SKEW_EARLY_WRITES = 14;
/** Writes at once by the clients of each late server, sent while its clock is still low. */
const SKEW_LATE_WRITES = 2;
/** How long the messages to the late servers are held, virtual ms, and for how long they are. */
const SKEW_HOLD_MS = 200;
const SKEW_WINDOW_MS = 20;
/** When the late servers' clients write, virtual ms after the early ones: their broadcasts are out, not yet delivered. */
const SKEW_LATE_AT_MS = 5;

/**
 * TestManyServersAtOnce's skewed round, on a fresh cluster: the two-digit servers hear nothing for a while, so their
 * clocks stay near 0 while servers 0 and 1 broadcast many writes and their clocks pass 10, 20 and 30; then the late
 * servers write too. All write one key, so the order in which each server applies the writes shows in its value. A
 * timestamp written as clock and id with nothing between ("1" and "10" against "11" and "0") gives two of these
 * messages one key.
 */
async function skewedClocks(ctx: Ctx, level: 'linearizable' | 'sequential'): Promise<void> {
  const c = cluster(ctx, { servers: BURST_SERVERS, level });
  for (const to of SKEW_LATE)
    for (let from = 0; from < BURST_SERVERS; from++)
      if (from !== to) c.holdWindow(from, to, SKEW_HOLD_MS, SKEW_WINDOW_MS);
  const pending = new Set<string>();
  const writeFrom = (servers: readonly number[], count: number): Array<Promise<void>> =>
    servers.flatMap((s) =>
      Array.from({ length: count }, async (_, i) => {
        const client = c.client(s);
        const name = `${s}.${i}`;
        pending.add(name);
        await client.write(SKEW_KEY, `from ${name}`);
        pending.delete(name);
      }),
    );
  const early = writeFrom(SKEW_EARLY, SKEW_EARLY_WRITES);
  await sleep(SKEW_LATE_AT_MS);
  const late = writeFrom(SKEW_LATE, SKEW_LATE_WRITES);
  await within(Promise.all([...early, ...late]), SKEW_HOLD_MS + BURST_ROUND_MS, () =>
    burstStuck(level, 'the skewed round', pending),
  );
  c.expect(level, ctx.log, `${BURST_SERVERS} servers, two of them hearing nothing at first: `);
  await expectAgreement(
    c,
    [SKEW_KEY],
    `Servers ${SKEW_LATE.join(' and ')} heard nothing for ${SKEW_HOLD_MS} ms, so their first writes carried clocks near 0 while ` +
      `servers ${SKEW_EARLY.join(' and ')} had passed 10, 20 and 30; every server must still apply the same writes in the same order ` +
      '(a timestamp written as clock then id with nothing between, "1" and "10" against "11" and "0", gives two messages one key).',
  );
}

/** The one key of TestManyServersAtOnce's skewed round. */
const SKEW_KEY = 'skew';

/** Why a round of TestManyServersAtOnce did not finish: the writes still waiting, and the likely causes. */
function burstStuck(level: ConsistencyLevel, round: number | string, pending: ReadonlySet<string>): string {
  const stuck = [...pending].map((key) => `server ${key.split('.')[0]}'s client ${key.split('.')[1]}`);
  const which = typeof round === 'number' ? `round ${round + 1} of ${BURST_ROUNDS}` : round;
  return (
    `${BURST_SERVERS} ${level} servers, ${which}: ${pending.size} writes sent at once were not ` +
    `acknowledged within ${BURST_ROUND_MS / 1000} s (${stuck.slice(0, 6).join(', ')}${stuck.length > 6 ? ', ...' : ''}); ` +
    'the network is reliable and fast, so each should take a few tens of ms. Likely causes: two timestamps given one key ' +
    'in a table of acknowledgements or waiting writes (such as clock * 10 + server, which repeats once there are 10 ' +
    'servers or more: use the pair, or a string of both with a separator), so that acknowledgements of one message count ' +
    'for another; a message delivered before every server acknowledged it, or never because an acknowledgement was lost ' +
    'in a table; a client write answered only when no other write is waiting at its server.'
  );
}

const manyServersAtOnce: TestDefinition<Lab3Impl> = {
  name: 'TestManyServersAtOnce',
  description: `linearizable and sequential levels, ${BURST_SERVERS} servers: ${BURST_ROUNDS} rounds in which 1 to ${BURST_CLIENTS} clients of every server write at once (each a key of its own), so that clocks and server ids of every size meet; then, on a fresh cluster, servers ${SKEW_LATE.join(' and ')} hear nothing for ${SKEW_HOLD_MS} ms while servers ${SKEW_EARLY.join(' and ')} write to one key, so that low clocks meet high ones; the history is as the level promises and every server applies the same writes in the same order`,
  async run(ctx: Ctx) {
    const rng = ctx.world!.rng;
    for (const level of ['linearizable', 'sequential'] as const) {
      const c = cluster(ctx, { servers: BURST_SERVERS, level });
      const clients = Array.from({ length: BURST_SERVERS }, (_, s) =>
        Array.from({ length: BURST_CLIENTS }, () => c.client(s)),
      );
      for (let round = 0; round < BURST_ROUNDS; round++) {
        // Each client its own key: what is checked is the order of the broadcasts, not a contest for one key.
        const pending = new Set<string>();
        const writes = clients.flatMap((own, s) =>
          own.slice(0, rng.between(1, BURST_CLIENTS)).map(async (client, i) => {
            const key = `${s}.${i}`;
            pending.add(key);
            await client.write(key, `${round}`);
            pending.delete(key);
          }),
        );
        await within(Promise.all(writes), BURST_ROUND_MS, () => burstStuck(level, round, pending));
        await clients[rng.int(BURST_SERVERS)][0].read(`${rng.int(BURST_SERVERS)}.0`);
      }
      c.expect(level, ctx.log, `${BURST_SERVERS} servers writing at once: `);
      // The first client of each server wrote in every round: its key is compared at every server.
      const firsts = clients.map((_, s) => `${s}.0`);
      await expectAgreement(c, firsts, 'All servers must apply the same writes in the same (total) order.');
      await skewedClocks(ctx, level);
    }
  },
};

/** Lab 3's suite: the grader loads it with the student's files or the solution's. */
export const suite: LabSuite<Lab3Impl> = {
  lab: 'lab3',
  title: 'Lab 3: consistency models over totally ordered broadcast',
  implFiles: IMPL_FILES,
  load,
  tests: monitored(MONITORS, [
    scored(basic, { points: 4, part: 3 }),
    scored(linearizableConcurrent, { points: 4, part: 3 }),
    scored(sequentialConcurrent, { points: 4, part: 3 }),
    scored(reorderingLinks, { points: 4, part: 3 }),
    scored(sequentialTextbook, { points: 4, part: 3 }),
    scored(staleReadSequential, { points: 3, part: 3 }),
    scored(noStaleReadLinearizable, { points: 3, part: 3 }),
    scored(eventualConvergence, { points: 3, part: 3 }),
    scored(eventualTieBreak, { points: 4, part: 3 }),
    scored(latencyOrder, { points: 4, part: 4 }),
    scored(originalConfigs, { points: 3, part: 3 }),
    scored(ownLatestWrite, { points: 4, part: 3 }),
    scored(eventualCausalWrite, { points: 4, part: 3 }),
    scored(eventualOverwriteSeen, { points: 3, part: 3 }),
    scored(eventualBlindOverwrite, { points: 3, part: 3 }),
    scored(eventualLastWriterWins, { points: 3, part: 3 }),
    scored(eventualRewrite, { points: 2, part: 3 }),
    scored(sequentialOwnWriteInOrder, { points: 4, part: 3 }),
    scored(overtakenBroadcast, { points: 4, part: 3 }),
    scored(sequentialReadsDelivered, { points: 4, part: 3 }),
    scored(sequentialWritesOrdered, { points: 3, part: 3 }),
    scored(linearizableReadAfterRemoteWrite, { points: 4, part: 3 }),
    scored(nemesisTest('linearizable', 'TestNemesisLinearizable'), { points: 3, part: 3 }),
    scored(nemesisTest('sequential', 'TestNemesisSequential'), { points: 3, part: 3 }),
    scored(nemesisTest('eventual', 'TestNemesisEventual'), { points: 3, part: 3 }),
    scored(realLateStart, { points: 4, part: 3 }),
    scored(modelConsistency, { points: 4, part: 3 }),
    scored(memManyOps, { points: 3, part: 3 }),
    scored(manyServersAtOnce, { points: 2, part: 3 }),
  ]),
};
