// Lab 5's generic attackers: random RESP workloads judged by a model of Redis, crash copies at every disk write, and a client facing misbehaving servers.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { globMatch } from '../glob';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../int64';
import { parseStats, type ServerStats } from '../info';
import { encodeCommand, RequestParser, RespError, RespReply } from '../resp';
import { check, TestFailure } from '../../suite';
import { EDGE_KEYS, edgeValue } from '../../suite/nemesis/values';
import { keyedRng, Rng } from '../../world/rng';
import type { FsyncPolicy, RunningServer, ServerAddress, ServerOptions } from '../types';
import type { RemoteClient } from './remote';
import { asBytes, Ctx, randomBytes, realTest, showBytes, STRANGE_KEYS, waitFor } from './common';
import { closedFolderBound, describe, folderBytes, RawClient, Resources } from './harness';
import { realSleep } from '../../world';
import { within } from '../../suite/within';
import { checkDamagedLogs, logRecords } from './nemesis-damage';
import { checkPolicyRound, policyOfRound } from './nemesis-policy';
import { MULTI_MAX_COMMANDS } from './command-model';
import { monotonicMicros } from './host-protocol';
import { copyFolder } from './host-spies';
import type { NemesisCopy, RemoteDiskNemesis } from './spy-views';
import { freePort } from '../../suite/ports';

// ---------------------------------------------------------------------------------------------------------------
// The model: Redis 7.0's semantics for the commands the workload sends, as the handout states them.

/** A key's value and, if it has a TTL, the window its absolute deadline lies in (ms since the epoch). */
export interface Entry {
  readonly value: string;
  readonly dlo?: number;
  readonly dhi?: number;
}

/** One worker's keys. */
export type State = Map<string, Entry>;

/** When the server ran a command: after `s` (just before it was sent) and before `r` (its reply was read). */
export interface Window {
  readonly s: number;
  readonly r: number;
}

/** An expected reply: exact, or an integer in a range (a TTL read in real time). */
export type Expect = RespReply | { readonly lo: number; readonly hi: number } | Expect[];

/** Does `got` match `want`? An expected error matches any error starting with its text. */
export function matches(got: RespReply, want: Expect): boolean {
  if (want instanceof RespError) return got instanceof RespError && got.message.startsWith(want.message);
  if (Array.isArray(want))
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => matches(got[i], w));
  if (want !== null && typeof want === 'object') return typeof got === 'number' && got >= want.lo && got <= want.hi;
  return got === want;
}

/** An expected reply, printed for a message. */
export function showExpect(want: Expect): string {
  if (want instanceof RespError) return `(error) ${want.message}...`;
  if (Array.isArray(want)) return `[${want.map(showExpect).join(', ')}]`;
  if (want !== null && typeof want === 'object') return `(integer) between ${want.lo} and ${want.hi}`;
  if (typeof want === 'number') return `(integer) ${want}`;
  return want === null ? '(nil)' : showBytes(want);
}

/** The choices a command's outcome depends on (a key that may or may not have expired yet), replayed per path. */
class Choices {
  private readonly path: readonly boolean[];
  private i = 0;
  readonly taken: boolean[] = [];
  constructor(path: readonly boolean[]) {
    this.path = path;
  }
  /** `certain` if known, else the path's next choice (false past its end). */
  pick(certain: boolean | undefined): boolean {
    if (certain !== undefined) return certain;
    const c = this.i < this.path.length ? this.path[this.i] : false;
    this.i++;
    this.taken.push(c);
    return c;
  }
}

/** Every outcome of `run` over the choices it asks for (at most `limit`), each with the state it leaves. */
export function outcomes<T>(
  state: State,
  run: (s: State, c: Choices) => T,
  limit = 64,
): Array<{ out: T; state: State }> {
  const found: Array<{ out: T; state: State }> = [];
  const todo: boolean[][] = [[]];
  while (todo.length > 0 && found.length < limit) {
    const p = todo.pop()!;
    const copy = new Map(state);
    const c = new Choices(p);
    found.push({ out: run(copy, c), state: copy });
    for (let j = p.length; j < c.taken.length; j++) todo.push([...c.taken.slice(0, j), true]);
  }
  return found;
}

const INT_ERROR = new RespError('ERR value is not an integer or out of range');
const SYNTAX_ERROR = new RespError('ERR syntax error');

/** Is the entry alive at the time `w` of a command (undefined: it cannot be told yet)? */
function aliveAt(e: Entry, w: Window): boolean | undefined {
  if (e.dlo === undefined || e.dhi === undefined) return true;
  if (e.dhi <= w.s) return false;
  if (e.dlo > w.r) return true;
  return undefined;
}

/** The key's entry as the command at `w` sees it (an expired key is removed). */
function lookup(st: State, key: string, w: Window, c: Choices): Entry | undefined {
  const e = st.get(key);
  if (e === undefined) return undefined;
  if (c.pick(aliveAt(e, w))) return e;
  st.delete(key);
  return undefined;
}

/** Is deadline window a before (or at) deadline window b? */
function notAfter(a: { lo: number; hi: number }, b: { lo: number; hi: number }, c: Choices): boolean {
  return c.pick(a.hi <= b.lo ? true : a.lo > b.hi ? false : undefined);
}

function setCommand(st: State, a: string[], w: Window, c: Choices): Expect {
  const [key, value] = a;
  let nx = false;
  let xx = false;
  let get = false;
  let keep = false;
  let unit: string | undefined;
  let time = '';
  for (let i = 2; i < a.length; i++) {
    const o = a[i].toUpperCase();
    if (o === 'NX' && !xx) nx = true;
    else if (o === 'XX' && !nx) xx = true;
    else if (o === 'GET') get = true;
    else if (o === 'KEEPTTL' && unit === undefined) keep = true;
    else if (
      ['EX', 'PX', 'EXAT', 'PXAT'].includes(o) &&
      !keep &&
      (unit === undefined || unit === o) &&
      i + 1 < a.length
    ) {
      unit = o;
      time = a[++i];
    } else return SYNTAX_ERROR;
  }
  let dl: { lo: number; hi: number } | undefined;
  if (unit !== undefined) {
    const n = parseInt64(time);
    if (n === undefined) return INT_ERROR;
    if (n <= 0n) return new RespError("ERR invalid expire time in 'set' command");
    const ms = Number(n) * (unit === 'EX' || unit === 'EXAT' ? 1000 : 1);
    dl = unit === 'EX' || unit === 'PX' ? { lo: w.s + ms, hi: w.r + ms } : { lo: ms, hi: ms };
  }
  const old = lookup(st, key, w, c);
  const oldValue = old === undefined ? null : old.value;
  if ((nx && old !== undefined) || (xx && old === undefined)) return get ? oldValue : null;
  if (dl === undefined && keep && old?.dlo !== undefined) dl = { lo: old.dlo, hi: old.dhi! };
  st.set(key, dl === undefined ? { value } : { value, dlo: dl.lo, dhi: dl.hi });
  return get ? oldValue : 'OK';
}

function incrBy(st: State, key: string, by: bigint, w: Window, c: Choices): Expect {
  const e = lookup(st, key, w, c);
  const cur = parseInt64(e?.value ?? '0');
  if (cur === undefined) return INT_ERROR;
  const next = cur + by;
  if (next > INT64_MAX || next < INT64_MIN) return new RespError('ERR increment or decrement would overflow');
  st.set(key, { ...e, value: String(next) });
  return Number(next);
}

function expireCommand(st: State, a: string[], unit: number, w: Window, c: Choices): Expect {
  const name = unit === 1000 ? 'expire' : 'pexpire';
  const opts = new Set<string>();
  for (const o of a.slice(2)) {
    const u = o.toUpperCase();
    if (!['NX', 'XX', 'GT', 'LT'].includes(u)) return new RespError(`ERR Unsupported option ${o}`);
    opts.add(u);
  }
  if (opts.has('NX') && (opts.has('XX') || opts.has('GT') || opts.has('LT')))
    return new RespError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (opts.has('GT') && opts.has('LT'))
    return new RespError('ERR GT and LT options at the same time are not compatible');
  const n = parseInt64(a[1]);
  if (n === undefined) return INT_ERROR;
  // The time's limits come before the key: seconds beyond INT64_MAX / 1000, or an absolute time past INT64_MAX ms.
  const invalid = new RespError(`ERR invalid expire time in '${name}' command`);
  if (unit === 1000 && (n > INT64_MAX / 1000n || n < INT64_MIN / 1000n)) return invalid;
  if (n * BigInt(unit) > INT64_MAX - BigInt(w.s)) return invalid;
  const ms = Number(n) * unit;
  const e = lookup(st, a[0], w, c);
  if (e === undefined) return 0;
  const at = { lo: w.s + ms, hi: w.r + ms };
  const cur = e.dlo === undefined ? undefined : { lo: e.dlo, hi: e.dhi! };
  if (opts.has('NX') && cur !== undefined) return 0;
  if (opts.has('XX') && cur === undefined) return 0;
  if (opts.has('GT') && (cur === undefined || notAfter(at, cur, c))) return 0;
  if (opts.has('LT') && cur !== undefined && notAfter(cur, at, c)) return 0;
  if (ms <= 0) st.delete(a[0]);
  else st.set(a[0], { value: e.value, dlo: at.lo, dhi: at.hi });
  return 1;
}

/**
 * How far a TTL read may stray from a deadline window by rounding alone: past 2^53 ms a deadline held as a double (by
 * the model, and perhaps by the server) is a multiple of 2, 4, ... 2048 ms.
 */
export function roundingSlack(deadline: number): number {
  return deadline > 2 ** 53 ? 2 * 2 ** Math.ceil(Math.log2(deadline / 2 ** 53)) : 0;
}

function ttlCommand(st: State, key: string, unit: number, w: Window, c: Choices): Expect {
  const e = lookup(st, key, w, c);
  if (e === undefined) return -2;
  if (e.dlo === undefined) return -1;
  const slack = roundingSlack(e.dhi!);
  const lo = Math.max(0, e.dlo - w.r - slack);
  const hi = Math.max(0, e.dhi! - w.s + slack);
  return unit === 1 ? { lo, hi } : { lo: Math.floor(lo / 1000), hi: Math.ceil(hi / 1000) };
}

/** Runs one command on the model (its name in any case) and returns Redis's reply. */
export function applyCommand(st: State, args: string[], w: Window, c: Choices): Expect {
  const name = args[0].toUpperCase();
  const a = args.slice(1);
  switch (name) {
    case 'PING':
      return a.length === 0 ? 'PONG' : a[0];
    case 'ECHO':
      return a[0];
    case 'GET':
      return lookup(st, a[0], w, c)?.value ?? null;
    case 'SET':
      return setCommand(st, a, w, c);
    case 'DEL': {
      let n = 0;
      for (const k of new Set(a))
        if (lookup(st, k, w, c) !== undefined) {
          st.delete(k);
          n++;
        }
      return n;
    }
    case 'EXISTS':
      return a.filter((k) => lookup(st, k, w, c) !== undefined).length;
    case 'INCR':
      return incrBy(st, a[0], 1n, w, c);
    case 'DECR':
      return incrBy(st, a[0], -1n, w, c);
    case 'INCRBY':
    case 'DECRBY': {
      const by = parseInt64(a[1]);
      if (by === undefined) return INT_ERROR;
      if (name === 'DECRBY' && by === INT64_MIN) return new RespError('ERR decrement would overflow');
      return incrBy(st, a[0], name === 'DECRBY' ? -by : by, w, c);
    }
    case 'EXPIRE':
      return expireCommand(st, a, 1000, w, c);
    case 'PEXPIRE':
      return expireCommand(st, a, 1, w, c);
    case 'TTL':
      return ttlCommand(st, a[0], 1000, w, c);
    case 'PTTL':
      return ttlCommand(st, a[0], 1, w, c);
    default:
      throw new Error(`the model has no command ${name}`);
  }
}

/** Arity as Redis checks it (n: exactly; -n: at least), for the commands the workload sends. */
const ARITY: Record<string, number> = {
  PING: -1,
  ECHO: 2,
  GET: 2,
  SET: -3,
  DEL: -2,
  EXISTS: -2,
  INCR: 2,
  DECR: 2,
  INCRBY: 3,
  DECRBY: 3,
  EXPIRE: -3,
  PEXPIRE: -3,
  TTL: 2,
  PTTL: 2,
};

/** A word as C's `%s` prints it (it stops at a NUL), with CR and LF turned into spaces as error replies do. */
function cWord(text: string): string {
  const nul = text.indexOf('\u0000');
  return nul < 0 ? text : text.slice(0, nul);
}

/** Redis's unknown-command error, word for word: the name, then each argument quoted, up to 128 characters. */
function unknownCommand(args: readonly string[]): RespError {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${cWord(args[i]).slice(0, 128 - rest.length)}' `;
  const text = `ERR unknown command '${cWord(args[0]).slice(0, 128)}', with args beginning with: ${rest}`;
  return new RespError(text.replace(/[\r\n]/g, ' '));
}

