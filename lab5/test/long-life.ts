/**
 * TestLongLife: the server's resources over a long life. Connections opened and closed by the thousand (some
 * mid-transaction, some mid-command, some reset with replies unread), then the server weighed; thousands of
 * transactions on one connection; large pipelined replies to a client that reads promptly; keys by the thousand
 * created and deleted, then the server weighed; keys by the thousand that expire (read once expired, or left to the
 * sweep), then the servers weighed. Each step has a budget.
 */
import * as net from 'node:net';
import { parseStats } from '../info';
import { encodeCommand, RespReply } from '../resp';
import { check, TestFailure } from '../../suite';
import { realSleep } from '../../world';
import type { Rng } from '../../world/rng';
import { Ctx, realTest, word, type Lab5Test } from './common';
import { same, show, type RawClient, type Resources } from './harness';

/** Connections churned, and how many at once. */
const CHURN = 3000;
const CHURN_AT_ONCE = 200;
/** Connections churned first, so that whatever the server allocates once, lazily, is allocated before it is weighed. */
const WARM_UP = 400;
/** Budgets: live memory (after full collections) may grow by at most this much per step, MB. */
const CHURN_LIVE_MB = 3;
const TX_LIVE_MB = 16;
const LARGE_LIVE_MB = 24;
/** Budgets seen from outside (/proc): resident memory growth after the churn, MB, and descriptors left open. */
const CHURN_RSS_MB = 96;
const CHURN_FDS = 16;
/** Transactions on one connection, in packets of TX_PER_PACKET, each SET of a TX_VALUE_BYTES value. */
const TRANSACTIONS = 3000;
const TX_PER_PACKET = 50;
const TX_VALUE_BYTES = 48 * 1024;
/** GETs of a 1 MiB value pipelined in one packet to a client that reads promptly, and the time all may take, ms. */
const LARGE_GETS = 128;
const LARGE_MS = 60_000;
/** Budget seen from outside while the large replies flow: resident memory growth, MB. */
const LARGE_RSS_MB = 80;
/** Keys created and deleted (each name KEY_NAME_BYTES long), in packets of KEYS_PER_PACKET, after a warm-up of KEYS_WARM_UP. */
const KEYS_CHURNED = 20_000;
const KEYS_WARM_UP = 2_000;
const KEYS_PER_PACKET = 500;
const KEY_NAME_BYTES = 1000;
/** Budget: live memory growth after the key churn, MB (the names kept would be 20 MB). */
const KEYS_LIVE_MB = 4;
/** Keys that expire (names KEY_NAME_BYTES long, in packets of KEYS_PER_PACKET), each way: read once expired, or left to the sweep. */
const KEYS_EXPIRED = 4_000;
/** The expiring keys' time to live, ms (SET ... PX). */
const EXPIRE_PX = 1;
/** The sweep period of the second server, whose sweep alone removes the expiring keys nobody reads, ms. */
const EXPIRE_SWEEP_MS = 25;
/** How long the test waits for that sweep to have removed every expiring key (INFO's expired_keys counts them all), ms. */
const EXPIRE_SWEEP_WAIT_MS = 2_000;
/** Budget: live memory growth after the expiring keys are gone, each way, MB (the names kept would be 4 MB). */
const EXPIRED_LIVE_MB = 2;
const LARGE_CAUSES =
  'Likely causes: the replies to a whole packet collected before any is sent (count the replies being collected towards the 1 MB pause, not only socket.writableLength); no pause at all, so every reply is handed to the socket at once; or the pause lifted while the output is still full.';

const FREED =
  'Likely causes: per-connection state (the connection object, its parser, its transaction queue, its unsent replies, ' +
  "its listeners) kept in a set or map after the socket closed: remove it on the socket's 'close' event, which comes " +
  'after an end, a reset or an error alike; a socket never destroyed after an error or a half-close; or timers per ' +
  'connection never cleared.';

/** One throwaway connection doing one of five things, then going away; resolves when it is closed. */
function churnOne(port: number, kind: number, half: Buffer, gets: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.once('connect', () => {
      if (kind === 0) {
        s.write(encodeCommand(['PING']));
        s.once('data', () => s.end());
      } else if (kind === 1) {
        s.write(encodeCommand(['MULTI']));
        s.write(encodeCommand(['SET', 'churn', 'x'.repeat(1000)]), () => s.resetAndDestroy());
      } else if (kind === 2) s.end(half);
      else if (kind === 3) s.write(gets, () => s.resetAndDestroy());
      else s.destroy();
    });
  });
}

