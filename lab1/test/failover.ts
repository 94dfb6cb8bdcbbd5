/** Lab 1's failover tests: servers stopped in the middle of a write, at moments forced through the harness's call hook. */
import { runClients } from '../../suite/clients';
import { keyedRng } from '../../world';
import { TestDefinition, TestContext, check } from '../../suite';
import type { KVClerk } from '../rpc';
import { CAUSES_DUPLICATE, Lab1Impl, Lab1Tester, forever, show, within } from './harness';

type Ctx = TestContext<Lab1Impl>;

/** Virtual time a test gives one operation that must finish (ms). */
const SETTLE_MS = 10_000;

/** Three servers that all hold every shard: key "0" lives on servers 0 (its primary while running), 1 and 2. */
const ALL_THREE = { nshards: 3, nreplicas: 3, reliable: true } as const;
const KEY = '0';
/** The value every test first puts in KEY, so that a lost append shows as a missing suffix. */
const START = 'start ';

/** Whether a call's arguments carry `marker` (messages are the student's design; their JSON text is not). */
function mentions(args: unknown, marker: string): boolean {
  return JSON.stringify(args).includes(marker);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads KEY through a fresh clerk, failing the test with `what` if no answer comes. */
function readBack(ts: Lab1Tester, what: string): Promise<string> {
  return within(
    ts.makeClerk().get(KEY),
    SETTLE_MS,
    () =>
      `get(${show(KEY)}) did not finish within ${SETTLE_MS / 1000} s ${what}, although one server of its shard is still running: does the last running copy serve the shard?`,
  );
}

/**
 * Makes the old primary (server 0) stop at the worst moment of a write that carries `marker`: backup `reaches`
 * (server 1 unless said) has received it, the other backup never does (its copy is held until server 0 is cut
 * off). Returns a function telling whether the moment was reached (a design that never sends the write to that
 * backup is stopped afterwards).
 */
function stopPrimaryMidWrite(ts: Lab1Tester, marker: string, reaches: 1 | 2 = 1): () => boolean {
  let forced = false;
  ts.onCall = (server, _method, args) => {
    if (!ts.isRunning(0) || !mentions(args, marker)) return;
    if (server === 3 - reaches) return forever();
    if (server === reaches) {
      forced = true;
      setTimeout(() => ts.stopServer(0), 0);
    }
  };
  return () => forced;
}

/** Stops the primary in the middle of a write of `marker` (as stopPrimaryMidWrite), then holds for good every call `held` picks. */
function stopMidWriteThenHold(
  ts: Lab1Tester,
  marker: string,
  reaches: 1 | 2,
  held: (server: number, method: string, args: unknown) => boolean,
): void {
  stopPrimaryMidWrite(ts, marker, reaches);
  const forcing = ts.onCall!;
  ts.onCall = (server, method, args) => {
    if (ts.isRunning(0)) return forcing(server, method, args);
    if (held(server, method, args)) return forever();
  };
}

/** The clerk's append of `marker` to KEY while the primary stops in the middle of it; `question` is the failure's hint. */
function appendAcrossStop(ck: KVClerk, marker: string, question: string): Promise<string> {
  return within(
    ck.append(KEY, marker),
    SETTLE_MS,
    () =>
      `append(${show(KEY)}, ${show(marker)}) did not finish within ${SETTLE_MS / 1000} s after server 0 (the primary) stopped in the middle of it: ${question}`,
  );
}

/** Server 1 leads the shard for a get while server 0 is stopped; then server 0 restarts (it missed no writes). */
async function leadWhileStopped(ts: Lab1Tester): Promise<void> {
  ts.stopServer(0);
  const first = await readBack(ts, 'with server 0 stopped');
  check(
    first === START,
    () => `get(${show(KEY)}) with server 0 stopped returned ${show(first)}; expected ${show(START)}.`,
  );
  ts.startServer(0); // it missed no writes: only a get ran while it was stopped
}

const CAUSES_LOST =
  'Likely causes: a server that answers a re-sent write from its duplicate table without making sure every running copy has the write; ' +
  'a new primary that does not first bring the other running copies up to date; a primary that replies before every running copy acknowledged the write.';

export const stopMidReplicate: TestDefinition<Lab1Impl> = {
  name: 'TestStopMidReplicate',
  description:
    'a primary stops after its first backup got an append and before the second did; the clerk re-sends; then the first backup stops: the last copy still has the append',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const ck = ts.makeClerk();
    await ck.put(KEY, START);
    const marker = 'x 0 0 y';
    const forced = stopPrimaryMidWrite(ts, marker);
    const old = await appendAcrossStop(
      ck,
      marker,
      "does the clerk re-send to the shard's next server, and does that server take over?",
    );
    ts.onCall = undefined;
    ctx.log(
      forced()
        ? 'server 0 stopped after server 1 received the append and before server 2 did'
        : 'the write never reached server 1 while server 0 ran; server 0 stopped afterwards',
    );
    check(
      old === START,
      () =>
        `append(${show(KEY)}, ${show(marker)}) returned ${show(old)}; expected the value before it, ${show(START)}. ${CAUSES_DUPLICATE}`,
    );
    ts.stopServer(0);
    ts.stopServer(1);
    const v = await readBack(ts, 'with servers 0 and 1 stopped');
    check(
      v === START + marker,
      () =>
        `Server 0 (the primary) stopped after server 1 had the append and before server 2 did; the clerk's re-send was acknowledged; then server 1 stopped. get(${show(KEY)}) from server 2 returned ${show(v)}; expected ${show(START + marker)}: an acknowledged append was lost. ${CAUSES_LOST}`,
    );
  },
};

