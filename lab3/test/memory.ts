/**
 * Lab 3's promise over a long life (TestMemManyOps): what the servers keep does not grow with the operations they
 * served. Once a message is delivered, nothing of it may stay behind (its queue entry, its acknowledgements, the
 * reply waiting for it); only the store and the per-peer counters remain.
 */
import { liveHeapBytes, stopHoldersOfServers } from '../../suite/memory';
import { check, type TestContext, type TestDefinition } from '../../suite';
import { sleep } from '../../world';
import { CONSISTENCY_LEVELS } from '../rpc';
import { Cluster, type Lab3Impl } from './harness';

type Ctx = TestContext<Lab3Impl>;

/** Servers of each cluster, one client at each. */
const SERVERS = 3;
/** Operations of the short life; the long life makes LONG_FACTOR times as many. */
const SHORT_OPS = 300;
const LONG_FACTOR = 6;
/** The keys the clients read and write: a fixed few, so that the store holds as much after the long life as the short. */
const KEYS = ['a', 'b', 'c', 'd'];
/**
 * Characters of every value written: all equal, so that the store weighs the same whichever write it holds; long
 * enough that a value kept per write weighs several times the bound below (labrpc hands each server the client's own
 * string, so every server's copy of a value weighs as one).
 */
const VALUE_CHARS = 256;
/** How long the clusters are left quiet before they are weighed (every message delivered), virtual ms. */
const QUIET_MS = 1000;
/**
 * What the servers may keep per operation of the long life beyond the short one, bytes (the whole cluster's
 * growth divided by the extra operations). The reference's servers keep 15-40 (their maps settle into their sizes, and
 * the engine's notes on each server's own copy of the code grow a little with use);
 * a server that keeps an entry per delivered message keeps 100-300 bytes per broadcast at every server.
 */
const BYTES_PER_OP = 64;
/**
 * What a server built and never used may keep, bytes (its share of its cluster's heap, freed when dropped). The
 * reference's keep 15-17 KiB each in the grader (mostly the engine's notes on its own copy of the code). A server
 * that set memory aside when built could give it back as it keeps what it should not, and show no growth between a
 * short life and a long one: within this bound, at most about 110 bytes per extra operation of a cluster.
 */
const FRESH_BYTES_PER_SERVER = 48 * 1024;
/**
 * What a server may keep after the long life, bytes (its share of the heap of every level's cluster). The reference's
 * keep 17-40 KiB each. Memory set aside at a server's first operation, and given back as it keeps what it should
 * not, would show no growth between the two lives; within this bound it hides at most about 120 bytes per extra
 * operation of a cluster, and a server that keeps an entry per delivered message is over it.
 */
const LONG_BYTES_PER_SERVER = 96 * 1024;

/**
 * The value of operation `n` of a life of `ops` operations: VALUE_CHARS characters, different for each n and each
 * life (so that no message of one cluster looks like another's re-sent one to the tester's pacing monitor).
 */
function valueOf(n: number, ops: number): string {
  return `v${ops}-${n}`.padEnd(VALUE_CHARS, '.');
}

/** A key nobody writes, read once by operation `n`: a read must leave nothing behind (no empty entry in the store). */
function unwrittenKey(n: number): string {
  return `unwritten-${n}`;
}

/**
 * `ops` operations on `c` of KEYS, from a client at each server one after another: half writes and half reads at the
 * linearizable level (whose reads go through the broadcast), writes only at the others (whose reads are local, while
 * every write reaches each peer: what a server keeps per update it receives shows most), each followed there by a
 * local read. Every read is of a key nobody writes.
 */
async function serve(c: Cluster, ops: number): Promise<void> {
  await Promise.all(
    Array.from({ length: c.n }, async (_, s) => {
      const client = c.client(s);
      for (let n = s; n < ops; n += c.n) {
        const key = KEYS[n % KEYS.length];
        if (c.level === 'linearizable' && Math.floor(n / c.n) % 2 === 1) {
          await client.read(unwrittenKey(n));
          continue;
        }
        await client.write(key, valueOf(n, ops));
        if (c.level !== 'linearizable') await client.read(unwrittenKey(n));
      }
    }),
  );
}

/**
 * At the eventual level (whose writes wait for no peer), server 0 refuses its peers' calls for REFUSE_MS of every
 * REFUSE_EVERY_MS while its cluster serves (virtual ms), as a peer that is slow to listen does: most messages to it
 * fail at first and are re-sent, and once delivered nothing of them may stay behind either.
 */
const REFUSE_MS = 300;
const REFUSE_EVERY_MS = 400;

