/** Part 3's named tests (persistence: restarts, crashes, snapshots, fsync) */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseStats } from '../info';
import { encodeCommand, ReplyParser, RequestParser, type RespReply } from '../resp';
import { TestFailure, isTestFailure, check } from '../../suite';
import { Rng } from '../../world/rng';
import type { RunningServer } from '../types';
import { closedFolderBound, folderBytes, RawClient, Resources, same, show } from './harness';
import type { CopiesReport, RemoteCrashCopies } from './spy-views';
import { realSleep } from '../../world';
import {
  checkAlways,
  checkEverysec,
  checkNo,
  closeWithPowerCut,
  expectSyncedAck,
  randomWrites,
  watchPowerCuts,
} from './fsync-checks';
import { expectNoLiveTimers } from './part2-expiry';
import {
  realTest,
  word,
  STRANGE_KEYS,
  checkTtl,
  asBytes,
  randomBytes,
  callBytes,
  showBytes,
  expectBytes,
} from './common';

/** Why "fleeting" must be gone after TestRestartRecovery's restart, and the likely cause when it is not. */
const FLEETING_GONE =
  'fleeting had 300 ms to live and expired while the server was down. Likely cause: the snapshot does not keep ' +
  "each key's deadline (write it with the value, as an absolute time)";

/** The data folder's size, bytes, under which TestRestartRecovery's 3000 writes to one key count as compacted. */
const COMPACT_BOUND = 200_000;
/** How long, ms, the folder may take to get under it on a machine at rest: three snapshot intervals of 300 ms. */
const COMPACT_MS = 900;
/** ... and at most, however late the machine runs timers. */
const COMPACT_MAX_MS = 5000;

/**
 * Waits three snapshot intervals, then until the data folder is small, for as long as this process's own 100 ms
 * sleeps ran late in all (at most COMPACT_MAX_MS): on a loaded machine the server's snapshot timer runs late too, and
 * at rest a server that snapshots less often than it is told still fails. Fails when the folder stays large.
 */
async function awaitCompaction(dataDir: string, ctx: { log(line: string): void }): Promise<void> {
  const waitStart = Date.now();
  let late = 0;
  let onDisk = folderBytes(dataDir);
  while (Date.now() - waitStart < Math.min(COMPACT_MS + late, COMPACT_MAX_MS)) {
    const slept = Date.now();
    await realSleep(100);
    late += Math.max(0, Date.now() - slept - 100);
    onDisk = folderBytes(dataDir);
    if (onDisk < COMPACT_BOUND && Date.now() - waitStart >= COMPACT_MS) break;
  }
  ctx.log(
    `data folder: ${onDisk} bytes ${Date.now() - waitStart} ms after 3000 writes of 1 kB to one key (snapshot interval 300 ms; this process's timers ${late} ms late)`,
  );
  check(
    onDisk < COMPACT_BOUND,
    `The data folder still holds ${onDisk} bytes ${Date.now() - waitStart} ms after 3000 writes of 1 kB to ONE key, with snapshotIntervalMs 300 (the test waits ${COMPACT_MS} ms, plus as long as its own timers ran late): each snapshot should replace the log, so the folder stays near the size of the data (a few kB), not of every write ever made (3 MB). Likely causes: a snapshot that does not cut the log, or snapshots taken less often than snapshotIntervalMs says.`,
  );
}

export const restartRecovery = realTest(
  'TestRestartRecovery',
  'close and restart on the same data folder: values, deletions and TTLs survive, SCAN walks the restored keys; snapshots compact the log',
  async (res, ctx, rng) => {
    const dataDir = res.tempDir();
    const opts = { dataDir, snapshotIntervalMs: 300, fsync: 'everysec' as const };
    let server = await res.server(opts);
    let c = await res.connect(server.port);
    const want = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const k = `p:${i}`;
      const v = word(rng, rng.between(1, 40));
      await c.expect(['SET', k, v], 'OK');
      want.set(k, v);
    }
    for (let i = 0; i < 100; i += 7) {
      await c.expect(['DEL', `p:${i}`], 1);
      want.delete(`p:${i}`);
    }
    await c.expect(['SET', 'p:1', 'overwritten'], 'OK');
    want.set('p:1', 'overwritten');
    await c.expect(['INCR', 'visits'], 1);
    await c.expect(['INCR', 'visits'], 2);
    want.set('visits', '2');
    const tLasting = Date.now();
    await c.expect(['SET', 'lasting', 'yes', 'EX', 100], 'OK');
    want.set('lasting', 'yes');
    await c.expect(['SET', 'fleeting', 'no', 'PX', 300], 'OK');
    // Compaction: 3000 writes of 1 kB to one key.
    const big = word(rng, 1000);
    for (let i = 0; i < 3000; i++) c.send('SET', 'hot', `${i}:${big}`);
    for (let i = 0; i < 3000; i++) await c.reply(`SET hot (write ${i + 1} of 3000)`);
    want.set('hot', `2999:${big}`);
    // Three snapshot intervals ("fleeting" expires meanwhile), then until the log is compacted.
    await awaitCompaction(dataDir, ctx);
    c.close();
    await server.close();
    await realSleep(200); // "fleeting" expires while the server is down
    server = await res.server(opts);
    c = await res.connect(server.port);
    for (const [k, v] of want) await c.expect(['GET', k], v, 'after a restart every value written before it is back');
    await c.expect(['GET', 'p:0'], null, 'p:0 was deleted before the restart');
    await c.expect(['GET', 'fleeting'], null, FLEETING_GONE);
    checkTtl(
      await c.call('TTL', 'lasting'),
      100,
      tLasting,
      'TTL lasting after the restart (store absolute expiry times)',
    );
    await c.expect(['DBSIZE'], want.size, 'exactly the keys alive before the restart');
    await c.expect(['TTL', 'p:2'], -1, 'a key without expiry still has none');
    const info = await c.call('INFO');
    const stats = typeof info === 'string' ? parseStats(info) : undefined;
    check(
      stats?.keys === want.size && stats.keysWithTtl === 1,
      `After the restart INFO says db0:keys=${stats?.keys},expires=${stats?.keysWithTtl}; expected keys=${want.size},expires=1 (only "lasting" has a TTL). ` +
        'Restore an expiry time only for keys that had one: a key loaded without a TTL must not count among the keys with one.',
    );
    // A whole SCAN walk returns the restored keys like any others.
    const scanned = new Set<string>();
    let cursor = '0';
    do {
      const r = await c.call('SCAN', cursor, 'COUNT', 50);
      check(
        Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && Array.isArray(r[1]),
        `SCAN ${cursor} COUNT 50 after the restart replied ${show(r)}; expected [next cursor, [keys]].`,
      );
      cursor = r[0] as string;
      for (const k of r[1] as string[]) scanned.add(k);
    } while (cursor !== '0' && scanned.size <= 2 * want.size);
    const missing = [...want.keys()].filter((k) => !scanned.has(k));
    check(
      missing.length === 0,
      `After the restart a whole SCAN walk (COUNT 50, from cursor 0 back to 0) returned ${scanned.size} keys and missed ${missing.length} of the ` +
        `${want.size} restored ones (for example ${show(missing.slice(0, 3))}), though KEYS and DBSIZE count them. Keys loaded from the data ` +
        "folder must take their place in SCAN's order as keys stored by SET do.",
    );
  },
);

