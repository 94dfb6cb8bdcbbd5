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
import { ProtocolError, RequestParser, reply } from '../../lab5/resp';
import type { RunningServer, ServerOptions } from '../../lab5/types';
import { Persistence, StoredEntry } from './persistence';

/** A command's handler: gets the arguments after the name, returns the encoded reply. */
type Handler = (args: string[], conn: Connection) => string;

/** A command: its arity as in Redis (n: exactly n words with the name; -n: at least n) and handler. */
interface Command {
  arity: number;
  run: Handler;
}

/** What the server keeps per connection. */
interface Connection {
  socket: net.Socket;
  parser: RequestParser;
  /** Set by QUIT: close after the replies are written. */
  closing: boolean;
  /** Its unsent replies passed OUTPUT_PAUSE_BYTES: its socket is paused until they drain. */
  stalled: boolean;
}

/** Unsent replies to one client, bytes, beyond which its commands wait until the socket drains (backpressure). */
const OUTPUT_PAUSE_BYTES = 1 << 20;
/** Unsent replies to one client, bytes, beyond which it is disconnected (one reply that large: KEYS on a big store). */
const OUTPUT_LIMIT_BYTES = 256 << 20;

const MAX_EXPIRE_MS = 100 * 365 * 24 * 3600 * 1000;

class KVServer {
  private readonly values = new Map<string, string>();
  /** Absolute expiry time (ms) of keys that have one. */
  private readonly expires = new Map<string, number>();
  private readonly calls = new Map<string, number>();
  private totalCommands = 0;
  private expiredKeys = 0;
  private readonly connections = new Set<Connection>();
  private readonly commands: Record<string, Command>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started = Date.now();
  readonly tcp: net.Server;
  private readonly persistence: Persistence | undefined;

  constructor(private readonly options: Required<Omit<ServerOptions, 'dataDir'>> & { dataDir?: string }) {
    this.commands = this.table();
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
    const conn: Connection = { socket, parser: new RequestParser(), closing: false, stalled: false };
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
      console.warn(`closing a client whose unsent replies reached ${conn.socket.writableLength} bytes (limit ${OUTPUT_LIMIT_BYTES})`);
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

  private execute(args: string[], conn: Connection): string {
    const name = args[0].toLowerCase();
    const cmd = Object.prototype.hasOwnProperty.call(this.commands, name) ? this.commands[name] : undefined;
    if (cmd === undefined) {
      const rest = args.slice(1, 4).map((a) => `'${a.slice(0, 40)}'`).join(' ');
      return reply.error(`ERR unknown command '${args[0].slice(0, 40)}', with args beginning with: ${rest}`);
    }
    if (cmd.arity > 0 ? args.length !== cmd.arity : args.length < -cmd.arity) {
      return reply.error(`ERR wrong number of arguments for '${name}' command`);
    }
    this.totalCommands++;
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    return cmd.run(args.slice(1), conn);
  }

  /** The key's value, removing it first if it has expired. */
  private lookup(key: string): string | undefined {
    const exp = this.expires.get(key);
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
  }

  /** Stores a value; `expiresAt` undefined clears any expiry, 'keep' keeps it. */
  private store(key: string, value: string, expiresAt: number | undefined | 'keep'): void {
    this.values.set(key, value);
    if (expiresAt === undefined) this.expires.delete(key);
    else if (expiresAt !== 'keep') this.expires.set(key, expiresAt);
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

  /** The store as it is now, unaffected by later commands (for a snapshot written over many event-loop turns). */
  private copy(): Iterable<StoredEntry> {
    const values = new Map(this.values); // copied now, not when first read: generators start lazily
    const expires = new Map(this.expires);
    return (function* () {
      for (const [key, value] of values) yield { key, value, expiresAt: expires.get(key) };
    })();
  }

  /** Sets an expiry `ms` from now on an existing key: 1, or 0 if there is no such key. */
  private expire(key: string, ms: number): string {
    if (this.lookup(key) === undefined) return reply.integer(0);
    if (ms <= 0) {
      this.remove(key);
      this.persistence?.recordDelete(key);
      return reply.integer(1);
    }
    this.expires.set(key, Date.now() + ms);
    this.persistence?.recordSet(key, this.values.get(key)!, this.expires.get(key));
    return reply.integer(1);
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
      ...[...this.calls].map(([name, n]) => `cmdstat_${name}:calls=${n}`),
      '# Keyspace',
      ...(this.values.size > 0 ? [`db0:keys=${this.values.size},expires=${this.expires.size}`] : []),
    ];
    return reply.bulk(lines.join('\r\n') + '\r\n');
  }

  private table(): Record<string, Command> {
    const int = (text: string): number | undefined => (/^-?\d{1,15}$/.test(text) ? Number(text) : undefined);
    const notInt = reply.error('ERR value is not an integer or out of range');
    return {
      ping: { arity: -1, run: (a) => (a.length === 0 ? reply.simple('PONG') : a.length === 1 ? reply.bulk(a[0]) : reply.error("ERR wrong number of arguments for 'ping' command")) },
      echo: { arity: 2, run: (a) => reply.bulk(a[0]) },
      get: { arity: 2, run: (a) => reply.bulk(this.lookup(a[0]) ?? null) },
      set: {
        arity: -3,
        run: (a) => {
          let expiresAt: number | undefined;
          for (let i = 2; i < a.length; i++) {
            const opt = a[i].toUpperCase();
            if ((opt === 'EX' || opt === 'PX') && i + 1 < a.length && expiresAt === undefined) {
              const n = int(a[++i]);
              if (n === undefined) return notInt;
              const ms = opt === 'EX' ? n * 1000 : n;
              if (ms <= 0 || ms > MAX_EXPIRE_MS) return reply.error("ERR invalid expire time in 'set' command");
              expiresAt = Date.now() + ms;
            } else {
              return reply.error('ERR syntax error');
            }
          }
          this.lookup(a[0]);
          this.store(a[0], a[1], expiresAt);
          return reply.ok;
        },
      },
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
      incr: {
        arity: 2,
        run: (a) => {
          const cur = this.lookup(a[0]) ?? '0';
          const n = int(cur);
          if (n === undefined || !Number.isSafeInteger(n + 1)) return notInt;
          this.store(a[0], String(n + 1), 'keep');
          return reply.integer(n + 1);
        },
      },
      expire: { arity: 3, run: (a) => (int(a[1]) === undefined ? notInt : this.expire(a[0], Math.min(int(a[1])! * 1000, MAX_EXPIRE_MS))) },
      pexpire: { arity: 3, run: (a) => (int(a[1]) === undefined ? notInt : this.expire(a[0], Math.min(int(a[1])!, MAX_EXPIRE_MS))) },
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
      dbsize: {
        arity: 1,
        run: () => {
          this.sweep();
          return reply.integer(this.values.size);
        },
      },
      flushdb: {
        arity: -1,
        run: () => {
          this.values.clear();
          this.expires.clear();
          this.persistence?.recordFlush();
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
      select: { arity: 2, run: (a) => (a[0] === '0' ? reply.ok : reply.error('ERR DB index is out of range')) },
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
