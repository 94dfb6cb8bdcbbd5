// What each fsync policy promises, as the handout fixes it, checked through the fs spies in the student host: shared by TestFsyncPolicy and TestNemesisRedis.
import { RespReply } from '../resp';
import { check } from '../../suite';
import { describe, RawClient, same, show } from './harness';
import type { RemoteSyncWatch, SyncReport } from './spy-views';
import { realSleep } from '../../world';

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

/** "Now" in the spies' order: a moment before anything the test does next. */
async function now(watch: RemoteSyncWatch): Promise<number> {
  return (await watch.report()).now;
}

/** A write sent on its own and the reply it must get. */
export type Write = readonly [Array<string | number>, RespReply];

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
