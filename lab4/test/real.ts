/**
 * Lab 4's real-time named tests: the student's KVNode, unchanged, as real HTTP servers on loopback, each in a
 * process of its own (node-process.ts; this process never loads the code): the original's load and consistency
 * check, and a follower restarted empty that must catch up on large values through HTTP's body limit.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { DEFAULT_CONFIG, SERVICE, type NodeConfig, type SetArgs, type SetReply } from '../rpc';
import { HttpEnd } from '../../labrpc/http';
import { TestContext, TestFailure, check, type TestDefinition } from '../../suite';
import { checkConsistency, requestJson, runLoad } from '../tools/lib';
import { freePort } from '../../suite/ports';
import { realSleep } from '../../world';
import type { Lab4Impl } from './harness';
import * as path from 'node:path';
import { ServerProcesses, type ServerProcess } from '../../suite/server-process';
import { isolatedLoader } from '../../suite/loader';
import { NODE_READY_PREFIX, type NodeProcessSettings } from './node-process';
import { readBack, Written } from './read-back';

/** The real cluster's size and load: small enough to take about a second. */
const FOLLOWERS = 3;
const QUORUM = 2;
const WRITES = 600;
const CONCURRENCY = 10;

/** Generous timeouts: this runs on a shared machine, and a slow moment must not fail a correct node. */
const REAL_CONFIG = { ...DEFAULT_CONFIG, writeTimeoutMs: 10_000, retryMs: 100, token: randomBytes(16).toString('hex') };

const NODE_CAUSES =
  'Likely causes: your KVNode (its constructor, a timer or a promise it started) threw an exception it did not catch; ' +
  'it used more memory than the process may have; or it called process.exit.';

/** A test's nodes, each a process of its own (node-process.ts) running the code in `dir`. */
class NodeProcesses extends ServerProcesses {
  private readonly dir: string;

  constructor(dir: string) {
    super();
    this.dir = dir;
  }

  /** Starts a node with `settings`. */
  node(settings: NodeProcessSettings): Promise<ServerProcess> {
    return this.start({
      script: path.join(__dirname, 'node-process.ts'),
      args: [this.dir, isolatedLoader() ? 'compartment' : 'node', JSON.stringify(settings)],
      readyPrefix: NODE_READY_PREFIX,
      what: `your lab 4 node ${settings.config.id}`,
      causes: NODE_CAUSES,
    });
  }
}

/**
 * Like `Promise.all`, but waits for every start to end and, when several fail, rejects with the first in order: the
 * message names the same node on every run, whichever process happened to fail first.
 */
async function allInOrder<T>(starts: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const ends = await Promise.allSettled(starts);
  const failed = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
  if (failed) throw failed.reason;
  return ends.map((end) => (end as PromiseFulfilledResult<T>).value);
}

/** A follower over HTTP on `port` (0: any free port), started empty in a process of its own. */
function startFollower(nodes: NodeProcesses, id: string, port = 0): Promise<ServerProcess> {
  return nodes.node({
    config: { ...REAL_CONFIG, id, role: 'follower' },
    followers: [],
    minDelayMs: 0,
    maxDelayMs: 0,
    port,
  });
}

/** The leader over HTTP, with the original's delay on its calls to the followers. */
function startLeader(
  nodes: NodeProcesses,
  followers: readonly string[],
  quorum: number,
  config: Partial<NodeConfig> = {},
): Promise<ServerProcess> {
  return nodes.node({
    config: { ...REAL_CONFIG, ...config, id: 'leader', role: 'leader', quorum },
    followers: [...followers],
    minDelayMs: 0.1,
    maxDelayMs: 1,
    rpcTimeoutMs: 5000,
    port: 0,
  });
}