/** Opens and closes CHURN connections, CHURN_AT_ONCE at a time. */
async function churn(port: number, n: number): Promise<void> {
  const half = Buffer.from('*2\r\n$3\r\nGET\r\n$10\r\nabc');
  const gets = Buffer.concat(new Array<Buffer>(20).fill(encodeCommand(['GET', 'churn:big'])));
  for (let i = 0; i < n; i += CHURN_AT_ONCE)
    await Promise.all(Array.from({ length: CHURN_AT_ONCE }, (_, j) => churnOne(port, (i + j) % 5, half, gets)));
}

/**
 * The server process's resident memory, bytes, and where it was read: from outside (/proc/<pid>/status, read by the
 * grader when grading); where /proc cannot be read, the kernel's count read by the kit's own code inside the process.
 */
async function residentMemory(res: Resources): Promise<{ bytes: number; where: string }> {
  const w = await res.hostWeight();
  if (w !== undefined) return { bytes: w.rssBytes, where: 'read from /proc/<pid>/status' };
  return {
    bytes: await res.hostRss(),
    where: "the kernel's count, read by the kit inside the process running your server",
  };
}

/** Step 1: connections by the thousand, then the server weighed: live memory, resident memory, descriptors (/proc). */
async function churnStep(res: Resources, ctx: Ctx, port: number, c: RawClient, rng: Rng): Promise<void> {
  await c.expect(['SET', 'churn:big', word(rng, 64).repeat(160)], 'OK');
  await churn(port, WARM_UP);
  await realSleep(300);
  const live0 = await res.weighHost();
  const [rss0, out0] = [await residentMemory(res), await res.hostWeight()];
  await churn(port, CHURN);
  await realSleep(300); // the last closes reach the server
  await c.expect(['PING'], 'PONG', `the server answers after ${WARM_UP + CHURN} connections came and went`);
  const grew = ((await res.weighHost()) - live0) / 1e6;
  const [rss1, out1] = [await residentMemory(res), await res.hostWeight()];
  const rss = (rss1.bytes - rss0.bytes) / 1e6;
  const fds = out0 && out1 ? out1.fds - out0.fds : undefined;
  ctx.log(
    `after ${CHURN} more connections: live memory grew by ${grew.toFixed(1)} MB; resident memory by ${rss.toFixed(1)} MB (${rss1.where})` +
      (fds === undefined
        ? '; /proc could not be read here, so the descriptors were not counted'
        : `; ${fds} more descriptors (/proc/<pid>/fd)`),
  );
  const what = `Step 1 (connections by the thousand): ${CHURN} connections opened and closed (PING then close; MULTI then a reset; half a command then close; 20 GETs then a reset, replies unread; closed at once)`;
  check(
    grew < CHURN_LIVE_MB,
    `${what}, and the server's live memory grew by ${grew.toFixed(1)} MB (budget ${CHURN_LIVE_MB} MB): the promise that a closed connection costs nothing is broken. ${FREED}`,
  );
  check(
    rss < CHURN_RSS_MB,
    `${what}, and the server process's resident memory grew by ${rss.toFixed(1)} MB (budget ${CHURN_RSS_MB} MB, ${rss1.where}). ${FREED}`,
  );
  check(
    fds === undefined || fds < CHURN_FDS,
    `${what}, and the server process holds ${fds} more open descriptors than before (budget ${CHURN_FDS}, read from /proc/<pid>/fd): sockets are never destroyed. ${FREED}`,
  );
}

