/**
 * Lab 4 — a node of the replicated key/value store. YOU WRITE THIS FILE.
 *
 * The same class plays the leader (config.role === 'leader', one RpcEnd per follower) and a follower
 * (no ends). The tests call its methods over the simulated network as "KVNode.Set", "KVNode.Get",
 * "KVNode.Status" and "KVNode.Replicate"; `npm run lab4:cluster` runs the very same class as real HTTP
 * processes. See lab4/README.md.
 */
import type { RpcEnd } from '../labrpc';
import type {
  GetArgs,
  GetReply,
  KVNodeService,
  NodeConfig,
  ReplicateArgs,
  ReplicateReply,
  SetArgs,
  SetReply,
  StatusArgs,
  StatusReply,
} from './rpc';

export class KVNode implements KVNodeService {
  private readonly config: NodeConfig;
  private readonly followers: RpcEnd[];

  // TODO: the node's state: its data, the leader's log, what each follower holds, writes waiting for a quorum.

  /** `followers` are ends to the followers (the leader's only; a follower gets an empty list). */
  constructor(config: NodeConfig, followers: RpcEnd[]) {
    this.config = config;
    this.followers = followers;

    // TODO (part 2): on the leader, check the quorum (a RangeError unless it is a whole number, 1 <= quorum <= followers) and start sending
    // the log to every follower.
  }

  /** Leader: append the write to the log and answer once `quorum` followers hold it. Follower: ErrNotLeader. */
  Set(args: SetArgs): SetReply | Promise<SetReply> {
    // TODO: implement Set: a follower's refusal is part 1 of the handout, the leader's write part 2.
    throw new Error(
      `TODO: KVNode.Set is not implemented yet (${this.config.id} was asked to set "${args.key}"); see lab4/README.md, part 1 (a follower refuses) and part 2 (the leader writes)`,
    );
  }

  /** Any node: the value this node holds for the key, or ErrNoKey. */
  Get(args: GetArgs): GetReply | Promise<GetReply> {
    // TODO: implement Get.
    throw new Error(
      `TODO: KVNode.Get is not implemented yet (${this.config.id} was asked for "${args.key}"); see lab4/README.md, part 1`,
    );
  }

  /** Any node: its role, last and committed sequence numbers, and data. */
  Status(args: StatusArgs): StatusReply | Promise<StatusReply> {
    // TODO: implement Status.
    throw new Error(
      `TODO: KVNode.Status is not implemented yet (${this.config.id}, noData=${String(args.noData)}); see lab4/README.md, part 1`,
    );
  }

  /** Follower: apply the entries that come next in sequence order; ErrGap if they start too far ahead; ErrForbidden without our token. */
  Replicate(args: ReplicateArgs): ReplicateReply | Promise<ReplicateReply> {
    // TODO: implement Replicate (part 2).
    throw new Error(
      `TODO: KVNode.Replicate is not implemented yet (${this.config.id} got ${args.entries.length} entries); see lab4/README.md, part 2`,
    );
  }

  /** Stop background work (loops, timers); the real cluster and the tests call it when a node shuts down. */
  _stop(): void {
    // TODO: stop your replication loops and timers (nothing to do until you have some).
    void this.followers;
  }
}
