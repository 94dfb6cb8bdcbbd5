/**
 * Lab 6's named tests for parts 5-7: MIT 6.5840's Lab 4 tests (4A the RSM, 4B the key/value service, 4C
 * snapshots) with their names, on the student's own Raft, each in its own simulated world.
 */
import { scored, within } from '../../suite';
import type { NamedTest, TestContext, TestDefinition } from '../../suite';
import { sleep } from '../../world';
import { keyedRng } from '../../world/rng';
import { ELECTION_TIMEOUT_MS, Lab6Impl, peerName } from './harness';
import { nemesisKV, nemesisKVSnapshots } from './kvnemesis';
import { memKV4C } from './memory';
import { modelKV } from './model';
import { crossServerIds, restartedLeaderIds } from './restartids';
import {
  CounterOp,
  genericTest,
  GenericOptions,
  KvTester,
  LOG_SLACK,
  MAX_RAFT_STATE,
  DRAWN,
  DRAWN_MAX_RAFT_STATES,
  NO_SNAPSHOTS,
  RsmTester,
  speedTest,
} from './kvharness';

type Ctx = TestContext<Lab6Impl>;

// Frozen: the tests share them, and hand them to the code under test (as copies; frozen besides, should one cross).
const INC: CounterOp = Object.freeze({ op: 'inc' });
const DEC: CounterOp = Object.freeze({ op: 'dec' });
const NULL: CounterOp = Object.freeze({ op: 'null' });

/** Servers in part 5's groups (MIT's NSRV). */
const RSM_SERVERS = 3;

// ---- Part 5 (MIT 4A): the replicated state machine ----

/** `count` increments one after another; each must return the next count, and every server must reach it. */
async function incrementInOrder(ts: RsmTester, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const r = await ts.one(INC);
    if (r.n !== i + 1)
      ts.group.fail(
        `increment number ${i + 1} returned a count of ${r.n}; expected ${i + 1}. Likely causes: an operation ` +
          'applied twice or skipped, or a submit answered with the result of another operation at its index.',
      );
    await ts.checkCounter(r.n, RSM_SERVERS);
  }
}

/** Crashes every server, waits `pauseMs`, and restarts them all from what they saved. */
async function restartAll(ts: RsmTester, pauseMs: number): Promise<void> {
  for (let i = 0; i < ts.group.n; i++) ts.group.crash1(i);
  await sleep(pauseMs);
  for (let i = 0; i < ts.group.n; i++) ts.group.restart(i);
}

/**
 * Once a leader takes a first no-op, cuts it off from the others (so that nothing more commits), submits `count`
 * no-ops to it at once, shuts every server down 20 ms later, and requires every submit to return within 2 s (MIT's
 * NSEC + 1 s): a killed RSM must answer the submits it still waits for.
 */
async function submitThenShutdown(ts: RsmTester, count: number): Promise<void> {
  await ts.one(NULL);
  const leader = ts.lastLeader();
  for (let i = 0; i < ts.group.n; i++) if (i !== leader) ts.group.cutLink(leader, i);
  const pending = Array.from({ length: count }, () => ts.submit(leader, NULL).then(() => undefined));
  await sleep(20);
  for (let i = 0; i < ts.group.n; i++) ts.group.crash1(i);
  ts.group.healLinks();
  await within(
    Promise.all(pending),
    2000,
    () =>
      'after every server was shut down (kill()), some submits had not returned 2 s later. Expected kill() to ' +
      'resolve every waiting submit with ErrWrongLeader. Likely causes: kill() does not go through the waiting ' +
      'submits, or a submit waits for an apply that a killed peer will never make.',
  );
}

const basic4A: TestDefinition<Lab6Impl> = {
  name: 'TestBasic4A',
  description: 'ten increments through the RSM, one after another: each returns the next count on every server',
  async run(ctx: Ctx) {
    await incrementInOrder(new RsmTester(ctx, { servers: RSM_SERVERS }), 10);
  },
};

/**
 * TestConcurrent4A's extra time per message (ms): servers far apart, so that a commit takes about 100 ms. A submit
 * must wait as long as its commit takes: one that gives up while its peer still leads in the same term lets the
 * tester offer the increment again, and both copies are applied.
 */
const FAR_LATENCY_MS = 25;