export const retakeover: TestDefinition<Lab1Impl> = {
  name: 'TestRetakeover',
  description:
    'server 1 leads the shard while server 0 is stopped; server 0 restarts, leads again and stops in the middle of an append (server 1 has it, server 2 not); the re-send makes server 1 lead a second time; then server 1 stops: the last copy still has the append',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const ck = ts.makeClerk();
    await ck.put(KEY, START);
    await leadWhileStopped(ts);
    const marker = 'x 0 0 y';
    stopPrimaryMidWrite(ts, marker);
    const old = await appendAcrossStop(ck, marker, 'does server 1 take over a second time?');
    ts.onCall = undefined;
    check(
      old === START,
      () =>
        `append(${show(KEY)}, ${show(marker)}) returned ${show(old)}; expected the value before it, ${show(START)}. ${CAUSES_DUPLICATE}`,
    );
    ts.stopServer(1);
    const v = await readBack(ts, 'with servers 0 and 1 stopped');
    check(
      v === START + marker,
      () =>
        `Server 1 led the shard once while server 0 was stopped; server 0 came back, led again and stopped after server 1 had append(${show(KEY)}, ${show(marker)}) and before server 2 did; ` +
        `the clerk's re-send, acknowledged through server 1, found the running servers as they were when server 1 last brought the others up to date; then server 1 stopped. ` +
        `get(${show(KEY)}) from server 2 returned ${show(v)}; expected ${show(START + marker)}: an acknowledged append was lost. A server that takes over must bring the ` +
        'running copies up to date every time it takes over, not only the first time or whenever the set of running servers looks new: another primary may have led (and ' +
        `written) in between. ${CAUSES_LOST}`,
    );
  },
};

/** How long TestGetDuringReplicate lets the primary answer a get while an append's copies are held (virtual ms). */
const ANSWER_MS = 500;

export const getDuringReplicate: TestDefinition<Lab1Impl> = {
  name: 'TestGetDuringReplicate',
  description:
    "an append reaches the primary, but its copies to both backups are held back; a get asks the primary; the primary stops and the append's re-sends are held back; a second get through server 1 must see what the first saw",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    await ts.makeRecordingClerk(0).put(KEY, START);
    const marker = 'x 0 0 y';
    let atBackup!: () => void;
    const reachedBackup = new Promise<void>((resolve) => (atBackup = resolve));
    // While server 0 runs, no call carrying the append reaches a backup; once it has stopped, none reaches anyone
    // (the clerk's re-sends included): the append never finishes, and the backups never see it.
    ts.onCall = (server, _method, args) => {
      if (!mentions(args, marker) || (server === 0 && ts.isRunning(0))) return;
      if (ts.isRunning(0)) atBackup();
      return forever();
    };
    void ts.makeRecordingClerk(1).append(KEY, marker);
    await within(
      reachedBackup,
      SETTLE_MS,
      () =>
        `append(${show(KEY)}, ${show(marker)}) never reached a backup (server 1 or 2) within ${SETTLE_MS / 1000} s: does the primary send each write to every running copy of the shard?`,
    );
    // A get sent to the primary first; server 0 stops once it has answered, or after ANSWER_MS.
    let answered = false;
    const reading = ts.makeRecordingClerk(2).get(KEY);
    void reading.then(() => (answered = true));
    await Promise.race([reading, sleep(ANSWER_MS)]);
    const whenStopped = answered ? 'once the get returned' : `${ANSWER_MS} ms after the get was sent`;
    ts.stopServer(0);
    const v1 = await within(
      reading,
      SETTLE_MS,
      () =>
        `a get(${show(KEY)}) sent to server 0 did not finish within ${SETTLE_MS / 1000} s after server 0 stopped: does server 1 take over?`,
    );
    const v2 = await within(
      ts.makeRecordingClerk(3, [1, 0, 2]).get(KEY),
      SETTLE_MS,
      () =>
        `a get(${show(KEY)}) with server 0 stopped did not finish within ${SETTLE_MS / 1000} s: does server 1 take over?`,
    );
    ctx.log(`reader 1 saw ${show(v1)} (server 0 stopped ${whenStopped}), reader 2 then saw ${show(v2)}`);
    check(
      !v1.includes(marker) || v2.includes(marker),
      () =>
        `append(${show(KEY)}, ${show(marker)}) reached server 0 (the primary), but its copies to servers 1 and 2 were held back. A get sent to server 0 returned ${show(v1)}; ` +
        `server 0 stopped (${whenStopped}), and the append's re-sends were held back too; a get started after the first one returned, through server 1, returned ${show(v2)}: ` +
        'it missed what the first read saw (not linearizable). A get may return a write only once every running copy has it. Likely cause: the primary ' +
        "answers a get from its own copy without waiting for the shard's operations before it (a write is applied at the primary before every backup has it); run gets in the " +
        "shard's queue like writes.",
    );
    ts.checkLinearizable();
  },
};

export const takeoverReplacesCopy: TestDefinition<Lab1Impl> = {
  name: 'TestTakeoverReplacesCopy',
  description:
    "a new clerk's first append creates a key; the primary stops after server 2 got it and before server 1 did; server 1 takes over and the re-send goes through it; then server 1 stops: server 2 holds the append exactly once",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const ck = ts.makeClerk();
    const marker = 'x 0 0 y';
    stopPrimaryMidWrite(ts, marker, 2);
    const old = await appendAcrossStop(
      ck,
      marker,
      "does the clerk re-send to the shard's next server, and does that server take over?",
    );
    ts.onCall = undefined;
    check(
      old === '',
      () => `append(${show(KEY)}, ${show(marker)}) to a missing key returned ${show(old)}; expected "".`,
    );
    ts.stopServer(1);
    const v = await readBack(ts, 'with servers 0 and 1 stopped');
    check(
      v === marker,
      () =>
        `Server 0 (the primary) stopped after server 2 had the first append of a new clerk, creating ${show(KEY)}, and before server 1 did; server 1 took over and acknowledged ` +
        `the clerk's re-send; then server 1 stopped. get(${show(KEY)}) from server 2 returned ${show(v)}; expected ${show(marker)}, the append exactly once. ` +
        "Likely causes: a takeover that merges the new primary's copy into a backup's instead of replacing it (keys only the backup had stay, so the append is applied " +
        "twice), or that replaces the data but keeps the backup's own duplicate table (the backup then skips the re-sent append as already applied, though its data no " +
        'longer has it). An Install replaces both, data and duplicate table.',
    );
  },
};

/**
 * KEY holds START; a clerk appends `marker`, and the primary (server 0) stops after server 1 got the append and
 * before server 2 did. The clerk's re-send never arrives: the append never finishes, and only what the test sends
 * next reaches the new primary. Returns once server 0 has stopped.
 */
async function stopMidAppendForGood(ts: Lab1Tester, marker: string): Promise<void> {
  await ts.makeClerk().put(KEY, START);
  stopMidWriteThenHold(ts, marker, 1, (_server, method, args) => method === 'Append' && mentions(args, marker));
  void ts.makeClerk().append(KEY, marker);
  while (ts.isRunning(0)) await sleep(1);
}

