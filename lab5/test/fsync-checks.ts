// What each fsync policy promises, as the handout fixes it, checked through the fs spies in the student host: shared by TestFsyncPolicy and TestNemesisRedis.
import { RespReply } from '../resp';
import type { FsyncPolicy, RunningServer } from '../types';
import { check, isTestFailure, TestFailure } from '../../suite';
import { describe, RawClient, Resources, same, show } from './harness';
import type { NemesisCopy, RemoteDiskNemesis, RemoteSyncWatch, SyncReport } from './spy-views';
import { realSleep } from '../../world';
import type { Rng } from '../../world/rng';
import { word } from './common';

/** How the tests find a sync: the calls they watch, for the failure messages. */
export const SYNC_CALLS =
  "fs.fsyncSync, fs.fsync, fs.fdatasyncSync, fs.fdatasync, or a FileHandle's sync() or datasync()";

/** Finished syncs of the folder's files after the sequence number `seq`. */
function syncsAfter(r: SyncReport, seq: number): number[] {
  return r.syncs.filter((s) => s > seq);
}

/**
 * The first write by the server after `seq` (its reply). None seen fails the test: the client got a reply, and the
 * spy sees every write to a socket of the server's process, so "no reply seen" never stands for a reply at "now".
 */
function replyAfter(r: SyncReport, seq: number, what: string, where: string): number {
  const replied = r.replies.find((s) => s > seq);
  check(
    replied !== undefined,
    `${where}The client received the reply to ${what}, yet the kit saw the server's process write no byte to a client's connection after the command was sent. ` +
      "The kit watches every write to a socket of the server's process (node's socket write functions, whichever way they are reached): " +
      "the reply reached the client some other way (the code under test rewrote node's sockets or their handles, or wrote to the connection's file descriptor directly). Write replies with socket.write.",
  );
  return replied!;
}

/**
 * With fsync 'always', the log must be on disk whole when a reply goes out: a sync that finished before the reply
 * but began before the command's records were written forced nothing of them to disk.
 */
function checkLogCovered(r: SyncReport, reply: number, what: string, where: string): void {
  check(
    !r.unsynced.includes(reply),
    `${where}With fsync 'always', the server wrote the reply to ${what} while appendonly.aof held bytes that no finished fsync had covered: ` +
      'an fsync came between the command and its reply, but it began before the records were written, so it forced none of them to disk, and a crash after the reply loses a write the client saw acknowledged. ' +
      `Likely causes: the fsync called before the write of the chunk's records instead of after it; the records written with an asynchronous write (fs.write, fs.promises, a WriteStream) that had not finished when the fsync began; part of the chunk's records written after the fsync. Write the records, then fsync (${SYNC_CALLS}), then write the replies.`,
  );
}

/** "Now" in the spies' order: a moment before anything the test does next. */
async function now(watch: RemoteSyncWatch): Promise<number> {
  return (await watch.report()).now;
}

/** A write sent on its own and the reply it must get. */
export type Write = readonly [Array<string | number>, RespReply];

/** The store as a list of writes leaves it: live keys and their values (the counter's as its decimal text). */
type WriteState = Map<string, string>;

/** The counter key the arithmetic writes use. */
const COUNTER = 'pol:n';

/** One kind of write that changes the store: its command and reply for `st` (changed to match), or undefined if it cannot apply. */
type WriteKind = (rng: Rng, st: WriteState) => Write | undefined;

/** A live key other than the counter, or undefined. */
function liveKey(rng: Rng, st: WriteState): string | undefined {
  const keys = [...st.keys()].filter((k) => k !== COUNTER);
  return keys.length === 0 ? undefined : keys[rng.int(keys.length)];
}

/** A key that does not exist now, or undefined. */
function missingKey(rng: Rng, st: WriteState): string | undefined {
  const key = `pol:${rng.int(6)}`;
  return st.has(key) ? undefined : key;
}

/** SET of a fresh value, in one of its forms; returns its command. */
function set(rng: Rng, st: WriteState, key: string, options: Array<string | number>, reply: RespReply = 'OK'): Write {
  const value = word(rng, rng.between(1, 40));
  st.set(key, value);
  return [['SET', key, value, ...options], reply];
}