const concurrent4A: TestDefinition<Lab6Impl> = {
  name: 'TestConcurrent4A',
  description:
    'fifty increments submitted at once, servers far apart (a commit takes about 100 ms): every server applies all fifty, each once',
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS, latencyMs: FAR_LATENCY_MS });
    await Promise.all(Array.from({ length: 50 }, () => ts.one(INC)));
    await ts.checkCounter(50, RSM_SERVERS);
  },
};

const leaderFailure4A: TestDefinition<Lab6Impl> = {
  name: 'TestLeaderFailure4A',
  description: 'the leader is cut off: the other two go on; back, it catches up',
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS });
    let r = await ts.one(INC);
    await ts.checkCounter(r.n, RSM_SERVERS);
    const l = ts.lastLeader();
    ts.group.disconnect(l);
    r = await ts.one(INC);
    await ts.checkCounter(r.n, RSM_SERVERS - 1);
    ts.group.connect(l);
    await ts.checkCounter(r.n, RSM_SERVERS);
  },
};

/**
 * How long TestLeaderPartition4A keeps its old leader cut off once the others elected a new one (drawn), virtual ms:
 * long, so that a submit that gives up after a time of its own (while its peer still leads) does so within it.
 */
const CUT_OFF_MS: readonly [number, number] = [40_000, 60_000];

const leaderPartition4A: TestDefinition<Lab6Impl> = {
  name: 'TestLeaderPartition4A',
  description:
    'a cut-off leader takes 100 submits and stays cut off 40-60 s: none may complete or give up while it leads, and all return once it is back',
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS });
    const first = await ts.one(INC);
    await ts.checkCounter(first.n, RSM_SERVERS);
    const l = ts.lastLeader();
    const others = Array.from({ length: ts.group.n }, (_, i) => i).filter((i) => i !== l);
    for (const o of others) ts.group.cutLink(l, o);
    const decs = Array.from({ length: 100 }, (_, k) =>
      ts.submit(l, DEC).then((r) => {
        if (r.err === 'OK')
          ts.group.fail(
            `submit number ${k + 1} of a decrement to ${peerName(l)}, cut off from the others, returned OK; a server ` +
              'without a majority cannot commit anything. Likely causes: the RSM applies an operation when start() ' +
              'accepts it rather than when Raft commits and applies it, or Raft commits without a majority.',
          );
      }),
    );
    await sleep(10);
    const r = await ts.one(INC, others);
    // A while in which the old leader must not complete any of them, and must not give up on them either while it
    // still leads in its term (the give-up watch): up to a minute, drawn per seed.
    await sleep(keyedRng(ctx.seed, 'leader-partition').between(CUT_OFF_MS[0], CUT_OFF_MS[1]));
    ts.group.healLinks();
    await within(
      Promise.all(decs),
      1000,
      () =>
        `the old leader (${peerName(l)}) was reconnected, but some of its submits had not returned 1 s later. Expected a ` +
        'submit to return ErrWrongLeader once its peer loses the lead or its term moves on. Likely causes: the RSM ' +
        'waits only for the entry at its index (check raft.getState() while waiting), or Raft does not step down ' +
        'when it hears the new leader.',
    );
    await ts.checkCounter(r.n, RSM_SERVERS);
  },
};

const restartReplay4A: TestDefinition<Lab6Impl> = {
  name: 'TestRestartReplay4A',
  description: '100 increments, every server restarted: the log is replayed and the next increment returns 101',
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS });
    await incrementInOrder(ts, 100);
    await restartAll(ts, 1000);
    const r = await ts.one(INC);
    if (r.n !== 101)
      ts.group.fail(
        `after a restart of every server, the next increment returned ${r.n}; expected 101. Likely causes: the ` +
          'restarted RSM does not replay the log into the state machine (Raft hands over every committed entry ' +
          'again from index 1, or from its snapshot), or it applies some entries twice.',
      );
    await sleep(1000);
    await ts.checkCounter(r.n, RSM_SERVERS);
  },
};

const shutdown4A: TestDefinition<Lab6Impl> = {
  name: 'TestShutdown4A',
  description: '100 submits in flight when every server is shut down: all of them return',
  async run(ctx: Ctx) {
    await submitThenShutdown(new RsmTester(ctx, { servers: RSM_SERVERS }), 100);
  },
};

