/**
 * Lab 6's named tests: MIT 6.5840's Raft tests (3A-3D) and, from kvsuite.ts, its key/value tests (4A-4C), by
 * their names, each in its own simulated world, so a seed replays it exactly:
 * npm run grade lab6 -- --test <Name> --seed <N>
 */
import { IMPL_FILES, load } from '../load';
import { LabSuite, scored, TestContext, TestDefinition, Monitors } from '../../suite';
import { monitored } from '../../suite/monitors';
import { sleep } from '../../world';
import type { Command } from '../raftapi';
import {
  ELECTION_TIMEOUT_MS,
  Lab6Impl,
  MAX_LOG_SIZE,
  RaftTester,
  SNAPSHOT_INTERVAL,
  peerName,
  requestTerm,
  showCommand,
} from './harness';
import { kvTests } from './kvsuite';
import { nemesisRaft, nemesisSnapshots } from './nemesis';
import { electionTimer } from './electiontimer';
import { olderSnapshot } from './oldersnapshot';

type Ctx = TestContext<Lab6Impl>;

/** A random command, as MIT's tests use (a whole number). */
function randomCommand(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A random command of the snapshot tests: 64 random letters and digits (about 330 bits), where MIT's are whole
 * numbers. A whole number carries 31 bits, so a log that is never trimmed, packed three UTF-16 units an entry, stayed
 * under the saved-state bound; these cannot be packed below about 21 units each.
 */
function snapshotCommand(): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += Math.floor(Math.random() * 36).toString(36);
  return s;
}

/** A random integer in [0, n). */
function below(n: number): number {
  return Math.floor(Math.random() * n);
}

/** Fails the test with `message` unless `ok`. */
function expect(ts: RaftTester, ok: boolean, message: string): void {
  if (!ok) ts.fail(message);
}

// ---- Part 1 (MIT 3A): leader election ----

const initialElection: TestDefinition<Lab6Impl> = {
  name: 'TestInitialElection',
  description: 'three peers elect one leader, agree on its term, and keep it while nothing fails',
  async run(ctx: Ctx) {
    const ts = new RaftTester(ctx, { servers: 3 });
    await ts.checkOneLeader();
    // Let followers hear the leader's term.
    await sleep(50);
    const term1 = ts.checkTerms();
    expect(ts, term1 >= 1, `the term is ${term1} with a leader elected; an election must move the term to at least 1.`);
    // With no failures, the leader and term stay.
    await sleep(2 * ELECTION_TIMEOUT_MS);
    const term2 = ts.checkTerms();
    expect(
      ts,
      term1 === term2,
      `the term moved from ${term1} to ${term2} in ${(2 * ELECTION_TIMEOUT_MS) / 1000} s with every peer running and ` +
        'connected and no message lost: a peer started an election while a leader was in place. Expected the leader to ' +
        'keep its followers from timing out. Likely causes: heartbeats less frequent than the shortest election ' +
        'timeout, an election timeout drawn below the heartbeat interval, a follower that does not reset its timer on ' +
        "the leader's AppendEntries, or a leader whose own election timer still starts elections.",
    );
    await ts.checkOneLeader();
  },
};

const reElection: TestDefinition<Lab6Impl> = {
  name: 'TestReElection',
  description: 'a new leader after the old one is cut off; no leader without a majority; the old leader rejoins',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    const leader1 = await ts.checkOneLeader();
    ts.disconnect(leader1);
    await ts.checkOneLeader();
    // The old leader rejoins: it must not disturb the new one.
    ts.connect(leader1);
    const leader2 = await ts.checkOneLeader();
    // No quorum: no leader may be elected.
    ts.disconnect(leader2);
    ts.disconnect((leader2 + 1) % n);
    await sleep(2 * ELECTION_TIMEOUT_MS);
    ts.checkNoLeader();
    // A quorum again: a leader.
    ts.connect((leader2 + 1) % n);
    await ts.checkOneLeader();
    ts.connect(leader2);
    await ts.checkOneLeader();
  },
};

/**
 * Fails if a connected peer is still a candidate in the term of `leader`, which has led long enough for its
 * heartbeats to reach every connected peer (Figure 2: a candidate that hears from the leader of its term follows it).
 */
function checkNoCandidateOfLeadersTerm(ts: RaftTester, leader: number): void {
  const term = ts.state(leader).term;
  for (let i = 0; i < ts.n; i++) {
    if (i === leader || !ts.isConnected(i) || !ts.isRunning(i)) continue;
    const s = ts.peer(i)?.getState();
    if (s?.role === 'candidate' && s.term === term)
      ts.fail(
        `${peerName(i)} is still a candidate in term ${term}, while ${peerName(leader)} leads that term and reaches it. ` +
          'Expected a candidate that hears an AppendEntries from the leader of its own term to become its follower ' +
          '(Figure 2: "If AppendEntries RPC received from new leader: convert to follower"). Likely causes: AppendEntries ' +
          'turns a peer into a follower only when the term is higher.',
      );
  }
}

const manyElections: TestDefinition<Lab6Impl> = {
  name: 'TestManyElections',
  description:
    'seven peers, ten rounds of cutting off three at random: a leader every time, and a candidate of its term follows it',
  async run(ctx: Ctx) {
    const n = 7;
    const ts = new RaftTester(ctx, { servers: n });
    checkNoCandidateOfLeadersTerm(ts, await ts.checkOneLeader());
    for (let iter = 0; iter < 10; iter++) {
      const cut = [below(n), below(n), below(n)];
      for (const i of cut) ts.disconnect(i);
      // Either the current leader is still alive, or the remaining four elect one.
      checkNoCandidateOfLeadersTerm(ts, await ts.checkOneLeader());
      for (const i of cut) ts.connect(i);
    }
    checkNoCandidateOfLeadersTerm(ts, await ts.checkOneLeader());
  },
};

/** What TestStaleVoteReply saw of one election it held the replies of. */
interface HeldElection {
  /** The candidate, and the term of the election whose replies are held. */
  candidate: number;
  term: number;
  /** The other connected peer, which answered in that term. */
  voter: number;
  /** Undefined until the voter's answer reached the candidate; then whether the voter had voted for it. */
  granted: boolean | undefined;
  /** Resolves to let the held replies reach the candidate. */
  release: () => void;
  released: Promise<void>;
}

/**
 * With `leader` about to be cut off: holds back the first vote of the election that follows (the first peer to ask
 * is the candidate; the voter's answer, a vote for it in any Raft as the voter is a follower of a lower term with an
 * equally empty log, is held on its way), and cuts the candidate off once the voter granted it. Returns the
 * election, once it began.
 */
function holdFirstVote(ts: RaftTester, leader: number): () => HeldElection | undefined {
  let election: HeldElection | undefined;
  const leaderTerm = ts.state(leader).term;
  ts.onCall = (from, to, method, request, callerTerm) => {
    if (method !== 'Raft.RequestVote' || from === leader || !ts.isConnected(from)) return undefined;
    // An election asks in a term of its own, above the cut-off leader's, and says so: a RequestVote of an older
    // term (whatever the code sent it for) is no election, and its answer is no vote to hold.
    const stated = requestTerm(request);
    if (!('term' in stated) || stated.term !== callerTerm || stated.term <= leaderTerm) return undefined;
    const term = stated.term;
    if (election === undefined) {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      election = { candidate: from, term, voter: 3 - leader - from, granted: undefined, release, released };
    }
    const e = election;
    if (from !== e.candidate || term !== e.term || to !== e.voter) return undefined;
    return {
      arrived: () => {
        if (e.granted !== undefined) return;
        // A follower of the candidate's term, once it answered, voted for it (no one else asked it in that term).
        const v = ts.peer(e.voter)?.getState();
        e.granted = v?.role === 'follower' && v.term === e.term;
        // The vote is on its way; the candidate is cut off before it arrives. Two votes of three would win.
        if (e.granted) ts.disconnect(e.candidate);
        else e.release();
      },
      release: e.released,
    };
  };
  return () => election;
}