/** The error a command gets before it runs (unknown, wrong arity), or undefined. */
export function refusal(args: string[]): RespError | undefined {
  const name = args[0].toUpperCase();
  const arity = Object.prototype.hasOwnProperty.call(ARITY, name) ? ARITY[name] : undefined;
  if (arity === undefined) return unknownCommand(args);
  if (arity > 0 ? args.length !== arity : args.length < -arity)
    return new RespError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The workload: keys and values at the edges, commands with boundary numbers, pipelines and transactions.

/** Integer-looking values: digit-count boundaries, 2^53, the int64 limits, and texts Redis refuses as integers. */
const NUMBERS = [
  '9',
  '99',
  '-10',
  '0',
  '9007199254740991',
  '9007199254740993',
  '9223372036854775806',
  '-9223372036854775807',
  '01',
  ' 1',
  '1.0',
  '+1',
  '-0',
  '1e3',
];

/**
 * Expire times at the 64-bit limits: refused or deleting (seconds just past INT64_MAX / 1000, either sign; seconds that
 * overflow once made absolute; the int64 limits themselves), and valid ones whose deadline lies past 2^53 ms, up to
 * just under INT64_MAX ms (it must survive a restart like any other).
 */
const EXPIRE_EDGES = [
  '9223372036854776',
  '9223372036854775',
  '9223372036854775807',
  '-9223372036854775808',
  '9200000000000',
];
const PEXPIRE_EDGES = ['9223372036854775807', '-9223372036854775808', '9200000000000000', 'near-limit'];

/** A PEXPIRE time from PEXPIRE_EDGES; 'near-limit': 1000 s short of the latest deadline Redis accepts (INT64_MAX ms). */
function pexpireEdge(rng: Rng): string {
  const t = rng.pick(PEXPIRE_EDGES);
  return t === 'near-limit' ? String(INT64_MAX - BigInt(Date.now()) - 1_000_000n) : t;
}

/** Values next to the integer limits, and what to add to each so that the result lands on or past the limit. */
const STEERED: ReadonlyArray<readonly [string, string[]]> = [
  ['9223372036854775806', ['INCR', 'INCRBY 1', 'INCRBY 2', 'DECRBY -2']],
  ['9223372036854775807', ['INCR', 'DECR', 'INCRBY 9223372036854775807']],
  ['-9223372036854775807', ['DECR', 'DECRBY 1', 'DECRBY 2', 'INCRBY -2']],
  ['-9223372036854775808', ['DECR', 'INCR', 'DECRBY -9223372036854775808']],
  ['9007199254740991', ['INCR', 'INCRBY 2', 'DECR']],
];

/** A value next to an integer limit, then arithmetic that crosses it (or lands on it): [SET, INCR-like]. */
function steeredPair(rng: Rng, key: string): string[][] {
  const [start, ops] = rng.pick(STEERED);
  const [name, by] = rng.pick(ops).split(' ');
  return [['SET', key, start], by === undefined ? [name, key] : [name, key, by]];
}

/** The keys a worker owns: ordinary ones, binary ones, and its share of the edge keys (byte strings). */
export function workerKeys(rng: Rng, id: number, workers: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 14; i++) keys.push(`w${id}:${i}`);
  keys.push(`w${id}:\u00ff\u0000\r\n${rng.int(100)}`, `w${id}:` + randomBytes(rng, 6), `w${id}:${'k'.repeat(300)}`);
  const edges = [...new Set([...EDGE_KEYS, ...STRANGE_KEYS])].map(asBytes);
  edges.forEach((k, i) => {
    if (i % workers === id) keys.push(k);
  });
  return [...new Set(keys)];
}

/** A value: edge shapes (numeric-looking, huge, NUL, non-ASCII), raw bytes, or a boundary number. */
function value(rng: Rng, n: number): string {
  const r = rng.int(10);
  if (r < 3) return rng.pick(NUMBERS);
  if (r === 3) return randomBytes(rng, rng.between(0, 40));
  if (r === 4 && rng.chance(0.3)) return `${n}`.padEnd(rng.between(100_000, 400_000), 'x');
  return asBytes(edgeValue(rng, n, { hugeBytes: 2000 }));
}

/** A TTL suffix for SET: none, long, short (expires during the run), absolute in the past or far future. */
function setTtl(rng: Rng): string[] {
  switch (rng.int(9)) {
    case 0:
      return ['EX', String(rng.between(1, 50) * 1000)];
    case 1:
      return ['PX', String(rng.between(20, 250))];
    case 2:
      return ['PXAT', String(Date.now() - rng.between(1, 100_000))];
    case 3:
      return ['EXAT', String(Math.floor(Date.now() / 1000) + rng.between(1, 50) * 1000)];
    case 4:
      return ['KEEPTTL'];
    case 5:
      return ['EX', String(rng.between(1, 9) * 1000), 'EX', String(rng.between(10, 20) * 1000)]; // the last one wins
    case 6:
      // A deadline past 2^53 ms, or the latest one Redis accepts (INT64_MAX ms: as a double it rounds up to 2^63).
      return rng.chance(0.3)
        ? rng.pick([
            ['PXAT', '9200000000000000'],
            ['PXAT', String(INT64_MAX)],
            ['EXAT', String(INT64_MAX / 1000n)],
          ])
        : [];
    default:
      return [];
  }
}

/** One random command on the worker's keys (sometimes malformed, as the handout defines the error). */
export function randomCommand(rng: Rng, keys: readonly string[], n: number): string[] {
  const key = (): string => (rng.chance(0.5) ? keys[rng.int(Math.min(6, keys.length))] : rng.pick(keys));
  const r = rng.int(100);
  if (r < 22)
    return [
      'SET',
      key(),
      value(rng, n),
      ...(rng.chance(0.2) ? [rng.pick(['NX', 'XX'])] : []),
      ...(rng.chance(0.15) ? ['GET'] : []),
      ...setTtl(rng),
    ];
  if (r < 40) return ['GET', key()];
  if (r < 47) return ['DEL', ...Array.from({ length: rng.between(1, 3) }, key)];
  if (r < 51) return ['EXISTS', ...Array.from({ length: rng.between(1, 3) }, key)];
  if (r < 60) return [rng.pick(['INCR', 'DECR']), key()];
  if (r < 65)
    return [
      rng.pick(['INCRBY', 'DECRBY']),
      key(),
      rng.pick(['1', '-1', '10', '9007199254740992', '9223372036854775807', '-9223372036854775808', '1x']),
    ];
  if (r < 72) {
    const opt = rng.chance(0.4) ? [rng.pick(['NX', 'XX', 'GT', 'LT'])] : [];
    if (rng.chance(0.5))
      return [
        'EXPIRE',
        key(),
        rng.pick(['0', '-5', String(rng.between(1, 50) * 1000), '10s', rng.pick(EXPIRE_EDGES)]),
        ...opt,
      ];
    return [
      'PEXPIRE',
      key(),
      rng.pick(['0', String(rng.between(20, 250)), String(rng.between(1, 50) * 1_000_000), pexpireEdge(rng)]),
      ...opt,
    ];
  }
  if (r < 82) return [rng.pick(['TTL', 'PTTL']), key()];
  if (r < 85) return ['ECHO', value(rng, n)];
  if (r < 87) return ['PING'];
  if (r < 89) return [rng.pick(['GET', 'SET', 'INCR', 'TTL'])]; // wrong arity
  if (r < 90) return [rng.pick(['constructor', '__proto__', 'NOSUCHCMD', 'hasOwnProperty']), key()];
  if (r < 93) return ['SET', key(), value(rng, n), rng.pick(['EX', 'PX']), rng.pick(['10s', 'abc', '0', '-1'])];
  if (r < 95) return ['SET', key(), 'v', 'EX', '100', 'PX', '100000'];
  const k = key(); // deleted and created again in one breath
  return rng.chance(0.5) ? ['DEL', k] : ['SET', k, value(rng, n), 'PX', '60000000'];
}

// ---------------------------------------------------------------------------------------------------------------
// A worker: one client's connection, its keys, its history (for the crash checks).

/** How far a worker had got when the disk was copied: replies received (acknowledged), commands sent. */
export interface Mark {
  readonly acked: number;
  readonly sent: number;
}

/** A state's fingerprint, to merge equal possible states (long values by their length and ends). */
function fingerprint(st: State): string {
  const parts: string[] = [];
  for (const [k, e] of st) {
    const v = e.value.length > 200 ? `${e.value.length}:${e.value.slice(0, 60)}:${e.value.slice(-60)}` : e.value;
    parts.push(JSON.stringify([k, v, e.dlo, e.dhi]));
  }
  return parts.sort().join();
}

/** At most this many possible states are kept per worker (outcomes that replies cannot tell apart). */
const MAX_STATES = 32;

/**
 * The states possible after a command, given the states possible before: every outcome of `run` (on every
 * state) whose reply matches `got`. Empty: no outcome matches, the reply is wrong. Also returns the first outcome.
 */
function step<T>(
  states: readonly State[],
  run: (s: State, c: Choices) => T,
  fits: (out: T) => boolean,
): { next: State[]; first: T; all: T[] } {
  const next: State[] = [];
  const seen = new Set<string>();
  const all: T[] = [];
  for (const st of states)
    for (const o of outcomes(st, run)) {
      all.push(o.out);
      if (!fits(o.out) || next.length >= MAX_STATES) continue;
      const f = fingerprint(o.state);
      if (seen.has(f)) continue;
      seen.add(f);
      next.push(o.state);
    }
  return { next, first: all[0], all };
}

/** One item of a pipeline: a command with what checks its reply. */
interface Sent {
  readonly args: string[];
  readonly what: string;
  /** Checks the reply (throws), updating the worker's possible states. */
  readonly judge: (got: RespReply, w: Window) => void;
  /**
   * The keys of a DEL of two or more keys sent outside a transaction. The handout's log holds one key per DEL
   * record and wraps only an EXEC's records (promise 23a), so a crash that cuts the log inside this command's
   * records may leave any of its keys deleted and the others not.
   */
  readonly splits?: readonly string[];
}

export class Worker {
  readonly id: number;
  readonly keys: readonly string[];
  readonly res: Resources;
  private readonly where: () => string;

  /** The states the worker's keys may be in now (several when replies cannot tell outcomes apart). */
  states: State[] = [new Map()];
  /** The possible states after each number of commands (history[0]: before the first). */
  readonly history: State[][] = [[new Map()]];
  /** Command number (1-based, as in `history`) -> the keys of a plain multi-key DEL, which a crash may leave half done. */
  readonly splits = new Map<number, readonly string[]>();
  /** Replies taken from connections before the current one (and acknowledged FLUSHDBs of the checks between phases). */
  private taken = 0;
  /** When each reply was taken (monotonicMicros, read just after), and each command sent (read just before). */
  private readonly takenAt: number[] = [];
  private readonly sentAt: number[] = [];
  /**
   * Entries that a GET, TTL, PTTL or EXISTS found past their deadline (certainly: it had passed before the command was
   * sent): each was removed because it expired, on that access or by a sweep before it, so expired_keys counts it.
   */
  readonly expiredSeen = new Set<Entry>();
  sent = 0;
  conn: RawClient | undefined;
  ops = 0;
  /** Keys written by an unacknowledged command that a broken connection left unanswered: unknown state. */
  constructor(id: number, keys: readonly string[], res: Resources, where: () => string) {
    this.id = id;
    this.keys = keys;
    this.res = res;
    this.where = where;
  }

  /** One command on its own, judged by the model. */
  async write(args: string[]): Promise<void> {
    await this.pipeline([{ args, what: describe(args.slice(0, 2)), judge: this.modelled(args, '') }]);
  }

  /** A FLUSHDB sent by the checks between phases (counted in `sent` when sent) was acknowledged: every key is gone. */
  flushed(): void {
    this.took();
    this.ops++;
    this.states = [new Map()];
    this.history.push(this.states);
  }

  /** Counts a command about to be sent (a FLUSHDB of the checks between phases is one too). */
  sending(): void {
    this.sentAt.push(monotonicMicros());
    this.sent++;
  }

  /** Counts a reply taken. */
  private took(): void {
    this.taken++;
    this.takenAt.push(monotonicMicros());
  }

  /**
   * How far the worker had got at a copy of the disk taken in the student host from `from` to `to` (µs): replies
   * taken before it began (the copy's lower bound: each one's reply had been written before the copy), commands sent
   * before it ended (its upper bound: no later one can be in it). Both sound, whatever the processes' scheduling.
   */
  markAt(from: number, to: number): Mark {
    return { acked: countBefore(this.takenAt, from), sent: countBefore(this.sentAt, to) };
  }

  /** Connects, and sends what clients send on connect (HELLO is refused: RESP2 only). */
  async connect(port: number): Promise<void> {
    this.conn = await this.res.connect(port, 'latin1');
    const hello: Array<[string[], Expect]> = [
      [['HELLO', '3'], new RespError('')],
      [['CLIENT', 'SETNAME', `worker-${this.id}`], 'OK'],
      [['SELECT', '0'], 'OK'],
      [['PING'], 'PONG'],
    ];
    await this.pipeline(
      hello.map(([args, want]) => ({
        args,
        what: args[0],
        judge: (got) => this.expectExact(args, got, want, 'on connecting (what clients send first) '),
      })),
    );
  }

  /** Sends `items` in one pipeline and judges the replies in order. */
  private async pipeline(items: Sent[]): Promise<void> {
    const conn = this.conn!;
    const s = Date.now();
    for (const it of items) {
      this.sending();
      conn.send(...it.args.map((x) => Buffer.from(x, 'latin1')));
      if (it.splits) this.splits.set(this.sent, it.splits);
    }
    for (const it of items) {
      const got = await conn.reply(`${it.what} (worker ${this.id}, ${this.where()})`, 10_000);
      this.took();
      this.ops++;
      it.judge(got, { s, r: Date.now() });
      this.history.push(this.states);
    }
  }

  /** A judge for a command on the model: any outcome whose reply matches is adopted. */
  private modelled(args: string[], ctxText: string): Sent['judge'] {
    return (got, w) => {
      const refused = refusal(args);
      if (refused) {
        if (!matches(got, refused)) this.fail(args, got, refused, ctxText, causesFor(''));
        return;
      }
      const name = args[0].toUpperCase();
      if (this.states.length === 1 && ['GET', 'TTL', 'PTTL', 'EXISTS'].includes(name))
        for (const k of args.slice(1)) {
          const e = this.states[0].get(k);
          if (e !== undefined && aliveAt(e, w) === false) this.expiredSeen.add(e);
        }
      const r = step(
        this.states,
        (st, c) => applyCommand(st, args, w, c),
        (out) => matches(got, out),
      );
      if (r.next.length === 0)
        this.fail(args, got, r.first, ctxText, causesFor(args[0]), r.all.length > 1 ? r.all : undefined);
      this.states = r.next;
    };
  }

  private fail(args: string[], got: RespReply, want: Expect, ctxText: string, causes: string, alts?: Expect[]): never {
    const expected = alts ? alts.map(showExpect).join(' or ') : showExpect(want);
    throw new TestFailure(
      `${this.where()}, worker ${this.id}: ${showCommand(args)} ${ctxText}replied ${showBytes(got)}; expected ${expected}` +
        `${alts ? ' (the key may or may not have expired by then)' : ''}. ${describeKeys(this.states[0], [args])} ${causes}`,
    );
  }

