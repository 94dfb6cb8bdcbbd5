/** Part 2's named tests (expiry, statistics, real clients, SCAN, Redis's exact replies) */
import { parseStats } from '../info';
import { TestFailure, isTestFailure, check } from '../../suite';
import { explainDifference, firstDifference, loadCorpus, runSequence } from './redis-corpus';
import { RawClient, Resources, same, show } from './harness';
import { realSleep } from '../../world';
import type { Rng } from '../../world/rng';
import { within } from '../../suite/within';
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
  ioredisClient,
} from './common';

/** Where `got` first differs from `want`, for a failure message: "byte 128 is 0xc2, expected 0x80 (got 384 bytes, 256 set)". */
function bytesDiffer(want: Buffer, got: Buffer | null): string {
  if (got === null) return 'got null (no value)';
  const n = Math.min(want.length, got.length);
  let i = 0;
  while (i < n && want[i] === got[i]) i++;
  const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
  const sizes = `got ${got.length} bytes, ${want.length} set`;
  return i < n
    ? `byte ${i} is ${hex(got[i])}, expected ${hex(want[i])} (${sizes})`
    : `the first ${n} bytes agree, but ${sizes}`;
}

/**
 * The keys TestTTL reads: some that will expire untouched, one with 100 s to live, a plain one. Returns when short and
 * long were set, and `tLast`, when the reply to the last PEXPIRE came: each 600 ms deadline set here ends by 600 ms after it.
 */
async function setTtlKeys(c: RawClient): Promise<{ t0: number; tLong: number; tLast: number }> {
  // Keys that have expired, but that no sweep has removed yet, by the time the other commands touch them.
  for (const key of ['gone-del', 'gone-expire']) await c.expect(['SET', key, 'v', 'PX', 600], 'OK');
  await c.expect(['SET', 'gone-incr', '41', 'PX', 600], 'OK');
  await c.expect(['SET', 'unseen', 'v', 'PX', 600], 'OK'); // never touched again: only KEYS meets it
  const t0 = Date.now();
  await c.expect(['SET', 'short', 'v', 'PX', 600], 'OK');
  const tLong = Date.now();
  await c.expect(['SET', 'long', 'v', 'EX', 100], 'OK');
  await c.expect(['SET', 'plain', 'v'], 'OK');
  await c.expect(['SET', 'short2', 'v'], 'OK');
  await c.expect(['PEXPIRE', 'short2', 600], 1, 'PEXPIRE on an existing key');
  return { t0, tLong, tLast: Date.now() };
}

/** How long after the reply to a command that set a 600 ms deadline TestTTL reads the key as expired, ms. */
const EXPIRED_SLACK_MS = 700;

/** Times to live TestTTL reads back in seconds, ms: each a whole number of seconds and 400 ms, so that rounding up shows. */
const FRACTIONAL_TTLS_MS = [1400, 100_400];

/** Right after the writes: short is alive, TTL and PTTL of long, a plain key and a missing one, TTLs of fractional seconds. */
async function checkFreshTtls(c: RawClient, t0: number, tLong: number): Promise<void> {
  const early = await c.call('GET', 'short');
  if (Date.now() - t0 < 450)
    check(
      early === 'v',
      `GET short right after SET short v PX 600 replied ${show(early)}; the key should live 600 ms.`,
    );
  checkTtl(await c.call('PTTL', 'long'), 100, tLong, 'PTTL long (milliseconds left)', 1);
  checkTtl(await c.call('TTL', 'long'), 100, tLong, 'TTL long');
  await c.expect(['TTL', 'plain'], -1, 'TTL of a key without expiry is -1');
  await c.expect(['TTL', 'missing'], -2, 'TTL of a missing key is -2');
  await c.expect(['PTTL', 'missing'], -2, 'PTTL of a missing key is -2');
  // Times to live that are not whole seconds: TTL rounds to the nearest second (1.4 s left is 1, not 2).
  for (const ms of FRACTIONAL_TTLS_MS) {
    const at = Date.now();
    await c.expect(['SET', `frac${ms}`, 'v', 'PX', ms], 'OK');
    checkTtl(await c.call('TTL', `frac${ms}`), ms / 1000, at, `TTL frac${ms} right after SET frac${ms} v PX ${ms}`);
    await c.expect(['DEL', `frac${ms}`], 1, `DEL frac${ms}`);
  }
}