export const realHttpTest: TestDefinition<Lab4Impl> = {
  name: 'TestRealHttp',
  description: `your node over real HTTP: 1 leader + ${FOLLOWERS} followers (W=${QUORUM}) on loopback, ${WRITES} writes, then every replica equals the leader`,
  realTime: true,
  codeElsewhere: true,
  async run(ctx: TestContext<Lab4Impl>) {
    const nodes = new NodeProcesses(ctx.impl.dir);
    const written = new Written();
    try {
      const followers = await allInOrder(
        Array.from({ length: FOLLOWERS }, (_, i) => startFollower(nodes, `follower-${i + 1}`)),
      );
      const leader = await startLeader(
        nodes,
        followers.map((f) => f.url),
        QUORUM,
      );
      const load = await nodes.guard(
        runLoad({
          url: leader.url,
          writes: WRITES,
          concurrency: CONCURRENCY,
          keys: 50,
          maxFailures: 10,
          requestTimeoutMs: 15_000,
          // Each write is counted as it ends, and kept in the transcript a failing run's trace page draws.
          observe: (writer, write) => {
            written.add(write.key, write.value);
            const id = ctx.transcript?.command(`load writer ${writer + 1}`, 'leader', 'POST /set', write);
            return (outcome) => {
              ctx.countOps();
              if (id !== undefined) ctx.transcript?.replied(id, outcome);
            };
          },
        }),
      );
      ctx.log(
        `${load.ok} writes in ${load.seconds.toFixed(2)} s (${load.throughput.toFixed(0)}/s), p95 ${load.latency.p95.toFixed(1)} ms`,
      );
      check(
        load.failed === 0,
        () =>
          `${load.failed} of ${load.ok + load.failed} writes over HTTP failed (the test stops after 10); the first: ${load.errors[0]}`,
      );
      const report = await nodes.guard(checkConsistency(leader.url, 5000));
      if (!report.consistent)
        throw new TestFailure(`After ${WRITES} writes over real HTTP the replicas differ:\n${report.lines.join('\n')}`);
      const everyNode = [leader, ...followers].map((n, i) => ({
        name: i ? `follower ${i}` : 'the leader',
        url: n.url,
      }));
      await nodes.guard(readBack(everyNode, written, `After ${WRITES} writes over real HTTP and the replicas settled`));
    } finally {
      await nodes.closeAll();
    }
  },
};

/** Small writes both followers get before one of them stops. */
const CATCHUP_SMALL = 20;
/**
 * Large writes made while that follower is down: fewer than maxBatch, and together 11 MB as JSON, a third over HTTP's
 * 8 MiB body limit (so a batch bounded by raw bytes at 2 MiB or more, or by entries alone, is refused).
 */
const CATCHUP_LARGE = 130;
/**
 * One large value: about 20 kB of UTF-8 (ASCII, 2-, 3- and 4-byte characters, and mostly characters JSON escapes:
 * control characters become 6 bytes, a quote or backslash 2), 86 kB as JSON, so a batch bounded by its raw bytes
 * alone may be 4.4 times larger on the wire (a raw bound of half the body limit is far over it).
 */
const LARGE_UNIT = `${'\u0001'.repeat(30)}kv-é€😀\u001f"\\ `;
const LARGE_REPEAT = 425;
/** How long the restarted follower gets to catch up (a correct node needs well under a second). */
const CATCHUP_SETTLE_MS = 8000;

/** Sends one write over HTTP; fails the test unless it is acknowledged (within `timeoutMs` of real time). */
async function setOver(
  agent: http.Agent,
  leaderUrl: string,
  key: string,
  value: string,
  why: string,
  timeoutMs = 15_000,
): Promise<void> {
  const { status, body } = await requestJson(agent, `${leaderUrl}/set`, 'POST', { key, value }, timeoutMs);
  check(
    status === 200 && body.success === true,
    () =>
      `POST /set of ${JSON.stringify(key)} (${Buffer.byteLength(value)} bytes) answered HTTP ${status} ${JSON.stringify(body).slice(0, 200)}; expected 200 because ${why}.`,
  );
}

