/**
 * Deliberately broken versions of the lab 6 reference: the classic Raft mistakes, then the RSM's, the key/value
 * service's and the clerk's (parts 5-7); each must fail a named test.
 */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'snapshot-checked-every-tenth-index',
    description:
      "the RSM looks at the saved state's size only at every tenth index, so entries pile up past maxRaftState between looks (from a red-team review)",
    file: 'rsm.ts',
    replace: [
      [
        '    if (this.maxRaftState !== NO_SNAPSHOTS && this.persister.raftStateSize() > this.maxRaftState)',
        '    if (this.maxRaftState !== NO_SNAPSHOTS && index % 10 === 0 && this.persister.raftStateSize() > this.maxRaftState)',
      ],
    ],
    caughtBy: ['TestSnapshot4C'],
    cause: 'every tenth index',
  },
  {
    name: 'clerk-round-pause-doubles',
    description:
      'the clerk doubles its pause after each whole round without an answer (100, 200, 400 ms ... up to 10 s), starting again for each call: a call that waits out an election waits seconds for nothing (from a red-team review)',
    file: 'client.ts',
    replace: [
      [
        '    let attempts = 0;\n    for (;;) {',
        '    let attempts = 0;\n    let pause = ROUND_PAUSE_MS;\n    for (;;) {',
      ],
      ['      await sleep(ROUND_PAUSE_MS);', '      await sleep(pause);\n      pause = Math.min(pause * 2, 10_000);'],
    ],
    caughtBy: ['TestNemesisKV'],
    cause: 'a pause that grows with each',
  },
  {
    name: 'append-retried-at-once-3-times',
    description:
      'a failed AppendEntries is sent again at once, up to three times, before the next heartbeat: about 40 requests a second to a follower that is down (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '  private async _replicateTo(peer: number): Promise<void> {',
        '  private async _replicateTo(peer: number, retries = 3): Promise<void> {',
      ],
      [
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      return; // lost: the next heartbeat sends it again\n",
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      if (retries > 0 && !this.killed && this.role === 'leader' && this.currentTerm === args.term) void this._replicateTo(peer, retries - 1);\n      return;\n",
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'sent again at once',
  },
  {
    name: 'election-timeout-drawn-once',
    description:
      'each peer draws its election timeout once and waits that long every time: two peers whose draws are close time out together and split the vote again and again (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '    const timeout = ELECTION_TIMEOUT_MIN_MS + Math.random() * ELECTION_TIMEOUT_SPREAD_MS;',
        '    const drawn = this as unknown as { drawnTimeout?: number };\n    const timeout = (drawn.drawnTimeout ??= ELECTION_TIMEOUT_MIN_MS + Math.random() * ELECTION_TIMEOUT_SPREAD_MS);',
      ],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'the election timeout drawn once',
  },
  {
    name: 'candidate-timeout-backs-off',
    description:
      'a candidate waits four times the election timeout before its next election (a back-off against split votes): a peer that hears nothing waits 1.2-2.4 s between elections (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '    const timeout = ELECTION_TIMEOUT_MIN_MS + Math.random() * ELECTION_TIMEOUT_SPREAD_MS;',
        "    const timeout = (ELECTION_TIMEOUT_MIN_MS + Math.random() * ELECTION_TIMEOUT_SPREAD_MS) * (this.role === 'candidate' ? 4 : 1);",
      ],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'an election timeout that grows after each election lost',
  },
  {
    name: 'leader-abandons-silent-peer',
    description:
      'the leader stops sending to a peer after 300 calls in a row to it failed (about 30 s of silence): a follower down that long never hears from this leader again (from an independent round of bugs written from the handouts alone)',
    file: 'raft.ts',
    replace: [
      [
        '      if (peer !== this.me) void this._replicateTo(peer);',
        '      if (peer !== this.me && ((this as unknown as { fails?: number[] }).fails?.[peer] ?? 0) < 300)\n        void this._replicateTo(peer);',
      ],
      [
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      return; // lost: the next heartbeat sends it again\n    }\n",
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      const fails = ((this as unknown as { fails?: number[] }).fails ??= []);\n      fails[peer] = (fails[peer] ?? 0) + 1;\n      return;\n    }\n    ((this as unknown as { fails?: number[] }).fails ??= [])[peer] = 0;\n",
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'a leader that stopped sending to a peer after many failed calls',
  },
  {
    name: 'leader-abandons-silent-peer-after-1000',
    description:
      'the leader stops sending to a peer after 1,000 calls in a row to it failed (about 100 s of silence): a follower down that long never hears from this leader again (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '      if (peer !== this.me) void this._replicateTo(peer);',
        '      if (peer !== this.me && ((this as unknown as { fails?: number[] }).fails?.[peer] ?? 0) < 1000)\n        void this._replicateTo(peer);',
      ],
      [
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      return; // lost: the next heartbeat sends it again\n    }\n",
        "      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      const fails = ((this as unknown as { fails?: number[] }).fails ??= []);\n      fails[peer] = (fails[peer] ?? 0) + 1;\n      return;\n    }\n    ((this as unknown as { fails?: number[] }).fails ??= [])[peer] = 0;\n",
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'a leader that stopped sending to a peer after many failed calls',
  },
  {
    name: 'ids-tagged-with-start-time',
    description:
      "the RSM tags its operation ids with the time it started, not the server: the group's servers start at one moment, so two servers' first submits carry one id (from an independent round of bugs written from the handouts alone)",
    file: 'rsm.ts',
    replace: [['this.tag = `${me}-${Math.random().toString(36).slice(2, 10)}`;', 'this.tag = String(Date.now());']],
    caughtBy: ['TestRestartSubmit4A'],
    cause: 'operation ids that do not name the server',
  },
  {
    name: 'snapshot-taken-late',
    description:
      "the RSM snapshots only once the saved state passes eight times maxRaftState (the slack MIT's tests allow taken for the threshold): the log stays far longer than the service asked (from an independent round of bugs written from the handouts alone)",
    file: 'rsm.ts',
    replace: [
      ['this.persister.raftStateSize() > this.maxRaftState', 'this.persister.raftStateSize() > 8 * this.maxRaftState'],
    ],
    caughtBy: ['TestSnapshot4C'],
    cause: 'a snapshot taken only well past it',
  },
  {
    name: 'majority-is-half',
    description:
      'a candidate wins with Math.ceil(n / 2) votes, itself included: a majority for 3, 5 or 7 peers, but half of 4 or 6, so two leaders can win one term (from an independent round of bugs written from the handouts alone)',
    file: 'raft.ts',
    replace: [
      [
        '      if (votes * 2 > this.peers.length) this._becomeLeader();\n',
        '      if (votes >= Math.ceil(this.peers.length / 2)) this._becomeLeader();\n',
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'a majority counted as half of the peers',
  },
  {
    name: 'leadership-check-never-cleared',
    description:
      "a submit's leadership check (setInterval) is never cleared once the submit returns: one more live interval per operation, each firing every 20 ms for the server's whole life (from an independent round of bugs written from the handouts alone)",
    file: 'rsm.ts',
    replace: [
      [
        "if (state.term !== term || state.role !== 'leader') this.waiting.get(index)?.settle(WRONG_LEADER);",
        "if ((state.term !== term || state.role !== 'leader') && this.waiting.get(index) === waiter) waiter.settle(WRONG_LEADER);",
      ],
      ['          clearInterval(check);\n', ''],
    ],
    caughtBy: ['TestBasic4B'],
    cause: "a submit's leadership check (setInterval) not cleared when the submit returns",
  },
  {
    name: 'submit-gives-up-after-a-second',
    description:
      'a waiting submit returns ErrWrongLeader after one virtual second even though its peer still leads in the same term (from an independent round of bugs written from the handouts alone)',
    file: 'rsm.ts',
    replace: [
      [
        "if (state.term !== term || state.role !== 'leader') this.waiting.get(index)?.settle(WRONG_LEADER);",
        "if (state.term !== term || state.role !== 'leader' || Date.now() - started > 1000) this.waiting.get(index)?.settle(WRONG_LEADER);",
      ],
      [
        '      const check = setInterval(() => {',
        '      const started = Date.now();\n      const check = setInterval(() => {',
      ],
    ],
    caughtBy: ['TestLeaderPartition4A'],
    cause: 'gives up while its peer still leads',
  },
  {
    name: 'submit-gives-up-after-30-seconds',
    description:
      'a waiting submit returns ErrWrongLeader after 30 virtual seconds even though its peer still leads in the same term: a give-up too late for a short partition to show it (from a red-team review)',
    file: 'rsm.ts',
    replace: [
      [
        "if (state.term !== term || state.role !== 'leader') this.waiting.get(index)?.settle(WRONG_LEADER);",
        "if (state.term !== term || state.role !== 'leader' || Date.now() - started > 30_000) this.waiting.get(index)?.settle(WRONG_LEADER);",
      ],
      [
        '      const check = setInterval(() => {',
        '      const started = Date.now();\n      const check = setInterval(() => {',
      ],
    ],
    caughtBy: ['TestLeaderPartition4A'],
    cause: 'gives up while its peer still leads',
  },
  {
    name: 'clerk-no-round-pause',
    description:
      "the clerk goes round the servers again at once after a whole round without a leader's answer, with no pause (from an independent round of bugs written from the handouts alone)",
    file: 'client.ts',
    replace: [['      await sleep(ROUND_PAUSE_MS);\n', '']],
    caughtBy: ['TestBasic4B'],
    cause: 'no pause after a whole round',
  },
  {
    name: 'clerk-forgets-leader',
    description:
      'the clerk starts every call at server 0 instead of the server that answered last: a call to a group led by another server first meets ErrWrongLeader (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [
      ['    let attempts = 0;\n    for (;;) {\n', '    let attempts = 0;\n    this.leader = 0;\n    for (;;) {\n'],
    ],
    caughtBy: ['TestBasic4B'],
    cause: 'the clerk starts every call at server 0',
  },
  {
    name: 'clerk-pauses-long',
    description:
      'the clerk pauses 1.5 s after a whole round without an answer instead of about 100 ms: every call made while a leader is elected waits far longer than it needs (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [['const ROUND_PAUSE_MS = 100;', 'const ROUND_PAUSE_MS = 1500;']],
    caughtBy: ['TestNemesisKV'],
    cause: 'a pause far longer than the handout',
  },
  {
    name: 'commit-old-term-by-count',
    description: "the leader commits an entry of an earlier term once a majority holds it (Figure 8's trap)",
    file: 'raft.ts',
    replace: [
      [
        '      if (this._termAt(index) !== this.currentTerm) return; // older terms commit only with a current-term entry\n',
        '',
      ],
    ],
    caughtBy: ['TestFigure8Paper', 'TestFigure8', 'TestFigure8Unreliable', 'TestNemesisRaft'],
    cause: 'committing an entry of an earlier term by counting replicas',
  },
  {
    name: 'commit-old-term-once-own-entry-last',
    description:
      "the leader commits by count any entry once its own last entry is of its term: Figure 8's trap when that entry is still the leader's alone (from a blind review)",
    file: 'raft.ts',
    replace: [
      [
        '    for (let index = this._lastLogIndex(); index > this.commitIndex; index--) {\n' +
          '      if (this._termAt(index) !== this.currentTerm) return; // older terms commit only with a current-term entry\n',
        '    if (this._termAt(this._lastLogIndex()) !== this.currentTerm) return;\n' +
          '    for (let index = this._lastLogIndex(); index > this.commitIndex; index--) {\n',
      ],
    ],
    caughtBy: ['TestFigure8Paper'],
    cause: 'committing an entry of an earlier term by counting replicas',
  },
  {
    name: 'log-not-persisted-on-start',
    description: "start() appends to the log without saving it: a leader's restart forgets entries it may have sent",
    file: 'raft.ts',
    replace: [
      [
        '    this.log.push({ term: this.currentTerm, command });\n    this._persist();',
        '    this.log.push({ term: this.currentTerm, command });',
      ],
    ],
    caughtBy: ['TestFigure8', 'TestNemesisRaft', 'TestReliableChurn', 'TestUnreliableChurn'],
    cause: 'a log entry not saved before it is sent or acknowledged',
  },
  {
    name: 'election-not-persisted',
    description:
      'a candidate asks for votes before saving its new term and its vote for itself: after a restart it can vote again in that term',
    file: 'raft.ts',
    replace: [['    this.votedFor = this.me;\n    this._persist();\n', '    this.votedFor = this.me;\n']],
    caughtBy: ['TestNemesisRaft', 'TestFigure8', 'TestReliableChurn', 'TestUnreliableChurn'],
    cause: 'persister.save not called when the term changes',
  },
  {
    name: 'no-up-to-date-check',
    description:
      'a peer votes for any candidate of its term, whatever its log (no election restriction, section 5.4.1)',
    file: 'raft.ts',
    replace: [
      [
        '    const grant = args.term === this.currentTerm && free && upToDate;',
        '    const grant = args.term === this.currentTerm && free && (upToDate || !upToDate);',
      ],
    ],
    caughtBy: ['TestFigure8', 'TestRejoin', 'TestBackup', 'TestNemesisRaft', 'TestFailAgree'],
    cause: 'a vote granted to a candidate whose log is behind',
  },
  {
    name: 'backs-off-by-one-per-heartbeat',
    description:
      'after a mismatch the leader moves nextIndex back by one entry and tries again only at the next heartbeat',
    file: 'raft.ts',
    replace: [
      [
        '    const next = Math.max(this._nextIndexAfterConflict(reply), this.matchIndex[peer] + 1, 1);',
        '    const next = Math.max(this.nextIndex[peer] - 1, 1);',
      ],
      ['    void this._replicateTo(peer); // try again at once: each try moves back past at least one term\n', ''],
    ],
    caughtBy: ['TestBackup', 'TestNemesisRaft', 'TestNemesisSnapshots'],
    cause: 'backs off nextIndex too slowly after a mismatch',
  },
  {
    name: 'truncate-on-every-append',
    description:
      'a follower cuts its log after prevLogIndex on every AppendEntries, so a late, shorter one removes entries it acknowledged',
    file: 'raft.ts',
    replace: [['      if (index <= this._lastLogIndex() && this._termAt(index) === entries[i].term) continue;\n', '']],
    caughtBy: ['TestFigure8Unreliable', 'TestNemesisRaft', 'TestUnreliableAgree', 'TestUnreliableChurn'],
    cause: 'cuts its log after prevLogIndex on every AppendEntries',
  },
  {
    name: 'heartbeats-every-10ms',
    description: 'heartbeats go out every 10 ms, ten times the tester allows',
    file: 'raft.ts',
    replace: [['const HEARTBEAT_MS = 100;', 'const HEARTBEAT_MS = 10;']],
    caughtBy: ['TestCount'],
    cause: 'heartbeats no more than about 10 a second',
  },
  {
    name: 'fixed-election-timeout',
    description: 'every peer waits the same election timeout: elections split again and again',
    file: 'raft.ts',
    replace: [['const ELECTION_TIMEOUT_SPREAD_MS = 300;', 'const ELECTION_TIMEOUT_SPREAD_MS = 0;']],
    caughtBy: ['TestInitialElection', 'TestReElection', 'TestManyElections'],
    cause: 'election timeouts not random',
  },
  {
    name: 'snapshot-keeps-log',
    description: 'snapshot() records the snapshot but never drops the log entries it covers',
    file: 'raft.ts',
    replace: [
      [
        '    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;\n    this._persist(snapshot);',
        '    this._persist(snapshot);',
      ],
    ],
    caughtBy: ['TestSnapshotBasic', 'TestNemesisSnapshots'],
    cause: 'snapshot() does not drop the log entries it covers',
  },
  {
    name: 'snapshot-trims-one-too-many',
    description: 'snapshot(index) also drops the entry after index (an off-by-one in the slice)',
    file: 'raft.ts',
    replace: [
      [
        '    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;',
        '    this.log = this.log.slice(index - this.lastIncludedIndex + 1);\n    this.lastIncludedIndex = index;',
      ],
    ],
    caughtBy: ['TestSnapshotBasic', 'TestSnapshotInstall', 'TestNemesisSnapshots', 'TestSnapshotAllCrash'],
    cause: 'a snapshot that drops one entry too many',
  },
  {
    name: 'install-snapshot-not-saved',
    description: "a follower installs the leader's snapshot but saves the old one: after a restart it has neither",
    file: 'raft.ts',
    replace: [
      [
        '    this._persist(args.data);\n    this._applyCommitted();',
        '    this._persist();\n    this._applyCommitted();',
      ],
    ],
    caughtBy: ['TestSnapshotInstallCrash', 'TestSnapshotInstallUnCrash', 'TestNemesisSnapshots', 'TestSnapshotInstall'],
    cause: 'an installed snapshot not saved',
  },
  {
    name: 'stale-leader-keeps-leading',
    description: 'a leader that hears a higher term in an AppendEntries reply adopts it but keeps acting as leader',
    file: 'raft.ts',
    replace: [
      [
        "    if (reply.term > this.currentTerm) return this._becomeFollower(reply.term);\n    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term",
        "    if (reply.term > this.currentTerm) {\n      this.currentTerm = reply.term;\n      this.votedFor = null;\n      this._persist();\n      return;\n    }\n    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term",
      ],
    ],
    caughtBy: ['TestReElection', 'TestNemesisRaft', 'TestFigure8Unreliable', 'TestRejoin'],
    cause: 'but keeps its role',
  },
  {
    name: 'counts-stale-vote-replies',
    description:
      'a candidate counts a vote granted in its earlier election toward the current one (the reply handler checks the role, not the term it asked in)',
    file: 'raft.ts',
    replace: [
      [
        "    if (this.role === 'candidate' && this.currentTerm === args.term && reply.voteGranted) onGranted();",
        "    if (this.role === 'candidate' && reply.voteGranted) onGranted();",
      ],
    ],
    caughtBy: ['TestStaleVoteReply'],
    cause: 'without checking that the candidate is still in the term it asked in',
  },
  {
    name: 'counts-stale-vote-replies-behind-a-probe',
    description:
      'counts-stale-vote-replies, hidden: before each election the peer sends every other a RequestVote of its old term, whose answer it ignores, so that a tester taking the first RequestVote for the election holds the wrong reply (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        "    if (this.role === 'candidate' && this.currentTerm === args.term && reply.voteGranted) onGranted();",
        "    if (this.role === 'candidate' && reply.voteGranted) onGranted();",
      ],
      [
        "  private _startElection(): void {\n    this.role = 'candidate';",
        '  private _startElection(): void {\n' +
          '    const probe: RequestVoteArgs = {\n' +
          '      term: this.currentTerm,\n' +
          '      candidateId: this.me,\n' +
          '      lastLogIndex: this._lastLogIndex(),\n' +
          '      lastLogTerm: this._lastLogTerm(),\n' +
          '    };\n' +
          "    for (let p = 0; p < this.peers.length; p++) if (p !== this.me) this.peers[p].call('Raft.RequestVote', probe).catch(() => undefined);\n" +
          "    this.role = 'candidate';",
      ],
    ],
    caughtBy: ['TestStaleVoteReply'],
    cause: 'without checking that the candidate is still in the term it asked in',
  },
  {
    name: 'follower-start-says-leader',
    description: 'start() on a peer that does not lead answers isLeader true (it appends nothing)',
    file: 'raft.ts',
    replace: [
      [
        "    if (this.killed || this.role !== 'leader') return { index: -1, term: this.currentTerm, isLeader: false };",
        "    if (this.killed || this.role !== 'leader') return { index: -1, term: this.currentTerm, isLeader: true };",
      ],
    ],
    caughtBy: ['TestBasicAgree'],
    cause: "start() not checking the peer's role",
  },
  {
    name: 'append-keeps-old-term',
    description:
      "a follower takes a newer leader's entries without taking on its term (AppendEntries never moves the term)",
    file: 'raft.ts',
    replace: [
      [
        "    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n\n",
        "    if (args.term === this.currentTerm && this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n\n",
      ],
    ],
    caughtBy: ['TestPersist1'],
    cause: 'a peer that hears of a higher term must adopt it',
  },
  {
    name: 'leader-runs-elections',
    description: "a leader's own election timer still fires: every few hundred ms it starts an election against itself",
    file: 'raft.ts',
    replace: [
      [
        "    if (this.role === 'leader') this._resetElectionTimer();\n    else this._startElection();",
        '    this._startElection();',
      ],
    ],
    caughtBy: ['TestInitialElection'],
    cause: 'a leader whose own election timer still starts elections',
  },
  {
    name: 'candidate-ignores-leader-of-its-term',
    description:
      'a candidate that hears an AppendEntries from the leader of its own term takes the entries but stays a candidate',
    file: 'raft.ts',
    replace: [
      [
        "    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n\n",
        '    if (args.term > this.currentTerm) this._becomeFollower(args.term);\n    this._resetElectionTimer();\n\n',
      ],
    ],
    caughtBy: ['TestManyElections'],
    cause: 'AppendEntries turns a peer into a follower only when the term is higher',
  },
  {
    name: 'leader-steps-down-after-snapshot',
    description:
      'a leader steps down on an InstallSnapshot reply of its own term (>= where > belongs): an election follows',
    file: 'raft.ts',
    replace: [
      [
        "    if (reply.term > this.currentTerm) return this._becomeFollower(reply.term);\n    if (this.role !== 'leader' || this.currentTerm !== args.term) return;\n    this.matchIndex[peer] = Math.max(this.matchIndex[peer], args.lastIncludedIndex);",
        "    if (reply.term >= this.currentTerm) return this._becomeFollower(reply.term);\n    if (this.role !== 'leader' || this.currentTerm !== args.term) return;\n    this.matchIndex[peer] = Math.max(this.matchIndex[peer], args.lastIncludedIndex);",
      ],
    ],
    caughtBy: ['TestSnapshotInstallCrash'],
    cause: 'steps down on an InstallSnapshot (or AppendEntries) reply of its own term',
  },
  {
    name: 'vote-not-persisted',
    description: 'votedFor is not saved before the vote is answered: a restarted peer can vote twice in one term',
    file: 'raft.ts',
    replace: [
      ['      this.votedFor = args.candidateId;\n      this._persist();', '      this.votedFor = args.candidateId;'],
    ],
    caughtBy: ['TestVoteSurvivesCrash', 'TestNemesisRaft'],
    cause: 'votedFor not saved before the vote is answered',
  },
  {
    name: 'applies-uncommitted',
    description: "a follower applies every entry the leader sent, not only up to the leader's commitIndex",
    file: 'raft.ts',
    replace: [
      [
        '    if (args.leaderCommit > this.commitIndex) {\n      this.commitIndex = Math.max(this.commitIndex, Math.min(args.leaderCommit, lastNewIndex));',
        '    if (lastNewIndex > this.commitIndex) {\n      this.commitIndex = Math.max(this.commitIndex, lastNewIndex);',
      ],
    ],
    caughtBy: ['TestFailNoAgree', 'TestFollowerFailure', 'TestLeaderFailure', 'TestFigure8', 'TestNemesisRaft'],
    cause: "beyond the leader's commitIndex",
  },
  {
    name: 'vote-request-deposes-leader',
    description:
      'any RequestVote, even of an older term, makes the receiver a follower: a late request of a lost election deposes the leader',
    file: 'raft.ts',
    replace: [
      [
        '    if (args.term > this.currentTerm) this._becomeFollower(args.term);\n    const lastTerm',
        '    this._becomeFollower(args.term);\n    const lastTerm',
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'a late RequestVote of a lost election',
  },
  {
    name: 'same-term-vote-request-deposes-leader',
    description:
      'a RequestVote of the current term makes the receiver a follower (>= where > belongs): a rival candidate deposes the leader of its term',
    file: 'raft.ts',
    replace: [
      [
        '    if (args.term > this.currentTerm) this._becomeFollower(args.term);\n    const lastTerm',
        '    if (args.term >= this.currentTerm) this._becomeFollower(args.term);\n    const lastTerm',
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: '>= where > belongs',
  },
  {
    name: 'snapshot-keeps-old-term',
    description:
      "a follower installs a newer leader's snapshot without taking on its term (InstallSnapshot never moves the term)",
    file: 'raft.ts',
    replace: [
      [
        "    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n    const index",
        "    if (this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n    const index",
      ],
    ],
    caughtBy: ['TestSnapshotInstallCrash', 'TestSnapshotInstallUnCrash', 'TestNemesisSnapshots'],
    cause: 'never compares the term it is sent with its own',
  },
  {
    name: 'get-from-local-state',
    description:
      'a server that believes it leads answers Get from its own map, without the log: a deposed leader reads stale data',
    file: 'server.ts',
    replace: [
      [
        "    const op: KvOp = { kind: 'get', key: args.key };\n    const r = await this.rsm.submit(op);\n    return r.err === 'OK' ? (r.result as GetReply) : r;",
        "    if (this.rsm.raft.getState().role !== 'leader') return { err: 'ErrWrongLeader' };\n    return this.doOp({ kind: 'get', key: args.key });",
      ],
    ],
    caughtBy: ['TestOnePartition4B', 'TestManyPartitionsManyClients4B', 'TestPersistPartition4B'],
    cause: 'a server that answers a read from its own state without going through the log',
  },
  {
    name: 'doop-gets-the-wrapper',
    description:
      'the RSM hands the state machine its own wrapper (id and operation) instead of the submitted operation',
    file: 'rsm.ts',
    replace: [['    const result = this.sm.doOp(entry.op);', '    const result = this.sm.doOp(entry);']],
    caughtBy: ['TestBasic4A', 'TestConcurrent4A'],
    cause: 'the wrapper the RSM puts around an operation',
  },
  {
    name: 'submit-waits-forever',
    description:
      'a waiting submit never checks whether its peer still leads: a cut-off leader keeps its submitters waiting',
    file: 'rsm.ts',
    replace: [['const LEADERSHIP_CHECK_MS = 20;', 'const LEADERSHIP_CHECK_MS = 1e9;']],
    caughtBy: ['TestLeaderPartition4A'],
    cause: 'check raft.getState() while waiting',
  },
  {
    name: 'kill-leaves-submits-waiting',
    description: 'kill() stops Raft but does not answer the submits still waiting',
    file: 'rsm.ts',
    replace: [['    for (const waiter of [...this.waiting.values()]) waiter.settle(WRONG_LEADER);\n', '']],
    caughtBy: ['TestShutdown4A', 'TestRestartSubmit4A'],
    cause: 'kill() does not go through the waiting submits',
  },
  {
    name: 'never-snapshots',
    description: 'the RSM never asks Raft for a snapshot, whatever maxRaftState says',
    file: 'rsm.ts',
    replace: [['      this.raft.snapshot(index, this.sm.snapshot());', '      void this.sm;']],
    caughtBy: ['TestSnapshot4C', 'TestSnapshotSize4C', 'TestSnapshotCatchUp4C'],
    cause: 'the RSM never calls raft.snapshot',
  },
  {
    name: 'snapshots-when-disabled',
    description: 'the RSM snapshots even when maxRaftState is -1',
    file: 'rsm.ts',
    replace: [
      [
        '    if (this.maxRaftState !== NO_SNAPSHOTS && this.persister.raftStateSize() > this.maxRaftState)',
        '    if (this.persister.raftStateSize() > Math.max(this.maxRaftState, MIN_SNAPSHOT_STATE))',
      ],
      ['const NO_SNAPSHOTS = -1;', 'const MIN_SNAPSHOT_STATE = 1000;'],
    ],
    caughtBy: ['TestBasic4B', 'TestConcurrent4B', 'TestPersistOneClient4B'],
    cause: '-1 means no snapshots at all',
  },
  {
    name: 'snapshot-not-restored-on-restart',
    description: "a restarted RSM ignores the persister's snapshot: the state machine starts empty after a crash",
    file: 'rsm.ts',
    replace: [
      ['      sm.restore(snapshot);\n      this.lastApplied = undefined;', '      this.lastApplied = undefined;'],
    ],
    caughtBy: ['TestSnapshot4C', 'TestSnapshotRecover4C', 'TestSnapshotRecoverManyClients4C'],
    cause: "the RSM does not restore the persister's snapshot in its constructor",
  },
  {
    name: 'snapshot-skipped-after-restart',
    description:
      'from an independent round of bugs written from the handouts alone: the RSM skips every snapshot Raft hands over until it applies a command after a restart, so a server restarted from its own snapshot that catches up by InstallSnapshot applies the later commands to its old state',
    file: 'rsm.ts',
    replace: [
      [
        'if (this.lastApplied !== undefined && msg.snapshotIndex <= this.lastApplied) return;',
        'if (this.lastApplied === undefined || msg.snapshotIndex <= this.lastApplied) return;',
      ],
    ],
    caughtBy: ['TestSnapshotCatchUp4C'],
    cause: 'snapshot Raft hands over dropped by the RSM',
  },
  {
    name: 'snapshot-through-plain-object',
    description:
      'from an independent round of bugs written from the handouts alone: the snapshot encodes the map through a plain object, which drops the key __proto__ (and, in the sandbox, cannot take keys such as hasOwnProperty)',
    file: 'server.ts',
    replace: [
      [
        '    const saved: SavedEntry[] = [...this.data].map(([key, e]) => [key, e.value, e.version]);',
        '    const saved: Record<string, [string, Version]> = {};\n    for (const [key, e] of this.data) saved[key] = [e.value, e.version];',
      ],
      [
        '    const saved = JSON.parse(snapshot) as SavedEntry[];\n    this.data = new Map(saved.map(([key, value, version]) => [key, { value, version }]));',
        '    const saved = JSON.parse(snapshot) as Record<string, [string, Version]>;\n    this.data = new Map(Object.entries(saved).map(([key, [value, version]]) => [key, { value, version }]));',
      ],
    ],
    caughtBy: ['TestNemesisKVSnapshots'],
    cause: 'encodes the map through a plain object',
  },
  {
    name: 'vote-request-keeps-role',
    description:
      "from an independent round of bugs written from the handouts alone: a RequestVote of a higher term moves the term and clears the vote but leaves the role, so a leader goes on leading in the candidate's term without an election",
    file: 'raft.ts',
    replace: [
      [
        '    if (args.term > this.currentTerm) this._becomeFollower(args.term);\n',
        '    if (args.term > this.currentTerm) {\n      this.currentTerm = args.term;\n      this.votedFor = null;\n      this._persist();\n    }\n',
      ],
    ],
    caughtBy: ['TestNemesisRaft', 'TestNemesisSnapshots'],
    cause: 'but keeps its role',
  },
  {
    name: 'last-log-term-ignores-snapshot',
    description:
      'from an independent round of bugs written from the handouts alone: the last log term is 0 when the log is empty after a snapshot, so a peer whose log is all in its snapshot votes for candidates that lack committed entries',
    file: 'raft.ts',
    replace: [
      [
        '    return this._termAt(this._lastLogIndex());',
        '    return this.log.length > 0 ? this.log[this.log.length - 1].term : 0;',
      ],
    ],
    caughtBy: ['TestSnapshotElection', 'TestSnapshotInstallUnreliable', 'TestNemesisSnapshots'],
    cause: 'the last log term (or index) taken as 0 when the log is empty after a snapshot',
  },
  {
    name: 'clerk-attempts-shared',
    description:
      "from an independent round of bugs written from the handouts alone: the clerk counts a put's copies in a field of its own, which every call resets, so two tasks sharing the clerk reset each other's count and a re-sent put answered ErrVersion returns ErrVersion",
    file: 'client.ts',
    replace: [
      ['    let attempts = 0;\n    for (;;) {', '    this.attempts = 0;\n    for (;;) {'],
      ['        attempts++;\n', '        this.attempts++;\n'],
      [
        'if (!isWrongLeader(reply)) return { reply, attempts };',
        'if (!isWrongLeader(reply)) return { reply, attempts: this.attempts };',
      ],
      ['  private async callLeader<A>(', '  private attempts = 0;\n\n  private async callLeader<A>('],
    ],
    caughtBy: ['TestNemesisKV', 'TestNemesisKVSnapshots'],
    cause: 'kept in a field of the clerk that another call resets or shares',
  },
  {
    name: 'installed-snapshot-ignored',
    description:
      "the RSM drops a snapshot Raft hands it from the leader: a lagging server's state machine misses what it covers",
    file: 'rsm.ts',
    replace: [['      this.sm.restore(msg.snapshot);\n', '']],
    caughtBy: ['TestSnapshotCatchUp4C', 'TestSnapshotUnreliableRecoverConcurrentPartition4C'],
    cause: 'snapshot Raft hands over dropped by the RSM',
  },
  {
    name: 'clerk-never-maybe',
    description: 'the clerk returns ErrVersion for a re-sent put, though an earlier copy may have taken effect',
    file: 'client.ts',
    replace: [["    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';\n", '']],
    caughtBy: [
      'TestUnreliable4B',
      'TestPersistConcurrentUnreliable4B',
      'TestPersistPartitionUnreliable4B',
      'TestModelKV',
    ],
    cause: 'reported as ErrVersion',
  },
  {
    name: 'clerk-maybe-for-any-retry',
    description: 'the clerk returns ErrMaybe for any answer to a re-sent put, even OK (only ErrVersion is uncertain)',
    file: 'client.ts',
    replace: [
      [
        "    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';\n",
        "    if (attempts > 1) return 'ErrMaybe';\n",
      ],
    ],
    caughtBy: ['TestUnreliable4B', 'TestNemesisKV', 'TestPersistPartitionUnreliable4B'],
    cause: 'ErrMaybe returned for any answer after a retry',
  },
  {
    name: 'clerk-maybe-only-after-loss',
    description:
      'the clerk returns ErrMaybe only when a copy of the put was lost, not after ErrWrongLeader from a deposed leader whose entry the next leader committed',
    file: 'client.ts',
    replace: [
      ['        attempts++;\n        try {', '        try {'],
      [
        '          if (!(err instanceof TimeoutError)) throw err;\n',
        '          if (!(err instanceof TimeoutError)) throw err;\n          attempts++;\n',
      ],
      [
        "    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';",
        "    if (reply.err === 'ErrVersion' && attempts > 0) return 'ErrMaybe';",
      ],
    ],
    caughtBy: ['TestPersistPartition4B', 'TestManyPartitionsOneClient4B', 'TestNemesisKV', 'TestNemesisKVSnapshots'],
    cause: 'not after ErrWrongLeader',
  },
  {
    name: 'submit-answered-by-any-entry',
    description:
      'a waiting submit resolves OK with whatever operation was applied at its index, even one a new leader put there',
    file: 'rsm.ts',
    replace: [
      [
        "    waiter?.settle(waiter.id === entry.id ? { err: 'OK', result } : WRONG_LEADER);",
        "    waiter?.settle({ err: 'OK', result });",
      ],
    ],
    caughtBy: ['TestNemesisKV', 'TestNemesisKVSnapshots'],
    cause: "compare the entry's id with the submit's",
  },
  {
    name: 'rsm-ids-restart-from-one',
    description:
      "operation ids are the server's number and a submit counter that starts again at 1 after a restart: a new submit can take an entry of the previous run for its own",
    file: 'rsm.ts',
    replace: [['    this.tag = `${me}-${Math.random().toString(36).slice(2, 10)}`;', '    this.tag = `${me}`;']],
    caughtBy: ['TestRestartSubmit4A'],
    cause: 'operation ids that repeat across restarts',
  },
  {
    name: 'submit-gives-up-while-leading',
    description:
      'a waiting submit returns ErrWrongLeader at its first leadership check (20 ms) even though its peer still leads',
    file: 'rsm.ts',
    replace: [
      ["if (state.term !== term || state.role !== 'leader')", "if (state.term !== term || state.role === 'leader')"],
    ],
    caughtBy: ['TestConcurrent4A'],
    cause: 'gives up while its peer still leads',
  },
  {
    name: 'uses-stale-append-replies',
    description:
      "a leader uses AppendEntries replies of its earlier term (it checks its role, not the request's term): matchIndex from a log since replaced",
    file: 'raft.ts',
    replace: [
      [
        "    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term",
        "    if (this.role !== 'leader') return; // a reply from an older term",
      ],
    ],
    caughtBy: ['TestStaleAppendReply'],
    cause: "without checking that the leader's term is still the request's term",
  },
  {
    name: 'timer-reset-on-refused-vote',
    description:
      'a peer resets its election timer on every RequestVote it hears, also one it refuses: a candidate whose log is behind keeps an up-to-date peer from starting its election',
    file: 'raft.ts',
    replace: [
      [
        '    if (this.killed) return { term: this.currentTerm, voteGranted: false };\n',
        '    if (this.killed) return { term: this.currentTerm, voteGranted: false };\n    this._resetElectionTimer();\n',
      ],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'the timer reset on every RequestVote, also a refused one',
  },
  {
    name: 'timer-reset-on-stale-append-entries',
    description:
      'a peer resets its election timer on every AppendEntries, also one of an older term it refuses: a deposed leader that never heard of the new term keeps its old followers from electing',
    file: 'raft.ts',
    replace: [
      [
        '    if (this.killed || args.term < this.currentTerm) return refuse();\n',
        '    if (!this.killed) this._resetElectionTimer();\n    if (this.killed || args.term < this.currentTerm) return refuse();\n',
      ],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'the timer reset on an AppendEntries of an older term',
  },
  {
    name: 'timer-reset-on-higher-term',
    description:
      'a peer resets its election timer whenever a message shows it a higher term, also a refused RequestVote: every new election of a candidate whose log is behind puts off the election of an up-to-date peer',
    file: 'raft.ts',
    replace: [
      [
        '      this.votedFor = null;\n      this._persist();\n    }\n',
        '      this.votedFor = null;\n      this._persist();\n      this._resetElectionTimer();\n    }\n',
      ],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'the timer reset whenever a higher term is seen',
  },
  {
    name: 'install-snapshot-older-than-applied',
    description:
      "a follower hands the service every InstallSnapshot newer than its own snapshot, even one older than what it already applied (it compares with its last snapshot's index, not with lastApplied)",
    file: 'raft.ts',
    replace: [
      [
        '    this._persist(args.data);\n    this._applyCommitted();\n',
        '    this._persist(args.data);\n    this.lastApplied = Math.min(this.lastApplied, index - 1);\n    this._applyCommitted();\n',
      ],
    ],
    caughtBy: ['TestSnapshotOlderThanApplied'],
    cause: 'not newer than what the follower applied',
  },
  {
    name: 'install-snapshot-drops-matching-suffix',
    description:
      "a follower that installs the leader's snapshot throws away its whole log, even the entries after the snapshot when its log holds the snapshot's last entry (Figure 13, step 6: keep them)",
    file: 'raft.ts',
    replace: [
      [
        '    this.log = keepSuffix ? this.log.slice(index - this.lastIncludedIndex) : [];',
        '    this.log = keepSuffix ? [] : [];',
      ],
    ],
    caughtBy: ['TestSnapshotOlderThanApplied'],
    cause: 'throws away the entries after the snapshot',
  },
  {
    name: 'put-of-held-value-keeps-version',
    description:
      'the service treats a put of the value the key already holds as nothing to do: it answers OK without adding 1 to the version',
    file: 'server.ts',
    replace: [
      [
        '    entry.value = o.value;\n    entry.version += 1;',
        "    if (entry.value === o.value) return { err: 'OK' };\n    entry.value = o.value;\n    entry.version += 1;",
      ],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'the value the key already holds treated as nothing to do',
  },
  {
    name: 'negative-version-creates',
    description:
      'a put to a missing key is refused only for a positive version ("version > 0"), so a negative version creates the key',
    file: 'server.ts',
    replace: [
      [
        "      if (o.version !== 0) return { err: 'ErrNoKey' };",
        "      if (o.version > 0) return { err: 'ErrNoKey' };",
      ],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'a check such as "version > 0"',
  },
  {
    name: 'kv-data-plain-object',
    description:
      'the service keeps its keys in a plain object, where keys such as "constructor" and "toString" seem to exist already (a get answers OK, a put at version 0 ErrVersion)',
    file: 'server.ts',
    replace: [
      ['  private data = new Map<string, Entry>();', '  private data = objectStore({});'],
      [
        '    this.data = new Map(saved.map(([key, value, version]) => [key, { value, version }]));',
        '    this.data = objectStore(Object.fromEntries(saved.map(([key, value, version]) => [key, { value, version }])));',
      ],
      [
        'export class KVServer ',
        '/** The keys, in a plain object. */\nfunction objectStore(o: Record<string, Entry>) {\n  return {\n    get: (key: string): Entry | undefined => o[key],\n    set: (key: string, e: Entry): void => {\n      o[key] = e;\n    },\n    [Symbol.iterator]: () => Object.entries(o)[Symbol.iterator](),\n  };\n}\n\nexport class KVServer ',
      ],
    ],
    caughtBy: ['TestModelKV', 'TestNemesisKV'],
    cause: 'a store kept in a plain object',
  },
  {
    name: 'installed-snapshot-altered',
    description:
      'an installed snapshot is handed to the service with its first command replaced: the snapshot parses and its index is right, but it holds a command no peer applied there (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '            snapshot: this.persister.readSnapshot(),',
        '            snapshot: alteredSnapshot(this.persister.readSnapshot()),',
      ],
      [
        'export class Raft ',
        "/** The snapshot with its first command replaced. */\nfunction alteredSnapshot(data: string): string {\n  const s = JSON.parse(data) as { commands: unknown[] };\n  if (s.commands.length > 1) s.commands[1] = 'altered';\n  return JSON.stringify(s);\n}\n\nexport class Raft ",
      ],
    ],
    caughtBy: [
      'TestSnapshotInstall',
      'TestSnapshotInstallUnreliable',
      'TestSnapshotInstallCrash',
      'TestSnapshotInstallUnCrash',
    ],
    cause: 'state machine safety',
  },
  {
    name: 'raft-keeps-compacted-entries',
    description:
      'snapshot() trims the log but keeps the entries it dropped in an array aside: memory grows with every command, though the saved state stays small (from an independent round of bugs written from the handouts alone)',
    file: 'raft.ts',
    replace: [
      [
        '    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;',
        '    ((this as unknown as { kept?: LogEntry[] }).kept ??= []).push(...this.log.slice(0, index - this.lastIncludedIndex));\n    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;',
      ],
    ],
    caughtBy: ['TestMemKV4C'],
    cause: 'Raft keeping the entries a snapshot replaced',
  },
  {
    name: 'kv-keeps-every-value',
    description:
      "the service keeps each key's earlier values in a list it never reads or saves: memory grows with every put, though the store and its snapshots stay small",
    file: 'server.ts',
    replace: [
      [
        '    entry.value = o.value;\n',
        '    ((this as unknown as { older?: string[] }).older ??= []).push(entry.value);\n    entry.value = o.value;\n',
      ],
    ],
    caughtBy: ['TestMemKV4C'],
    cause: 'the service keeping every value put',
  },
  {
    name: 'compacted-entries-behind-spare-memory',
    description:
      'raft-keeps-compacted-entries, hidden: the constructor sets aside 1,300 arrays about the size of an entry and snapshot() drops one for each entry it keeps, so that a short life and a long one weigh alike (from a red-team review)',
    file: 'raft.ts',
    replace: [
      [
        '    this.lastApplied = this.lastIncludedIndex;\n    this._resetElectionTimer();',
        '    this.lastApplied = this.lastIncludedIndex;\n    this._resetElectionTimer();\n' +
          '    (this as unknown as { spare: number[][] }).spare = Array.from({ length: 1300 }, (_, i) =>\n' +
          '      Array.from({ length: 130 }, (_, j) => i * 1000 + j),\n' +
          '    );',
      ],
      [
        '    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;',
        '    const dropped = this.log.slice(0, index - this.lastIncludedIndex);\n' +
          '    ((this as unknown as { kept?: LogEntry[] }).kept ??= []).push(...dropped);\n' +
          '    for (let i = 0; i < dropped.length; i++) (this as unknown as { spare: number[][] }).spare.pop();\n' +
          '    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;',
      ],
    ],
    caughtBy: ['TestMemKV4C'],
    cause: 'Raft keeping the entries a snapshot replaced',
  },
  {
    name: 'append-resent-in-a-loop',
    description:
      'a lost AppendEntries is sent again at once until it gets through: to a peer that is down, every heartbeat starts another loop, and the leader floods it (from an independent round of bugs written from the handouts alone)',
    file: 'raft.ts',
    replace: [
      [
        "    try {\n      reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n    } catch {\n      return; // lost: the next heartbeat sends it again\n    }",
        "    for (;;) {\n      try {\n        reply = await this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', args);\n        break;\n      } catch {\n        if (this.killed || this.role !== 'leader' || this.currentTerm !== args.term) return;\n      }\n    }",
      ],
    ],
    caughtBy: ['TestNemesisRaft'],
    cause: 'sent again at once, in a loop',
  },
  {
    name: 'election-timeout-up-to-1030ms',
    description:
      'election timeouts are drawn from 350 to 1030 ms: now and then a follower waits past the one second the handout allows before its next election (from a red-team review)',
    file: 'raft.ts',
    replace: [
      ['const ELECTION_TIMEOUT_MIN_MS = 300;', 'const ELECTION_TIMEOUT_MIN_MS = 350;'],
      ['const ELECTION_TIMEOUT_SPREAD_MS = 300;', 'const ELECTION_TIMEOUT_SPREAD_MS = 680;'],
    ],
    caughtBy: ['TestElectionTimer'],
    cause: 'an election timeout that can be drawn longer than one second',
  },
];
