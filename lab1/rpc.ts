/**
 * Lab 1 — what the tester, your clerk and your server share. Given: do not change this file (the grader
 * checks it is untouched).
 *
 * The RPC messages between your clerk and your server are yours to design: declare them in server.ts.
 */
import type { RpcEnd } from '../labrpc';

/** The shape of the cluster: `nshards` servers, each the first home of one shard, every shard on `nreplicas` servers. */
export interface ClusterConfig {
  /** Number of shards, which is also the number of servers (at least 1). */
  readonly nshards: number;
  /** How many servers hold each shard (1 = no replication; at most nshards). */
  readonly nreplicas: number;
}

/** What the tester hands a server when it creates it. */
export interface ServerConfig extends ClusterConfig {
  /** This server's number, 0 .. nshards-1. */
  readonly me: number;
  /** Ends to every server, indexed by server number (peers[me] is this server itself). Calls reject with TimeoutError when lost. */
  readonly peers: readonly RpcEnd[];
  /**
   * Whether the tester has server `server` running right now. The tester plays the part of a perfect failure
   * detector: a stopped server is cut off from the network, and every server can ask who is up.
   */
  isRunning(server: number): boolean;
}

/** The clerk's interface, as the tests use it. Keys and values are strings. */
export interface KVClerk {
  /** The key's current value, or "" when the key was never written. Keeps trying until it has the answer. */
  get(key: string): Promise<string>;
  /** Installs or replaces the key's value. Takes effect exactly once, however many messages are lost. */
  put(key: string, value: string): Promise<void>;
  /** Appends `arg` to the key's value (a missing key counts as "") and returns the value it had just before. Exactly once. */
  append(key: string, arg: string): Promise<string>;
}

/** The shard a key belongs to: `Number(key) % nshards` for keys that are whole numbers, shard 0 for any other key. */
export function keyToShard(key: string, nshards: number): number {
  const n = Number(key);
  return key !== '' && Number.isSafeInteger(n) && n >= 0 ? n % nshards : 0;
}

/** The servers that hold `shard`, in order: the shard's own server first, then the next nreplicas-1 (wrapping around). */
export function shardServers(shard: number, config: ClusterConfig): number[] {
  const servers: number[] = [];
  for (let i = 0; i < config.nreplicas; i++) servers.push((shard + i) % config.nshards);
  return servers;
}
