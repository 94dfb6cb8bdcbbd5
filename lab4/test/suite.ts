/**
 * Lab 4's named tests. Each carries its points (the suite's list, at the end) and runs in its own simulated world, so a seed
 * replays it exactly: npm run grade lab4 -- --test <Name> --seed <N>
 */
import { IMPL_FILES, load } from '../load';
import { keyedRng, sleep, World, type Rng } from '../../world';
import {
  LabSuite,
  scored,
  TestDefinition,
  TestContext,
  TestFailure,
  isTestFailure,
  check,
  Monitors,
} from '../../suite';
import { monitored } from '../../suite/monitors';
import { within } from '../../suite/within';
import type { RpcEnd } from '../../labrpc';
import { DEFAULT_CONFIG, SERVICE, type ReplicateArgs, type ReplicateReply, type SetReply } from '../rpc';
import { Ack, Lab4Impl, Lab4Tester, followerName, retryPacing, show } from './harness';
import { nemesisQuorum, nemesisReplication } from './nemesis';
import { modelReplication } from './model';
import { realHttpCatchUpTest, realHttpLateStartTest, realHttpTest } from './real';

type Ctx = TestContext<Lab4Impl>;

/** The original's load: 20 clients, 500 writes each, over 100 keys. */
const ORIGINAL_CLIENTS = 20;
const ORIGINAL_WRITES = 500;
const ORIGINAL_KEYS = 100;

/** Fails unless a write was acknowledged. */
function expectOk(
  reply: SetReply,
  what: string,
  why = 'every follower is reachable',
): asserts reply is Extract<SetReply, { err: 'OK' }> {
  check(reply.err === 'OK', () => `${what} returned ${show(reply, 300)}; expected OK because ${why}.`);
}

/** Runs `clients` clients writing `writes` each over `keys` keys; returns every acknowledgement. */
async function writeLoad(
  ts: Lab4Tester,
  ctx: Ctx,
  clients: number,
  writes: number,
  keys: number,
  why?: string,
): Promise<Ack[]> {
  const rng = World.current().rng;
  const clerks = Array.from({ length: clients }, () => ts.clerk());
  const perClient = await Promise.all(
    clerks.map(async (ck, c) => {
      const acks: Ack[] = [];
      for (let i = 0; i < writes; i++) {
        const key = `key_${rng.int(keys)}`;
        const value = `c${c}-w${i}-${rng.string(6)}`;
        const t0 = performance.now();
        const reply = await ck.set(key, value);
        expectOk(reply, `client ${c}: write ${i} (${key}=${show(value)})`, why);
        acks.push({ client: c, seq: reply.seq, key, value, latencyMs: performance.now() - t0 });
        ctx.countOps();
      }
      return acks;
    }),
  );
  return perClient.flat();
}

/**
 * Quorums that no set of followers can meet, one of each kind, with the number of followers, drawn from `rng`:
 * zero (and -0), below zero, more than there are followers, no followers at all, not a whole number (between two
 * good ones, or below zero), NaN, and the infinities.
 */
function impossibleQuorums(rng: Rng): [number, number][] {
  const n = rng.between(1, 6);
  return [
    [0, n],
    [-0, n],
    [-rng.between(1, n), n],
    [-(2 ** rng.between(31, 53)), n],
    [n + rng.between(1, 3), n],
    [2 ** rng.between(31, 53), n],
    [rng.between(1, n), 0],
    [rng.between(1, n) - 0.5, n],
    [-0.5, n],
    [NaN, n],
    [Infinity, n],
    [-Infinity, n],
  ];
}

/** How much later than writeTimeoutMs TestNoQuorumFails accepts a write's ErrNoQuorum, virtual ms (its links take under 1 ms). */
const NO_QUORUM_LATE_MS = 10;

const leaderAccepts: TestDefinition<Lab4Impl> = {
  name: 'TestLeaderAcceptsWrites',
  description: 'the leader numbers writes 1, 2, 3, ..., acknowledges them and serves them; W=3 of 5 followers',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 5, quorum: 3, reliable: true });
    const ck = ts.clerk();
    for (let i = 1; i <= 10; i++) {
      const reply = await ck.set(`k${i % 4}`, `v${i}`);
      expectOk(reply, `write ${i} to the leader`);
      check(
        reply.seq === i,
        `The leader's write ${i} got sequence number ${reply.seq}; with one client writing, writes are numbered 1, 2, 3, ... in order.`,
      );
      check(
        reply.replicas >= 3 && reply.replicas <= 5,
        `Write ${i} was acknowledged with replicas=${reply.replicas}; it must count the followers that held it (3 to 5 here).`,
      );
      const got = await ck.get(`k${i % 4}`);
      check(
        got.err === 'OK' && got.value === `v${i}`,
        `After write ${i} was acknowledged, Get("k${i % 4}") on the leader returned ${show(got)}; expected "v${i}".`,
      );
      ctx.countOps(2);
    }
    const st = await ts.leader.Status({});
    check(
      st.role === 'leader' && st.lastSeq === 10 && st.commitSeq === 10 && st.dataCount === 4,
      `After 10 acknowledged writes to 4 keys the leader's Status is ${show({ ...st, data: undefined })}; expected role leader, lastSeq 10, commitSeq 10, dataCount 4.`,
    );
    ts.stop();
    // A quorum no set of followers can meet is a configuration bug: the leader must refuse it when built.
    const silent: RpcEnd = { call: () => new Promise<never>(() => undefined) };
    for (const [quorum, followers] of impossibleQuorums(keyedRng(ctx.seed, 'TestLeaderAcceptsWrites/quorums'))) {
      let node: { _stop(): void } | undefined;
      let thrown: unknown;
      try {
        node = new ctx.impl.KVNode(
          { ...DEFAULT_CONFIG, token: 'quorum-check', id: 'leader', role: 'leader', quorum },
          Array.from({ length: followers }, () => silent),
        );
      } catch (err) {
        thrown = err;
      }
      node?._stop();
      check(
        thrown instanceof RangeError && thrown.message.length > 0,
        `A leader built with quorum ${quorum} and ${followers} follower(s) ${thrown === undefined ? 'was created' : `threw ${String(thrown)}`}; expected a RangeError ` +
          'with a message: the quorum must be a whole number between 1 and the number of followers, or no write could ever be acknowledged (or every write would be at once). ' +
          'Likely causes: a check written as `quorum < 1 || quorum > n`, which NaN passes (every comparison with NaN is false), and which does not ask for a whole number; ' +
          'a check for zero alone (`quorum === 0`), which a negative quorum passes; the number of followers left out of the check.',
      );
    }
  },
};

const followerRefuses: TestDefinition<Lab4Impl> = {
  name: 'TestFollowerRefusesWrites',
  description:
    'a write sent to a follower gets ErrNotLeader with a message and changes nothing; the leader refuses Replicate',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 3, quorum: 2, reliable: true });
    for (let i = 0; i < 3; i++) {
      const reply = await ts.clerk(i).set('x', 'from-client');
      ctx.countOps();
      check(
        reply.err === 'ErrNotLeader',
        `A write sent to ${followerName(i)} returned ${show(reply, 200)}; only the leader accepts writes, so a follower must answer ErrNotLeader.`,
      );
      check(
        typeof reply.message === 'string' && reply.message.length > 0,
        `Follower ${i + 1} refused a write without a message; say why, so the client knows to go to the leader.`,
      );
      const got = await ts.clerk(i).get('x');
      check(
        got.err === 'ErrNoKey',
        `Follower ${i + 1} refused the write of "x" but Get("x") there returns ${show(got)}; a refused write must change nothing.`,
      );
    }
    const st = await ts.leader.Status({ noData: true });
    check(
      st.lastSeq === 0,
      `Writes refused by followers reached the leader's log (lastSeq ${st.lastSeq}); they must not.`,
    );
    const end = ts.net.makeEnd('intruder', undefined, { tester: true });
    ts.net.connect('intruder', ts.leaderServer);
    ts.net.enable('intruder', true);
    const rep = await end.call<ReplicateReply>(`${SERVICE}.Replicate`, {
      entries: [{ seq: 1, key: 'x', value: 'forged' }],
      token: ts.token,
    });
    check(
      rep.err === 'ErrNotFollower',
      `The leader answered a Replicate call with ${show(rep)}; only followers take log entries, the leader must answer ErrNotFollower.`,
    );
    const after = await ts.leader.Get({ key: 'x' });
    check(
      after.err === 'ErrNoKey',
      `A Replicate sent to the leader changed its data (Get("x") returns ${show(after)}).`,
    );
    ts.stop();
  },
};

