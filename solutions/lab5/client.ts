/**
 * Lab 5 — the sharding client. Reference solution.
 *
 * One persistent connection per server, used for many requests (the original opened a socket per request).
 * Requests on a connection are answered in order, so replies are matched to requests by a FIFO queue.
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { parseStats, ServerStats } from '../../lab5/info';
import { encodeCommand, ReplyParser, RespError, RespReply } from '../../lab5/resp';
import {
  ClientOptions,
  ConsistentRing,
  KVClient,
  ServerAddress,
  ServerReplyError,
  ServerUnavailableError,
} from '../../lab5/types';

/** The original's sharding: the key's MD5 digest, read as a 128-bit number, modulo the number of servers. */
export function md5Shard(key: string, servers: number): number {
  const digest = createHash('md5').update(key, 'utf8').digest('hex');
  return Number(BigInt(`0x${digest}`) % BigInt(servers));
}

/** A point on the ring: the first 8 hex digits (32 bits) of the MD5 digest. */
function ringPoint(text: string): number {
  return parseInt(createHash('md5').update(text, 'utf8').digest('hex').slice(0, 8), 16);
}

/**
 * Consistent hashing: each node owns `vnodes` points on a ring of 2^32 positions; a key belongs to the node
 * of the first point at or after the key's own position (wrapping around). Adding a node takes over only the
 * arcs just before its points — about 1/(n+1) of the keys — and moves nothing between the old nodes.
 */
export class HashRing implements ConsistentRing {
  readonly vnodes: number;

  /** Points sorted by position, with their owner. */
  private points: Array<{ at: number; node: number }> = [];

  constructor(nodes: readonly number[] = [], vnodes = 160) {
    this.vnodes = vnodes;
    for (const n of nodes) this.add(n);
  }

  /** Adds a node (a server id). */
  add(node: number): void {
    for (let i = 0; i < this.vnodes; i++) this.points.push({ at: ringPoint(`server-${node}#${i}`), node });
    this.points.sort((a, b) => a.at - b.at || a.node - b.node);
  }

  /** Removes a node; its keys go to the nodes after its points. */
  remove(node: number): void {
    this.points = this.points.filter((p) => p.node !== node);
  }

  /** The node that owns `key`. Throws if the ring is empty. */
  nodeFor(key: string): number {
    if (this.points.length === 0) throw new Error('HashRing.nodeFor: the ring has no nodes');
    const at = ringPoint(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].at < at) lo = mid + 1;
      else hi = mid;
    }
    return this.points[lo === this.points.length ? 0 : lo].node;
  }
}

interface Pending {
  resolve: (r: RespReply) => void;
  reject: (e: Error) => void;
}

/** A persistent connection to one server, opened on first use and again after it breaks. */
class Connection {
  private readonly address: ServerAddress;
  private socket: net.Socket | undefined;
  private parser = new ReplyParser();
  private queue: Pending[] = [];

  constructor(address: ServerAddress) {
    this.address = address;
  }

  /** Sends one command; rejects on a broken connection or after `timeoutMs` without a reply. */
  send(args: ReadonlyArray<string | number>, timeoutMs: number): Promise<RespReply> {
    const socket = this.socket ?? this.open();
    return new Promise<RespReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A reply may still come, but the queue would then pair replies with the wrong requests: start over.
        this.fail(socket, new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.queue.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(encodeCommand(args));
    });
  }

  private open(): net.Socket {
    const socket = net.connect({ host: this.address.host, port: this.address.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.parser = new ReplyParser();
    socket.on('data', (chunk) => {
      if (this.socket !== socket) return;
      this.parser.push(chunk);
      try {
        for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) this.queue.shift()?.resolve(r);
      } catch (err) {
        this.fail(socket, err as Error);
      }
    });
    socket.on('error', (err) => this.fail(socket, err));
    socket.on('close', () => this.fail(socket, new Error('connection closed by the server')));
    return socket;
  }

  /** Drops the connection and fails every request waiting on it. */
  private fail(socket: net.Socket, err: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    const waiting = this.queue;
    this.queue = [];
    for (const p of waiting) p.reject(err);
  }

  close(): void {
    if (this.socket) this.fail(this.socket, new Error('client closed'));
  }
}

