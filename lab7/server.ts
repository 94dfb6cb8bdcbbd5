/**
 * Lab 7 — a server of a shard group. YOU WRITE THIS FILE (part 1).
 *
 * Your lab 6 key/value server, per shard: every server of a group is the state machine of an RSM (your lab 6
 * RSM, imported from ../lab6/rsm), and serves Get and Put only for the shards its group owns now (ErrWrongGroup for
 * the others). The controller moves shards with FreezeShard (stop serving it, hand over its keys), InstallShard
 * (serve it from now on, with those keys) and DeleteShard (forget it). Each shard RPC carries a configuration
 * number: refuse one older than what the shard has seen (ErrOldConfig); a repeat changes nothing and answers OK.
 * Everything, reads too, goes through the RSM. See lab7/README.md, part 1.
 */
import type { RpcEnd } from '../labrpc';
import type { GetArgs, PutArgs } from '../lab6/kvapi';
import type { Persister } from '../lab6/persister';
import type { Op, StateMachine } from '../lab6/rsmapi';
import { RSM } from '../lab6/rsm';
import type {
  DeleteShardArgs,
  FreezeShardArgs,
  FreezeShardReply,
  GetReply,
  InstallShardArgs,
  PutReply,
  ShardReply,
  ShardService,
} from './rpc';
import type { Gid } from './shardcfg';

export class ShardServer implements ShardService, StateMachine {
  readonly rsm: RSM;
  private readonly gid: Gid;
  // TODO: what the group knows of each shard: serving, frozen or deleted; the configuration number it last saw
  // for it; and its keys (value and version each). Group GID1 starts out serving every shard at NUM_FIRST.

  /** Server `me` of group `gid`, with its RSM (and so its Raft peer). */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number, gid: Gid) {
    this.gid = gid;
    // Set up the shards before building the RSM: it may restore a snapshot over them.
    this.rsm = new RSM(peers, me, persister, maxRaftState, this);
  }

  /** The Get RPC: lab 6's, or ErrWrongGroup for a key whose shard this group does not serve. */
  async Get(args: GetArgs): Promise<GetReply> {
    // TODO: submit the read to the RSM and answer with what doOp returned.
    throw new Error(`TODO: ShardServer.Get is not implemented yet (key "${args.key}"); see lab7/README.md, part 1`);
  }

  /** The Put RPC: lab 6's, or ErrWrongGroup. */
  async Put(args: PutArgs): Promise<PutReply> {
    // TODO: submit the put to the RSM and answer with what doOp returned.
    throw new Error(`TODO: ShardServer.Put is not implemented yet (key "${args.key}"); see lab7/README.md, part 1`);
  }

  /** Stops serving the shard (for configuration args.num) and returns its keys as a string. */
  async FreezeShard(args: FreezeShardArgs): Promise<FreezeShardReply> {
    // TODO: submit the freeze to the RSM.
    throw new Error(
      `TODO: ShardServer.FreezeShard is not implemented yet (shard ${args.shard}, configuration ${args.num}); see lab7/README.md, part 1`,
    );
  }

  /** Serves the shard from configuration args.num on, with the keys in args.state. */
  async InstallShard(args: InstallShardArgs): Promise<ShardReply> {
    // TODO: submit the install to the RSM.
    throw new Error(
      `TODO: ShardServer.InstallShard is not implemented yet (shard ${args.shard}, configuration ${args.num}); see lab7/README.md, part 1`,
    );
  }

  /** Forgets a shard the group froze, freeing its keys. */
  async DeleteShard(args: DeleteShardArgs): Promise<ShardReply> {
    // TODO: submit the delete to the RSM.
    throw new Error(
      `TODO: ShardServer.DeleteShard is not implemented yet (shard ${args.shard}, configuration ${args.num}); see lab7/README.md, part 1`,
    );
  }

  /** Applies one committed operation (called by the RSM, in log order, on every server of the group). */
  doOp(op: Op): unknown {
    // TODO: a get or put (lab 2's rules, if the shard is served here), or a freeze, install or delete.
    throw new Error(
      `TODO: ShardServer.doOp is not implemented yet (group ${this.gid}, op ${JSON.stringify(op)}); see lab7/README.md, part 1`,
    );
  }

  /** Every shard's state as a string (what the RSM's snapshot holds). */
  snapshot(): string {
    // TODO: encode every shard: status, configuration number and keys.
    throw new Error('TODO: ShardServer.snapshot is not implemented yet; see lab7/README.md, part 1');
  }

  /** Replaces the state with one snapshot() produced. */
  restore(snapshot: string): void {
    // TODO: decode the shards.
    throw new Error(
      `TODO: ShardServer.restore is not implemented yet (${snapshot.length} characters); see lab7/README.md, part 1`,
    );
  }

  /** Stops the server: its RSM, and so its Raft peer. */
  kill(): void {
    this.rsm.kill();
  }
}