const appliesInOrder: TestDefinition<Lab4Impl> = {
  name: 'TestFollowerAppliesInOrder',
  description:
    'a follower applies entries in sequence order exactly once: duplicates are ignored, a gap is refused with ErrGap',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 1, quorum: 1, reliable: true });
    ts.leader._stop(); // this test plays the leader itself
    const f = ts.followers[0];
    const send = async (entries: Array<[number, string, string]>, want: ReplicateReply, why: string): Promise<void> => {
      const reply = await f.Replicate({
        entries: entries.map(([seq, key, value]) => ({ seq, key, value })),
        token: ts.token,
      });
      ctx.countOps();
      check(
        reply.err === want.err && reply.lastSeq === want.lastSeq,
        `Replicate with entries ${entries.map((e) => `#${e[0]} ${e[1]}=${e[2]}`).join(', ') || '(none)'} returned ${show(reply)}; expected ${show(want)} because ${why}.`,
      );
    };
    const expectValue = async (key: string, value: string, why: string): Promise<void> => {
      const got = await f.Get({ key });
      check(
        got.err === 'OK' && got.value === value,
        `Get(${show(key)}) on the follower returned ${show(got)}; expected ${show(value)} because ${why}.`,
      );
    };
    await send(
      [
        [1, 'a', '1'],
        [2, 'a', '2'],
      ],
      { err: 'OK', lastSeq: 2 },
      'entries #1 and #2 come first',
    );
    await expectValue('a', '2', '#2 wrote it after #1');
    await send([[4, 'b', '4']], { err: 'ErrGap', lastSeq: 2 }, '#3 is missing, so #4 cannot be applied yet');
    const gap = await f.Get({ key: 'b' });
    check(
      gap.err === 'ErrNoKey',
      `After refusing #4 with a gap, the follower's Get("b") returns ${show(gap)}; an entry after a gap must not be applied.`,
    );
    await send([[1, 'a', '1']], { err: 'OK', lastSeq: 2 }, 'a re-sent #1 is already held');
    await expectValue('a', '2', 'a duplicate of #1 arriving late must not be applied again (that would undo #2)');
    await send(
      [
        [2, 'a', '2'],
        [3, 'c', '3'],
        [4, 'b', '4'],
      ],
      { err: 'OK', lastSeq: 4 },
      'the batch overlaps what is held and continues it',
    );
    await expectValue('b', '4', '#4 is now applied');
    await send([], { err: 'OK', lastSeq: 4 }, 'an empty batch changes nothing');
    const st = await f.Status({});
    check(
      st.role === 'follower' && st.lastSeq === 4 && st.dataCount === 3,
      `The follower's Status is ${show({ ...st, data: undefined })}; expected role follower, lastSeq 4, dataCount 3.`,
    );
    ts.stop();
  },
};

/** TestForgedReplicate: writes before and after the forgeries (the leader's own calls must still be accepted). */
const FORGED_WRITES = 10;

const forgedReplicate: TestDefinition<Lab4Impl> = {
  name: 'TestForgedReplicate',
  description:
    'W=2 of 3: Replicate calls from a client that is not the leader (no token, an empty one, a wrong one; entries next, from #1 or beyond a gap) are refused with ErrForbidden ' +
    "and change nothing on the follower; the leader's own calls still are accepted, and every replica ends equal to the leader",
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 3, quorum: 2, reliable: true });
    const ck = ts.clerk();
    const acks: Ack[] = [];
    const write = async (i: number): Promise<void> => {
      const key = `g${i % 5}`;
      const value = `v${i}`;
      const reply = await ck.set(key, value);
      expectOk(reply, `write ${i} (${key}=${value})`);
      acks.push({ client: 0, seq: reply.seq, key, value, latencyMs: 0 });
      ctx.countOps();
    };
    for (let i = 0; i < FORGED_WRITES; i++) await write(i);
    await ts.waitConverged(1000);
    const before = await ts.followers[0].Status({});
    const intruder = ts.stranger(0);
    // The next seq (which the follower would apply at once) and a rewrite of #1, each with a missing, empty, guessed or wrong token.
    const next = before.lastSeq + 1;
    const forgeries: Array<[string, Record<string, unknown>]> = [
      ['no token', { entries: [{ seq: next, key: 'g0', value: 'forged' }] }],
      ['an empty token', { entries: [{ seq: next, key: 'g1', value: 'forged' }], token: '' }],
      ["the leader's id as token", { entries: [{ seq: next, key: 'g2', value: 'forged' }], token: 'leader' }],
      [
        'a wrong token',
        {
          entries: [
            { seq: next, key: 'g3', value: 'forged' },
            { seq: next + 1, key: 'extra', value: 'forged' },
          ],
          token: `${ts.token}x`,
        },
      ],
      ['a wrong token, rewriting from #1', { entries: [{ seq: 1, key: 'g4', value: 'forged' }], token: 'guess' }],
      // A gap is no reason to answer anything but ErrForbidden: the token is checked first, whatever the entries.
      ['a wrong token, beyond a gap', { entries: [{ seq: next + 5, key: 'g5', value: 'forged' }], token: 'guess' }],
    ];
    for (const [what, args] of forgeries) {
      const reply = await intruder.call<ReplicateReply>(`${SERVICE}.Replicate`, args);
      ctx.countOps();
      const after = await ts.followers[0].Status({});
      const changed = after.lastSeq !== before.lastSeq || JSON.stringify(after.data) !== JSON.stringify(before.data);
      check(
        reply.err === 'ErrForbidden' && !changed,
        `A client that is not the leader sent follower 1 a Replicate with ${what} (${show(args, 160)}); the follower answered ${show(reply)}` +
          `${changed ? ` and changed: lastSeq ${before.lastSeq} -> ${after.lastSeq}, data ${show(before.data, 120)} -> ${show(after.data, 120)}` : ''}. ` +
          'Expected ErrForbidden and no change: a follower applies entries only from a call carrying its config.token, which only its leader knows. ' +
          'Accepting them lets anyone who can reach a follower make it diverge from the leader for good (the leader then skips the seqs it thinks are held). ' +
          'Likely causes: the token not checked at all, or only when the call carries one (a call without a token, or with an ' +
          'empty one, is refused too); the gap checked before the token (the token comes first, whatever the entries).',
      );
    }
    for (let i = FORGED_WRITES; i < 2 * FORGED_WRITES; i++) await write(i);
    await ts.waitConverged(1000);
    await ts.checkReplicasMatchLog(acks);
    ts.stop();
  },
};

const ackAfterQuorum: TestDefinition<Lab4Impl> = {
  name: 'TestAckAfterQuorum',
  description: 'W = 1, 3 and 5 of 5 followers: at every acknowledgement, at least W followers hold the write',
  async run(ctx: Ctx) {
    for (const quorum of [1, 3, 5]) {
      const ts = new Lab4Tester(ctx, { followers: 5, quorum, reliable: true });
      const acks = await writeLoad(ts, ctx, 5, 40, 10); // the tester checks each acknowledgement as it leaves the leader
      for (const a of acks)
        check(a.seq >= 1, `An acknowledged write has sequence number ${a.seq}; numbers start at 1.`);
      ctx.log(`W=${quorum}: ${acks.length} writes acknowledged, each on >= ${quorum} followers`);
      ts.stop();
    }
  },
};

