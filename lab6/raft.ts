/**
 * Lab 6 — a Raft peer. YOU WRITE THIS FILE.
 *
 * Each peer runs this class. The peers elect a leader (part 1), agree on a log of commands (part 2), keep what
 * they promised across crashes (part 3) and trim their logs with snapshots (part 4). The tester calls the
 * methods of RaftPeer; the peers call each other's RPC handlers over the simulated network as "Raft.<Method>"
 * (every method of this class, and every field holding a function, whose name does not start with "_" can be
 * called that way: start helpers' names with "_"). See lab6/README.md.
 */
import type { RpcEnd } from '../labrpc';
import type { Persister } from './persister';
import type { ApplyMsg, Command, RaftPeer, RaftState, StartResult } from './raftapi';

export class Raft implements RaftPeer {
  private readonly peers: readonly RpcEnd[];
  private readonly me: number;
  private readonly persister: Persister;
  // The "_" keeps it off the RPC list: a field holding a function is a handler too, like a method.
  private readonly _apply: (msg: ApplyMsg) => void;

  // TODO: declare the peer's state: Figure 2 of the Raft paper lists what every server keeps.

  /**
   * Builds peer `me` of `peers.length`. `persister` holds what this peer saved before a crash (empty the first
   * time); `apply` takes each committed command, in log order. Start the election timer here; return at once.
   */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, _apply: (msg: ApplyMsg) => void) {
    this.peers = peers;
    this.me = me;
    this.persister = persister;
    this._apply = _apply;

    // TODO: initialise the state, read what was persisted, and start the timers.
  }

  /** The current term and role. */
  getState(): RaftState {
    // TODO: report the current term and role.
    throw new Error('TODO: Raft.getState is not implemented yet; see lab6/README.md, part 1');
  }

  /** Appends `command` to the log if this peer is the leader, and returns at once (before it commits). */
  start(command: Command): StartResult {
    // TODO: append to the log when leader.
    throw new Error(
      `TODO: Raft.start is not implemented yet (asked to agree on ${JSON.stringify(command)}); see lab6/README.md, part 2`,
    );
  }

  /** The service has a snapshot with every command up to `index`: forget the log up to there (part 4). */
  snapshot(index: number, snapshot: string): void {
    // TODO: trim the log and save the snapshot with the Raft state.
    throw new Error(
      `TODO: Raft.snapshot is not implemented yet (index ${index}, ${snapshot.length} characters); see lab6/README.md, part 4`,
    );
  }

  /** Stops this peer: clear its timers; it must send nothing more. */
  kill(): void {
    // TODO: stop the timers.
  }

  // TODO: the RPC handlers (RequestVote and AppendEntries, later InstallSnapshot): other peers call them
  // as "Raft.RequestVote" and so on through peers[i].call(...), which rejects when a message is lost.
}