/** Arithmetic on the counter: the command and the new value. */
function arithmetic(rng: Rng, st: WriteState): Write {
  const now = BigInt(st.get(COUNTER) ?? '0');
  const by = rng.between(1, 1000);
  const [args, next]: [Array<string | number>, bigint] = [
    [['INCR', COUNTER], now + 1n],
    [['DECR', COUNTER], now - 1n],
    [['INCRBY', COUNTER, by], now + BigInt(by)],
    [['DECRBY', COUNTER, by], now - BigInt(by)],
  ][rng.int(4)] as [Array<string | number>, bigint];
  st.set(COUNTER, next.toString());
  return [args, Number(next)];
}

/** Every kind of write the handout's commands make, each changing the store (so each must reach the log). */
const WRITE_KINDS: readonly WriteKind[] = [
  (rng, st) => set(rng, st, `pol:${rng.int(6)}`, []),
  (rng, st) => set(rng, st, `pol:${rng.int(6)}`, rng.chance(0.5) ? ['PX', 60_000] : ['EX', 600]),
  (rng, st) =>
    set(rng, st, `pol:${rng.int(6)}`, rng.chance(0.5) ? ['EXAT', 4_000_000_000] : ['PXAT', 4_000_000_000_000]),
  (rng, st) => {
    const key = liveKey(rng, st);
    return key === undefined ? undefined : set(rng, st, key, [rng.chance(0.5) ? 'KEEPTTL' : 'XX']);
  },
  (rng, st) => {
    const key = missingKey(rng, st);
    return key === undefined ? undefined : set(rng, st, key, ['NX']);
  },
  (rng, st) => {
    const key = liveKey(rng, st);
    return key === undefined ? undefined : set(rng, st, key, ['GET'], st.get(key));
  },
  arithmetic,
  (rng, st) => {
    const key = liveKey(rng, st);
    return key === undefined ? undefined : [rng.chance(0.5) ? ['EXPIRE', key, 100] : ['PEXPIRE', key, 100_000], 1];
  },
  (rng, st) => {
    const key = liveKey(rng, st) ?? (st.has(COUNTER) ? COUNTER : undefined);
    if (key === undefined) return undefined;
    st.delete(key);
    return [['DEL', key, `pol:missing:${rng.int(100)}`], 1];
  },
  (rng, st) => {
    if (st.size === 0) return undefined;
    st.clear();
    return [['FLUSHDB', ...[[], ['SYNC'], ['ASYNC']][rng.int(3)]], 'OK'];
  },
];

/**
 * `n` random writes that each change the store, with the reply each must get: every kind of write the handout's
 * commands make (SET in each of its forms, INCR, DECR, INCRBY, DECRBY, EXPIRE, PEXPIRE, DEL, FLUSHDB) appears once
 * in the first writes, in a random order, when `n` allows; then kinds drawn at random.
 */
export function randomWrites(rng: Rng, n: number): Write[] {
  const st: WriteState = new Map();
  const writes: Write[] = [];
  const firsts = [...WRITE_KINDS];
  for (let i = firsts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [firsts[i], firsts[j]] = [firsts[j], firsts[i]];
  }
  while (writes.length < n) {
    const kind = firsts.length > 0 ? firsts[0] : WRITE_KINDS[rng.int(WRITE_KINDS.length)];
    const write = kind(rng, st);
    if (write === undefined) {
      // Not possible now (no live key, say): a plain SET makes one, and the kind is tried again later.
      writes.push(set(rng, st, `pol:${rng.int(6)}`, []));
      continue;
    }
    if (firsts.length > 0) firsts.shift();
    writes.push(write);
  }
  return writes;
}

/**
 * Sends one write and waits for its reply; with fsync 'always', fails unless a sync of the data folder's log
 * finished after the command was sent and before the server wrote the reply.
 */