  /** A batch of plain commands, pipelined. */
  async batch(rng: Rng, n: number): Promise<void> {
    const items: Sent[] = [];
    const steered = rng.chance(0.3) ? steeredPair(rng, this.keys[rng.int(Math.min(6, this.keys.length))]) : [];
    const at = rng.int(n);
    for (let i = 0; i < n; i++) {
      for (const args of i === at ? steered : [])
        items.push({ args, what: describe(args.slice(0, 2)), judge: this.modelled(args, `in a pipeline of ${n} `) });
      const args = randomCommand(rng, this.keys, this.ops + i);
      const keys = args[0] === 'DEL' ? [...new Set(args.slice(1))] : [];
      items.push({
        args,
        what: describe(args.slice(0, 2)),
        judge: this.modelled(args, `in a pipeline of ${n} `),
        splits: keys.length > 1 ? keys : undefined,
      });
    }
    await this.pipeline(items);
  }

  /** Pipelines a plain SET of two or three of the worker's hot keys into `items`, and returns those keys. */
  private setSome(rng: Rng, items: Sent[], ctxText: string): string[] {
    const hot = this.keys.slice(0, Math.min(6, this.keys.length));
    const keys = [...new Set(Array.from({ length: rng.between(2, 3) }, () => rng.pick(hot)))];
    for (const key of keys) {
      const args = ['SET', key, value(rng, this.ops)];
      items.push({ args, what: describe(args.slice(0, 2)), judge: this.modelled(args, ctxText) });
    }
    return keys;
  }

  /**
   * Transactions, pipelined one after the other: MULTI, queued commands, then EXEC (or DISCARD, or a refused command
   * that makes EXEC abort). The queued commands run together at EXEC, as one unit.
   */
  async transactions(rng: Rng, count: number, size: number): Promise<void> {
    const items: Sent[] = [];
    for (let t = 0; t < count; t++) {
      const queued: string[][] = [];
      // A boundary, steered: the smallest transaction, whose one command writes a log record per key (a DEL of
      // keys just set), so that a crash can fall between the records of a transaction of one command.
      const lone = rng.chance(0.25) ? this.setSome(rng, items, `before transaction ${t + 1} of ${count} `) : undefined;
      const len = lone ? 1 : rng.between(1, size);
      const end = lone ? 2 : rng.int(10);
      const txt = `(transaction ${t + 1} of ${count} on one connection, ${len} commands) `;
      items.push({
        args: ['MULTI'],
        what: 'MULTI',
        judge: (got) => (this.expectExact(['MULTI'], got, 'OK', txt), new Map()),
      });
      let aborted = false;
      for (let i = 0; i < len; i++) {
        let args = lone ? ['DEL', ...lone] : randomCommand(rng, this.keys, this.ops + i);
        if (refusal(args) && end !== 0) args = ['GET', this.keys[0]];
        if (refusal(args)) aborted = true;
        queued.push(args);
        const want = refusal(args) ?? 'QUEUED';
        items.push({
          args,
          what: describe(args.slice(0, 2)),
          judge: (got) => (this.expectExact(args, got, want, `inside MULTI ${txt}`), new Map()),
        });
      }
      if (end === 1) {
        items.push({
          args: ['DISCARD'],
          what: 'DISCARD',
          judge: (got) => (this.expectExact(['DISCARD'], got, 'OK', txt), new Map()),
        });
        continue;
      }
      const abort = aborted;
      items.push({
        args: ['EXEC'],
        what: 'EXEC',
        judge: (got, w) => {
          if (abort) {
            this.expectExact(['EXEC'], got, new RespError('EXECABORT'), txt + '(a queued command was refused) ');
            return new Map();
          }
          const before = this.states[0];
          const fail = (detail: string, upTo: number, causes: string): never => {
            const list = queued.slice(0, upTo).map(showCommand).join('; ');
            throw new TestFailure(
              `${this.where()}, worker ${this.id}: EXEC ${txt}replied ${Array.isArray(got) ? `an array of ${got.length}` : showBytes(got)}; expected an array of ${queued.length} replies.${detail} ` +
                'EXEC runs the queued commands one after the other, with no other command in between, and replies with the array of their replies; ' +
                `nothing queued may run before EXEC. The transaction's commands${upTo < queued.length ? ' up to that one' : ''}: ${list}. ${describeKeys(before, queued.slice(0, upTo))} ` +
                causes,
            );
          };
          if (!Array.isArray(got) || got.length !== queued.length)
            fail('', Math.min(queued.length, 20), causesFor('EXEC'));
          const replies = got as RespReply[];
          let states = this.states;
          queued.forEach((args, i) => {
            const r = step(
              states,
              (st, c) => applyCommand(st, args, w, c),
              (out) => matches(replies[i], out),
            );
            if (r.next.length === 0)
              fail(
                ` Its element ${i + 1}, for ${showCommand(args)}, was ${showBytes(replies[i])} where ${r.all.map(showExpect).join(' or ')} was expected.`,
                i + 1,
                causesFor(args[0]),
              );
            states = r.next;
          });
          this.states = states;
        },
      });
    }
    await this.pipeline(items);
  }

  /** MULTI, a few commands, then QUIT: +OK and a closed connection, and nothing queued ran. Reconnects. */
  async quitInMulti(rng: Rng, port: number): Promise<void> {
    const args = ['SET', this.keys[rng.int(3)], 'quit-queued'];
    await this.pipeline([
      { args: ['MULTI'], what: 'MULTI', judge: (got) => (this.expectExact(['MULTI'], got, 'OK', ''), new Map()) },
      {
        args,
        what: 'SET (queued)',
        judge: (got) => (this.expectExact(args, got, 'QUEUED', 'inside MULTI '), new Map()),
      },
      {
        args: ['QUIT'],
        what: 'QUIT',
        judge: (got) => (this.expectExact(['QUIT'], got, 'OK', 'inside MULTI '), new Map()),
      },
    ]);
    const closed = await this.conn!.replyOrClose(5000);
    check(
      closed === 'closed',
      `${this.where()}, worker ${this.id}: after QUIT (sent inside MULTI) the server ${closed === 'timeout' ? 'kept the connection open for 5 s' : 'sent another reply'}; QUIT replies +OK and closes the connection.`,
    );
    this.conn = undefined;
    await this.connect(port);
  }

  private expectExact(args: string[], got: RespReply, want: Expect, ctxText: string): void {
    if (!matches(got, want)) this.fail(args, got, want, ctxText, causesFor(args[0]));
  }
}

/** A command for a message: its words as byte strings, long ones cut. */
function showCommand(args: readonly string[]): string {
  return args.map((a, i) => (i === 0 ? a : showBytes(a.length > 40 ? `${a.slice(0, 40)}...` : a))).join(' ');
}

/** What the model held for the keys of `commands` before them, for a message. */
function describeKeys(st: State, commands: readonly string[][]): string {
  const now = Date.now();
  const keys = [
    ...new Set(
      commands
        .filter(
          (c) =>
            c.length > 1 &&
            ARITY[c[0].toUpperCase()] !== undefined &&
            c[0].toUpperCase() !== 'ECHO' &&
            c[0].toUpperCase() !== 'PING',
        )
        .map((c) => c[1]),
    ),
  ];
  const text = keys.slice(0, 4).map((k) => {
    const e = st.get(k);
    if (e === undefined) return `${showBytes(k)} did not exist`;
    const v = showBytes(e.value.length > 40 ? `${e.value.slice(0, 40)}...` : e.value);
    return e.dlo === undefined
      ? `${showBytes(k)} held ${v} with no TTL`
      : `${showBytes(k)} held ${v} with its deadline ${e.dlo - now}..${e.dhi! - now} ms from now`;
  });
  return text.length ? `Before, ${text.join('; ')}.` : '';
}

/** Likely causes of a wrong reply to a command, for failure messages. */
function causesFor(name: string): string {
  const n = name.toUpperCase();
  const common =
    'Other likely causes: replies sent out of order or dropped in a pipeline (run every complete command of a chunk, in order), ' +
    'a parser shared between connections, values handled as UTF-8 instead of byte strings, or a store in a plain object (keys like __proto__).';
  const byName: Record<string, string> = {
    SET: "Check SET's options (NX, XX, GET, KEEPTTL, a repeated time takes the last; two kinds of time are a syntax error) and that a plain SET clears the TTL.",
    GET: 'An expired key must never be visible, even before the sweep removed it; a deleted key is nil.',
    DEL: 'DEL counts keys that existed and were removed; an expired key does not count.',
    EXISTS: 'EXISTS counts a key named twice twice; expired keys do not exist.',
    INCR: 'INCR family: 64-bit arithmetic (bigints), only canonical integers, the overflow error changes nothing, the TTL is kept, an expired key counts as 0.',
    DECR: 'INCR family: 64-bit arithmetic (bigints), only canonical integers, the overflow error changes nothing, the TTL is kept.',
    INCRBY:
      'INCR family: 64-bit arithmetic (bigints), only canonical integers, the overflow error changes nothing, the TTL is kept.',
    DECRBY: 'DECRBY subtracts; 64-bit arithmetic (bigints); the overflow error changes nothing.',
    EXPIRE:
      'EXPIRE: options NX/XX/GT/LT (no TTL counts as infinite), a time <= 0 deletes the key and replies 1, a missing key replies 0.',
    PEXPIRE: 'PEXPIRE: options NX/XX/GT/LT (no TTL counts as infinite), a time <= 0 deletes the key and replies 1.',
    TTL: 'TTL: -2 no key, -1 no TTL, else the seconds left of an absolute deadline (SET EX, EXPIRE; KEEPTTL and INCR keep it).',
    PTTL: 'PTTL: -2 no key, -1 no TTL, else the ms left of an absolute deadline (SET PX, PEXPIRE; KEEPTTL and INCR keep it).',
  };
  return `${byName[n] ?? 'Unknown commands and wrong numbers of arguments are refused with an error and change nothing.'} ${common}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The disk nemesis: copies of the data folder at random write points of the persistence path (what kill -9 leaves).

/**
 * The durability probe of an fsync 'always' round: one connection sets probe:<n> to "p<n>", one at a time. The keys
 * from `base` (the last FLUSHDB) up to `acked` were acknowledged and must survive any crash, a power cut included.
 */
export interface Probe {
  conn: RawClient | undefined;
  n: number;
  base: number;
  paused: boolean;
  /** When each SET probe:<n> was sent (monotonicMicros, read just after), and each reply taken (read just after). */
  readonly sentAt: number[];
  readonly ackedAt: number[];
  /** Each change of `base` and when (read just before). */
  readonly bases: Array<[number, number]>;
}

/** How many of the increasing times `times` are before `t`. */
function countBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The probe keys a copy of the disk taken in the student host from `from` to `to` (µs) must keep: from the last
 * FLUSHDB that may have come before it ended, up to the last SET acknowledged before it began (or, for a power cut
 * at a reply to the probe, whose `from` is when that reply's write began, the last SET sent before then: the next
 * one is sent only once that reply has arrived).
 */
function probeMarkAt(probe: Probe, from: number, to: number, atProbeReply: boolean): ProbeMark {
  const bases = probe.bases.filter(([t]) => t < to);
  const base = bases.length > 0 ? bases[bases.length - 1][1] : 0;
  return { base, acked: countBefore(atProbeReply ? probe.sentAt : probe.ackedAt, from) };
}

/** The probe keys a crash must keep: from `base` up to (not including) `acked`. */
export interface ProbeMark {
  readonly base: number;
  readonly acked: number;
}

/** One copy of the data folder: where it was taken, and how far each worker had got. */
export interface CrashPoint {
  readonly dir: string;
  readonly what: string;
  readonly marks: readonly Mark[];
  readonly probe: ProbeMark;
}

// ---------------------------------------------------------------------------------------------------------------
// The server attacker.

/** The entry's state as read at `w`: 'alive', 'gone', or 'either' (its deadline falls inside the window). */
function readable(e: Entry | undefined, w: Window): 'alive' | 'gone' | 'either' {
  if (e === undefined) return 'gone';
  const a = aliveAt(e, w);
  return a === undefined ? 'either' : a ? 'alive' : 'gone';
}

/** Why a key read after a restart does not fit `e` (read at `w`), or undefined if it fits. */
function misfit(e: Entry | undefined, got: RespReply, pttl: RespReply, w: Window): string | undefined {
  const r = readable(e, w);
  if (got === null) return r === 'alive' ? `is missing (expected ${showBytes(e!.value)})` : undefined;
  if (r === 'gone')
    return e === undefined
      ? `is ${showBytes(got)}, expected no such key`
      : `is ${showBytes(got)}, expected gone (its deadline passed)`;
  if (got !== e!.value) return `is ${showBytes(got)}, expected ${showBytes(e!.value)}`;
  if (e!.dlo === undefined) return pttl === -1 ? undefined : `has PTTL ${showBytes(pttl)}, expected -1 (no TTL)`;
  const slack = 1 + roundingSlack(e!.dhi!);
  const lo = e!.dlo - w.r;
  const hi = e!.dhi! - w.s;
  if (typeof pttl === 'number' && pttl >= lo - slack && pttl <= hi + slack) return undefined;
  if (pttl === -2 && r === 'either') return undefined;
  return `has PTTL ${showBytes(pttl)}, expected ${Math.max(0, lo)}..${Math.max(0, hi)} ms (its absolute deadline)`;
}

/** A worker's key at `w`: 'alive' or 'gone' in every possible state, else 'either'. */
function status(wk: Worker, key: string, w: Window): 'alive' | 'gone' | 'either' {
  const seen = new Set(wk.states.map((st) => readable(st.get(key), w)));
  return seen.size === 1 ? [...seen][0] : 'either';
}

/** Reads every key of every worker (GET and PTTL, pipelined) and the whole key list from a server. */
async function readAll(
  c: RawClient,
  workers: readonly Worker[],
): Promise<{ w: Window; got: Map<string, [RespReply, RespReply]>; keys: string[] }> {
  const s = Date.now();
  const all = workers.flatMap((wk) => wk.keys);
  for (const k of all) {
    c.send('GET', Buffer.from(k, 'latin1'));
    c.send('PTTL', Buffer.from(k, 'latin1'));
  }
  c.send('KEYS', '*');
  const got = new Map<string, [RespReply, RespReply]>();
  for (const k of all)
    got.set(k, [await c.reply(`GET after the restart`, 10_000), await c.reply('PTTL after the restart', 10_000)]);
  const keys = await c.reply('KEYS * after the restart', 10_000);
  return { w: { s, r: Date.now() }, got, keys: Array.isArray(keys) ? (keys as string[]) : [] };
}

/** `states` with some, not all, of `keys` deleted: what a crash inside one multi-key DEL's log records can leave. */
function partlyDeleted(states: readonly State[], keys: readonly string[]): State[] {
  const out: State[] = [];
  for (let mask = 1; mask < (1 << keys.length) - 1; mask++)
    for (const st of states) {
      const copy = new Map(st);
      keys.forEach((k, i) => (mask & (1 << i)) !== 0 && copy.delete(k));
      out.push(copy);
    }
  return out;
}

/**
 * Fails unless each worker's keys, read after a restart, are its state after some cut between `lo` and `hi`, or
 * after such a cut with the next (unacknowledged) command, a multi-key DEL, cut inside its log records.
 */
function checkRestored(
  workers: readonly Worker[],
  bounds: ReadonlyArray<{ lo: number; hi: number }>,
  read: Awaited<ReturnType<typeof readAll>>,
  what: string,
  causes: string,
): void {
  const known = new Set(workers.flatMap((wk) => wk.keys));
  const foreign = read.keys.filter((k) => !known.has(k) && !/^(churn|probe|expiry):/.test(k));
  check(
    foreign.length === 0,
    `${what}: KEYS * lists ${foreign.length} key(s) no client ever wrote, e.g. ${foreign.slice(0, 3).map(showBytes).join(', ')}. ${causes}`,
  );
  workers.forEach((wk, i) => {
    const { lo, hi } = bounds[i];
    let first = '';
    const fits = (st: State) =>
      wk.keys
        .map((k) => [k, misfit(st.get(k), read.got.get(k)![0], read.got.get(k)![1], read.w)] as const)
        .filter(([, m]) => m !== undefined);
    for (let cut = hi; cut >= lo; cut--) {
      const before = wk.history[Math.min(cut, wk.history.length - 1)];
      const bads = before.map(fits);
      if (bads.some((b) => b.length === 0)) return;
      // The next command, unacknowledged if it is a multi-key DEL, may have been cut inside its records.
      const split = cut < hi ? wk.splits.get(cut + 1) : undefined;
      if (split !== undefined && partlyDeleted(before, split).some((st) => fits(st).length === 0)) return;
      const bad = bads[0];
      if (cut === lo || first === '')
        first = `${first ? `${first}; ` : ''}after its first ${cut} commands: ${bad
          .slice(0, 3)
          .map(([k, m]) => `${showBytes(k)} ${m}`)
          .join(', ')}`;
    }
    throw new TestFailure(
      `${what}: worker ${wk.id}'s keys match no moment of its history between its last acknowledged command (${lo}) and its last command sent (${hi}). ` +
        `Compared with the state ${first}. ${causes}`,
    );
  });
}