/** Waits until the held election's voter has answered (granted or not), failing when no election starts in 5 s. */
async function awaitVote(
  ts: RaftTester,
  leader: number,
  election: () => HeldElection | undefined,
): Promise<HeldElection> {
  for (let waited = 0; ; waited += 5) {
    const e = election();
    if (e?.granted !== undefined) return e;
    if (waited > 5 * ELECTION_TIMEOUT_MS)
      ts.fail(
        `${peerName(leader)}, the leader, was cut off, and for 5 s neither other peer asked the other for its vote ` +
          '(no Raft.RequestVote call). Expected a follower that hears no leader for an election timeout to start an ' +
          'election. Likely causes: no election timer, or one that is never started again after a heartbeat.',
      );
    await sleep(5);
  }
}

/** The cut-off candidate, alone, must give up on its election when its timer fires and start another: its new term. */
async function awaitNextTerm(ts: RaftTester, e: HeldElection): Promise<number> {
  const c = e.candidate;
  for (let waited = 0; ts.state(c).term <= e.term; waited += 5) {
    if (waited > 5 * ELECTION_TIMEOUT_MS)
      ts.fail(
        `${peerName(c)} started an election in term ${e.term}, was cut off before any vote arrived, and was still ` +
          `in term ${ts.state(c).term} 5 s later. Expected a candidate whose election does not complete to start a ` +
          'new one (a new term) when its election timeout elapses (Figure 2). Likely causes: the election timer ' +
          'not started again when an election begins, or only on a reply.',
      );
    await sleep(5);
  }
  return ts.state(c).term;
}

/** Lets the old vote arrive (no peer heard from the candidate in its new term): the candidate must not lead. */
async function releaseStaleVote(ts: RaftTester, e: HeldElection, newTerm: number): Promise<void> {
  const c = e.candidate;
  e.release();
  for (let k = 0; k < 100; k++) {
    await sleep(1);
    const s = ts.state(c);
    if (s.isLeader)
      ts.fail(
        `${peerName(c)} became leader in term ${s.term} while cut off from every other peer since before that term ` +
          `began: no peer can have voted for it in term ${s.term}. It had asked for votes in term ${e.term}; ` +
          `${peerName(e.voter)}'s vote of term ${e.term} reached it only once it was a candidate of term ${newTerm}. ` +
          'Expected a candidate to count only the votes of its current election (Raft allows at most one leader ' +
          'per term, elected by a majority in that term). Likely causes: a RequestVote reply counted without checking ' +
          'that the candidate is still in the term it asked in (checking the role alone is not enough), or a vote ' +
          'counter shared by successive elections.',
      );
  }
}

/** Elections TestStaleVoteReply tries at most, to hold a granted vote back twice. */
const STALE_VOTE_ATTEMPTS = 6;

const staleVoteReply: TestDefinition<Lab6Impl> = {
  name: 'TestStaleVoteReply',
  description:
    'a vote granted in one election reaches its candidate only after it was cut off and started the next: it must not count it there (a leader with no vote of its term)',
  async run(ctx: Ctx) {
    const ts = new RaftTester(ctx, { servers: 3 });
    let held = 0;
    let attempts = 0;
    for (; attempts < STALE_VOTE_ATTEMPTS && held < 2; attempts++) {
      const attempt = attempts;
      const leader = await ts.checkOneLeader();
      // The leader is cut off: the other two elect one of them, and the voter's answer is held back.
      const election = holdFirstVote(ts, leader);
      ts.disconnect(leader);
      const e = await awaitVote(ts, leader, election);
      ts.onCall = undefined;
      if (e.granted) {
        held++;
        ctx.log(
          `attempt ${attempt + 1}: ${peerName(e.candidate)} asked for votes in term ${e.term}; ${peerName(e.voter)} ` +
            `voted for it, and ${peerName(e.candidate)} was cut off before the vote arrived`,
        );
        await releaseStaleVote(ts, e, await awaitNextTerm(ts, e));
      } else {
        ctx.log(`attempt ${attempt + 1}: ${peerName(e.candidate)}'s election of term ${e.term} was split; again`);
      }
      ts.connect(e.candidate);
      ts.connect(leader);
    }
    if (held === 0)
      ts.fail(
        `In ${attempts} elections after the leader was cut off, no vote was ever granted in the candidate's new term ` +
          '(each was split, or the voter was not a follower of that term once it answered): the test never saw the ' +
          'situation it is about. Expected the first peer to time out to ask the other for its vote in a term above the ' +
          "old leader's, and the other, a follower of a lower term with an equally complete log, to grant it. Likely " +
          'causes: both peers starting elections in step (an election timeout not drawn at random for each election); a ' +
          'vote refused to a candidate whose log is as complete; RequestVote sent with a term of its own that is not the ' +
          "candidate's current one.",
      );
    await ts.checkOneLeader();
  },
};

// ---- Part 2 (MIT 3B): log agreement ----

const basicAgree: TestDefinition<Lab6Impl> = {
  name: 'TestBasicAgree',
  description:
    'three commands, each committed by every peer at indexes 1, 2, 3; start() on a follower says it is not the leader',
  async run(ctx: Ctx) {
    const ts = new RaftTester(ctx, { servers: 3 });
    for (let index = 1; index <= 3; index++) {
      const { count } = ts.nCommitted(index);
      expect(ts, count === 0, `index ${index} was applied by ${count} peers before start() was called for it.`);
      const got = await ts.one(index * 100, 3, false);
      expect(
        ts,
        got === index,
        `one(${index * 100}) was committed at index ${got}; expected ${index} (the log starts at 1).`,
      );
    }
    // Only the leader takes commands: a follower's start() returns isLeader false (a service tries another peer).
    const leader = await ts.checkOneLeader();
    for (let i = 0; i < ts.n; i++) {
      if (i === leader) continue;
      const r = ts.peer(i)?.start(400);
      expect(
        ts,
        r?.isLeader === false,
        `start(400) on ${peerName(i)}, a follower of leader ${peerName(leader)}, returned ${showCommand(r)}; expected ` +
          '{ isLeader: false } (only the leader appends commands, and the service asks another peer). Likely causes: ' +
          "start() not checking the peer's role, or a result without isLeader.",
      );
    }
  },
};

const rpcBytes: TestDefinition<Lab6Impl> = {
  name: 'TestRPCBytes',
  description: 'each command of 5,000 characters is sent to each peer about once, not many times over',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(99, n, false);
    const bytes0 = ts.bytesTotal();
    let sent = 0;
    for (let index = 2; index < 10; index++) {
      let cmd = '';
      for (let k = 0; k < 5000; k++) cmd += String.fromCharCode(97 + below(26));
      const got = await ts.one(cmd, n, false);
      expect(ts, got === index, `the command was committed at index ${got}; expected ${index}.`);
      sent += cmd.length;
    }
    const got = ts.bytesTotal() - bytes0;
    const expected = n * sent;
    expect(
      ts,
      got <= expected + 50_000,
      `the peers sent ${got} bytes for ${sent} bytes of commands; expected at most ${expected + 50_000} (each command ` +
        'once to each peer, plus 50,000 for everything else). Likely causes: sending the whole log in every ' +
        'AppendEntries instead of the entries from nextIndex on, or nextIndex not advanced after a success.',
    );
  },
};