/** Step 2: thousands of transactions on one connection, each EXEC's reply exact, then the memory weighed. */
async function transactionsStep(res: Resources, ctx: Ctx, c: RawClient, rng: Rng): Promise<void> {
  const value = word(rng, 64).repeat(TX_VALUE_BYTES / 64);
  await c.expect(['DEL', 'tx:n'], 0);
  const live0 = await res.weighHost();
  const what = (i: number): string =>
    `Step 2 (many transactions on one long-lived connection): transaction ${i + 1} of ${TRANSACTIONS} (MULTI, SET tx:${i % 8} <48 kB>, INCR tx:n, EXEC; ${TX_PER_PACKET} transactions pipelined per packet)`;
  for (let i = 0; i < TRANSACTIONS; i += TX_PER_PACKET) {
    const packet: Buffer[] = [];
    for (let j = i; j < i + TX_PER_PACKET; j++)
      packet.push(
        encodeCommand(['MULTI']),
        // Each value its own (a number in front): a server could keep one copy of a value it has seen already.
        encodeCommand(['SET', `tx:${j % 8}`, `${String(j).padStart(8, '0')}${value.slice(8)}`]),
        encodeCommand(['INCR', 'tx:n']),
        encodeCommand(['EXEC']),
      );
    c.sendRaw(Buffer.concat(packet));
    for (let j = i; j < i + TX_PER_PACKET; j++) {
      const got: RespReply[] = [];
      for (let k = 0; k < 4; k++) got.push(await c.reply(what(j), 10_000));
      const want: RespReply = ['OK', 'QUEUED', 'QUEUED', ['OK', j + 1]];
      if (!same(got, want))
        throw new TestFailure(
          `${what(j)}: the replies were ${got.map((r) => show(r).slice(0, 120)).join(', ')}; expected +OK, +QUEUED, +QUEUED, [OK, ${j + 1}]. ` +
            "Likely causes: the transaction state (the queue, its byte count, the refused-command mark) kept across EXEC instead of reset by MULTI, so one transaction weighs on the next; a queue limit counted over the connection's life instead of per transaction; or EXEC that does not end the transaction.",
        );
    }
  }
  const grew = ((await res.weighHost()) - live0) / 1e6;
  ctx.log(`after ${TRANSACTIONS} transactions on one connection: live memory grew by ${grew.toFixed(1)} MB`);
  check(
    grew < TX_LIVE_MB,
    `${what(TRANSACTIONS - 1)}: after them the server's live memory grew by ${grew.toFixed(1)} MB (budget ${TX_LIVE_MB} MB; the store holds 8 values of 48 kB). Likely causes: each EXEC's queue, or its commands, kept on the connection after it ran (a history, a queue array never replaced), or replies kept after they were sent.`,
  );
}

/** Step 3: one packet of GETs of a 1 MiB value, read promptly: every reply, in order, within budget, memory bounded. */
async function largeRepliesStep(res: Resources, ctx: Ctx, port: number, c: RawClient, rng: Rng): Promise<void> {
  const big = word(rng, 64).repeat((1 << 20) / 64);
  await c.expect(['SET', 'large:big', big], 'OK');
  const reader = await res.connect(port);
  const live0 = await res.weighHost();
  const rss0 = await residentMemory(res);
  let rssPeak = 0;
  const t0 = Date.now();
  reader.sendRaw(Buffer.concat(new Array<Buffer>(LARGE_GETS).fill(encodeCommand(['GET', 'large:big']))));
  let peak = 0;
  const what = `Step 3 (large replies to a client that reads promptly): one packet of ${LARGE_GETS} GETs of a 1 MiB value (${LARGE_GETS} MiB of replies), read as they come`;
  for (let i = 0; i < LARGE_GETS; i++) {
    const left = LARGE_MS - (Date.now() - t0);
    const r = await reader.replyOrClose(Math.max(1, left));
    if (r === 'closed' || r === 'timeout')
      throw new TestFailure(
        `${what}: after ${i} replies, ${r === 'closed' ? 'the server closed the connection' : `nothing more came within the budget of ${LARGE_MS / 1000} s`}. ` +
          "A client that reads promptly must get every reply. Likely causes: after a pause for backpressure the waiting commands never run again (resume at 'drain', and also when the replies were already sent and no 'drain' will come); the socket never resumed; or an output limit set so low that a reader keeping up is closed.",
      );
    check(
      r.reply === big,
      `${what}: reply ${i + 1} was ${show(r.reply).slice(0, 60)}; expected the 1 MiB value, replies in request order.`,
    );
    if (i === LARGE_GETS / 4 || i === LARGE_GETS / 2) peak = Math.max(peak, ((await res.weighHost()) - live0) / 1e6);
    if (i % 4 === 0) rssPeak = Math.max(rssPeak, ((await residentMemory(res)).bytes - rss0.bytes) / 1e6);
  }
  ctx.log(
    `${LARGE_GETS} MiB of replies read in ${Date.now() - t0} ms; live memory at most ${peak.toFixed(1)} MB above the start while they flowed; resident memory at most ${rssPeak.toFixed(1)} MB above it (${rss0.where})`,
  );
  check(
    peak < LARGE_LIVE_MB,
    `${what}: while they flowed, the server's live memory was ${peak.toFixed(1)} MB above the start (budget ${LARGE_LIVE_MB} MB). ${LARGE_CAUSES}`,
  );
  check(
    rssPeak < LARGE_RSS_MB,
    `${what}: while they flowed, the server process's resident memory was ${rssPeak.toFixed(1)} MB above the start (budget ${LARGE_RSS_MB} MB, ${rss0.where}). ${LARGE_CAUSES}`,
  );
  reader.close();
}

