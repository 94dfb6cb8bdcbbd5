/**
 * Lab 6 reference solution — a Raft peer: leader election, log agreement, persistence and snapshots.
 *
 * It follows Figure 2 of the extended Raft paper, plus log compaction (section 7). Indexes are absolute: the first
 * command sits at index 1. Everything up to `lastIncludedIndex` lives in the service's snapshot (index 0 and term 0
 * when there is none yet); `log` holds the entries after it, so index `i` is `log[i - lastIncludedIndex - 1]`.
 *
 * Rules of thumb the code keeps throughout:
 * - Save (persist) currentTerm, votedFor and the log as soon as they change, before any RPC goes out or any reply
 *   that depends on them.
 * - A call to another peer may fail (a lost message is normal) or come back long after: after every await, drop
 *   the reply unless this peer is still alive, in the same term and in the same role as when it sent the request.
 * - Any message carrying a higher term turns this peer into a follower of that term.
 * - Methods whose names start with "_" are helpers: every other method is an RPC handler other peers can call.
 */
import type { RpcEnd } from '../../labrpc';
import type { Persister } from '../../lab6/persister';
import type { ApplyMsg, Command, RaftPeer, RaftState, Role, StartResult } from '../../lab6/raftapi';

/** A leader sends AppendEntries to every follower this often, ms, even with nothing new to send. */
const HEARTBEAT_MS = 100;
/** A follower that hears from no leader for this long (plus a random spread) starts an election, ms. */
const ELECTION_TIMEOUT_MIN_MS = 300;
/** The random spread added to each election timeout, ms, so that peers rarely time out together. */
const ELECTION_TIMEOUT_SPREAD_MS = 300;

/** One log entry: a command and the term of the leader that received it. */
export interface LogEntry {
  term: number;
  command: Command;
}

/** RequestVote RPC: a candidate asks for a vote. */
export interface RequestVoteArgs {
  /** The candidate's term. */
  term: number;
  /** The candidate asking for the vote. */
  candidateId: number;
  /** The index of the candidate's last log entry. */
  lastLogIndex: number;
  /** The term of the candidate's last log entry. */
  lastLogTerm: number;
}

/** The answer to RequestVote. */
export interface RequestVoteReply {
  /** The voter's current term, so that a candidate behind the times steps down. */
  term: number;
  /** True when the voter voted for the candidate. */
  voteGranted: boolean;
}

/** AppendEntries RPC: the leader replicates entries (none for a heartbeat) and tells how far it has committed. */
export interface AppendEntriesArgs {
  /** The leader's term. */
  term: number;
  /** The leader. */
  leaderId: number;
  /** The index of the entry just before the new ones. */
  prevLogIndex: number;
  /** The term of the entry at prevLogIndex. */
  prevLogTerm: number;
  /** The entries that follow prevLogIndex (empty for a heartbeat). */
  entries: LogEntry[];
  /** The leader's commitIndex. */
  leaderCommit: number;
}

/** The answer to AppendEntries; on a mismatch it says where the logs diverge ("accelerated log backtracking"). */
export interface AppendEntriesReply {
  /** The follower's current term, so that a stale leader steps down. */
  term: number;
  /** True when the follower's log matched at prevLogIndex and now holds the entries. */
  success: boolean;
  /** On a mismatch: the term of the follower's entry at prevLogIndex, or -1 when its log is too short (MIT's XTerm). */
  conflictTerm: number;
  /** On a mismatch: the follower's first index holding conflictTerm (MIT's XIndex). */
  conflictIndex: number;
  /** On a mismatch: the index after the follower's last entry (MIT's XLen). */
  logLength: number;
}

/** InstallSnapshot RPC: the leader sends its snapshot to a follower that needs entries the leader has discarded. */
export interface InstallSnapshotArgs {
  /** The leader's term. */
  term: number;
  /** The leader. */
  leaderId: number;
  /** The snapshot replaces every entry up to and including this index ... */
  lastIncludedIndex: number;
  /** ... whose term is this. */
  lastIncludedTerm: number;
  /** The service's snapshot. */
  data: string;
}

