/**
 * Lab 6 reference solution — the replicated state machine (RSM): Raft's log turned into calls of a state machine.
 *
 * Every server runs one RSM over its own Raft peer. `submit` puts an operation, wrapped with an id, into the log
 * and waits at the log index start() gave it. Raft hands every committed entry to `applied`, in order, on every
 * server; the RSM gives the operation to the state machine and, if a submit waits at that index, tells it what
 * became of its operation: its own id there means OK (with doOp's result), another id means a new leader put
 * something else there. With `maxRaftState` set, the RSM snapshots the state machine whenever Raft's saved state
 * grows past it (part 7).
 */
import type { RpcEnd } from '../../labrpc';
import type { Persister } from '../../lab6/persister';
import type { ApplyMsg, RaftPeer } from '../../lab6/raftapi';
import type { Op, RsmPeer, StateMachine, SubmitResult } from '../../lab6/rsmapi';
import { Raft } from './raft';

/** While a submit waits, how often it checks that its peer still leads in the same term (virtual ms). */
const LEADERSHIP_CHECK_MS = 20;

/** maxRaftState's value for "never snapshot". */
const NO_SNAPSHOTS = -1;

const WRONG_LEADER: SubmitResult = { err: 'ErrWrongLeader' };

/** What the RSM puts in Raft's log: the service's operation and an id that no other submit, anywhere, ever used. */
interface Entry {
  id: string;
  op: Op;
}

/** A submit waiting for its log index to be applied. */
interface Waiter {
  /** The id of the entry it put at that index. */
  id: string;
  /** Resolves the submit (and stops its leadership check). */
  settle: (result: SubmitResult) => void;
}

export class RSM implements RsmPeer {
  private readonly persister: Persister;
  private readonly maxRaftState: number;
  private readonly sm: StateMachine;
  readonly raft: RaftPeer;
  /** Tells this run of the server from the others: a restarted server numbers its submits from 1 again. */
  private readonly tag: string;
  /** How many submits this run has made (the second half of each id). */
  private submits = 0;
  /** The submits still waiting, by the log index start() gave them. */
  private readonly waiting = new Map<number, Waiter>();
  /**
   * The last log index applied to the state machine. Undefined after a restart from a snapshot: only Raft knows the
   * snapshot's index, and it hands over the commands right after it, so the next command is never a repeat.
   */
  private lastApplied: number | undefined = 0;
  /** Set by kill(): from then on the RSM ignores what Raft hands over. */
  private killed = false;

  /** Builds the RSM of server `me` and its Raft peer; restores the state machine from the saved snapshot, if any. */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number, sm: StateMachine) {
    this.persister = persister;
    this.maxRaftState = maxRaftState;
    this.sm = sm;
    this.tag = `${me}-${Math.random().toString(36).slice(2, 10)}`;
    const snapshot = persister.readSnapshot();
    if (snapshot !== '') {
      sm.restore(snapshot);
      this.lastApplied = undefined;
    }
    this.raft = new Raft(peers, me, persister, (msg) => this.applied(msg));
  }

  /**
   * Offers `op` to Raft and resolves once it is applied here ({ err: 'OK', result }) or once it is clear it will
   * not be ({ err: 'ErrWrongLeader' }): this peer is not the leader, or lost its leadership, or another operation
   * took the index start() gave.
   */
  async submit(op: Op): Promise<SubmitResult> {
    if (this.killed) return WRONG_LEADER;
    const entry: Entry = { id: `${this.tag}:${++this.submits}`, op };
    const { index, term, isLeader } = this.raft.start(entry);
    if (!isLeader) return WRONG_LEADER;

    // start() gave this index again: the entry an earlier submit put there is gone from this leader's log.
    this.waiting.get(index)?.settle(WRONG_LEADER);
    return new Promise((resolve) => {
      // A deposed leader may wait long for its index, or forever if no later leader's log reaches it: give up as
      // soon as this peer no longer leads in the term the entry was started in.
      const check = setInterval(() => {
        const state = this.raft.getState();
        if (state.term !== term || state.role !== 'leader') this.waiting.get(index)?.settle(WRONG_LEADER);
      }, LEADERSHIP_CHECK_MS);
      const waiter: Waiter = {
        id: entry.id,
        settle: (result) => {
          clearInterval(check);
          if (this.waiting.get(index) === waiter) this.waiting.delete(index);
          resolve(result);
        },
      };
      this.waiting.set(index, waiter);
    });
  }

  /** Stops the RSM and its Raft peer; every submit still waiting resolves with ErrWrongLeader. */
  kill(): void {
    this.killed = true;
    this.raft.kill();
    for (const waiter of [...this.waiting.values()]) waiter.settle(WRONG_LEADER);
  }

  /** What Raft hands over, in order: a committed command, or a snapshot that replaces the commands up to its index. */
  private applied(msg: ApplyMsg): void {
    if (this.killed) return;
    if (msg.kind === 'snapshot') {
      if (this.lastApplied !== undefined && msg.snapshotIndex <= this.lastApplied) return; // nothing new in it
      this.sm.restore(msg.snapshot);
      this.lastApplied = msg.snapshotIndex;
      // The commands the snapshot covers were applied elsewhere: their results are not known here.
      for (const [index, waiter] of [...this.waiting]) if (index <= msg.snapshotIndex) waiter.settle(WRONG_LEADER);
      return;
    }

    const index = msg.commandIndex;
    if (this.lastApplied !== undefined && index <= this.lastApplied) return; // already in the state machine
    const entry = msg.command as Entry; // only submit() writes to this log
    const result = this.sm.doOp(entry.op);
    this.lastApplied = index;
    // The log holds copies, so ids tell whose entry this is, never object identity.
    const waiter = this.waiting.get(index);
    waiter?.settle(waiter.id === entry.id ? { err: 'OK', result } : WRONG_LEADER);

    // Part 7: keep Raft's saved state small. Raft allows snapshot() from inside apply: it counts this index as
    // applied already, and its apply loop goes on from the trimmed log.
    if (this.maxRaftState !== NO_SNAPSHOTS && this.persister.raftStateSize() > this.maxRaftState)
      this.raft.snapshot(index, this.sm.snapshot());
  }
}
