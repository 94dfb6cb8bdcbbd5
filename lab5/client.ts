/**
 * Lab 5 — the sharding client. YOU WRITE THIS FILE. See lab5/README.md, part 4.
 *
 * md5Shard is the original's placement; HashRing is consistent hashing with virtual nodes; ShardedClient sends
 * each key's commands to its server over a persistent connection (encodeCommand / ReplyParser from
 * lab5/resp.ts), retries `retries` times `retryDelayMs` apart when a server cannot be reached or does not
 * answer within `timeoutMs`, and then throws ServerUnavailableError. An error reply is an answer: throw
 * ServerReplyError at once, without retrying.
 */
import type { ServerStats } from './info';
import type { RespReply } from './resp';
import type { ClientOptions, ConsistentRing, KVClient, ServerAddress } from './types';

/** The original's sharding: the key's MD5 digest (UTF-8 bytes), read as one 128-bit number, modulo `servers`. */
export function md5Shard(key: string, servers: number): number {
  throw new Error(
    `TODO: md5Shard is not implemented yet (key "${key}", ${servers} servers); see lab5/README.md, part 4`,
  );
}

/** Consistent hashing: every node owns `vnodes` points on a ring; a key belongs to the next point clockwise. */
export class HashRing implements ConsistentRing {
  readonly vnodes: number;

  constructor(nodes: readonly number[] = [], vnodes = 160) {
    this.vnodes = vnodes;

    // TODO: add each node.
    void nodes;
  }

  /** Adds a node (a server id). */
  add(node: number): void {
    throw new Error(`TODO: HashRing.add is not implemented yet (node ${node}); see lab5/README.md, part 4`);
  }

  /** Removes a node. */
  remove(node: number): void {
    throw new Error(`TODO: HashRing.remove is not implemented yet (node ${node}); see lab5/README.md, part 4`);
  }

  /** The node that owns `key`. */
  nodeFor(key: string): number {
    throw new Error(`TODO: HashRing.nodeFor is not implemented yet (key "${key}"); see lab5/README.md, part 4`);
  }
}

function todo(what: string): never {
  throw new Error(`TODO: ShardedClient.${what} is not implemented yet; see lab5/README.md, part 4`);
}

/** The client of the sharded store. */
export class ShardedClient implements KVClient {
  readonly servers: readonly ServerAddress[];

  constructor(servers: readonly ServerAddress[], options: ClientOptions = {}) {
    this.servers = [...servers];
    void options;
    // TODO: one connection per server (opened on first use), the sharding, the retry settings.
  }

  indexFor(key: string): number {
    return todo(`indexFor("${key}")`);
  }

  serverFor(key: string): ServerAddress {
    return todo(`serverFor("${key}")`);
  }

  async command(index: number, args: ReadonlyArray<string | number>): Promise<RespReply> {
    return todo(`command(${index}, ${JSON.stringify(args)})`);
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    return todo(`set("${key}", ${value.length} bytes, ttl ${ttlSeconds})`);
  }

  async get(key: string): Promise<string | null> {
    return todo(`get("${key}")`);
  }

  async del(key: string): Promise<boolean> {
    return todo(`del("${key}")`);
  }

  async expire(key: string, seconds: number): Promise<boolean> {
    return todo(`expire("${key}", ${seconds})`);
  }

  async ttl(key: string): Promise<number> {
    return todo(`ttl("${key}")`);
  }

  async incr(key: string): Promise<number> {
    return todo(`incr("${key}")`);
  }

  async keys(index: number, pattern = '*'): Promise<string[]> {
    return todo(`keys(${index}, "${pattern}")`);
  }

  async stats(index: number): Promise<ServerStats> {
    return todo(`stats(${index})`);
  }

  close(): void {
    // TODO: close the connections, end every call still running (one waiting for its next retry too) with a
    // ServerUnavailableError, and make later calls fail the same way without connecting (README, part 4, Closing).
  }
}