/** The answer to InstallSnapshot. */
export interface InstallSnapshotReply {
  /** The follower's current term, so that a stale leader steps down. */
  term: number;
}

/** What a peer saves to its persister (as JSON), and reads back when it restarts. */
interface PersistentState {
  currentTerm: number;
  votedFor: number | null;
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  log: LogEntry[];
}

export class Raft implements RaftPeer {
  private readonly peers: readonly RpcEnd[];
  private readonly me: number;
  private readonly persister: Persister;

  // Persistent state (saved before answering or sending any RPC that depends on it).
  /** The latest term this peer has seen. */
  private currentTerm = 0;
  /** The candidate this peer voted for in currentTerm, or null. */
  private votedFor: number | null = null;
  /** The entries after lastIncludedIndex. */
  private log: LogEntry[] = [];
  /**
   * The log as saved: its entries' JSON, comma-separated (`logJsonCount` of them, of the array `logJsonOf`). The log
   * changes only by a push at its end or by a new array, and an entry never changes, so each persist adds just the
   * entries pushed since: saving the whole log at every change would cost its length each time.
   */
  private logJson = '';
  private logJsonOf: LogEntry[] | undefined;
  private logJsonCount = 0;
  /** The last index the snapshot covers (0: no snapshot). */
  private lastIncludedIndex = 0;
  /** The term of the entry at lastIncludedIndex (0: no snapshot). */
  private lastIncludedTerm = 0;

  // Volatile state.
  /** The highest index known to be committed. */
  private commitIndex = 0;
  /** The highest index handed to the service. */
  private lastApplied = 0;
  /** Follower, candidate or leader. */
  private role: Role = 'follower';
  /** Set by kill(): the peer stays silent from then on. */
  private killed = false;
  /** True while the apply loop runs, so that a start() or snapshot() made from inside apply does not start another. */
  private applying = false;

  // Leader state (reset at each election won).
  /** For each peer, the index of the next entry to send it. */
  private nextIndex: number[] = [];
  /** For each peer, the highest index known to be replicated on it. */
  private matchIndex: number[] = [];

  // Timers.
  /** Fires when no leader was heard from for an election timeout. */
  private electionTimer: ReturnType<typeof setTimeout> | undefined;
  /** As leader: fires to send the next round of heartbeats. */
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** As leader: a round of AppendEntries due at once for new entries (so a burst of start() calls shares one). */
  private replicateTimer: ReturnType<typeof setTimeout> | undefined;

  /** The service's callback for committed commands and installed snapshots (the "_" keeps it off the RPC list). */
  private readonly _apply: (msg: ApplyMsg) => void;