/** Creates and deletes `n` keys of long names (SET then DEL, pipelined), every reply checked. */
async function churnKeys(c: RawClient, prefix: string, n: number, what: string): Promise<void> {
  for (let i = 0; i < n; i += KEYS_PER_PACKET) {
    const packet: Buffer[] = [];
    for (let j = i; j < i + KEYS_PER_PACKET; j++)
      packet.push(encodeCommand(['SET', `${prefix}${j}`, 'v']), encodeCommand(['DEL', `${prefix}${j}`]));
    c.sendRaw(Buffer.concat(packet));
    for (let j = i; j < i + KEYS_PER_PACKET; j++) {
      const got = [await c.reply(what, 10_000), await c.reply(what, 10_000)];
      if (!same(got, ['OK', 1]))
        throw new TestFailure(
          `${what}: SET then DEL of key ${j + 1} of ${n} replied ${got.map((r) => show(r).slice(0, 120)).join(', ')}; expected +OK, :1.`,
        );
    }
  }
}

/** Step 4: keys by the thousand created and deleted (as short-lived keys are), then the server weighed. */
async function keysStep(res: Resources, ctx: Ctx, c: RawClient, rng: Rng): Promise<void> {
  const what = `Step 4 (keys come and go): ${KEYS_CHURNED} keys with ${KEY_NAME_BYTES}-byte names, each SET then DEL (${KEYS_PER_PACKET} pairs pipelined per packet)`;
  const prefix = `tmp:${word(rng, 8)}:`.padEnd(KEY_NAME_BYTES - 6, 'x');
  const keys = await c.call('DBSIZE');
  await churnKeys(c, `${prefix}w`, KEYS_WARM_UP, what);
  const live0 = await res.weighHost();
  await churnKeys(c, `${prefix}k`, KEYS_CHURNED, what);
  await c.expect(['DBSIZE'], keys, `after ${what}, the keys before them and no other`);
  const grew = ((await res.weighHost()) - live0) / 1e6;
  ctx.log(`after ${KEYS_CHURNED} keys created and deleted: live memory grew by ${grew.toFixed(1)} MB`);
  check(
    grew < KEYS_LIVE_MB,
    `${what}: after them the store holds what it held before, yet the server's live memory grew by ${grew.toFixed(1)} MB (budget ${KEYS_LIVE_MB} MB; the names alone are ${((KEYS_CHURNED * KEY_NAME_BYTES) / 1e6).toFixed(0)} MB). ` +
      "Likely causes: SCAN's order list keeps deleted keys and is never rebuilt (rebuild it once removed keys are most of it); an expiry index, a per-key counter or history, or the log's bookkeeping keeps an entry per key ever written; or a map's entry set to undefined instead of deleted.",
  );
}