/** Whether loading the data folder `dir` must cut something off its log: a torn last record, or a transaction without EXEC. */
function loadCutsLog(dir: string): boolean {
  const file = path.join(dir, 'appendonly.aof');
  if (!fs.existsSync(file)) return false;
  const log = fs.readFileSync(file);
  const records = logRecords(log);
  const last = records[records.length - 1];
  return (
    (last?.end ?? 0) < log.length ||
    (last !== undefined && last.inTransaction && last.words[0].toUpperCase() !== 'EXEC')
  );
}

/** Writes a server restarted from a crash copy takes before it is killed again, and how often it then snapshots (ms). */
const AFTER_RESTART_WRITES = 200;
const AFTER_RESTART_SNAPSHOT_MS = 5;

const CRASH_CAUSES =
  'What kill -9 leaves must load: the snapshot (written aside, fsynced, renamed over the old one) and the log replayed after it, ' +
  'a torn last record cut off, a transaction without its EXEC record dropped whole. Every acknowledged write must be in the log before the reply ' +
  "is written (with fsync 'always'); records state results in absolute terms (SET key value PXAT <deadline>, DEL, FLUSHALL), never EXPIRE or INCR; " +
  'an EXEC writes its records between MULTI and EXEC records; the log is emptied only once the snapshot that holds its records is in place, ' +
  "and cut where that snapshot began (after a load that cut a torn tail off, the log's size is its size once cut); " +
  'keys and values are written as bytes (Buffers), never as UTF-8 text; a deadline is written as the 64-bit integer ' +
  'it is, not as its double says (PXAT 9223372036854775807 as a double is 2^63, which no loader takes).';

interface RoundPlan {
  readonly fsync: FsyncPolicy;
  readonly snapshotIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly workers: number;
  readonly phases: number;
}

function drawRound(rng: Rng, round: number): RoundPlan {
  return {
    fsync: round === 0 || rng.chance(0.6) ? 'always' : rng.pick(['everysec', 'no'] as const),
    snapshotIntervalMs: rng.between(15, 120),
    sweepIntervalMs: rng.chance(0.5) ? 60_000 : rng.between(20, 200),
    workers: rng.between(3, 4),
    phases: rng.between(2, 3),
  };
}

/** The keys live at `w` for sure (the probe's `extra` keys among them), and those that may be (expiring just then). */
function liveKeys(
  workers: readonly Worker[],
  extra: readonly string[],
  w: Window,
): { sure: Set<string>; maybe: Set<string> } {
  const sure = new Set<string>(extra);
  const maybe = new Set<string>();
  for (const wk of workers)
    for (const k of wk.keys) {
      const r = status(wk, k, w);
      if (r === 'alive') sure.add(k);
      else if (r === 'either') maybe.add(k);
    }
  return { sure, maybe };
}

/** Creates and deletes `width` keys `rounds` times on `churn`, pipelined a round at a time. */
async function churnKeys(churn: RawClient, rounds: number, width: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < width; j++) churn.send('SET', `churn:${i}:${j}`, 'x');
    for (let j = 0; j < width; j++) churn.send('DEL', `churn:${i}:${j - 2}`);
    for (let j = 0; j < 2 * width; j++) await churn.reply('a churn command', 10_000);
  }
}

/** A whole SCAN walk with COUNT `count`, checking each reply's shape; returns the keys it saw. */
async function walkScan(admin: RawClient, count: number, where: string): Promise<Set<string>> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let calls = 0; ; calls++) {
    check(
      calls < 2000,
      `${where}: a SCAN walk (COUNT ${count}) did not end after 2000 calls: it must come back to cursor 0.`,
    );
    const got = await admin.call('SCAN', cursor, 'COUNT', count);
    check(
      Array.isArray(got) && got.length === 2 && Array.isArray(got[1]),
      `${where}: SCAN ${cursor} COUNT ${count} replied ${showBytes(got as RespReply)}; expected [cursor, [keys]].`,
    );
    const [next, keys] = got as [string, string[]];
    check(
      keys.length <= count,
      `${where}: SCAN ${cursor} COUNT ${count} returned ${keys.length} keys: each call looks at up to COUNT keys.`,
    );
    for (const k of keys) seen.add(k);
    cursor = next;
    if (cursor === '0') break;
  }
  return seen;
}

/** The walk saw every key alive for its whole window, and none gone before it began. */
function checkWalkSaw(workers: readonly Worker[], seen: Set<string>, walk: Window, count: number, where: string): void {
  for (const wk of workers)
    for (const k of wk.keys) {
      if (status(wk, k, { s: walk.r, r: walk.r }) === 'alive' && status(wk, k, walk) === 'alive')
        check(
          seen.has(k),
          `${where}: a SCAN walk (COUNT ${count}, while another connection created and deleted keys) never returned ${showBytes(k)}, which existed for the whole walk. A cursor must survive deletions: number the keys as they are created and let the cursor be the number to go on from.`,
        );
      if (status(wk, k, walk) === 'gone')
        check(
          !seen.has(k),
          `${where}: a SCAN walk returned ${showBytes(k)}, which was deleted or had expired before the walk began.`,
        );
    }
}

/**
 * SCAN while another connection creates and deletes keys: every key present for the whole walk is returned. The
 * churn is sometimes heavy (hundreds of keys created and deleted), so that a store that tidies up its deleted keys
 * does so during the walk.
 */
async function scanWalk(
  admin: RawClient,
  churn: RawClient,
  workers: readonly Worker[],
  rng: Rng,
  where: string,
): Promise<void> {
  const count = rng.between(1, 15);
  const rounds = rng.chance(0.5) ? 6 : rng.between(10, 40);
  const width = rng.between(5, 25);
  const s0 = Date.now();
  const churning = churnKeys(churn, rounds, width);
  const seen = await walkScan(admin, count, where);
  const walk = { s: s0, r: Date.now() };
  await churning;
  checkWalkSaw(workers, seen, walk, count, where);
  for (let i = 0; i < rounds; i++) churn.send('DEL', ...Array.from({ length: width }, (_, j) => `churn:${i}:${j}`));
  for (let i = 0; i < rounds; i++) await churn.reply('DEL churn', 10_000);
}

/** DBSIZE and KEYS agree with the model (keys whose deadline falls inside the window may be either way). */
async function keysAndSize(
  admin: RawClient,
  workers: readonly Worker[],
  extra: readonly string[],
  rng: Rng,
  where: string,
): Promise<void> {
  const s1 = Date.now();
  const size = await admin.call('DBSIZE');
  const keys = await admin.call('KEYS', '*');
  const w = { s: s1, r: Date.now() };
  const { sure, maybe } = liveKeys(workers, extra, w);
  check(
    typeof size === 'number' && size >= sure.size && size <= sure.size + maybe.size,
    `${where}: DBSIZE replied ${showBytes(size)}; the clients' writes leave ${sure.size} live keys${maybe.size ? ` (and ${maybe.size} expiring just now)` : ''}. ` +
      'Expired keys must not be counted, deleted keys must be gone, and every SET, DEL, EXPIRE <= 0 and FLUSHDB counted exactly once.',
  );
  const listed = new Set(Array.isArray(keys) ? (keys as string[]) : []);
  const missing = [...sure].filter((k) => !listed.has(k));
  const unwanted = [...listed].filter((k) => !sure.has(k) && !maybe.has(k));
  check(
    missing.length === 0 && unwanted.length === 0,
    `${where}: KEYS * ${missing.length ? `left out ${missing.length} live key(s), e.g. ${missing.slice(0, 3).map(showBytes).join(', ')}` : ''}${missing.length && unwanted.length ? ' and ' : ''}${unwanted.length ? `listed ${unwanted.length} key(s) that are deleted or expired, e.g. ${unwanted.slice(0, 3).map(showBytes).join(', ')}` : ''}.`,
  );
  await keysPatternCheck(admin, workers, extra, rng, where);
}

/** KEYS w<id>:* for a worker drawn from `rng` lists its live keys that match, and no others. */
async function keysPatternCheck(
  admin: RawClient,
  workers: readonly Worker[],
  extra: readonly string[],
  rng: Rng,
  where: string,
): Promise<void> {
  const wk = rng.pick(workers);
  const pattern = `w${wk.id}:*`;
  const some = await admin.call('KEYS', pattern);
  const w2 = { s: Date.now(), r: Date.now() };
  const want = [...liveKeys(workers, extra, w2).sure].filter((k) => globMatch(pattern, k));
  const got = new Set(Array.isArray(some) ? (some as string[]) : []);
  check(
    want.every((k) => got.has(k)) && [...got].every((k) => globMatch(pattern, k)),
    `${where}: KEYS ${pattern} replied ${got.size} keys; expected the ${want.length} live keys that match the pattern (globMatch), and no others.`,
  );
}

/** FLUSHDB now and then (and a malformed one, which changes nothing); `flushed` is called after an acknowledged one. */
async function flushNowAndThen(
  admin: RawClient,
  workers: readonly Worker[],
  rng: Rng,
  where: string,
  probe: Probe,
  flushed: () => Promise<void>,
): Promise<void> {
  if (rng.chance(0.3)) {
    const bad = await admin.call('FLUSHDB', 'junk');
    check(
      bad instanceof RespError && bad.message.startsWith('ERR syntax error'),
      `${where}: FLUSHDB junk replied ${showBytes(bad)}; expected ERR syntax error (and nothing flushed).`,
    );
  }
  if (rng.chance(0.5)) {
    for (const k of workers) k.sending();
    probe.bases.push([monotonicMicros(), probe.n]);
    probe.base = probe.n;
    const ok = await admin.call('FLUSHDB');
    check(ok === 'OK', `${where}: FLUSHDB replied ${showBytes(ok)}; expected OK.`);
    for (const k of workers) k.flushed();
    await flushed();
    await infoCheck(admin, workers, where, probe.n - probe.base);
  }
}

/**
 * The checks between phases, on a connection of its own, in an order drawn from the seed (each of them may find
 * expired keys the others would have removed first): a SCAN walk while other keys churn; DBSIZE and KEYS; INFO. Then
 * now and then FLUSHDB, after which `flushed` is called (the crash copy of an acknowledged FLUSHDB).
 */
async function barrier(
  res: Resources,
  port: number,
  workers: readonly Worker[],
  rng: Rng,
  where: string,
  probe: Probe,
  flushed: () => Promise<void>,
  bounded: boolean,
): Promise<void> {
  const extra = Array.from({ length: probe.n - probe.base }, (_, i) => `probe:${probe.base + i}`);
  const admin = await res.connect(port, 'latin1');
  const churn = await res.connect(port, 'latin1');
  const checks = shuffled(rng, [
    () => scanWalk(admin, churn, workers, rng, where),
    () => keysAndSize(admin, workers, extra, rng, where),
    () => infoCheck(admin, workers, where, probe.n - probe.base),
    () => expiryCheck(admin, rng, where),
    ...(bounded ? [() => queueBound(res, port, where), () => slowReader(res, port, rng, where)] : []),
  ]);
  for (const run of checks) await run();
  await flushNowAndThen(admin, workers, rng, where, probe, flushed);
  admin.close();
  churn.close();
}

/**
 * Keys of its own that expire on the idle server, in two groups. The first expires, is looked for with EXISTS (not
 * found) and then INFO's expired_keys must have grown by its number (each removed once, on access or by a sweep),
 * while db0:keys counts the second, not yet due. Then the second expires unread, and KEYS must not list it nor INFO
 * count it (whichever looks first), EXISTS must not find it, and expired_keys grows by its number too.
 */