  /**
   * Builds peer `me` of `peers.length`. `persister` holds what this peer saved before a crash (empty the first
   * time); `apply` takes each committed command, in log order.
   */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, apply: (msg: ApplyMsg) => void) {
    this.peers = peers;
    this.me = me;
    this.persister = persister;
    this._apply = apply;
    this._readPersist();
    // The service restores its own snapshot when it restarts: start applying after it.
    this.commitIndex = this.lastIncludedIndex;
    this.lastApplied = this.lastIncludedIndex;
    this._resetElectionTimer();
  }

  /** The current term and role. */
  getState(): RaftState {
    return { term: this.currentTerm, role: this.role };
  }

  /** Appends `command` to the log if this peer is the leader, and returns at once (before it commits). */
  start(command: Command): StartResult {
    if (this.killed || this.role !== 'leader') return { index: -1, term: this.currentTerm, isLeader: false };
    this.log.push({ term: this.currentTerm, command });
    this._persist();
    this._replicateSoon();
    return { index: this._lastLogIndex(), term: this.currentTerm, isLeader: true };
  }

  /** The service has a snapshot with every command up to `index`: forget the log up to there. */
  snapshot(index: number, snapshot: string): void {
    // Already covered by an older snapshot, or not applied yet (the service cannot have it).
    if (this.killed || index <= this.lastIncludedIndex || index > this.lastApplied) return;
    this.lastIncludedTerm = this._termAt(index);
    this.log = this.log.slice(index - this.lastIncludedIndex);
    this.lastIncludedIndex = index;
    this._persist(snapshot);
  }

  /** Stops this peer: clears its timers; it sends and applies nothing more. */
  kill(): void {
    this.killed = true;
    clearTimeout(this.electionTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.replicateTimer);
  }

  /** RPC handler: votes for the candidate if it is not behind in term or log and no other got the vote this term. */
  RequestVote(args: RequestVoteArgs): RequestVoteReply {
    if (this.killed) return { term: this.currentTerm, voteGranted: false };
    if (args.term > this.currentTerm) this._becomeFollower(args.term);
    const lastTerm = this._lastLogTerm();
    const upToDate =
      args.lastLogTerm > lastTerm || (args.lastLogTerm === lastTerm && args.lastLogIndex >= this._lastLogIndex());
    const free = this.votedFor === null || this.votedFor === args.candidateId;
    const grant = args.term === this.currentTerm && free && upToDate;
    if (grant) {
      this.votedFor = args.candidateId;
      this._persist();
      this._resetElectionTimer();
    }
    return { term: this.currentTerm, voteGranted: grant };
  }

  /** RPC handler: accepts the leader's entries if the log matches at prevLogIndex, and learns its commitIndex. */
  AppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    const refuse = (conflictTerm = -1, conflictIndex = 0): AppendEntriesReply => ({
      term: this.currentTerm,
      success: false,
      conflictTerm,
      conflictIndex,
      logLength: this._lastLogIndex() + 1,
    });
    if (this.killed || args.term < this.currentTerm) return refuse();
    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);
    this._resetElectionTimer();

    // Entries up to lastIncludedIndex are in the snapshot, committed, hence equal to the leader's: skip them.
    let prevLogIndex = args.prevLogIndex;
    let prevLogTerm = args.prevLogTerm;
    let entries = args.entries;
    if (prevLogIndex < this.lastIncludedIndex) {
      entries = entries.slice(this.lastIncludedIndex - prevLogIndex);
      prevLogIndex = this.lastIncludedIndex;
      prevLogTerm = this.lastIncludedTerm;
    }
    if (prevLogIndex > this._lastLogIndex()) return refuse();
    const term = this._termAt(prevLogIndex);
    if (term !== prevLogTerm) return refuse(term, this._firstIndexOfTermAt(prevLogIndex));

    this._mergeEntries(prevLogIndex, entries);
    const lastNewIndex = args.prevLogIndex + args.entries.length;
    if (args.leaderCommit > this.commitIndex) {
      this.commitIndex = Math.max(this.commitIndex, Math.min(args.leaderCommit, lastNewIndex));
      this._applyCommitted();
    }
    return { term: this.currentTerm, success: true, conflictTerm: -1, conflictIndex: 0, logLength: 0 };
  }

  /** RPC handler: replaces the log up to the leader's snapshot with the snapshot, and hands it to the service. */
  InstallSnapshot(args: InstallSnapshotArgs): InstallSnapshotReply {
    if (this.killed || args.term < this.currentTerm) return { term: this.currentTerm };
    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);
    this._resetElectionTimer();
    const index = args.lastIncludedIndex;
    if (index <= this.lastIncludedIndex) return { term: this.currentTerm }; // not newer than what this peer has

    // Keep the entries after the snapshot if the log agrees with it there; otherwise the whole log goes.
    const keepSuffix = index <= this._lastLogIndex() && this._termAt(index) === args.lastIncludedTerm;
    this.log = keepSuffix ? this.log.slice(index - this.lastIncludedIndex) : [];
    this.lastIncludedIndex = index;
    this.lastIncludedTerm = args.lastIncludedTerm;
    this.commitIndex = Math.max(this.commitIndex, index);
    this._persist(args.data);
    this._applyCommitted();
    return { term: this.currentTerm };
  }

  /** Writes the entries after prevLogIndex (known to match) into the log, cutting it only at a real conflict. */
  private _mergeEntries(prevLogIndex: number, entries: LogEntry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const index = prevLogIndex + 1 + i;
      if (index <= this._lastLogIndex() && this._termAt(index) === entries[i].term) continue;
      // A conflict or the end of the log: what follows is replaced by the leader's entries. A stale, shorter
      // AppendEntries never gets here for entries that match, so it cannot cut off entries the leader sent later.
      const keep = index - this.lastIncludedIndex - 1;
      if (keep === this.log.length) for (let j = i; j < entries.length; j++) this.log.push(entries[j]);
      else this.log = this.log.slice(0, keep).concat(entries.slice(i));
      this._persist();
      return;
    }
  }

  /** The first index holding the term of the entry at `index` (not below the snapshot): MIT's XIndex. */
  private _firstIndexOfTermAt(index: number): number {
    const term = this._termAt(index);
    let first = index;
    while (first - 1 > this.lastIncludedIndex && this._termAt(first - 1) === term) first--;
    return first;
  }

  /** Starts an election: a new term, a vote for itself, and RequestVote to every other peer. */
  private _startElection(): void {
    this.role = 'candidate';
    this.currentTerm++;
    this.votedFor = this.me;
    this._persist();
    this._resetElectionTimer();
    const args: RequestVoteArgs = {
      term: this.currentTerm,
      candidateId: this.me,
      lastLogIndex: this._lastLogIndex(),
      lastLogTerm: this._lastLogTerm(),
    };
    let votes = 1;
    const countVote = (): void => {
      votes++;
      if (votes * 2 > this.peers.length) this._becomeLeader();
    };
    if (votes * 2 > this.peers.length) this._becomeLeader(); // a cluster of one
    for (let peer = 0; peer < this.peers.length; peer++) {
      if (peer !== this.me) void this._requestVote(peer, args, countVote);
    }
  }

  /** Asks `peer` for its vote in the election of `args.term`; calls `onGranted` if it is still that election. */
  private async _requestVote(peer: number, args: RequestVoteArgs, onGranted: () => void): Promise<void> {
    let reply: RequestVoteReply;
    try {
      reply = await this.peers[peer].call<RequestVoteReply>('Raft.RequestVote', args);
    } catch {
      return; // lost: the election timer will start another election if this one fails
    }
    if (this.killed) return;
    if (reply.term > this.currentTerm) return this._becomeFollower(reply.term);
    if (this.role === 'candidate' && this.currentTerm === args.term && reply.voteGranted) onGranted();
  }

  /** Wins the election: resets the leader state and asserts leadership with a round of heartbeats. */
  private _becomeLeader(): void {
    if (this.role !== 'candidate') return;
    this.role = 'leader';
    this.nextIndex = this.peers.map(() => this._lastLogIndex() + 1);
    this.matchIndex = this.peers.map(() => 0);
    this._broadcastAppendEntries();
  }

  /** Turns into a follower of `term` (a newer term also clears the vote); stops leading. */
  private _becomeFollower(term: number): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
      this._persist();
    }
    this.role = 'follower';
    clearTimeout(this.heartbeatTimer);
  }

  /** Restarts the election timeout with a fresh random duration. */
  private _resetElectionTimer(): void {
    clearTimeout(this.electionTimer);
    const timeout = ELECTION_TIMEOUT_MIN_MS + Math.random() * ELECTION_TIMEOUT_SPREAD_MS;
    this.electionTimer = setTimeout(() => this._onElectionTimeout(), timeout);
  }

  /** The election timeout went off: a leader just waits again; any other peer starts an election. */
  private _onElectionTimeout(): void {
    if (this.killed) return;
    if (this.role === 'leader') this._resetElectionTimer();
    else this._startElection();
  }

  /** As leader: schedules a round of AppendEntries at once, shared by every start() made in the same moment. */
  private _replicateSoon(): void {
    if (this.replicateTimer !== undefined) return;
    this.replicateTimer = setTimeout(() => {
      this.replicateTimer = undefined;
      this._broadcastAppendEntries();
    }, 0);
  }

  /** As leader: sends every other peer what it is missing (or a heartbeat), and again HEARTBEAT_MS later. */
  private _broadcastAppendEntries(): void {
    clearTimeout(this.heartbeatTimer);
    if (this.killed || this.role !== 'leader') return;
    for (let peer = 0; peer < this.peers.length; peer++) {
      if (peer !== this.me) void this._replicateTo(peer);
    }
    this.heartbeatTimer = setTimeout(() => this._broadcastAppendEntries(), HEARTBEAT_MS);
  }

  /** As leader: sends `peer` the entries from nextIndex on, or the snapshot if they were discarded. */
  private async _replicateTo(peer: number): Promise<void> {
    if (this.nextIndex[peer] <= this.lastIncludedIndex) return this._sendSnapshot(peer);
    const prevLogIndex = this.nextIndex[peer] - 1;
    const args: AppendEntriesArgs = {
      term: this.currentTerm,
      leaderId: this.me,
      prevLogIndex,
      prevLogTerm: this._termAt(prevLogIndex),
      entries: this.log.slice(prevLogIndex - this.lastIncludedIndex),
      leaderCommit: this.commitIndex,
    };
    let reply: AppendEntriesReply;
    try {
      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);
    } catch {
      return; // lost: the next heartbeat sends it again
    }
    if (this.killed) return;
    if (reply.term > this.currentTerm) return this._becomeFollower(reply.term);
    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term

    if (reply.success) {
      const match = args.prevLogIndex + args.entries.length;
      this.matchIndex[peer] = Math.max(this.matchIndex[peer], match);
      this.nextIndex[peer] = Math.max(this.nextIndex[peer], match + 1);
      this._advanceCommitIndex();
      return;
    }
    // A mismatch. Ignore it if nextIndex moved since this request went out (an old reply arriving late).
    if (this.nextIndex[peer] !== prevLogIndex + 1) return;
    const next = Math.max(this._nextIndexAfterConflict(reply), this.matchIndex[peer] + 1, 1);
    if (next >= this.nextIndex[peer]) return;
    this.nextIndex[peer] = next;
    void this._replicateTo(peer); // try again at once: each try moves back past at least one term
  }

  /** Where to resume sending after a mismatch, from the follower's hints (MIT's XTerm, XIndex, XLen). */
  private _nextIndexAfterConflict(reply: AppendEntriesReply): number {
    if (reply.conflictTerm === -1) return reply.logLength; // the follower's log is too short
    for (let index = this._lastLogIndex(); index > this.lastIncludedIndex; index--) {
      const term = this._termAt(index);
      if (term === reply.conflictTerm) return index + 1; // the leader has that term: resume after its last entry
      if (term < reply.conflictTerm) break;
    }
    return reply.conflictIndex; // the leader lacks that term: skip all of the follower's entries of it
  }

  /** As leader: sends `peer` the snapshot, because the entries it needs are gone from the log. */
  private async _sendSnapshot(peer: number): Promise<void> {
    const args: InstallSnapshotArgs = {
      term: this.currentTerm,
      leaderId: this.me,
      lastIncludedIndex: this.lastIncludedIndex,
      lastIncludedTerm: this.lastIncludedTerm,
      data: this.persister.readSnapshot(),
    };
    let reply: InstallSnapshotReply;
    try {
      reply = await this.peers[peer].call<InstallSnapshotReply>('Raft.InstallSnapshot', args);
    } catch {
      return; // lost: the next heartbeat sends it again
    }
    if (this.killed) return;
    if (reply.term > this.currentTerm) return this._becomeFollower(reply.term);
    if (this.role !== 'leader' || this.currentTerm !== args.term) return;
    this.matchIndex[peer] = Math.max(this.matchIndex[peer], args.lastIncludedIndex);
    this.nextIndex[peer] = Math.max(this.nextIndex[peer], args.lastIncludedIndex + 1);
    this._advanceCommitIndex();
    if (this.nextIndex[peer] <= this._lastLogIndex()) void this._replicateTo(peer); // the entries after it
  }

  /** As leader: commits the highest entry of the current term that a majority holds (Figure 8: never older terms). */
  private _advanceCommitIndex(): void {
    for (let index = this._lastLogIndex(); index > this.commitIndex; index--) {
      if (this._termAt(index) !== this.currentTerm) return; // older terms commit only with a current-term entry
      const holders = 1 + this.matchIndex.filter((match, peer) => peer !== this.me && match >= index).length;
      if (holders * 2 > this.peers.length) {
        this.commitIndex = index;
        this._applyCommitted();
        return;
      }
    }
  }

  /** Hands the service, in order, each committed command (or the snapshot replacing them) it has not had yet. */
  private _applyCommitted(): void {
    if (this.applying) return; // called from inside apply: the loop running below picks up the change
    this.applying = true;
    try {
      while (!this.killed && this.lastApplied < this.commitIndex) {
        if (this.lastApplied < this.lastIncludedIndex) {
          // The entries in between were replaced by an installed snapshot: hand over the snapshot instead.
          this.lastApplied = this.lastIncludedIndex;
          this._apply({
            kind: 'snapshot',
            snapshot: this.persister.readSnapshot(),
            snapshotTerm: this.lastIncludedTerm,
            snapshotIndex: this.lastIncludedIndex,
          });
        } else {
          const index = this.lastApplied + 1;
          this.lastApplied = index;
          this._apply({ kind: 'command', command: this._entryAt(index).command, commandIndex: index });
        }
      }
    } finally {
      this.applying = false;
    }
  }

  /** The index of the last entry (lastIncludedIndex when the log is empty). */
  private _lastLogIndex(): number {
    return this.lastIncludedIndex + this.log.length;
  }

  /** The term of the last entry (lastIncludedTerm when the log is empty). */
  private _lastLogTerm(): number {
    return this._termAt(this._lastLogIndex());
  }

  /** The entry at `index`, which must be after the snapshot and in the log. */
  private _entryAt(index: number): LogEntry {
    return this.log[index - this.lastIncludedIndex - 1];
  }

  /** The term of the entry at `index`, from lastIncludedIndex (the snapshot's last entry) to the end of the log. */
  private _termAt(index: number): number {
    return index === this.lastIncludedIndex ? this.lastIncludedTerm : this._entryAt(index).term;
  }

  /** Saves the persistent state, with `snapshot` (by default the snapshot already saved). */
  private _persist(snapshot: string = this.persister.readSnapshot()): void {
    const head: Omit<PersistentState, 'log'> = {
      currentTerm: this.currentTerm,
      votedFor: this.votedFor,
      lastIncludedIndex: this.lastIncludedIndex,
      lastIncludedTerm: this.lastIncludedTerm,
    };
    // The very string JSON.stringify({ ...head, log }) gives, with each entry encoded once (see logJson).
    const log = this._logJson();
    this.persister.save(`${JSON.stringify(head).slice(0, -1)},"log":[${log}]}`, snapshot);
  }

  /** The log's entries as JSON, comma-separated: the text saved last, with the entries pushed since. */
  private _logJson(): string {
    if (this.logJsonOf !== this.log || this.logJsonCount > this.log.length) {
      // A new array (a cut at a conflict, a snapshot's trim, a restart): written again from its first entry.
      this.logJsonOf = this.log;
      this.logJson = '';
      this.logJsonCount = 0;
    }
    for (let i = this.logJsonCount; i < this.log.length; i++)
      this.logJson += `${i === 0 ? '' : ','}${JSON.stringify(this.log[i])}`;
    this.logJsonCount = this.log.length;
    return this.logJson;
  }

  /** Restores the persistent state saved before a crash (nothing on the first start). */
  private _readPersist(): void {
    const saved = this.persister.readRaftState();
    if (saved === '') return;
    const state = JSON.parse(saved) as PersistentState;
    this.currentTerm = state.currentTerm;
    this.votedFor = state.votedFor;
    this.lastIncludedIndex = state.lastIncludedIndex;
    this.lastIncludedTerm = state.lastIncludedTerm;
    this.log = state.log;
  }
}