export const crashRecovery = realTest(
  'TestCrashRecovery',
  'kill -9 with fsync always: no acknowledged write is lost; a torn last log record is ignored',
  async (res, ctx, rng) => {
    const dataDir = res.tempDir();
    const opts = { dataDir, fsync: 'always' as const, snapshotIntervalMs: 400 };
    const proc = await res.serverProcess(opts);
    const c = await res.connect(proc.port);
    const want = new Map<string, string>();
    const batch = async (from: number, to: number): Promise<void> => {
      const keys: string[] = [];
      for (let i = from; i < to; i++) {
        const k = `acked:${i}`;
        const v = word(rng, rng.between(1, 30));
        c.send('SET', k, v);
        keys.push(k);
        want.set(k, v);
      }
      for (const k of keys) check(same(await c.reply(`SET ${k}`), 'OK'), `SET ${k} was not acknowledged with OK.`);
    };
    await batch(0, 300);
    await realSleep(600); // at least one snapshot happens here
    await batch(300, 500);
    // Pipelined, so that the writes since the last snapshot stay in the log only (the next snapshot is due within 400 ms).
    for (let i = 0; i < 500; i += 10) c.send('DEL', `acked:${i}`);
    for (let i = 0; i < 25; i++) c.send('INCR', 'n');
    for (let i = 0; i < 500; i += 10) {
      check(same(await c.reply(`DEL acked:${i}`), 1), `DEL acked:${i} did not reply 1.`);
      want.delete(`acked:${i}`);
    }
    for (let i = 0; i < 25; i++) check(same(await c.reply('INCR n'), i + 1), `INCR n did not reply ${i + 1}.`);
    want.set('n', '25');
    const tTtl = Date.now();
    await c.expect(['SET', 'ttl', 'v', 'EX', 100], 'OK');
    want.set('ttl', 'v');
    // Every write above was acknowledged; now the power goes out.
    await proc.kill9();
    const log = path.join(dataDir, 'appendonly.aof');
    check(
      fs.existsSync(log),
      `After the crash there is no ${log}: the append-only log must be called appendonly.aof (see the README).`,
    );
    fs.appendFileSync(log, '*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$20\r\nonly half of i');
    let server = await res.server({ dataDir, fsync: 'always', snapshotIntervalMs: 60_000 });
    let r = await res.connect(server.port);
    const lost: string[] = [];
    for (const [k, v] of want) {
      const got = await r.call('GET', k);
      if (got !== v) lost.push(`${k} (${show(got)}, expected ${JSON.stringify(v)})`);
    }
    check(
      lost.length === 0,
      `After kill -9, ${lost.length} acknowledged write(s) were lost, e.g. ${lost.slice(0, 3).join('; ')}. With fsync 'always', a write must be in the log on disk before the client gets OK; on start, load the snapshot and replay the log after it.`,
    );
    await r.expect(['GET', 'acked:0'], null, 'acked:0 was deleted before the crash');
    await r.expect(['GET', 'torn'], null, 'the last log record was torn (half written): it must be ignored');
    checkTtl(await r.call('TTL', 'ttl'), 100, tTtl, 'TTL ttl after the crash');
    await r.expect(['DBSIZE'], want.size, 'exactly the acknowledged keys');
    // Records written after the torn one must not be lost at the next start.
    check(
      !fs.readFileSync(log, 'latin1').includes('only half of i'),
      `After loading, ${log} still holds the torn record at its end: cut it off (truncate the file to the last complete record), or records appended after it will be unreadable at the next start.`,
    );
    await r.expect(['SET', 'after-crash', 'kept'], 'OK');
    r.close();
    await server.close();
    server = await res.server({ dataDir, fsync: 'always', snapshotIntervalMs: 60_000 });
    r = await res.connect(server.port);
    await r.expect(
      ['GET', 'after-crash'],
      'kept',
      'a write made after recovering from a torn log must survive the next restart (cut the torn record off the log when loading)',
    );
  },
);

export const fsyncPolicy = realTest(
  'TestFsyncPolicy',
  "fsync 'always' syncs before every acknowledgement; 'everysec' about once a second; 'no' leaves it to the OS; under 'everysec' and 'no', a power cut just after close()'s snapshot is renamed into place, or just after the log is cut, keeps every key",
  async (res, ctx, rng) => {
    const quiet = { snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 }; // no snapshot or sweep during the test
    // 'always': every acknowledged write was synced before its reply was written.
    let dataDir = res.tempDir();
    let server = await res.server({ dataDir, fsync: 'always', ...quiet });
    let watch = await res.watchSyncs(dataDir, server.port);
    let c = await res.connect(server.port);
    // Every kind of write the handout's commands make, then more drawn at random.
    const writes = randomWrites(rng, 24);
    // A pipelined batch may share one fsync (group commit), but it comes before the first reply.
    const batch = Array.from({ length: 20 }, (_, i) => ['SET', `batch:${i}`, word(rng, 10)]);
    await checkAlways(c, watch, writes, batch);
    // A transaction's EXEC is a write too: its records are on disk before its reply.
    await c.expect(['MULTI'], 'OK');
    await c.expect(['SET', 'tx:a', word(rng, 10)], 'QUEUED');
    await c.expect(['INCR', 'tx:n'], 'QUEUED');
    await expectSyncedAck(c, watch, ['EXEC'], ['OK', 1], 'In a transaction: ');
    ctx.log(`'always': ${(await watch.report()).syncs.length} fsync(s) for ${writes.length + 21} acknowledged writes`);
    c.close();
    await server.close();

    // 'no': the operating system decides; the server does not fsync per write. Then a power cut during close()'s
    // snapshot (from the start, each file keeps only what was fsynced): the snapshot must hold the store.
    dataDir = res.tempDir();
    server = await res.server({ dataDir, fsync: 'no', ...quiet });
    watch = await res.watchSyncs(dataDir, server.port);
    let disk = await watchPowerCuts(res, dataDir);
    c = await res.connect(server.port);
    const noSyncs = await checkNo(c, watch, writes);
    ctx.log(`'no': ${noSyncs} fsync(s) for ${writes.length} writes`);
    c.close();
    ctx.log(`'no': ${await closeWithPowerCut(res, server, disk, 'no')}`);

    // 'everysec' (the default: no fsync option given): writes keep coming for 1.5 s; about one fsync per second, and
    // none of them waits more than about a second. Then a power cut during close()'s snapshot, as for 'no'.
    dataDir = res.tempDir();
    server = await res.server({ dataDir, ...quiet });
    watch = await res.watchSyncs(dataDir, server.port);
    disk = await watchPowerCuts(res, dataDir);
    c = await res.connect(server.port);
    const summary = await checkEverysec(c, watch, (i) => ['SET', `burst:${i}`, word(rng, 20)], true);
    ctx.log(`'everysec': ${summary}`);
    c.close();
    ctx.log(`'everysec': ${await closeWithPowerCut(res, server, disk, undefined)}`);
    await expectNoLiveTimers(res, 'three servers with a data folder, each closed in turn, and no client of yours ran');
  },
);

/** How many times TestCrashStrangeData writes one key over, and the size of each value. */
const OVERWRITES = 300;
const OVERWRITE_BYTES = 1000;

/**
 * Writes strange keys with random byte values, INCRs and DELs, and returns the state a server must then hold.
 * Uses a 'latin1' client.
 */
async function writeStrangeData(c: RawClient, rng: Rng): Promise<Map<string, string>> {
  const want = new Map<string, string>();
  for (const k of STRANGE_KEYS.map(asBytes)) {
    const v = randomBytes(rng, rng.between(1, 60));
    await expectBytes(c, ['SET', k, v], 'OK', 'SET of a byte string');
    want.set(k, v);
  }
  // Every byte value, in one value.
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  await expectBytes(c, ['SET', asBytes('всё'), all], 'OK', 'SET of all 256 byte values');
  want.set(asBytes('всё'), all);
  await expectBytes(c, ['SET', 'hasOwnProperty', '7'], 'OK', 'SET');
  await expectBytes(c, ['INCR', 'hasOwnProperty'], 8, 'INCR');
  want.set('hasOwnProperty', '8');
  await expectBytes(c, ['DEL', 'constructor'], 1, '"constructor" exists');
  want.delete('constructor');
  // One key written over many times: the history of writes is far larger than what is live.
  const values = Array.from({ length: OVERWRITES }, () => word(rng, OVERWRITE_BYTES));
  for (const v of values) c.send(Buffer.from('SET'), Buffer.from('overwritten'), Buffer.from(v, 'latin1'));
  for (let i = 0; i < OVERWRITES; i++)
    check(same(await c.reply('SET overwritten'), 'OK'), 'SET overwritten was not acknowledged with OK.');
  want.set('overwritten', values[OVERWRITES - 1]);
  return want;
}