const followerFailure: TestDefinition<Lab6Impl> = {
  name: 'TestFollowerFailure',
  description: 'agreement goes on without one follower; with no follower left nothing commits',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(101, n, false);
    const leader1 = await ts.checkOneLeader();
    ts.disconnect((leader1 + 1) % n);
    // The leader and the remaining follower agree.
    await ts.one(102, n - 1, false);
    await sleep(ELECTION_TIMEOUT_MS);
    await ts.one(103, n - 1, false);
    // Cut off the remaining followers.
    const leader2 = await ts.checkOneLeader();
    ts.disconnect((leader2 + 1) % n);
    ts.disconnect((leader2 + 2) % n);
    const r = ts.peer(leader2)?.start(104);
    expect(ts, r?.isLeader === true, `${peerName(leader2)} was the leader but start(104) says it is not.`);
    expect(ts, r?.index === 4, `start(104) returned index ${r?.index}; expected 4 (three commands were committed).`);
    await sleep(2 * ELECTION_TIMEOUT_MS);
    const { count } = ts.nCommitted(4);
    expect(
      ts,
      count === 0,
      `${count} peers applied index 4, which only a leader without followers holds: an entry commits only once a majority stores it.`,
    );
  },
};

const leaderFailure: TestDefinition<Lab6Impl> = {
  name: 'TestLeaderFailure',
  description: 'agreement goes on after the leader is cut off; with no majority nothing commits',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(101, n, false);
    const leader1 = await ts.checkOneLeader();
    ts.disconnect(leader1);
    // The remaining two elect a new leader.
    await ts.one(102, n - 1, false);
    await sleep(ELECTION_TIMEOUT_MS);
    await ts.one(103, n - 1, false);
    const leader2 = await ts.checkOneLeader();
    ts.disconnect(leader2);
    // Offer a command to every peer: none may commit it.
    for (let i = 0; i < n; i++) ts.peer(i)?.start(104);
    await sleep(2 * ELECTION_TIMEOUT_MS);
    const { count } = ts.nCommitted(4);
    expect(ts, count === 0, `${count} peers applied index 4 though no majority was connected.`);
  },
};

const failAgree: TestDefinition<Lab6Impl> = {
  name: 'TestFailAgree',
  description: 'a follower cut off while commands commit catches up when it rejoins',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(101, n, false);
    const leader = await ts.checkOneLeader();
    ts.disconnect((leader + 1) % n);
    await ts.one(102, n - 1, false);
    await ts.one(103, n - 1, false);
    await sleep(ELECTION_TIMEOUT_MS);
    await ts.one(104, n - 1, false);
    await ts.one(105, n - 1, false);
    ts.connect((leader + 1) % n);
    // The rejoined follower takes the new commands and catches up.
    await ts.one(106, n, true);
    await sleep(ELECTION_TIMEOUT_MS);
    await ts.one(107, n, true);
  },
};

const failNoAgree: TestDefinition<Lab6Impl> = {
  name: 'TestFailNoAgree',
  description: 'three of five followers cut off: nothing commits; once they return, agreement resumes',
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(10, n, false);
    const leader = await ts.checkOneLeader();
    for (const k of [1, 2, 3]) ts.disconnect((leader + k) % n);
    const r = ts.peer(leader)?.start(20);
    expect(ts, r?.isLeader === true, `${peerName(leader)} was the leader but start(20) says it is not.`);
    expect(ts, r?.index === 2, `start(20) returned index ${r?.index}; expected 2.`);
    await sleep(2 * ELECTION_TIMEOUT_MS);
    const { count } = ts.nCommitted(2);
    expect(
      ts,
      count === 0,
      `${count} peers applied index 2 while only two of five were connected. Likely causes: a follower that applies ` +
        "entries beyond the leader's commitIndex (apply only up to min(leaderCommit, index of the last new entry)); a " +
        'leader that commits without a majority.',
    );
    for (const k of [1, 2, 3]) ts.connect((leader + k) % n);
    // The disconnected majority may have elected a leader of its own and forgotten index 2.
    const leader2 = await ts.checkOneLeader();
    const r2 = ts.peer(leader2)?.start(30);
    expect(ts, r2?.isLeader === true, `${peerName(leader2)} was the leader but start(30) says it is not.`);
    expect(
      ts,
      r2?.index === 2 || r2?.index === 3,
      `start(30) returned index ${r2?.index}; expected 2 or 3 (one command committed, one perhaps kept).`,
    );
    await ts.one(1000, n, true);
  },
};

const concurrentStarts: TestDefinition<Lab6Impl> = {
  name: 'TestConcurrentStarts',
  description: 'five commands started at once in one term all commit, each at its own index',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) await sleep(3000); // give the cluster a chance to settle
      const leader = await ts.checkOneLeader();
      const first = ts.peer(leader)?.start(1);
      if (!first?.isLeader) continue; // leader moved on quickly
      const term = first.term;
      const started = await Promise.all(
        [0, 1, 2, 3, 4].map(async (k) => {
          await Promise.resolve();
          const r = ts.peer(leader)?.start(100 + k);
          return r?.isLeader && r.term === term ? r.index : -1;
        }),
      );
      if (started.includes(-1)) continue;
      let moved = false;
      for (let j = 0; j < n; j++) if (ts.isRunning(j) && ts.state(j).term !== term) moved = true;
      if (moved) continue; // a term moved on: cannot expect the commands to commit
      const got: Command[] = [];
      for (const index of started) {
        const c = await ts.wait(index, n, term);
        if (c === -1) {
          moved = true;
          break;
        }
        got.push(c);
      }
      if (moved) continue;
      for (let k = 0; k < 5; k++)
        expect(
          ts,
          got.some((c) => c === 100 + k),
          `command ${100 + k} was started in term ${term} and never committed (the peers committed ${got.map(showCommand).join(', ')}).`,
        );
      return;
    }
    ts.fail(
      'the term changed too often to test concurrent starts (five attempts): elections should be rare while nothing fails.',
    );
  },
};

const rejoin: TestDefinition<Lab6Impl> = {
  name: 'TestRejoin',
  description: "a cut-off leader with uncommitted entries rejoins: its entries are replaced by the new leader's",
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(101, n, true);
    const leader1 = await ts.checkOneLeader();
    ts.disconnect(leader1);
    // The old leader takes commands it can never commit.
    for (const c of [102, 103, 104]) ts.peer(leader1)?.start(c);
    // The new leader commits index 2.
    await ts.one(103, 2, true);
    const leader2 = await ts.checkOneLeader();
    ts.disconnect(leader2);
    ts.connect(leader1);
    await ts.one(104, 2, true);
    ts.connect(leader2);
    await ts.one(105, n, true);
  },
};

