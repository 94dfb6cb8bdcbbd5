/**
 * Lab 6 — the replicated state machine (RSM). YOU WRITE THIS FILE (part 5).
 *
 * Every server of a group runs one RSM over its own Raft peer. A service (the tester's counter in part 5, your
 * KVServer in part 6) submits operations; the RSM puts each in Raft's log, applies every committed operation to
 * the state machine in log order (on every server), and tells the submitter what its operation returned. In
 * part 7 it also snapshots the state machine so that Raft's log stays small. See lab6/README.md, parts 5 and 7.
 */
import type { RpcEnd } from '../labrpc';
import type { Persister } from './persister';
import type { ApplyMsg, RaftPeer } from './raftapi';
import type { Op, RsmPeer, StateMachine, SubmitResult } from './rsmapi';
import { Raft } from './raft';

export class RSM implements RsmPeer {
  private readonly persister: Persister;
  private readonly maxRaftState: number;
  private readonly sm: StateMachine;
  readonly raft: RaftPeer;
  // TODO: what the RSM keeps: the submits still waiting (by log index), the last index applied, ...

  /**
   * Builds the RSM of server `me` and its Raft peer. `maxRaftState` is -1 (no snapshots) or the size in characters
   * past which Raft's saved state should be trimmed with a snapshot (part 7).
   */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number, sm: StateMachine) {
    this.persister = persister;
    this.maxRaftState = maxRaftState;
    this.sm = sm;
    // TODO (part 7): restore the state machine from the persister's snapshot, if it has one (before building Raft,
    // which may hand over entries that follow the snapshot as soon as it exists).
    this.raft = new Raft(peers, me, persister, (msg) => this.applied(msg));
  }

  /**
   * Offers `op` to Raft and resolves once it is applied here ({ err: 'OK', result }) or once it is clear it will
   * not be ({ err: 'ErrWrongLeader' }): this peer is not the leader, or lost its leadership, or another operation
   * took the index start() gave.
   */
  async submit(op: Op): Promise<SubmitResult> {
    // TODO: wrap op with an id of its own, call raft.start, and wait for that index to be applied.
    throw new Error(`TODO: RSM.submit is not implemented yet (op ${JSON.stringify(op)}); see lab6/README.md, part 5`);
  }

  /** Stops the RSM and its Raft peer; every submit still waiting resolves with ErrWrongLeader. */
  kill(): void {
    // TODO: answer the waiting submits, stop timers, and kill the Raft peer.
    this.raft.kill();
  }

  /** What Raft hands over, in order: a committed command, or a snapshot (part 7). */
  private applied(msg: ApplyMsg): void {
    // TODO: apply commands to this.sm (once each, in order) and wake their submitters; restore snapshots (part 7).
    void this.persister;
    void this.maxRaftState;
    void this.sm;
    throw new Error(`TODO: the RSM does not handle ${msg.kind} messages yet; see lab6/README.md, part 5`);
  }
}