export const getAfterTakeover: TestDefinition<Lab1Impl> = {
  name: 'TestGetAfterTakeover',
  description:
    "the primary stops mid-append (server 1 has it, server 2 not) and the clerk's re-send is held back; a reader gets through server 1, then server 1 stops and a second reader gets through server 2: it must see what the first saw",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const marker = 'x 0 0 y';
    await stopMidAppendForGood(ts, marker);
    const v1 = await within(
      ts.makeClerk(ts.config, [1, 0, 2]).get(KEY),
      SETTLE_MS,
      () =>
        `a get(${show(KEY)}) with server 0 stopped did not finish within ${SETTLE_MS / 1000} s: does server 1 take over?`,
    );
    ts.stopServer(1);
    const v2 = await readBack(ts, 'with servers 0 and 1 stopped');
    ctx.log(`reader 1 saw ${show(v1)} through server 1, reader 2 then saw ${show(v2)} through server 2`);
    check(
      !v1.includes(marker) || v2.includes(marker),
      () =>
        `Server 0 (the primary) stopped after server 1 had append(${show(KEY)}, ${show(marker)}) and before server 2 did, and the clerk's re-send never arrived. ` +
        `A get through server 1, the new primary, returned ${show(v1)}; server 1 stopped; a get started after it, through server 2, returned ${show(v2)}: it missed ` +
        'what the first saw (not linearizable). A new primary must bring the running copies up to date before it serves anything, gets included, not only before its first write.',
    );
  },
};

/** TestSyncBesideWrite: a key of KEY's shard (shard 0 of 3), and how long server 2 holds the new primary's first copy (virtual ms). */
const SAME_SHARD_KEY = '3';
const COPY_HELD_MS = 300;

export const syncBesideWrite: TestDefinition<Lab1Impl> = {
  name: 'TestSyncBesideWrite',
  description: `the primary stops mid-append (server 1 has it, server 2 not); a get makes server 1 take over, and server 2 holds the copy it is sent for ${COPY_HELD_MS} ms, while a put of another key of the shard goes through server 1; then server 1 stops: server 2 holds the put`,
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const marker = 'x 0 0 y';
    await stopMidAppendForGood(ts, marker);
    // Server 2 holds the first call that brings it the append (server 1's copy, sent as it takes over) a while.
    const holding = ts.onCall!;
    let held = false;
    ts.onCall = (server, method, args) => {
      const gate = holding(server, method, args);
      if (gate !== undefined || server !== 2 || held || !mentions(args, marker)) return gate;
      held = true;
      return sleep(COPY_HELD_MS);
    };
    const reading = ts.makeClerk(ts.config, [1, 0, 2]).get(KEY);
    await sleep(1);
    const put = ts.makeClerk(ts.config, [1, 0, 2]).put(SAME_SHARD_KEY, 'b');
    await within(
      Promise.all([reading, put]),
      SETTLE_MS,
      () =>
        `a get(${show(KEY)}) and a put(${show(SAME_SHARD_KEY)}, "b") through server 1, with server 0 stopped, did not finish within ${SETTLE_MS / 1000} s: does server 1 take over?`,
    );
    await sleep(COPY_HELD_MS);
    ts.stopServer(1);
    const v = await within(
      ts.makeClerk().get(SAME_SHARD_KEY),
      SETTLE_MS,
      () =>
        `get(${show(SAME_SHARD_KEY)}) did not finish within ${SETTLE_MS / 1000} s with servers 0 and 1 stopped: does the last running copy serve the shard?`,
    );
    check(
      v === 'b',
      () =>
        `Server 0 (the primary) stopped after server 1 had append(${show(KEY)}, ${show(marker)}) and before server 2 did. A get of ${show(KEY)} through server 1 ` +
        `made it take over (server 2 held the copy server 1 sent it for ${COPY_HELD_MS} ms), and meanwhile put(${show(SAME_SHARD_KEY)}, "b"), a key of the same shard, ` +
        `returned OK through server 1. Server 1 then stopped, and get(${show(SAME_SHARD_KEY)}) from server 2 returned ${show(v)}: an acknowledged put was lost. ` +
        "Likely causes: the shard's operations queued per key instead of per shard, so the put ran beside the takeover's copy and that older copy " +
        'replaced the put at server 2 when it arrived; a put acknowledged before the new primary had brought the running copies up to date.',
    );
    ts.checkLinearizable();
  },
};

export const takeoverOrder: TestDefinition<Lab1Impl> = {
  name: 'TestTakeoverOrder',
  description:
    "a primary stops mid-append; another client appends through the new primary, which stops before the first clerk's re-send reaches it; the re-send goes to the last copy: both appends there once, in the order their replies describe",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const [a, b] = [ts.makeRecordingClerk(0), ts.makeRecordingClerk(1)];
    await a.put(KEY, START);
    await appendsAcrossTakeover(ts, a, b, 1, 'Server 0 stopped');
  },
};

export const unseenLead: TestDefinition<Lab1Impl> = {
  name: 'TestUnseenLead',
  description:
    "server 1 leads while server 0 is stopped; server 0 restarts, leads again and stops mid-append with only server 2 reached; server 1 leads again, never having seen server 0's lead, and another client appends through it; then it stops: the last copy holds both appends once, in the order their replies describe",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const [a, b] = [ts.makeRecordingClerk(0), ts.makeRecordingClerk(1)];
    await a.put(KEY, START);
    await leadWhileStopped(ts);
    await appendsAcrossTakeover(
      ts,
      a,
      b,
      2,
      'Server 1 led the shard once while server 0 was stopped (a get); server 0 came back, led again, and stopped',
      "Server 1 never heard of server 0's second lead (server 0's messages to it never arrived), and the running servers looked as they did when it last led: a server that leads again must still bring the other copies up to date (or learn from them that another primary wrote to them since), since it cannot tell whether another led in between.",
    );
  },
};

/** How long TestRestartMidReplicate cuts the link from server 1 to server 2 once server 0 is back (virtual ms). */
const RESTART_CUT_MS = 1000;

