/**
 * Lab 6 — a server of the replicated key/value service. YOU WRITE THIS FILE (part 6).
 *
 * Lab 2's versioned Put and Get, now kept by every server of a group: each server is the state machine of its
 * RSM, so every operation (reads too) goes through Raft's log and is applied by every server in the same order.
 * Clerks call "KVServer.Get" and "KVServer.Put"; a server that does not lead answers ErrWrongLeader. In part 7,
 * snapshot() and restore() let the RSM trim Raft's log. See lab6/README.md, parts 6 and 7.
 */
import type { RpcEnd } from '../labrpc';
import type { GetArgs, GetReply, KVService, PutArgs, PutReply } from './kvapi';
import type { Persister } from './persister';
import type { Op, StateMachine } from './rsmapi';
import { RSM } from './rsm';

export class KVServer implements KVService, StateMachine {
  readonly rsm: RSM;
  // TODO: the key/value state (key -> value and version). A Map keeps keys like "__proto__" safe.

  /** Builds server `me` of the group, with its RSM (and so its Raft peer). */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number) {
    this.rsm = new RSM(peers, me, persister, maxRaftState, this);
  }

  /** The Get RPC: the value and version (or ErrNoKey) once the read is in the log; ErrWrongLeader from a non-leader. */
  async Get(args: GetArgs): Promise<GetReply> {
    // TODO: submit the read to the RSM and answer with what doOp returned.
    throw new Error(`TODO: KVServer.Get is not implemented yet (key "${args.key}"); see lab6/README.md, part 6`);
  }

  /** The Put RPC: lab 2's rules, applied once the put is in the log; ErrWrongLeader from a non-leader. */
  async Put(args: PutArgs): Promise<PutReply> {
    // TODO: submit the put to the RSM and answer with what doOp returned.
    throw new Error(`TODO: KVServer.Put is not implemented yet (key "${args.key}"); see lab6/README.md, part 6`);
  }

  /** Applies one committed operation (called by the RSM, in log order, on every server) and returns its reply. */
  doOp(op: Op): unknown {
    // TODO: carry out a get or a put with lab 2's rules.
    throw new Error(
      `TODO: KVServer.doOp is not implemented yet (op ${JSON.stringify(op)}); see lab6/README.md, part 6`,
    );
  }

  /** The whole key/value state as a string (part 7). */
  snapshot(): string {
    // TODO (part 7): encode the state compactly.
    throw new Error('TODO: KVServer.snapshot is not implemented yet; see lab6/README.md, part 7');
  }

  /** Replaces the state with one snapshot() produced (part 7). */
  restore(snapshot: string): void {
    // TODO (part 7): decode the state.
    throw new Error(
      `TODO: KVServer.restore is not implemented yet (${snapshot.length} characters); see lab6/README.md, part 7`,
    );
  }

  /** Stops the server: its RSM, and so its Raft peer. */
  kill(): void {
    this.rsm.kill();
  }
}
