/**
 * An executable specification of lab 5's single-node command semantics, written from the handout: a sequential model
 * of the store, its TTLs (deadlines on the model's own clock), the statistics INFO reports, transactions, and
 * connections that end (QUIT, after which nothing on that connection runs). Kit tests hold its replies to the
 * recorded Redis corpus; TestCommandModel holds a server to it over TCP.
 */
import { globMatch } from '../glob';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../int64';
import { reply } from '../resp';

/** A key's value and its absolute deadline (ms since the epoch, exact as Redis keeps it), if it has one. */
interface Entry {
  readonly value: string;
  readonly deadline?: bigint;
}

/** The statistics INFO must report, as ranges where the handout leaves a count open. */
export interface StatsExpectation {
  /** total_commands_processed lies in [totalLo, totalHi]. */
  readonly totalLo: number;
  readonly totalHi: number;
  /** cmdstat_<name>:calls=N for the names whose count the handout fixes (other names are not compared). */
  readonly calls: Readonly<Record<string, number>>;
  /** db0's keys and expires (the live keys, and those with a TTL). */
  readonly keys: number;
  readonly keysWithTtl: number;
  /** expired_keys lies in [expiredLo, expiredHi]. */
  readonly expiredLo: number;
  readonly expiredHi: number;
}

/** What a command must get back: exact bytes, or a reply read against the clock, the statistics or a partial walk. */
export type Expectation =
  | { readonly kind: 'exact'; readonly bytes: string }
  /** A TTL or PTTL: `bytes` at the model's clock; `ms` left then, `unit` 1000 for TTL's seconds, 1 for PTTL. */
  | { readonly kind: 'ttl'; readonly bytes: string; readonly ms: bigint; readonly unit: 1 | 1000 }
  | { readonly kind: 'info'; readonly stats: StatsExpectation }
  /** A SCAN reply the handout does not fix (more live keys than COUNT): any cursor, keys among `candidates`. */
  | { readonly kind: 'scan'; readonly candidates: readonly string[] }
  | { readonly kind: 'array'; readonly items: readonly Expectation[] }
  /** Any error reply (the handout fixes that it is an error, not its words). */
  | { readonly kind: 'error'; readonly example: string }
  /** Any reply (the handout says nothing about it). */
  | { readonly kind: 'any' }
  /** No reply: the connection had already ended (after QUIT, or a protocol error). */
  | { readonly kind: 'none' };

const exact = (bytes: string): Expectation => ({ kind: 'exact', bytes });
const NOT_INTEGER = reply.error('ERR value is not an integer or out of range');
const SYNTAX = reply.error('ERR syntax error');

/** Arity as Redis checks it (n: exactly n words with the name; -n: at least n), for every command the handout names. */
const ARITY: Readonly<Record<string, number>> = {
  ping: -1,
  echo: 2,
  get: 2,
  set: -3,
  del: -2,
  exists: -2,
  incr: 2,
  decr: 2,
  incrby: 3,
  decrby: 3,
  expire: -3,
  pexpire: -3,
  ttl: 2,
  pttl: 2,
  keys: 2,
  scan: -2,
  dbsize: 1,
  flushdb: -1,
  multi: 1,
  exec: 1,
  discard: 1,
  info: -1,
  command: -1,
  client: -2,
  hello: -1,
  select: 2,
  quit: -1,
};

/** The commands that run at once inside MULTI instead of being queued. */
const TRANSACTION_CONTROL = new Set(['multi', 'exec', 'discard', 'quit']);

/** The most commands one transaction may queue (the handout's bound). */
export const MULTI_MAX_COMMANDS = 100_000;

/** A word as C's `%s` prints it: up to its first NUL byte. */
export function cWord(text: string): string {
  const nul = text.indexOf('\u0000');
  return nul < 0 ? text : text.slice(0, nul);
}

/** Redis's unknown-command error text: the name, then each argument quoted, up to 128 characters of arguments. */
export function unknownCommandText(args: readonly string[]): string {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${cWord(args[i]).slice(0, 128 - rest.length)}' `;
  return `ERR unknown command '${cWord(args[0]).slice(0, 128)}', with args beginning with: ${rest}`;
}