export const restartMidReplicate: TestDefinition<Lab1Impl> = {
  name: 'TestRestartMidReplicate',
  description:
    "server 1 leads while server 0 is stopped, and its copy of an append to server 2 is held back; server 0 restarts (the append is not acknowledged yet) and leads again, and the held copy is lost: if the clerk's append returned, server 0 has it",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const ck = ts.makeRecordingClerk(0);
    await ck.put(KEY, START);
    ts.stopServer(0);
    const marker = 'x 0 0 y';
    let atServer2!: () => void;
    const reached2 = new Promise<void>((resolve) => (atServer2 = resolve));
    ts.onCall = (server, _method, args) => {
      if (server !== 2 || ts.isRunning(0) || !mentions(args, marker)) return;
      atServer2();
      return forever(); // lost once the link from server 1 to server 2 is cut
    };
    const writing = ck.append(KEY, marker);
    await within(
      reached2,
      SETTLE_MS,
      () =>
        `append(${show(KEY)}, ${show(marker)}) with server 0 stopped never reached server 2 within ${SETTLE_MS / 1000} s: does server 1 take over, and does it send each write to every running copy?`,
    );
    ts.onCall = undefined;
    // Server 0 comes back while the append is still being copied (it missed no acknowledged write) and is the
    // shard's primary again; server 1's copy to server 2 is lost, and so is all it sends server 2 for a while.
    ts.startServer(0);
    ts.setLink(1, 2, false);
    setTimeout(() => ts.setLink(1, 2, true), RESTART_CUT_MS);
    const old = await within(
      writing,
      RESTART_CUT_MS + SETTLE_MS,
      () =>
        `append(${show(KEY)}, ${show(marker)}) did not finish within ${(RESTART_CUT_MS + SETTLE_MS) / 1000} s after server 0 restarted: does the clerk re-send, and does server 0 serve the shard again?`,
    );
    check(
      old === START,
      () =>
        `append(${show(KEY)}, ${show(marker)}) returned ${show(old)}; expected the value before it, ${show(START)}. ${CAUSES_DUPLICATE}`,
    );
    const v = await within(
      ts.makeRecordingClerk(1).get(KEY),
      SETTLE_MS,
      () => `get(${show(KEY)}) did not finish within ${SETTLE_MS / 1000} s with all three servers running.`,
    );
    check(
      v === START + marker,
      () =>
        `Server 1 led the shard while server 0 was stopped and applied append(${show(KEY)}, ${show(marker)}); its copy to server 2 was held back; server 0 then restarted ` +
        `(the append was not acknowledged yet) and became the primary again, and server 1's held copy was lost. The append returned ${show(old)}, yet a later get(${show(KEY)}) ` +
        `returned ${show(v)}; expected ${show(START + marker)}: an acknowledged append was lost. Server 0 never had it, and as the primary it decides what the shard holds. ` +
        'Likely cause: a primary that stops copying a write because another server now leads the shard, and then replies OK anyway. ' +
        "Once a server no longer leads, its write is not acknowledged: reply with an error, so that the clerk re-sends it to the shard's primary.",
    );
    ts.checkLinearizable();
  },
};

/**
 * Client A's append of one marker across the primary's stop (server `reaches` got it, the other backup not);
 * client B's append through server 1, the new primary, before A's re-send reaches it; server 1 stops; A's re-send
 * goes to server 2. Both appends must be there once, in the order their replies describe, and linearizable.
 */
async function appendsAcrossTakeover(
  ts: Lab1Tester,
  a: KVClerk,
  b: KVClerk,
  reaches: 1 | 2,
  before: string,
  hint = '',
): Promise<void> {
  const m1 = 'x 0 0 y';
  const m2 = 'x 1 0 y';
  // Once server 0 is stopped, client A's re-send never gets through to server 1: it is held there until server
  // 1 stops (after client B's append), and then goes to server 2.
  stopMidWriteThenHold(
    ts,
    m1,
    reaches,
    (server, _method, args) => server === 1 && mentions(args, m1) && !mentions(args, m2),
  );
  const aOld = a.append(KEY, m1);
  while (ts.isRunning(0)) await sleep(1);
  const bOld = await within(
    b.append(KEY, m2),
    SETTLE_MS,
    () =>
      `append(${show(KEY)}, ${show(m2)}) did not finish within ${SETTLE_MS / 1000} s after the primary stopped: does server 1 take over?`,
  );
  ts.stopServer(1);
  const aOldValue = await within(
    aOld,
    SETTLE_MS,
    () =>
      `append(${show(KEY)}, ${show(m1)}) did not finish within ${SETTLE_MS / 1000} s after servers 0 and 1 stopped (server 2 still runs and must take over).`,
  );
  ts.onCall = undefined;
  const v = await readBack(ts, 'with servers 0 and 1 stopped');
  const story = `${before} while replicating append(${show(KEY)}, ${show(m1)}) (server ${reaches} had it, server ${3 - reaches} not); client B's append(${show(KEY)}, ${show(m2)}) then went through server 1 and returned ${show(bOld)}; server 1 stopped; client A's re-send, answered by server 2, returned ${show(aOldValue)}; get(${show(KEY)}) from server 2 returned ${show(v)}`;
  for (const [m, old] of [
    [m1, aOldValue],
    [m2, bOld],
  ] as const) {
    check(
      v.startsWith(old + m),
      () =>
        `${story}. The append of ${show(m)} returned ${show(old)}, so the value must start with ${show(old + m)}: the copies applied the shard's writes in different orders, or lost one. ${hint ? `${hint} ` : ''}${CAUSES_LOST}`,
    );
  }
  check(
    v.length === START.length + m1.length + m2.length,
    () =>
      `${story}; expected both appends exactly once. If one is there twice: does the duplicate table travel with the data when a new primary brings the other copies up to date?`,
  );
  ts.checkLinearizable();
}

export const readAtLaggingCopy: TestDefinition<Lab1Impl> = {
  name: 'TestReadAtLaggingCopy',
  description:
    'while an append is on servers 0 and 1 but not yet on 2, one reader asks server 1 and then another asks server 2: the second must not miss what the first saw; ' +
    "then again with the backups' links to the primary cut (the clerks can still reach it)",
  async run(ctx: Ctx) {
    await laggingCopyRound(ctx, false);
    await laggingCopyRound(ctx, true);
  },
};