const restartSubmit4A: TestDefinition<Lab6Impl> = {
  name: 'TestRestartSubmit4A',
  description:
    "restarts with submits in flight: later operations are not confused with those before the crash, even when a restarted server leads again at indexes where another leader commits its previous run's entries; nor with another server's, when two servers started at one moment each put their first submit at index 1",
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS });
    await incrementInOrder(ts, 100);
    await restartAll(ts, 1000);
    let r = await ts.one(INC);
    if (r.n !== 101) ts.group.fail(`after a restart the next increment returned ${r.n}; expected 101.`);
    await sleep(1000);
    await submitThenShutdown(ts, 100);
    for (let i = 0; i < ts.group.n; i++) ts.group.restart(i);
    r = await ts.one(INC);
    if (r.n !== 102)
      ts.group.fail(
        `after the second restart the next increment returned ${r.n}; expected 102 (no-ops change nothing). Likely ` +
          'causes: ids of operations that repeat across restarts (a counter that starts again at 0), so a new ' +
          "submit takes an old entry's result.",
      );
    await ts.checkCounter(r.n, RSM_SERVERS);
    for (let i = 0; i < ts.group.n; i++) ts.group.crash1(i);
    ts.group.net.cleanup();
    await restartedLeaderIds(ctx);
    await crossServerIds(ctx);
  },
};

// ---- Part 6 (MIT 4B): the key/value service ----

/** A generic test's definition: MIT's GenericTest with these options. */
function generic(name: string, description: string, options: GenericOptions): TestDefinition<Lab6Impl> {
  const drawn =
    options.maxRaftState === DRAWN ? ` (maxRaftState ${DRAWN_MAX_RAFT_STATES.join(', ')}, drawn per seed)` : '';
  return { name, description: description + drawn, run: (ctx: Ctx) => genericTest(ctx, options) };
}

const basic4B = generic('TestBasic4B', 'one client, five servers, a reliable network: linearizable', {
  clients: 1,
  servers: 5,
  maxRaftState: NO_SNAPSHOTS,
});

const speed4B: TestDefinition<Lab6Impl> = {
  name: 'TestSpeed4B',
  description: '1,000 puts in a row, faster than three per heartbeat interval',
  run: (ctx: Ctx) => speedTest(ctx, { servers: 3, maxRaftState: NO_SNAPSHOTS }),
};

const concurrent4B = generic('TestConcurrent4B', 'five clients racing on one key, reliable network: linearizable', {
  clients: 5,
  servers: 5,
  maxRaftState: NO_SNAPSHOTS,
});

const unreliable4B = generic('TestUnreliable4B', 'five clients, lost and delayed messages: linearizable', {
  clients: 5,
  servers: 5,
  unreliable: true,
  maxRaftState: NO_SNAPSHOTS,
});