/** SCAN's cursor as Redis reads it (C's strtoul: optional sign, "" is 0, "-1" is 2^64-1), or undefined. */
function parseCursor(text: string): bigint | undefined {
  if (text === '') return 0n;
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const magnitude = BigInt(text.replace(/^[+-]/, ''));
  if (magnitude >= 2n ** 64n) return undefined;
  return text.startsWith('-') && magnitude > 0n ? 2n ** 64n - magnitude : magnitude;
}

/** One connection's state in the model. */
export interface ModelConnection {
  /** After MULTI: the queued commands; undefined outside a transaction. */
  queue: string[][] | undefined;
  /** A command was refused while queuing: EXEC aborts. */
  dirty: boolean;
  /** The connection has ended: later commands on it get no reply and change nothing. */
  closed: boolean;
}

/** A new connection's state. */
export function newConnection(): ModelConnection {
  return { queue: undefined, dirty: false, closed: false };
}

/**
 * The model. `now` is its clock (ms since the epoch), set by whoever drives it; `tieMs` is how close two deadlines
 * must be for EXPIRE's GT/LT to be undecided (0: exact), and `decide` settles such a tie (the driver tries both).
 */
export class CommandModel {
  now: bigint;
  tieMs = 0n;
  decide: () => boolean = () => false;
  private store = new Map<string, Entry>();
  private calls = new Map<string, number>();
  private total = 0;
  /** Calls whose counting the handout leaves open (QUIT, PING with two words or more, CLIENT's other subcommands). */
  private openCalls = 0;
  private readonly openNames = new Set<string>();
  private expired = 0;
  /** Removals the handout does not say are expirations (a deadline already past when it was set). */
  private openExpired = 0;

  constructor(now: number | bigint) {
    this.now = BigInt(now);
  }

  /** An independent copy (the driver tries each way of a tie on one). */
  clone(): CommandModel {
    const m = new CommandModel(this.now);
    Object.assign(m, this, {
      store: new Map(this.store),
      calls: new Map(this.calls),
      openNames: new Set(this.openNames),
    });
    return m;
  }

  /** Runs (or queues, or refuses) one command sent on `conn`; returns what the server must reply. */
  execute(conn: ModelConnection, args: readonly string[]): Expectation {
    if (conn.closed) return { kind: 'none' };
    const name = args[0].toLowerCase();
    const arity = Object.prototype.hasOwnProperty.call(ARITY, name) ? ARITY[name] : undefined;
    let refused: string | undefined;
    if (arity === undefined) refused = unknownCommandText(args);
    else if (arity > 0 ? args.length !== arity : args.length < -arity)
      refused = `ERR wrong number of arguments for '${name}' command`;
    if (refused !== undefined) {
      if (conn.queue !== undefined) conn.dirty = true;
      if (name !== 'exec') return exact(reply.error(refused));
      conn.queue = undefined; // a refused EXEC ends the transaction, and says why
      return exact(reply.error(`EXECABORT Transaction discarded because of: ${refused.slice('ERR '.length)}`));
    }
    if (conn.queue !== undefined && !TRANSACTION_CONTROL.has(name)) {
      if (conn.queue.length >= MULTI_MAX_COMMANDS) {
        conn.dirty = true;
        return { kind: 'error', example: 'ERR transaction too large: ...' };
      }
      conn.queue.push([...args]);
      return exact(reply.simple('QUEUED'));
    }
    return this.run(conn, name, args.slice(1));
  }

  /** Runs a known command with the right number of words, counting it. */
  private run(conn: ModelConnection, name: string, a: string[]): Expectation {
    const open = name === 'quit' || (name === 'ping' && a.length > 1) || (name === 'client' && !this.clientKnown(a));
    if (open) {
      this.openCalls++;
      this.openNames.add(name);
    } else {
      this.total++;
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    }
    return this.dispatch(conn, name, a);
  }