/** One round of TestReadAtLaggingCopy; with `cutForwards`, servers 1 and 2 cannot reach server 0 while the readers read. */
async function laggingCopyRound(ctx: Ctx, cutForwards: boolean): Promise<void> {
  const ts = new Lab1Tester(ctx, ALL_THREE);
  await ts.makeClerk().put(KEY, START);
  const marker = 'x 0 0 y';
  let atServer1!: () => void;
  const reached1 = new Promise<void>((resolve) => (atServer1 = resolve));
  ts.onCall = (server, _method, args) => {
    if (!mentions(args, marker)) return;
    if (server === 1) atServer1();
    if (server === 2) return sleep(1000); // server 2 gets the write one virtual second late
  };
  const writing = ts.makeClerk().append(KEY, marker);
  await within(
    reached1,
    SETTLE_MS,
    () =>
      `append(${show(KEY)}, ${show(marker)}) never reached server 1 within ${SETTLE_MS / 1000} s: does the primary send each write to every running copy of the shard?`,
  );
  if (cutForwards) {
    ts.setLink(1, 0, false);
    ts.setLink(2, 0, false);
  }
  // Clerks whose first try goes to server 1 (then 2), or to server 2 (then 1), before the primary.
  const v1 = await within(
    ts.makeClerk(ts.config, [1, 0, 2]).get(KEY),
    SETTLE_MS,
    () => `a get(${show(KEY)}) sent first to server 1 did not finish within ${SETTLE_MS / 1000} s.`,
  );
  const v2 = await within(
    ts.makeClerk(ts.config, [2, 0, 1]).get(KEY),
    SETTLE_MS,
    () => `a get(${show(KEY)}) sent first to server 2 did not finish within ${SETTLE_MS / 1000} s.`,
  );
  ctx.log(`reader 1 saw ${show(v1)}, reader 2 then saw ${show(v2)}`);
  check(
    !v1.includes(marker) || v2.includes(marker),
    () =>
      `While append(${show(KEY)}, ${show(marker)}) was on servers 0 and 1 but not yet on server 2${cutForwards ? ', and servers 1 and 2 could not reach server 0 (the clerks could)' : ''}, ` +
      `a get sent to server 1 returned ${show(v1)}, and a get started after it, sent to server 2, returned ${show(v2)}: the second read missed a write the first one saw (not linearizable). ` +
      "Likely cause: a server that is not the shard's primary answers gets from its own copy" +
      (cutForwards
        ? ' when it cannot reach the primary; refuse them then (ErrRetry: the clerk tries another server).'
        : '; pass them to the primary (or refuse them).'),
  );
  if (cutForwards) {
    ts.setLink(1, 0, true);
    ts.setLink(2, 0, true);
  }
  await within(
    writing,
    SETTLE_MS,
    () => `append(${show(KEY)}, ${show(marker)}) did not finish within ${SETTLE_MS / 1000} s.`,
  );
}

/** How long TestReplicaOrder holds the first write's copy at server 1, waiting for the second's (virtual ms). */
const HOLD_MS = 300;

export const replicaOrder: TestDefinition<Lab1Impl> = {
  name: 'TestReplicaOrder',
  description:
    'two appends to one key, the second started once the first is on its way to server 1, whose copy of the first is delayed; the primary stops: server 1 agrees with the replies',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const a = ts.makeRecordingClerk(0);
    const b = ts.makeRecordingClerk(1);
    await a.put(KEY, START);
    const m1 = 'x 0 0 y';
    const m2 = 'x 1 0 y';
    let firstAt1!: () => void;
    const firstReached1 = new Promise<void>((resolve) => (firstAt1 = resolve));
    let secondAt1!: () => void;
    const secondReached1 = new Promise<void>((resolve) => (secondAt1 = resolve));
    ts.onCall = (server, _method, args) => {
      if (server !== 1 || !ts.isRunning(0)) return;
      if (mentions(args, m2)) secondAt1();
      else if (mentions(args, m1)) {
        firstAt1();
        // Server 1 gets the first append late: after the second one's copy, if that comes within HOLD_MS.
        return Promise.race([secondReached1, sleep(HOLD_MS)]);
      }
    };
    const aOld = a.append(KEY, m1);
    await within(
      firstReached1,
      SETTLE_MS,
      () =>
        `append(${show(KEY)}, ${show(m1)}) never reached server 1 within ${SETTLE_MS / 1000} s: does the primary send each write to every running copy?`,
    );
    const bOld = b.append(KEY, m2);
    const [oa, ob] = await within(
      Promise.all([aOld, bOld]),
      SETTLE_MS,
      () => `the two appends did not finish within ${SETTLE_MS / 1000} s.`,
    );
    ts.onCall = undefined;
    ts.stopServer(0);
    const v = await readBack(ts, 'with server 0 stopped');
    const story = `append(${show(KEY)}, ${show(m1)}) returned ${show(oa)} and append(${show(KEY)}, ${show(m2)}) returned ${show(ob)} (server 1 received the first one's copy late); server 0 then stopped, and get(${show(KEY)}) from server 1 returned ${show(v)}`;
    for (const [m, old] of [
      [m1, oa],
      [m2, ob],
    ] as const) {
      check(
        v.startsWith(old + m),
        () =>
          `${story}; the value must start with ${show(old + m)}. The backup applied the shard's writes in another order than the primary. Likely causes: the primary runs a shard's operations concurrently instead of one at a time, or does not wait for a write's copies before starting the next one.`,
      );
    }
    ts.checkLinearizable();
  },
};

/**
 * How long TestReplicateRetries cuts the primary's link to a backup, drawn per seed (virtual ms): each append's cut
 * from its own range. A primary that gives up after any time shorter than the last range's start (half an hour: a
 * give-up after a thousand tries, or after some minutes, is inside it) fails; one that gives up later fails on the
 * seeds whose cut outlasts it.
 */
const CUTS_MS: readonly (readonly [number, number])[] = [
  [5000, 20_000],
  [30_000, 90_000],
  [240_000, 300_000],
  [1_800_000, 3_600_000],
];

/**
 * How soon after the link comes back each of TestReplicateRetries's appends must return (virtual ms): the primary's
 * pause between re-sends grows to about 100 ms, as the clerk's does (at most 150 ms with its jitter), so 300 ms is
 * room for the pause under way and the round trips. A pause capped at a second ends in time on about one cut in
 * three, so the four cuts catch it on all but about one seed in a hundred.
 */