/** EXPIRE sets a TTL (1) or finds no key (0); a plain SET removes the TTL; a time in the past deletes the key. */
async function checkExpire(c: RawClient): Promise<void> {
  const tPlain = Date.now();
  await c.expect(['EXPIRE', 'plain', 50], 1, 'EXPIRE on an existing key returns 1');
  checkTtl(await c.call('TTL', 'plain'), 50, tPlain, 'TTL plain after EXPIRE plain 50');
  await c.expect(['EXPIRE', 'missing', 50], 0, 'EXPIRE on a missing key returns 0');
  await c.expect(['SET', 'plain', 'again'], 'OK');
  await c.expect(['TTL', 'plain'], -1, 'a plain SET removes the old time to live, as in Redis');
  await c.expect(['SET', 'gone', 'v'], 'OK');
  await c.expect(['EXPIRE', 'gone', -5], 1, 'EXPIRE with a time in the past deletes the key and returns 1');
  await c.expect(['GET', 'gone'], null, 'EXPIRE with a negative time deleted the key');
}

/** Times that are not positive integers are errors; ten years is allowed. */
async function checkTtlArguments(c: RawClient): Promise<void> {
  await c.expectError(['SET', 'x', 'v', 'EX', 'soon'], 'ERR', 'EX needs an integer');
  await c.expectError(
    ['SET', 'x', 'v', 'EX', '10s'],
    'ERR value is not an integer',
    'EX needs an integer: "10s" is not one (parseInt would read 10; check the whole word)',
  );
  await c.expectError(['SET', 'x', 'v', 'EX', 0], 'ERR', 'an expire time must be positive');
  await c.expectError(['EXPIRE', 'long', 'later'], 'ERR', 'EXPIRE needs an integer');
  await c.expectError(['PEXPIRE', 'long', 'later'], 'ERR', 'PEXPIRE needs an integer');
  const tDecade = Date.now();
  await c.expect(['SET', 'decade', 'v', 'EX', 315_360_000], 'OK', 'a time to live of ten years is allowed');
  checkTtl(
    await c.call('TTL', 'decade'),
    315_360_000,
    tDecade,
    'TTL decade after SET decade v EX 315360000 (ten years)',
  );
}

/** A second later: the short keys are gone for GET, PTTL, EXISTS, DEL, EXPIRE and INCR, though no sweep ran. */
async function checkExpiredOnAccess(c: RawClient): Promise<void> {
  await c.expect(
    ['GET', 'short'],
    null,
    'SET ... PX 600 was 1 s ago: the key has expired. Likely cause: reads do not check the deadline (an expired key must be ' +
      'dropped when a command meets it, not only by the sweep)',
  );
  await c.expect(['PTTL', 'short2'], -2, 'PEXPIRE short2 600 was 1 s ago: the key has expired');
  await c.expect(['EXISTS', 'short', 'short2', 'long'], 1, 'only "long" is still alive');
  await c.expect(
    ['DEL', 'gone-del'],
    0,
    'DEL counts only keys it deleted: "gone-del" was set with PX 600 over 1 s ago and has expired; no sweep has run (sweepIntervalMs is 60 s), so it is still in the server table. An expired key must be gone for every command. Likely cause: the command checks that the key is in the table (values.has(key)) instead of reading it through the lookup that drops expired keys.',
  );
  await c.expect(
    ['EXPIRE', 'gone-expire', 100],
    0,
    'EXPIRE of a missing key is 0: "gone-expire" was set with PX 600 over 1 s ago and has expired; no sweep has run (sweepIntervalMs is 60 s), so it is still in the server table. An expired key must be gone for every command. Likely cause: the command checks that the key is in the table (values.has(key)) instead of reading it through the lookup that drops expired keys.',
  );
  await c.expect(['GET', 'gone-expire'], null, 'EXPIRE must not bring an expired key back');
  await c.expect(
    ['INCR', 'gone-incr'],
    1,
    'INCR of a missing key starts from 0: "gone-incr" (value 41) was set with PX 600 over 1 s ago and has expired; no sweep has run (sweepIntervalMs is 60 s), so it is still in the server table. An expired key must be gone for every command. Likely cause: the command checks that the key is in the table (values.has(key)) instead of reading it through the lookup that drops expired keys.',
  );
  await c.expect(
    ['TTL', 'gone-incr'],
    -1,
    "INCR of an expired key makes a new key, without the old key's time to live",
  );
}

/** KEYS * leaves out the expired keys, the one never touched included; long is still there. */
async function checkKeysLeavesExpired(c: RawClient): Promise<void> {
  const keys = await c.call('KEYS', '*');
  check(
    Array.isArray(keys) && !keys.includes('short') && !keys.includes('short2') && !keys.includes('unseen'),
    `KEYS * replied ${show(keys)}; expired keys must not be listed ("unseen", set with PX 600 over 1 s ago and never touched since, ` +
      'is still in the server table: no sweep has run). Likely cause: KEYS walks the table without first dropping expired keys (sweep first, or skip them).',
  );
  await c.expect(['GET', 'long'], 'v', 'a key with 100 s to live is still there');
}

