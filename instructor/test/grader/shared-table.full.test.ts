/**
 * Red team against the tests' judgement, in labs 2 and 7: clerks that answer from a table shared by the module's
 * clerks (with one junk RPC per operation), a lock in a module-level table, a lab 7 controller that keeps the
 * configuration in a module variable and shard servers that refuse every key. Their honest score is 0, and so is
 * their grade: each clerk result must be one a server's reply delivered to that clerk during the call, and lab 7's
 * tester reads the stored configuration from lab 2's server itself. Each grades a student's copy of the kit with
 * the whole lab (about a minute in all: npm run test:full).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { FRAMEWORK_FOLDERS } from '../../../grader/layout';
import { linkModules } from '../../batch';
import { addSharedTableFake, FAKE_LAB, SHARED_TABLE_LABS, type SharedTableFake } from './attacks';
import { tempDir } from './helpers';
import { suite as lab1 } from '../../../lab1/test/suite';
import { suite as lab2 } from '../../../lab2/test/suite';
import { suite as lab7 } from '../../../lab7/test/suite';

/** What lab 7's TestInitQuery5A, which the controllers of these fakes pass honestly, is worth. */
const INIT_QUERY_POINTS = lab7.tests.find((t) => t.name === 'TestInitQuery5A')?.points;

const KIT = path.resolve(__dirname, '..', '..', '..');

/** The student roots made, removed after the tests. */
const made: string[] = [];

/** A student's copy of the kit (the framework, the lab folders the fake needs, links to the packages) with the fake. */
function studentRoot(fake: SharedTableFake): string {
  const root = tempDir('kvlabs-shared-table-');
  made.push(root);
  for (const d of [...FRAMEWORK_FOLDERS, ...SHARED_TABLE_LABS[fake]])
    fs.cpSync(path.join(KIT, d), path.join(root, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(KIT, f), path.join(root, f));
  linkModules(path.join(KIT, 'node_modules'), path.join(root, 'node_modules'));
  addSharedTableFake(root, KIT, fake);
  return root;
}

/** One test's outcome as the grader's JSON summary gives it. */
interface Outcome {
  readonly name: string;
  readonly status: string;
  readonly message?: string;
}

/** Grades the lab of `fake` (only `tests`, when given) in its student root with the root's own grader and seed 1, as a student would. */
function gradeFake(fake: SharedTableFake, tests: readonly string[] = []): { score: number; tests: readonly Outcome[] } {
  const run = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      './grader/register.js',
      'grader/cli.ts',
      FAKE_LAB[fake],
      '--seed',
      '1',
      '--jobs',
      '1',
      '--json',
      ...tests.flatMap((t) => ['--test', t]),
    ],
    { cwd: studentRoot(fake), encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
  );
  const summary = JSON.parse(run.stdout) as { labs: Array<{ score: number; tests: Outcome[] }> };
  return summary.labs[0];
}

/** Each test's message, by name. */
function messages(result: { tests: readonly Outcome[] }): Map<string, string> {
  return new Map(result.tests.map((t) => [t.name, t.message ?? '']));
}