/** Fails unless the server holds exactly `want` (byte strings), read back with a 'latin1' client. */
async function expectStrangeData(c: RawClient, want: Map<string, string>, when: string, causes: string): Promise<void> {
  const wrong: string[] = [];
  for (const [k, v] of want) {
    const got = await callBytes(c, 'GET', k);
    if (got !== v)
      wrong.push(`${showBytes(k)} read ${showBytes(got).slice(0, 80)}, expected ${showBytes(v).slice(0, 80)}`);
  }
  check(
    wrong.length === 0,
    `${when}, ${wrong.length} of ${want.size} acknowledged keys read back wrong: ${wrong.slice(0, 3).join('; ')}. ${causes}`,
  );
  await expectBytes(c, ['GET', 'constructor'], null, `${when}: "constructor" was deleted before. ${causes}`);
  await expectBytes(c, ['DBSIZE'], want.size, `${when}: exactly the keys acknowledged before. ${causes}`);
}

export const crashStrangeData = realTest(
  'TestCrashStrangeData',
  'binary, non-ASCII and __proto__-like keys and values survive a crash (the log) and then a restart (the snapshot)',
  async (res, ctx, rng) => {
    const liveDir = res.tempDir();
    const running = await res.server({ dataDir: liveDir, fsync: 'always', snapshotIntervalMs: 60_000 });
    const c = await res.connect(running.port, 'latin1');
    const want = await writeStrangeData(c, rng);
    const dataDir = await res.crashCopy(liveDir); // kill -9 now
    const opts = { dataDir, fsync: 'always' as const, snapshotIntervalMs: 60_000 };
    let server = await res.server(opts);
    let r = await res.connect(server.port, 'latin1');
    await expectStrangeData(
      r,
      want,
      'After a crash and a restart (the log replayed)',
      'Log records must hold the bytes exactly: encode each word as a latin1 Buffer (encodeCommand sends plain strings as UTF-8), ' +
        'and replay into a Map, not a plain object (a key "__proto__" is lost in {}).',
    );
    r.close();
    await server.close(); // writes a snapshot and empties the log
    const log = path.join(dataDir, 'appendonly.aof');
    const left = fs.existsSync(log) ? fs.statSync(log).size : 0;
    check(
      left === 0,
      `After close(), ${log} still holds ${left} bytes: close() writes a final snapshot, and once it is in place the log is emptied (see the README), so that the next start loads the snapshot.`,
    );
    const live = [...want].reduce((sum, [k, v]) => sum + k.length + v.length + 32, 0);
    const onDisk = folderBytes(dataDir);
    const bound = closedFolderBound(live);
    check(
      onDisk <= bound,
      `After close(), the data folder holds ${onDisk} bytes for ${live} bytes of live keys and values (at most ${bound}; "overwritten" was written ${OVERWRITES} times, ${OVERWRITES * OVERWRITE_BYTES} bytes in all): ` +
        'the final snapshot replaces what came before it. Likely causes: old snapshots or logs left beside it (or moved aside under another name), or a log that is never cut.',
    );
    server = await res.server(opts);
    r = await res.connect(server.port, 'latin1');
    await expectStrangeData(
      r,
      want,
      'After a clean close and a restart (the snapshot loaded)',
      "The snapshot must hold the bytes exactly: write and read it with the same encoding ('latin1' keeps every byte; JSON escapes control characters), " +
        'and load it into a Map, not a plain object.',
    );
  },
);

/**
 * TestCrashExpiry's history: TTLs set by EXPIRE, kept by INCR, cleared by SET and DEL, a FLUSHDB, keys deleted by a
 * deadline in the past, and "due" with 300 ms to live. Returns the latest possible deadline of "expiring" and when INCR ran.
 */
async function writeExpiryHistory(c: RawClient): Promise<{ expiringDeadline: number; tCounter: number }> {
  await c.expect(['SET', 'flushed', 'v', 'EX', 100], 'OK');
  await c.expect(['FLUSHDB'], 'OK', 'FLUSHDB');
  await c.expect(['SET', 'expiring', 'v'], 'OK');
  await c.expect(['EXPIRE', 'expiring', 10], 1, 'EXPIRE on an existing key');
  const expiringDeadline = Date.now() + 10_000; // the server's deadline is no later than this
  await c.expect(['SET', 'counter', '10', 'EX', 100], 'OK');
  const tCounter = Date.now();
  await c.expect(['INCR', 'counter'], 11, 'INCR');
  await c.expect(['SET', 'reborn', 'old', 'EX', 100], 'OK');
  await c.expect(['DEL', 'reborn'], 1, 'reborn exists');
  await c.expect(['SET', 'reborn', 'new'], 'OK');
  // The same value each time: a SET of the value the key holds still changes its TTL.
  await c.expect(['SET', 'cleared', 'v', 'EX', 100], 'OK');
  await c.expect(['SET', 'cleared', 'v'], 'OK');
  await c.expect(['SET', 'extended', 'v'], 'OK');
  await c.expect(['SET', 'extended', 'v', 'EX', 200], 'OK');
  await c.expect(['SET', 'killed', 'v'], 'OK');
  await c.expect(['EXPIRE', 'killed', 0], 1, 'EXPIRE with a time <= 0 deletes the key');
  await c.expect(['SET', 'overdue', 'old'], 'OK');
  await c.expect(
    ['SET', 'overdue', 'new', 'EXAT', 1],
    'OK',
    'SET with a deadline in the past (the key is gone at once)',
  );
  await c.expect(['SET', 'due', 'v', 'PX', 300], 'OK');
  return { expiringDeadline, tCounter };
}

/** After a restart (`phase`), every key of the history holds its value and its absolute deadline; the due ones are gone. */
async function checkExpiryRestored(
  r: RawClient,
  phase: string,
  expiringDeadline: number,
  tCounter: number,
): Promise<void> {
  const sent = Date.now();
  const left = await r.call('PTTL', 'expiring');
  check(
    typeof left === 'number' && left > 0 && left <= expiringDeadline - sent,
    `${phase}, PTTL expiring replied ${show(left)}; EXPIRE expiring 10 was acknowledged ${sent - (expiringDeadline - 10_000)} ms before, so at most ${expiringDeadline - sent} ms are left. ` +
      (left === -1
        ? 'The key lost its TTL: EXPIRE must be logged (as SET key value PXAT <absolute ms>), like every change.'
        : 'A TTL counted again from the restart means the log or snapshot holds a relative time (EX, PX, EXPIRE); record the absolute deadline (PXAT).'),
  );
  await r.expect(['GET', 'expiring'], 'v', `${phase}: "expiring" still has time to live`);
  await r.expect(['GET', 'counter'], '11', `${phase}: INCR made it 11`);
  checkTtl(
    await r.call('TTL', 'counter'),
    100,
    tCounter,
    `${phase}, TTL counter (SET EX 100, then INCR, which keeps the TTL: log the TTL with the new value)`,
  );
  await r.expect(['GET', 'reborn'], 'new', `${phase}: reborn was deleted, then set again`);
  await r.expect(
    ['TTL', 'reborn'],
    -1,
    `${phase}: reborn was deleted (with its TTL) and set again without one; log DEL and a plain SET so that the old TTL cannot come back`,
  );
  await r.expect(
    ['TTL', 'cleared'],
    -1,
    `${phase}: a plain SET of the value "cleared" held cleared its TTL; log the SET without PXAT so that replay clears it too (a SET of the value a key holds is a change like any other: log it)`,
  );
  const extended = await r.call('TTL', 'extended');
  check(
    typeof extended === 'number' && extended > 100 && extended <= 200,
    `${phase}, TTL extended replied ${show(extended)}; SET extended v, then SET extended v EX 200 (the same value, now with a TTL) was acknowledged, so 100-200 s are left. ` +
      'Likely causes: a SET of the value the key already holds taken for no change and not logged (its TTL changed: log every SET).',
  );
  await r.expect(['GET', 'killed'], null, `${phase}: EXPIRE killed 0 deleted the key; that deletion must be logged`);
  await r.expect(
    ['GET', 'overdue'],
    null,
    `${phase}: SET overdue new EXAT 1 (a deadline long past) replaced "old" with a key that is gone at once; log it (a SET with ` +
      'that PXAT, or a DEL) so that replay does not bring "old" back',
  );
  await r.expect(['GET', 'due'], null, `${phase}: "due" had 300 ms to live and expired while the server was down`);
  await r.expect(
    ['TTL', 'flushed'],
    -2,
    `${phase}: FLUSHDB removed "flushed" (and its TTL) before the crash; log it (FLUSHALL) so that replay removes it too`,
  );
  await r.expect(['DBSIZE'], 5, `${phase}: expiring, counter, reborn, cleared and extended are alive`);
}