/** A key that expires untouched, and INFO is the first command to meet it: not counted, and expired_keys counts it. */
async function checkInfoLeavesExpired(c: RawClient): Promise<void> {
  await c.expect(['SET', 'unseen2', 'v', 'PX', 50], 'OK');
  await realSleep(150);
  const info = await c.call('INFO');
  const stats = typeof info === 'string' ? parseStats(info) : undefined;
  const size = await c.call('DBSIZE');
  check(
    stats?.keys === size,
    `INFO's keyspace line says keys=${stats?.keys}, and DBSIZE right after it ${show(size)}: INFO counted "unseen2", whose 50 ms had run out ` +
      '100 ms earlier (untouched since, no sweep ran). An expired key must never be visible, to INFO neither: drop expired keys before counting.',
  );
  // Six keys expired and were removed on access (short, short2, gone-del, gone-expire, gone-incr, and unseen when KEYS met
  // it), and unseen2 when INFO met it; "gone", deleted by EXPIRE with a negative time, may count or not.
  const expired = stats?.expiredKeys;
  check(
    expired === 7 || expired === 8,
    `INFO says expired_keys:${expired}; expected 7: short, short2, gone-del, gone-expire, gone-incr, unseen and unseen2 expired and were removed when a ` +
      'command met them (no sweep ran). expired_keys counts keys removed because they expired, on access as well as by the sweep: count in the ' +
      'lookup that drops an expired key, not only in the sweep.',
  );
}

export const ttl = realTest(
  'TestTTL',
  'SET EX/PX, EXPIRE, PEXPIRE, TTL, PTTL; expired keys vanish on access',
  async (res) => {
    const server = await res.server({ sweepIntervalMs: 60_000 }); // no sweep during the test: expiry on access only
    const c = await res.connect(server.port);
    const { t0, tLong, tLast } = await setTtlKeys(c);
    await checkFreshTtls(c, t0, tLong);
    await checkExpire(c);
    await checkTtlArguments(c);
    // A second after the first short key, and past every 600 ms deadline however late a busy machine delivered the
    // commands that set them (the server sets a deadline when the command reaches it, before its reply comes back).
    await realSleep(Math.max(0, t0 + 1000 - Date.now(), tLast + EXPIRED_SLACK_MS - Date.now()));
    await checkExpiredOnAccess(c);
    await checkKeysLeavesExpired(c);
    await checkInfoLeavesExpired(c);
  },
);

/** Keys written by TestBackgroundExpiry and the size of each value. */
const SWEEP_KEYS = 200;

const SWEEP_VALUE_BYTES = 100_000;
/** TestBackgroundExpiry's sweepIntervalMs, drawn, ms: a sweep comes at least once in its wait after the keys expire. */
const SWEEP_MS: readonly [number, number] = [300, 390];
/** How long TestBackgroundExpiry waits after the last key was set (PX 150) before weighing, ms. */
const SWEEP_WAIT_MS = 900;
/** The shortest delay, as a share of sweepIntervalMs, of a timer taken for the sweep's (a chain of timeouts may subtract the sweep's time). */
const SWEEP_PERIOD_SLACK = 0.9;
/** A tick at least this many times as frequent as sweepIntervalMs may start the sweep when it is due instead. */
const SWEEP_TICKS_PER_PERIOD = 4;
/**
 * How many keys with a long time to live TestBackgroundExpiry sets before the ones that expire (drawn), and their TTL,
 * s: more than any fixed number of keys a sweep might look at a time (a cap of a few hundred, or a sample of 20).
 */
const LASTING_KEYS: readonly [number, number] = [300, 2000];
const LASTING_TTL_S = 100_000;
/** How long after close() resolves the test counts the live timers your code set, ms (a timer that fires once ends). */
const CLOSE_SETTLE_MS = 50;