const onePartition4B: TestDefinition<Lab6Impl> = {
  name: 'TestOnePartition4B',
  description: 'the majority goes on without the old leader; the minority completes nothing until it heals',
  async run(ctx: Ctx) {
    const ts = new KvTester(ctx, { servers: 5, maxRaftState: NO_SNAPSHOTS });
    const ck = ts.makeClerk();
    const ver0 = await ts.putAtLeastOnce(ck, '1', '13', 0);
    const l = ts.leader() ?? 0;
    // The old leader ends up in the minority.
    const p1 = Array.from({ length: ts.group.n }, (_, i) => (l + 1 + i) % ts.group.n).slice(0, 3);
    const p2 = Array.from({ length: ts.group.n }, (_, i) => i).filter((i) => !p1.includes(i));
    ts.partition(p1, p2);
    const ckp1 = ts.makeClerk(p1);
    const ckp2a = ts.makeClerk(p2);
    const ckp2b = ts.makeClerk(p2);
    const ver1 = await ts.putAtLeastOnce(ckp1, '1', '14', ver0 + 1);
    await ts.checkGet(ckp1, '1', '14', ver1 + 1);
    let putDone = false;
    let getDone = false;
    const minorityPut = ts.group.background(ckp2a.put('1', '15', ver1 + 1)).then((err) => {
      putDone = true;
      return err;
    });
    const minorityGet = ts.group.background(ckp2b.get('1')).then(() => void (getDone = true));
    await sleep(1000);
    if (putDone || getDone)
      ts.group.fail(
        `a ${putDone ? 'put' : 'get'} sent only to the minority (servers ${p2.join(', ')}) completed while it was cut ` +
          'off. Expected no progress without a majority. Likely causes: a server that answers a read from its own ' +
          'state without going through the log, or an operation answered before Raft committed it.',
      );
    await ts.checkGet(ckp1, '1', '14', ver1 + 1);
    const ver2 = await ts.putAtLeastOnce(ckp1, '1', '16', ver1 + 1);
    await ts.checkGet(ckp1, '1', '16', ver2 + 1);
    ts.connectAll();
    ts.connectClerk(ckp2a);
    ts.connectClerk(ckp2b);
    await sleep(ELECTION_TIMEOUT_MS);
    const healed = () =>
      'once the partition healed, an operation sent in the minority did not complete within 3 s. Likely causes: a ' +
      'submit that never returns after its leader lost the lead, or a clerk that does not try the other servers.';
    await within(minorityPut, 3000, healed);
    await within(minorityGet, 3000, healed);
    // The minority's put at ver1 + 1 lost to "16"; it is retried at the next version.
    await ts.putAtLeastOnce(ckp2a, '1', '15', ver2 + 1);
    await ts.checkGet(ck, '1', '15', ver2 + 2);
    // What the minority's put returned is judged too: it did not happen, so it may not say OK.
    ts.checkLinearizable();
  },
};

const manyPartitionsOneClient4B = generic(
  'TestManyPartitionsOneClient4B',
  'one client while the servers are split in two at random, again and again',
  { clients: 1, servers: 5, partitions: true, maxRaftState: NO_SNAPSHOTS },
);

const manyPartitionsManyClients4B = generic(
  'TestManyPartitionsManyClients4B',
  'five clients while the servers are split in two at random, again and again',
  { clients: 5, servers: 5, partitions: true, maxRaftState: NO_SNAPSHOTS },
);

const persistOneClient4B = generic(
  'TestPersistOneClient4B',
  'one client; every server crashes and restarts after each round: nothing acknowledged is lost',
  { clients: 1, servers: 5, crash: true, maxRaftState: NO_SNAPSHOTS },
);

const persistConcurrent4B = generic(
  'TestPersistConcurrent4B',
  'five clients; every server crashes and restarts after each round',
  { clients: 5, servers: 5, crash: true, maxRaftState: NO_SNAPSHOTS },
);

const persistConcurrentUnreliable4B = generic(
  'TestPersistConcurrentUnreliable4B',
  'five clients, lost and delayed messages, crashes and restarts',
  { clients: 5, servers: 5, unreliable: true, crash: true, maxRaftState: NO_SNAPSHOTS },
);

const persistPartition4B = generic('TestPersistPartition4B', 'five clients, random partitions, crashes and restarts', {
  clients: 5,
  servers: 5,
  crash: true,
  partitions: true,
  maxRaftState: NO_SNAPSHOTS,
});

const persistPartitionUnreliable4B = generic(
  'TestPersistPartitionUnreliable4B',
  'five clients, lost messages, random partitions, crashes and restarts',
  { clients: 5, servers: 5, unreliable: true, crash: true, partitions: true, maxRaftState: NO_SNAPSHOTS },
);

const persistPartitionUnreliableLinearizable4B = generic(
  'TestPersistPartitionUnreliableLinearizable4B',
  'fifteen clients on 100 keys, seven servers, lost messages, partitions, crashes: linearizable',
  {
    clients: 15,
    servers: 7,
    unreliable: true,
    crash: true,
    partitions: true,
    randomKeys: true,
    maxRaftState: NO_SNAPSHOTS,
  },
);

// ---- Part 7 (MIT 4C): snapshots ----

/**
 * TestSnapshot4C: how far past maxRaftState a server's saved state may be once an increment has returned, as a share
 * of maxRaftState. A snapshot taken as soon as the state passes the limit keeps it at the limit between increments;
 * a look at the size only now and then (every tenth index, on a timer) lets several entries pile up past it.
 */
const SNAPSHOT_PROMPT_SLACK = 0.25;