export const crashExpiry = realTest(
  'TestCrashExpiry',
  'TTLs set by EXPIRE, kept by INCR, cleared by SET and DEL survive a crash with their absolute deadlines; keys due while down are gone',
  async (res) => {
    const liveDir = res.tempDir();
    const running = await res.server({
      dataDir: liveDir,
      fsync: 'always',
      snapshotIntervalMs: 60_000,
      sweepIntervalMs: 60_000,
    });
    const c = await res.connect(running.port);
    const { expiringDeadline, tCounter } = await writeExpiryHistory(c);
    const tDue = Date.now();
    await realSleep(Math.max(0, tDue + 600 - Date.now())); // a deadline restarted from the log would now be 600 ms too late
    const dataDir = await res.crashCopy(liveDir); // kill -9 now, after "due" expired unread: a sweep could not have removed it
    const opts = { dataDir, fsync: 'always' as const, snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 };
    let server = await res.server(opts).catch((err: unknown) => {
      throw new TestFailure(
        `After a crash the server did not start again: ${String(err)}. Likely causes: a log record the loader does ` +
          'not read back: records state results in absolute terms (SET key value PXAT <deadline>, DEL, FLUSHALL), ' +
          'never a relative time (EX, PX, EXPIRE), INCR or a form the loader refuses; a record written in part.',
      );
    });
    for (const phase of [
      'After a crash and a restart (the log replayed)',
      'After a clean close and another restart (the snapshot loaded)',
    ]) {
      const r = await res.connect(server.port);
      await checkExpiryRestored(r, phase, expiringDeadline, tCounter);
      r.close();
      await server.close(); // the second round loads the snapshot this close writes
      if (phase.startsWith('After a crash')) server = await res.server(opts);
    }
  },
);

const TRANSACTION_LOG_CAUSES =
  "EXEC's changes must reach the log as one unit, as in Redis's AOF: write them between a MULTI record and an EXEC record, " +
  'and when loading, apply a transaction only once its EXEC record is read. A crash can cut the log at any byte, even inside one write, ' +
  'so a log that ends inside a transaction (no EXEC record yet) is a torn write: ignore that transaction whole and cut the log back to where its MULTI record starts. ' +
  'See "A transaction reaches the log whole" in part 3 of the README';

/** TestCrashTransaction's keys: before the transaction, and after it. */
const TX_BEFORE: ReadonlyArray<[string, string | null]> = [
  ['tx:a', 'old'],
  ['tx:n', '5'],
  ['tx:gone', 'here'],
  ['tx:new', null],
  ['tx:base', 'kept'],
];

const TX_AFTER: ReadonlyArray<[string, string | null]> = [
  ['tx:a', 'new'],
  ['tx:n', '6'],
  ['tx:gone', null],
  ['tx:new', '\u00ff\u0000bytes\r\n'],
  ['tx:base', 'kept'],
];

/** TestCrashTransaction's server options: every change fsynced, no snapshot and no sweep during the test. */
const TX_OPTIONS = { fsync: 'always' as const, snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 };

/** Runs TestCrashTransaction's transaction and checks the log grew; returns the log and where EXEC's records lie in it. */
async function runLoggedTransaction(c: RawClient, logFile: string): Promise<{ log: Buffer; from: number; to: number }> {
  const logSize = (): number => (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0);
  const from = logSize(); // fsync 'always': every acknowledged change is in the log
  await c.expect(['MULTI'], 'OK');
  const queued: Array<Array<string | number>> = [
    ['SET', 'tx:a', 'new'],
    ['INCR', 'tx:n'],
    ['DEL', 'tx:gone'],
    ['SET', 'tx:new', TX_AFTER[3][1]!],
    ['EXPIRE', 'tx:a', 1000],
  ];
  for (const args of queued) await expectBytes(c, args, 'QUEUED', 'inside MULTI');
  await c.expect(['EXEC'], ['OK', 6, 1, 'OK', 1], 'EXEC runs the five queued commands');
  const log = fs.readFileSync(logFile);
  const to = log.length;
  check(
    to > from,
    `EXEC of 5 changes was acknowledged with fsync 'always', but ${logFile} did not grow (${from} bytes before, ${to} after): log EXEC's changes like any others, before replying.`,
  );
  return { log, from, to };
}

/** Every place the crash could cut what EXEC appended: each record's start, a few bytes into it, and the end. */
function transactionCuts(log: Buffer, from: number, to: number): Set<number> {
  const cuts = new Set<number>([from, to]);
  for (const at of recordStarts(log)) if (at > from && at < to) for (const d of [0, 1, 5]) cuts.add(at + d);
  return cuts;
}

/** The transaction's keys as a server on `port` holds them, printed. */
async function transactionKeys(res: Resources, port: number): Promise<string[]> {
  const r = await res.connect(port, 'latin1');
  const got: string[] = [];
  for (const [key] of TX_BEFORE) got.push(showBytes(await callBytes(r, 'GET', key)));
  r.close();
  return got;
}

/** The transaction's keys before it and after it, printed. */
const TX_SHOWN = {
  before: TX_BEFORE.map(([, v]) => showBytes(v)),
  after: TX_AFTER.map(([, v]) => showBytes(v)),
};

/** The transaction's keys as read, each marked before, after or neither, for a message. */
function describeTxState(got: string[]): string {
  const { before, after } = TX_SHOWN;
  return TX_BEFORE.map(
    ([key], i) => `${key} = ${got[i]} (${got[i] === before[i] ? 'before' : got[i] === after[i] ? 'after' : 'neither'})`,
  ).join(', ');
}

/** A server started on `dir`, or a failure saying a log cut inside a transaction is what a crash leaves. */
async function startAfterCut(res: Resources, dir: string, where: string): Promise<RunningServer> {
  try {
    return await res.server({ dataDir: dir, ...TX_OPTIONS });
  } catch (err) {
    if (isTestFailure(err)) throw err;
    throw new TestFailure(
      `After ${where}, startServer rejected: ${String(err)}. A log that ends inside a transaction is what a crash leaves, not damage: ${TRANSACTION_LOG_CAUSES}.`,
    );
  }
}

/** The cut-off part must be gone from the file too: a write after the restart, then another crash, keeps the write. */
async function checkCutOffDropped(res: Resources, server: RunningServer, dir: string, where: string): Promise<void> {
  const r = await res.connect(server.port);
  await r.expect(['SET', 'tx:later', 'v'], 'OK');
  r.close();
  const again = await res.crashCopy(dir);
  await server.close();
  const third = await res.server({ dataDir: again, ...TX_OPTIONS });
  const r3 = await res.connect(third.port);
  await r3.expect(
    ['GET', 'tx:later'],
    'v',
    `After ${where}, a restart, a SET acknowledged with fsync 'always', and a second crash, the SET was lost: the records of a transaction without EXEC must be cut off the log when loading, or what follows them is taken as part of that transaction. ${TRANSACTION_LOG_CAUSES}`,
  );
  r3.close();
  await third.close();
}