async function expiryCheck(admin: RawClient, rng: Rng, where: string): Promise<void> {
  const stats = async (): Promise<ServerStats> => {
    const info = await admin.call('INFO');
    try {
      return parseStats(String(info));
    } catch (e) {
      throw new TestFailure(
        `${where}: INFO replied ${showBytes(info)}, which parseStats cannot read: ${(e as Error).message}.`,
      );
    }
  };
  const group = (tag: string) =>
    Array.from({ length: rng.between(2, 4) }, (_, i) => `expiry:${tag}:${rng.int(1e6)}:${i}`);
  const first = group('a');
  const second = group('b');
  const before = await stats();
  for (const k of first) admin.send('SET', k, 'soon gone', 'PX', rng.between(5, 25));
  for (const k of second) admin.send('SET', k, 'gone a little later', 'PX', rng.between(150, 200));
  for (const k of [...first, ...second]) {
    const ok = await admin.reply(`SET ${k} PX`, 10_000);
    check(ok === 'OK', `${where}: SET ${k} ... PX replied ${showBytes(ok)}; expected OK.`);
  }
  // Every deadline is at most PX after the last reply arrived (the server set it before answering), whatever the load.
  const acked = Date.now();
  await realSleep(60);
  const counted = (group: string[], from: ServerStats, to: ServerStats, how: string): void =>
    check(
      to.expiredKeys >= from.expiredKeys + group.length,
      `${where}: INFO said expired_keys:${from.expiredKeys}, then ${group.length} keys of the test's own expired and were looked for (${how}); INFO then said expired_keys:${to.expiredKeys}, expected at least ${from.expiredKeys + group.length}. ` +
        'expired_keys counts every key removed because it expired, whether a command found it expired (on access) or the sweep removed it.',
    );
  const gone = async (group: string[], what: string): Promise<void> => {
    const found = await admin.call('EXISTS', ...group);
    check(
      found === 0,
      `${where}: EXISTS of ${group.length} keys set with ${what} replied ${showBytes(found)}; expected 0 (they had expired).`,
    );
  };
  await gone(first, 'PX 5-25, 60 ms earlier');
  const middle = await stats();
  counted(first, before, middle, 'EXISTS');
  // Nothing else runs: the keys can only have grown by the second group (and shrunk by keys expiring meanwhile).
  check(
    middle.keys <= before.keys + second.length,
    `${where}: INFO said db0:keys=${before.keys}; then ${first.length} keys were set with PX 5-25 and ${second.length} with PX 150-200, and the first ${first.length} expired (EXISTS did not find them). ` +
      `INFO now says db0:keys=${middle.keys}, more than ${before.keys + second.length}: expired keys must never be counted, even before the sweep removed them.`,
  );
  await realSleep(Math.max(0, acked + 260 - Date.now()));
  const listed = async (): Promise<void> => {
    const got = await admin.call('KEYS', 'expiry:*');
    check(
      Array.isArray(got) && got.length === 0,
      `${where}: keys of the test's own were set with PX 150-200 and not touched; 260 ms later KEYS expiry:* listed ${showBytes(got)}. ` +
        'An expired key must never be visible, even before the sweep removed it: KEYS must leave out (or first remove) keys whose deadline has passed.',
    );
  };
  const infoFirst = rng.chance(0.5);
  if (!infoFirst) await listed();
  const late = await stats();
  check(
    late.keys <= before.keys,
    `${where}: INFO said db0:keys=${before.keys}; then keys of the test's own were set with PX 5-200 and all of them expired (260 ms ago at most), nothing else running. ` +
      `INFO now says db0:keys=${late.keys}, more than ${before.keys}: expired keys must never be counted, even before the sweep removed them.`,
  );
  if (infoFirst) await listed();
  await gone(second, 'PX 150-200, 260 ms earlier');
  // Against the count before both groups: on a loaded machine the second group may have expired, and been counted,
  // before the INFO after the first group's EXISTS was served.
  counted(
    [...first, ...second],
    before,
    await stats(),
    `EXISTS, then ${infoFirst ? 'INFO, KEYS, EXISTS' : 'KEYS, INFO, EXISTS'}`,
  );
}

/** The slow reader's load: ECHOs of 64 kB, pipelined, 32 MB of replies in all (as TestSlowReader). */
const SLOW_ECHOS = 512;
const SLOW_ECHO_BYTES = 65_536;

/**
 * A client that pipelines 32 MB of ECHOs and reads none of the replies (memory bounded per client): the server must
 * stop reading from it, so that part of what it sent stays unsent, while another connection is served; once it reads,
 * every reply comes in order, or the connection is closed (an output limit, as Redis has).
 */
async function slowReader(res: Resources, port: number, rng: Rng, where: string): Promise<void> {
  const other = await res.connect(port, 'latin1');
  const greedy = await res.connect(port, 'latin1');
  greedy.socket.pause(); // reads nothing: the replies pile up on the server's side
  const payload = randomBytes(rng, 64).repeat(SLOW_ECHO_BYTES / 64);
  const echo = encodeCommand(['ECHO', Buffer.from(payload, 'latin1')]);
  for (let i = 0; i < SLOW_ECHOS; i++) greedy.sendRaw(echo);
  // Until the server stops taking its commands (what is unsent stays put for half a second) or has taken them all.
  let unsent = greedy.socket.writableLength;
  let stillFor = 0;
  for (let waited = 0; waited < 15_000 && unsent > 0 && stillFor < 500; waited += 100) {
    await realSleep(100);
    stillFor = greedy.socket.writableLength === unsent ? stillFor + 100 : 0;
    unsent = greedy.socket.writableLength;
  }
  const pong = await other.call('PING');
  check(
    pong === 'PONG',
    `${where}: while a client did not read its replies, another connection's PING got ${showBytes(pong)}; expected PONG.`,
  );
  check(
    greedy.closed || unsent > 0,
    `${where}: a client pipelined ${SLOW_ECHOS} ECHOs of 64 kB (${((SLOW_ECHOS * echo.length) / 1e6).toFixed(0)} MB) and read none of the replies, yet the server read every one of those commands: ` +
      'their replies had to be kept in its memory, and a client that never reads can take the whole process. Backpressure: before running each command, look at the replies not yet sent ' +
      "(those being collected plus socket.writableLength); past about 1 MB stop, socket.pause(), and on 'drain' run the commands waiting in the parser, then socket.resume().",
  );
  greedy.socket.resume();
  for (let i = 0; i < SLOW_ECHOS; i++) {
    const r = await greedy.replyOrClose(10_000);
    if (r === 'closed') break; // an output limit closed it: allowed, as in Redis
    if (r === 'timeout')
      throw new TestFailure(
        `${where}: the client that had not read its replies started reading: after ${i} of ${SLOW_ECHOS} replies, nothing came for 10 s. After a pause for backpressure, resume at 'drain' and run the commands still waiting in the parser.`,
      );
    if (r.reply !== payload)
      throw new TestFailure(
        `${where}: reply ${i + 1} of ${SLOW_ECHOS} to a slow reader's ECHO <64 kB> was ${showBytes(r.reply).slice(0, 60)}; expected the 64 kB it sent, replies in request order.`,
      );
  }
  greedy.close();
  other.close();
}

/** PINGs per write when queueBound fills a transaction. */
const QUEUE_PACKET = 1000;

/**
 * A client that queues more commands in one transaction than the handout allows (memory bounded per client): each of
 * the first 100,000 is QUEUED, the next is refused with an error, EXEC aborts, and the connection still serves.
 */
async function queueBound(res: Resources, port: number, where: string): Promise<void> {
  const c = await res.connect(port, 'latin1');
  c.send('MULTI');
  // Pipelined in packets of QUEUE_PACKET PINGs, as a client that pipelines sends them (one write each).
  for (let sent = 0; sent <= MULTI_MAX_COMMANDS; sent += QUEUE_PACKET)
    c.sendAll(Array.from({ length: Math.min(QUEUE_PACKET, MULTI_MAX_COMMANDS + 1 - sent) }, () => ['PING']));
  c.send('EXEC');
  c.send('PING');
  const ok = await c.reply('MULTI', 10_000);
  check(ok === 'OK', `${where}: MULTI replied ${showBytes(ok)}; expected OK.`);
  for (let i = 1; i <= MULTI_MAX_COMMANDS + 1; i++) {
    const got = await c.reply(`PING number ${i} inside MULTI`, 20_000);
    const past = i > MULTI_MAX_COMMANDS;
    if (past ? !(got instanceof RespError) : got !== 'QUEUED')
      throw new TestFailure(
        `${where}: a client sent MULTI, then ${MULTI_MAX_COMMANDS + 1} PINGs, then EXEC; PING number ${i} was answered ${showBytes(got)}, expected ${past ? 'an error (the queue is full: the handout bounds a transaction to 100,000 commands and 128 MiB of words)' : 'QUEUED'}. ` +
          'Without the bound one client grows the server without limit; the command that would pass it is refused, which makes EXEC abort, and the connection stays open.',
      );
  }
  const exec = await c.reply('EXEC', 20_000);
  check(
    exec instanceof RespError && exec.message.startsWith('EXECABORT'),
    `${where}: EXEC of a transaction whose ${MULTI_MAX_COMMANDS + 1}th command was refused (the queue was full) replied ${showBytes(exec)}; expected EXECABORT: a refused command makes the whole transaction abort.`,
  );
  const pong = await c.reply('PING after EXEC', 10_000);
  check(pong === 'PONG', `${where}: PING after the aborted transaction replied ${showBytes(pong)}; expected PONG.`);
  c.close();
}

/** INFO, twice in a row on an idle server: it counts itself, and its keyspace line agrees with the model. */
async function infoCheck(admin: RawClient, workers: readonly Worker[], where: string, extra: number): Promise<void> {
  const s = Date.now();
  const a = await admin.call('INFO');
  const b = await admin.call('INFO');
  const w = { s, r: Date.now() };
  let first: ServerStats;
  let second: ServerStats;
  try {
    first = parseStats(String(a));
    second = parseStats(String(b));
  } catch (e) {
    throw new TestFailure(
      `${where}: INFO replied ${showBytes(a)}, which parseStats cannot read: ${(e as Error).message}.`,
    );
  }
  const expired = workers.reduce((n, wk) => n + wk.expiredSeen.size, 0);
  check(
    second.expiredKeys >= expired,
    `${where}: INFO said expired_keys:${second.expiredKeys}, but GET, TTL, PTTL or EXISTS found at least ${expired} keys after their deadline had passed. ` +
      'Each of them was removed because it expired, on that access or by the sweep before it, and expired_keys counts every such removal, on access as well as by the sweep, since the server started.',
  );
  check(
    second.totalCommands === first.totalCommands + 1,
    `${where}: two INFOs in a row, with nothing else running, said total_commands_processed ${first.totalCommands} then ${second.totalCommands}; ` +
      'the second must be one more (every executed command counts, INFO included).',
  );
  let sure = extra;
  let maybe = 0;
  let sureTtl = 0;
  let maybeTtl = 0;
  for (const wk of workers)
    for (const k of wk.keys) {
      const seen = wk.states.map((st) => {
        const e = st.get(k);
        return { r: readable(e, w), ttl: e?.dlo !== undefined };
      });
      if (seen.every((x) => x.r === 'alive')) sure++;
      else if (seen.some((x) => x.r !== 'gone')) maybe++;
      if (seen.every((x) => x.r === 'alive' && x.ttl)) sureTtl++;
      else if (seen.some((x) => x.r !== 'gone' && x.ttl)) maybeTtl++;
    }
  check(
    second.keys >= sure &&
      second.keys <= sure + maybe &&
      second.keysWithTtl >= sureTtl &&
      second.keysWithTtl <= sureTtl + maybeTtl,
    `${where}: INFO said db0:keys=${second.keys},expires=${second.keysWithTtl}; the clients' writes leave ${sure} live keys, ${sureTtl} of them with a TTL` +
      `${maybe + maybeTtl > 0 ? ` (and ${maybe} whose deadline is just now)` : ''}. Expired keys must not be counted, even before the sweep removed them.`,
  );
  if (sure + maybe === 0)
    check(
      !/^db0:/m.test(String(b)),
      `${where}: the store is empty, but INFO has a db0 line; leave it out when there are no keys, as Redis does.`,
    );
}

/** A round under way: its plan, its server and workers, the probe's writes and the disk nemesis copying the folder. */
interface RoundWorld {
  readonly rng: Rng;
  readonly plan: RoundPlan;
  readonly dataDir: string;
  readonly where: string;
  /** The phase under way (0, 1, ...). */
  readonly at: { phase: number };
  /** Where the round is, for a message. */
  readonly here: () => string;
  readonly workers: readonly Worker[];
  readonly probe: Probe;
  /** fsync 'always': the probe writes, and acknowledged writes must survive a crash. */
  readonly always: boolean;
  /** The probe keys acknowledged now (after a FLUSHDB, from then on). */
  readonly probeMark: () => ProbeMark;
  readonly disk: RemoteDiskNemesis;
  readonly server: RunningServer;
  /** When the workers began to connect (ms since the epoch). */
  readonly t0: number;
}

/** Draws the round's plan and workers, installs the disk nemesis on a fresh folder, starts the server and connects. */
async function startRound(res: Resources, ctx: Ctx, round: number): Promise<RoundWorld> {
  const rng = keyedRng(ctx.seed, `lab5-nemesis-round-${round}`);
  const plan = drawRound(rng, round);
  const dataDir = res.tempDir();
  const where = `round ${round + 1} (fsync '${plan.fsync}', a snapshot every ${plan.snapshotIntervalMs} ms, sweep every ${plan.sweepIntervalMs} ms, ${plan.workers} connections)`;
  const at = { phase: 0 };
  const here = (): string => `${where}, phase ${at.phase + 1}`;
  const workers = Array.from(
    { length: plan.workers },
    (_, i) => new Worker(i, workerKeys(rng, i, plan.workers), res, here),
  );
  const probe: Probe = { conn: undefined, n: 0, base: 0, paused: true, sentAt: [], ackedAt: [], bases: [] };
  const always = plan.fsync === 'always';
  const probeMark = (): ProbeMark =>
    always ? { base: probe.base, acked: probe.n + ((probe.conn?.buffered ?? 0) > 0 ? 1 : 0) } : { base: 0, acked: 0 };
  // In the student host, beside the server: at most 6 copies at writes, 2 at probe replies, one per FLUSHDB and the last.
  const disk = await res.diskNemesis(dataDir, ctx.seed, `lab5-nemesis-disk-${round}`, 6, 6 + 2 + plan.phases + 1);
  const options = {
    dataDir,
    fsync: plan.fsync,
    snapshotIntervalMs: plan.snapshotIntervalMs,
    sweepIntervalMs: plan.sweepIntervalMs,
  };
  const server = await res.server(options);
  const t0 = Date.now();
  for (const w of workers) await w.connect(server.port);
  if (always) {
    probe.conn = await res.connect(server.port, 'latin1');
    await disk.watchProbe(server.port, probe.conn.socket.localPort!);
  }
  return { rng, plan, dataDir, where, at, here, workers, probe, always, probeMark, disk, server, t0 };
}