export const backgroundExpiry = realTest(
  'TestBackgroundExpiry',
  `${SWEEP_KEYS} keys of ${SWEEP_VALUE_BYTES / 1000} kB expire unread, set after ${LASTING_KEYS[0]}-${LASTING_KEYS[1]} keys that live long: the background sweep (its period drawn, ${SWEEP_MS[0]}-${SWEEP_MS[1]} ms) frees them and counts them in INFO; after close(), none of your timers is live`,
  async (res, ctx, rng) => {
    // Drawn per seed: a sweep on a period of its own (a constant, Redis's 100 ms) passes one fixed choice.
    const sweepMs = rng.between(SWEEP_MS[0], SWEEP_MS[1]);
    const server = await res.server({ sweepIntervalMs: sweepMs });
    const c = await res.connect(server.port);
    await c.expect(['SET', 'keeper', 'v'], 'OK');
    // Keys that live long, set first: a sweep that looks only at the first keys with a time to live (a sample from
    // the front of the table) finds none of the expired ones behind them.
    const lasting = rng.between(LASTING_KEYS[0], LASTING_KEYS[1]);
    for (let i = 0; i < lasting; i++) c.send('SET', `lasting:${i}`, 'v', 'EX', LASTING_TTL_S);
    for (let i = 0; i < lasting; i++)
      check(
        same(await c.reply(`SET lasting:${i} v EX ${LASTING_TTL_S}`), 'OK'),
        `SET lasting:${i} v EX ${LASTING_TTL_S} did not reply OK.`,
      );
    // The host's live memory after full collections (heap and Buffers, so that values kept as strings or as
    // Buffers both count), weighed there by the kit. One settled reading is enough: the signal here is 20 MB.
    const before = await res.weighHost();
    const big = word(rng, SWEEP_VALUE_BYTES);
    // Each value its own (a number in front): a server could keep one copy of a value it has seen already.
    const valueOf = (i: number): string => `${String(i).padStart(8, '0')}${big.slice(8)}`;
    for (let i = 0; i < SWEEP_KEYS; i++) c.send('SET', `tmp:${i}`, valueOf(i), 'PX', 150);
    for (let i = 0; i < SWEEP_KEYS; i++)
      check(same(await c.reply(`SET tmp:${i} <100 kB> PX 150`), 'OK'), `SET tmp:${i} ... PX 150 did not reply OK.`);
    await realSleep(SWEEP_WAIT_MS);
    // Nothing has read the keys: only a background sweep can have removed them.
    const after = await res.weighHost();
    const kept = (after - before) / 1e6;
    ctx.log(
      `heap grew by ${kept.toFixed(1)} MB after the keys expired (${((SWEEP_KEYS * SWEEP_VALUE_BYTES) / 1e6).toFixed(0)} MB were written)`,
    );
    check(
      kept < 6,
      `${SWEEP_KEYS} keys of ${SWEEP_VALUE_BYTES} bytes expired ${SWEEP_WAIT_MS - 150} ms ago (PX 150), nobody read them, and the server still holds ` +
        `${kept.toFixed(1)} MB more than before (${lasting} keys with a long time to live were set before them): ` +
        `expired keys must be removed by a background sweep every sweepIntervalMs (${sweepMs} ms here), not only when read. ` +
        'Likely causes: no background sweep (keys removed only when read); a sweep that looks at only some keys with a ' +
        'time to live (the first few of the table, or a fixed number of them a sweep, such as 250: here the first ones live long) and stops; a sweep timer never started, or ' +
        'started with another period; expired values still held elsewhere (a copy for INFO, the log, a snapshot buffer).',
    );
    const info = await c.call('INFO');
    check(typeof info === 'string', `INFO replied ${show(info)}; expected a bulk string.`);
    const stats = parseStats(info);
    check(
      stats.expiredKeys === SWEEP_KEYS,
      `INFO says expired_keys:${stats.expiredKeys}; expected ${SWEEP_KEYS} (every key removed because it expired counts once).`,
    );
    await c.expect(['DBSIZE'], 1 + lasting, `only "keeper" and the ${lasting} keys with a long time to live are left`);
    await expectSweepTimer(res, sweepMs, ctx.log);
    c.close();
    await server.close();
    await expectNoLiveTimers(res, 'this server was the only one, and no client of yours ran');
  },
);

/**
 * Fails unless one of the live timers the code set has the sweep's period (a timer chain may subtract the time a
 * sweep took), or ticks often enough to start the sweep when it is due: a sweep on a period of its own is not the
 * one the server was given.
 */
async function expectSweepTimer(res: Resources, sweepMs: number, log: (line: string) => void): Promise<void> {
  const delays = await res.liveTimerDelays();
  log(`sweepIntervalMs ${sweepMs}: your code's live timers have delays ${delays.join(', ') || '(none)'} ms`);
  const low = Math.floor(SWEEP_PERIOD_SLACK * sweepMs) - 1;
  const tick = Math.floor(sweepMs / SWEEP_TICKS_PER_PERIOD);
  check(
    delays.some((d) => (d >= low && d <= sweepMs + 1) || d <= tick),
    `The server was started with sweepIntervalMs ${sweepMs}, but none of the timers your code has live is due within ` +
      `${low}-${sweepMs + 1} ms (or ticks every ${tick} ms or more often): their delays are ` +
      `${delays.length > 0 ? delays.join(', ') + ' ms' : '(no timer is live)'}. ` +
      'Expected the background sweep on a timer of that period (setInterval(sweep, sweepIntervalMs), or a setTimeout ' +
      `set again after each sweep), or a tick at least ${SWEEP_TICKS_PER_PERIOD} times as frequent that starts the ` +
      'sweep when it is due. Likely causes: a period of your own (a constant, or the 5 s default) instead of ' +
      "options.sweepIntervalMs; the option read from the wrong object (the client's options, a default merged over " +
      "the caller's); the sweep's timer cleared, or not set again after a sweep that threw.",
  );
}

