/**
 * Lab 5 — the mini-Redis server. Reference solution.
 *
 * One Node process serves many connections on one thread: each connection has its own RequestParser; a
 * chunk of input may hold many commands (pipelining) or part of one. Commands run one at a time to
 * completion, so no command ever sees another half-done — that is what makes INCR safe without locks.
 * A client that does not read its replies is not served further (nor read from) until they drain, so it
 * cannot fill the server's memory.
 */
import * as net from 'node:net';
import { globMatch } from '../../lab5/glob';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../../lab5/int64';
import { ProtocolError, RequestParser, reply } from '../../lab5/resp';
import type { RunningServer, ServerOptions } from '../../lab5/types';
import { Persistence, StoredEntry } from './persistence';

/** A command's handler: gets the arguments after the name, returns the encoded reply. */
type Handler = (args: string[], conn: Connection) => string;

/** A command as the table declares it: its arity as in Redis (n: exactly n words with the name; -n: at least n) and handler. */
interface CommandSpec {
  arity: number;
  run: Handler;
}

/** A command of the server's table: its lower-case name, and how many times it ran (INFO's commandstats). */
interface Command extends CommandSpec {
  readonly name: string;
  calls: number;
}

/** What the server keeps per connection. */
interface Connection {
  socket: net.Socket;
  parser: RequestParser;
  /** Set by QUIT: close after the replies are written. */
  closing: boolean;
  /** Its unsent replies passed OUTPUT_PAUSE_BYTES: its socket is paused until they drain. */
  stalled: boolean;
  /** After MULTI: the commands queued for EXEC; undefined outside a transaction. */
  queue: string[][] | undefined;
  /** The bytes of the queued commands' words. */
  queuedBytes: number;
  /** A command was refused while queuing: EXEC must abort the transaction. */
  dirty: boolean;
}

/** Unsent replies to one client, bytes, beyond which its commands wait until the socket drains (backpressure). */
const OUTPUT_PAUSE_BYTES = 1 << 20;
/** Unsent replies to one client, bytes, beyond which it is disconnected (one reply that large: KEYS on a big store). */
const OUTPUT_LIMIT_BYTES = 256 << 20;

/**
 * What one transaction may queue (Redis sets no limit). A queued command costs about 200 bytes of memory beyond its
 * words, so 100,000 of them are about 20 MB; 128 MiB of words holds any command the parser accepts (64 MiB per word).
 */
const MULTI_MAX_COMMANDS = 100_000;
const MULTI_MAX_BYTES = 128 << 20;

const notInteger = reply.error('ERR value is not an integer or out of range');
const syntaxError = reply.error('ERR syntax error');

/** The commands that run at once inside MULTI instead of being queued. */
const TRANSACTION_CONTROL = new Set(['multi', 'exec', 'discard', 'quit']);

/** SCAN's cursor as Redis reads it (C's strtoul: a sign is allowed, "-1" wraps to 2^64-1), or undefined if invalid. */
function parseCursor(text: string): bigint | undefined {
  if (text === '') return 0n;
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const magnitude = BigInt(text.replace(/^[+-]/, ''));
  if (magnitude >= 2n ** 64n) return undefined;
  return text.startsWith('-') && magnitude > 0n ? 2n ** 64n - magnitude : magnitude;
}

/** Text as C's %s prints it: up to the first NUL byte. */
function cString(text: string): string {
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}

/** Redis's reply to an unknown command: the name and the arguments, quoted, up to 128 characters in all. */
function unknownCommand(args: readonly string[]): string {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++)
    rest += `'${cString(args[i]).slice(0, 128 - rest.length)}' `;
  return reply.error(`ERR unknown command '${cString(args[0]).slice(0, 128)}', with args beginning with: ${rest}`);
}

class KVServer {
  private readonly options: Required<Omit<ServerOptions, 'dataDir'>> & { dataDir?: string };
  private readonly values = new Map<string, string>();
  /** Absolute expiry time (ms) of keys that have one. */
  private readonly expires = new Map<string, number>();
  /**
   * SCAN's order: every key gets a number when it is created, and SCAN's cursor is the number to go on from. The keys
   * are listed here in that order; a removed key stays listed until the list is compacted (`seqOf` tells which
   * entries are current). Compacting keeps the numbers, so a cursor stays valid however the store changes.
   */
  private readonly seqOf = new Map<string, number>();
  private orderKeys: string[] = [];
  private orderSeqs: number[] = [];
  private nextSeq = 1;
  private totalCommands = 0;
  private expiredKeys = 0;
  private readonly connections = new Set<Connection>();
  /** The commands by name, in lower case and in capitals (a Map, so 'constructor' or '__proto__' is an unknown command like any other). */
  private readonly commands: Map<string, Command>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started = Date.now();
  readonly tcp: net.Server;
  private readonly persistence: Persistence | undefined;