const backup: TestDefinition<Lab6Impl> = {
  name: 'TestBackup',
  description: 'a leader brings followers back over 50 diverging entries quickly (nextIndex backs off fast)',
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(randomCommand(), n, true);
    // Put the leader and one follower in a partition.
    const leader1 = await ts.checkOneLeader();
    for (const k of [2, 3, 4]) ts.disconnect((leader1 + k) % n);
    // Commands that will not commit.
    for (let k = 0; k < 50; k++) ts.peer(leader1)?.start(randomCommand());
    await sleep(ELECTION_TIMEOUT_MS / 2);
    ts.disconnect(leader1 % n);
    ts.disconnect((leader1 + 1) % n);
    // The other partition: lots of commands that commit.
    for (const k of [2, 3, 4]) ts.connect((leader1 + k) % n);
    for (let k = 0; k < 50; k++) await ts.one(randomCommand(), 3, true);
    // Now another partitioned leader and one follower.
    const leader2 = await ts.checkOneLeader();
    let other = (leader1 + 2) % n;
    if (leader2 === other) other = (leader2 + 1) % n;
    ts.disconnect(other);
    // Lots more commands that will not commit.
    for (let k = 0; k < 50; k++) ts.peer(leader2)?.start(randomCommand());
    await sleep(ELECTION_TIMEOUT_MS / 2);
    // Bring the original leader back to life.
    for (let i = 0; i < n; i++) ts.disconnect(i);
    ts.connect(leader1 % n);
    ts.connect((leader1 + 1) % n);
    ts.connect(other);
    for (let k = 0; k < 50; k++) await ts.one(randomCommand(), 3, true);
    // Everyone.
    for (let i = 0; i < n; i++) ts.connect(i);
    await ts.one(randomCommand(), n, true);
  },
};

const count: TestDefinition<Lab6Impl> = {
  name: 'TestCount',
  description: 'RPC counts: at most 30 to elect, about three per peer per command, few while idle',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.checkOneLeader();
    let total1 = ts.rpcTotal();
    expect(
      ts,
      total1 <= 30 && total1 >= 1,
      `electing the first leader took ${total1} RPCs; expected between 1 and 30. Likely causes: elections started ` +
        'again and again (election timeouts too short or not random), or heartbeats far more often than 10 a second.',
    );
    let total2 = 0;
    let success = false;
    for (let attempt = 0; attempt < 5 && !success; attempt++) {
      if (attempt > 0) await sleep(3000); // give the cluster a chance to settle
      const leader = await ts.checkOneLeader();
      total1 = ts.rpcTotal();
      const iters = 10;
      const first = ts.peer(leader)?.start(1);
      if (!first?.isLeader) continue;
      const term = first.term;
      const cmds: number[] = [];
      let ok = true;
      for (let k = 1; k < iters + 2; k++) {
        const x = randomCommand();
        cmds.push(x);
        const r = ts.peer(leader)?.start(x);
        if (!r || r.term !== term || !r.isLeader) {
          ok = false;
          break;
        }
        expect(ts, r.index === first.index + k, `start() returned index ${r.index}; expected ${first.index + k}.`);
      }
      if (!ok) continue;
      for (let k = 1; k < iters + 1; k++) {
        const c = await ts.wait(first.index + k, n, term);
        if (c === -1) {
          ok = false;
          break;
        }
        expect(
          ts,
          c === cmds[k - 1],
          `wrong value ${showCommand(c)} committed for index ${first.index + k}; expected ${cmds[k - 1]}.`,
        );
      }
      if (!ok) continue;
      for (let j = 0; j < n; j++) if (ts.state(j).term !== term) ok = false;
      if (!ok) continue;
      total2 = ts.rpcTotal();
      expect(
        ts,
        total2 - total1 <= (iters + 1 + 3) * 3,
        `committing ${iters} commands took ${total2 - total1} RPCs; expected at most ${(iters + 1 + 3) * 3}. Likely ` +
          'causes: an AppendEntries per command per follower and more, retries while replies are on their way, or ' +
          'heartbeats far more often than 10 a second.',
      );
      success = true;
    }
    if (!success) ts.fail('the term changed too often to count RPCs (five attempts).');
    await sleep(ELECTION_TIMEOUT_MS);
    const total3 = ts.rpcTotal();
    expect(
      ts,
      total3 - total2 <= 3 * 20,
      `one second of idleness took ${total3 - total2} RPCs; expected at most 60 (heartbeats no more than about 10 a ` +
        'second per follower).',
    );
  },
};

/** A promise and the function that resolves it (a hold the test lets go of later). */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Waits up to 10 s for peer `i` to lead in a term above `term`; fails with `why` (the likely causes) if it does not. */
async function awaitLeader(ts: RaftTester, i: number, term: number, why: string): Promise<void> {
  for (let waited = 0; ; waited += 20) {
    const s = ts.state(i);
    if (s.isLeader && s.term > term) return;
    if (waited > 10 * ELECTION_TIMEOUT_MS)
      ts.fail(`${peerName(i)} did not become leader in a term above ${term} within 10 s, though ${why}`);
    await sleep(20);
  }
}

/** How long TestStaleAppendReply goes on holding a leader's AppendEntries replies after the first one (virtual ms). */
const HOLD_MORE_MS = 150;

/**
 * Holds the replies to every AppendEntries `from` sends `to` from the first one (waiting up to an election timeout
 * for it) until HOLD_MORE_MS after it, until `release()`: whatever the leader sends first, the replies to its real
 * requests of that term are among those held.
 */
async function holdAppendReplies(
  ts: RaftTester,
  from: number,
  to: number,
): Promise<{ release: () => void; arrived: () => boolean }> {
  const stale = gate();
  let arrived = false;
  const hook: RaftTester['onCall'] = (caller, callee, method) => {
    if (caller !== from || callee !== to || method !== 'Raft.AppendEntries') return undefined;
    return { arrived: () => void (arrived = true), release: stale.opened };
  };
  ts.onCall = hook;
  for (let waited = 0; !arrived && waited < ELECTION_TIMEOUT_MS; waited += 10) await sleep(10);
  if (arrived) await sleep(HOLD_MORE_MS);
  if (ts.onCall === hook) ts.onCall = undefined;
  return { release: () => stale.open(), arrived: () => arrived };
}

