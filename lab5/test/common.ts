/** What lab 5's named tests share: the real-time test maker, reference placement, checks and strange data. */
import Redis, { type RedisOptions } from 'ioredis';
import { RespReply } from '../resp';
import { TestDefinition, TestContext, check } from '../../suite';
import { Rng } from '../../world/rng';
import { Lab5Code, RawClient, Resources, same, show, withResources } from './harness';
import { realSleep } from '../../world';

export type Ctx = TestContext<Lab5Code>;

export type Lab5Test = TestDefinition<Lab5Code>;

/**
 * A real-time test: runs `body` with Resources that are always cleaned up. The code under test runs in a student
 * host, a process of its own, and so do the kit's spies on it (host-spies.ts): this process never loads it.
 * Every lab 5 test shares the machine (`alone: false`): its time limits and the waits its checks allow are written
 * for a loaded machine (seconds above what a correct server needs), and each is swept beside two busy loops that take
 * both cores (instructor/sweep-record.json), as much load as another such test beside it adds (the grader runs as many
 * of them at once as it has lanes, --jobs: two on a 2-core machine).
 */
export function realTest(
  name: string,
  description: string,
  body: (res: Resources, ctx: Ctx, rng: Rng) => Promise<void>,
): Lab5Test {
  return {
    name,
    description,
    realTime: true,
    alone: false,
    codeElsewhere: true,
    run: (ctx) => withResources(ctx.impl, (res) => body(res, ctx, new Rng(ctx.seed)), ctx),
  };
}

/**
 * An ioredis client of the server at `port` that reports the first failure instead of reconnecting or retrying,
 * is disconnected when the test ends, and passes each connection error to `onError`. It connects on `connect()`.
 */
export function ioredisClient(
  res: Resources,
  port: number,
  options: RedisOptions = {},
  onError: (e: Error) => void = () => undefined,
): Redis {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    ...options,
  });
  res.defer(() => redis.disconnect());
  redis.on('error', onError);
  return redis;
}

/** A random printable key or value of `n` characters. */
export function word(rng: Rng, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** Keys that break a store kept in a plain object, or text handled as UTF-8 instead of bytes. */
export const STRANGE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'prototype',
  'length',
  '0',
  '',
  ' ',
  'ключ',
  '键🔑',
  'two\r\nlines',
  'nul\u0000byte',
  '\u00ff\u00fe\u0080 raw bytes',
  '*',
];

/**
 * Fails unless `got` is a plausible TTL (in seconds, or ms with `unit` 1) for a key given `given` seconds to
 * live at `setAt` (local time, taken just before the command was sent), however slow the machine is.
 */
export function checkTtl(got: RespReply, given: number, setAt: number, what: string, unit: 1 | 1000 = 1000): void {
  const elapsed = Date.now() - setAt;
  const hi = (given * 1000) / unit;
  // Seconds are rounded (as Redis does): the server's reading came no later than now, so no fewer are left than this.
  // 1 ms more elapsed than this test's whole milliseconds show: the server may read a finer clock.
  const lo = unit === 1000 ? Math.round((given * 1000 - elapsed - 1) / 1000) : given * 1000 - elapsed - 1;
  check(
    typeof got === 'number' && got >= lo && got <= hi,
    `${what} replied ${show(got)}; the key was given ${given} s to live ${elapsed} ms ago, so about ${Math.round((given * 1000 - elapsed) / unit)} ${unit === 1000 ? 's (rounded to the nearest second, as Redis does: not rounded down, not rounded up)' : 'ms'} should be left.`,
  );
}

/** A string's UTF-8 bytes as a byte string (one character per byte), as the server sees it. */
export function asBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** `n` random bytes (0-255, CR, LF and NUL included) as a byte string. */
export function randomBytes(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(256));
  return s;
}

/** Sends a command whose words are byte strings and returns the reply (read it with a 'latin1' client). */
export function callBytes(c: RawClient, ...args: Array<string | number>): Promise<RespReply> {
  return c.call(...args.map((a) => Buffer.from(String(a), 'latin1')));
}

/** A byte string for messages: printable, with its non-ASCII bytes escaped. */
export function showBytes(r: RespReply): string {
  return typeof r === 'string'
    ? JSON.stringify(r).replace(/[\u0080-\u00ff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16)}`)
    : show(r);
}

/** Fails unless a byte-string command replies `want`. */
export async function expectBytes(
  c: RawClient,
  args: Array<string | number>,
  want: RespReply,
  why: string,
): Promise<void> {
  const got = await callBytes(c, ...args);
  check(
    same(got, want),
    `${args.map((a) => showBytes(String(a))).join(' ')} replied ${showBytes(got)}; expected ${showBytes(want)} (${why}).`,
  );
}

/** Waits until `done()` or `ms` pass; returns done(). */
export async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!done() && Date.now() - t0 < ms) await realSleep(20);
  return done();
}