/** Sends `commands` in one packet and checks each reply against `want(args)`; `name(i)` names the i-th command in a failure. */
async function sendPacket(
  c: RawClient,
  commands: string[][],
  want: (args: string[]) => RespReply,
  name: (i: number) => string,
  what: string,
): Promise<void> {
  c.sendRaw(Buffer.concat(commands.map((args) => encodeCommand(args))));
  for (let i = 0; i < commands.length; i++) {
    const got = await c.reply(what, 10_000);
    const expected = want(commands[i]);
    if (!same(got, expected))
      throw new TestFailure(
        `${what}: ${name(i)} replied ${show(got).slice(0, 120)}; expected ${show(expected)}. ` +
          'Likely causes: the expiry time kept relative (the ms given) instead of absolute (Date.now() + ms); a command that reads the table without the lookup that drops an expired key; or a SET with PX refused.',
      );
  }
}

/**
 * Sets keys `from` to `to` - 1 (names `prefix` and the number) with PX EXPIRE_PX, KEYS_PER_PACKET per packet; with
 * `read`, reads each once it has expired (GET, or EXISTS for every other one, a packet after each packet of SETs).
 */
async function expireKeys(
  c: RawClient,
  prefix: string,
  [from, to]: readonly [number, number],
  read: boolean,
  what: string,
): Promise<void> {
  for (let i = from; i < to; i += KEYS_PER_PACKET) {
    const sets: string[][] = [];
    const reads: string[][] = [];
    for (let j = i; j < Math.min(to, i + KEYS_PER_PACKET); j++) {
      sets.push(['SET', `${prefix}${j}`, 'v', 'PX', String(EXPIRE_PX)]);
      reads.push([j % 2 === 0 ? 'GET' : 'EXISTS', `${prefix}${j}`]);
    }
    await sendPacket(
      c,
      sets,
      () => 'OK',
      (k) => `SET <key ${i + k + 1}> v PX ${EXPIRE_PX}`,
      what,
    );
    if (!read) continue;
    await realSleep(EXPIRE_PX + 1); // every key of the packet has expired
    const name = (k: number): string => `${reads[k][0]} <key ${i + k + 1}>, ${EXPIRE_PX + 1} ms or more after its SET,`;
    await sendPacket(c, reads, (args) => (args[0] === 'GET' ? null : 0), name, what);
  }
}

/** Reads INFO's expired_keys on `c`'s server until it counts `n`, at most EXPIRE_SWEEP_WAIT_MS; the count last read (-1: unreadable). */
async function awaitExpired(c: RawClient, n: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const info = await c.call('INFO');
    let expired = -1;
    try {
      expired = typeof info === 'string' ? parseStats(info).expiredKeys : -1;
    } catch {
      expired = -1; // INFO is TestKeysAndStats's to judge: here it only says when to weigh
    }
    if (expired >= n || Date.now() - t0 >= EXPIRE_SWEEP_WAIT_MS) return expired;
    await realSleep(EXPIRE_SWEEP_MS);
  }
}

/**
 * One key created and deleted on `c`'s server: a server that rebuilds SCAN's order list when a key is listed or
 * removed (once removed keys are most of it) has had the chance to, whichever it does.
 */
async function touchOrder(c: RawClient, what: string): Promise<void> {
  await c.expect(['SET', 'ttl:touch', 'v'], 'OK', what);
  await c.expect(['DEL', 'ttl:touch'], 1, what);
}

/** What a server may have kept of keys that expired, and the most likely places. */
const EXPIRED_CAUSES =
  "Likely causes: expiry (on access or in the sweep) that deletes the key from the values and the expiry table but leaves it in SCAN's order list (or in the numbers that list keeps per key), so the list is never rebuilt: remove an expired key everywhere DEL removes one (one function for DEL, expiry on access and the sweep); an expired key kept in a second table, a history or a count per key; or a map's entry set to undefined instead of deleted.";

/**
 * Step 5: keys that expire, by the thousand: on this server (no sweep runs) each read once it has expired, then the
 * server weighed; on a second server (a sweep every EXPIRE_SWEEP_MS) left unread for the sweep, then weighed again.
 */