const followerReads: TestDefinition<Lab4Impl> = {
  name: 'TestFollowerReadsEventually',
  description: 'W=1 of 5: reads from every follower see every acknowledged write within 1 virtual second',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 5, quorum: 1, reliable: true });
    const ck = ts.clerk();
    const want = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 20}`;
      const value = `v${i}`;
      expectOk(await ck.set(key, value), `write ${key}=${value}`);
      want.set(key, value);
      ctx.countOps();
    }
    for (let f = 0; f < 5; f++) {
      const reader = ts.clerk(f);
      const start = performance.now();
      for (const [key, value] of want) {
        for (;;) {
          const got = await reader.get(key);
          ctx.countOps();
          if (got.err === 'OK' && got.value === value) break;
          if (performance.now() - start > 1000) {
            throw new TestFailure(
              `Follower ${f + 1} still answers Get(${show(key)}) with ${show(got)} 1 s after the write of ${show(value)} was acknowledged. ` +
                'Every follower must receive every write, not only the W that the acknowledgement waits for.',
            );
          }
          await World.current().sleep(5);
        }
      }
    }
    ts.stop();
  },
};

const noQuorum: TestDefinition<Lab4Impl> = {
  name: 'TestNoQuorumFails',
  description:
    "with fewer than W followers reachable a write fails with ErrNoQuorum in time and is not visible on the leader (the leader's Status meanwhile " +
    'tells lastSeq from commitSeq); writes work again after',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 5, quorum: 3, reliable: true });
    const ck = ts.clerk();
    expectOk(await ck.set('a', 'before'), 'the first write');
    for (const i of [2, 3, 4]) ts.cut(i, true);
    const t0 = performance.now();
    const pending = within(
      ck.set('a', 'lost'),
      3000,
      () =>
        'A write with only 2 of 3 needed followers reachable had no answer after 3 s. Likely causes: no ' +
        'setTimeout(writeTimeoutMs) for a waiting write, or one whose expiry does not answer ErrNoQuorum.',
    );
    // While the write waits for its quorum, the leader's Status tells the log's end and the commit point apart.
    await World.current().sleep(100);
    const mid = await ts.leader.Status({ noData: true });
    check(
      mid.lastSeq === 2 && mid.commitSeq === 1 && mid.dataCount === 1 && Object.keys(mid.data).length === 0,
      `While write #2 waited for its quorum (#1 committed), the leader's Status({ noData: true }) was ${show(mid, 300)}; expected lastSeq 2 (the end ` +
        'of its log), commitSeq 1 (the highest seq on W followers), dataCount 1 (only "a" is applied) and data {} (noData asks for no data). ' +
        'Likely causes: commitSeq reported as the end of the log (uncommitted writes included); the data returned although ' +
        'noData asks for none; dataCount counting what is not applied yet.',
    );
    const failed = await pending;
    const waited = performance.now() - t0;
    check(
      failed.err === 'ErrNoQuorum' && typeof failed.message === 'string' && failed.message.length > 0,
      `With only 2 followers reachable and W=3, a write returned ${show(failed, 300)}; expected ErrNoQuorum with a message saying how many followers confirmed.`,
    );
    check(
      /(?<![#\d])2(?!\d)/.test(failed.message),
      `The failing write was refused with the message ${show(failed.message, 300)}; it must say how many followers confirmed the write (2: the two reachable ones).`,
    );
    check(
      failed.replicas === 2,
      `The failing write was refused with replicas ${show(failed.replicas)}; expected 2, how many followers held it when its time ran out (the two reachable ones). ` +
        'Likely causes: the leader counted among the replicas; followers counted that hold a later write only, or every follower known; the count taken when the write arrived, not when it timed out.',
    );
    check(
      waited <= DEFAULT_CONFIG.writeTimeoutMs + NO_QUORUM_LATE_MS,
      `The failing write took ${waited.toFixed(1)} virtual ms to be refused; the node's writeTimeoutMs is ${DEFAULT_CONFIG.writeTimeoutMs}, ` +
        `and the links take well under 1 ms, so answer ErrNoQuorum when it runs out (at most ${NO_QUORUM_LATE_MS} ms later allowed). ` +
        'Likely causes: expired writes answered at the next heartbeat or at a periodic sweep instead of by a timer of ' +
        "their own; the write's timer started late (when its first Replicate went out, not when the write arrived).",
    );
    const seen = await ck.get('a');
    check(
      seen.err === 'OK' && seen.value === 'before',
      `After the write of "lost" failed, Get("a") on the leader returns ${show(seen)}; the leader must not apply a write before W followers hold it (expected "before").`,
    );
    ts.cut(2, false); // three followers reachable again: enough
    expectOk(
      await within(ck.set('b', 'after'), 3000, () => 'A write with 3 followers reachable had no answer after 3 s.'),
      'a write after one follower came back',
      '3 of 5 followers are reachable and W=3',
    );
    for (const i of [3, 4]) ts.cut(i, false);
    await ts.waitConverged(3000);
    await ts.checkReplicasMatchLog([]);
    const last = await ck.get('a');
    check(last.err === 'OK', `Get("a") returned ${show(last)} after the cluster healed.`);
    ctx.countOps(5);
    ts.stop();
  },
};

function seedLoad(name: string, reliable: boolean): TestDefinition<Lab4Impl> {
  return {
    name,
    description: `the original's load (${ORIGINAL_CLIENTS} clients x ${ORIGINAL_WRITES} writes over ${ORIGINAL_KEYS} keys, W=3 of 5) on the ${reliable ? 'reliable' : 'unreliable'} network: every replica equals the leader's log in order`,
    virtualLimitMs: 600_000,
    async run(ctx: Ctx) {
      const ts = new Lab4Tester(ctx, { followers: 5, quorum: 3, reliable });
      const acks = await writeLoad(ts, ctx, ORIGINAL_CLIENTS, ORIGINAL_WRITES, ORIGINAL_KEYS);
      const seqs = new Set(acks.map((a) => a.seq));
      check(
        seqs.size === acks.length,
        `${acks.length - seqs.size} acknowledged writes share a sequence number with another; every write needs its own.`,
      );
      const mean = acks.reduce((s, a) => s + a.latencyMs, 0) / acks.length;
      ctx.log(`${acks.length} writes acknowledged, mean latency ${mean.toFixed(2)} virtual ms`);
      await ts.waitConverged(5000);
      await ts.checkReplicasMatchLog(acks);
      ts.stop();
    },
  };
}

const catchUp: TestDefinition<Lab4Impl> = {
  name: 'TestFollowerCatchUp',
  description: 'two followers cut off during 1,000 writes catch up (more than one batch) once they return',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 5, quorum: 3, reliable: true });
    ts.cut(3, true);
    ts.cut(4, true);
    const acks = await writeLoad(ts, ctx, 10, 100, 50, '3 of 5 followers are reachable and W=3');
    for (const i of [3, 4]) {
      const st = await ts.followers[i].Status({ noData: true });
      check(st.lastSeq === 0, `Follower ${i + 1} was cut off but holds up to #${st.lastSeq}.`);
    }
    await World.current().sleep(500);
    ts.cut(3, false);
    ts.cut(4, false);
    await ts.waitConverged(3000);
    await ts.checkReplicasMatchLog(acks);
    ts.stop();
  },
};

/** Writes before and during the restarts in TestFollowerRestartEmpty, and its maxBatch (catch-up takes several calls). */
const RESTART_BEFORE = 30;
const RESTART_MAX_BATCH = 8;
const RESTART_CLIENTS = 3;
const RESTART_WRITES = 10;