const staleAppendReply: TestDefinition<Lab6Impl> = {
  name: 'TestStaleAppendReply',
  description:
    "an AppendEntries reply from a leader's earlier term reaches it once it leads again, cut off from everyone: it must not count it (a commit without a majority)",
  async run(ctx: Ctx) {
    const ts = new RaftTester(ctx, { servers: 3 });
    await ts.one(randomCommand(), 3, false);
    // a, cut off, appends three entries of its term (indexes 2-4) that no other peer gets.
    const a = await ts.checkOneLeader();
    ts.disconnect(a);
    for (let k = 0; k < 3; k++) ts.peer(a)?.start(randomCommand());
    // The other two elect c, which, cut off at once, appends one entry of its newer term that no other peer gets.
    const c = await ts.checkOneLeader();
    const b = 3 - a - c;
    ts.disconnect(c);
    ts.peer(c)?.start(randomCommand());
    // a and b: only a can win (its log is the longer with the same last term), and b takes a's three entries.
    ts.connect(a);
    await awaitLeader(
      ts,
      a,
      ts.state(c).term,
      `it and ${peerName(b)} were the only connected peers, and its log is ahead of ${peerName(b)}'s.`,
    );
    await sleep(ELECTION_TIMEOUT_MS);
    // a's AppendEntries to b: b's answers (its log matches a's, through index 4) are held back.
    const staleTerm = ts.state(a).term;
    const held = await holdAppendReplies(ts, a, b);
    expect(
      ts,
      held.arrived(),
      `${peerName(a)} led term ${staleTerm} with ${peerName(b)} connected, yet no answer to an AppendEntries from it reached it in ` +
        `${ELECTION_TIMEOUT_MS} ms. Expected a leader to send every follower an AppendEntries (a heartbeat at least) several times per ` +
        'election timeout. Likely causes: heartbeats sent only when there are new entries; the heartbeat timer not started on winning.',
    );
    // b and c: only c can win (its last entry's term is newer), and c replaces b's entries after index 1, then a's.
    ts.disconnect(a);
    ts.connect(c);
    await awaitLeader(
      ts,
      c,
      staleTerm,
      `it and ${peerName(b)} were the only connected peers, and its last entry's term is newer than ${peerName(b)}'s.`,
    );
    ts.connect(a);
    await sleep(ELECTION_TIMEOUT_MS);
    // Without b, c commits one more command at index 3 with a: a's log is then ahead of b's.
    ts.disconnect(b);
    await ts.one(randomCommand(), 2, true);
    // c leaves, b is back: only a can lead (it may already), in a term after the one of b's held answer.
    ts.disconnect(c);
    ts.connect(b);
    await awaitLeader(
      ts,
      a,
      staleTerm,
      `it and ${peerName(b)} were the only connected peers, and its log is ahead of ${peerName(b)}'s.`,
    );
    // a alone appends a command (at index 4), and only then hears b's answer of its earlier term.
    ts.cutLink(a, b);
    const started = ts.peer(a)?.start(randomCommand());
    held.release();
    await sleep(500);
    const index = started?.index ?? -1;
    const { count } = ts.nCommitted(index);
    ctx.log(
      `a=${peerName(a)} b=${peerName(b)} c=${peerName(c)}; b's answers of term ${staleTerm} held; ` +
        `${peerName(a)} leads term ${ts.state(a).term} and started index ${index}`,
    );
    expect(
      ts,
      count === 0,
      `${peerName(a)} applied index ${index}, started while it was cut off from every other peer: no majority holds ` +
        `it. In term ${staleTerm} ${peerName(a)} had led and sent ${peerName(b)} an AppendEntries whose success ` +
        `reply reached it only now, in term ${ts.state(a).term}, after ${peerName(c)} had replaced ${peerName(b)}'s ` +
        `entries. Expected a leader to use an AppendEntries reply only in the term it sent the request in. Likely ` +
        "causes: matchIndex or nextIndex updated from a reply without checking that the leader's term is still the " +
        "request's term (checking the role alone is not enough).",
    );
    // Everyone back: agreement goes on.
    ts.healLinks();
    ts.connect(c);
    await ts.one(randomCommand(), 3, true);
  },
};

// ---- Part 3 (MIT 3C): persistence ----

const persist1: TestDefinition<Lab6Impl> = {
  name: 'TestPersist1',
  description: 'crash and restart every peer, then the leader, then a follower: the log survives each',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(11, n, true);
    // Crash and restart all.
    for (let i = 0; i < n; i++) ts.start1(i);
    for (let i = 0; i < n; i++) {
      ts.disconnect(i);
      ts.connect(i);
    }
    await ts.one(12, n, true);
    const leader1 = await ts.checkOneLeader();
    ts.disconnect(leader1);
    ts.restart(leader1);
    await ts.one(13, n, true);
    const leader2 = await ts.checkOneLeader();
    ts.disconnect(leader2);
    await ts.one(14, n - 1, true);
    ts.restart(leader2);
    await ts.wait(4, n, -1); // leader2 must catch up before the next peer goes
    const leader3 = await ts.checkOneLeader();
    // leader2 restarted in its old term and took the new leader's entries: it took on the leader's term with them.
    ts.checkTerms();
    const i3 = (leader3 + 1) % n;
    ts.disconnect(i3);
    await ts.one(15, n - 1, true);
    ts.restart(i3);
    await ts.one(16, n, true);
  },
};

const persist2: TestDefinition<Lab6Impl> = {
  name: 'TestPersist2',
  description: 'five peers, five rounds of partitions and restarts of different majorities',
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    let index = 1;
    for (let iter = 0; iter < 5; iter++) {
      await ts.one(10 + index++, n, true);
      const leader1 = await ts.checkOneLeader();
      ts.disconnect((leader1 + 1) % n);
      ts.disconnect((leader1 + 2) % n);
      await ts.one(10 + index++, n - 2, true);
      for (const k of [0, 3, 4]) ts.disconnect((leader1 + k) % n);
      ts.start1((leader1 + 1) % n);
      ts.start1((leader1 + 2) % n);
      ts.connect((leader1 + 1) % n);
      ts.connect((leader1 + 2) % n);
      await sleep(ELECTION_TIMEOUT_MS);
      ts.restart((leader1 + 3) % n);
      await ts.one(10 + index++, n - 2, true);
      ts.connect((leader1 + 4) % n);
      ts.connect((leader1 + 0) % n);
    }
    await ts.one(1000, n, true);
  },
};

const persist3: TestDefinition<Lab6Impl> = {
  name: 'TestPersist3',
  description: 'a partitioned leader and a follower crash; the restarted majority must still commit',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(101, 3, true);
    const leader = await ts.checkOneLeader();
    ts.disconnect((leader + 2) % n);
    await ts.one(102, 2, true);
    ts.crash1((leader + 0) % n);
    ts.crash1((leader + 1) % n);
    ts.connect((leader + 2) % n);
    ts.restart((leader + 0) % n);
    await ts.one(103, 2, true);
    ts.restart((leader + 1) % n);
    await ts.one(104, n, true);
  },
};

const figure8: TestDefinition<Lab6Impl> = {
  name: 'TestFigure8',
  description: "Figure 8's trap: leaders crash at random for 1,000 rounds; no entry of an old term committed by count",
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(randomCommand(), 1, true);
    let nup = n;
    for (let iter = 0; iter < 1000; iter++) {
      let leader = -1;
      for (let i = 0; i < n; i++) if (ts.peer(i)?.start(randomCommand()).isLeader) leader = i;
      await sleep(below(1000) < 100 ? below(ELECTION_TIMEOUT_MS / 2) : below(13));
      if (leader !== -1) {
        ts.crash1(leader);
        nup--;
      }
      if (nup < 3) {
        const s = below(n);
        if (!ts.isRunning(s)) {
          ts.restart(s);
          nup++;
        }
      }
    }
    ts.reviveAll();
    await ts.one(randomCommand(), n, true);
  },
};

/** The peers of TestFigure8Paper: A and B (x at index 2), L (y there, of a newer term), P and Q. */
interface Figure8Peers {
  readonly a: number;
  readonly b: number;
  readonly l: number;
  readonly p: number;
  readonly q: number;
}

/**
 * TestFigure8Paper's step (c), the paper's whole: A, restarted, leads P and Q and copies x to them, then holds an entry
 * of its own term alone while B's answer comes in; no peer may apply x (L holds y at index 2, of term `yTerm`).
 */
