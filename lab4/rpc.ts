/**
 * Lab 4 — types shared by the node, the tests and the real HTTP cluster. Given: do not change this file.
 *
 * One leader and N followers. The leader orders every write in a log (sequence numbers 1, 2, 3, ...), sends
 * the log to every follower, and acknowledges a write once `quorum` followers hold it. Followers apply the
 * log strictly in order, so every replica goes through the same sequence of states.
 *
 * Errors are returned as values (`err`), never thrown: a thrown error is a bug.
 */

/** Whether a node leads (accepts writes) or follows (receives the log). */
export type Role = 'leader' | 'follower';

/** How a node is set up. The tests and the real cluster build one per node. */
export interface NodeConfig {
  /** A name for logs and messages, e.g. "leader" or "follower-2". */
  id: string;
  role: Role;
  /** The write quorum W: how many followers must hold a write before the leader acknowledges it (1..followers). */
  quorum: number;
  /** A write that is not on W followers after this many ms fails with ErrNoQuorum. */
  writeTimeoutMs: number;
  /** After a follower did not answer, wait this many ms before sending to it again. */
  retryMs: number;
  /** At most this many log entries in one Replicate call. */
  maxBatch: number;
  /**
   * Leader: when a follower's loop has had nothing to send for this many ms, send it an empty Replicate (a
   * heartbeat). Its answer's lastSeq shows a follower that restarted empty while no one was writing.
   */
  heartbeatMs: number;
  /**
   * A secret the leader and its followers share (the tests and lab4:cluster make one per cluster). The leader
   * sends it in every Replicate call; a follower applies entries only from a call that carries it, so no one
   * else can write to its log.
   */
  token: string;
}

/** The defaults the tests and the real cluster use unless told otherwise (the token is never a default). */
export const DEFAULT_CONFIG: Omit<NodeConfig, 'id' | 'role' | 'token'> = {
  quorum: 3,
  writeTimeoutMs: 1000,
  retryMs: 10,
  maxBatch: 256,
  heartbeatMs: 50,
};

/** One write in the leader's log. The first write gets seq 1. */
export interface LogEntry {
  seq: number;
  key: string;
  value: string;
}

/** Arguments of KVNode.Set (clients call it on the leader). */
export interface SetArgs {
  key: string;
  value: string;
}

/** Why a write was not acknowledged. */
export type SetErr = 'ErrNotLeader' | 'ErrNoQuorum';

/**
 * Reply of KVNode.Set: OK with the write's sequence number and how many followers held it when it was
 * acknowledged, or an error with a sentence saying what happened. ErrNoQuorum means "not acknowledged": the write
 * stays in the leader's log and may still be applied later; its `replicas` is how many followers held it when its
 * time ran out (fewer than W).
 */
export type SetReply =
  | { err: 'OK'; seq: number; replicas: number }
  | { err: 'ErrNoQuorum'; message: string; replicas: number }
  | { err: 'ErrNotLeader'; message: string };

/** Arguments of KVNode.Get (any node). */
export interface GetArgs {
  key: string;
}

/** Reply of KVNode.Get: the node's current value, or ErrNoKey. */
export type GetReply = { err: 'OK'; value: string } | { err: 'ErrNoKey' };

/** Arguments of KVNode.Status. */
export interface StatusArgs {
  /** Leave the data out of the reply (for cheap polling). */
  noData?: boolean;
}

/** Reply of KVNode.Status: what the node holds. */
export interface StatusReply {
  id: string;
  role: Role;
  /** The highest sequence number this node holds (leader: the end of its log; follower: the last entry applied). */
  lastSeq: number;
  /** The highest sequence number known to be on W followers (leader); a follower reports its lastSeq. */
  commitSeq: number;
  /** How many keys the node's data has. */
  dataCount: number;
  /** The node's data (what Get answers from); empty when args.noData. */
  data: Record<string, string>;
}

/** Arguments of KVNode.Replicate (the leader calls it on followers): consecutive log entries, possibly none. */
export interface ReplicateArgs {
  entries: LogEntry[];
  /** The cluster's secret (config.token): the proof that the call comes from the follower's own leader. */
  token: string;
}

/**
 * Reply of KVNode.Replicate. OK: the follower now holds every entry up to lastSeq. ErrGap: the entries start
 * after lastSeq + 1, so the follower applied nothing; send from lastSeq + 1. ErrNotFollower: sent to the leader.
 * ErrForbidden: the call did not carry the follower's token (it is not from its leader); nothing was applied.
 */
export interface ReplicateReply {
  err: 'OK' | 'ErrGap' | 'ErrNotFollower' | 'ErrForbidden';
  lastSeq: number;
}

/** The RPC handlers of a node (called over labrpc as "KVNode.Set" and so on). */
export interface KVNodeService {
  Set(args: SetArgs): SetReply | Promise<SetReply>;
  Get(args: GetArgs): GetReply | Promise<GetReply>;
  Status(args: StatusArgs): StatusReply | Promise<StatusReply>;
  Replicate(args: ReplicateArgs): ReplicateReply | Promise<ReplicateReply>;
  /** Stops background work (replication loops, timers). Not callable over the network (its name starts with _). */
  _stop(): void;
}

/** The service name nodes are registered under: calls are "KVNode.Set", "KVNode.Replicate", ... */
export const SERVICE = 'KVNode';