const restartEmpty: TestDefinition<Lab4Impl> = {
  name: 'TestFollowerRestartEmpty',
  description:
    `W=2 of 3, maxBatch ${RESTART_MAX_BATCH}: follower 1 restarts empty on the same address just after applying a batch (its reply is lost), ` +
    'then follower 2 does the same before follower 1 has caught up: each must be resent the log from #1, the commit point never goes back, ' +
    'and every replica ends equal to the leader',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, {
      followers: 3,
      quorum: 2,
      reliable: true,
      config: { maxBatch: RESTART_MAX_BATCH },
    });
    const ck = ts.clerk();
    const acks: Ack[] = [];
    for (let i = 0; i < RESTART_BEFORE; i++) {
      const key = `r${i % 10}`;
      const value = `before-${i}`;
      const reply = await ck.set(key, value);
      expectOk(reply, `write ${i} (${key}=${value})`);
      acks.push({ client: 0, seq: reply.seq, key, value, latencyMs: 0 });
      ctx.countOps();
    }
    await ts.waitConverged(1000);
    // Follower 1 dies just after applying the first new batch: the batch and its reply are lost with it.
    ts.restartWhen(0, (args) => args.entries.length > 0);
    // Follower 2 dies the same way on its next batch, while follower 1 is still catching up: for a while two of the
    // three followers hold less than the leader has committed.
    ts.restartWhen(1, (args) => ts.restarts[0] === 1 && args.entries.length > 0);
    // Watch the leader's commit point while the followers catch up: it must never go back.
    let loading = true;
    let highest = { seq: 0, at: 0 };
    let wentBack: string | undefined;
    const watcher = (async () => {
      while (loading && wentBack === undefined) {
        const st = await ts.leader.Status({ noData: true });
        if (st.commitSeq < highest.seq) {
          wentBack =
            `The leader's commitSeq went back from #${highest.seq} (at ${highest.at.toFixed(1)} ms) to #${st.commitSeq} (at ${performance.now().toFixed(1)} ms) ` +
            `after followers 1 and 2 restarted empty (restarts: ${ts.restarts.join(', ')}). An entry once committed stays committed: recompute the commit ` +
            'point only upwards. Lowering it makes the leader apply old entries again over newer values, so its reads go back in time.';
        }
        if (st.commitSeq > highest.seq) highest = { seq: st.commitSeq, at: performance.now() };
        await World.current().sleep(0.2);
      }
    })();
    const why =
      'follower 3 never stopped, and each restarted follower answers ErrGap with lastSeq 0, so the leader can resend it the log from #1 at once ' +
      '(a write that waits for its quorum until it times out means a restarted follower never caught up: does the leader send from the lastSeq in ErrGap?)';
    try {
      acks.push(...(await writeLoad(ts, ctx, RESTART_CLIENTS, RESTART_WRITES, 10, why)));
    } finally {
      loading = false;
    }
    await watcher;
    check(wentBack === undefined, () => wentBack ?? '');
    check(
      ts.restarts[0] === 1 && ts.restarts[1] === 1,
      `The leader never sent follower ${ts.restarts[0] === 1 ? 2 : 1} the batch this test waits for to restart it (restarts: ${ts.restarts.join(', ')}); every follower must receive every write.`,
    );
    try {
      await ts.waitConverged(2000);
    } catch (err) {
      if (!isTestFailure(err)) throw err;
      throw new TestFailure(
        `${err.message}\nFollowers 1 and 2 each restarted with empty state on the same address (their Replicate answers ErrGap with lastSeq 0). ` +
          'Likely causes: on ErrGap the leader resends the same batch instead of starting again from lastSeq + 1; the leader keeps the highest seq it ever saw ' +
          'for a follower (match only grows) and sends from there; or it stops sending to a follower whose call was lost.',
      );
    }
    await ts.checkReplicasMatchLog(acks);
    ts.stop();
  },
};

/**
 * One round of TestRestartForgetsLost: follower 1 confirms write x while the other two are cut off, restarts empty,
 * and its first answer (to a heartbeat, or ErrGap to a new write y) tells the leader it lost x; then only follower 2
 * gets x, which must not be enough for W=2 until follower 1 has it again.
 */
async function forgetsLostRound(ctx: Ctx, via: 'heartbeat' | 'ErrGap'): Promise<void> {
  const ts = new Lab4Tester(ctx, { followers: 3, quorum: 2, reliable: true });
  const world = World.current();
  const ck = ts.clerk();
  expectOk(await ck.set('base', '0'), `${via} round: the first write`);
  ctx.countOps();
  await ts.waitConverged(1000);
  ts.cut(1, true);
  ts.cut(2, true);
  const x = ck.set('x', 'held-by-follower-1-only');
  await world.sleep(20);
  const held = await ts.followers[0].Status({ noData: true });
  check(
    held.lastSeq === 2,
    `${via} round: 20 ms after write x (#2) was sent, follower 1 reports lastSeq ${held.lastSeq}; expected 2 (its link is up, the others are cut off).`,
  );
  ts.cutWhenRestartAnswered(0);
  ts.restartFollower(0);
  const y = via === 'ErrGap' ? ts.clerk().set('y', 'sent-after-the-restart') : undefined;
  const since = performance.now();
  while (!ts.restartAnswered(0) && performance.now() - since < 4 * DEFAULT_CONFIG.heartbeatMs) await world.sleep(1);
  check(
    ts.restartAnswered(0),
    `${via} round: follower 1 restarted empty and, ${4 * DEFAULT_CONFIG.heartbeatMs} ms later, the leader had not had an answer from it ` +
      `(${via === 'ErrGap' ? 'a new write must be sent to it at once' : `an idle follower gets a heartbeat every ${DEFAULT_CONFIG.heartbeatMs} ms`}).`,
  );
  // The leader now knows follower 1 holds nothing; the tester cut it off at that answer. Follower 2 comes back and
  // gets x: one holder. x must wait (its writeTimeoutMs has not run out) until follower 1 is back and catches up.
  ts.cut(1, false);
  await world.sleep(300);
  ts.cut(0, false);
  for (const [name, write] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (!write) continue;
    expectOk(
      await within(
        write,
        2 * DEFAULT_CONFIG.writeTimeoutMs,
        () => `${via} round: write ${name} had no answer after ${(2 * DEFAULT_CONFIG.writeTimeoutMs) / 1000} s.`,
      ),
      `${via} round: write ${name}`,
      'follower 1 came back and caught up before its writeTimeoutMs ran out',
    );
    ctx.countOps();
  }
  ts.cut(2, false);
  await ts.waitConverged(1000);
  await ts.checkReplicasMatchLog([]);
  ts.stop();
}

const restartForgetsLost: TestDefinition<Lab4Impl> = {
  name: 'TestRestartForgetsLost',
  description:
    'W=2 of 3: follower 1 confirms a write the others lack, restarts empty and says so (to a heartbeat, then in another round with ' +
    'ErrGap); the write must wait until two followers really hold it, so the leader must lower what it records for a follower',
  async run(ctx: Ctx) {
    await forgetsLostRound(ctx, 'heartbeat');
    await forgetsLostRound(ctx, 'ErrGap');
  },
};

/** When each write of TestNoQuorumInFlight is sent, ms after the quorum is lost, and whether it must succeed. */
const IN_FLIGHT = [
  { key: 'a', at: 0, ok: false },
  { key: 'b', at: 300, ok: false },
  { key: 'c', at: 700, ok: true },
  { key: 'd', at: 1000, ok: true },
] as const;
/** When follower 3 comes back (the quorum returns), ms after it was lost: after b's deadline, well before c's. */
const IN_FLIGHT_HEAL_AT = 1400;
/**
 * How soon after the quorum returns a waiting write must be acknowledged, ms: the leader re-sends to the follower
 * that came back `retryMs` (10 ms) after its last call failed, so a wait and a few round trips (the reference takes
 * at most about 110 ms on the simulated network); a back-off that grows to hundreds of ms comes later.
 */
const HEALED_ACK_MS = 200;
/** TestNoQuorumInFlight's retryMs, drawn per seed in this range (ms): never the default, so a wait of the leader's own shows. */
const IN_FLIGHT_RETRY_MS: readonly [number, number] = [15, 30];
/** How much longer than a test's chosen retryMs the median wait before a re-sent Replicate may be (virtual ms). */
const RETRY_MEDIAN_SLACK_MS = 5;

/** One write of TestNoQuorumInFlight as it ended: its reply, and how long it waited for it (ms). */
type InFlightWrite = (typeof IN_FLIGHT)[number] & { reply: SetReply; waited: number };

/**
 * TestNoQuorumInFlight's writes, each sent on its schedule after the quorum was lost, while the quorum comes back
 * at IN_FLIGHT_HEAL_AT; resolves to every write as it ended.
 */
async function writesWhileQuorumReturns(ctx: Ctx, ts: Lab4Tester): Promise<InFlightWrite[]> {
  const world = World.current();
  const results = await Promise.all([
    ...IN_FLIGHT.map((w) => sendInFlight(ctx, ts, world, w)),
    healInFlightQuorum(ts, world),
  ]);
  return results.filter((r) => r !== undefined);
}

/** Sends one write of TestNoQuorumInFlight `w.at` ms after the quorum was lost and waits for its answer. */
async function sendInFlight(
  ctx: Ctx,
  ts: Lab4Tester,
  world: World,
  w: (typeof IN_FLIGHT)[number],
): Promise<InFlightWrite> {
  const timeoutMs = DEFAULT_CONFIG.writeTimeoutMs;
  await world.sleep(w.at);
  const sent = performance.now();
  const reply = await within(
    ts.clerk().set(w.key, `${w.key}-value`),
    3 * timeoutMs,
    () =>
      `The write of ${w.key} (sent ${w.at} ms after the quorum was lost) had no answer after ${(3 * timeoutMs) / 1000} s.`,
  );
  ctx.countOps();
  return { ...w, reply, waited: performance.now() - sent };
}