describe('grader: red team against the judgement (clerks on a shared table, a configuration kept in memory)', function () {
  this.timeout(600_000);
  after(() => {
    for (const root of made.splice(0)) fs.rmSync(root, { recursive: true, force: true });
  });

  it('lab 2: a clerk and a lock on a module-level table, with one junk RPC per operation, score 0 (was 41-42 when one RPC of any kind was evidence)', () => {
    const result = gradeFake('lab2');
    const byName = messages(result);
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
    // Each junk RPC is for another key than the call it is sent in: the first thing the witness finds.
    expect(byName.get('TestReliablePut')).to.contain('Expected each RPC a clerk sends to serve the call it is in');
    expect(byName.get('TestReliableBasic')).to.contain('Expected each RPC a clerk sends to serve the call it is in');
  });

  it('lab 7: that clerk, a configuration in a module variable, groups that refuse every key and a constant Raft score 0 (was 49)', () => {
    const result = gradeFake('lab7');
    const byName = messages(result);
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
    expect(byName.get('TestInitQuery5A')).to.contain("lab 2's key/value server does not hold configuration 1");
  });

  it('lab 2: clerks on a shared table that send each answer in an extra field, to a server that echoes it, score 0 (was 71)', () => {
    const result = gradeFake('echo-lab2');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
    expect(messages(result).get('TestReliablePut')).to.contain(
      'Expected exactly the fields of PutArgs: { key, value, version }',
    );
  });

  it('lab 2: the same with a server id kept on a global of the code’s own scores 0: the global object is frozen', () => {
    const result = gradeFake('echo-lab2-global');
    expect(result.score).to.equal(0);
    expect(messages(result).get('TestReliablePut')).to.contain('object is not extensible');
  });

  it('lab 7: echo clerks and shard servers that read lab 2’s server through a module variable, no Raft and no moves, score only the controller’s honest TestInitQuery5A (was 91)', () => {
    const result = gradeFake('echo-lab7');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal(['TestInitQuery5A']);
    expect(result.score).to.equal(INIT_QUERY_POINTS);
  });

  it('lab 1: clerks answering from a table their module shares, each answer echoed by a server that stores nothing, pass only the memory tests that weigh the servers (was 67): each clerk is a machine of its own', () => {
    const result = gradeFake('echo-lab1');
    const serverWeighings = [
      'TestMemManyWrites',
      'TestMemPutManyClients',
      'TestMemGetManyClients',
      'TestMemManyAppends',
    ];
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal(serverWeighings);
    const points = lab1.tests.filter((t) => serverWeighings.includes(t.name)).reduce((sum, t) => sum + t.points, 0);
    expect(points).to.be.within(1, 12);
    expect(result.score).to.equal(points);
  });

  it('lab 2: clerks on a shared table that tell a server keeping no keys each answer first, in a Put of the lab’s own fields to a key of their own, score 0 (was 75)', () => {
    const result = gradeFake('hint-lab2');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
    expect(messages(result).get('TestReliablePut')).to.contain(
      'Expected each RPC a clerk sends to serve the call it is in',
    );
  });

  it('lab 7: clerks that tell shard servers keeping nothing each answer first, through the ends their controllers were given, score only the controller’s honest TestInitQuery5A (was 84 in batch)', () => {
    const result = gradeFake('hint-lab7');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal(['TestInitQuery5A']);
    expect(result.score).to.equal(INIT_QUERY_POINTS);
    // With each controller and each clerk a machine of its own, the clerks no longer reach their controllers' ends
    // (the fake's table of them stays empty, and its clerk fails on its own); the controller rules, unit-tested in
    // solutions/lab7/test/ctrler-rules.test.ts, stop a controller that sends such RPCs itself.
    expect(messages(result).get('TestStaticOneShardGroup5A')).to.match(/through the ends a clerk|is not a function/);
  });

  it('lab 4: a node that stores nothing, acknowledges every write and reports itself in step scores only the honest TestFollowerRefusesWrites (was 13): the real-HTTP tests read every key back from every node', () => {
    const result = gradeFake('liar-lab4');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([
      'TestFollowerRefusesWrites',
    ]);
    expect(result.score).to.equal(4);
    expect(messages(result).get('TestRealHttp')).to.contain('what /status reports is not taken as proof');
  });

  it('lab 2: a server that keeps every value, held past its removal by a timer that never fires, fails the memory tests (scored 100 before): the code’s timers stop before the weighing', () => {
    const result = gradeFake('pinned-lab2');
    const failed = result.tests.filter((t) => t.status !== 'passed').map((t) => t.name);
    expect(failed).to.deep.equal(['TestMemPutManyClientsReliable', 'TestNemesisKV']);
    expect(messages(result).get('TestMemPutManyClientsReliable')).to.contain('bytes per client');
  });

  it('lab 2: a server that keeps every value in the realm’s symbol registry, which no removal frees, fails the memory test (scored 100 before): new keys of Symbol.for are refused to lab code', () => {
    const result = gradeFake('registry-lab2');
    const failed = result.tests.filter((t) => t.status !== 'passed').map((t) => t.name);
    expect(failed).to.include('TestMemPutManyClientsReliable');
    expect(messages(result).get('TestMemPutManyClientsReliable')).to.contain('is not available to lab code');
  });

  it('lab 2: a server that keeps every value in a private field it stamps on Array.prototype fails the memory test (scored 5/5 before): code under test compiles its private names to WeakMaps of its module', () => {
    const result = gradeFake('stamped-lab2', ['TestMemPutManyClientsReliable']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestMemPutManyClientsReliable', 'failed']]);
    expect(messages(result).get('TestMemPutManyClientsReliable')).to.contain('bytes per client');
  });

  it('lab 2: Locks on a table of the clerks’ module, reached through a function handed to the clerk as a put’s version, fail the lock tests (85 of 100 before): a clerk call’s arguments are held to the KVClerk types', () => {
    const result = gradeFake('lockviaclerk-lab2', ['TestManyClientsReliable', 'TestNemesisLock']);
    expect(result.tests.map((t) => t.status)).to.deep.equal(['failed', 'failed']);
    expect(messages(result).get('TestManyClientsReliable')).to.contain(
      'Clerk.put was called with arguments of the types',
    );
  });

  it('lab 2: Locks that keep who holds what in a table their module shares score only the one-client lock tests (was 86 of 100 in batch): each Lock is a machine of its own', () => {
    const result = gradeFake('tablelock-lab2');
    const kvTests = new Set(lab2.tests.filter((t) => !t.description.toLowerCase().includes('lock')).map((t) => t.name));
    const passedLockTests = result.tests
      .filter((t) => t.status === 'passed' && !kvTests.has(t.name))
      .map((t) => t.name);
    // With one client, a lock in memory is a lock: nothing else of the lock part may pass.
    expect(passedLockTests).to.satisfy((names: string[]) =>
      names.every((n) => n === 'TestOneClientReliable' || n === 'TestOneClientUnreliable'),
    );
    expect(result.tests.find((t) => t.name === 'TestManyClientsReliable')?.status).to.equal('failed');
  });

  it('lab 2: echo clerks whose arguments list the answer to the network’s reading only, to a server that stores nothing, score 0 (90 before): what the rules judge is the copy that is sent', () => {
    const result = gradeFake('twofaced-lab2');
    expect(result.score).to.equal(0);
    expect(messages(result).get('TestReliablePut')).to.contain('Expected exactly the fields of PutArgs');
  });

  it('lab 6: a Raft that never trims its log, saved as densely as its commands allow, fails the snapshot tests that bound the saved state (passed them before): their commands carry about 330 bits each', () => {
    const tests = ['TestSnapshotBasic', 'TestSnapshotInstall', 'TestSnapshotInstallCrash'];
    const result = gradeFake('dense-lab6', tests);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal(tests.map((t) => [t, 'failed']));
    expect(messages(result).get('TestSnapshotBasic')).to.contain("a peer's saved Raft state is");
  });

  it('lab 4: a leader that sends its whole log, in Replicate arguments whose first reading shows at most maxBatch entries, fails TestFollowerCatchUp (passed it before): each Replicate is read once, judged and sent alike', () => {
    const result = gradeFake('twofaced-lab4', ['TestFollowerCatchUp']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestFollowerCatchUp', 'failed']]);
    expect(messages(result).get('TestFollowerCatchUp')).to.contain('maxBatch is');
  });

  it('lab 3: a server that re-sends refused peer calls at once, each copy with a field of its own set to undefined, fails TestRealLateStart (passed it before): the real-time call book judges the copy the wire carries', () => {
    const result = gradeFake('unsaid-lab3', ['TestRealLateStart']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestRealLateStart', 'failed']]);
    expect(messages(result).get('TestRealLateStart')).to.contain('Retries too quick');
  });

  it('lab 3: a server that re-sends refused peer calls at once, each copy numbered, fails TestRealLateStart (passed it before): each refused call must be sent again, the same call, within RESEND_WITHIN_MS', () => {
    const result = gradeFake('numbered-lab3', ['TestRealLateStart']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestRealLateStart', 'failed']]);
    expect(messages(result).get('TestRealLateStart')).to.contain('were never sent again');
  });

  it('lab 5: a server that never stops, handed out again as the restarted server, fails the restart tests (passed them before): a closed server’s port must refuse connections, and no two open servers share a port', () => {
    const tests = ['TestRestartRecovery', 'TestCrashExpiry'];
    const result = gradeFake('zombie-lab5', tests);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal(tests.map((t) => [t, 'failed']));
  });

  it('lab 7: a server that keeps deleted keys in what it saves fails TestMemDeletedShard5A (passed it before): a group that never restarts loses what it saved with its servers', () => {
    const result = gradeFake('attic-lab7', ['TestMemDeletedShard5A']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestMemDeletedShard5A', 'failed']]);
  });

  it('lab 2: a Lock that never looks for its own id after ErrMaybe, sending a put bound to be refused before each put it means, fails TestLockLostReply and TestAcquireTimeoutLostReply (passed them before): a lost reply meets every put the server carries out', () => {
    const result = gradeFake('decoy-lab2', ['TestLockLostReply', 'TestAcquireTimeoutLostReply']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([
      ['TestLockLostReply', 'failed'],
      ['TestAcquireTimeoutLostReply', 'failed'],
    ]);
    expect(messages(result).get('TestLockLostReply')).to.contain('acquire(1000) of a free lock returned false');
  });

  it('lab 3: a server that handles its own messages as they arrive, sending every server an ignored message before each broadcast, fails TestOvertakenBroadcast (passed it before): the delay is on the message that carries the write', () => {
    const result = gradeFake('decoy-lab3', ['TestOvertakenBroadcast']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestOvertakenBroadcast', 'failed']]);
    expect(messages(result).get('TestOvertakenBroadcast')).to.contain('(itself)');
  });

  it('lab 1: a server that applies again a copy of an older write, whose backups send the primary a copy of each write that does nothing before passing it on, fails TestLateCopy (passed it before): every call carrying the write is held', () => {
    const result = gradeFake('decoy-lab1', ['TestLateCopy']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestLateCopy', 'failed']]);
    expect(messages(result).get('TestLateCopy')).to.contain('the append took effect 2 times');
  });

  it('lab 6: a leader that uses AppendEntries replies of an earlier term, opening each heartbeat round with an AppendEntries whose reply it ignores, fails TestStaleAppendReply (passed it before): every reply of that term is held', () => {
    const result = gradeFake('decoy-lab6', ['TestStaleAppendReply']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestStaleAppendReply', 'failed']]);
    expect(messages(result).get('TestStaleAppendReply')).to.contain('no majority holds it');
  });

  it('lab 6: a peer whose election timer is reset by stale AppendEntries, answering a vote request that raised its term with a RequestVote of that term, fails TestElectionTimer (passed it before): an election asks in a term of its own', () => {
    const result = gradeFake('timer-decoy-lab6', ['TestElectionTimer']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestElectionTimer', 'failed']]);
    expect(messages(result).get('TestElectionTimer')).to.contain('Expected an election within');
  });

  it('lab 7: a controller that takes an ErrMaybe claim as won, putting its configuration under a scratch key at a version no put matches before each claim, fails TestLostClaim5C (passed it before): the loss meets a put the server would carry out', () => {
    const result = gradeFake('decoy-lab7', ['TestLostClaim5C']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestLostClaim5C', 'failed']]);
  });

  it("lab 6: a peer whose election timer is reset by stale AppendEntries, answering a vote request that raised its term with a RequestVote of the next term it never moves to, fails TestElectionTimer (passed it before): an election asks in the voter's own term", () => {
    const result = gradeFake('probe-lab6', ['TestElectionTimer']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestElectionTimer', 'failed']]);
  });

  it('lab 7: a controller that takes an ErrMaybe claim as won, its claims stored as "claim <configuration>", fails TestLostClaim5C (passed it before): every put the server would carry out is held', () => {
    const result = gradeFake('tagged-lab7', ['TestLostClaim5C']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestLostClaim5C', 'failed']]);
  });

  it('lab 2: a Lock that takes ErrMaybe as held, on a clerk that waits 100 ms before each re-send, fails TestLockLostRequest (passed it before): the other client holds the lock long enough', () => {
    const result = gradeFake('slowretry-lab2', ['TestLockLostRequest']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestLockLostRequest', 'failed']]);
    expect(messages(result).get('TestLockLostRequest')).to.contain('two holders at once');
  });

  it('lab 6: a Raft whose follower applies snapshots older than what it applied, with a leader that never sends one (it moves nextIndex past its snapshot instead), fails TestSnapshotOlderThanApplied (passed it before): the leader must send its snapshot', () => {
    const result = gradeFake('optimistic-lab6', ['TestSnapshotOlderThanApplied']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestSnapshotOlderThanApplied', 'failed']]);
    expect(messages(result).get('TestSnapshotOlderThanApplied')).to.contain('never sent it a Raft.InstallSnapshot');
  });

  it('lab 6: a Raft whose leader uses stale AppendEntries replies, with that handler named appendEntries, fails TestStaleAppendReply (passed it before): the RPCs between peers are Figure 2’s three, by name', () => {
    const result = gradeFake('renamed-rpc-lab6', ['TestStaleAppendReply']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([['TestStaleAppendReply', 'failed']]);
    expect(messages(result).get('TestStaleAppendReply')).to.contain('"Raft.appendEntries"');
  });

  it('lab 6: a Raft whose InstallSnapshot never moves the term, with that RPC’s term field named leaderTerm, fails the tests that judge answered terms (passed them before): where answered terms are judged, every request must show its term', () => {
    const tests = ['TestSnapshotInstallCrash', 'TestSnapshotInstallUnCrash'];
    const result = gradeFake('renamed-term-lab6', tests);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal(tests.map((t) => [t, 'failed']));
    expect(messages(result).get('TestSnapshotInstallCrash')).to.contain('one number field named term');
  });

  it('lab 7: a server that keeps deleted keys and saves its snapshot in the Raft-state slot fails the saved-size checks (passed them before): they weigh the Raft state and the snapshot together', () => {
    const tests = ['TestDeleteBasic5A', 'TestNemesisShardsSnapshots5C'];
    const result = gradeFake('slotswap-lab7', tests);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal(tests.map((t) => [t, 'failed']));
    expect(messages(result).get('TestDeleteBasic5A')).to.contain('Raft state and snapshot');
  });

  it('lab 5: a server whose recovery forgets what it loaded, restarted on a crash copy and forwarding to the first server through a back door, fails the crash tests (passed them before): a server dials no port, a client only its servers’', () => {
    const tests = ['TestCrashExpiry', 'TestSnapshotServes'];
    const result = gradeFake('backdoor-lab5', tests);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal(tests.map((t) => [t, 'failed']));
  });

  it('lab 5: a client that opens no socket and runs each command through its server in memory fails the client tests (16 of their 23 points before): each server started and each client made is a machine of its own, and a mute server must receive each attempt', () => {
    const result = gradeFake('in-memory-lab5', ['TestKeysAndStats', 'TestClientTimeout']);
    expect(result.tests.map((t) => [t.name, t.status])).to.deep.equal([
      ['TestKeysAndStats', 'failed'],
      ['TestClientTimeout', 'failed'],
    ]);
    expect(messages(result).get('TestClientTimeout')).to.contain('expected 2, one per attempt');
  });

  it('lab 1: a server that keeps every reply, with a call to itself always on its way, fails the two memory tests that weigh replies (passed them before): the network halts before the weighing', () => {
    const result = gradeFake('pinged-lab1');
    const failed = result.tests.filter((t) => t.status !== 'passed').map((t) => t.name);
    expect(failed).to.include.members(['TestMemAppend', 'TestMemManyAppends']);
  });

  it('lab 6: clerks on one shared table that spell each answer out to a server storing nothing, in the timing of copies it refuses, score 0 (was 13 in batch): each clerk is a machine of its own, and a copy to a server that refused it waits out the round’s pause', () => {
    const result = gradeFake('timing-lab6');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
  });

  it('lab 6: Raft peers that agree through one log at the module’s top level, with no RPC, score 0 (was 10 of part 3A-3B’s first 19 points): each peer is a machine of its own', () => {
    const result = gradeFake('shared-log-lab6');
    expect(result.tests.filter((t) => t.status === 'passed').map((t) => t.name)).to.deep.equal([]);
    expect(result.score).to.equal(0);
  });
});