const HEALED_RETURN_MS = 300;

export const replicateRetries: TestDefinition<Lab1Impl> = {
  name: 'TestReplicateRetries',
  description: `the primary's link to one backup loses every message during an append, for ${CUTS_MS.map(([lo, hi]) => `${lo / 1000}-${hi / 1000} s`).join(', then ')} (drawn per seed); each append returns within ${HEALED_RETURN_MS / 1000} s of the link's return, and the moment it does, the other two servers stop: the backup has it`,
  // Every cut at its longest, and the settling after each.
  virtualLimitMs: CUTS_MS.reduce((sum, [, hi]) => sum + hi + SETTLE_MS, 0) + 60_000,
  async run(ctx: Ctx) {
    const draws = keyedRng(ctx.seed, 'lab1-replicate-cut');
    const cuts = CUTS_MS.map(([lo, hi]) => draws.between(lo, hi));
    ctx.log(`the link is cut for ${cuts.join(' ms, then ')} ms`);
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const ck = ts.makeClerk();
    await ck.put(KEY, START);
    let held = START;
    for (const [round, cutMs] of cuts.entries()) {
      const marker = `x ${round} 0 y`;
      ts.setLink(0, 2, false);
      let healedAt = Infinity;
      setTimeout(() => {
        ts.setLink(0, 2, true);
        healedAt = performance.now();
      }, cutMs);
      const old = await within(
        ck.append(KEY, marker),
        cutMs + SETTLE_MS,
        () =>
          `append(${show(KEY)}, ${show(marker)}) did not finish within ${SETTLE_MS / 1000} s after the link from server 0 to server 2 came back (it was cut for ${cutMs / 1000} s): does the primary keep re-sending to a running backup until it answers?`,
      );
      const late = performance.now() - healedAt;
      check(
        late <= HEALED_RETURN_MS,
        () =>
          `append(${show(KEY)}, ${show(marker)}) returned ${(late / 1000).toFixed(1)} s after the link from server 0 to server 2 came back (it was cut for ${cutMs / 1000} s); expected within ${HEALED_RETURN_MS / 1000} s. ` +
          'A primary re-sending a write to a backup waits the way the clerk does, growing to about 100 ms, however long the backup has not answered. ' +
          "Likely causes: the primary's pause between re-sends grows far past 100 ms (doubling to seconds, or a cap of several seconds), or the clerk's pause between tries does.",
      );
      check(old === held, () => `append(${show(KEY)}, ${show(marker)}) returned ${show(old)}; expected ${show(held)}.`);
      held += marker;
      // At once: an append that returned before server 2 acknowledged it is lost now.
      ts.stopServer(0);
      ts.stopServer(1);
      const v = await readBack(ts, 'with servers 0 and 1 stopped');
      check(
        v === held,
        () =>
          `The link from server 0 (the primary) to server 2 lost every message for ${cutMs / 1000} s while append(${show(KEY)}, ${show(marker)}) ran; the append was acknowledged; then servers 0 and 1 stopped, and get(${show(KEY)}) from server 2 returned ${show(v)}; expected ${show(held)}. Likely causes: the primary stops re-sending a write to a backup after some tries or some time and replies anyway, or replies before every running backup acknowledged it (copying it in the background); a running backup must be re-sent to until it acknowledges, however long that takes.`,
      );
      ts.startServer(0);
      ts.startServer(1);
    }
  },
};

/** Keys a plain object or a careless encoding mishandles, each with a value as awkward. */
const ODD: readonly (readonly [string, string])[] = [
  ['__proto__', 'proto value'],
  ['constructor', 'ctor'],
  ['hasOwnProperty', 'own'],
  ['toString', ''],
  ['ключ', 'значение ✓'],
  ['鍵🔑', '値 🗝️ é'],
  ['nul\u0000key', 'bin \u0000\u0001\u007f\u0080\u00ff\ufffd'],
  ['007', 'leading zeros'],
  [' ', 'space'],
  ['', 'the empty key'],
];

export const oddKeys: TestDefinition<Lab1Impl> = {
  name: 'TestOddKeys',
  description:
    'keys like __proto__, constructor, "", non-ASCII and control characters, read before being written, appended, put, and read back after their primary stops',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, { nshards: 3, nreplicas: 2, reliable: false });
    const ck = ts.makeRecordingClerk(0);
    for (const [k] of ODD) {
      const v = await ck.get(k);
      check(
        v === '',
        () =>
          `get(${show(k)}) of a key nobody wrote returned ${show(v)}; expected "". Is the store a plain object, whose inherited properties (constructor, __proto__, ...) look like keys? Use a Map.`,
      );
    }
    for (const [k, v] of ODD) {
      const old = await ck.append(k, v);
      check(
        old === '',
        () =>
          `The first append(${show(k)}, ${show(v)}) returned ${show(old)}; expected "" (the key was never written).`,
      );
      const old2 = await ck.append(k, '+');
      check(
        old2 === v,
        () => `append(${show(k)}, "+") returned ${show(old2)}; expected ${show(v)}, the value the first append left.`,
      );
    }
    await ck.put('__proto__', 'replaced');
    const expected = new Map(ODD.map(([k, v]) => [k, `${v}+`]));
    expected.set('__proto__', 'replaced');
    // Every key's shard keeps a running copy when one server stops: read all of them back from the others.
    ts.stopServer(0);
    const reader = ts.makeRecordingClerk(1);
    for (const [k, v] of expected) {
      const got = await within(
        reader.get(k),
        SETTLE_MS,
        () => `get(${show(k)}) did not finish within ${SETTLE_MS / 1000} s after server 0 stopped.`,
      );
      check(
        got === v,
        () =>
          `After server 0 stopped, get(${show(k)}) returned ${show(got)}; expected ${show(v)}. Keys and values are any strings: do they reach the backups unchanged, and is the store a Map (not a plain object)?`,
      );
    }
    ts.checkLinearizable();
  },
};

/** TestUnreliableMixed's rounds, their length, and the servers stopped in the middle of rounds 0 and 1. */
const MIXED_ROUNDS = 3;
const MIXED_ROUND_MS = 1000;
const MIXED_STOPS = [1, 2];

