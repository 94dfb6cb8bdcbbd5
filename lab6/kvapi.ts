/**
 * Lab 6, parts 6-7 — the replicated key/value service's RPCs and clerk: lab 2's versioned Put and Get, served by
 * every server of a Raft group. Given: do not change this file (the grader checks it is untouched).
 */
import type { ClientEnd, RpcEnd } from '../labrpc';
import type { Persister } from './persister';
import type { RsmPeer } from './rsmapi';

/** A key's version: 0 means "the key does not exist yet"; every successful put adds 1. */
export type Version = number;

/** Arguments of the KVServer.Put RPC. */
export interface PutArgs {
  key: string;
  value: string;
  /** The version the caller believes the key has now (0 to create a new key). */
  version: Version;
}

/** A server's answer to a put: done, no such key, wrong version, or "I am not the leader: ask another server". */
export type PutErr = 'OK' | 'ErrNoKey' | 'ErrVersion' | 'ErrWrongLeader';

/** Reply of the KVServer.Put RPC. */
export interface PutReply {
  err: PutErr;
}

/** Arguments of the KVServer.Get RPC. */
export interface GetArgs {
  key: string;
}

/** Reply of the KVServer.Get RPC: the value and its version, ErrNoKey, or ErrWrongLeader. */
export type GetReply = { err: 'OK'; value: string; version: Version } | { err: 'ErrNoKey' } | { err: 'ErrWrongLeader' };

/**
 * What Clerk.put returns: the service's answer, or ErrMaybe when a re-sent put got ErrVersion, so the clerk
 * cannot tell whether an earlier attempt took effect. Never ErrWrongLeader: the clerk tries another server.
 */
export type PutResult = 'OK' | 'ErrNoKey' | 'ErrVersion' | 'ErrMaybe';

/** What Clerk.get returns. */
export type GetResult = { err: 'OK'; value: string; version: Version } | { err: 'ErrNoKey' };

/** One server of the key/value service (its Get and Put are called over labrpc as "KVServer.Get" and "KVServer.Put"). */
export interface KVService {
  Get(args: GetArgs): GetReply | Promise<GetReply>;
  Put(args: PutArgs): PutReply | Promise<PutReply>;
  /** The server's RSM (the tester reaches its Raft peer through it). */
  readonly rsm: RsmPeer;
  /** Stops the server, its RSM and its Raft peer. */
  kill(): void;
}

/**
 * How the tester builds a server: `new KVServer(peers, me, persister, maxRaftState)`; it builds its RSM (and so
 * its Raft peer) on these.
 */
export type KVServerConstructor = new (
  peers: readonly RpcEnd[],
  me: number,
  persister: Persister,
  maxRaftState: number,
) => KVService;

/** The client side, as the tests use it. */
export interface KVClerk {
  /** Reads a key; tries the servers until one that leads answers. */
  get(key: string): Promise<GetResult>;
  /** Writes a key if its version matches; tries the servers until one that leads answers. */
  put(key: string, value: string, version: Version): Promise<PutResult>;
}

/** How the tester builds a clerk: `new Clerk(servers)`, one end per server of the group. */
export type ClerkConstructor = new (servers: readonly ClientEnd[]) => KVClerk;