  private clientKnown(a: string[]): boolean {
    return ['SETNAME', 'SETINFO'].includes(a[0].toUpperCase());
  }

  private dispatch(conn: ModelConnection, name: string, a: string[]): Expectation {
    switch (name) {
      case 'ping':
        if (a.length > 1) return exact(reply.error("ERR wrong number of arguments for 'ping' command"));
        return exact(a.length === 0 ? reply.simple('PONG') : reply.bulk(a[0]));
      case 'echo':
        return exact(reply.bulk(a[0]));
      case 'get':
        return exact(reply.bulk(this.lookup(a[0])?.value ?? null));
      case 'set':
        return exact(this.set(a));
      case 'del':
        return exact(reply.integer(this.del(a)));
      case 'exists':
        return exact(reply.integer(a.filter((k) => this.lookup(k) !== undefined).length));
      case 'incr':
      case 'decr':
      case 'incrby':
      case 'decrby':
        return exact(this.arithmetic(name, a));
      case 'expire':
      case 'pexpire':
        return exact(this.expire(name, a));
      case 'ttl':
      case 'pttl':
        return this.ttl(a[0], name === 'ttl' ? 1000 : 1);
      default:
        return this.dispatchMore(conn, name, a);
    }
  }

  private dispatchMore(conn: ModelConnection, name: string, a: string[]): Expectation {
    switch (name) {
      case 'keys':
        return exact(reply.bulkArray(this.liveKeys().filter((k) => globMatch(a[0], k))));
      case 'scan':
        return this.scan(a);
      case 'dbsize':
        return exact(reply.integer(this.liveKeys().length));
      case 'flushdb':
        if (a.length > 1 || (a.length === 1 && !['SYNC', 'ASYNC'].includes(a[0].toUpperCase()))) return exact(SYNTAX);
        this.store.clear();
        return exact(reply.ok);
      case 'info':
        this.liveKeys(); // INFO counts no expired key
        return { kind: 'info', stats: this.stats() };
      case 'command':
        return exact(reply.array([]));
      case 'client':
        return this.clientKnown(a) ? exact(reply.ok) : { kind: 'any' }; // the handout names SETNAME and SETINFO only
      case 'hello':
        return { kind: 'error', example: 'NOPROTO this server speaks RESP2 only' };
      case 'select': {
        const db = parseInt64(a[0]);
        if (db === undefined || db > 2147483647n || db < -2147483648n) return exact(NOT_INTEGER);
        return exact(db === 0n ? reply.ok : reply.error('ERR DB index is out of range'));
      }
      default:
        return this.transaction(conn, name);
    }
  }

  /** MULTI, EXEC, DISCARD and QUIT (the commands that are never queued). */
  private transaction(conn: ModelConnection, name: string): Expectation {
    if (name === 'quit') {
      conn.closed = true;
      return exact(reply.ok);
    }
    if (name === 'multi') {
      if (conn.queue !== undefined) return exact(reply.error('ERR MULTI calls can not be nested'));
      conn.queue = [];
      conn.dirty = false;
      return exact(reply.ok);
    }
    const queued = conn.queue;
    if (queued === undefined) return exact(reply.error(`ERR ${name.toUpperCase()} without MULTI`));
    conn.queue = undefined;
    if (name === 'discard') return exact(reply.ok);
    if (conn.dirty) return exact(reply.error('EXECABORT Transaction discarded because of previous errors.'));
    return { kind: 'array', items: queued.map((args) => this.run(conn, args[0].toLowerCase(), args.slice(1))) };
  }

  /** The key's entry, removing it first if its deadline has passed (an expiration). */
  private lookup(key: string): Entry | undefined {
    const e = this.store.get(key);
    if (e?.deadline !== undefined && e.deadline <= this.now) {
      this.store.delete(key);
      this.expired++;
      return undefined;
    }
    return e;
  }

  /** The live keys, in creation order (expired ones removed, as KEYS, DBSIZE and INFO must). */
  private liveKeys(): string[] {
    return [...this.store.keys()].filter((k) => this.lookup(k) !== undefined);
  }

