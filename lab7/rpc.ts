/**
 * Lab 7 — the shard groups' RPCs, and the interfaces the tester builds your code by. Given: do not change this
 * file (the grader checks it is untouched).
 *
 * A shard group is a lab 6 key/value service whose servers serve only the shards they own. Clerks call
 * "KVServer.Get" and "KVServer.Put" (lab 6's RPCs, which may now answer ErrWrongGroup); the controller calls
 * "KVServer.FreezeShard", "KVServer.InstallShard" and "KVServer.DeleteShard". Each shard RPC carries the number
 * of the configuration it belongs to: a server refuses one older than what it has seen for that shard
 * (ErrOldConfig), and a repeat of one it carried out changes nothing and succeeds again.
 */
import type { ClientEnd, RpcEnd } from '../labrpc';
import type { GetArgs, GetResult, PutArgs, PutResult, Version } from '../lab6/kvapi';
import type { Persister } from '../lab6/persister';
import type { RsmPeer } from '../lab6/rsmapi';
import type { Gid, ShardConfig } from './shardcfg';

export type { GetArgs, PutArgs, Version };

/** Answers of a group's Get and Put: lab 6's, plus "this group does not serve that key's shard now". */
export type GetReply =
  | { err: 'OK'; value: string; version: Version }
  | { err: 'ErrNoKey' }
  | { err: 'ErrWrongLeader' }
  | { err: 'ErrWrongGroup' };

/** Reply of KVServer.Put. */
export interface PutReply {
  err: 'OK' | 'ErrNoKey' | 'ErrVersion' | 'ErrWrongLeader' | 'ErrWrongGroup';
}

/** Arguments of KVServer.FreezeShard: stop serving `shard` (for configuration `num`) and hand over its state. */
export interface FreezeShardArgs {
  shard: number;
  num: number;
}

/** The shard's state (its keys, values and versions, encoded as the servers like) or why not. */
export type FreezeShardReply = { err: 'OK'; state: string } | { err: 'ErrOldConfig' } | { err: 'ErrWrongLeader' };

/** Arguments of KVServer.InstallShard: serve `shard` from now on, with `state` (what FreezeShard returned). */
export interface InstallShardArgs {
  shard: number;
  state: string;
  num: number;
}

/** Arguments of KVServer.DeleteShard: forget a shard this group froze, freeing its memory. */
export interface DeleteShardArgs {
  shard: number;
  num: number;
}

/** Reply of KVServer.InstallShard and KVServer.DeleteShard. */
export interface ShardReply {
  err: 'OK' | 'ErrOldConfig' | 'ErrWrongLeader';
}

/** A server of a shard group: lab 6's service with shards (called over labrpc as "KVServer.<Method>"). */
export interface ShardService {
  Get(args: GetArgs): GetReply | Promise<GetReply>;
  Put(args: PutArgs): PutReply | Promise<PutReply>;
  FreezeShard(args: FreezeShardArgs): FreezeShardReply | Promise<FreezeShardReply>;
  InstallShard(args: InstallShardArgs): ShardReply | Promise<ShardReply>;
  DeleteShard(args: DeleteShardArgs): ShardReply | Promise<ShardReply>;
  /** The server's RSM (the tester reaches its Raft peer through it). */
  readonly rsm: RsmPeer;
  /** Stops the server, its RSM and its Raft peer. */
  kill(): void;
}

/**
 * How the tester builds server `me` of group `gid`: `new ShardServer(peers, me, persister, maxRaftState, gid)`.
 * The servers of group GID1 start out owning every shard (configuration NUM_FIRST); every other group owns none.
 */
export type ShardServerConstructor = new (
  peers: readonly RpcEnd[],
  me: number,
  persister: Persister,
  maxRaftState: number,
  gid: Gid,
) => ShardService;

/** Makes a client end that reaches the server a configuration names (e.g. "g2-0"); given by the tester. */
export type MakeEnd = (server: string) => ClientEnd;

/** The controller, as the tester and the clerk use it. */
export interface Controller {
  /** Stores the first configuration in the key/value service (the tester calls it once, before anything else). */
  initConfig(cfg: ShardConfig): Promise<void>;
  /** The configuration stored now. */
  query(): Promise<ShardConfig>;
  /**
   * Moves the shards from the configuration stored now to `cfg` (its number is one more), then stores `cfg`. Part 3:
   * returns without changing anything when another controller changed the configuration or claimed `cfg.num` first.
   */
  changeConfigTo(cfg: ShardConfig): Promise<void>;
  /**
   * Part 2: finishes the change a controller that failed may have left half done (the tester calls it on a new
   * controller before using it, in the tests of parts 2 and 3, while other controllers may still run).
   */
  initController(): Promise<void>;
}

/**
 * How the tester builds a controller: `new ShardCtrler(kv, makeEnd)`, where `kv` reaches lab 2's key/value server
 * that keeps the configuration and `makeEnd` reaches the groups' servers.
 */
export type ControllerConstructor = new (kv: ClientEnd, makeEnd: MakeEnd) => Controller;

/** The clerk of the sharded service, as the tests use it: lab 6's get and put, over every group. */
export interface ShardClerk {
  get(key: string): Promise<GetResult>;
  put(key: string, value: string, version: Version): Promise<PutResult>;
}

/** How the tester builds a clerk: `new Clerk(ctrler, makeEnd)`; it asks `ctrler` for the configuration. */
export type ClerkConstructor = new (ctrler: Controller, makeEnd: MakeEnd) => ShardClerk;