const snapshot4C: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshot4C',
  description: `100 increments with maxRaftState ${DRAWN_MAX_RAFT_STATES.join(', ')} (drawn per seed): after each, every saved Raft state within a quarter past maxRaftState (a snapshot as soon as the state passes it); logs trimmed, and a restart from the snapshots goes on`,
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS, maxRaftState: DRAWN });
    const max = ts.maxRaftState;
    const prompt = Math.floor((1 + SNAPSHOT_PROMPT_SLACK) * max);
    let r = await ts.one(INC);
    for (let i = 1; i < 100; i++) {
      r = await ts.one(INC);
      const size = ts.group.logSize();
      if (size > prompt)
        ts.group.fail(
          `after increment ${i + 1} returned, a server's saved Raft state is ${size} characters; with maxRaftState ${max} it ` +
            `must stay within ${prompt} (the RSM snapshots as soon as the state passes maxRaftState). Likely causes: the RSM ` +
            'never calls raft.snapshot; it looks at persister.raftStateSize() only now and then (every tenth index, on a ' +
            'timer, after a batch) instead of after every entry it applies; a snapshot taken only well past it (a size ' +
            'written into the code instead of the maxRaftState it is given); or Raft does not trim its log when asked.',
        );
    }
    await ts.checkCounter(r.n, RSM_SERVERS);
    const size = ts.group.logSize();
    if (size > 2 * max)
      ts.group.fail(
        `a server's saved Raft state is ${size} characters after 100 increments; with maxRaftState ${max} ` +
          `it must stay within ${2 * max}. Likely causes: the RSM never calls raft.snapshot once ` +
          'persister.raftStateSize() passes maxRaftState (a size written into the code instead of the one it is ' +
          'given, or a snapshot taken only well past it), or Raft does not trim its log when asked.',
      );
    await restartAll(ts, 0);
    const after = await ts.one(INC);
    if (after.n !== r.n + 1)
      ts.group.fail(
        `after every server restarted from its snapshot, the next increment returned ${after.n}; expected ${r.n + 1}. ` +
          "Likely causes: the RSM does not restore the persister's snapshot in its constructor, or applies entries " +
          'the snapshot already covers.',
      );
    await ts.checkCounter(after.n, RSM_SERVERS);
  },
};

const snapshotCatchUp4C: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotCatchUp4C',
  description:
    "a follower cut off during 100 increments catches up from the leader's snapshot: its counter too, also when it restarted from its own snapshot while cut off",
  async run(ctx: Ctx) {
    const ts = new RsmTester(ctx, { servers: RSM_SERVERS, maxRaftState: MAX_RAFT_STATE });
    await ts.one(INC);
    await ts.checkCounter(1, RSM_SERVERS);
    let behind = (ts.lastLeader() + 1) % ts.group.n;
    ts.group.disconnect(behind);
    for (let i = 1; i < 100; i++) await ts.one(INC);
    ts.group.connect(behind);
    let r = await ts.one(INC);
    await ts.one(NULL);
    await ts.checkCounter(r.n, RSM_SERVERS);
    // Again, with the follower restarted while cut off: it restores its own snapshot, and the first thing its Raft
    // hands over after that is the leader's newer one (an RSM that skips snapshots right after a restart misses it).
    behind = (ts.lastLeader() + 1) % ts.group.n;
    for (let i = 0; i < 100 && ts.group.snapshotSizeOf(behind) === 0; i++) await ts.one(INC);
    ts.group.disconnect(behind);
    ts.group.crash1(behind);
    ts.group.start1(behind);
    for (let i = 0; i < 100; i++) await ts.one(INC);
    ts.group.connect(behind);
    // The rejoining server's higher term may depose the leader: an increment can then be applied and retried.
    r = await ts.one(INC);
    // A new leader commits the increment only with an entry of its own term (Figure 8): one more no-op.
    await ts.one(NULL);
    await ts.checkCounter(r.n, RSM_SERVERS);
    if (ts.group.snapshotSize() === 0)
      ts.group.fail(
        `no server saved a snapshot after ${r.n} increments with maxRaftState ${MAX_RAFT_STATE}: the RSM must call ` +
          'raft.snapshot once persister.raftStateSize() passes maxRaftState.',
      );
  },
};