/** SET probe:<n> one at a time until the workers are done. */
async function probing(rw: RoundWorld, done: () => boolean): Promise<void> {
  const { probe } = rw;
  while (rw.always && !done()) {
    probe.conn!.send('SET', `probe:${probe.n}`, `p${probe.n}`);
    probe.sentAt.push(monotonicMicros());
    const got = await probe.conn!.reply(`SET probe:${probe.n} p${probe.n}`);
    probe.ackedAt.push(monotonicMicros());
    check(got === 'OK', `${rw.here()}: SET probe:${probe.n} p${probe.n} replied ${showBytes(got)}; expected OK.`);
    probe.n++;
    await realSleep(2);
  }
}

/** One worker's part of a phase: four steps drawn from `wr`, each a batch, transactions, a QUIT inside MULTI or a pause. */
async function workerSteps(w: Worker, wr: Rng, port: number): Promise<void> {
  for (let b = 0; b < 4; b++) {
    const r = wr.int(10);
    if (r < 5) await w.batch(wr, wr.between(1, 25));
    else if (r < 8) await w.transactions(wr, wr.between(1, 3), wr.chance(0.3) ? 150 : 12);
    else if (r === 8 && wr.chance(0.5)) await w.quitInMulti(wr, port);
    else await realSleep(wr.between(5, 60)); // let short TTLs run out and a snapshot start
  }
}

/** The round's phases: the workers at once (and the probe until they are done), then the checks between phases. */
async function runPhases(res: Resources, ctx: Ctx, round: number, rw: RoundWorld): Promise<void> {
  const { at, workers, server, disk } = rw;
  for (; at.phase < rw.plan.phases; at.phase++) {
    const phase = at.phase;
    let working = workers.length;
    await Promise.all([
      probing(rw, () => working === 0),
      ...workers.map(async (w) => {
        await workerSteps(w, keyedRng(ctx.seed, `lab5-nemesis-${round}-${phase}-${w.id}`), server.port);
        working--;
      }),
    ]);
    await barrier(
      res,
      server.port,
      workers,
      rw.rng,
      rw.here(),
      rw.probe,
      async () => {
        if (rw.always) await disk.copyNow('just after FLUSHDB was acknowledged');
      },
      round === 0 && phase === 0,
    );
  }
}

/** One last write, then at once the copy (kill -9 now) and a clean close: what close() writes must hold it. Returns when. */
async function lastWriteThenClose(ctx: Ctx, rw: RoundWorld): Promise<{ t1: number; points: CrashPoint[] }> {
  const { rng, workers, disk } = rw;
  const last = workers[rng.int(workers.length)];
  await last.write(['SET', last.keys[rng.int(last.keys.length)], `last:${rng.int(1e6)}`]);
  const t1 = Date.now();
  await disk.copyNow('after the last acknowledged reply');
  const { summary, points } = await disk.report();
  await disk.stop();
  ctx.log(
    `${rw.where}: ${workers.reduce((n, w) => n + w.sent, 0)} commands; disk: ${summary}; ${points.length} crash copies`,
  );
  for (const w of workers) w.conn?.close();
  rw.probe.conn?.close();
  await rw.server.close();
  return { t1, points: points.map((p) => crashPoint(rw, p)) };
}

/** A copy the disk nemesis took, with how far each worker and the probe had got then (from when they sent and took what). */
function crashPoint(rw: RoundWorld, p: NemesisCopy): CrashPoint {
  return {
    dir: p.dir,
    what: p.what,
    marks: rw.workers.map((w) => w.markAt(p.from, p.to)),
    probe: rw.always ? probeMarkAt(rw.probe, p.from, p.to, p.probeReply) : { base: 0, acked: 0 },
  };
}

/** A record in the middle of the longest log among the copies, damaged: corruption, which must stop the start. */
async function checkDamagedCopy(
  res: Resources,
  ctx: Ctx,
  round: number,
  rw: RoundWorld,
  points: readonly CrashPoint[],
): Promise<void> {
  const damaged = longestLog(points.map((p) => p.dir));
  if (damaged === undefined) return;
  const tried = await checkDamagedLogs(
    res,
    damaged,
    { fsync: rw.plan.fsync, snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 },
    keyedRng(ctx.seed, `lab5-nemesis-damage-${round}`),
    `${rw.where}: a crash copy`,
  );
  ctx.log(`${rw.where}: ${tried} damaged copies of a crash copy's log, each refused`);
}

/** Each copy is what kill -9 would have left: restart on it, compare, write once more, restart again. */
async function checkCrashCopies(res: Resources, rw: RoundWorld, points: readonly CrashPoint[]): Promise<void> {
  const { plan } = rw;
  for (const p of points) {
    const bounds = p.marks.map((m) => ({ lo: plan.fsync === 'always' ? m.acked : 0, hi: m.sent }));
    const what = `${rw.where}: after a crash ${p.what}`;
    await restartAndCheck(res, p.dir, plan, rw.workers, bounds, what, p.probe);
  }
}

/** The bytes of keys and values a state holds, with a few for each entry's deadline and framing. */
function stateBytes(state: State): number {
  let bytes = 0;
  for (const [k, e] of state) bytes += k.length + e.value.length + 32;
  return bytes;
}

/**
 * The clean close kept everything. close() writes a final snapshot, and a snapshot in place empties the log: the
 * folder holds about the live data, not the history of every write; the snapshot alone (the log removed) holds
 * everything, and so does the folder as close() left it.
 */
async function checkCleanClose(res: Resources, rw: RoundWorld): Promise<void> {
  const { dataDir, where, plan, workers } = rw;
  const log = path.join(dataDir, 'appendonly.aof');
  const left = fs.existsSync(log) ? fs.statSync(log).size : 0;
  check(
    left === 0,
    `${where}: after close(), appendonly.aof still holds ${left} bytes. close() flushes the log and writes a final snapshot, and once a snapshot is in place the log is emptied ` +
      '(only records appended while it was written are kept, and none can arrive after close()). Likely causes: close() that writes no final snapshot, a snapshot that never cuts the log, or a log cut to the size it had when the snapshot began though nothing came since.',
  );
  const live = workers.reduce((sum, w) => sum + Math.max(0, ...(w.history.at(-1) ?? []).map(stateBytes)), 0);
  const onDisk = folderBytes(dataDir);
  const bound = closedFolderBound(live);
  check(
    onDisk <= bound,
    `${where}: after close(), the data folder holds ${onDisk} bytes for ${live} bytes of live keys and values (at most ${bound}): ` +
      'the final snapshot replaces what came before it. Likely causes: a snapshot that keeps old values or deleted keys, old snapshots or logs left beside it (or moved aside under another name), or a log that is never cut.',
  );
  const all = workers.map((w) => ({ lo: w.history.length, hi: w.history.length }));
  const snapshotOnly = res.tempDir();
  copyFolder(dataDir, snapshotOnly);
  fs.rmSync(path.join(snapshotOnly, 'appendonly.aof'), { force: true });
  await restartAndCheck(
    res,
    snapshotOnly,
    plan,
    workers,
    all,
    `${where}: after close() and a restart from the snapshot alone (appendonly.aof removed)`,
    rw.probeMark(),
  );
  await restartAndCheck(res, dataDir, plan, workers, all, `${where}: after close() and a restart`, rw.probeMark());
}

/** One round: a fresh server on a fresh folder, phases of concurrent workloads with checks between, then the crash checks. */
async function serverRound(res: Resources, ctx: Ctx, round: number): Promise<void> {
  const rw = await startRound(res, ctx, round);
  await runPhases(res, ctx, round, rw);
  const { t1, points } = await lastWriteThenClose(ctx, rw);
  await checkDamagedCopy(res, ctx, round, rw, points);
  await checkCrashCopies(res, rw, points);
  await checkCleanClose(res, rw);
  const policy = policyOfRound(ctx.seed, round);
  const fsyncs = await checkPolicyRound(res, policy, keyedRng(ctx.seed, `lab5-nemesis-policy-${round}`), rw.where);
  ctx.log(`${rw.where}: workload ${t1 - rw.t0} ms, crash checks ${Date.now() - t1} ms; its fsync check: ${fsyncs}`);
}

/** Of the data folders `dirs`, the one whose appendonly.aof holds the most complete records (undefined: none has any). */
function longestLog(dirs: readonly string[]): string | undefined {
  let best: { dir: string; n: number } | undefined;
  for (const dir of dirs) {
    const file = path.join(dir, 'appendonly.aof');
    if (!fs.existsSync(file)) continue;
    const n = logRecords(fs.readFileSync(file)).length;
    if (best === undefined || n > best.n) best = { dir, n };
  }
  return best?.dir;
}

/** A SCAN walk on an idle server returns every key KEYS * lists before and after it (keys loaded at a restart included). */
async function scanMatchesKeys(c: RawClient, keys: readonly string[], what: string): Promise<void> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let calls = 0; calls < 5000; calls++) {
    const got = await c.call('SCAN', cursor, 'COUNT', 7);
    if (!Array.isArray(got) || got.length !== 2 || !Array.isArray(got[1])) break;
    for (const k of got[1] as string[]) seen.add(k);
    cursor = String(got[0]);
    if (cursor === '0') break;
  }
  // Only keys present for the whole walk count: one whose TTL ran out during it may be left out.
  const after = await c.call('KEYS', '*');
  const stayed = new Set(Array.isArray(after) ? (after as string[]) : keys);
  const missing = keys.filter((k) => !seen.has(k) && stayed.has(k) && !/^(churn|expiry):/.test(k));
  check(
    cursor === '0' && missing.length === 0,
    `${what}: a SCAN walk (COUNT 7, nothing else running) ${cursor !== '0' ? 'did not come back to cursor 0' : `never returned ${missing.length} of the ${keys.length} keys KEYS * lists, e.g. ${missing.slice(0, 3).map(showBytes).join(', ')}`}. ` +
      'Every key present for the whole walk is returned, keys loaded from the data folder at a start included: give them their place in the scan order as they load.',
  );
}

/** Starts a server with `options`, or fails the test with `failed` (what was done, and that the server did not start). */
async function startOrFail(res: Resources, options: ServerOptions, failed: string): Promise<RunningServer> {
  try {
    return await res.server(options);
  } catch (e) {
    throw new TestFailure(`${failed}: ${e instanceof Error ? e.message : String(e)}. ${CRASH_CAUSES}`);
  }
}

/** Every SET probe:<n> acknowledged before a kill under fsync 'always' must have been restored. */
async function checkProbes(c: RawClient, probe: ProbeMark | undefined, what: string): Promise<void> {
  if (probe === undefined || probe.acked <= probe.base) return;
  for (let i = probe.base; i < probe.acked; i++) c.send('GET', `probe:${i}`);
  const lost: number[] = [];
  for (let i = probe.base; i < probe.acked; i++)
    if ((await c.reply(`GET probe:${i}`, 10_000)) !== `p${i}`) lost.push(i);
  check(
    lost.length === 0,
    `${what}: ${lost.length} acknowledged SET probe:<n> p<n> (sent one at a time on their own connection) were lost, e.g. probe:${lost[0]}. ` +
      "With fsync 'always' a write must be in the log and fsynced (fs.fsyncSync or a FileHandle's sync(), through the fs module) before its reply is written to the socket: a power cut keeps only what was fsynced. " +
      CRASH_CAUSES,
  );
}

/** The burst: AFTER_RESTART_WRITES pipelined SETs, each acknowledged, then a kill -9 copy of the folder (returned). */
async function burstThenCrashCopy(res: Resources, c: RawClient, dir: string, what: string): Promise<string> {
  for (let i = 0; i < AFTER_RESTART_WRITES; i++) c.send('SET', `after-restart:${i}`, `v${i}`);
  for (let i = 0; i < AFTER_RESTART_WRITES; i++) {
    const r = await c.reply(`SET after-restart:${i}`, 10_000);
    check(r === 'OK', `${what}: SET after-restart:${i} v${i} replied ${showBytes(r)}; expected OK.`);
  }
  return res.crashCopy(dir);
}

/**
 * After the second start: the marker stayed, and so did the burst's writes (all of them after a kill under fsync
 * 'always'; after a close, any that a policy other than 'always' may lose read as missing, not as another value).
 */
async function checkAfterRestart(c: RawClient, again2: string, burst: boolean, killed: boolean): Promise<void> {
  const again = await c.call('GET', 'after-restart');
  check(
    again === 'kept' || (burst && !killed && again === null), // fsync other than 'always': a kill may lose it
    `${again2}, and another restart: GET after-restart replied ${showBytes(again)}; expected "kept". ` +
      'When loading, cut a torn last record (or an unfinished transaction) off the log, or records appended after it cannot be read at the next start; ' +
      "and after that cut the log's size is its size once cut: a snapshot that later cuts the log at the size it had before drops the records appended since.",
  );
  if (!burst) return;
  for (let i = 0; i < AFTER_RESTART_WRITES; i++) c.send('GET', `after-restart:${i}`);
  const lost: number[] = [];
  for (let i = 0; i < AFTER_RESTART_WRITES; i++) {
    const got = await c.reply(`GET after-restart:${i}`, 10_000);
    if (got !== `v${i}` && (killed || got !== null)) lost.push(i);
  }
  check(
    lost.length === 0,
    `${again2}: before the kill, ${AFTER_RESTART_WRITES} pipelined SET after-restart:<n> v<n> were acknowledged while the server snapshotted every ${AFTER_RESTART_SNAPSHOT_MS} ms; ` +
      `after another restart ${lost.length} of them are lost, e.g. after-restart:${lost[0]}. A snapshot keeps the records appended while it was written: ` +
      "the log is cut where the snapshot began, an offset that must be the log's true size (after a load that cut a torn tail, the size once cut). " +
      CRASH_CAUSES,
  );
}