  private del(keys: string[]): number {
    let n = 0;
    for (const k of new Set(keys))
      if (this.lookup(k) !== undefined) {
        this.store.delete(k);
        n++;
      }
    return n;
  }

  /** Stores a value (a key deleted and set again is a new key: it moves to the end of the creation order). */
  private put(key: string, entry: Entry): void {
    if (entry.deadline !== undefined && entry.deadline <= this.now) {
      // Set with a deadline already past: the key is gone at once; whether it counts as expired, the handout leaves open.
      this.store.delete(key);
      this.openExpired++;
      return;
    }
    this.store.set(key, entry);
  }

  /** SET's options, read as Redis 7.0 reads them: [flags, unit, time] or the syntax error. */
  private setOptions(
    a: string[],
  ): { nx: boolean; xx: boolean; get: boolean; keep: boolean; unit?: string; time: string } | undefined {
    const o = { nx: false, xx: false, get: false, keep: false, unit: undefined as string | undefined, time: '' };
    for (let i = 2; i < a.length; i++) {
      const w = a[i].toUpperCase();
      if (w === 'NX' && !o.xx) o.nx = true;
      else if (w === 'XX' && !o.nx) o.xx = true;
      else if (w === 'GET') o.get = true;
      else if (w === 'KEEPTTL' && o.unit === undefined) o.keep = true;
      else if (['EX', 'PX', 'EXAT', 'PXAT'].includes(w) && !o.keep && (o.unit ?? w) === w && i + 1 < a.length) {
        o.unit = w;
        o.time = a[++i];
      } else return undefined;
    }
    return o;
  }

  private set(a: string[]): string {
    const o = this.setOptions(a);
    if (o === undefined) return SYNTAX;
    let deadline: bigint | undefined;
    if (o.unit !== undefined) {
      const n = parseInt64(o.time);
      if (n === undefined) return NOT_INTEGER;
      const seconds = o.unit === 'EX' || o.unit === 'EXAT';
      const invalid = reply.error("ERR invalid expire time in 'set' command");
      if (n <= 0n || (seconds && n > INT64_MAX / 1000n)) return invalid;
      deadline = (seconds ? n * 1000n : n) + (o.unit === 'EX' || o.unit === 'PX' ? this.now : 0n);
      if (deadline > INT64_MAX) return invalid;
    }
    const old = this.lookup(a[0]);
    const was = old === undefined ? null : old.value;
    if ((o.nx && old !== undefined) || (o.xx && old === undefined)) return o.get ? reply.bulk(was) : reply.nil;
    if (deadline === undefined && o.keep) deadline = old?.deadline;
    this.put(a[0], deadline === undefined ? { value: a[1] } : { value: a[1], deadline });
    return o.get ? reply.bulk(was) : reply.ok;
  }

  private arithmetic(name: string, a: string[]): string {
    let by = name === 'incr' ? 1n : name === 'decr' ? -1n : parseInt64(a[1]);
    if (by === undefined) return NOT_INTEGER;
    if (name === 'decrby') {
      if (by === INT64_MIN) return reply.error('ERR decrement would overflow');
      by = -by;
    }
    const e = this.lookup(a[0]);
    const cur = parseInt64(e?.value ?? '0');
    if (cur === undefined) return NOT_INTEGER;
    const next = cur + by;
    if (next > INT64_MAX || next < INT64_MIN) return reply.error('ERR increment or decrement would overflow');
    this.store.set(a[0], { value: String(next), deadline: e?.deadline });
    return reply.integer(next);
  }