/** Checks, 200 ms before the quorum returns, that the leader applied neither write of a or b; then brings follower 3 back. */
async function healInFlightQuorum(ts: Lab4Tester, world: World): Promise<undefined> {
  await world.sleep(IN_FLIGHT_HEAL_AT - 200);
  for (const key of ['a', 'b']) {
    const got = await ts.leader.Get({ key });
    check(
      got.err === 'ErrNoKey',
      `${IN_FLIGHT_HEAL_AT - 200} ms after the quorum was lost, Get(${show(key)}) on the leader returns ${show(got)}; expected ErrNoKey: ` +
        `the write of ${key} never reached 3 followers, so the leader must not have applied it.`,
    );
  }
  await world.sleep(200);
  ts.cut(2, false);
  return undefined;
}

/** Fails unless a write of TestNoQuorumInFlight ended as its schedule says (`timeline` shows them all). */
function expectInFlightReply(r: InFlightWrite, timeline: string): void {
  const timeoutMs = DEFAULT_CONFIG.writeTimeoutMs;
  if (!r.ok) {
    check(
      r.reply.err === 'ErrNoQuorum' && r.reply.message.length > 0,
      `The write of ${r.key}, sent ${r.at} ms after 3 of 5 followers were cut off (W=3), returned ${show(r.reply, 300)}; expected ErrNoQuorum with a message, ` +
        `because only 2 followers could hold it until ${IN_FLIGHT_HEAL_AT} ms, after its ${timeoutMs} ms ran out. (${timeline})`,
    );
    check(
      r.waited >= timeoutMs && r.waited <= timeoutMs + 50,
      `The write of ${r.key} was refused ${r.waited.toFixed(1)} ms after it was sent; expected after its own writeTimeoutMs (${timeoutMs} ms), counted from ` +
        `when it arrived. Likely causes: one timer for all waiting writes, or a write's timeout that fails every write still waiting; a deadline counted from another write, or a timer that is re-armed by each new write. (${timeline})`,
    );
    check(
      r.reply.replicas === 2,
      `The write of ${r.key} was refused with replicas ${show(r.reply.replicas)}; expected 2, how many followers held it when its time ran out ` +
        `(followers 1 and 2 held it, the other 3 were cut off). Likely causes: the leader counted among the replicas; the count taken when the write arrived, not when it timed out. (${timeline})`,
    );
    check(
      /(?<![#\d])2(?!\d)/.test(r.reply.message),
      `The write of ${r.key} was refused with the message ${show(r.reply.message, 300)}; the message must say how many followers confirmed the write ` +
        `(2: followers 1 and 2 held it, the other 3 were cut off). (${timeline})`,
    );
  } else {
    expectOk(
      r.reply,
      `The write of ${r.key}, sent ${r.at} ms after the quorum was lost,`,
      `a third follower came back at ${IN_FLIGHT_HEAL_AT} ms, before its ${timeoutMs} ms ran out; an earlier write timing out must not fail the writes still ` +
        `waiting (each has its own deadline) nor stop the leader from committing later entries (${timeline})`,
    );
    const late = r.at + r.waited - IN_FLIGHT_HEAL_AT;
    check(
      late <= HEALED_ACK_MS,
      `The write of ${r.key}, sent ${r.at} ms after the quorum was lost, was acknowledged ${late.toFixed(1)} ms after a third follower came back ` +
        `(at ${IN_FLIGHT_HEAL_AT} ms); expected within ${HEALED_ACK_MS} ms: "wait \`config.retryMs\` and send again", so writes succeed again as soon ` +
        `as W followers are reachable. Likely causes: a back-off that grows after each failed call (the wait is always retryMs, ${retryPacing().retryMs} ms here); ` +
        `a re-send only at the next heartbeat or the next write; a wait of writeTimeoutMs or a fixed constant instead of config.retryMs. (${timeline})`,
    );
  }
}

/** The failed writes stayed in the log; committing c (#4) committed them too, in order. */
async function expectFailedWritesApplied(ts: Lab4Tester): Promise<void> {
  for (const key of ['a', 'b']) {
    const got = await ts.leader.Get({ key });
    check(
      got.err === 'OK' && got.value === `${key}-value`,
      `After the quorum returned and #4 committed, Get(${show(key)}) on the leader returns ${show(got)}; expected ${show(`${key}-value`)}: a write answered ErrNoQuorum ` +
        'stays in the log, and once a later entry commits, every entry before it is committed and applied too.',
    );
  }
}

/** TestNoQuorumInFlight's long outage at its end: the quorum is lost this long, drawn per seed (virtual ms). */
const LONG_OUTAGE_MS: readonly [number, number] = [20_000, 40_000];

/**
 * The quorum lost for LONG_OUTAGE_MS while a write waits (it times out, and its Replicate keeps failing to the cut-off
 * followers), then back: the next write must be acknowledged within HEALED_ACK_MS, as after a short outage.
 */
async function writeAfterLongOutage(ctx: Ctx, ts: Lab4Tester, retryMs: number): Promise<void> {
  const [lo, hi] = LONG_OUTAGE_MS;
  const outage = keyedRng(ctx.seed, 'TestNoQuorumInFlight/outage').between(lo, hi);
  for (const i of [2, 3, 4]) ts.cut(i, true);
  const lost = ts.clerk().set('during-outage', '1');
  await sleep(outage);
  check(
    (await lost).err === 'ErrNoQuorum',
    () => `A write sent when 3 of 5 followers were cut off (W=3) was not refused with ErrNoQuorum.`,
  );
  for (const i of [2, 3, 4]) ts.cut(i, false);
  const sent = performance.now();
  const reply = await ts.clerk().set('after-outage', '1');
  const waited = performance.now() - sent;
  ctx.log(`after a ${outage} ms outage, the next write took ${waited.toFixed(1)} ms`);
  expectOk(reply, 'A write sent at once after the followers came back', 'the quorum was back');
  // Every follower, not only the quorum's fastest, holds everything soon after it is back.
  let behind: string | undefined;
  if (waited <= HEALED_ACK_MS)
    try {
      await ts.waitConverged(HEALED_ACK_MS - waited);
    } catch (err) {
      if (!isTestFailure(err)) throw err;
      behind = err.message;
    }
  const late =
    behind === undefined
      ? `it was acknowledged only ${waited.toFixed(0)} ms later`
      : `it was acknowledged, but ${HEALED_ACK_MS} ms later not every follower held it (${behind})`;
  check(
    waited <= HEALED_ACK_MS && behind === undefined,
    () =>
      `Three of five followers (W=3) were cut off for ${(outage / 1000).toFixed(1)} virtual seconds while a write waited (it failed with ErrNoQuorum, and the leader kept sending it to them); ` +
      `the moment they came back, a new write was sent: ${late}. Expected every follower to hold it within ${HEALED_ACK_MS} ms: the handout's leader waits config.retryMs (${retryMs} ms here) before each re-send, however long the outage, so the followers hear from it at once. ` +
      'Likely causes: a wait between re-sends that grows after many failures (a back-off: the handout asks for retryMs every time); a follower given up on after a while and tried again only on a slow timer; re-sends to a follower stopped after many failures until a new write comes.',
  );
}

const noQuorumInFlight: TestDefinition<Lab4Impl> = {
  name: 'TestNoQuorumInFlight',
  description:
    'W=3 of 5 with 3 followers cut off: writes sent 0, 300, 700 and 1,000 ms later each time out on their own schedule; ' +
    `the quorum returns at 1,400 ms, so the first two fail and the last two succeed, within ${HEALED_ACK_MS} ms of its return; the failed ones are applied once committed; ` +
    `retryMs drawn per seed (${IN_FLIGHT_RETRY_MS[0]}-${IN_FLIGHT_RETRY_MS[1]} ms), and the leader's re-sends to the cut-off followers wait that long (the median at most ${RETRY_MEDIAN_SLACK_MS} ms more); ` +
    `last, the quorum lost for ${LONG_OUTAGE_MS[0] / 1000}-${LONG_OUTAGE_MS[1] / 1000} s (drawn) while a write waits: the first write after it returns is acknowledged within ${HEALED_ACK_MS} ms`,
  async run(ctx: Ctx) {
    const [lo, hi] = IN_FLIGHT_RETRY_MS;
    const retryMs = keyedRng(ctx.seed, 'TestNoQuorumInFlight/retryMs').between(lo, hi);
    const ts = new Lab4Tester(ctx, { followers: 5, quorum: 3, reliable: true, config: { retryMs } });
    expectOk(await ts.clerk().set('base', '0'), 'the first write');
    for (const i of [2, 3, 4]) ts.cut(i, true);
    const t0 = performance.now();
    const results = await writesWhileQuorumReturns(ctx, ts);
    const timeline = results
      .map((r) => `${r.key} sent at ${r.at} ms: ${r.reply.err} after ${r.waited.toFixed(1)} ms`)
      .join('; ');
    for (const r of results) expectInFlightReply(r, timeline);
    const seqs = results.flatMap((r) => (r.reply.err === 'OK' ? [r.reply.seq] : []));
    check(
      seqs.join() === '4,5',
      `The writes of c and d were acknowledged as #${seqs.join(' and #')}; expected #4 and #5 (base is #1, and the failed writes of a and b keep #2 and #3 in the log).`,
    );
    await expectFailedWritesApplied(ts);
    for (const i of [3, 4]) ts.cut(i, false);
    await ts.waitConverged(3000);
    await ts.checkReplicasMatchLog([]);
    ctx.log(`quorum lost at ${t0.toFixed(0)} ms: ${timeline}`);
    await writeAfterLongOutage(ctx, ts, retryMs);
    ts.stop();
  },
};

/** Keys that collide with Object.prototype's names, non-ASCII text, control characters and empty strings. */
const ODD_WRITES: ReadonlyArray<readonly [string, string]> = [
  ['__proto__', 'p1'],
  ['constructor', 'c'],
  ['hasOwnProperty', 'h'],
  ['toString', ''],
  ['valueOf', '0'],
  ['ключ/😀', 'значение 😀 é€ \u0000\u0001\u001f\uffff'],
  ['', 'the empty key'],
  ['tab\there "quoted" \\ back', '"\\\n'],
  ['__proto__', 'p2'],
  // One entry larger than any sensible byte bound on a batch: it must still go, alone.
  ['huge', 'h'.repeat(1_500_000)],
];
/** Names that are never written and must read as missing everywhere. */
const NEVER_WRITTEN = ['isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', 'toLocaleString'];

const oddKeys: TestDefinition<Lab4Impl> = {
  name: 'TestOddKeysAndValues',
  description:
    'keys such as __proto__, constructor and hasOwnProperty, non-ASCII and control characters, empty keys and values: ' +
    'stored, replicated and read back exactly on every node; never-written names read as ErrNoKey',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 3, quorum: 2, reliable: true });
    const nodes = (): Array<[string, Lab4Tester['leader']]> => [
      ['the leader', ts.leader],
      ...ts.followers.map((f, i): [string, Lab4Tester['leader']] => [`${followerName(i)}`, f]),
    ];
    const checkMissing = async (keys: readonly string[], when: string): Promise<void> => {
      for (const [who, node] of nodes()) {
        for (const key of keys) {
          const got = await node.Get({ key });
          ctx.countOps();
          check(
            got.err === 'ErrNoKey',
            `${when}, Get(${show(key)}) on ${who} returns ${show(got)}; expected ErrNoKey because ${show(key)} was never written. ` +
              'Likely cause: the data is a plain object, so names it inherits from Object.prototype look present; use a Map (or an object without a prototype).',
          );
        }
      }
    };
    await checkMissing([...new Set(ODD_WRITES.map(([k]) => k)), ...NEVER_WRITTEN], 'Before any write');
    const ck = ts.clerk();
    const want = new Map<string, string>();
    for (const [key, value] of ODD_WRITES) {
      const why =
        value.length > 100_000
          ? `every follower is reachable; this value is ${value.length} bytes, and a batch must carry at least one entry however large`
          : undefined;
      expectOk(await ck.set(key, value), `the write of ${show(key)}=${show(value)}`, why);
      want.set(key, value);
      const got = await ck.get(key);
      ctx.countOps(2);
      check(
        got.err === 'OK' && got.value === value,
        `After the write of ${show(key)}=${show(value)} was acknowledged, Get(${show(key)}) on the leader returns ${show(got)}; expected ${show(value)}. ` +
          'Likely causes: an empty value taken for a missing key (test whether the key is present, not whether its value is ' +
          'truthy); the data kept in a plain object; keys or values changed on the way.',
      );
    }
    await ts.waitConverged(1000);
    for (const [who, node] of nodes()) {
      for (const [key, value] of want) {
        const got = await node.Get({ key });
        ctx.countOps();
        check(
          got.err === 'OK' && got.value === value,
          `Get(${show(key)}) on ${who} returns ${show(got)}; expected ${show(value)} (the last write of that key). Keys and values are arbitrary strings: ` +
            'a key named like an Object.prototype property, an empty value, or non-ASCII text must be stored and replicated like any other.',
        );
      }
      const st = await node.Status({});
      const keys = Object.keys(st.data);
      check(
        st.dataCount === want.size &&
          keys.length === want.size &&
          [...want].every(([k, v]) => Object.hasOwn(st.data, k) && st.data[k] === v),
        `Status on ${who} reports dataCount ${st.dataCount} and data with keys ${show(keys, 300)}; expected ${want.size} keys, exactly ${show([...want.keys()], 300)}, each with its last value.`,
      );
    }
    await checkMissing(NEVER_WRITTEN, 'After the writes');
    await ts.checkReplicasMatchLog([]);
    ts.stop();
  },
};