export async function expectSyncedAck(
  c: RawClient,
  watch: RemoteSyncWatch,
  args: Array<string | number>,
  want: RespReply,
  where = '',
): Promise<void> {
  const sent = await now(watch);
  await c.expect(args, want);
  const seen = await watch.report();
  const replied = replyAfter(seen, sent, describe(args), where);
  const synced = syncsAfter(seen, sent);
  check(
    synced.length > 0,
    `${where}With fsync 'always', ${describe(args)} was acknowledged (${show(want)}) but the log (appendonly.aof) was not fsynced between the command and its reply (a sync of another file, or of the folder, does not keep the write). ` +
      `'always' promises that a write a client saw acknowledged is on disk: append the chunk's changes to appendonly.aof, force them to disk with ${SYNC_CALLS}, and only then write the replies.`,
  );
  check(
    synced[0] < replied,
    `${where}With fsync 'always', the server wrote the reply to ${describe(args)} before it fsynced the log. A crash between the two loses a write the client already saw acknowledged: ` +
      'finish the fsync first, then write the replies to the socket.',
  );
  checkLogCovered(seen, replied, describe(args), where);
}

/** Fsyncs 'always' may make for one packet of pipelined writes (one per chunk read; a packet may be read in two). */
const BATCH_SYNCS_AT_MOST = 3;

/** 'always': each write, one at a time, is fsynced before its reply; a pipelined batch shares an fsync before its first reply. */
export async function checkAlways(
  c: RawClient,
  watch: RemoteSyncWatch,
  writes: readonly Write[],
  batch: readonly string[][],
  where = '',
): Promise<void> {
  for (const [args, want] of writes) await expectSyncedAck(c, watch, args, want, where);
  const sent = await now(watch);
  c.sendAll(batch);
  for (const args of batch)
    check(
      same(await c.reply(`${describe(args)} (pipelined)`), 'OK'),
      `${where}${describe(args)} (one of ${batch.length} pipelined) was not acknowledged with OK.`,
    );
  const seen = await watch.report();
  const firstReply = replyAfter(seen, sent, `${batch.length} pipelined SETs`, where);
  check(
    syncsAfter(seen, sent).some((s) => s < firstReply),
    `${where}With fsync 'always', ${batch.length} pipelined SETs were acknowledged without an fsync of the log before the first reply was written. One fsync per chunk of input is enough (group commit), but it must come before the chunk's replies.`,
  );
  checkLogCovered(seen, firstReply, `the first of ${batch.length} pipelined SETs`, where);
  const syncs = syncsAfter(seen, sent).length;
  check(
    syncs <= BATCH_SYNCS_AT_MOST,
    `${where}With fsync 'always', ${batch.length} SETs sent in one packet led to ${syncs} fsyncs of the log before ` +
      `their last reply; expected at most ${BATCH_SYNCS_AT_MOST} (one per chunk of input the server reads, and the packet ` +
      "arrives in one or two): 'always' costs one fsync per batch of writes (group commit), not one per command. " +
      'Likely causes: the log written and fsynced after each command instead of once after the whole chunk was ' +
      'handled; a snapshot or a rewrite of the log started by these few writes.',
  );
}

/** 'no': writes one at a time lead to no fsync (at most one); returns how many there were. */
export async function checkNo(
  c: RawClient,
  watch: RemoteSyncWatch,
  writes: readonly Write[],
  where = '',
): Promise<number> {
  const before = await now(watch);
  for (const [args, want] of writes) await c.expect(args, want);
  await realSleep(200); // an fsync started by the last write has finished by now
  const noSyncs = syncsAfter(await watch.report(), before).length;
  check(
    noSyncs <= 1,
    `${where}With fsync 'no', the server fsynced its log ${noSyncs} times during ${writes.length} writes (one at a time, no snapshot due). ` +
      "'no' leaves it to the operating system when the log reaches the disk, which is why it is the fastest: write each record to the log, but do not fsync it (a snapshot and close() may still fsync).",
  );
  return noSyncs;
}

/**
 * 'everysec': writes from `next` keep coming for 1.5 s, in bursts of 20; about one fsync per second, and one after the
 * last burst within about a second. `byDefault`: the server was started without an fsync option. Returns a summary.
 */
