/**
 * Lab 6, parts 5-7 — the replicated state machine (RSM): what a service hands it and what it offers back.
 * Given: do not change this file (the grader checks it is untouched).
 */
import type { RpcEnd } from '../labrpc';
import type { Persister } from './persister';
import type { RaftPeer } from './raftapi';

/** An operation the service submits: any value the network can copy (plain objects in the tests). */
export type Op = unknown;

/** The service's state machine, which the RSM drives: every server applies the same operations in the same order. */
export interface StateMachine {
  /** Applies one committed operation and returns its result; called once per operation, in log order, on every server. */
  doOp(op: Op): unknown;
  /** The machine's whole state as a string (part 7: what a snapshot holds). */
  snapshot(): string;
  /** Replaces the machine's state with one that `snapshot` produced (on a restart, or a snapshot from the leader). */
  restore(snapshot: string): void;
}

/** What `submit` resolves to: the operation's result once it is committed and applied here, or ErrWrongLeader. */
export type SubmitResult = { err: 'OK'; result: unknown } | { err: 'ErrWrongLeader' };

/** One server's RSM: it turns Raft's log into calls of the state machine, and tells submitters what became of theirs. */
export interface RsmPeer {
  /**
   * Offers `op` to this server's Raft peer and waits until it is applied here ({ err: 'OK', result } with what
   * doOp returned), or until it is clear it will not be: this peer is not the leader, lost its leadership, or
   * another operation took the op's log index ({ err: 'ErrWrongLeader' }; the caller tries another server).
   */
  submit(op: Op): Promise<SubmitResult>;
  /** The Raft peer this RSM built (the tester asks it for its state and registers its RPC handlers). */
  readonly raft: RaftPeer;
  /** Stops the RSM and its Raft peer: every submit still waiting resolves with ErrWrongLeader. */
  kill(): void;
}

/**
 * How the tester and the key/value server build an RSM: `new RSM(peers, me, persister, maxRaftState, sm)`.
 * It builds its own Raft peer on `peers`, `me` and `persister`; when `maxRaftState` is not -1 it snapshots `sm`
 * once the persister's Raft state grows past `maxRaftState` characters (part 7).
 */
export type RsmConstructor = new (
  peers: readonly RpcEnd[],
  me: number,
  persister: Persister,
  maxRaftState: number,
  sm: StateMachine,
) => RsmPeer;