  /** EXPIRE/PEXPIRE: the options, then the time, then the key, as the handout orders the checks. */
  private expire(name: string, a: string[]): string {
    const opts = new Set<string>();
    for (const w of a.slice(2)) {
      const u = w.toUpperCase();
      if (!['NX', 'XX', 'GT', 'LT'].includes(u)) return reply.error(`ERR Unsupported option ${cWord(w)}`);
      opts.add(u);
    }
    if (opts.has('NX') && (opts.has('XX') || opts.has('GT') || opts.has('LT')))
      return reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (opts.has('GT') && opts.has('LT'))
      return reply.error('ERR GT and LT options at the same time are not compatible');
    const n = parseInt64(a[1]);
    if (n === undefined) return NOT_INTEGER;
    const invalid = reply.error(`ERR invalid expire time in '${name}' command`);
    const unit = name === 'expire' ? 1000n : 1n;
    if (unit === 1000n && (n > INT64_MAX / 1000n || n < INT64_MIN / 1000n)) return invalid;
    if (n * unit > INT64_MAX - this.now) return invalid;
    const at = n * unit + this.now;
    const e = this.lookup(a[0]);
    if (e === undefined) return reply.integer(0);
    const cur = e.deadline;
    if ((opts.has('NX') && cur !== undefined) || (opts.has('XX') && cur === undefined)) return reply.integer(0);
    if (opts.has('GT') && (cur === undefined || !this.later(at, cur))) return reply.integer(0);
    if (opts.has('LT') && cur !== undefined && !this.later(cur, at)) return reply.integer(0);
    if (at <= this.now)
      this.store.delete(a[0]); // deleted, not expired: it is not counted in expired_keys
    else this.store.set(a[0], { value: e.value, deadline: at });
    return reply.integer(1);
  }

  /** Is deadline `a` strictly after `b`? Within `tieMs` of each other, `decide` answers. */
  private later(a: bigint, b: bigint): boolean {
    const d = a - b;
    if (this.tieMs > 0n && d <= this.tieMs && d >= -this.tieMs) return this.decide();
    return d > 0n;
  }

  private ttl(key: string, unit: 1 | 1000): Expectation {
    const e = this.lookup(key);
    if (e === undefined) return exact(reply.integer(-2));
    if (e.deadline === undefined) return exact(reply.integer(-1));
    const ms = e.deadline - this.now;
    const shown = unit === 1 ? ms : (ms + 500n) / 1000n;
    return { kind: 'ttl', bytes: reply.integer(shown), ms, unit };
  }

  /** SCAN: exact when every live key fits in one call from cursor 0; otherwise any walk step over the matching keys. */
  private scan(a: string[]): Expectation {
    const cursor = parseCursor(a[0]);
    if (cursor === undefined) return exact(reply.error('ERR invalid cursor'));
    let count = 10n;
    let pattern: string | undefined;
    let strings = true;
    for (let i = 1; i < a.length; i += 2) {
      if (i + 1 >= a.length) return exact(SYNTAX);
      const opt = a[i].toUpperCase();
      if (opt === 'COUNT') {
        const n = parseInt64(a[i + 1]);
        if (n === undefined) return exact(NOT_INTEGER);
        if (n < 1n) return exact(SYNTAX);
        count = n;
      } else if (opt === 'MATCH') pattern = a[i + 1];
      else if (opt === 'TYPE') strings = a[i + 1].toLowerCase() === 'string';
      else return exact(SYNTAX);
    }
    const live = this.liveKeys();
    const found = strings ? live.filter((k) => pattern === undefined || globMatch(pattern, k)) : [];
    if (cursor === 0n && BigInt(live.length) <= count)
      return exact(reply.array([reply.bulk('0'), reply.bulkArray(found)]));
    return { kind: 'scan', candidates: found };
  }

  /** The statistics INFO must show now (this INFO already counted). */
  private stats(): StatsExpectation {
    const calls: Record<string, number> = {};
    for (const [name, n] of this.calls) if (!this.openNames.has(name)) calls[name] = n;
    const live = [...this.store.values()];
    return {
      totalLo: this.total,
      totalHi: this.total + this.openCalls,
      calls,
      keys: live.length,
      keysWithTtl: live.filter((e) => e.deadline !== undefined).length,
      expiredLo: this.expired,
      expiredHi: this.expired + this.openExpired,
    };
  }
}