export const unreliableMixed: TestDefinition<Lab1Impl> = {
  name: 'TestUnreliableMixed',
  description:
    'puts, appends and gets by 5 clients on 3 keys over the lossy network; neighbouring servers 1 then 2 stop in the middle of rounds: linearizable',
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, { nshards: 5, nreplicas: 3, reliable: false });
    const rng = ctx.world!.rng;
    const nclients = 5;
    const keys = ['1', '2', '6'];
    for (let round = 0; round < MIXED_ROUNDS; round++) {
      if (round < MIXED_STOPS.length) {
        const victim = MIXED_STOPS[round];
        setTimeout(() => ts.stopServer(victim), rng.int(MIXED_ROUND_MS));
      }
      const work = runClients(nclients, MIXED_ROUND_MS, async (cli, done) => {
        const ck: KVClerk = ts.makeRecordingClerk(cli);
        for (let j = 0; !done(); j++) {
          const key = keys[rng.int(keys.length)];
          const r = rng.float();
          if (r < 0.2) await ck.put(key, `p${cli}.${round}.${j} `);
          else if (r < 0.6) await ck.append(key, `a${cli}.${round}.${j} `);
          else await ck.get(key);
        }
      });
      await within(
        work,
        MIXED_ROUND_MS + SETTLE_MS,
        () =>
          `round ${round}: the clients' operations did not finish within ${SETTLE_MS / 1000} s after the round ended (stopped servers: ${MIXED_STOPS.slice(0, round + 1).join(', ')}; every shard still has a running copy, which must take over).`,
      );
    }
    ts.checkLinearizable();
  },
};

/** How long the backup runs on in TestLateCopy after the first call carrying the append is held (virtual ms). */
const STOP_AFTER_HOLD_MS = 50;

/** One late copy of TestLateCopy: which backup the write lands on, and what happens before the copy runs. */
interface LateCopyRound {
  /** The backup (1 or 2) that receives the write, passes it on to the primary (server 0) and stops. */
  readonly backup: number;
  /** The write: an append of a value unique in the test, or a put of the value the key holds at that moment. */
  readonly op: 'append' | 'put';
  /** The write's value (for a put, the key's value as it is). */
  readonly value: string;
  /**
   * What happens next, before the old copy runs: the clerk's next operation (an append of this value, or a get), or
   * an append of this value by another clerk.
   */
  readonly next: { readonly append: string } | 'get' | { readonly otherAppends: string };
}

/**
 * A clerk's write lands on backup `round.backup`, which passes it on to the primary and stops while that copy is
 * held there; the clerk sends the write again (it goes through), and the next operation is made; then the old copy
 * runs, and the write must have taken effect once, at its place. Server 0 must be running, and the backup too.
 */
async function lateCopyRound(ts: Lab1Tester, ctx: Ctx, round: LateCopyRound): Promise<void> {
  const { backup, value, op } = round;
  const other = backup === 1 ? 2 : 1;
  // The clerk's end for server 0 reaches the backup: its first try, aimed at the primary, lands on a backup.
  const clerk = ts.makeRecordingClerk(backup, [backup, 0, other]);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  ts.onCall = (server, _method, args) => {
    // Every call carrying the write that reaches the primary while the backup runs: the backup's copy of it (the
    // handout's backups pass writes on to the primary), and whatever else carries it, so that no message sent
    // ahead of the copy can take its place.
    if (server !== 0 || !ts.isRunning(backup) || !mentions(args, value)) return;
    held++;
    return released;
  };
  const write = `${op}(${show(KEY)}, ${show(value)})`;
  const writing: Promise<unknown> = op === 'put' ? clerk.put(KEY, value) : clerk.append(KEY, value);
  for (let waited = 0; held === 0 && waited < SETTLE_MS; waited += 5) await sleep(5);
  check(
    held > 0,
    () =>
      `${write} was sent to backup server ${backup}, and in ${SETTLE_MS / 1000} s no call carrying it reached the primary, server 0, while server ${backup} ran. ` +
      'Expected: a server that does not lead a shard passes a write on to its primary (a call whose arguments carry the key and value as given) and relays the answer. ' +
      'The handout asks every message that carries a write to carry its value as given (a string in the arguments, not encoded): the test finds the copy by it. ' +
      'Likely causes: the backup refuses, or answers from its own copy, instead of passing the write on; it passes the value on encoded or split; it waits before passing it on.',
  );
  // The backup runs a little longer, so that whatever it sends after its first call carrying the write (its copy,
  // if that call was something else) is held too; then it stops, and the clerk's call to it fails: the clerk sends
  // the write again.
  await sleep(STOP_AFTER_HOLD_MS);
  ts.stopServer(backup);
  const heldAt = performance.now();
  await within(
    writing,
    SETTLE_MS,
    () => `${write} did not finish within ${SETTLE_MS / 1000} s after server ${backup} stopped, with server 0 running.`,
  );
  const { next } = round;
  const nextOp =
    next === 'get'
      ? `the clerk's get(${show(KEY)})`
      : 'append' in next
        ? `the clerk's append(${show(KEY)}, ${show(next.append)})`
        : `another clerk's append(${show(KEY)}, ${show(next.otherAppends)})`;
  await within(
    next === 'get'
      ? clerk.get(KEY)
      : 'append' in next
        ? clerk.append(KEY, next.append)
        : ts.makeRecordingClerk(3).append(KEY, next.otherAppends),
    SETTLE_MS,
    () => `the next operation, ${nextOp}, did not finish within ${SETTLE_MS / 1000} s.`,
  );
  // The old copy runs as soon as the next operation has returned (a server that refused copies older than some
  // deadline would not see it otherwise).
  const lateMs = performance.now() - heldAt;
  release();
  await sleep(200);
  ts.onCall = undefined;
  const got = await readBack(ts, 'once the old copy had run');
  ctx.log(
    `the copy held at server 0 ran ${lateMs.toFixed(0)} ms late, after ${nextOp}; ${show(KEY)} then held ${show(got)}`,
  );
  judgeLateCopy(round, write, nextOp, got);
}