/** Fails unless none of the timers the code set is live CLOSE_SETTLE_MS after every server it started was closed. */
export async function expectNoLiveTimers(res: Resources, which: string): Promise<void> {
  await realSleep(CLOSE_SETTLE_MS);
  const live = await res.liveTimers();
  check(
    live === 0,
    `${live} timer${live === 1 ? '' : 's'} your code set (setTimeout, setInterval or setImmediate) ${live === 1 ? 'is' : 'are'} still live ${CLOSE_SETTLE_MS} ms after ` +
      `close() resolved (${which}). Expected none: close() "stops your ` +
      'timers". A timer left running keeps the closed server and its whole store in memory and keeps the process ' +
      "from exiting; a closed server's snapshot timer that fires later writes a stale snapshot over a newer server's " +
      "files. Likely causes: the background sweep's setInterval not kept or not cleared in close(); the " +
      'everysec fsync timer or the snapshot timer not cleared; a timer per connection not cleared when the ' +
      'connection is destroyed; a timer re-armed by its own callback after close().',
  );
}

export const realRedisClient = realTest(
  'TestRealRedisClient',
  'ioredis, a real Redis client from npm, connects and does ordinary work',
  async (res, ctx) => {
    const server = await res.server();
    const errors: string[] = [];
    const redis = ioredisClient(res, server.port, {}, (e) => errors.push(e.message));
    try {
      await within(
        redis.connect(),
        5000,
        () => `ioredis connecting (it sends HELLO, CLIENT SETINFO and INFO first) took more than 5000 ms.`,
      );
    } catch (e) {
      throw new TestFailure(
        `ioredis could not connect: ${(e as Error).message}${errors.length ? ` (errors: ${errors.join('; ')})` : ''}. It sends HELLO 3 (reply with an error), CLIENT SETINFO (reply OK) and INFO.`,
      );
    }
    // ioredis talks on its own socket: each call is counted and transcribed here.
    const step = async <T>(what: string, p: Promise<T>): Promise<T> => {
      const id = ctx.transcript?.command('ioredis', `server :${server.port}`, what, []);
      try {
        const got = await within(p, 3000, () => `ioredis ${what} took more than 3000 ms.`);
        ctx.countOps();
        if (id !== undefined) ctx.transcript?.replied(id, got);
        return got;
      } catch (e) {
        if (id !== undefined) ctx.transcript?.replied(id, { error: (e as Error).message });
        if (isTestFailure(e)) throw e;
        throw new TestFailure(`ioredis ${what} failed: ${(e as Error).message}`);
      }
    };
    const expectEq = <T>(what: string, got: T, want: T): void =>
      check(
        JSON.stringify(got) === JSON.stringify(want),
        `ioredis ${what} returned ${JSON.stringify(got)}; expected ${JSON.stringify(want)}.`,
      );
    expectEq('ping()', await step('ping()', redis.ping()), 'PONG');
    expectEq("set('greeting', 'hello')", await step('set', redis.set('greeting', 'hello')), 'OK');
    expectEq("get('greeting')", await step('get', redis.get('greeting')), 'hello');
    const tTemp = Date.now();
    expectEq("set('temp', 'x', 'EX', 100)", await step('set EX', redis.set('temp', 'x', 'EX', 100)), 'OK');
    checkTtl(await step('ttl', redis.ttl('temp')), 100, tTemp, "ioredis ttl('temp')");
    expectEq("expire('greeting', 60)", await step('expire', redis.expire('greeting', 60)), 1);
    expectEq("incr('hits')", await step('incr', redis.incr('hits')), 1);
    expectEq("exists('greeting', 'nope')", await step('exists', redis.exists('greeting', 'nope')), 1);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await step('set of a Buffer with all 256 byte values', redis.set('bin', binary));
    const back = await step('getBuffer', redis.getBuffer('bin'));
    check(
      back !== null && Buffer.compare(back, binary) === 0,
      `ioredis getBuffer('bin') did not return the 256 bytes that were set: ${bytesDiffer(binary, back)}. Values must be binary-safe: keep them as Buffers from the socket to the reply (a string in between re-encodes every byte above 0x7F).`,
    );
    const keys = (await step("keys('*')", redis.keys('*'))).sort();
    expectEq("keys('*')", keys, ['bin', 'greeting', 'hits', 'temp']);
    expectEq('dbsize()', await step('dbsize', redis.dbsize()), 4);
    const pipe = redis.pipeline();
    for (let i = 0; i < 100; i++) pipe.set(`pipe:${i}`, String(i));
    for (let i = 0; i < 100; i++) pipe.get(`pipe:${i}`);
    const results = (await step('pipeline of 200 commands', pipe.exec())) ?? [];
    check(results.length === 200, `ioredis pipeline returned ${results.length} results for 200 commands.`);
    for (let i = 0; i < 100; i++) {
      const [e, v] = results[100 + i];
      check(
        e === null && v === String(i),
        `ioredis pipeline: GET pipe:${i} returned ${e ? e.message : JSON.stringify(v)}; expected "${i}".`,
      );
    }
    expectEq("del('greeting', 'temp', 'nope')", await step('del', redis.del('greeting', 'temp', 'nope')), 2);
    let unknown: Error | undefined;
    await step(
      "call('NOSUCHCOMMAND')",
      redis.call('NOSUCHCOMMAND').catch((e: Error) => void (unknown = e)),
    );
    check(
      unknown !== undefined && /unknown command/i.test(unknown.message),
      `ioredis call('NOSUCHCOMMAND') ${unknown ? `failed with "${unknown.message}"` : 'succeeded'}; expected an "ERR unknown command" error.`,
    );
    const info = await step('info()', redis.info());
    check(/total_commands_processed:\d+/.test(info), 'ioredis info() returned no total_commands_processed field.');
    expectEq('quit()', await step('quit', redis.quit()), 'OK');
  },
);

