/**
 * Lab 3 — types shared by the servers, the tests and the runner. Given: do not change this file.
 *
 * Clients talk to one server each with two RPCs, "KVServer.Read" and "KVServer.Write". What servers say to
 * each other (broadcasts, acknowledgements, propagated writes) is yours to design: see lab3/README.md.
 */
import type { RpcEnd } from '../labrpc';

/** The three consistency models a cluster can run. */
export type ConsistencyLevel = 'linearizable' | 'sequential' | 'eventual';

/** Every consistency level, in the order the handout presents them (strongest first). */
export const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = ['linearizable', 'sequential', 'eventual'];

/** A server's index in the cluster: 0 … n−1. Also the tie-breaker after the Lamport timestamp. */
export type ServerId = number;

/** A Lamport timestamp made unique by the id of the server that issued it: compare clock first, then server. */
export interface Timestamp {
  clock: number;
  server: ServerId;
}

/** Arguments of KVServer.Read. */
export interface ReadArgs {
  key: string;
}

/** Reply of KVServer.Read: the value, or "" for a key nobody has written (as far as this server knows). */
export interface ReadReply {
  value: string;
}

/** Arguments of KVServer.Write. */
export interface WriteArgs {
  key: string;
  value: string;
}

/** Reply of KVServer.Write: sent once the write is done as far as the consistency level requires. */
export interface WriteReply {
  ok: true;
}

/** How the tests and the runner build a server. */
export interface ServerOptions {
  /** This server's id. */
  me: ServerId;
  /**
   * One end per server of the cluster, indexed by server id, including `peers[me]` (an end to this server
   * itself). Calls over them take a few milliseconds, may overtake each other, and are never lost.
   */
  peers: readonly RpcEnd[];
  /** The consistency level the whole cluster runs. */
  level: ConsistencyLevel;
}

/** The client-facing RPC handlers of a lab 3 server (called over labrpc as "KVServer.Read" and "KVServer.Write"). */
export interface KVService {
  Read(args: ReadArgs): ReadReply | Promise<ReadReply>;
  Write(args: WriteArgs): WriteReply | Promise<WriteReply>;
}