/** Fails unless `got`, KEY's value once the old copy of `round`'s write had run, shows the write taken once, at its place. */
function judgeLateCopy(round: LateCopyRound, write: string, nextOp: string, got: string): void {
  const { backup, value, op, next } = round;
  const story =
    `${write} reached backup server ${backup}, which passed it on to the primary, server 0, and then stopped while that copy waited at server 0. ` +
    `The clerk sent the ${op} again (it went through), then came ${nextOp}; only then did the old copy run at server 0. `;
  const causes =
    "Likely causes: the duplicate table recognises only a copy of the clerk's latest write (same number), not an older one, which must be ignored too " +
    "(an older number is a copy of a write the clerk finished with long ago); a clerk's entry removed from the table when a later get (or any read) arrives: a copy of its last write can still come; " +
    'the table keyed by something other than the clerk, or reset by its next operation';
  if (op === 'put') {
    const want = typeof next === 'object' && 'otherAppends' in next ? value + next.otherAppends : value;
    check(
      got === want,
      () =>
        story +
        `${show(KEY)} now holds ${show(got)}; expected ${show(want)}: the put took effect before the append that followed it, and its old copy must change nothing. ` +
        `${causes}; a put of the value the key already holds answered at once without being recorded in the duplicate table (it is a write like any other: record it, so that a late copy of it is known).`,
    );
    return;
  }
  const times = got.split(value).length - 1;
  check(
    times === 1,
    () =>
      story + `${show(KEY)} now holds ${show(got)}: the append took effect ${times} times; expected once. ${causes}.`,
  );
}

/** The value TestLateCopy's last phase puts twice: once by one clerk, then again (the value held) by another. */
const HELD = 'x 5 0 y';

/**
 * A put of the value the key holds, whose first copy waits at a backup: the clerk's call to that backup is lost while
 * the copy waits in its handler, the clerk sends the put again to the primary (it goes through), the primary stops
 * and the backup takes the shard over, another clerk appends; then the old copy runs at the new primary, and must
 * change nothing. A primary that answers such a put without passing it on leaves the backup's duplicate table
 * without it, and the copy then undoes the append.
 */
async function heldValueTakeover(ctx: Ctx): Promise<void> {
  const ts = new Lab1Tester(ctx, ALL_THREE);
  await ts.makeRecordingClerk(0).put(KEY, HELD);
  // Its first try, aimed at the primary, lands on server 1 (as in lateCopyRound).
  const clerk = ts.makeRecordingClerk(1, [1, 0, 2]);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  ts.onCall = (server, _method, args) => {
    // Only the clerk's own call, whatever its name (the messages are the student's design): nothing else carrying the
    // value is on its way to server 1 before it.
    if (held || server !== 1 || !mentions(args, HELD)) return;
    held = true;
    return released;
  };
  const write = `put(${show(KEY)}, ${show(HELD)}), the value the key held,`;
  const putting = clerk.put(KEY, HELD);
  for (let waited = 0; !held && waited < SETTLE_MS; waited += 5) await sleep(5);
  check(
    held,
    () =>
      `A clerk's ${write} was sent to server 1, and in ${SETTLE_MS / 1000} s no call carrying it reached server 1's handlers. ` +
      'Expected: the clerk sends the put to the server it tries first, with the value as given in its arguments. Likely causes: a clerk that answers a put of the value it last saw without asking a server, or one that skips the first server it was given.',
  );
  ts.loseClerkCallsTo(1);
  await within(putting, SETTLE_MS, () => `${write} did not finish within ${SETTLE_MS / 1000} s with server 0 running.`);
  ts.stopServer(0);
  const append = 'x 5 1 y';
  await within(
    ts.makeRecordingClerk(2).append(KEY, append),
    SETTLE_MS,
    () =>
      `another clerk's append(${show(KEY)}, ${show(append)}) did not finish within ${SETTLE_MS / 1000} s after server 0 stopped.`,
  );
  release();
  await sleep(200);
  ts.onCall = undefined;
  const got = await readBack(ts, 'once the old copy of the put had run at server 1');
  ctx.log(`the put's old copy ran at server 1 after the takeover; ${show(KEY)} then held ${show(got)}`);
  check(
    got === HELD + append,
    () =>
      `A clerk's ${write} first reached server 1 (a backup), and its call was lost while that copy waited there. The clerk sent the put again: it went through at the primary, server 0, and returned. ` +
      `Then server 0 stopped, server 1 took the shard over, and another clerk's append(${show(KEY)}, ${show(append)}) went through; only then did the old copy run at server 1. ` +
      `${show(KEY)} now holds ${show(got)}; expected ${show(HELD + append)}: the put took effect before the append, and its old copy must change nothing. ` +
      "Likely causes: a primary that answers a put of the value the key already holds at once, without passing it on to the backups (it is a write like any other: the backups' duplicate tables must learn it, since any of them may take over); " +
      'a new primary that does not check its duplicate table for writes that reach it directly; or a duplicate table not passed on when a backup is brought up to date.',
  );
  ts.checkLinearizable();
}

export const lateCopy: TestDefinition<Lab1Impl> = {
  name: 'TestLateCopy',
  description:
    "twice, a clerk's append reaches a backup, which stops while its copy of the append waits at the primary; the clerk sends it again and then makes its next operation (the first time an append, the second a get); the old copy then runs at the primary: the append must take effect once. Then, on a fresh cluster, the same with a put of the value the key holds, followed by another clerk's append: the old copy must change nothing. Last, on a fresh cluster, a put of the value the key holds whose first copy waits at a backup while the clerk's call to it is lost: the put goes through at the primary, the primary stops, the backup takes over, another clerk appends, and then the old copy runs at the new primary: it must change nothing",
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    await ts.makeRecordingClerk(0).put(KEY, START);
    await lateCopyRound(ts, ctx, { backup: 1, op: 'append', value: 'x 1 0 y', next: { append: 'x 1 1 y' } });
    await lateCopyRound(ts, ctx, { backup: 2, op: 'append', value: 'x 2 0 y', next: 'get' });
    ts.checkLinearizable();
    // A fresh cluster, whose backups both run: a put of the value the key holds is a write like any other.
    const fresh = new Lab1Tester(ctx, ALL_THREE);
    await fresh.makeRecordingClerk(0).put(KEY, START);
    const backup = 1 + ctx.world!.rng.int(2);
    await lateCopyRound(fresh, ctx, { backup, op: 'put', value: START, next: { otherAppends: 'x 3 1 y' } });
    fresh.checkLinearizable();
    // Last, on a fresh cluster: a put of the value the key holds, whose old copy reaches a backup that takes over.
    await heldValueTakeover(ctx);
  },
};