async function expiringKeysStep(res: Resources, ctx: Ctx, c: RawClient, rng: Rng): Promise<void> {
  const swept = await res.server({ sweepIntervalMs: EXPIRE_SWEEP_MS });
  const c2 = await res.connect(swept.port, 'latin1');
  const prefix = `ttl:${word(rng, 8)}:`.padEnd(KEY_NAME_BYTES - 6, 'x');
  const readWhat = `Step 5 (keys that expire, read): ${KEYS_EXPIRED} keys with ${KEY_NAME_BYTES}-byte names, each SET with PX ${EXPIRE_PX}, then read once expired (GET or EXISTS), ${KEYS_PER_PACKET} per packet, on a server whose sweep does not run during the test`;
  const sweptWhat = `Step 5 (keys that expire, left to the sweep): ${KEYS_EXPIRED} keys with ${KEY_NAME_BYTES}-byte names, each SET with PX ${EXPIRE_PX} and never read, ${KEYS_PER_PACKET} per packet, on a second server (sweepIntervalMs ${EXPIRE_SWEEP_MS})`;
  const keys = await c.call('DBSIZE');
  const warm: [number, number] = [0, KEYS_PER_PACKET];
  const churned: [number, number] = [KEYS_PER_PACKET, KEYS_PER_PACKET + KEYS_EXPIRED];
  await expireKeys(c, prefix, warm, true, readWhat);
  await expireKeys(c2, prefix, warm, false, sweptWhat);
  await awaitExpired(c2, warm[1]);
  await touchOrder(c2, `after ${sweptWhat}, SET then DEL of one more key`);
  const live0 = await res.weighHost();
  await expireKeys(c, prefix, churned, true, readWhat);
  await c.expect(['DBSIZE'], keys, `after ${readWhat}, the keys before them and no other`);
  await touchOrder(c, `after ${readWhat}, SET then DEL of one more key`);
  const live1 = await res.weighHost();
  await expireKeys(c2, prefix, churned, false, sweptWhat);
  const counted = await awaitExpired(c2, churned[1]);
  await touchOrder(c2, `after ${sweptWhat}, SET then DEL of one more key`);
  const live2 = await res.weighHost();
  const [readGrew, sweptGrew] = [(live1 - live0) / 1e6, (live2 - live1) / 1e6];
  ctx.log(
    `after ${KEYS_EXPIRED} keys expired and read: live memory grew by ${readGrew.toFixed(1)} MB; after ${KEYS_EXPIRED} more left to the sweep (INFO counts ${counted} expired keys): by ${sweptGrew.toFixed(1)} MB`,
  );
  const names = `the names alone are ${((KEYS_EXPIRED * KEY_NAME_BYTES) / 1e6).toFixed(0)} MB`;
  check(
    readGrew < EXPIRED_LIVE_MB,
    `${readWhat}: after them the store holds what it held before, yet the server's live memory grew by ${readGrew.toFixed(1)} MB (budget ${EXPIRED_LIVE_MB} MB; ${names}). ${EXPIRED_CAUSES}`,
  );
  check(
    sweptGrew < EXPIRED_LIVE_MB,
    `${sweptWhat}: after them (INFO's expired_keys read ${counted}, of the ${churned[1]} set there), the server's live memory grew by ${sweptGrew.toFixed(1)} MB (budget ${EXPIRED_LIVE_MB} MB; ${names}). ` +
      `${EXPIRED_CAUSES} Here also: no sweep every sweepIntervalMs (a period of your own), or a sweep that looks at only some of the keys with a time to live (INFO then counts fewer than ${churned[1]}).`,
  );
  c2.close();
  await swept.close();
}

export const longLife: Lab5Test = realTest(
  'TestLongLife',
  `the server over a long life: ${CHURN} connections opened and closed (mid-transaction, mid-command, reset with replies unread), then its live and resident memory weighed (from outside, /proc/<pid>/status and its descriptors, where readable); ${TRANSACTIONS} transactions on one connection; ${LARGE_GETS} MiB of pipelined replies to a client that reads promptly; ${KEYS_CHURNED} keys with long names created and deleted, then ${KEYS_EXPIRED} that expire and are read and ${KEYS_EXPIRED} left to the sweep (of a second server), its live memory weighed after each; each step within a stated budget`,
  async (res, ctx, rng) => {
    const server = await res.server({ sweepIntervalMs: 3_600_000 });
    const c = await res.connect(server.port, 'latin1');
    await churnStep(res, ctx, server.port, c, rng);
    await transactionsStep(res, ctx, c, rng);
    await largeRepliesStep(res, ctx, server.port, c, rng);
    await keysStep(res, ctx, c, rng);
    await expiringKeysStep(res, ctx, c, rng);
  },
);