/** Starts a server on `dir`, checks the restored keys, then writes a marker, restarts again and checks it stayed. */
async function restartAndCheck(
  res: Resources,
  dir: string,
  plan: RoundPlan,
  workers: readonly Worker[],
  bounds: ReadonlyArray<{ lo: number; hi: number }>,
  what: string,
  probe: ProbeMark | undefined,
): Promise<void> {
  const opts = { dataDir: dir, fsync: plan.fsync, snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 };
  // Later: kill -9 (a copy of the folder), or a clean close. Before a kill, and whenever the load must cut a torn
  // tail off the log, the server first takes a burst of writes while it snapshots every few ms: the first snapshot
  // after such a load meets new records, which it must keep (the log cut at its true size).
  const killed = plan.fsync === 'always' && probe !== undefined;
  const burst = killed || loadCutsLog(dir);
  let s = await startOrFail(
    res,
    burst ? { ...opts, snapshotIntervalMs: AFTER_RESTART_SNAPSHOT_MS } : opts,
    `${what}, the server did not start`,
  );
  let c = await res.connect(s.port, 'latin1');
  const read = await readAll(c, workers);
  checkRestored(workers, bounds, read, what, CRASH_CAUSES);
  await scanMatchesKeys(c, read.keys, what);
  await checkProbes(c, probe, what);
  const marker = await c.call('SET', 'after-restart', 'kept');
  check(marker === 'OK', `${what}: SET after-restart kept replied ${showBytes(marker)}; expected OK.`);
  const from = burst ? await burstThenCrashCopy(res, c, dir, what) : dir;
  c.close();
  await s.close();
  const again2 = `${what}, then SET after-restart kept${burst ? `, ${AFTER_RESTART_WRITES} SETs while it snapshotted every ${AFTER_RESTART_SNAPSHOT_MS} ms` : ''} and ${burst ? 'kill -9' : 'close()'}`;
  s = await startOrFail(res, { ...opts, dataDir: from }, `${again2}: the server did not start again`);
  c = await res.connect(s.port, 'latin1');
  await checkAfterRestart(c, again2, burst, killed);
  c.close();
  await s.close();
}

export const nemesisRedis = realTest(
  'TestNemesisRedis',
  'random pipelines and transactions on several connections, judged by a model of Redis; the data folder copied at random disk writes (kill -9) must restart to an acknowledged state, a damaged log must stop the start; each round also checks one fsync policy',
  async (res, ctx) => {
    for (let round = 0; round < 3; round++) await serverRound(res, ctx, round);
  },
);

// ---------------------------------------------------------------------------------------------------------------
// The client attacker: a fake server that sends half a reply and stalls or closes, servers that restart.

/**
 * A fake Redis for the client: GET, SET and DEL on its own map, answered in order. While `faulty`, some replies are
 * broken: part of the reply, then the connection closes, or the rest comes late (after the client's timeout), or never
 * (the connection stalls), with the replies after it queued behind.
 */
class FlakyServer {
  private readonly rng: Rng;
  private readonly lateMs: number;
  readonly values = new Map<string, string>();
  readonly sockets = new Set<net.Socket>();
  faulty = false;
  faults = 0;
  port = 0;
  private tcp: net.Server | undefined;

  constructor(rng: Rng, lateMs: number) {
    this.rng = rng;
    this.lateMs = lateMs;
  }

  private answer(args: string[]): string {
    const [name, key, val] = args;
    const bulk = (v: string | undefined) => (v === undefined ? '$-1\r\n' : `$${v.length}\r\n${v}\r\n`);
    switch (name.toUpperCase()) {
      case 'GET':
        return bulk(this.values.get(key));
      case 'SET':
        this.values.set(key, val);
        return '+OK\r\n';
      case 'DEL':
        return `:${this.values.delete(key) ? 1 : 0}\r\n`;
      default:
        return `-ERR unknown command '${name}'\r\n`;
    }
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new RequestParser();
    let ready = Promise.resolve();
    let closing = false; // after half a reply and a close, nothing more is sent
    const write = (text: string) => void (socket.destroyed || closing || socket.write(text, 'latin1'));
    socket.on('data', (chunk) => {
      parser.push(chunk);
      for (let args = parser.next(); args !== undefined; args = parser.next()) {
        const a = this.answer(args);
        if (!this.faulty || !this.rng.chance(0.15)) {
          ready = ready.then(() => write(a));
          continue;
        }
        this.faults++;
        const cut = this.rng.between(1, a.length - 1);
        const how = this.rng.pick(['close', 'close', 'late', 'late', 'stall'] as const);
        const close = how === 'close';
        const pause = this.lateMs + this.rng.between(50, 250);
        ready = ready.then(async () => {
          write(a.slice(0, cut));
          // A stall: the rest never comes, nor any later reply on this connection (only a timeout gets out).
          if (how === 'stall') return new Promise<void>(() => undefined);
          if (!close) {
            await realSleep(pause);
            return write(a.slice(cut));
          }
          closing = true;
          setTimeout(() => socket.destroy(), this.rng.int(30));
        });
      }
    });
  }