const snapshotRPC4C: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotRPC4C',
  description: 'a server far behind catches up with InstallSnapshot; the majority trims its log without it',
  async run(ctx: Ctx) {
    const ts = new KvTester(ctx, { servers: 3, maxRaftState: MAX_RAFT_STATE });
    const ck = ts.makeClerk();
    const vera = await ts.putAtLeastOnce(ck, 'a', 'A', 0);
    await ts.checkGet(ck, 'a', 'A', vera + 1);
    // Many puts in the majority.
    ts.partition([0, 1], [2]);
    const ck1 = ts.makeClerk([0, 1]);
    // A put that had to be re-sent may land twice (ErrMaybe, then again): each key's version is what it returned.
    const versions: number[] = [];
    for (let i = 0; i < 50; i++) versions.push(await ts.putAtLeastOnce(ck1, String(i), String(i), 0));
    await sleep(ELECTION_TIMEOUT_MS);
    const verb = await ts.putAtLeastOnce(ck1, 'b', 'B', 0);
    const size = ts.group.logSize();
    if (size > LOG_SLACK * MAX_RAFT_STATE)
      ts.group.fail(
        `the majority's saved Raft state is ${size} characters after 52 puts; with maxRaftState ${MAX_RAFT_STATE} it ` +
          `must stay within ${LOG_SLACK * MAX_RAFT_STATE}, even while a follower is cut off. Likely causes: the RSM ` +
          'never snapshots, or Raft keeps entries a lagging follower still needs instead of sending it the snapshot.',
      );
    ts.checkSizes(); // and each snapshot within its bound
    // Now a majority that needs the lagging server, which must catch up.
    ts.partition([0, 2], [1]);
    const ck2 = ts.makeClerk([0, 2]);
    const verc = await ts.putAtLeastOnce(ck2, 'c', 'C', 0);
    const verd = await ts.putAtLeastOnce(ck2, 'd', 'D', 0);
    await ts.checkGet(ck2, 'a', 'A', vera + 1);
    await ts.checkGet(ck2, 'b', 'B', verb + 1);
    await ts.checkGet(ck2, '1', '1', versions[1] + 1);
    await ts.checkGet(ck2, '49', '49', versions[49] + 1);
    // Everybody.
    ts.connectAll();
    const vere = await ts.putAtLeastOnce(ck, 'e', 'E', 0);
    await ts.checkGet(ck, 'c', 'C', verc + 1);
    await ts.checkGet(ck, 'd', 'D', verd + 1);
    await ts.checkGet(ck, 'e', 'E', vere + 1);
    await ts.checkGet(ck, '1', '1', versions[1] + 1);
  },
};

const snapshotSize4C: TestDefinition<Lab6Impl> = {
  name: 'TestSnapshotSize4C',
  description: '800 operations on one key: logs trimmed, and a snapshot under 500 characters',
  async run(ctx: Ctx) {
    const ts = new KvTester(ctx, { servers: 3, maxRaftState: MAX_RAFT_STATE });
    const ck = ts.makeClerk();
    let ver = 0;
    for (let i = 0; i < 200; i++) {
      ver = await ts.putAtLeastOnce(ck, 'x', '0', ver);
      await ts.checkGet(ck, 'x', '0', ver + 1);
      ver = await ts.putAtLeastOnce(ck, 'x', '1', ver + 1);
      await ts.checkGet(ck, 'x', '1', ver + 1);
      ver += 1;
    }
    ts.checkSizes();
    const size = ts.group.snapshotSize();
    if (size > 500)
      ts.group.fail(
        `a saved snapshot is ${size} characters; with one key it must stay under 500. Likely causes: the snapshot ` +
          "holds more than the key/value state (the log, or every operation's reply), or it is encoded verbosely.",
      );
  },
};

const speed4C: TestDefinition<Lab6Impl> = {
  name: 'TestSpeed4C',
  description: '1,000 puts in a row with snapshots on, faster than three per heartbeat interval',
  run: (ctx: Ctx) => speedTest(ctx, { servers: 3, maxRaftState: MAX_RAFT_STATE }),
};

const snapshotRecover4C = generic(
  'TestSnapshotRecover4C',
  'one client, snapshots, every server restarted after each round',
  { clients: 1, servers: 5, crash: true, maxRaftState: DRAWN },
);