async function figure8OwnEntry(ts: RaftTester, { a, b, l, p, q }: Figure8Peers, yTerm: number): Promise<void> {
  // (c) A restarts with P and Q and wins (its log is ahead of theirs), and copies x to them: a majority holds x, but
  // it is of an old term. A then appends z, an entry of its own term, which stays with it alone (the paper's S1 at
  // index 3): B, back from its crash, answers A's first AppendEntries (x is there already) only once z is in A's
  // log, and every later call of A is lost. x must not commit: only an entry of the leader's term commits by count.
  ts.start1(a);
  for (const i of [a, p, q]) ts.connect(i);
  await awaitLeader(
    ts,
    a,
    yTerm,
    `it, ${peerName(p)} and ${peerName(q)} were the only running peers, and its log is ahead of theirs.`,
  );
  await sleep(ELECTION_TIMEOUT_MS);
  const leaderTerm = ts.state(a).term;
  const answer = gate();
  let asked = false;
  let zStarted = false;
  ts.onCall = (caller, callee, method) => {
    if (caller !== a) return undefined;
    if (zStarted) return { lose: true };
    if (asked || callee !== b || method !== 'Raft.AppendEntries') return undefined;
    asked = true;
    return { release: answer.opened };
  };
  ts.restart(b);
  for (let waited = 0; !asked && waited < ELECTION_TIMEOUT_MS; waited += 10) await sleep(10);
  expect(
    ts,
    asked,
    `${peerName(a)} led term ${leaderTerm} with ${peerName(b)} connected, yet sent it no AppendEntries in ` +
      `${ELECTION_TIMEOUT_MS} ms. Expected a leader to send every follower an AppendEntries (a heartbeat at least) ` +
      'several times per election timeout. Likely causes: heartbeats sent only when there are new entries; a ' +
      'follower that came back never sent to again.',
  );
  await sleep(HOLD_MORE_MS);
  zStarted = true;
  const z = ts.peer(a)?.start(5);
  answer.open();
  await sleep(HOLD_MORE_MS);
  ts.onCall = undefined;
  const early = ts.nCommitted(2);
  expect(
    ts,
    early.count === 0,
    `${early.count} peer(s) applied index 2 (${showCommand(early.command)}, an entry of an earlier term) while ` +
      `${peerName(a)} led term ${leaderTerm}, whose only entry of that term (index ` +
      `${z?.index ?? '?'}, started just before ${peerName(b)}'s answer came) no other peer holds. A majority held ` +
      `index 2, but ${peerName(l)} holds another entry there (3, of the newer term ${yTerm}) and could still win and ` +
      'overwrite it (Figure 8). Expected a leader to commit by counting replicas only an entry of its own term, ' +
      'and earlier entries only with it. Likely causes: committing an entry of an earlier term by counting replicas; ' +
      "a check of the leader's last entry's term (or of any entry of its term in its log) instead of the term of " +
      'the entry counted; commitIndex moved to the highest index a majority holds without looking at its term.',
  );
}

const figure8Paper: TestDefinition<Lab6Impl> = {
  name: 'TestFigure8Paper',
  description:
    "the paper's Figure 8 played out with partitions and crashes: an entry of an old term stored by a majority must not commit, not even once the leader holds an entry of its own term that no other peer has",
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(1, n, true);
    // (a) Leader A stores x with one follower B only.
    const a = await ts.checkOneLeader();
    const b = (a + 1) % n;
    const rest = [2, 3, 4].map((k) => (a + k) % n);
    for (const i of rest) ts.disconnect(i);
    const x = ts.peer(a)?.start(2);
    expect(
      ts,
      x?.isLeader === true && x.index === 2,
      `start(2) on leader ${a} returned ${showCommand(x)}; expected index 2.`,
    );
    await sleep(200);
    // (b) A and B crash; the other three elect a leader L, which takes y and is cut off at once, so y stays with it.
    ts.crash1(a);
    ts.crash1(b);
    for (const i of rest) ts.connect(i);
    const l = await ts.checkOneLeader();
    const y = ts.peer(l)?.start(3);
    ts.disconnect(l);
    expect(
      ts,
      y?.isLeader === true && y.index === 2,
      `start(3) on leader ${l} returned ${showCommand(y)}; expected index 2.`,
    );
    const yTerm = ts.state(l).term;
    ts.crash1(l);
    const [p, q] = rest.filter((i) => i !== l);
    await figure8OwnEntry(ts, { a, b, l, p, q }, yTerm);
    // (d) A and B crash; L restarts with P and Q. L's last term is the newest, so it wins and overwrites x with y.
    ts.crash1(a);
    ts.crash1(b);
    ts.restart(l);
    await ts.one(4, 3, true);
    const { command } = ts.nCommitted(2);
    expect(
      ts,
      command === 3,
      `index 2 holds ${showCommand(command)} once the leader of the newest term committed after it; expected 3 (its own entry there).`,
    );
    // Everyone back: A and B give up x and z for y.
    for (const i of [a, b]) {
      ts.restart(i);
    }
    await ts.one(6, n, true);
  },
};

const voteSurvivesCrash: TestDefinition<Lab6Impl> = {
  name: 'TestVoteSurvivesCrash',
  description:
    'a peer bridging two halves crashes right after each answer and restarts at once: it must not vote twice in one term (two leaders)',
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n });
    await ts.one(1, n, true);
    // Three rounds, each with another bridge: the two halves' elections meet at the bridge in one term most times.
    for (let round = 0; round < 3; round++) {
      // No leader any more: the leader restarts as a follower, and every peer waits out its election timer.
      const leader = await ts.checkOneLeader();
      ts.restart(leader);
      // A bridge: two halves that reach each other only through peer v, which hears both halves' candidates.
      const v = (leader + 1 + below(n - 1)) % n;
      const others = [0, 1, 2, 3, 4].filter((k) => k !== v);
      const [left, right] = [others.slice(0, 2), others.slice(2)];
      for (const a of left) for (const b of right) ts.cutLink(a, b);
      // v restarts from what it saved right after each of its first answers, while the answer is on its way.
      let restarts = 12;
      ts.onReplied = (i) => {
        if (i !== v || restarts === 0) return;
        restarts--;
        ts.restart(v);
      };
      // Each half elects a leader with v's vote; two in one term means v voted twice.
      await sleep(3 * ELECTION_TIMEOUT_MS);
      await ts.checkOneLeader();
      ts.onReplied = undefined;
      ts.healLinks();
      await ts.one(10 + round, n, true);
    }
  },
};

const unreliableAgree: TestDefinition<Lab6Impl> = {
  name: 'TestUnreliableAgree',
  description: 'five peers commit 250 commands, four at a time, over a network that loses and delays messages',
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n, unreliable: true });
    const pending: Array<Promise<number>> = [];
    for (let iter = 1; iter < 50; iter++) {
      for (let j = 0; j < 4; j++) pending.push(ts.background(ts.one(100 * iter + j, 1, true)));
      await ts.one(iter, 1, true);
    }
    ts.setUnreliable(false);
    await Promise.all(pending);
    await ts.one(100, n, true);
  },
};

const figure8Unreliable: TestDefinition<Lab6Impl> = {
  name: 'TestFigure8Unreliable',
  description: "Figure 8's trap on an unreliable network with long reordering: leaders cut off at random",
  async run(ctx: Ctx) {
    const n = 5;
    const ts = new RaftTester(ctx, { servers: n, unreliable: true });
    await ts.one(below(10_000), 1, true);
    let nup = n;
    for (let iter = 0; iter < 1000; iter++) {
      if (iter === 200) ts.setLongReordering(true);
      let leader = -1;
      for (let i = 0; i < n; i++) {
        if (ts.peer(i)?.start(below(10_000)).isLeader && ts.isConnected(i)) leader = i;
      }
      await sleep(below(1000) < 100 ? below(ELECTION_TIMEOUT_MS / 2) : below(13));
      if (leader !== -1 && below(1000) < ELECTION_TIMEOUT_MS / 2) {
        ts.disconnect(leader);
        nup--;
      }
      if (nup < 3) {
        const s = below(n);
        if (!ts.isConnected(s)) {
          ts.connect(s);
          nup++;
        }
      }
    }
    for (let i = 0; i < n; i++) if (!ts.isConnected(i)) ts.connect(i);
    await ts.one(below(10_000), n, true);
  },
};