/** `ops` operations on `c` (serve), while, at the eventual level, server 0 refuses its peers' calls most of the time. */
async function serveWithRefusals(c: Cluster, ops: number): Promise<void> {
  if (c.level !== 'eventual') return serve(c, ops);
  let served = false;
  const refusals = (async () => {
    while (!served) {
      c.refusePeers(0, true);
      await sleep(REFUSE_MS);
      c.refusePeers(0, false);
      await sleep(REFUSE_EVERY_MS - REFUSE_MS);
    }
  })();
  await serve(c, ops);
  served = true;
  await refusals;
}

/** What servers keep after a short life and after a long one, in bytes: one level's, or every level's together. */
interface Lives {
  /** "linearizable", ..., or "the three levels together". */
  readonly who: string;
  /** What servers built and never used keep (the code's own, before any operation). */
  fresh: number;
  short: number;
  long: number;
}

/** What `lives`' servers keep per extra operation of a long life over a short one (of one cluster). */
function perOp(lives: Lives): number {
  return (lives.long - lives.short) / ((LONG_FACTOR - 1) * SHORT_OPS);
}

/**
 * Fresh clusters at every level, a short life and a long one each, all side by side; once quiet, weighed as the
 * heap their servers free when they go. `apart`: each cluster on its own (seven heap readings), to say which level
 * grows; else the short lives together and the long lives together (three readings: a full collection is the
 * test's dearest step), whose growth per operation adds up every level's.
 */
async function weighLives(ctx: Ctx, apart: boolean): Promise<Lives[]> {
  const plan = [0, SHORT_OPS, LONG_FACTOR * SHORT_OPS].flatMap((ops) =>
    CONSISTENCY_LEVELS.map((level) => {
      // A history would keep every value written, out of the weighing: what the servers keep of a value would not show.
      const c = new Cluster(ctx.impl, { servers: SERVERS, level, history: 'unfinished' });
      c.onOp = () => ctx.countOps();
      return { level, ops, c };
    }),
  );
  await Promise.all(plan.map(({ c, ops }) => serveWithRefusals(c, ops)));
  await sleep(QUIET_MS);
  const lives = (apart ? CONSISTENCY_LEVELS : ['the three levels together']).map((who): Lives => ({
    who,
    fresh: 0,
    short: 0,
    long: 0,
  }));
  // External memory counted too (Buffers, typed arrays, external strings): a server that kept its history in a Buffer
  // would otherwise weigh nothing. Nothing else of this process does I/O while the simulated clusters are weighed.
  stopHoldersOfServers(plan.map(({ c }) => c.net));
  let heap = liveHeapBytes();
  for (const [i, { level, ops, c }] of plan.entries()) {
    c.dropServers();
    const last = !apart && i + 1 < plan.length && plan[i + 1].ops === ops;
    if (last) continue; // weighed together with the next cluster of the same life
    const now = liveHeapBytes();
    const life = apart ? lives.find((l) => l.who === level)! : lives[0];
    if (ops === 0) life.fresh = heap - now;
    else if (ops === SHORT_OPS) life.short = heap - now;
    else life.long = heap - now;
    heap = now;
  }
  for (const life of lives)
    ctx.log(
      `${life.who}: ${apart ? SERVERS : SERVERS * CONSISTENCY_LEVELS.length} servers keep ` +
        `${(life.short / 1024).toFixed(1)} KiB after ${SHORT_OPS} operations each, ` +
        `${(life.long / 1024).toFixed(1)} KiB after ${LONG_FACTOR * SHORT_OPS}: ${perOp(life).toFixed(1)} bytes per ` +
        'extra operation',
    );
  return lives;
}

