/**
 * Lab 6 — what a Raft peer offers the service above it and the tester, and what it hands them back.
 * Given: do not change this file (the grader checks it is untouched).
 */
import type { RpcEnd } from '../labrpc';
import type { Persister } from './persister';

/** A command the service asks Raft to agree on: any value the network can copy (numbers and strings in the tests). */
export type Command = unknown;

/** A peer's role in its current term. */
export type Role = 'follower' | 'candidate' | 'leader';

/** What getState reports. */
export interface RaftState {
  /** The peer's current term. */
  term: number;
  /** Whether it is a follower, a candidate, or believes it is the leader of `term`. */
  role: Role;
}

/** What start returns: where the command will sit in the log if it is ever committed. */
export interface StartResult {
  /** The log index the command was appended at (-1 when this peer is not the leader). */
  index: number;
  /** The leader's current term (this peer's term when it is not the leader). */
  term: number;
  /** False when this peer is not the leader: the command was not appended anywhere. */
  isLeader: boolean;
}

/**
 * What a peer hands its service, in order, through the `apply` callback: each committed command once, at
 * index 1, 2, 3 ...; or a snapshot (from the leader's InstallSnapshot) that replaces every command up to
 * `snapshotIndex`.
 */
export type ApplyMsg =
  | { kind: 'command'; command: Command; commandIndex: number }
  | { kind: 'snapshot'; snapshot: string; snapshotTerm: number; snapshotIndex: number };

/** The calls the tester (and, later, the key/value service) makes on a peer. Every method returns at once. */
export interface RaftPeer {
  /** Asks the leader to append `command` to the log; it returns at once, before the command commits (or not). */
  start(command: Command): StartResult;
  /** The peer's current term and role. */
  getState(): RaftState;
  /** The service saved a snapshot holding every command up to and including `index`: the log before it may go. */
  snapshot(index: number, snapshot: string): void;
  /** Stops the peer: it must stop its timers and send nothing more (the tester also cuts it off the network). */
  kill(): void;
}

/**
 * How the tester builds a peer: `new Raft(peers, me, persister, apply)`.
 * `peers[i]` reaches peer i (peers[me] is this peer itself); `persister` holds what the last run of this peer
 * saved (empty on the first start); `apply` is where committed commands and installed snapshots go, in order.
 */
export type RaftConstructor = new (
  peers: readonly RpcEnd[],
  me: number,
  persister: Persister,
  apply: (msg: ApplyMsg) => void,
) => RaftPeer;