  constructor(options: Required<Omit<ServerOptions, 'dataDir'>> & { dataDir?: string }) {
    this.options = options;
    this.commands = new Map();
    for (const [name, spec] of Object.entries(this.table())) {
      const cmd: Command = { ...spec, name, calls: 0 };
      this.commands.set(name, cmd);
      this.commands.set(name.toUpperCase(), cmd);
    }
    if (options.dataDir !== undefined) {
      const persistence = new Persistence(options.dataDir, options.fsync);
      let loaded: StoredEntry[];
      try {
        loaded = persistence.load(Date.now()); // a damaged file throws: the server does not start on it
      } catch (err) {
        void persistence.close();
        throw err;
      }
      this.persistence = persistence;
      for (const e of loaded) {
        this.listKey(e.key); // in SCAN's order, as a key stored by SET is
        this.values.set(e.key, e.value);
        if (e.expiresAt !== undefined) this.expires.set(e.key, e.expiresAt);
      }
      const snap = setInterval(() => void persistence.snapshot(this.copy()), options.snapshotIntervalMs);
      this.timers.push(snap);
    }
    this.timers.push(setInterval(() => this.sweep(), options.sweepIntervalMs));
    for (const t of this.timers) t.unref();
    this.tcp = net.createServer((socket) => this.accept(socket));
  }