/** A crash copy of `liveDir` with its log cut at `cut`: it restarts to all of the transaction or none. Returns the restarts. */
async function checkTransactionCut(
  res: Resources,
  liveDir: string,
  cut: number,
  from: number,
  to: number,
): Promise<number> {
  const { before, after } = TX_SHOWN;
  const dir = await res.crashCopy(liveDir);
  fs.truncateSync(path.join(dir, 'appendonly.aof'), cut);
  const where = `a crash that cut the log at byte ${cut} (the transaction's records are bytes ${from} to ${to})`;
  const server = await startAfterCut(res, dir, where);
  const got = await transactionKeys(res, server.port);
  const whole = cut === to ? after : cut === from ? before : undefined;
  check(
    whole === undefined ? same(got, before) || same(got, after) : same(got, whole),
    `After ${where}, the restarted server holds ${describeTxState(got)}; expected ${whole === after ? 'every change of the acknowledged transaction' : whole === before ? 'the state before the transaction' : 'all of the transaction or none of it'}. ${TRANSACTION_LOG_CAUSES}.`,
  );
  if (cut > from && cut < to) {
    await checkCutOffDropped(res, server, dir, where);
    return 2;
  }
  await server.close();
  return 1;
}

export const crashTransaction = realTest(
  'TestCrashTransaction',
  "a crash while EXEC's changes are being logged: after a restart, the transaction is there whole or not at all, wherever the log was cut",
  async (res, ctx) => {
    const liveDir = res.tempDir();
    const running = await res.server({ dataDir: liveDir, ...TX_OPTIONS });
    const c = await res.connect(running.port, 'latin1');
    for (const [key, value] of TX_BEFORE) if (value !== null) await c.expect(['SET', key, value], 'OK');
    const { log, from, to } = await runLoggedTransaction(c, path.join(liveDir, 'appendonly.aof'));
    const cuts = transactionCuts(log, from, to);
    let restarts = 0;
    for (const cut of [...cuts].sort((a, b) => a - b))
      restarts += await checkTransactionCut(res, liveDir, cut, from, to);
    ctx.log(`${cuts.size} cuts, ${restarts} restarts`);
  },
);

/** Polls the crash copies' report every 20 ms until `done` holds of it or `ms` pass; returns the last one. */
async function waitForReport(
  copies: RemoteCrashCopies,
  done: (r: CopiesReport) => boolean,
  ms: number,
): Promise<CopiesReport> {
  const t0 = Date.now();
  let r = await copies.report();
  while (!done(r) && Date.now() - t0 < ms) {
    await realSleep(20);
    r = await copies.report();
  }
  return r;
}

/** Keys in TestSnapshotCrash's store before its first snapshot. */
const SNAPSHOT_KEYS = 2000;

/** SETs `entries`, pipelined, checks each is acknowledged, and records it in `want`. */
async function setAllKeys(c: RawClient, want: Map<string, string>, entries: Array<[string, string]>): Promise<void> {
  for (const [k, v] of entries) c.send(Buffer.from('SET'), Buffer.from(k, 'latin1'), Buffer.from(v, 'latin1'));
  for (const [k, v] of entries) {
    const got = await c.reply(`SET ${showBytes(k)}`, 10_000);
    check(same(got, 'OK'), `SET ${showBytes(k)} replied ${showBytes(got)}; expected OK.`);
    want.set(k, v);
  }
}

/** Before the first snapshot: a store of some size, with binary values and a counter; then waits for that snapshot. */
async function fillBeforeSnapshot(
  c: RawClient,
  want: Map<string, string>,
  rng: Rng,
  copies: RemoteCrashCopies,
): Promise<void> {
  await setAllKeys(
    c,
    want,
    Array.from({ length: SNAPSHOT_KEYS }, (_, i): [string, string] => [
      `big:${i}`,
      randomBytes(rng, rng.between(20, 200)),
    ]),
  );
  for (let i = 1; i <= 3; i++) await expectBytes(c, ['INCR', 'counter'], i, 'INCR');
  want.set('counter', '3');
  const t0 = Date.now();
  let seen = await copies.report();
  while (seen.snapshotWrites === 0 && Date.now() - t0 < 3000) {
    await realSleep(20);
    seen = await copies.report();
  }
  check(
    seen.snapshotWrites > 0,
    'No file other than appendonly.aof was written in the data folder for 3 s with snapshotIntervalMs 250: a snapshot should be written every 250 ms (see the README). ' +
      "The test sees writes made through the fs module (fs.writeSync, fs.write, fs.writev, fs.writeFileSync, fs.writeFile, fs.appendFile, fs.copyFile, fs.cp, their promises, a FileHandle's write, writev, writeFile or appendFile, write streams), whichever way your code holds them.",
  );
  await realSleep(60); // let that snapshot finish: what follows is only in the log
}

/** Rounds of writes TestSnapshotCrash tries before it arms the copies whatever came between. */
const ARM_ROUNDS = 8;

/**
 * After a snapshot: writes, a deletion, more INCRs (round `round` of them: keys of its own, big:<round> deleted),
 * which only the log holds until the next snapshot.
 */
async function writeAfterSnapshot(c: RawClient, want: Map<string, string>, rng: Rng, round: number): Promise<void> {
  await setAllKeys(
    c,
    want,
    Array.from({ length: 50 }, (_, i): [string, string] => [asBytes(`после:${round}:${i}`), randomBytes(rng, 30)]),
  );
  await expectBytes(c, ['DEL', `big:${round}`], 1, `big:${round} exists`);
  want.delete(`big:${round}`);
  let counter = Number(want.get('counter'));
  for (let i = 0; i < 3; i++) await expectBytes(c, ['INCR', 'counter'], ++counter, 'INCR');
  want.set('counter', String(counter));
}

/**
 * Writes a round after the last snapshot write seen, then arms the copies only if no snapshot write came meanwhile,
 * so that the next snapshot begins with those writes only in the log (a snapshot that ran in between would have
 * taken them, and a server that empties its log too early would lose nothing); another round if one did.
 */
async function writeThenArm(
  c: RawClient,
  want: Map<string, string>,
  rng: Rng,
  copies: RemoteCrashCopies,
): Promise<void> {
  for (let round = 0; round < ARM_ROUNDS; round++) {
    const { snapshotWrites } = await copies.report();
    await writeAfterSnapshot(c, want, rng, round);
    if (await copies.arm(snapshotWrites)) return;
  }
  await copies.arm();
}

/** Waits for the armed copies of the next snapshot; returns the copies taken, each with its moment. */
async function interruptSnapshot(
  copies: RemoteCrashCopies,
): Promise<{ moments: Array<[string, string]>; renamed: string | undefined }> {
  const t1 = Date.now();
  let seen = await copies.report();
  while ((seen.beforeWrite === undefined || seen.afterRename === undefined) && Date.now() - t1 < 3000) {
    await realSleep(20);
    seen = await copies.report();
  }
  check(
    seen.beforeWrite !== undefined,
    'No snapshot was written within 3 s of the last write, with snapshotIntervalMs 250.',
  );
  const moments: Array<[string, string]> = [
    ['as the snapshot file was being written (before its first byte)', seen.beforeWrite!],
  ];
  if (seen.afterRename !== undefined)
    moments.push(['just after the snapshot was renamed into place', seen.afterRename]);
  return { moments, renamed: seen.renamedAtCopy };
}