/** The likely causes of a strange key going wrong, for failure messages. */
const STRANGE_CAUSES =
  'Likely causes: the store is a plain object ({}) rather than a Map, so "__proto__" cannot be stored and "constructor" or "toString" ' +
  'are found on Object.prototype; a check with `key in store`; or keys and values handled as UTF-8 text instead of byte strings.';

export const strangeKeys = realTest(
  'TestStrangeKeys',
  'keys such as __proto__ and constructor, empty, non-ASCII and binary keys and values, through every command',
  async (res, ctx, rng) => {
    const server = await res.server({ sweepIntervalMs: 60_000 });
    const c = await res.connect(server.port, 'latin1');
    const keys = STRANGE_KEYS.map(asBytes);
    // Before anything is stored, none of these keys exists.
    for (const k of keys) {
      const got = await callBytes(c, 'GET', k);
      check(
        got === null,
        `GET ${showBytes(k)} on an empty server replied ${showBytes(got)}; expected nil. ${STRANGE_CAUSES}`,
      );
    }
    await expectBytes(c, ['EXISTS', ...keys], 0, `none of the ${keys.length} keys was set. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['TTL', 'constructor'], -2, `"constructor" was never set. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['DEL', 'toString', 'hasOwnProperty'], 0, `neither key was set. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['DBSIZE'], 0, 'nothing was set');
    await expectBytes(
      c,
      ['INCR', 'valueOf'],
      1,
      `a missing key counts as 0, even one named like an Object method. ${STRANGE_CAUSES}`,
    );
    await expectBytes(c, ['DEL', 'valueOf'], 1, 'valueOf was just created by INCR');
    // Every key gets a value made of random bytes.
    const want = new Map<string, string>();
    for (const k of keys) {
      const v = randomBytes(rng, rng.between(0, 40));
      await expectBytes(c, ['SET', k, v], 'OK', 'SET of a byte string');
      want.set(k, v);
    }
    for (const [k, v] of want) {
      const got = await callBytes(c, 'GET', k);
      check(
        got === v,
        `GET ${showBytes(k)} replied ${showBytes(got)}; expected the ${v.length} bytes stored, ${showBytes(v)}. ${STRANGE_CAUSES}`,
      );
    }
    await expectBytes(c, ['EXISTS', ...keys], keys.length, `all ${keys.length} keys were set. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['DBSIZE'], keys.length, `all ${keys.length} keys were set. ${STRANGE_CAUSES}`);
    const listed = await callBytes(c, 'KEYS', '*');
    check(
      Array.isArray(listed) && listed.length === keys.length && keys.every((k) => listed.includes(k)),
      `KEYS * replied ${Array.isArray(listed) ? `${listed.length} keys: ${listed.map(showBytes).join(', ')}` : showBytes(listed)}; expected exactly the ${keys.length} keys set: ${keys.map(showBytes).join(', ')}. ${STRANGE_CAUSES}`,
    );
    await expectBytes(c, ['KEYS', '__*'], ['__proto__'], 'only "__proto__" starts with two underscores');
    const tProto = Date.now();
    await expectBytes(c, ['EXPIRE', '__proto__', 100], 1, '"__proto__" exists');
    checkTtl(await callBytes(c, 'TTL', '__proto__'), 100, tProto, 'TTL __proto__ after EXPIRE __proto__ 100');
    await expectBytes(c, ['SET', 'constructor', '41'], 'OK', 'SET');
    await expectBytes(c, ['INCR', 'constructor'], 42, 'INCR of a key named "constructor"');
    await expectBytes(c, ['DEL', 'toString', asBytes('键🔑')], 2, 'both keys exist');
    await expectBytes(c, ['GET', 'toString'], null, `"toString" was deleted. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['EXISTS', 'toString', asBytes('键🔑')], 0, `both keys were deleted. ${STRANGE_CAUSES}`);
    await expectBytes(c, ['DBSIZE'], keys.length - 2, `${keys.length} keys were set and 2 deleted. ${STRANGE_CAUSES}`);
  },
);

/**
 * 300 keys that will be deleted during the walk, created first (so that deleting them shifts the positions of all the
 * others in a Map's order), then 200 keys that exist throughout, then 20 that expire before the walk.
 */
async function fillScanStore(c: RawClient, rng: Rng): Promise<{ doomed: string[]; stable: Set<string> }> {
  const doomed: string[] = [];
  for (let i = 0; i < 300; i++) doomed.push(`d:${i}:${word(rng, 3)}`);
  const stable = new Set<string>();
  for (let i = 0; i < 200; i++) stable.add(`s:${i}:${word(rng, 4)}`);
  for (const key of [...doomed, ...stable]) c.send('SET', key, 'v');
  for (let i = 0; i < 500; i++) await c.reply('SET');
  for (let i = 0; i < 20; i++) await c.expect(['SET', `gone:${i}`, 'v', 'PX', 100], 'OK');
  await realSleep(250);
  return { doomed, stable };
}

/** One SCAN cursor COUNT 20 call, its reply's shape checked and no expired key in it; returns [next cursor, keys]. */
async function scanStep(c: RawClient, cursor: string): Promise<[string, string[]]> {
  const r = await c.call('SCAN', cursor, 'COUNT', 20);
  check(
    Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && Array.isArray(r[1]),
    `SCAN ${cursor} COUNT 20 replied ${show(r)}; expected a two-element array: the next cursor (a bulk string) and an array of keys.`,
  );
  const [next, keys] = r as [string, string[]];
  check(
    keys.length <= 20,
    `SCAN ${cursor} COUNT 20 returned ${keys.length} keys; at most COUNT keys per call, so that a large store is walked in small steps (the handout's SCAN).`,
  );
  check(/^\d+$/.test(next), `SCAN returned the cursor ${show(next)}; expected a non-negative integer.`);
  for (const k of keys)
    check(
      !k.startsWith('gone:'),
      `SCAN returned ${show(k)}, whose TTL ran out 150 ms earlier: an expired key must never be visible, to SCAN neither.`,
    );
  return [next, keys];
}

/**
 * Walks COUNT 20 at a time; between calls, deletes 30 of the doomed keys (those already returned first) and adds 3 new
 * ones. Returns the keys seen and the number of calls.
 */
async function scanWhileChanging(c: RawClient, doomed: string[]): Promise<{ seen: Set<string>; calls: number }> {
  const seen = new Set<string>();
  let cursor = '0';
  let calls = 0;
  do {
    const [next, keys] = await scanStep(c, cursor);
    for (const k of keys) seen.add(k);
    calls++;
    check(
      calls <= 200,
      'SCAN did not return the cursor 0 after 200 calls of COUNT 20 over about 600 keys: the iteration never ends.',
    );
    doomed.sort((a, b) => Number(seen.has(b)) - Number(seen.has(a)));
    const deleting = doomed.splice(0, 30);
    for (const key of deleting) c.send('DEL', key);
    for (let i = 0; i < 3; i++) c.send('SET', `new:${calls}:${i}`, 'v');
    for (let i = 0; i < deleting.length + 3; i++) await c.reply('DEL and SET between SCAN calls');
    cursor = next;
  } while (cursor !== '0');
  return { seen, calls };
}

/** SCAN ... MATCH s:1?:* returns exactly the stable keys s:10:… to s:19:…; bad cursors and options are errors. */
async function checkScanMatch(c: RawClient, stable: ReadonlySet<string>): Promise<void> {
  const matched = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = (await c.call('SCAN', cursor, 'MATCH', 's:1?:*', 'COUNT', 50)) as [string, string[]];
    for (const k of keys) matched.add(k);
    cursor = next;
  } while (cursor !== '0');
  const want = [...stable].filter((k) => /^s:1\d:/.test(k)).sort();
  check(
    JSON.stringify([...matched].sort()) === JSON.stringify(want),
    `SCAN ... MATCH s:1?:* returned ${matched.size} keys; expected the ${want.length} keys s:10:… to s:19:… (MATCH filters with globMatch).`,
  );
  await c.expectError(['SCAN', 'abc'], 'ERR invalid cursor', 'a cursor that is not a number');
  await c.expectError(['SCAN', 0, 'COUNT', 0], 'ERR syntax error', 'COUNT must be at least 1');
  await c.expectError(['SCAN', 0, 'LIMIT', 5], 'ERR syntax error', 'an unknown option');
}

/** What ordinary clients do: ioredis's scanStream walks to cursor 0 and finds every stable key. */
async function checkScanStream(res: Resources, port: number, stable: ReadonlySet<string>): Promise<void> {
  const redis = ioredisClient(res, port);
  await within(redis.connect(), 5000, () => `ioredis connecting took more than 5000 ms.`);
  const streamed = await within(
    new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const stream = redis.scanStream({ match: 's:*', count: 25 });
      stream.on('data', (keys: string[]) => out.push(...keys));
      stream.on('end', () => resolve(out));
      stream.on('error', reject);
    }),
    5000,
    () => `ioredis scanStream({ match: 's:*', count: 25 }) took more than 5000 ms.`,
  );
  check(
    new Set(streamed).size === stable.size,
    `ioredis scanStream({ match: 's:*' }) found ${new Set(streamed).size} distinct keys; expected ${stable.size}.`,
  );
}

