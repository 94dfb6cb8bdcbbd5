/**
 * Lab 5's shared types — GIVEN, do not change. Your server.ts, persistence.ts and client.ts implement them;
 * the tests, the cluster tool and the interactive client use them.
 */

/** When the append-only log is forced to disk (fsync). */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** How startServer is configured. Every field has a default. */
export interface ServerOptions {
  /** TCP port; 0 (the default) picks a free one — read it back from RunningServer.port. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Reported as server_id in INFO (default 1). */
  serverId?: number;
  /** Folder for the snapshot and the append-only log; created if missing. Undefined: no persistence. */
  dataDir?: string;
  /** fsync policy of the append-only log (default 'everysec'). */
  fsync?: FsyncPolicy;
  /** How often a snapshot is written and the log compacted, ms (default 10,000, as in the original). */
  snapshotIntervalMs?: number;
  /** How often the background sweep removes expired keys, ms (default 5,000, as in the original). */
  sweepIntervalMs?: number;
}

/** A server that is listening. */
export interface RunningServer {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** The address it listens on. */
  readonly host: string;
  /**
   * Stops it: no new connections, open connections closed, timers stopped, the log flushed and a final
   * snapshot written. Resolves once the port is free again.
   */
  close(): Promise<void>;
}

/** The signature of server.ts's startServer. */
export type StartServer = (options?: ServerOptions) => Promise<RunningServer>;

/** One server of the cluster, as the client knows it. */
export interface ServerAddress {
  /** 1, 2, 3, ... (the original's server_id). */
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** How the client picks a key's server. */
export type Sharding = 'modulo' | 'ring';

/** A retry the client is about to make (passed to ClientOptions.onRetry). */
export interface RetryNotice {
  readonly server: ServerAddress;
  /** 1 for the first retry, up to `retries`. */
  readonly attempt: number;
  readonly retries: number;
  /** Why the previous attempt failed. */
  readonly error: Error;
}

/** ShardedClient's options. */
export interface ClientOptions {
  /** 'modulo' (the original's: md5(key) mod n, the default) or 'ring' (consistent hashing with virtual nodes). */
  sharding?: Sharding;
  /** Retries after a failed attempt (default 3: four attempts in all). */
  retries?: number;
  /** Wait before each retry, ms (default 500). */
  retryDelayMs?: number;
  /** Time allowed for one attempt, from sending to the reply, ms (default 5,000). */
  timeoutMs?: number;
  /** Called before each retry (the interactive client prints "[RETRY] ..."). */
  onRetry?: (notice: RetryNotice) => void;
}

/** Thrown by the client when a server could not be reached after all retries. */
export class ServerUnavailableError extends Error {
  readonly server: ServerAddress;
  readonly attempts: number;
  readonly lastError: Error;
  override name = 'ServerUnavailableError';
  constructor(server: ServerAddress, attempts: number, lastError: Error) {
    super(
      `Server ${server.id} (${server.host}:${server.port}) unavailable${attempts > 0 ? ` after ${attempts - 1} retries` : ''}: ${lastError.message}`,
    );
    this.server = server;
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

/** Thrown by the client when the server answered with an error reply (e.g. "ERR value is not an integer"). */
export class ServerReplyError extends Error {
  readonly server: ServerAddress;
  override name = 'ServerReplyError';
  constructor(server: ServerAddress, message: string) {
    super(message);
    this.server = server;
  }
}

/** What client.ts's ShardedClient offers (the tests and the interactive client use only this). */
export interface KVClient {
  /** The servers, in the order given to the constructor. */
  readonly servers: readonly ServerAddress[];
  /** The index (in `servers`) of the server that holds `key`. */
  indexFor(key: string): number;
  /** The server that holds `key`. */
  serverFor(key: string): ServerAddress;
  /** Sends any command to server `index` (with retries); an error reply throws ServerReplyError. */
  command(index: number, args: ReadonlyArray<string | number>): Promise<import('./resp').RespReply>;
  /** Sets a key, with an optional time to live in seconds. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** The key's value, or null. */
  get(key: string): Promise<string | null>;
  /** Deletes a key; true if it existed. */
  del(key: string): Promise<boolean>;
  /** Sets a time to live in seconds; false if the key does not exist. */
  expire(key: string, seconds: number): Promise<boolean>;
  /** Seconds left to live: -1 no expiry, -2 no such key. */
  ttl(key: string): Promise<number>;
  /** Adds 1 to an integer value and returns it. */
  incr(key: string): Promise<number>;
  /** Keys on server `index` matching a glob pattern (default "*"). */
  keys(index: number, pattern?: string): Promise<string[]>;
  /** Server `index`'s statistics. */
  stats(index: number): Promise<import('./info').ServerStats>;
  /** Closes the connections. */
  close(): void;
}

/** What client.ts's HashRing offers. */
export interface ConsistentRing {
  /** Adds a node (a server id). */
  add(node: number): void;
  /** Removes a node. */
  remove(node: number): void;
  /** The node that owns `key`. */
  nodeFor(key: string): number;
}