/** GETs every key of `want` in one pipeline on `r` (a 'latin1' client); each key read back wrong, described. */
async function keysReadWrong(r: RawClient, want: ReadonlyMap<string, string>): Promise<string[]> {
  const keys = [...want.keys()];
  for (const k of keys) r.send(Buffer.from('GET'), Buffer.from(k, 'latin1'));
  const wrong: string[] = [];
  for (const k of keys) {
    const got = await r.reply(`GET ${showBytes(k)}`, 10_000);
    if (got !== want.get(k))
      wrong.push(
        `${showBytes(k)} read ${showBytes(got).slice(0, 40)}, expected ${showBytes(want.get(k) ?? null).slice(0, 40)}`,
      );
  }
  return wrong;
}

/**
 * The snapshot in place holds the store on its own: a server started on a copy of `dir` that keeps only `name` (the
 * file last renamed into the folder: no log, nothing else) reads every key of `want` (each acknowledged before that
 * snapshot began) with its value. A file renamed into place that is not the store fails here, whatever it is called.
 */
async function checkSnapshotHolds(
  res: Resources,
  dir: string,
  name: string | undefined,
  want: ReadonlyMap<string, string>,
  when: string,
): Promise<void> {
  check(
    name !== undefined,
    `${when}, no file had been renamed into the data folder: a snapshot is renamed into place.`,
  );
  const only = await res.crashCopy(dir);
  for (const entry of fs.readdirSync(only)) if (entry !== name) fs.rmSync(path.join(only, entry), { recursive: true });
  const alone = `a server started on a copy of the folder holding only ${showBytes(name!)}, the file renamed into place (no log)`;
  let restarted: RunningServer;
  try {
    restarted = await res.server({
      dataDir: only,
      fsync: 'always',
      snapshotIntervalMs: 60_000,
      sweepIntervalMs: 60_000,
    });
  } catch (err) {
    if (isTestFailure(err)) throw err;
    throw new TestFailure(
      `${when}, ${alone} could not start: ${(err as Error).message}. A snapshot in place is enough on its own: start from it when there is no log (a log emptied after the snapshot is the same).`,
    );
  }
  const r = await res.connect(restarted.port, 'latin1');
  const wrong = await keysReadWrong(r, want);
  r.close();
  await restarted.close();
  check(
    wrong.length === 0,
    `${when}, ${alone} read ${wrong.length} of ${want.size} keys acknowledged before that snapshot began wrong: ${wrong.slice(0, 3).join('; ')}. ` +
      'The snapshot is the whole store at one moment: every key written before it began is in it, with its value. Likely causes: a snapshot that holds only part of the store ' +
      '(only what changed since the last one, or the keys of one shard), that leaves some keys to the log, or a file renamed into the folder that is not the snapshot (the log moved aside, a marker); ' +
      'or a server that ignores its snapshot when there is no log.',
  );
}

/** The server restarted on a crash copy taken at `moment` holds exactly the acknowledged keys. */
async function checkSnapshotCrashCopy(
  res: Resources,
  moment: string,
  dataDir: string,
  want: ReadonlyMap<string, string>,
): Promise<void> {
  let restarted: RunningServer;
  try {
    restarted = await res.server({ dataDir, fsync: 'always', snapshotIntervalMs: 60_000 });
  } catch (err) {
    throw new TestFailure(
      `After a crash ${moment}, the server could not start: ${(err as Error).message}. ` +
        'Write a snapshot atomically: write a temporary file, fsync it, then rename it over the old snapshot, so that a crash leaves either the old snapshot or the new one, never half of one.',
    );
  }
  const r = await res.connect(restarted.port, 'latin1');
  const wrong = await keysReadWrong(r, want);
  check(
    wrong.length === 0,
    `After a crash ${moment}, ${wrong.length} of ${want.size} acknowledged keys read back wrong: ${wrong.slice(0, 3).join('; ')}. ` +
      'Likely causes: the log was emptied before the new snapshot was safely in place (until then, the old snapshot plus the log are the only copy); ' +
      'log records that change the state again when replayed a second time (log INCR as SET of the result, with PXAT; a crash between the rename and the emptying replays the log over a snapshot that holds it already); ' +
      'or a snapshot written in place instead of to a temporary file.',
  );
  await expectBytes(r, ['GET', 'big:0'], null, `after a crash ${moment}: big:0 was deleted before it`);
  await expectBytes(r, ['DBSIZE'], want.size, `after a crash ${moment}: exactly the keys acknowledged before it`);
  r.close();
  await restarted.close();
}

export const snapshotCrash = realTest(
  'TestSnapshotCrash',
  'kill -9 in the middle of a snapshot: as the snapshot file is written, and just after it is renamed into place; nothing acknowledged is lost, nothing corrupt',
  async (res, ctx, rng) => {
    const liveDir = res.tempDir();
    const copies = await res.crashCopies(liveDir);
    const server = await res.server({
      dataDir: liveDir,
      fsync: 'always',
      snapshotIntervalMs: 250,
      sweepIntervalMs: 60_000,
    });
    const c = await res.connect(server.port, 'latin1');
    const want = new Map<string, string>();
    await fillBeforeSnapshot(c, want, rng, copies);
    // After it: writes, a deletion, more INCRs; then the next snapshot is interrupted.
    await writeThenArm(c, want, rng, copies);
    const { moments, renamed } = await interruptSnapshot(copies);
    ctx.log(`crash copies taken: ${moments.map(([m]) => m).join('; ')}`);
    for (const [moment, dataDir] of moments) await checkSnapshotCrashCopy(res, moment, dataDir, want);
    const [, afterRename] = moments[1] ?? [];
    // No write came after the snapshot began: the file renamed into place holds every key on its own.
    if (afterRename !== undefined)
      await checkSnapshotHolds(res, afterRename, renamed, want, 'Just after the snapshot was renamed into place');
  },
);

/** Start offsets of the records of a log (RESP commands, in order), and the offset where the last one ends. */
function recordStarts(log: Buffer): number[] {
  const parser = new RequestParser();
  parser.push(log);
  const starts: number[] = [];
  for (let at = 0; parser.next() !== undefined; at = log.length - parser.bufferedBytes) starts.push(at);
  return starts;
}

const CORRUPT_LOG_KEYS = 300;