/** TestUnevenLinks: follower 1's link is this slow (ms per message); the others have the original's 0.1-1 ms. */
const SLOW_LINK = { min: 20, max: 30 };
const UNEVEN_WRITES = 40;
/** A write acknowledged by the fast followers takes a few virtual ms at most; the slow link alone takes 20. */
const UNEVEN_MAX_LATENCY_MS = 10;

const unevenLinks: TestDefinition<Lab4Impl> = {
  name: 'TestUnevenLinks',
  description:
    `W=2 of 4, follower 1 behind a slow link (${SLOW_LINK.min}-${SLOW_LINK.max} ms a message): each write is acknowledged as soon as any 2 followers ` +
    `hold it (under ${UNEVEN_MAX_LATENCY_MS} virtual ms), and the slow follower still ends equal to the leader`,
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 4, quorum: 2, reliable: true, delays: [SLOW_LINK] });
    const ck = ts.clerk();
    const acks: Ack[] = [];
    for (let i = 0; i < UNEVEN_WRITES; i++) {
      const key = `u${i % 8}`;
      const value = `v${i}`;
      const t0 = performance.now();
      const reply = await ck.set(key, value);
      const took = performance.now() - t0;
      expectOk(reply, `write ${i} (${key}=${value})`);
      check(
        took <= UNEVEN_MAX_LATENCY_MS,
        `Write ${i} (${key}=${value}) took ${took.toFixed(1)} virtual ms; with W=2 and followers 2, 3 and 4 each ~1 ms away, it should be acknowledged ` +
          `in under ${UNEVEN_MAX_LATENCY_MS} ms. Only follower 1 is slow (${SLOW_LINK.min}-${SLOW_LINK.max} ms a message). Likely causes: the leader waits for ` +
          'particular followers (the first W, or follower 1) instead of any W; it replicates to followers one after another instead of each in its own loop; ' +
          'or a slow follower holds up the others.',
      );
      acks.push({ client: 0, seq: reply.seq, key, value, latencyMs: took });
      ctx.countOps();
    }
    await ts.waitConverged(2000);
    await ts.checkReplicasMatchLog(acks);
    ts.stop();
  },
};

/**
 * TestIdleAndStop: the heartbeatMs its cluster is configured with (not the default, so that a leader that ignores
 * config.heartbeatMs shows), how long the cluster idles, and the fewest and most Replicate calls a follower may get
 * meanwhile (heartbeats at most one and a half and at least half a heartbeatMs apart: a heartbeat follows an answer by
 * heartbeatMs and a round trip, so a ticker that skips every other tick, two heartbeatMs apart, is too slow).
 */