export const realHttpCatchUpTest: TestDefinition<Lab4Impl> = {
  name: 'TestRealHttpCatchUp',
  description:
    `over real HTTP, follower 2 of 2 (W=1) stops, ${CATCHUP_LARGE} writes of ~20 kB (86 kB as JSON: mostly control characters, quotes; over HTTP's 8 MiB body limit together) are made, ` +
    'and it restarts empty on the same address: it must catch up to the leader',
  realTime: true,
  codeElsewhere: true,
  async run(ctx: TestContext<Lab4Impl>) {
    const nodes = new NodeProcesses(ctx.impl.dir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const written = new Written();
    try {
      const followers = await allInOrder([startFollower(nodes, 'follower-1'), startFollower(nodes, 'follower-2')]);
      const leader = await startLeader(
        nodes,
        followers.map((f) => f.url),
        1,
      );
      // The leader's labrpc-over-HTTP end (its /set refuses bodies over 64 KiB, and these values are 86 kB as JSON).
      const toLeader = new HttpEnd(leader.url, { agent, timeoutMs: 15_000 });
      for (let i = 0; i < CATCHUP_SMALL; i++) {
        written.add(`small_${i}`, `v${i}`);
        await nodes.guard(setOver(agent, leader.url, `small_${i}`, `v${i}`, 'both followers are up'));
      }
      const port = followers[1].port;
      await followers[1].close();
      const big = LARGE_UNIT.repeat(LARGE_REPEAT);
      let next = 0;
      const writer = async (): Promise<void> => {
        while (next < CATCHUP_LARGE) {
          const i = next++;
          // Through the leader's RPC route: /set takes bodies up to 64 KiB, and the test is about replication.
          const args: SetArgs = { key: `big_${i % 60}`, value: `${i}:${big}` };
          written.add(args.key, args.value);
          const reply = await toLeader.call<SetReply>(`${SERVICE}.Set`, args);
          check(
            reply.err === 'OK',
            () =>
              `The write of big_${i % 60} (about 20 kB) returned ${JSON.stringify(reply).slice(0, 300)}; expected OK because follower 1 is up and W=1.`,
          );
          ctx.countOps();
        }
      };
      await nodes.guard(Promise.all([writer(), writer(), writer(), writer()]));
      const t0 = performance.now();
      const restarted = await startFollower(nodes, 'follower-2 (restarted)', port);
      const report = await nodes.guard(checkConsistency(leader.url, CATCHUP_SETTLE_MS));
      if (!report.consistent) {
        throw new TestFailure(
          `Follower 2 was stopped after ${CATCHUP_SMALL} small writes, ${CATCHUP_LARGE} writes of about 20 kB each (86 kB as JSON) were made (W=1, acknowledged by follower 1), ` +
            `and follower 2 restarted with empty state on the same address. ${(CATCHUP_SETTLE_MS / 1000).toFixed(0)} s later the replicas still differ:\n${report.lines.join('\n')}\n` +
            'Expected follower 2 to hold the whole log. Likely causes: a catch-up call carries more than the HTTP body limit (8 MiB) allows, so every try is refused ' +
            "with 413 and retried unchanged (bound a batch by bytes too, not only by maxBatch entries, and leave room for JSON's escapes); the leader ignores ErrGap's lastSeq and resends from where it " +
            'believed the follower was, instead of from lastSeq + 1; the leader ignores a lower lastSeq in an answer (to a heartbeat or a write): it keeps ' +
            'the highest seq it had recorded for follower 2, so it believes the restarted follower already holds everything and sends it nothing; ' +
            'or the leader stopped sending to a follower after calls to it failed.',
        );
      }
      const everyNode = [
        { name: 'the leader', url: leader.url },
        { name: 'follower 1', url: followers[0].url },
        { name: 'follower 2 (restarted empty)', url: restarted.url },
      ];
      await nodes.guard(readBack(everyNode, written, 'After follower 2 restarted empty and the replicas settled'));
      ctx.log(
        `follower 2 restarted empty and caught up ${CATCHUP_SMALL + CATCHUP_LARGE} entries in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      );
    } finally {
      agent.destroy();
      await nodes.closeAll();
    }
  },
};

/** Writes sent while no follower listens yet, and how long the followers stay away. */
const LATE_WRITES = 40;
const LATE_START_MS = 600;
/**
 * The late-start test's write timeout: the followers listen 600 ms after the writes plus the time their processes
 * take to start, which a loaded machine can stretch to several seconds.
 */
const LATE_WRITE_TIMEOUT_MS = 20_000;

export const realHttpLateStartTest: TestDefinition<Lab4Impl> = {
  name: 'TestRealHttpLateStart',
  description: `over real HTTP, the leader starts first and takes ${LATE_WRITES} writes (W=${QUORUM}) while its ${FOLLOWERS} followers are not yet listening (every call refused); they start ${LATE_START_MS} ms later: every write is acknowledged and every replica equals the leader`,
  realTime: true,
  codeElsewhere: true,
  async run(ctx: TestContext<Lab4Impl>) {
    const nodes = new NodeProcesses(ctx.impl.dir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const ports = await Promise.all(Array.from({ length: FOLLOWERS }, () => freePort()));
      const leader = await startLeader(
        nodes,
        ports.map((port) => `http://127.0.0.1:${port}`),
        QUORUM,
        { writeTimeoutMs: LATE_WRITE_TIMEOUT_MS },
      );
      // The writes start at once: their first Replicate calls find nothing listening and are refused.
      const written = new Written();
      for (let i = 0; i < LATE_WRITES; i++) written.add(`late_${i % 10}`, `v${i}`);
      const writes = Array.from({ length: LATE_WRITES }, (_, i) =>
        setOver(
          agent,
          leader.url,
          `late_${i % 10}`,
          `v${i}`,
          `the followers started ${LATE_START_MS} ms after the write was sent, well within writeTimeoutMs (${LATE_WRITE_TIMEOUT_MS} ms). Likely causes: a Replicate call refused because its follower was not listening yet is not sent again, or the leader stops calling a follower after a failed call`,
          LATE_WRITE_TIMEOUT_MS + 5000, // the leader's ErrNoQuorum answer comes first
        ).then(() => ctx.countOps()),
      );
      // Handled from now on: a write that fails while the followers start is this test's failure, not an unhandled one.
      const acknowledged = Promise.all(writes);
      acknowledged.catch(() => undefined);
      await realSleep(LATE_START_MS);
      const followers = await allInOrder(ports.map((port, i) => startFollower(nodes, `follower-${i + 1}`, port)));
      const t0 = performance.now();
      await nodes.guard(acknowledged);
      ctx.log(
        `all ${LATE_WRITES} writes acknowledged ${((performance.now() - t0) / 1000).toFixed(2)} s after the followers started`,
      );
      const report = await nodes.guard(checkConsistency(leader.url, 5000));
      if (!report.consistent)
        throw new TestFailure(
          `The followers started ${LATE_START_MS} ms after the leader, which had taken ${LATE_WRITES} writes meanwhile; 5 s later the replicas still differ:\n${report.lines.join('\n')}\n` +
            'Expected every follower to hold the whole log. Likely causes: a Replicate or heartbeat call that failed (connection refused) is not sent again; ' +
            'the leader stops calling a follower after its first failures; a follower that starts empty is not caught up from its lastSeq.',
        );
      const everyNode = [leader, ...followers].map((n, i) => ({
        name: i ? `follower ${i}` : 'the leader',
        url: n.url,
      }));
      await nodes.guard(readBack(everyNode, written, `After the followers started late and the replicas settled`));
    } finally {
      agent.destroy();
      await nodes.closeAll();
    }
  },
};