export const corruptLog = realTest(
  'TestCorruptLog',
  'a byte corrupted in the middle of the log: the server refuses to start, names the file, and leaves it as it was',
  async (res, ctx, rng) => {
    const liveDir = res.tempDir();
    const running = await res.server({ dataDir: liveDir, fsync: 'always', snapshotIntervalMs: 60_000 });
    const c = await res.connect(running.port);
    for (let i = 0; i < CORRUPT_LOG_KEYS; i++) c.send('SET', `log:${i}`, word(rng, rng.between(5, 30)));
    for (let i = 0; i < CORRUPT_LOG_KEYS; i++)
      check(same(await c.reply(`SET log:${i}`), 'OK'), `SET log:${i} was not acknowledged with OK.`);
    const dataDir = await res.crashCopy(liveDir); // kill -9 now: every write is in the log, no snapshot yet
    const logFile = path.join(dataDir, 'appendonly.aof');
    check(
      fs.existsSync(logFile),
      `After ${CORRUPT_LOG_KEYS} acknowledged SETs with fsync 'always' there is no ${logFile}: the append-only log must be called appendonly.aof (see the README).`,
    );
    const log = fs.readFileSync(logFile);
    const starts = recordStarts(log);
    check(
      starts.length >= CORRUPT_LOG_KEYS,
      `${logFile} holds ${starts.length} complete records after ${CORRUPT_LOG_KEYS} acknowledged SETs and no snapshot; expected one per SET.`,
    );
    const index = Math.floor(starts.length / 2) + rng.int(20) - 10;
    const middle = starts[index];
    const lengthAt = log.indexOf('$', middle) + 1;
    const withByte = (at: number, byte: number): Buffer => {
      const damaged = Buffer.from(log);
      damaged[at] = byte;
      return damaged;
    };
    const damages: Array<[string, Buffer]> = [
      [`its first byte ('*') replaced by '#' at byte ${middle}`, withByte(middle, 0x23)],
      [
        `the digit of its first length header changed at byte ${lengthAt}`,
        withByte(lengthAt, log[lengthAt] === 0x39 ? 0x31 : 0x39),
      ],
      // Careless edits: well-formed RESP, but not records the log writes (SET with 2 or 4 arguments, DEL with 1, FLUSHALL alone).
      ...([['SET', 'log:x'], ['DEL'], ['FLUSHAL']] as string[][]).map((words): [string, Buffer] => [
        `replaced by hand with "${words.join(' ')}" (well-formed, but not a record with its arity)`,
        Buffer.concat([log.subarray(0, middle), encodeCommand(words), log.subarray(starts[index + 1])]),
      ]),
    ];
    for (const [what, damaged] of damages) {
      const dir = await res.crashCopy(dataDir);
      const file = path.join(dir, 'appendonly.aof');
      fs.writeFileSync(file, damaged);
      const where = `the record at byte ${middle} of ${log.length} (about halfway through the log), ${what}`;
      let started: RunningServer | undefined;
      let refusal: Error | undefined;
      try {
        started = await res.server({ dataDir: dir, fsync: 'always', snapshotIntervalMs: 60_000 });
      } catch (err) {
        if (isTestFailure(err)) throw err; // it hung
        refusal = err instanceof Error ? err : new Error(String(err));
      }
      if (started !== undefined) {
        const r = await res.connect(started.port);
        const keys = await r.call('DBSIZE');
        r.close();
        await started.close();
        throw new TestFailure(
          `With ${where}, the server started anyway, with ${show(keys)} of ${CORRUPT_LOG_KEYS} keys. ` +
            'A record that cannot be read, or is not a command your log writes (with its arity), in the MIDDLE of the log is corruption, not a crash: ' +
            'startServer must reject with an error naming the file and the byte where the damage is, and leave the file alone, as Redis does (its redis-check-aof repairs such a file). ' +
            'Starting anyway, or cutting the log there, silently loses every acknowledged write after that byte. Only an incomplete LAST record (the parser waits for more bytes at the end of the file) is a torn write to cut off.',
        );
      }
      ctx.log(`refused as expected (${what}): ${refusal?.message}`);
      check(
        refusal!.message.includes('appendonly.aof'),
        `With ${where}, startServer rejected with "${refusal!.message}"; the message should name the damaged file (appendonly.aof) and the byte, so that its owner can repair it.`,
      );
      const after = fs.readFileSync(file);
      check(
        after.equals(damaged),
        `With ${where}, the server refused to start (good) but changed ${file} (${damaged.length} bytes before, ${after.length} after): leave a corrupt log exactly as it is, so that nothing more is lost before someone looks at it.`,
      );
    }
    const intact = await res.server({ dataDir, fsync: 'always', snapshotIntervalMs: 60_000 });
    const r = await res.connect(intact.port);
    await r.expect(['DBSIZE'], CORRUPT_LOG_KEYS, 'the undamaged copy of the log holds every acknowledged SET');
  },
);

/** The usual causes of a server that a failing snapshot takes down. */
const SNAPSHOT_FAILURE_CAUSES =
  'A snapshot runs in a timer: an exception there (ENOSPC from a write, a RangeError from JSON.stringify of a store too big for one string) or a rejected promise nobody handles ends the whole process. ' +
  'Catch the failure, log it, delete the temporary file, keep the log, and try again at the next interval.';

export const snapshotDiskFull = realTest(
  'TestSnapshotDiskFull',
  'snapshots fail (the disk is full): the server keeps serving and keeps its log; once there is room, snapshots resume',
  async (res, ctx, rng) => {
    const liveDir = res.tempDir();
    const disk = await res.crashCopies(liveDir);
    const server = await res.server({
      dataDir: liveDir,
      fsync: 'always',
      snapshotIntervalMs: 150,
      sweepIntervalMs: 60_000,
    });
    const c = await res.connect(server.port);
    const want = new Map<string, string>();
    const setMany = async (prefix: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const v = word(rng, rng.between(5, 50));
        c.send('SET', `${prefix}:${i}`, v);
        want.set(`${prefix}:${i}`, v);
      }
      for (let i = 0; i < n; i++)
        check(same(await c.reply(`SET ${prefix}:${i}`), 'OK'), `SET ${prefix}:${i} was not acknowledged with OK.`);
    };
    await setMany('before', 200);
    await disk.setDiskFull(true);
    const refused = await waitForReport(disk, (r) => r.refusedWrites >= 2, 3000);
    check(
      refused.refusedWrites >= 2,
      `With snapshotIntervalMs 150 and a full disk, ${refused.refusedWrites} snapshot write(s) were attempted in 3 s; expected a snapshot (a write to a file other than appendonly.aof) every 150 ms.`,
    );
    await realSleep(200); // another attempt, while the server keeps working
    await c.expect(['PING'], 'PONG', `the server keeps serving while its snapshots fail. ${SNAPSHOT_FAILURE_CAUSES}`);
    await setMany('during', 100);
    const duringCrash = await res.crashCopy(liveDir); // kill -9 while the disk is still full
    await disk.setDiskFull(false);
    const { renames } = await disk.report();
    const resumed = await waitForReport(disk, (r) => r.renames > renames, 3000);
    check(
      resumed.renames > renames,
      `Once the disk had room again, no snapshot was renamed into place within 3 s (snapshotIntervalMs 150): a failed snapshot must not stop the next ones.`,
    );
    // That snapshot began once the disk had room: it holds at least every key written before the disk filled.
    const before = new Map([...want].filter(([k]) => k.startsWith('before:')));
    await checkSnapshotHolds(
      res,
      liveDir,
      resumed.lastRenamed,
      before,
      'Once the disk had room again and a snapshot was renamed into place',
    );
    await setMany('after', 50);
    await c.expect(['DBSIZE'], want.size, 'every acknowledged key, after snapshots failed and then succeeded');
    const restarted = await res.server({ dataDir: duringCrash, fsync: 'always', snapshotIntervalMs: 60_000 });
    const r = await res.connect(restarted.port);
    const lost: string[] = [];
    for (const [k, v] of want) {
      if (k.startsWith('after:')) continue;
      const got = await r.call('GET', k);
      if (got !== v) lost.push(`${k} (${show(got)})`);
    }
    check(
      lost.length === 0,
      `After a crash while snapshots were failing, ${lost.length} acknowledged write(s) were lost, e.g. ${lost.slice(0, 3).join(', ')}. A snapshot that fails must leave the log whole: cut the log only once the new snapshot is safely in place.`,
    );
  },
);

const SNAPSHOT_STORE_VALUES = 12;

const SNAPSHOT_VALUE_BYTES = 1 << 20;

/** SETs TestSnapshotServes's 12 values of 1 MB, pipelined, each acknowledged; returns what was written. */
async function fillLargeStore(c: RawClient, rng: Rng): Promise<Map<string, string>> {
  const value = word(rng, 64).repeat(SNAPSHOT_VALUE_BYTES / 64);
  for (let i = 0; i < SNAPSHOT_STORE_VALUES; i++) c.send('SET', `large:${i}`, value);
  for (let i = 0; i < SNAPSHOT_STORE_VALUES; i++)
    check(same(await c.reply(`SET large:${i} (1 MB)`, 10_000), 'OK'), `SET large:${i} was not acknowledged with OK.`);
  return new Map(Array.from({ length: SNAPSHOT_STORE_VALUES }, (_, i) => [`large:${i}`, value]));
}

/** The complete RESP replies in `bytes` (latin1), up to anything that is not RESP. */
function parseReplies(bytes: string): RespReply[] {
  const parser = new ReplyParser('latin1');
  parser.push(Buffer.from(bytes, 'latin1'));
  const out: RespReply[] = [];
  try {
    for (let r = parser.next(); r !== undefined; r = parser.next()) out.push(r);
  } catch {
    // not RESP: what came before is all there is
  }
  return out;
}