const IDLE_HEARTBEAT_MS = 120;
const IDLE_MS = 1440;
const IDLE_MAX_GAP_MS = 1.5 * IDLE_HEARTBEAT_MS;
const IDLE_MIN_CALLS_PER_FOLLOWER = IDLE_MS / IDLE_MAX_GAP_MS;
const IDLE_MAX_CALLS_PER_FOLLOWER = IDLE_MS / (IDLE_HEARTBEAT_MS / 2);
/** TestIdleAndStop: writes sent one at a time into an idle cluster, their spacing, and how soon each must be acknowledged (ms). */
const WAKE_WRITES = 10;
const WAKE_SPACING_MS = 30;
const WAKE_LIMIT_MS = 5;

/** TestIdleAndStop: the Replicate calls the leader sends while the cluster idles for IDLE_MS. */
async function idleCallsOf(ts: Lab4Tester): Promise<number> {
  const before = ts.replicateCalls;
  await World.current().sleep(IDLE_MS);
  return ts.replicateCalls - before;
}

/** TestIdleAndStop: fails unless `idleCalls` while idle (`when`) are heartbeats only, at the heartbeat rate. */
function checkIdleCalls(idleCalls: number, when: string): void {
  check(
    idleCalls <= 3 * IDLE_MAX_CALLS_PER_FOLLOWER,
    `The cluster was idle (${when}), yet the leader sent ${idleCalls} Replicate calls in ${IDLE_MS} virtual ms (at most ` +
      `${3 * IDLE_MAX_CALLS_PER_FOLLOWER} expected for 3 followers). With nothing to send, a follower's loop should wait for the next write ` +
      `(a promise that Set resolves) or for config.heartbeatMs (${IDLE_HEARTBEAT_MS} ms here, not the default), not send again at once or poll with a shorter timer ` +
      '(such as retryMs). Likely causes: a heartbeat period written into the code instead of read from config.heartbeatMs; a timer that ' +
      'is not cleared when a write wakes the loop; polling.',
  );
  check(
    idleCalls >= 3 * IDLE_MIN_CALLS_PER_FOLLOWER,
    `The cluster was idle (${when}) for ${IDLE_MS} virtual ms and the leader sent only ${idleCalls} Replicate calls to its 3 followers (at least ` +
      `${3 * IDLE_MIN_CALLS_PER_FOLLOWER} expected: an empty Replicate to each follower whose loop had nothing to send for heartbeatMs, ` +
      `${IDLE_HEARTBEAT_MS} ms, so one at most ${IDLE_MAX_GAP_MS} ms after the last, from the leader's start). Likely causes: no heartbeat; ` +
      'heartbeats only once the log holds a write (a new follower must hear from its leader too: the heartbeat is how the leader learns ' +
      'where each follower stands); a heartbeat timer longer than ' +
      'config.heartbeatMs; one heartbeat per idle period; a fixed ticker of heartbeatMs that sends only when the last answer is ' +
      'heartbeatMs old, which skips the tick after each answer (the answer came a round trip after the tick) and so sends every ' +
      'second tick: wait heartbeatMs from the last answer instead.',
  );
}

const idleAndStop: TestDefinition<Lab4Impl> = {
  name: 'TestIdleAndStop',
  description:
    `W=2 of 3, heartbeatMs ${IDLE_HEARTBEAT_MS}: with nothing to send for ${IDLE_MS} ms, before any write and again after 20, the leader sends each follower only heartbeats (one per ${IDLE_HEARTBEAT_MS / 2} to ${IDLE_MAX_GAP_MS} ms); ` +
    `writes sent ${WAKE_SPACING_MS} ms apart into the idle cluster are each acknowledged within ${WAKE_LIMIT_MS} ms; after _stop() it sends nothing more, ` +
    'even to a follower it was still retrying',
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, {
      followers: 3,
      quorum: 2,
      reliable: true,
      config: { heartbeatMs: IDLE_HEARTBEAT_MS },
    });
    const ck = ts.clerk();
    const world = World.current();
    // The cluster idles twice: new, before any write (a leader owes heartbeats from its start, not from its first
    // write), and again after 20 writes.
    // (The first window is judged after the writes, which a leader not written yet fails with a clearer message.)
    const idleCalls = [await idleCallsOf(ts), 0];
    for (let i = 0; i < 20; i++) {
      expectOk(await ck.set(`k${i % 5}`, `v${i}`), `write ${i}`);
      ctx.countOps();
    }
    await ts.waitConverged(1000);
    idleCalls[1] = await idleCallsOf(ts);
    checkIdleCalls(idleCalls[0], 'before any write');
    checkIdleCalls(idleCalls[1], 'after 20 writes, every follower holding the whole log');
    // Writes arrive one at a time while every loop waits for its heartbeat timer: each must go out at once.
    const slow: string[] = [];
    for (let i = 0; i < WAKE_WRITES; i++) {
      await world.sleep(WAKE_SPACING_MS);
      const sent = performance.now();
      expectOk(await ck.set('wake', `w${i}`), `write ${i} into the idle cluster`);
      const took = performance.now() - sent;
      if (took > WAKE_LIMIT_MS) slow.push(`write ${i}: ${took.toFixed(1)} ms`);
      ctx.countOps();
    }
    check(
      slow.length === 0,
      () =>
        `Writes sent ${WAKE_SPACING_MS} virtual ms apart into an idle cluster (links take about 1 ms) were acknowledged late (limit ${WAKE_LIMIT_MS} ms): ` +
        `${slow.join(', ')}. A write that arrives while a follower's loop waits for its heartbeat timer must wake the loop at once. Likely causes: ` +
        "the wake-up is lost (an old heartbeat timer, not cleared when a write woke the loop, later clears the next period's wake-up); the loop " +
        'only looks for new entries when its timer fires; the write waits for the next heartbeat; a short wait after waking, ' +
        'to gather more writes into one call (batches come from writes that pile up while a call is in flight, not from waiting).',
    );
    // Follower 3 becomes unreachable and misses a write, so the leader keeps retrying it until stopped.
    ts.cut(2, true);
    expectOk(await ck.set('last', 'x'), 'the write of last=x', 'followers 1 and 2 are reachable and W=2');
    await world.sleep(50);
    ts.leader._stop();
    for (const f of ts.followers) f._stop();
    const before = ts.replicateCalls;
    await world.sleep(500);
    const afterStop = ts.replicateCalls - before;
    check(
      afterStop === 0,
      `After leader._stop() the leader still sent ${afterStop} Replicate calls in 500 virtual ms (follower 3 was unreachable and behind). ` +
        "_stop() must end every follower's loop, including one waiting to retry, and clear the timers.",
    );
    ctx.log(
      `${idleCalls.join(' and ')} Replicate calls while idle for ${IDLE_MS} ms, new and after the writes; none after _stop()`,
    );
  },
};

/** TestRestartWhileIdle: writes made before the cluster goes idle, and how soon the restarted follower must hold them all. */
const IDLE_RESTART_WRITES = 30;
const IDLE_RESTART_LIMIT_MS = 2 * DEFAULT_CONFIG.heartbeatMs;