export async function checkEverysec(
  c: RawClient,
  watch: RemoteSyncWatch,
  next: (i: number) => string[],
  byDefault: boolean,
  where = '',
): Promise<string> {
  const t0 = Date.now();
  const from = await now(watch);
  let sentWrites = 0;
  let lastSent = from;
  while (Date.now() - t0 < 1500) {
    const burst = Array.from({ length: 20 }, (_, i) => next(sentWrites + i));
    for (const args of burst) c.send(...args);
    for (const args of burst)
      check(same(await c.reply(describe(args)), 'OK'), `${where}${describe(args)} was not acknowledged with OK.`);
    // Once the burst is acknowledged it is in the log: a sync must come after this moment (one during the burst
    // may have missed its end).
    // The server's last write so far is the burst's last reply: a sync must follow it.
    const afterBurst = await watch.report();
    lastSent = afterBurst.replies[afterBurst.replies.length - 1] ?? afterBurst.now;
    sentWrites += 20;
    await realSleep(20);
  }
  const deadline = Date.now() + 2500;
  let seen = await watch.report();
  while (syncsAfter(seen, lastSent).length === 0 && Date.now() < deadline) {
    await realSleep(25);
    seen = await watch.report();
  }
  const elapsed = Date.now() - t0;
  const everysec = syncsAfter(seen, from).length;
  const how = byDefault ? 'the default, used here: the server was started without an fsync option' : 'used here';
  // The count first: a server that fsyncs per write has none left to do after the last one.
  const allowed = Math.ceil(elapsed / 1000) + 1;
  check(
    everysec <= allowed,
    `${where}With fsync 'everysec', the server fsynced its log ${everysec} times while ${sentWrites} writes arrived over ${(elapsed / 1000).toFixed(1)} s; expected about one fsync per second (at most ${allowed}). ` +
      "'everysec' accepts losing up to a second of writes in exchange for speed: do not fsync per write or per chunk, only from the once-a-second timer ('always' is the policy that fsyncs before every reply).",
  );
  check(
    syncsAfter(seen, lastSent).length > 0,
    `${where}With fsync 'everysec', ${sentWrites} writes were acknowledged in 1.5 s, and 2.5 s after the last of them arrived the log had still not been fsynced since. ` +
      `'everysec' (${how}) promises that every write reaches the disk within about a second, even when no more writes come: keep a timer (every 1000 ms) that fsyncs the log when something was written since the last fsync, and clear it in close().`,
  );
  return `${everysec} fsync(s) for ${sentWrites} writes in ${(elapsed / 1000).toFixed(1)} s`;
}

/** The options of a server started on a power cut's copy, besides its folder and policy: nothing due meanwhile. */
const QUIET = { snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 };

/** Keys closeWithPowerCut writes before close(), so that the snapshot it cuts the power in is never empty. */
const POWER_CUT_KEYS = 8;

/** Why a server's store may not survive a power cut during a snapshot, under any fsync policy. */
const POWER_CUT_CAUSES =
  "The fsync policy says when the log's writes reach the disk; the snapshot reaches it before it replaces anything, whatever the policy: once it is in place the log is cut, and the snapshot is the only copy. " +
  `Likely causes: the snapshot's temporary file not fsynced before its rename unless the policy is 'always' (fsync it under 'everysec' and 'no' too, with ${SYNC_CALLS}, through the fs module); ` +
  'the log cut (truncated or replaced) before the snapshot was fsynced and renamed into place; or a snapshot written in place instead of to a temporary file.';

/**
 * Watches the data folder `dir` for power cuts (from now on, each file keeps only what is fsynced): the disk nemesis
 * with no crash copies, and two folders for the power cuts of closeWithPowerCut. Install it after the sync watch.
 */
export async function watchPowerCuts(res: Resources, dir: string): Promise<RemoteDiskNemesis> {
  // Its seed draws nothing here: with no crash copies allowed, only the power cuts asked for are taken.
  return res.diskNemesis(dir, 0, 'lab5-power-cuts', 0, 2);
}