/** How far into a snapshot of the 12 MB store TestSnapshotServes's PING goes, MB: drawn per round in this range. */
const PING_AFTER_MB: readonly [number, number] = [1, 6];
/** How much more a snapshot may write before the PING's reply is back (the reference writes 1 MB pieces), bytes. */
const PONG_WITHIN_BYTES = 4 * 2 ** 20;

/**
 * At the next snapshot's first write once it has written a number of MB drawn from `rng` (so that no moment of a
 * snapshot is the one watched), a kit connection in the host sends PING and a SET: the PING must be answered before
 * that snapshot's last write, and the SET acknowledged; then `c` writes once more. Returns the keys written.
 */
async function pingDuringSnapshot(
  watch: RemoteCrashCopies,
  port: number,
  c: RawClient,
  round: number,
  rng: Rng,
): Promise<string[]> {
  const mb = rng.between(PING_AFTER_MB[0], PING_AFTER_MB[1]);
  await watch.pingAtNextSnapshot(port, round, mb * 1024 * 1024);
  const ended = await waitForReport(watch, (r) => r.ping?.phase === 'done', 5000);
  const phase = ended.ping?.phase ?? 'armed';
  check(
    phase === 'done',
    phase === 'armed'
      ? `No further snapshot of the 12 MB store wrote another piece after its first ${mb} MB within 5 s (snapshotIntervalMs 300): write the snapshot in pieces of about 1 MB, ` +
          "awaiting each FileHandle's write, not in one or two blocking steps."
      : 'No further snapshot of the 12 MB store was renamed into place within 5 s (snapshotIntervalMs 300).',
  );
  // Its two replies, read here from the bytes the server sent back.
  const t0 = Date.now();
  let replies = parseReplies(ended.ping?.received ?? '');
  while (replies.length < 2 && Date.now() - t0 < 5000) {
    await realSleep(20);
    replies = parseReplies((await watch.report()).ping?.received ?? '');
  }
  check(replies.length >= 1, `PING, sent as a snapshot wrote past its first ${mb} MB, got no reply within 5 s.`);
  check(
    same(replies[0], 'PONG'),
    `PING, sent as a snapshot wrote past its first ${mb} MB, replied ${show(replies[0])}; expected PONG.`,
  );
  const after = ended.ping?.pongAfterBytes ?? null;
  check(
    after !== null && after <= PONG_WITHIN_BYTES,
    `A PING sent as a snapshot of the 12 MB store wrote past its first ${mb} MB was answered only ` +
      (after === null
        ? 'after its last piece was written: the snapshot blocked every client for the rest of its writing '
        : `once it had written ${(after / 2 ** 20).toFixed(1)} MB more (at most ${PONG_WITHIN_BYTES / 2 ** 20} MB expected): the snapshot blocked every client while it wrote them `) +
      '(with Redis-sized stores, seconds). Take a copy of the store (a Map copy is quick: the strings are shared), then write the file in pieces with the event loop free between them ' +
      "(await a FileHandle's write of each ~1 MB piece, or a write stream), so that commands keep being served; the log keeps the writes made meanwhile. " +
      'Likely causes: the whole snapshot (or most of it) built and written in one synchronous step (fs.writeFileSync, fs.writeSync of one large Buffer); pieces written with synchronous calls one after another; pieces of many MB.',
  );
  check(
    replies.length >= 2 && same(replies[1], 'OK'),
    `SET during-snapshot-${round}, sent as a snapshot wrote past its first ${mb} MB, replied ${replies.length >= 2 ? show(replies[1]) : '(no reply within 5 s)'}; expected OK.`,
  );
  await c.expect(['SET', `after-snapshot-${round}`, 'v'], 'OK');
  return [`during-snapshot-${round}`, `after-snapshot-${round}`];
}

/** The second snapshot is in place and the log cut: kill -9 now; every key written is there after a restart. */
async function checkWritesSurviveSnapshots(res: Resources, liveDir: string, written: readonly string[]): Promise<void> {
  const dataDir = await res.crashCopy(liveDir);
  const restarted = await res.server({
    dataDir,
    fsync: 'everysec',
    snapshotIntervalMs: 60_000,
    sweepIntervalMs: 60_000,
  });
  const r = await res.connect(restarted.port);
  for (const key of written) {
    const got = await r.call('GET', key);
    check(
      typeof got === 'string',
      `After a crash just after two snapshots, GET ${key} replied ${show(got)}: the acknowledged write made ${key.replace(/-snapshot(-\d)?$/, ' snapshot$1').replace('-', ' ')} was lost. ` +
        'A write that arrives while the snapshot is written is not in it (the snapshot is of a copy taken before); it is only in the log. ' +
        'When the snapshot is in place, do not empty the log: drop only the records the snapshot holds (those before the moment of the copy) and keep the rest, ' +
        'written aside, fsynced and renamed over the log; go on appending to the new log file, and count its size afresh for the next snapshot.',
    );
  }
  await r.expect(
    ['DBSIZE'],
    SNAPSHOT_STORE_VALUES + written.length,
    'the large values and the writes made before, during and after the snapshots',
  );
  r.close();
  await restarted.close();
}

export const snapshotServes = realTest(
  'TestSnapshotServes',
  'a snapshot of a 12 MB store is written while commands are served, not in one blocking step (a PING sent at a point of it drawn per seed is answered before its last write); once the server is closed, no descriptor or timer of its snapshots and logs is left',
  async (res, ctx, rng) => {
    const liveDir = res.tempDir();
    const watch = await res.crashCopies(liveDir);
    const weightBefore = await res.hostWeight();
    const server = await res.server({
      dataDir: liveDir,
      fsync: 'everysec',
      snapshotIntervalMs: 300,
      sweepIntervalMs: 60_000,
    });
    const c = await res.connect(server.port);
    const large = await fillLargeStore(c, rng);
    // Once a snapshot holding those writes is in place (nothing is written while the next one runs), at the next
    // snapshot's first write past a point drawn per round (1-6 MB) another client sends PING: is it answered before its last write?
    const renamesBefore = (await watch.report()).renames;
    check(
      (await waitForReport(watch, (r) => r.renames > renamesBefore, 5000)).renames > renamesBefore,
      `No snapshot of the 12 MB store was renamed into place within 5 s (snapshotIntervalMs 300).`,
    );
    await c.expect(['SET', 'before-snapshot', 'v'], 'OK'); // in the log when the next snapshot starts, and in that snapshot
    // Two snapshots in turn. At each one's first write past that point another client sends PING and a SET: is the PING answered
    // before that snapshot's last write? The SET is not in that snapshot, only in the log, which must keep it.
    const written: string[] = ['before-snapshot'];
    for (const round of [1, 2]) written.push(...(await pingDuringSnapshot(watch, server.port, c, round, rng)));
    await checkWritesSurviveSnapshots(res, liveDir, written);
    // The second snapshot began after the first was in place: it holds the large values and before-snapshot.
    const held = new Map([...large, ['before-snapshot', 'v']]);
    await checkSnapshotHolds(
      res,
      liveDir,
      (await watch.report()).lastRenamed,
      held,
      'After two snapshots of the 12 MB store',
    );
    c.close();
    await server.close();
    await expectNoLiveTimers(res, 'after snapshots of a store under load, each replacing the log');
    const weightAfter = await res.hostWeight();
    if (weightBefore !== undefined && weightAfter !== undefined)
      check(
        weightAfter.fds <= weightBefore.fds,
        `After snapshots of a store under load and close(), the process running your server holds ` +
          `${weightAfter.fds - weightBefore.fds} more open descriptors than before the server started (read from ` +
          '/proc/<pid>/fd); expected none: close() closes every file and socket. Likely causes: the old log file ' +
          'not closed when a snapshot replaces the log (one descriptor lost per snapshot); a snapshot file not ' +
          'closed after writing it, or after a failed write; a connection not destroyed when its client went.',
      );
  },
);