/** MIT's churn: three clients start commands while peers are cut off, crash and restart; every committed command survives. */
async function churn(ctx: Ctx, unreliable: boolean): Promise<void> {
  const n = 5;
  const ts = new RaftTester(ctx, { servers: n, unreliable });
  let stop = false;
  const client = async (me: number): Promise<number[]> => {
    const committed: number[] = [];
    while (!stop) {
      const x = randomCommand();
      let index = -1;
      for (let i = 0; i < n; i++) {
        const r = ts.peer(i)?.start(x);
        if (r?.isLeader) index = r.index;
      }
      if (index === -1) {
        await sleep(79 + me * 17);
        continue;
      }
      for (const to of [10, 20, 50, 100, 200]) {
        const { count: applied, command } = ts.nCommitted(index);
        if (applied > 0) {
          if (command === x) committed.push(x);
          break;
        }
        await sleep(to);
      }
    }
    return committed;
  };
  const clients = [0, 1, 2].map((me) => ts.background(client(me)));
  for (let iter = 0; iter < 20; iter++) {
    if (below(1000) < 200) ts.disconnect(below(n));
    if (below(1000) < 500) {
      const i = below(n);
      if (!ts.isRunning(i)) ts.restart(i);
    }
    if (below(1000) < 200) {
      const i = below(n);
      if (ts.isRunning(i)) ts.crash1(i);
    }
    // Shorter than an election timeout, so that sometimes no leader is elected in between.
    await sleep((ELECTION_TIMEOUT_MS * 7) / 10);
  }
  await sleep(ELECTION_TIMEOUT_MS);
  ts.setUnreliable(false);
  ts.reviveAll();
  stop = true;
  const values = (await Promise.all(clients)).flat();
  await sleep(ELECTION_TIMEOUT_MS);
  const lastIndex = await ts.one(randomCommand(), n, true);
  const really = new Set<Command>();
  for (let index = 1; index <= lastIndex; index++) really.add(await ts.wait(index, n, -1));
  for (const v of values)
    expect(
      ts,
      really.has(v),
      `command ${v} was committed (a peer applied it) but is missing from the final log of ${lastIndex} entries: a ` +
        'committed entry was lost. Likely causes: the log or currentTerm/votedFor not saved before answering, or a ' +
        'leader elected without the committed entries (the up-to-date check of RequestVote).',
    );
}

const reliableChurn: TestDefinition<Lab6Impl> = {
  name: 'TestReliableChurn',
  description:
    'peers cut off, crashed and restarted at random while three clients start commands; nothing committed is lost',
  run: (ctx: Ctx) => churn(ctx, false),
};

const unreliableChurn: TestDefinition<Lab6Impl> = {
  name: 'TestUnreliableChurn',
  description: 'the same churn on a network that loses and delays messages',
  run: (ctx: Ctx) => churn(ctx, true),
};

// ---- Part 4 (MIT 3D): snapshots ----

/** MIT's snapshot tests: 30 rounds in which a victim is cut off and/or crashed while the others snapshot. */
async function snapshotCommon(ctx: Ctx, disconnect: boolean, reliable: boolean, crash: boolean): Promise<void> {
  const n = 3;
  const ts = new RaftTester(ctx, { servers: n, unreliable: !reliable, snapshots: true });
  // A restarted peer's first message from a leader elected meanwhile is often InstallSnapshot: it must move its term.
  if (crash) ts.judgeAnsweredTerms();
  await ts.one(snapshotCommand(), n, true);
  let leader1 = await ts.checkOneLeader();
  for (let i = 0; i < 30; i++) {
    let victim = (leader1 + 1) % n;
    let sender = leader1;
    if (i % 3 === 1) {
      sender = (leader1 + 1) % n;
      victim = leader1;
    }
    if (disconnect) {
      ts.disconnect(victim);
      await ts.one(snapshotCommand(), n - 1, true);
    }
    // The leader's term before a follower crashes: on a reliable network nothing else may move it.
    const termBefore = crash && reliable && victim !== leader1 ? ts.state(leader1).term : undefined;
    if (crash) {
      ts.crash1(victim);
      await ts.one(snapshotCommand(), n - 1, true);
    }
    // Perhaps enough to make a snapshot.
    const nn = SNAPSHOT_INTERVAL / 2 + below(SNAPSHOT_INTERVAL);
    for (let k = 0; k < nn; k++) ts.peer(sender)?.start(snapshotCommand());
    // Let the appliers catch up with those starts.
    await ts.one(snapshotCommand(), disconnect || crash ? n - 1 : n, true);
    const size = ts.logSize();
    expect(
      ts,
      size < MAX_LOG_SIZE,
      `a peer's saved Raft state is ${size} characters; expected under ${MAX_LOG_SIZE} when the service snapshots ` +
        'every 10 commands. Likely causes: snapshot() does not drop the log entries it covers, or the trimmed log is not saved.',
    );
    if (disconnect) {
      // Reconnect a follower, who may be behind and need a snapshot.
      ts.connect(victim);
      await ts.one(snapshotCommand(), n, true);
      leader1 = await ts.checkOneLeader();
    }
    if (crash) {
      ts.restart(victim);
      await ts.one(snapshotCommand(), n, true);
      const leader2 = await ts.checkOneLeader();
      if (termBefore !== undefined) {
        const term = ts.state(leader2).term;
        expect(
          ts,
          leader2 === leader1 && term === termBefore,
          `${peerName(leader1)} led term ${termBefore} while follower ${peerName(victim)} crashed, restarted and caught up ` +
            `(by InstallSnapshot if it was far behind), on a reliable network; then ${peerName(leader2)} led term ${term}. ` +
            'Expected the leader to keep leading: a leader steps down only when it hears of a higher term, and a restarted ' +
            "follower's term is not higher. Likely causes: a leader that steps down on an InstallSnapshot (or AppendEntries) " +
            'reply of its own term, or heartbeats that stop after a snapshot is sent.',
        );
      }
      leader1 = leader2;
    }
  }
}

const snapshotBasic: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotBasic',
  description: 'peers snapshot every 10 commands and trim their logs; the saved state stays small',
  run: (ctx: Ctx) => snapshotCommon(ctx, false, true, false),
};

const snapshotInstall: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotInstall',
  description: 'a follower cut off while the others snapshot catches up through InstallSnapshot',
  run: (ctx: Ctx) => snapshotCommon(ctx, true, true, false),
};

const snapshotInstallUnreliable: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotInstallUnreliable',
  description: 'InstallSnapshot to a cut-off follower on a network that loses and delays messages',
  run: (ctx: Ctx) => snapshotCommon(ctx, true, false, false),
};

const snapshotInstallCrash: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotInstallCrash',
  description:
    'a crashed follower restarts from its snapshot and catches up; meanwhile the leader keeps leading its term, and a restarted peer takes on the term of the first request it answers (InstallSnapshot too)',
  run: (ctx: Ctx) => snapshotCommon(ctx, false, true, true),
};

const snapshotInstallUnCrash: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotInstallUnCrash',
  description:
    'crashes and restarts from snapshots on a network that loses and delays messages; a restarted peer takes on the term of the first request it answers',
  run: (ctx: Ctx) => snapshotCommon(ctx, false, false, true),
};

