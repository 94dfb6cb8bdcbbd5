/**
 * Lab 6's promise over a long life (TestMemKV4C), which MIT's tests leave unchecked: what a key/value group keeps does
 * not grow with the operations it served. With snapshots on, the store holds one value per key and the log stays
 * near maxRaftState; nothing of an operation is needed once it is applied, answered and in a snapshot.
 */
import { check, type TestContext, type TestDefinition } from '../../suite';
import { freedWhenGone, stopHoldersOfServers } from '../../suite/memory';
import { keyedRng, sleep, type Rng } from '../../world';
import { ELECTION_TIMEOUT_MS, type Lab6Impl } from './harness';
import { KvTester, MAX_RAFT_STATE } from './kvharness';

type Ctx = TestContext<Lab6Impl>;

/** Servers of each group. */
const SERVERS = 3;
/** Puts of the short life; the long life makes LONG_FACTOR times as many. */
const SHORT_OPS = 150;
const LONG_FACTOR = 6;
/** The keys written: a fixed few, so that the store holds as much after the long life as after the short one. */
const KEYS = ['m0', 'm1', 'm2', 'm3'];
/**
 * Characters of every value: all equal, so that the store weighs the same whichever put it holds last; long enough
 * that a value kept per put weighs twice the bound below (labrpc hands each server the clerk's own string, so the
 * three servers' copies of a value weigh as one). Each put's entry is over MAX_RAFT_STATE: a snapshot follows each.
 */
const VALUE_CHARS = 1000;
/**
 * What a group may keep per put of the long life beyond the short one, bytes (its three servers' growth divided by
 * the extra puts). The reference's grow by about 80-130 KiB between the two lives alone, and by up to 260 KiB in a
 * whole grade (what the engine keeps of each server's own copy of the code, and of the tests run before): the bound
 * must leave room for that. A group that keeps each compacted log entry keeps about 1,500 bytes per put (each
 * server's entry and command objects, and the value they share), one that keeps each value put about 1,000; one whose
 * RSM keeps the id of every applied operation about 60, which this weighing cannot tell from that noise.
 */
const BYTES_PER_OP = 480;
/**
 * What a server may keep after the long life, bytes (its share of its group's heap, freed when it went). The
 * reference's keep 60-75 KiB each (much of it the engine's notes on each server's own copy of the code). Memory set
 * aside early and given back as entries are kept would show no growth between the two lives; within this bound it
 * hides at most about 1 KB per put, and a server that keeps each compacted entry is over it.
 */
const LONG_BYTES_PER_SERVER = 320 * 1024;

/**
 * The value of put `n`: VALUE_CHARS characters, different for each n, made afresh (the tester keeps no copy), random
 * throughout, so that no server can keep old values in less than their size by noticing a pattern.
 */
function valueOf(rng: Rng, n: number): string {
  const head = `v${n}-`;
  return head + rng.text(VALUE_CHARS - head.length);
}

/** A fresh group of SERVERS with snapshots on, after `ops` puts in a row by one clerk, each to the next of KEYS. */
async function serve(ctx: Ctx, ops: number): Promise<KvTester> {
  // A history would keep every value put, out of the weighing: what the servers keep of a value would not show.
  const ts = new KvTester(ctx, { servers: SERVERS, maxRaftState: MAX_RAFT_STATE, history: 'unfinished' });
  const ck = ts.makeClerk();
  const versions = new Map<string, number>();
  const rng = keyedRng(ctx.seed, `values of ${ops} puts`);
  for (let n = 0; n < ops; n++) {
    const key = KEYS[n % KEYS.length];
    versions.set(key, (await ts.putAtLeastOnce(ck, key, valueOf(rng, n), versions.get(key) ?? 0)) + 1);
  }
  return ts;
}

/** What a short-lived group and a long-lived one keep, in bytes: the heap each frees when its servers go for good. */
async function weighLives(ctx: Ctx): Promise<{ short: number; long: number }> {
  const short = await serve(ctx, SHORT_OPS);
  const long = await serve(ctx, LONG_FACTOR * SHORT_OPS);
  // Work still in flight (replies, heartbeats) lands, then every timer of the code stops: nothing runs after this.
  await sleep(ELECTION_TIMEOUT_MS);
  stopHoldersOfServers([]);
  // Never restarted: what the servers saved goes with them (a copy kept for a restart would hold the very strings
  // they saved, out of the reading). Their calls in flight fail within an election timeout, and let go of them.
  const freed = (ts: KvTester): Promise<number> =>
    freedWhenGone(() => {
      for (let i = 0; i < SERVERS; i++) ts.group.crash1(i, false);
    }, ELECTION_TIMEOUT_MS);
  return { short: await freed(short), long: await freed(long) };
}