/** Every key of the server on `port` with its value (KEYS *, then a GET of each, pipelined), on a connection of its own. */
async function storeOf(res: Resources, port: number, what: string): Promise<Map<string, string>> {
  const r = await res.connect(port, 'latin1');
  const keys = await r.call('KEYS', '*');
  check(Array.isArray(keys), `${what}: KEYS * replied ${show(keys)}; expected an array of keys.`);
  const names = (keys as RespReply[]).map((k) => String(k));
  for (const k of names) r.send('GET', k);
  const store = new Map<string, string>();
  for (const k of names) store.set(k, String(await r.reply(`GET ${k}`, 10_000)));
  r.close();
  return store;
}

/** A server started with `policy` on the power cut's copy `p` holds `want`, exactly. */
async function checkPowerCutCopy(
  res: Resources,
  p: NemesisCopy,
  policy: FsyncPolicy | undefined,
  want: ReadonlyMap<string, string>,
  what: string,
): Promise<void> {
  let restarted: RunningServer;
  try {
    restarted = await res.server(
      policy === undefined ? { dataDir: p.dir, ...QUIET } : { dataDir: p.dir, fsync: policy, ...QUIET },
    );
  } catch (err) {
    if (isTestFailure(err)) throw err;
    throw new TestFailure(
      `${what}, the server could not start on the copy: ${(err as Error).message.replace(/\.$/, '')}. ${POWER_CUT_CAUSES}`,
    );
  }
  const got = await storeOf(res, restarted.port, `${what}, the server started on the copy`);
  await restarted.close();
  const wrong = [...want]
    .filter(([k, v]) => got.get(k) !== v)
    .map(
      ([k, v]) =>
        `${k} read ${got.has(k) ? show(got.get(k)!).slice(0, 40) : 'nothing'}, expected ${show(v).slice(0, 40)}`,
    );
  const extra = [...got.keys()].filter((k) => !want.has(k));
  check(
    wrong.length === 0 && extra.length === 0,
    `${what}, a server started on the copy read ${wrong.length} of the ${want.size} keys held before close() wrong (${wrong.slice(0, 3).join('; ') || 'none'})` +
      `${extra.length > 0 ? ` and holds ${extra.length} keys that were not there (${extra.slice(0, 3).join(', ')})` : ''}: ` +
      `close()'s snapshot began after every write was acknowledged, so the snapshot in place holds them all. ${POWER_CUT_CAUSES}`,
  );
}

/**
 * Writes POWER_CUT_KEYS keys, then closes the server with a power cut modelled during close()'s final snapshot
 * (`disk` from watchPowerCuts): just after the snapshot is renamed into place, and just after the log is then cut. A
 * server started on either copy, with the same `policy`, must hold the store as it was before close(). Returns a
 * summary for the log.
 */
export async function closeWithPowerCut(
  res: Resources,
  server: RunningServer,
  disk: RemoteDiskNemesis,
  policy: FsyncPolicy | undefined,
  where = '',
): Promise<string> {
  const w = await res.connect(server.port, 'latin1');
  for (let i = 0; i < POWER_CUT_KEYS; i++)
    await w.expect(['SET', `power:${i}`, `kept:${i}`], 'OK', `${where}before close()`);
  w.close();
  const before = await storeOf(res, server.port, `${where}before close()`);
  await disk.powerCutsAtSnapshot();
  await server.close();
  const { points } = await disk.report();
  await disk.stop();
  const label = policy === undefined ? "fsync not given (the default, 'everysec')" : `fsync '${policy}'`;
  check(
    points.length > 0,
    `${where}With ${label}, close() renamed no file other than appendonly.aof into the data folder. close() writes a final snapshot, atomically: a temporary file, fsynced, then renamed over the old snapshot.`,
  );
  for (const p of points)
    await checkPowerCutCopy(
      res,
      p,
      policy,
      before,
      `${where}With ${label}, ${before.size} keys, then close(): after ${p.what}`,
    );
  return `${points.length} power cut(s) during close()'s snapshot, each restored the ${before.size} keys`;
}