const snapshotAllCrash: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotAllCrash',
  description: 'every peer crashes after snapshots; after the restart the log goes on from where it was',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n, snapshots: true });
    await ts.one(randomCommand(), n, true);
    for (let iter = 0; iter < 5; iter++) {
      const nn = SNAPSHOT_INTERVAL / 2 + below(SNAPSHOT_INTERVAL);
      for (let k = 0; k < nn; k++) await ts.one(randomCommand(), n, true);
      const index1 = await ts.one(randomCommand(), n, true);
      ts.crashAndRestartAll();
      const index2 = await ts.one(randomCommand(), n, true);
      expect(
        ts,
        index2 >= index1 + 1,
        `after every peer restarted, a new command went to index ${index2}, though index ${index1} was committed ` +
          'before the crash: the restarted peers lost their snapshot or log (read both back in the constructor).',
      );
    }
  },
};

const snapshotElection: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotElection',
  description:
    "a voter whose whole log is in its snapshot judges a candidate's log by the snapshot's last entry: a candidate that lacks committed entries must not win its vote",
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n, snapshots: true });
    let index = await ts.one(randomCommand(), n, true);
    const leader = await ts.checkOneLeader();
    const behind = (leader + 1) % n;
    const voter = (leader + 2) % n;
    while (index < SNAPSHOT_INTERVAL + SNAPSHOT_INTERVAL / 2) index = await ts.one(randomCommand(), n, true);
    // One follower is cut off; the other two commit up to the voter's next snapshot point, where the voter
    // snapshots, so nothing is left in its log after the snapshot.
    ts.disconnect(behind);
    do index = await ts.one(randomCommand(), n - 1, true);
    while (!ts.snapshotsAt(voter, index));
    await sleep(10); // the tester's snapshot of that index reaches both peers
    ts.crash1(leader);
    ts.connect(behind);
    const next = await ts.checkOneLeader();
    expect(
      ts,
      next !== behind,
      `${peerName(behind)} was cut off before index ${index} was committed by ${peerName(leader)} and ` +
        `${peerName(voter)}, which then snapshotted at it (nothing left in its log after it); ${peerName(leader)} ` +
        `crashed, and ${peerName(behind)} won an election with ${peerName(voter)}'s vote, though its log lacks ` +
        `committed entries. Expected a voter to compare the candidate's last log term and index with its own last ` +
        "entry, which after a snapshot is the snapshot's last included index and term (section 5.4.1). Likely causes: " +
        'the last log term (or index) taken as 0 when the log is empty after a snapshot, on the voter or the candidate.',
    );
    ts.restart(leader);
    await ts.one(randomCommand(), n, true);
  },
};

const snapshotInit: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotInit',
  description: 'restarting twice from snapshots: a restarted peer keeps its snapshot when it saves again',
  async run(ctx: Ctx) {
    const n = 3;
    const ts = new RaftTester(ctx, { servers: n, snapshots: true });
    await ts.one(randomCommand(), n, true);
    for (let k = 0; k < SNAPSHOT_INTERVAL + 1; k++) await ts.one(randomCommand(), n, true);
    for (let round = 0; round < 2; round++) {
      ts.crashAndRestartAll();
      // One command, so that something is saved again after the restart.
      await ts.one(randomCommand(), n, true);
    }
  },
};

/** Lab 6's named tests with their points (they add up to 100) and the handout's part after which each first passes. */
/** The clerk's pause after a whole round of servers without a leader's answer: at least this (the handout says about 100 ms). */
const ROUND_PAUSE_MIN_MS = 10;
/** The most a clerk's pauses after whole rounds may last on average, ms (the handout says about 100). */
const ROUND_PAUSE_MAX_MEDIAN_MS = 500;

/**
 * What the runner's monitors hold every simulated test to (suite/monitors): the timers live at its end, and the
 * clerk's pause after a whole round of servers without a leader's answer.
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 4,
    perCall: 2,
    killClearsTimers: true,
    causes:
      "a submit's leadership check (setInterval) not cleared when the submit returns; an election or heartbeat " +
      'timer set again without clearing the one before; timers left running by kill() (a ticker started with ' +
      'setInterval in the constructor, whose loop only checks a killed flag, is still live: clear it in kill())',
  },
  pacing: [
    {
      rule: 'after a whole round without an answer it waits a little (about 100 ms; the tester requires at least 10)',
      methods: ['KVServer.Get', 'KVServer.Put'],
      refusals: ['ErrWrongLeader'],
      after: 'round',
      minWaitMs: ROUND_PAUSE_MIN_MS,
      maxMedianWaitMs: ROUND_PAUSE_MAX_MEDIAN_MS,
      samples: 3,
      slowCauses: `a pause far longer than the handout's "about 100 ms" after a whole round (a median of at most ${ROUND_PAUSE_MAX_MEDIAN_MS} ms): while a new leader is elected, every call waits that long for nothing; or a pause that grows with each round (a back-off), whether it is never reset or starts again for each call`,
      causes:
        'the clerk goes round the servers again at once after every one of them answered ErrWrongLeader or was ' +
        `lost: no pause after a whole round (at least ${ROUND_PAUSE_MIN_MS} ms; about 100 ms is plenty), or a pause ` +
        'whose promise is not awaited',
    },
  ],
};

export const suite: LabSuite<Lab6Impl> = {
  lab: 'lab6',
  title: 'Lab 6: Raft, and a key/value service on it',
  implFiles: IMPL_FILES,
  load,
  tests: monitored(MONITORS, [
    scored(initialElection, { points: 2, part: 1 }),
    scored(reElection, { points: 2, part: 1 }),
    scored(manyElections, { points: 1, part: 1 }),
    scored(staleVoteReply, { points: 1, part: 1 }),
    scored(basicAgree, { points: 2, part: 2 }),
    scored(rpcBytes, { points: 2, part: 2 }),
    scored(followerFailure, { points: 2, part: 2 }),
    scored(leaderFailure, { points: 2, part: 2 }),
    scored(failAgree, { points: 2, part: 2 }),
    scored(failNoAgree, { points: 2, part: 2 }),
    scored(concurrentStarts, { points: 1, part: 2 }),
    scored(rejoin, { points: 1, part: 2 }),
    scored(backup, { points: 2, part: 2 }),
    scored(count, { points: 1, part: 2 }),
    scored(staleAppendReply, { points: 1, part: 2 }),
    scored(electionTimer, { points: 2, part: 2 }),
    scored(persist1, { points: 2, part: 3 }),
    scored(persist2, { points: 2, part: 3 }),
    scored(persist3, { points: 2, part: 3 }),
    scored(figure8, { points: 2, part: 3 }),
    scored(figure8Paper, { points: 2, part: 3 }),
    scored(voteSurvivesCrash, { points: 2, part: 3 }),
    scored(unreliableAgree, { points: 1, part: 3 }),
    scored(figure8Unreliable, { points: 2, part: 3 }),
    scored(reliableChurn, { points: 1, part: 3 }),
    scored(unreliableChurn, { points: 2, part: 3 }),
    scored(nemesisRaft, { points: 2, part: 3 }),
    scored(snapshotBasic, { points: 2, part: 4 }),
    scored(snapshotInstall, { points: 1, part: 4 }),
    scored(snapshotInstallUnreliable, { points: 1, part: 4 }),
    scored(snapshotInstallCrash, { points: 2, part: 4 }),
    scored(snapshotInstallUnCrash, { points: 1, part: 4 }),
    scored(snapshotAllCrash, { points: 1, part: 4 }),
    scored(snapshotInit, { points: 1, part: 4 }),
    scored(snapshotElection, { points: 1, part: 4 }),
    scored(olderSnapshot, { points: 2, part: 4 }),
    scored(nemesisSnapshots, { points: 2, part: 4 }),
    ...kvTests,
  ]),
};