export const scan = realTest(
  'TestScan',
  'SCAN walks every key with a cursor, COUNT at a time, while keys come and go; MATCH filters; expired keys are left out',
  async (res, ctx, rng) => {
    const server = await res.server({ sweepIntervalMs: 60_000 });
    const c = await res.connect(server.port, 'latin1');
    const { doomed, stable } = await fillScanStore(c, rng);
    const { seen, calls } = await scanWhileChanging(c, doomed);
    const missed = [...stable].filter((k) => !seen.has(k));
    check(
      missed.length === 0,
      `SCAN, walked to cursor 0 while other keys were deleted and added, never returned ${missed.length} of the 200 keys that existed throughout, e.g. ${show(missed[0])}. A cursor must not depend on positions that a deletion shifts (such as an index in the Map's order): the handout's SCAN numbers each key when it is created.`,
    );
    check(calls >= 10, `SCAN walked over 200 keys COUNT 20 at a time in ${calls} calls; expected at least 10.`);
    await checkScanMatch(c, stable);
    await checkScanStream(res, server.port, stable);
  },
);

/** Likely causes of a difference from Redis, by the command that replied differently. */
const REDIS_HINTS: Record<string, string> = {
  set: "SET's options (the handout's table): NX, XX, GET, KEEPTTL, EX/PX/EXAT/PXAT; one kind of time may repeat (the last wins); a time is checked only after all options are read.",
  incr: 'integers are parsed with parseInt64 and added as bigints; overflow is its own error.',
  expire:
    'EXPIRE/PEXPIRE: options NX XX GT LT are read first, then the time, then the key; the limits that give "invalid expire time in \'expire\' command".',
  keys: 'KEYS uses the given globMatch; look at the key set and the pattern.',
  scan: 'SCAN: the cursor is read as Redis does (the handout); options COUNT, MATCH, TYPE; errors.',
  multi: 'MULTI/EXEC/DISCARD: which commands are queued, which are refused at once, and what EXEC replies then.',
  unknown:
    'the unknown-command error: arguments quoted, each followed by a space, until the text reaches 128 characters.',
};