export const memManyOps: TestDefinition<Lab3Impl> = {
  name: 'TestMemManyOps',
  description:
    `every level: ${SERVERS} servers weighed (Buffers included) after ${SHORT_OPS} operations on ${KEYS.length} keys (writes only at the sequential and eventual levels, each followed by a local read; every read of a key nobody writes; at the eventual level server 0 refuses its peers' calls ${REFUSE_MS} ms of every ${REFUSE_EVERY_MS}) and, afresh, ` +
    `after ${LONG_FACTOR * SHORT_OPS}: what they keep does not grow with the operations (at most ${BYTES_PER_OP} bytes per extra operation), servers never used keep at most ${FRESH_BYTES_PER_SERVER / 1024} KiB each, and after the long life at most ${LONG_BYTES_PER_SERVER / 1024} KiB each`,
  async run(ctx: Ctx) {
    // Every level's growth together first (few heap readings); only when that is over the bound, every level on its
    // own, on fresh clusters, and a level over it then once more: a heap reading can catch the engine dropping its own
    // caches, but a server that keeps something per operation is over the bound every time (as in lighterWeighing).
    let [together] = await weighLives(ctx, false);
    const perServer = (life: Lives): number => life.long / (SERVERS * CONSISTENCY_LEVELS.length);
    // Over the bound on what the long lives keep: weighed once more, afresh (a noisy reading happens).
    if (perServer(together) > LONG_BYTES_PER_SERVER) [together] = await weighLives(ctx, false);
    const fresh = together.fresh / (SERVERS * CONSISTENCY_LEVELS.length);
    check(
      fresh <= FRESH_BYTES_PER_SERVER,
      `${SERVERS * CONSISTENCY_LEVELS.length} servers built and never used (${SERVERS} at each level) kept ` +
        `${(fresh / 1024).toFixed(1)} KiB each (at most ${FRESH_BYTES_PER_SERVER / 1024} KiB expected): a server ` +
        'needs its empty store, its counters and its peers, nothing sized in advance. Likely causes: tables filled or ' +
        'grown ahead of use (entries set aside at start), or large buffers allocated in the constructor; memory set ' +
        'aside at start and given back later would hide what a server keeps per operation from this test.',
    );
    check(
      perServer(together) <= LONG_BYTES_PER_SERVER,
      `${SERVERS * CONSISTENCY_LEVELS.length} servers (${SERVERS} at each level) kept ` +
        `${(perServer(together) / 1024).toFixed(1)} KiB each after ${LONG_FACTOR * SHORT_OPS} client operations of ` +
        `${KEYS.length} keys (over the bound twice in a row; at most ${LONG_BYTES_PER_SERVER / 1024} KiB expected): ` +
        'the store holds one value per written key, and once a message is delivered nothing of it is needed again. ' +
        'Likely causes: an entry left in the store by a read of a key nobody wrote; acknowledgements never forgotten once delivered; delivered messages kept in the hold-back queue, a ' +
        'log or a history; every value written kept (the earlier values of each key); the callbacks of answered ' +
        'operations left in a map; a set of every message id received; ' +
        'messages kept after a failed call (a table of messages to re-send, never emptied); ' +
        'memory set aside at the first operation (tables or arrays sized in advance, a pool of spare objects), which ' +
        'would also hide what a server keeps per operation from the growth check.',
    );
    if (perOp(together) <= BYTES_PER_OP) return;
    // A level over the bound on its own is weighed once more, afresh: two noisy readings in a row happen about once in
    // a thousand runs, a server that keeps something per operation is over every time.
    const over = (await weighLives(ctx, true)).filter((life) => perOp(life) > BYTES_PER_OP).map((life) => life.who);
    if (over.length === 0) return;
    for (const life of (await weighLives(ctx, true)).filter((l) => over.includes(l.who))) {
      const grown = perOp(life);
      check(
        grown <= BYTES_PER_OP,
        `${life.who}: ${SERVERS} servers were weighed (their heap and their Buffers) after ${SHORT_OPS} client operations (${life.who === 'linearizable' ? 'half writes, half reads' : 'writes, each followed by a local read'} ` +
          `of ${KEYS.length} keys, every read of a key nobody writes, values of ${VALUE_CHARS} characters), keeping ` +
          `${(life.short / 1024).toFixed(1)} KiB, and, in a fresh cluster, after ${LONG_FACTOR * SHORT_OPS}, keeping ` +
          `${(life.long / 1024).toFixed(1)} KiB: ${grown.toFixed(0)} more bytes per extra operation (over the bound twice ` +
          `in a row, on fresh clusters). Expected what ` +
          `they keep not to grow with the operations (at most ${BYTES_PER_OP} bytes per operation): the store holds ` +
          'one value per written key, and once a message is delivered nothing of it is needed again. Likely causes: ' +
          'an entry left in the store by a read of a key nobody wrote (a get-or-create lookup); acknowledgements never forgotten once delivered (a map entry or a set per message, keyed by a timestamp ' +
          'never seen again); delivered messages kept in the hold-back queue, a log or a history; every value written ' +
          "kept (each key's earlier values, in a list never read); the callbacks of " +
          'answered operations left in a map; a set of every message id received, to drop re-sent copies (the ' +
          'per-link sequence numbers already tell a copy: keep only the next number expected); early arrivals or ' +
          'propagated writes kept after they were handled; messages kept after a failed call (a table of messages to re-send whose ' +
          'entries stay once the re-sent copy is delivered).',
      );
    }
  },
};