  private accept(socket: net.Socket): void {
    const conn: Connection = {
      socket,
      parser: new RequestParser(),
      closing: false,
      stalled: false,
      queue: undefined,
      queuedBytes: 0,
      dirty: false,
    };
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      conn.parser.push(chunk);
      this.serve(conn);
    });
    socket.on('drain', () => this.unstall(conn));
    // A client that vanishes (reset, broken pipe) is an ordinary event, not a reason to crash.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(conn));
  }

  /** Runs the connection's complete commands and sends their replies, until its unsent replies pass OUTPUT_PAUSE_BYTES. */
  private serve(conn: Connection): void {
    if (conn.closing || conn.stalled) return;
    let out = '';
    let fatal = false;
    for (;;) {
      if (out.length + conn.socket.writableLength >= OUTPUT_PAUSE_BYTES) {
        conn.stalled = true; // the rest waits in the parser
        break;
      }
      let args: string[] | undefined;
      try {
        args = conn.parser.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out += reply.error(err.message);
        fatal = true;
        break;
      }
      if (args === undefined) break;
      out += this.execute(args, conn);
      if (conn.closing) break;
    }
    // Changes reach the log (and, with fsync 'always', the disk) before any client hears they happened.
    this.persistence?.flush();
    if (out.length > 0) conn.socket.write(out, 'latin1');
    if (conn.socket.writableLength > OUTPUT_LIMIT_BYTES) {
      console.warn(
        `closing a client whose unsent replies reached ${conn.socket.writableLength} bytes (limit ${OUTPUT_LIMIT_BYTES})`,
      );
      conn.socket.destroy();
    } else if (fatal || conn.closing) {
      conn.closing = true;
      conn.socket.end();
    } else if (conn.stalled) {
      conn.socket.pause(); // read no more from it: its own sends block, in its kernel buffers rather than our memory
      if (conn.socket.writableLength === 0) setImmediate(() => this.unstall(conn)); // already sent: no 'drain' will come
    }
  }

  /** Its replies were sent: run the commands waiting in its parser, and read from it again. */
  private unstall(conn: Connection): void {
    if (!conn.stalled || conn.socket.destroyed) return;
    conn.stalled = false;
    this.serve(conn);
    if (!conn.stalled && !conn.closing) conn.socket.resume();
  }

  /** Runs one command (or queues it, inside MULTI); returns its encoded reply. */
  private execute(args: string[], conn: Connection): string {
    // The table holds each name in lower case and in capitals, so most commands are found without converting case.
    const found = this.commands.get(args[0]);
    const name = found === undefined ? args[0].toLowerCase() : found.name;
    const cmd = found ?? this.commands.get(name);
    let refused: string | undefined;
    if (cmd === undefined) refused = unknownCommand(args);
    else if (cmd.arity > 0 ? args.length !== cmd.arity : args.length < -cmd.arity)
      refused = reply.error(`ERR wrong number of arguments for '${name}' command`);
    if (refused !== undefined) {
      if (conn.queue !== undefined) conn.dirty = true; // EXEC will abort: a transaction runs whole or not at all
      if (name !== 'exec') return refused;
      conn.queue = undefined; // a refused EXEC ends the transaction, as Redis does, and says why
      return reply.error(`EXECABORT Transaction discarded because of: ${refused.slice('-ERR '.length, -2)}`);
    }
    if (conn.queue !== undefined && !TRANSACTION_CONTROL.has(name)) return this.enqueue(args, conn.queue, conn);
    return this.run(cmd!, args, conn);
  }

  /**
   * Queues a command for EXEC (`queue` is the connection's). One that would take the queue past its limits is refused, which aborts the
   * transaction like any command refused while queuing: a client cannot grow the server's memory without bound.
   */
  private enqueue(args: string[], queue: string[][], conn: Connection): string {
    const bytes = args.reduce((n, word) => n + word.length, 0);
    if (queue.length >= MULTI_MAX_COMMANDS || conn.queuedBytes + bytes > MULTI_MAX_BYTES) {
      conn.dirty = true;
      return reply.error(
        `ERR transaction too large: MULTI queues at most ${MULTI_MAX_COMMANDS} commands and ${MULTI_MAX_BYTES} bytes; EXEC will abort it. Send large batches without MULTI or in several transactions`,
      );
    }
    queue.push(args);
    conn.queuedBytes += bytes;
    return reply.simple('QUEUED');
  }

  /** Runs a known command with the right number of arguments. */
  private run(cmd: Command, args: string[], conn: Connection): string {
    this.totalCommands++;
    cmd.calls++;
    return cmd.run(args.slice(1), conn);
  }

  /** The key's value, removing it first if it has expired. */
  private lookup(key: string): string | undefined {
    const exp = this.expires.size === 0 ? undefined : this.expires.get(key);
    if (exp !== undefined && exp <= Date.now()) {
      this.remove(key);
      this.expiredKeys++;
      return undefined;
    }
    return this.values.get(key);
  }

  private remove(key: string): void {
    this.values.delete(key);
    this.expires.delete(key);
    this.seqOf.delete(key);
  }

  /** Every key, gone. */
  private clear(): void {
    this.values.clear();
    this.expires.clear();
    this.seqOf.clear();
    this.orderKeys = [];
    this.orderSeqs = [];
  }

  /** Lists a new key in SCAN's order, compacting the list when removed keys make up most of it. */
  private listKey(key: string): void {
    if (this.orderKeys.length > 64 && this.orderKeys.length > 2 * this.seqOf.size) {
      const keys: string[] = [];
      const seqs: number[] = [];
      for (let i = 0; i < this.orderKeys.length; i++) {
        if (this.seqOf.get(this.orderKeys[i]) !== this.orderSeqs[i]) continue;
        keys.push(this.orderKeys[i]);
        seqs.push(this.orderSeqs[i]);
      }
      this.orderKeys = keys;
      this.orderSeqs = seqs;
    }
    const seq = this.nextSeq++;
    this.seqOf.set(key, seq);
    this.orderKeys.push(key);
    this.orderSeqs.push(seq);
  }

  /**
   * SCAN: from the first key numbered `cursor` or more, looks at `count` live keys and returns those that match,
   * with the cursor to go on from, or 0 when no key is left. A key that exists for the whole iteration is returned.
   */
  private scan(cursor: bigint, count: number, pattern: string | undefined, onlyStrings: boolean): string {
    let lo = 0;
    let hi = this.orderSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BigInt(this.orderSeqs[mid]) < cursor) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    let looked = 0;
    let i = lo;
    for (; i < this.orderKeys.length; i++) {
      const key = this.orderKeys[i];
      if (this.seqOf.get(key) !== this.orderSeqs[i] || this.lookup(key) === undefined) continue; // removed, or just expired
      if (looked === count) break;
      looked++;
      if (onlyStrings && (pattern === undefined || globMatch(pattern, key))) found.push(key);
    }
    const next = i < this.orderKeys.length ? String(this.orderSeqs[i]) : '0';
    return reply.array([reply.bulk(next), reply.bulkArray(found)]);
  }

  /**
   * Stores a value; `expiresAt` undefined clears any expiry, 'keep' keeps it. `old` is what `lookup` just returned
   * for the key (undefined: the key is new), so that a command reads the store once, not twice.
   */
  private store(key: string, value: string, expiresAt: number | undefined | 'keep', old: string | undefined): void {
    if (old === undefined) this.listKey(key);
    this.values.set(key, value);
    if (expiresAt === undefined) {
      if (this.expires.size > 0) this.expires.delete(key);
    } else if (expiresAt !== 'keep') this.expires.set(key, expiresAt);
    this.persistence?.recordSet(key, value, this.expires.get(key));
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, exp] of this.expires) {
      if (exp <= now) {
        this.remove(key);
        this.expiredKeys++;
      }
    }
  }

  /** INCRBY's arithmetic, in 64 bits: the new value, or Redis's error when it is not an integer or would overflow. */
  private incrBy(key: string, by: bigint): string {
    const old = this.lookup(key);
    const cur = parseInt64(old ?? '0');
    if (cur === undefined) return notInteger;
    const next = cur + by;
    if (next > INT64_MAX || next < INT64_MIN) return reply.error('ERR increment or decrement would overflow');
    this.store(key, String(next), 'keep', old);
    return reply.integer(next);
  }

  /**
   * EXPIRE and PEXPIRE, as Redis 7.0 checks them: options first, then the time (an integer, within 64 bits once
   * made absolute), then the key. `unit` is 1000 for seconds, 1 for ms.
   */
  private expireCommand(name: string, a: string[], unit: 1 | 1000): string {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (const option of a.slice(2)) {
      const o = option.toLowerCase();
      if (o === 'nx') nx = true;
      else if (o === 'xx') xx = true;
      else if (o === 'gt') gt = true;
      else if (o === 'lt') lt = true;
      else return reply.error(`ERR Unsupported option ${cString(option)}`);
    }
    if (nx && (xx || gt || lt))
      return reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (gt && lt) return reply.error('ERR GT and LT options at the same time are not compatible');
    let when = parseInt64(a[1]);
    if (when === undefined) return notInteger;
    const invalid = reply.error(`ERR invalid expire time in '${name}' command`);
    if (unit === 1000 && (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n)) return invalid;
    when *= BigInt(unit);
    const now = Date.now();
    if (when > INT64_MAX - BigInt(now)) return invalid;
    const at = Number(when) + now;
    const key = a[0];
    if (this.lookup(key) === undefined) return reply.integer(0);
    const current = this.expires.get(key);
    if ((nx && current !== undefined) || (xx && current === undefined)) return reply.integer(0);
    if ((gt && (current === undefined || at <= current)) || (lt && current !== undefined && at >= current))
      return reply.integer(0);
    if (at <= now) {
      this.remove(key);
      this.persistence?.recordDelete(key);
      return reply.integer(1);
    }
    this.expires.set(key, at);
    this.persistence?.recordSet(key, this.values.get(key)!, at);
    return reply.integer(1);
  }

  /** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL], parsed as Redis 7.0 does. */
  private setCommand(a: string[]): string {
    let nx = false;
    let xx = false;
    let get = false;
    let keepTtl = false;
    let unit: 'EX' | 'PX' | 'EXAT' | 'PXAT' | undefined;
    let time = '';
    for (let i = 2; i < a.length; i++) {
      const opt = a[i].toUpperCase();
      const hasNext = i + 1 < a.length;
      // An option may repeat (the last time wins); options that contradict each other are a syntax error.
      if (opt === 'NX' && !xx) nx = true;
      else if (opt === 'XX' && !nx) xx = true;
      else if (opt === 'GET') get = true;
      else if (opt === 'KEEPTTL' && unit === undefined) keepTtl = true;
      else if (
        (opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') &&
        !keepTtl &&
        (unit === undefined || unit === opt) &&
        hasNext
      ) {
        unit = opt;
        time = a[++i];
      } else return syntaxError;
    }
    let expiresAt: number | undefined;
    if (unit !== undefined) {
      const n = parseInt64(time);
      if (n === undefined) return notInteger;
      const seconds = unit === 'EX' || unit === 'EXAT';
      const invalid = reply.error("ERR invalid expire time in 'set' command");
      if (n <= 0n || (seconds && n > INT64_MAX / 1000n)) return invalid;
      let ms = seconds ? n * 1000n : n;
      if (unit === 'EX' || unit === 'PX') ms += BigInt(Date.now());
      if (ms > INT64_MAX) return invalid;
      expiresAt = Number(ms);
    }
    const old = this.lookup(a[0]);
    const found = old !== undefined;
    if ((nx && found) || (xx && !found)) return get ? reply.bulk(old ?? null) : reply.nil;
    this.store(a[0], a[1], expiresAt ?? (keepTtl ? 'keep' : undefined), old);
    return get ? reply.bulk(old ?? null) : reply.ok;
  }

  /** The store as it is now, unaffected by later commands (for a snapshot written over many event-loop turns). */
  private copy(): Iterable<StoredEntry> {
    const values = new Map(this.values); // copied now, not when first read: generators start lazily
    const expires = new Map(this.expires);
    return (function* () {
      for (const [key, value] of values) yield { key, value, expiresAt: expires.get(key) };
    })();
  }

  /** Remaining time to live in ms: -2 no key, -1 no expiry. */
  private pttl(key: string): number {
    if (this.lookup(key) === undefined) return -2;
    const exp = this.expires.get(key);
    return exp === undefined ? -1 : Math.max(0, exp - Date.now());
  }

  private info(): string {
    this.sweep();
    const lines = [
      '# Server',
      `server_id:${this.options.serverId}`,
      `tcp_port:${(this.tcp.address() as net.AddressInfo | null)?.port ?? this.options.port}`,
      `uptime_in_seconds:${Math.floor((Date.now() - this.started) / 1000)}`,
      '# Clients',
      `connected_clients:${this.connections.size}`,
      '# Persistence',
      'loading:0',
      `aof_enabled:${this.persistence ? 1 : 0}`,
      '# Stats',
      `total_commands_processed:${this.totalCommands}`,
      `expired_keys:${this.expiredKeys}`,
      '# Commandstats',
      ...[...new Set(this.commands.values())]
        .filter((cmd) => cmd.calls > 0)
        .map((cmd) => `cmdstat_${cmd.name}:calls=${cmd.calls}`),
      '# Keyspace',
      ...(this.values.size > 0 ? [`db0:keys=${this.values.size},expires=${this.expires.size}`] : []),
    ];
    return reply.bulk(lines.join('\r\n') + '\r\n');
  }

  private table(): Record<string, CommandSpec> {
    return {
      ping: {
        arity: -1,
        run: (a) =>
          a.length === 0
            ? reply.simple('PONG')
            : a.length === 1
              ? reply.bulk(a[0])
              : reply.error("ERR wrong number of arguments for 'ping' command"),
      },
      echo: { arity: 2, run: (a) => reply.bulk(a[0]) },
      get: { arity: 2, run: (a) => reply.bulk(this.lookup(a[0]) ?? null) },
      set: { arity: -3, run: (a) => this.setCommand(a) },
      del: {
        arity: -2,
        run: (a) => {
          let n = 0;
          for (const key of a) {
            if (this.lookup(key) === undefined) continue;
            this.remove(key);
            this.persistence?.recordDelete(key);
            n++;
          }
          return reply.integer(n);
        },
      },
      exists: { arity: -2, run: (a) => reply.integer(a.filter((k) => this.lookup(k) !== undefined).length) },
      incr: { arity: 2, run: (a) => this.incrBy(a[0], 1n) },
      decr: { arity: 2, run: (a) => this.incrBy(a[0], -1n) },
      incrby: {
        arity: 3,
        run: (a) => {
          const by = parseInt64(a[1]);
          return by === undefined ? notInteger : this.incrBy(a[0], by);
        },
      },
      decrby: {
        arity: 3,
        run: (a) => {
          const by = parseInt64(a[1]);
          if (by === undefined) return notInteger;
          if (by === INT64_MIN) return reply.error('ERR decrement would overflow'); // its negation is not an int64
          return this.incrBy(a[0], -by);
        },
      },
      expire: { arity: -3, run: (a) => this.expireCommand('expire', a, 1000) },
      pexpire: { arity: -3, run: (a) => this.expireCommand('pexpire', a, 1) },
      ttl: {
        arity: 2,
        run: (a) => {
          const ms = this.pttl(a[0]);
          return reply.integer(ms < 0 ? ms : Math.round(ms / 1000));
        },
      },
      pttl: { arity: 2, run: (a) => reply.integer(this.pttl(a[0])) },
      keys: {
        arity: 2,
        run: (a) => {
          this.sweep();
          const out: string[] = [];
          for (const key of this.values.keys()) if (globMatch(a[0], key)) out.push(key);
          return reply.bulkArray(out);
        },
      },
      scan: {
        arity: -2,
        run: (a) => {
          const cursor = parseCursor(a[0]);
          if (cursor === undefined) return reply.error('ERR invalid cursor');
          let count = 10;
          let pattern: string | undefined;
          let onlyStrings = true;
          for (let i = 1; i < a.length; i += 2) {
            const opt = a[i].toLowerCase();
            if (i + 1 >= a.length) return syntaxError;
            if (opt === 'count') {
              const n = parseInt64(a[i + 1]);
              if (n === undefined) return notInteger;
              if (n < 1n) return syntaxError;
              count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
            } else if (opt === 'match') {
              pattern = a[i + 1] === '*' ? undefined : a[i + 1];
            } else if (opt === 'type') {
              onlyStrings = a[i + 1].toLowerCase() === 'string'; // every value here is a string
            } else {
              return syntaxError;
            }
          }
          return this.scan(cursor, count, pattern, onlyStrings);
        },
      },
      dbsize: {
        arity: 1,
        run: () => {
          this.sweep();
          return reply.integer(this.values.size);
        },
      },
      flushdb: {
        arity: -1,
        run: (a) => {
          if (a.length > 1 || (a.length === 1 && !['sync', 'async'].includes(a[0].toLowerCase()))) return syntaxError;
          this.clear();
          this.persistence?.recordFlush();
          return reply.ok;
        },
      },
      multi: {
        arity: 1,
        run: (_a, conn) => {
          if (conn.queue !== undefined) return reply.error('ERR MULTI calls can not be nested');
          conn.queue = [];
          conn.queuedBytes = 0;
          conn.dirty = false;
          return reply.ok;
        },
      },
      exec: {
        arity: 1,
        run: (_a, conn) => {
          const queued = conn.queue;
          if (queued === undefined) return reply.error('ERR EXEC without MULTI');
          conn.queue = undefined;
          if (conn.dirty) return reply.error('EXECABORT Transaction discarded because of previous errors.');
          // Every queued command runs now, one after the other, with no other client's command in between; their
          // changes reach the log as one unit.
          const runAll = (): string[] =>
            queued.map((args) => this.run(this.commands.get(args[0].toLowerCase())!, args, conn));
          return reply.array(this.persistence ? this.persistence.atomically(runAll) : runAll());
        },
      },
      discard: {
        arity: 1,
        run: (_a, conn) => {
          if (conn.queue === undefined) return reply.error('ERR DISCARD without MULTI');
          conn.queue = undefined;
          return reply.ok;
        },
      },
      info: { arity: -1, run: () => this.info() },
      command: { arity: -1, run: () => reply.array([]) },
      client: {
        arity: -2,
        run: (a) => {
          const sub = a[0].toUpperCase();
          if (sub === 'SETNAME' || sub === 'SETINFO') return reply.ok;
          if (sub === 'GETNAME') return reply.nil;
          return reply.error(`ERR unknown subcommand '${a[0].slice(0, 40)}'. Try CLIENT SETNAME, CLIENT SETINFO.`);
        },
      },
      hello: { arity: -1, run: () => reply.error('NOPROTO this server speaks RESP2 only') },
      select: {
        arity: 2,
        run: (a) => {
          const db = parseInt64(a[0]);
          if (db === undefined || db > 2147483647n || db < -2147483648n) return notInteger;
          return db === 0n ? reply.ok : reply.error('ERR DB index is out of range'); // one database, where Redis has 16
        },
      },
      quit: {
        arity: -1,
        run: (_a, conn) => {
          conn.closing = true;
          return reply.ok;
        },
      },
    };
  }

  /** Stops timers and connections, then writes the last snapshot. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const c of this.connections) c.socket.destroy();
    await closed;
    if (this.persistence) {
      await this.persistence.whenIdle();
      await this.persistence.snapshot(this.copy());
      await this.persistence.close();
    }
  }
}

/** Starts a server and resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const server = new KVServer({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    serverId: options.serverId ?? 1,
    dataDir: options.dataDir,
    fsync: options.fsync ?? 'everysec',
    snapshotIntervalMs: options.snapshotIntervalMs ?? 10_000,
    sweepIntervalMs: options.sweepIntervalMs ?? 5_000,
  });
  await new Promise<void>((resolve, reject) => {
    server.tcp.once('error', reject);
    server.tcp.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.tcp.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await server.close().catch(() => undefined);
    throw err;
  });
  const address = server.tcp.address() as net.AddressInfo;
  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => server.close() };
}