const restartWhileIdle: TestDefinition<Lab4Impl> = {
  name: 'TestRestartWhileIdle',
  description:
    `W=2 of 3: after ${IDLE_RESTART_WRITES} writes the cluster goes idle, follower 1 restarts empty, and no one writes again: ` +
    `within ${IDLE_RESTART_LIMIT_MS} virtual ms (heartbeatMs is ${DEFAULT_CONFIG.heartbeatMs}) the leader must have sent it the whole log`,
  async run(ctx: Ctx) {
    const ts = new Lab4Tester(ctx, { followers: 3, quorum: 2, reliable: true });
    const ck = ts.clerk();
    const acks: Ack[] = [];
    for (let i = 0; i < IDLE_RESTART_WRITES; i++) {
      const key = `i${i % 10}`;
      const value = `v${i}`;
      const reply = await ck.set(key, value);
      expectOk(reply, `write ${i} (${key}=${value})`);
      acks.push({ client: 0, seq: reply.seq, key, value, latencyMs: 0 });
      ctx.countOps();
    }
    await ts.waitConverged(1000);
    const world = World.current();
    await world.sleep(5 * DEFAULT_CONFIG.heartbeatMs); // idle: every loop is waiting for the next write
    ts.restartFollower(0);
    const restartedAt = performance.now();
    for (;;) {
      const st = await ts.followers[0].Status({ noData: true });
      if (st.lastSeq === IDLE_RESTART_WRITES) break;
      const waited = performance.now() - restartedAt;
      if (waited > IDLE_RESTART_LIMIT_MS) {
        throw new TestFailure(
          `Follower 1 restarted empty while the cluster was idle, and ${waited.toFixed(0)} virtual ms later it holds up to #${st.lastSeq} of the leader's ` +
            `${IDLE_RESTART_WRITES} entries; expected all of them within ${IDLE_RESTART_LIMIT_MS} ms. No one writes again, so the leader must notice by itself: ` +
            `when a follower's loop has had nothing to send for config.heartbeatMs (${DEFAULT_CONFIG.heartbeatMs} ms), send it an empty Replicate and act on the ` +
            "answer's lastSeq. Likely causes: the idle loop waits only for the next write; no heartbeat is sent; or an OK whose lastSeq is lower than the " +
            "follower's known seq is ignored (the leader keeps the highest seq it ever saw, so it thinks there is nothing to send).",
        );
      }
      await world.sleep(5);
    }
    const leader = await ts.leader.Status({ noData: true });
    check(
      leader.lastSeq === IDLE_RESTART_WRITES,
      `The leader's log grew to #${leader.lastSeq} though no one wrote after #${IDLE_RESTART_WRITES}; a heartbeat must not add entries.`,
    );
    ctx.log(
      `follower 1 held all ${IDLE_RESTART_WRITES} entries ${(performance.now() - restartedAt).toFixed(1)} virtual ms after it restarted empty`,
    );
    await ts.checkReplicasMatchLog(acks);
    ts.stop();
  },
};

/** Writes per W in the latency sweep. */
const LATENCY_CLIENTS = 20;
const LATENCY_WRITES = 100;

const quorumLatency: TestDefinition<Lab4Impl> = {
  name: 'TestQuorumLatency',
  description:
    "mean write latency (virtual) does not decrease as W goes 1..5, with the original's 0.1-1 ms per message",
  async run(ctx: Ctx) {
    const means: number[] = [];
    for (let quorum = 1; quorum <= 5; quorum++) {
      const ts = new Lab4Tester(ctx, { followers: 5, quorum, reliable: true });
      const acks = await writeLoad(ts, ctx, LATENCY_CLIENTS, LATENCY_WRITES, ORIGINAL_KEYS);
      means.push(acks.reduce((s, a) => s + a.latencyMs, 0) / acks.length);
      ts.stop();
    }
    const table = means.map((m, i) => `W=${i + 1}: ${m.toFixed(3)} ms`).join(', ');
    ctx.log(`mean write latency: ${table}`);
    for (let w = 1; w < 5; w++) {
      check(
        means[w] >= means[w - 1] * 0.97,
        `Mean write latency fell from ${means[w - 1].toFixed(3)} ms at W=${w} to ${means[w].toFixed(3)} ms at W=${w + 1} (${table}). ` +
          'Waiting for more followers can only take longer: are you waiting for exactly W acknowledgements?',
      );
    }
    check(
      means[4] >= means[0] * 1.2,
      `Mean write latency barely changes from W=1 (${means[0].toFixed(3)} ms) to W=5 (${means[4].toFixed(3)} ms) (${table}). ` +
        'With W=1 the leader should answer as soon as the fastest follower holds the write, not wait for the others.',
    );
  },
};

/** Lab 4's suite: the grader loads it with the student's files or the solution's. */
/**
 * What the runner's monitors hold every simulated test to (suite/monitors): the timers live at its end; the
 * handout's "wait `config.retryMs` and send again" after a Replicate call that was lost or answered ErrNotFollower or
 * ErrForbidden; and its heartbeat pacing: the same Replicate (a heartbeat) sent again to a follower that answered it
 * no sooner than half of heartbeatMs later (TestIdleAndStop's bound, 25 ms).
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 2,
    perCall: 1,
    causes:
      "a write's setTimeout(writeTimeoutMs) not cleared when the write commits; an idle loop's heartbeat timer not " +
      'cleared when a write wakes the loop',
  },
  pacing: [
    {
      rule: 'wait `config.retryMs` and send again',
      methods: [`${SERVICE}.Replicate`],
      refusals: ['ErrNotFollower', 'ErrForbidden'],
      after: 'each',
      // The running cluster's retryMs (TestNoQuorumInFlight draws its own), read when the run is judged.
      get minWaitMs(): number {
        return retryPacing().retryMs;
      },
      // Where the test chose retryMs, the median wait may not be much longer: a constant of the leader's is seen.
      get maxMedianWaitMs(): number | undefined {
        const { retryMs, chosen } = retryPacing();
        return chosen ? retryMs + RETRY_MEDIAN_SLACK_MS : undefined;
      },
      samples: 8, // a cut-off follower's calls each fail after up to 100 ms: about ten re-sends in TestNoQuorumInFlight
      causes:
        `the leader sends the same Replicate again at once (or sooner than config.retryMs, ${DEFAULT_CONFIG.retryMs} ms ` +
        'unless the test set another) after a TimeoutError, an ErrNotFollower or an ErrForbidden: no wait on that ' +
        'path, a wait whose promise is not awaited, a retry that goes back to the top of the loop before sleeping, or a ' +
        'wait written into the code instead of config.retryMs',
      slowCauses:
        'the leader waits longer than config.retryMs before sending a failed Replicate again: a wait written into the ' +
        'code instead of config.retryMs, a back-off that grows after each failure, or a re-send only at the next heartbeat',
    },
    {
      rule: "when a follower's loop has had nothing to send for `config.heartbeatMs`",
      methods: [`${SERVICE}.Replicate`],
      only: {
        what: 'empty Replicate call (a heartbeat)',
        args: (args) => (args as Partial<ReplicateArgs> | null)?.entries?.length === 0,
      },
      after: 'answer',
      minWaitMs: DEFAULT_CONFIG.heartbeatMs / 2,
      causes:
        "with nothing to send, a follower's loop sends the same Replicate again at once, or polls with a shorter timer " +
        `(such as retryMs) instead of waiting for the next write or heartbeatMs (${DEFAULT_CONFIG.heartbeatMs} ms); a ` +
        'heartbeat timer shorter than config.heartbeatMs',
    },
  ],
};

export const suite: LabSuite<Lab4Impl> = {
  lab: 'lab4',
  title: 'Lab 4: single-leader replication with a write quorum',
  implFiles: IMPL_FILES,
  load,
  tests: monitored(MONITORS, [
    scored(leaderAccepts, { points: 4, part: 2 }),
    scored(followerRefuses, { points: 4, part: 1 }),
    scored(appliesInOrder, { points: 4, part: 2 }),
    scored(forgedReplicate, { points: 4, part: 2 }),
    scored(ackAfterQuorum, { points: 6, part: 2 }),
    scored(followerReads, { points: 4, part: 2 }),
    scored(noQuorum, { points: 5, part: 2 }),
    scored(seedLoad('TestOriginalLoadReliable', true), { points: 3, part: 2 }),
    scored(seedLoad('TestOriginalLoadUnreliable', false), { points: 6, part: 2 }),
    scored(catchUp, { points: 5, part: 2 }),
    scored(restartEmpty, { points: 4, part: 2 }),
    scored(restartForgetsLost, { points: 4, part: 2 }),
    scored(noQuorumInFlight, { points: 6, part: 2 }),
    scored(oddKeys, { points: 3, part: 2 }),
    scored(unevenLinks, { points: 4, part: 2 }),
    scored(idleAndStop, { points: 4, part: 2 }),
    scored(restartWhileIdle, { points: 4, part: 2 }),
    scored(quorumLatency, { points: 3, part: 2 }),
    scored(nemesisReplication, { points: 6, part: 2 }),
    scored(nemesisQuorum, { points: 5, part: 2 }),
    scored(modelReplication, { points: 3, part: 2, timeoutSec: 60 }),
    scored(realHttpTest, { points: 3, part: 2, timeoutSec: 60 }),
    scored(realHttpCatchUpTest, { points: 4, part: 2, timeoutSec: 60 }),
    scored(realHttpLateStartTest, { points: 2, part: 2, timeoutSec: 60 }),
  ]),
};