/** The client of the sharded store: routes each key to its server, retries when a server does not answer. */
export class ShardedClient implements KVClient {
  private readonly options: ClientOptions;
  readonly servers: readonly ServerAddress[];
  private readonly connections: Connection[];
  private readonly ring: HashRing | undefined;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  /** Set by close(): no call makes another attempt. */
  private closed = false;
  /** The retry waits in progress, each ended (early, by close) by calling it. */
  private readonly pauses = new Set<() => void>();

  constructor(servers: readonly ServerAddress[], options: ClientOptions = {}) {
    this.options = options;
    if (servers.length === 0) throw new Error('ShardedClient needs at least one server');
    this.servers = [...servers];
    this.connections = servers.map((s) => new Connection(s));
    this.ring = options.sharding === 'ring' ? new HashRing(servers.map((s) => s.id)) : undefined;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The index (in `servers`) of the server that holds `key`. */
  indexFor(key: string): number {
    if (this.ring) {
      const id = this.ring.nodeFor(key);
      return this.servers.findIndex((s) => s.id === id);
    }
    return md5Shard(key, this.servers.length);
  }

  /** The server that holds `key`. */
  serverFor(key: string): ServerAddress {
    return this.servers[this.indexFor(key)];
  }

  /** Sends a command to server `index`, retrying on connection failures; error replies throw ServerReplyError. */
  async command(index: number, args: ReadonlyArray<string | number>): Promise<RespReply> {
    const server = this.servers[index];
    if (server === undefined)
      throw new RangeError(`there is no server number ${index} (there are ${this.servers.length})`);
    let lastError: Error | undefined;
    let attempts = 0;
    while (!this.closed) {
      let reply: RespReply;
      attempts++;
      try {
        reply = await this.connections[index].send(args, this.timeoutMs);
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        if (attempts > this.retries || this.closed) break;
        this.options.onRetry?.({ server, attempt: attempts, retries: this.retries, error: lastError });
        await this.pause();
        continue;
      }
      if (reply instanceof RespError) throw new ServerReplyError(server, reply.message);
      return reply;
    }
    throw new ServerUnavailableError(server, attempts, lastError ?? new Error('the client is closed'));
  }

  /** Waits `retryDelayMs` before the next attempt, or less: close() ends every wait at once. */
  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.pauses.delete(end);
        resolve();
      };
      const timer = setTimeout(end, this.retryDelayMs);
      this.pauses.add(end);
    });
  }

  private onKey(key: string, args: ReadonlyArray<string | number>): Promise<RespReply> {
    return this.command(this.indexFor(key), args);
  }

  /** Sets a key, with an optional time to live in seconds. */
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    await this.onKey(key, ttlSeconds === undefined ? ['SET', key, value] : ['SET', key, value, 'EX', ttlSeconds]);
  }

  /** The key's value, or null if it does not exist. */
  async get(key: string): Promise<string | null> {
    return (await this.onKey(key, ['GET', key])) as string | null;
  }

  /** Deletes a key; true if it existed. */
  async del(key: string): Promise<boolean> {
    return (await this.onKey(key, ['DEL', key])) === 1;
  }

  /** Sets a key's time to live in seconds; false if the key does not exist. */
  async expire(key: string, seconds: number): Promise<boolean> {
    return (await this.onKey(key, ['EXPIRE', key, seconds])) === 1;
  }

  /** Seconds left to live: -1 for no expiry, -2 for no such key. */
  async ttl(key: string): Promise<number> {
    return (await this.onKey(key, ['TTL', key])) as number;
  }

  /** Adds 1 to an integer value (a missing key counts as 0) and returns the result. */
  async incr(key: string): Promise<number> {
    return (await this.onKey(key, ['INCR', key])) as number;
  }

  /** The keys on server `index` that match a glob pattern. */
  async keys(index: number, pattern = '*'): Promise<string[]> {
    return (await this.command(index, ['KEYS', pattern])) as string[];
  }

  /** Server `index`'s statistics, from its INFO reply. */
  async stats(index: number): Promise<ServerStats> {
    return parseStats((await this.command(index, ['INFO'])) as string);
  }

  /** Closes every connection and ends every call still running, with no further attempt; later calls fail at once. */
  close(): void {
    this.closed = true;
    for (const end of [...this.pauses]) end();
    for (const c of this.connections) c.close();
  }
}