const snapshotRecoverManyClients4C = generic(
  'TestSnapshotRecoverManyClients4C',
  'twenty clients, snapshots, every server restarted after each round',
  { clients: 20, servers: 5, crash: true, maxRaftState: DRAWN },
);

const snapshotUnreliable4C = generic('TestSnapshotUnreliable4C', 'five clients, snapshots, lost and delayed messages', {
  clients: 5,
  servers: 5,
  unreliable: true,
  maxRaftState: DRAWN,
});

const snapshotUnreliableRecover4C = generic(
  'TestSnapshotUnreliableRecover4C',
  'five clients, snapshots, lost messages, restarts',
  { clients: 5, servers: 5, unreliable: true, crash: true, maxRaftState: DRAWN },
);

const snapshotUnreliableRecoverConcurrentPartition4C = generic(
  'TestSnapshotUnreliableRecoverConcurrentPartition4C',
  'five clients, snapshots, lost messages, restarts, random partitions',
  { clients: 5, servers: 5, unreliable: true, crash: true, partitions: true, maxRaftState: DRAWN },
);

const snapshotUnreliableRecoverConcurrentPartitionLinearizable4C = generic(
  'TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4C',
  'fifteen clients on 100 keys, seven servers, snapshots, every fault: linearizable',
  {
    clients: 15,
    servers: 7,
    unreliable: true,
    crash: true,
    partitions: true,
    randomKeys: true,
    maxRaftState: DRAWN,
  },
);

/** Parts 5-7's tests with their points (40 of the lab's 100; parts 1-4 hold 60) and the part after which a correct solution passes each. */
export const kvTests: ReadonlyArray<NamedTest<Lab6Impl>> = [
  scored(basic4A, { points: 1, part: 5 }),
  scored(concurrent4A, { points: 1, part: 5 }),
  scored(leaderFailure4A, { points: 1, part: 5 }),
  scored(leaderPartition4A, { points: 2, part: 5 }),
  scored(restartReplay4A, { points: 1, part: 5 }),
  scored(shutdown4A, { points: 1, part: 5 }),
  scored(restartSubmit4A, { points: 1, part: 5 }),
  scored(basic4B, { points: 1, part: 6 }),
  scored(speed4B, { points: 1, part: 6 }),
  scored(concurrent4B, { points: 1, part: 6 }),
  scored(unreliable4B, { points: 1, part: 6 }),
  scored(onePartition4B, { points: 1, part: 6 }),
  scored(manyPartitionsOneClient4B, { points: 1, part: 6 }),
  scored(manyPartitionsManyClients4B, { points: 1, part: 6 }),
  scored(persistOneClient4B, { points: 1, part: 6 }),
  scored(persistConcurrent4B, { points: 1, part: 6 }),
  scored(persistConcurrentUnreliable4B, { points: 1, part: 6 }),
  scored(persistPartition4B, { points: 1, part: 6 }),
  scored(persistPartitionUnreliable4B, { points: 1, part: 6 }),
  scored(persistPartitionUnreliableLinearizable4B, { points: 1, part: 6 }),
  scored(nemesisKV, { points: 1, part: 6 }),
  scored(modelKV, { points: 2, part: 6 }),
  scored(snapshot4C, { points: 2, part: 7 }),
  scored(snapshotCatchUp4C, { points: 1, part: 7 }),
  scored(snapshotRPC4C, { points: 1, part: 7 }),
  scored(snapshotSize4C, { points: 1, part: 7 }),
  scored(memKV4C, { points: 2, part: 7 }),
  scored(speed4C, { points: 1, part: 7 }),
  scored(snapshotRecover4C, { points: 1, part: 7 }),
  scored(snapshotRecoverManyClients4C, { points: 1, part: 7 }),
  scored(snapshotUnreliable4C, { points: 1, part: 7 }),
  scored(snapshotUnreliableRecover4C, { points: 1, part: 7 }),
  scored(snapshotUnreliableRecoverConcurrentPartition4C, { points: 1, part: 7 }),
  scored(snapshotUnreliableRecoverConcurrentPartitionLinearizable4C, { points: 2, part: 7 }),
  scored(nemesisKVSnapshots, { points: 1, part: 7 }),
];