  async start(res: Resources): Promise<void> {
    const tcp = net.createServer((socket) => this.serve(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    this.port = (tcp.address() as net.AddressInfo).port;
    res.defer(async () => {
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    });
  }
}

/** What a caller may see for a key: the values it may hold (several after a write whose outcome is unknown). */
type Possible = Set<string | null>;

/** Possible values, for a message. */
function showPossible(p: Possible): string {
  return [...p].map((x) => JSON.stringify(x)).join(' or ');
}

/** How the client test's calls may end in a phase: `faults`: ServerUnavailableError allowed; `exact`: DEL's result checked. */
interface ClientPhase {
  readonly name: string;
  readonly faults: boolean;
  readonly exact: boolean;
  readonly ops: number;
  /** Each caller waits this long (ms, a range) between its calls, so that the phase outlasts the client's timeout. */
  readonly pauseMs?: readonly [number, number];
  /** The restart phase's: when the first real server went down and came back up. */
  readonly outage?: Outage;
}

/** When the restarting server was closed (`from`) and listening again (`to`; undefined while it is down), real ms. */
interface Outage {
  from?: number;
  to?: number;
}

/**
 * Whether a call on the restarting server (`servers[0]`) that gave up at `failed` had done what a correct client does:
 * it gave up while the server was down (or as its last refused dial came back), and only after waiting out its
 * retries. A restart on a busy machine can outlast them.
 */
function gaveUpInOutage(o: Outage | undefined, server: number, t0: number, failed: number): boolean {
  if (o?.from === undefined || server !== 0) return false;
  const retriesWaited = failed - Math.max(t0, o.from) >= CLIENT_OPTIONS.retries * CLIENT_OPTIONS.retryDelayMs;
  return retriesWaited && failed <= (o.to ?? Infinity) + CLIENT_OPTIONS.timeoutMs;
}

/** How often TestNemesisClient's callers set the empty value. */
const EMPTY_VALUE_CHANCE = 0.1;

const MIXUP =
  'A reply went to the wrong caller. After a timeout or a broken connection, destroy that connection (failing the requests waiting on it, ' +
  'so that each is retried on a new one) and give the new connection a fresh reply parser: never keep the bytes of a half-received reply. ' +
  'Match replies to requests in order (FIFO).';

/** `items` in an order drawn from `rng` (Fisher-Yates, from the last place down). */
function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The client test's options: a short timeout, so that the phases outlast it. */
const CLIENT_OPTIONS = { timeoutMs: 400, retries: 3, retryDelayMs: 100 };

/** The client test's world: its servers (one a fake), the client under test, and each caller's keys with the values they may hold. */
interface ClientWorld {
  readonly rng: Rng;
  readonly fake: FlakyServer;
  readonly dirs: readonly string[];
  readonly real: RunningServer[];
  readonly ids: readonly number[];
  readonly servers: readonly ServerAddress[];
  readonly sharding: 'ring' | 'modulo';
  /** When the client retried (ms since the epoch). */
  readonly retries: number[];
  readonly client: RemoteClient;
  readonly where: string;
  readonly expected: (key: string) => number;
  readonly callerKeys: readonly string[][];
  readonly model: Map<string, Possible>;
  /** Calls that ended in ServerUnavailableError. */
  failures: number;
  /** The longest call of the current phase, ms. */
  slowest: number;
}

/** Starts the fake and two real servers, draws their ids, the sharding and each caller's keys, and opens the client. */
async function startClientWorld(res: Resources, ctx: Ctx): Promise<ClientWorld> {
  const rng = keyedRng(ctx.seed, 'lab5-nemesis-client');
  const options = CLIENT_OPTIONS;
  const fake = new FlakyServer(keyedRng(ctx.seed, 'lab5-nemesis-client-faults'), options.timeoutMs);
  await fake.start(res);
  const dirs = [res.tempDir(), res.tempDir()];
  // The first restarts on its port (restartPhase): one below the system's own range, never a client's local port.
  const real = [
    await res.server({ port: await freePort(), dataDir: dirs[0], fsync: 'always' }),
    await res.server({ dataDir: dirs[1], fsync: 'always' }),
  ];
  const base = rng.between(1, 50);
  const ids = [base, base + rng.between(1, 9), base + 10 + rng.between(1, 9)];
  const servers = [real[0].port, fake.port, real[1].port].map((port, i) => ({ id: ids[i], host: '127.0.0.1', port }));
  const sharding = rng.chance(0.5) ? ('ring' as const) : ('modulo' as const);
  const retries: number[] = [];
  const client = await res.client(servers, { ...options, sharding, onRetry: () => void retries.push(Date.now()) });
  const where =
    `(sharding '${sharding}', server ids ${ids.join(', ')}; timeoutMs ${options.timeoutMs}, 3 retries ${options.retryDelayMs} ms apart; ` +
    `the server with id ${ids[1]} is a fake that, in the fault phase, sends part of a reply and then closes the connection or sends the rest after the timeout)`;
  const expected = expectedPlacement(ids, sharding);
  const callerKeys = Array.from({ length: 24 }, (_, c) =>
    Array.from({ length: 4 }, (_, j) => (j === 3 ? `c${c}:ключ:${rng.int(1000)}` : `c${c}:${j}:${rng.int(1_000_000)}`)),
  );
  const model = new Map<string, Possible>(callerKeys.flat().map((k) => [k, new Set([null])]));
  const world = { rng, fake, dirs, real, ids, servers, sharding, retries, client, where, expected, callerKeys, model };
  return { ...world, failures: 0, slowest: 0 };
}

/** Each caller's keys are on the server the handout's placement names (indexFor). */
async function checkCallerPlacement(w: ClientWorld): Promise<void> {
  for (const k of w.callerKeys.flat()) {
    const want = w.expected(k);
    const got = await w.client.indexFor(k);
    check(
      got === want,
      `indexFor(${JSON.stringify(k)}) is ${got}; the handout's ${w.sharding === 'ring' ? 'ring (points at md5("server-<id>#<i>"), the first point at or after the key, wrapping around)' : 'md5(key) mod n'} puts it on server index ${want} ${w.where}.`,
    );
  }
}

/** Placement under both rules on many keys, and the ring over ids two of which tie on a point, given in either order. */
async function checkPlacementRules(res: Resources, w: ClientWorld): Promise<void> {
  const { rng, servers, client } = w;
  // Placement under both rules (whichever this run's client uses), on many keys: keys past the ring's last point,
  // keys at the very positions of ring points (their names are the points' texts), edge keys.
  const manyKeys = [
    ...EDGE_KEYS,
    ...STRANGE_KEYS,
    ...w.ids.flatMap((id) => [0, 1, 79, 158, 159].map((i) => `server-${id}#${i}`)),
    ...Array.from({ length: 3000 }, (_, i) => `k${i}:${rng.int(1e9)}`),
  ];
  // Then the ring over ids two of which have a point at the same position (a tie: the lower id owns it), given in
  // an order drawn from the seed and in the reverse order, with keys named exactly like the tied points.
  const [a, ia, b, ib] = rng.pick(TIED_POINTS);
  const tiedIds = shuffled(rng, [...new Set([a, b, rng.between(1, 3000)])]);
  const tiedServers = tiedIds.map((id) => ({ id, host: '127.0.0.1', port: servers[0].port }));
  const tiedKeys = [`server-${a}#${ia}`, `server-${b}#${ib}`, ...manyKeys.slice(0, 500)];
  for (const [rule, list, keys] of [
    ['ring', servers, manyKeys],
    ['modulo', servers, manyKeys],
    ['ring', tiedServers, tiedKeys],
    ['ring', [...tiedServers].reverse(), tiedKeys],
  ] as const) {
    const idList = list.map((s) => s.id);
    const probe =
      rule === w.sharding && list === servers ? client : await res.client(list, { ...CLIENT_OPTIONS, sharding: rule });
    const place = expectedPlacement(idList, rule);
    const indexes = await Promise.all(keys.map((k) => probe.indexFor(k)));
    const wrong = keys.filter((k, i) => indexes[i] !== place(k));
    check(
      wrong.length === 0,
      `With sharding '${rule}' and server ids ${idList.join(', ')}${list !== servers ? ` (nodes ${a} and ${b} each have a point at the same position: "server-${a}#${ia}" and "server-${b}#${ib}" start alike; the lower id owns it)` : ''}, indexFor puts ${wrong.length} of ${keys.length} keys on another server than the handout's rule, ` +
        `e.g. indexFor(${JSON.stringify(wrong[0])}) is ${wrong.length ? indexes[keys.indexOf(wrong[0])] : ''}, expected ${wrong.length ? place(wrong[0]) : ''}. ` +
        (rule === 'ring'
          ? 'The ring: 160 points per node at the first 32 bits of md5("server-<id>#<i>") (not the whole digest); a key goes to the first point at or after its own position (a point exactly there counts), wrapping around past the last point; ' +
            'two nodes on the same point: the lower id first, whatever order the nodes were given in (sort by position, then id); ids are ids, not positions in the list.'
          : 'md5 mod n: the whole 128-bit digest of the UTF-8 bytes, as a BigInt, modulo the number of servers.'),
    );
    if (probe !== client) await probe.close();
  }
}

/** Caller `c`'s call `i` in `phase`: a set, get or del of one of its keys, checked against what the key may hold. */
async function clientCall(w: ClientWorld, phase: ClientPhase, c: number, i: number, r: Rng): Promise<void> {
  const { client, model, where } = w;
  const k = r.pick(w.callerKeys[c]);
  const poss = model.get(k)!;
  // Now and then the empty value: a value like any other (a client that reads it back as null has lost it).
  const v = r.chance(EMPTY_VALUE_CHANCE)
    ? ''
    : `${phase.name}:${c}:${i}:${r.chance(0.3) ? 'é\u0000' : ''}${r.int(1e6)}`;
  const op = r.int(3);
  const t0 = Date.now();
  try {
    if (op === 0) {
      await client.set(k, v);
      model.set(k, new Set([v]));
    } else if (op === 1) {
      const got = await client.get(k);
      check(
        !(got === null && poss.has('') && !poss.has(null)),
        `get(${JSON.stringify(k)}) returned null in the ${phase.name} phase, but the key holds the empty string "" (set by this caller) ${where}. ` +
          'An empty value is a value: null means only that the key does not exist. Likely causes: a reply turned into null when it is ' +
          `falsy (reply || null, or if (!reply)); an empty bulk string ($0) parsed as a null one ($-1); or a reply meant for another request. ${MIXUP}`,
      );
      check(
        poss.has(got),
        `get(${JSON.stringify(k)}) returned ${JSON.stringify(got)} in the ${phase.name} phase; only this caller writes that key, so it holds ${showPossible(poss)} ${where}. ${MIXUP}`,
      );
      model.set(k, new Set([got]));
    } else {
      const had = await client.del(k);
      const fits = had ? [...poss].some((x) => x !== null) : poss.has(null);
      check(
        !phase.exact || fits,
        `del(${JSON.stringify(k)}) returned ${had} in the ${phase.name} phase, but the key held ${showPossible(poss)} ${where}. ${MIXUP}`,
      );
      model.set(k, new Set([null]));
    }
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'ServerUnavailableError') throw e;
    const failed = Date.now();
    const server = w.expected(k);
    if (!phase.faults && !gaveUpInOutage(phase.outage, server, t0, failed))
      throw new TestFailure(
        phase.outage === undefined
          ? `A call on ${JSON.stringify(k)} failed in the ${phase.name} phase, where every server is healthy and answers at ` +
              `once: ${e.message} ${where}. Likely causes: a connection left in a bad state by an earlier fault: ${MIXUP}`
          : `A call on ${JSON.stringify(k)} failed in the ${phase.name} phase ${outageWords(phase.outage, server, t0, failed)}: ` +
              `${e.message} ${where}. A call on a server that restarts may give up only while it is down, after its ` +
              `${CLIENT_OPTIONS.retries} retries ${CLIENT_OPTIONS.retryDelayMs} ms apart. Likely causes: no retry, or retries ` +
              `without the wait between them; a connection to the old server kept and reused after it closed, instead of ` +
              `dialling again; or ${MIXUP}`,
      );
    w.failures++;
    const elapsed = failed - t0;
    const bound = 4 * (CLIENT_OPTIONS.timeoutMs + CLIENT_OPTIONS.retryDelayMs);
    check(
      elapsed < bound + 3000,
      `A call failed after ${elapsed} ms; with timeoutMs ${CLIENT_OPTIONS.timeoutMs} and 3 retries ${CLIENT_OPTIONS.retryDelayMs} ms apart it should give up after about ${bound} ms at most ${where}.`,
    );
    if (op === 0) poss.add(v);
    if (op === 2) poss.add(null);
  } finally {
    w.slowest = Math.max(w.slowest, Date.now() - t0);
  }
}

/** Runs a phase: all callers at once, each making its calls one after another, the whole within 30 s. */
function runClientPhase(w: ClientWorld, ctx: Ctx, phase: ClientPhase): Promise<unknown> {
  return within(
    Promise.all(
      w.callerKeys.map(async (_, c) => {
        const r = keyedRng(ctx.seed, `lab5-nemesis-client-${phase.name}-${c}`);
        for (let i = 0; i < phase.ops; i++) {
          await clientCall(w, phase, c, i, r);
          if (phase.pauseMs) await realSleep(r.between(...phase.pauseMs));
        }
      }),
    ),
    30_000,
    () => `the ${phase.name} phase took more than 30000 ms.`,
  );
}

/** Healthy servers for longer than the timeout: no call may be retried, unless the machine stalled one past it. */
async function steadyPhase(w: ClientWorld, ctx: Ctx): Promise<void> {
  const { timeoutMs } = CLIENT_OPTIONS;
  // Healthy servers for longer than the timeout: every call is answered at once, so none may be retried, unless
  // the machine stalled one past the timeout (then a call took that long).
  w.slowest = 0;
  await runClientPhase(w, ctx, { name: 'steady', faults: false, exact: true, ops: 8, pauseMs: [30, 110] });
  check(
    w.retries.length === 0 || w.slowest >= timeoutMs,
    `In the steady phase (healthy servers, every reply at once, for more than timeoutMs ${timeoutMs}), the client retried ${w.retries.length} time(s), though no call took ${timeoutMs} ms (the slowest took ${w.slowest} ms) ${w.where}. ` +
      'A request answered must leave nothing behind: clear its timer when its reply arrives (a timer that fires timeoutMs later fails the connection and the requests then in flight), and keep the connection open between requests.',
  );
}

/** The fake breaks replies: each call gets its own answer or ServerUnavailableError. */
async function faultPhase(w: ClientWorld, ctx: Ctx): Promise<void> {
  w.fake.faulty = true;
  await runClientPhase(w, ctx, { name: 'fault', faults: true, exact: false, ops: 6 });
  w.fake.faulty = false;
  ctx.log(
    `fault phase: the fake broke ${w.fake.faults} replies; ${w.failures} calls ended in ServerUnavailableError; ${w.retries.length} retries`,
  );
}

/** How a failed call stood to the outage, for a message. */
function outageWords(o: Outage, server: number, t0: number, failed: number): string {
  if (server !== 0) return '(on a server that did not restart, up and answering at once all along)';
  if (o.from === undefined) return '(before its server went down for the restart: it was up and answering at once)';
  const down =
    t0 >= o.from
      ? `the server went down ${t0 - o.from} ms before the call started`
      : `the server went down ${o.from - t0} ms after the call started`;
  return o.to === undefined
    ? `(${down}; it had not come back when the call gave up ${failed - t0} ms later)`
    : `(${down} and was listening again ${o.to - o.from} ms after it went down; the call gave up ${failed - t0} ms after it started)`;
}

/** A real server restarts on its port while the calls go on: they succeed, retried (or give up only while it is down). */
async function restartPhase(res: Resources, w: ClientWorld, ctx: Ctx): Promise<void> {
  const { rng, real, servers, dirs } = w;
  w.retries.length = 0;
  const outage: Outage = {};
  const restart = async (): Promise<void> => {
    await realSleep(rng.between(5, 40));
    outage.from = Date.now();
    await real[0].close();
    await realSleep(rng.between(30, 80));
    real[0] = await res.server({ port: servers[0].port, dataDir: dirs[0], fsync: 'always' });
    outage.to = Date.now();
  };
  const phase = { name: 'restart', faults: false, exact: false, ops: 8, outage };
  await Promise.all([runClientPhase(w, ctx, phase), restart()]);
}

/** set with a time to live: the key's server holds it with that TTL. */
async function checkSetWithTtl(res: Resources, w: ClientWorld): Promise<void> {
  const { servers, expected } = w;
  const direct0 = [await res.connect(servers[0].port), undefined, await res.connect(servers[2].port)];
  for (const k of w.callerKeys
    .flat()
    .filter((x) => expected(x) !== 1)
    .slice(0, 6)) {
    // A time to live that is not positive is sent as it is, and the server refuses it: nothing is set.
    const refused = w.rng.chance(0.5) ? 0 : -w.rng.between(1, 5000);
    const outcome = await w.client.set(k, 'never-set', refused).then(
      () => undefined,
      (e: unknown) => e,
    );
    check(
      (outcome as Error | undefined)?.name === 'ServerReplyError',
      `set(${JSON.stringify(k)}, "never-set", ${refused}) ${outcome === undefined ? 'succeeded' : `failed with ${String(outcome)}`}; ` +
        `expected a ServerReplyError: the client sends SET key value EX ${refused}, and the server refuses a time to live ` +
        "that is not positive (ERR invalid expire time in 'set' command). Likely causes: ttlSeconds tested for being " +
        'truthy (0 is not) or positive, so the key is set without it; the EX option dropped when it looks odd ' +
        `${w.where}.`,
    );
    const ttl = w.rng.between(100, 5000);
    await w.client.set(k, 'with-ttl', ttl);
    w.model.set(k, new Set(['with-ttl']));
    const pttl = await direct0[expected(k)]!.call('PTTL', k);
    check(
      typeof pttl === 'number' && pttl > (ttl - 60) * 1000 && pttl <= ttl * 1000,
      `After set(${JSON.stringify(k)}, "with-ttl", ${ttl}), PTTL on its server replied ${showBytes(pttl as RespReply)}; expected about ${ttl * 1000} ms: ttlSeconds sets the key's time to live (SET key value EX ttlSeconds) ${w.where}.`,
    );
  }
}

/** Every key is on the server its placement names, and holds what the model allows. */
async function checkKeysInPlace(res: Resources, w: ClientWorld): Promise<void> {
  const direct = [await res.connect(w.servers[0].port), undefined, await res.connect(w.servers[2].port)];
  for (const [k, poss] of w.model) {
    const idx = w.expected(k);
    const raw = idx === 1 ? w.fake.values.get(asBytes(k)) : await direct[idx]!.call('GET', k);
    const value = idx === 1 ? (raw === undefined ? null : Buffer.from(raw as string, 'latin1').toString('utf8')) : raw;
    check(
      poss.has(value as string | null),
      `After all calls, ${JSON.stringify(k)} on the server with id ${w.ids[idx]} (where the placement puts it) is ${JSON.stringify(value)}; expected ${showPossible(poss)} ${w.where}.`,
    );
  }
}

/** An error reply is an answer: ServerReplyError at once, with no retry. */
async function checkErrorReplyNotRetried(w: ClientWorld): Promise<void> {
  const { retries } = w;
  retries.length = 0;
  const k = w.callerKeys.flat().find((x) => w.expected(x) !== 1)!;
  await w.client.set(k, 'not a number');
  const t0 = Date.now();
  const err = await w.client.incr(k).then(
    () => undefined,
    (e: unknown) => e,
  );
  check(
    err instanceof Error && err.name === 'ServerReplyError' && retries.length === 0,
    `incr of a key holding "not a number" ${err instanceof Error ? `threw ${err.name} after ${Date.now() - t0} ms and ${retries.length} retries` : 'did not throw'}; an error reply is an answer: throw ServerReplyError at once, with no retry ${w.where}.`,
  );
}

/** ShardedClient.close() closes every connection (the fake sees none left within 2 s). */
async function checkCloseClosesAll(w: ClientWorld): Promise<void> {
  void w.client.close();
  await waitFor(() => w.fake.sockets.size === 0, 2000);
  check(
    w.fake.sockets.size === 0,
    `2 s after ShardedClient.close(), the fake server still had ${w.fake.sockets.size} open connection(s): close() must close every connection.`,
  );
}

export const nemesisClient = realTest(
  'TestNemesisClient',
  'callers share one ShardedClient over real servers, one restarting, and a fake that sends half a reply then closes or finishes late: each caller gets its own answer or ServerUnavailableError, keys on their servers (ring ties included), no retry while the servers are healthy',
  async (res, ctx) => {
    const world = await startClientWorld(res, ctx);
    await checkCallerPlacement(world);
    await checkPlacementRules(res, world);
    await steadyPhase(world, ctx);
    await faultPhase(world, ctx);
    await restartPhase(res, world, ctx);
    await runClientPhase(world, ctx, { name: 'heal', faults: false, exact: true, ops: 6 });
    await checkSetWithTtl(res, world);
    await checkKeysInPlace(res, world);
    await checkErrorReplyNotRetried(world);
    await checkCloseClosesAll(world);
  },
);

/**
 * Pairs of ring points at the same position (the first 32 bits of their md5 are equal), as [id, i, id, i]: node ids up
 * to 3000 whose texts "server-<id>#<i>" tie, found once with md5 (expectedPlacement places keys by the handout's rule either way).
 */
const TIED_POINTS: ReadonlyArray<readonly [number, number, number, number]> = [
  [672, 96, 761, 85],
  [510, 59, 832, 34],
  [656, 35, 1195, 101],
  [46, 131, 1287, 158],
  [1408, 22, 1619, 46],
  [1078, 133, 1898, 51],
  [258, 95, 1908, 46],
  [1869, 75, 1931, 112],
  [1021, 159, 2150, 42],
  [1849, 22, 2237, 102],
  [1541, 68, 2250, 44],
  [1907, 147, 2361, 89],
  [1783, 40, 2373, 152],
  [1270, 105, 2552, 137],
  [2066, 151, 2636, 49],
  [1847, 66, 2671, 46],
  [1517, 74, 2759, 70],
  [1534, 61, 2766, 49],
  [2724, 12, 2793, 29],
  [54, 54, 2900, 95],
];

/** The handout's placement of a key, as a server index: md5 mod n, or the ring over the ids. */
function expectedPlacement(ids: readonly number[], sharding: 'ring' | 'modulo'): (key: string) => number {
  const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');
  if (sharding === 'modulo') return (key) => Number(BigInt(`0x${md5(key)}`) % BigInt(ids.length));
  const points = ids
    .flatMap((node) =>
      Array.from({ length: 160 }, (_, i) => ({ at: parseInt(md5(`server-${node}#${i}`).slice(0, 8), 16), node })),
    )
    .sort((a, b) => a.at - b.at || a.node - b.node);
  return (key) => {
    const at = parseInt(md5(key).slice(0, 8), 16);
    return ids.indexOf((points.find((p) => p.at >= at) ?? points[0]).node);
  };
}