export const memKV4C: TestDefinition<Lab6Impl> = {
  name: 'TestMemKV4C',
  description: `${SERVERS} servers with snapshots weighed (Buffers included) after ${SHORT_OPS} puts on ${KEYS.length} keys and, afresh, after ${LONG_FACTOR * SHORT_OPS}: what they keep does not grow with the operations (at most ${BYTES_PER_OP} bytes per extra put), and is at most ${LONG_BYTES_PER_SERVER / 1024} KiB per server after the long life`,
  async run(ctx: Ctx) {
    const perOp = (l: { short: number; long: number }): number => (l.long - l.short) / ((LONG_FACTOR - 1) * SHORT_OPS);
    const perServer = (l: { long: number }): number => l.long / SERVERS;
    let lives = await weighLives(ctx);
    // Over a bound: weighed once more, afresh. A heap reading can catch the engine dropping its own caches; a group
    // that keeps something per operation is over the bound every time.
    if (perOp(lives) > BYTES_PER_OP || perServer(lives) > LONG_BYTES_PER_SERVER) lives = await weighLives(ctx);
    const grown = perOp(lives);
    ctx.log(
      `${SERVERS} servers keep ${(lives.short / 1024).toFixed(1)} KiB after ${SHORT_OPS} puts, ` +
        `${(lives.long / 1024).toFixed(1)} KiB after ${LONG_FACTOR * SHORT_OPS}: ${grown.toFixed(1)} bytes per extra put`,
    );
    check(
      grown <= BYTES_PER_OP,
      `${SERVERS} servers with snapshots on (maxRaftState ${MAX_RAFT_STATE}) were weighed (their heap and their ` +
        `Buffers, freed when they went) after ${SHORT_OPS} puts in a row to ${KEYS.length} keys (values of ` +
        `${VALUE_CHARS} characters), keeping ${(lives.short / 1024).toFixed(1)} KiB, and, as a fresh group, after ` +
        `${LONG_FACTOR * SHORT_OPS}, keeping ${(lives.long / 1024).toFixed(1)} KiB: ${grown.toFixed(0)} more bytes ` +
        `per extra put (over the bound twice in a row). Expected what they keep not to grow with the operations (at ` +
        `most ${BYTES_PER_OP} bytes per put): the store holds one value per key, the log only what came after the ` +
        'last snapshot. Likely causes: Raft keeping the entries a snapshot replaced (an array cut by index but ' +
        'never shortened, or a copy of every entry kept aside); the RSM keeping the id, the result or the waiting ' +
        'callback of every applied operation (a map entry never deleted once its submit returned); the service ' +
        "keeping every value put (each key's earlier values, kept though never read) or a reply per operation; " +
        'snapshots kept after a newer one replaced them.',
    );
    check(
      perServer(lives) <= LONG_BYTES_PER_SERVER,
      `${SERVERS} servers with snapshots on (maxRaftState ${MAX_RAFT_STATE}) kept ${(perServer(lives) / 1024).toFixed(1)} ` +
        `KiB each after ${LONG_FACTOR * SHORT_OPS} puts in a row to ${KEYS.length} keys (values of ${VALUE_CHARS} ` +
        `characters; over the bound twice in a row). Expected at most ${LONG_BYTES_PER_SERVER / 1024} KiB each: one ` +
        'value per key, the log after the last snapshot, and the snapshot. Likely causes: Raft keeping the entries a ' +
        'snapshot replaced; the RSM keeping the id, the result or the waiting callback of every applied operation; ' +
        'the service keeping every value put (the earlier values of each key); snapshots kept after a newer one ' +
        'replaced them; memory set aside early (tables or arrays sized in advance, ' +
        'a pool of spare objects), which would also hide what a server keeps per operation from the growth check.',
    );
  },
};
