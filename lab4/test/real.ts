/**
 * Lab 4's real-time named test: the student's KVNode, unchanged, as real HTTP servers on loopback (in this
 * process, on free ports), under a small version of the seed's load, then the seed's consistency check.
 */
import { DEFAULT_CONFIG } from '../rpc';
import { RealNode } from '../real/node-host';
import { TestContext, TestFailure, check, type NamedTest } from '../../tester/suite';
import { checkConsistency, runLoad } from '../tools/lib';
import type { Lab4Impl } from './harness';

/** The real cluster's size and load: small enough to take about a second. */
const FOLLOWERS = 3;
const QUORUM = 2;
const WRITES = 600;
const CONCURRENCY = 10;

export const realHttpTest: NamedTest<Lab4Impl> = {
  name: 'TestRealHttp',
  description: `your node over real HTTP: 1 leader + ${FOLLOWERS} followers (W=${QUORUM}) on loopback, ${WRITES} writes, then every replica equals the leader`,
  realTime: true,
  async run(ctx: TestContext<Lab4Impl>) {
    const nodes: RealNode[] = [];
    // Generous timeouts: this runs on a shared machine, and a slow moment must not fail a correct node.
    const config = { ...DEFAULT_CONFIG, writeTimeoutMs: 10_000 };
    try {
      for (let i = 0; i < FOLLOWERS; i++) {
        const f = new RealNode({ KVNode: ctx.impl.KVNode, config: { ...config, id: `follower-${i + 1}`, role: 'follower' }, followers: [], minDelayMs: 0, maxDelayMs: 0 });
        nodes.push(f);
        await f.listen(0);
      }
      const leader = new RealNode({
        KVNode: ctx.impl.KVNode,
        config: { ...config, id: 'leader', role: 'leader', quorum: QUORUM },
        followers: nodes.map((n) => n.url),
        minDelayMs: 0.1,
        maxDelayMs: 1,
        rpcTimeoutMs: 5000,
      });
      nodes.push(leader);
      await leader.listen(0);
      const load = await runLoad({ url: leader.url, writes: WRITES, concurrency: CONCURRENCY, keys: 50, maxFailures: 10, requestTimeoutMs: 15_000 });
      ctx.countOps(load.ok + load.failed);
      ctx.log(`${load.ok} writes in ${load.seconds.toFixed(2)} s (${load.throughput.toFixed(0)}/s), p95 ${load.latency.p95.toFixed(1)} ms`);
      check(load.failed === 0, () => `${load.failed} of ${load.ok + load.failed} writes over HTTP failed (the test stops after 10); the first: ${load.errors[0]}`);
      const report = await checkConsistency(leader.url, 5000);
      if (!report.consistent) throw new TestFailure(`After ${WRITES} writes over real HTTP the replicas differ:\n${report.lines.join('\n')}`);
    } finally {
      await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    }
  },
};