export const redisReplies = realTest(
  'TestRedisReplies',
  `the reply to every command of ${'2,000'}+ recorded sequences is byte for byte what redis-server 7.0 replied`,
  async (res, ctx) => {
    const corpus = loadCorpus();
    const server = await res.server({ sweepIntervalMs: 60_000 });
    for (const [n, seq] of corpus.sequences.entries()) {
      const run = await runSequence(server.port, seq.steps, seq.replies.length);
      // The corpus runner has its own socket: its replies are counted here, and each sequence noted on its lane.
      ctx.countOps(run.replies.length);
      ctx.transcript?.note('corpus', `sequence ${n + 1}: ${seq.steps.length} commands, ${run.replies.length} replies`);
      const at = firstDifference(seq, run);
      if (at === undefined) continue;
      const step = seq.steps[at];
      const name = Array.isArray(step) ? step[0].toLowerCase() : 'inline';
      const family = ['incr', 'incrby', 'decr', 'decrby'].includes(name)
        ? 'incr'
        : name === 'pexpire'
          ? 'expire'
          : ['exec', 'discard'].includes(name)
            ? 'multi'
            : name;
      const hint =
        REDIS_HINTS[family] ??
        (typeof run.replies[at] === 'string' && run.replies[at].startsWith('-ERR unknown command')
          ? REDIS_HINTS.unknown
          : "the handout's command table says what Redis does.");
      throw new TestFailure(
        `${explainDifference(seq, run, at)}\nThe corpus (lab5/test/redis-replies.json, ${corpus.sequences.length} sequences) holds redis-server 7.0's replies; KEYS and SCAN are compared as sorted lists. Likely cause: ${hint}`,
      );
    }
  },
);
