/**
 * Integration: the real lab 4 cluster as separate processes on free ports (the reference solution), a reduced
 * version of the original's load, the consistency check, bad input over HTTP, and replication forged by a client. Every process is stopped in
 * `after`, even when a test fails.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import { Cluster, checkConsistency, requestJson, runLoad, startCluster, stopProcess } from '../../../lab4/tools/lib';

describe('lab4 real cluster (processes on loopback)', function () {
  this.timeout(60_000);
  let cluster: Cluster | undefined;
  const agent = new http.Agent({ keepAlive: true });

  before(async () => {
    cluster = await startCluster({
      followers: 3,
      quorum: 2,
      port: 0,
      host: '127.0.0.1',
      minDelayMs: 0.1,
      maxDelayMs: 1,
      writeTimeoutMs: 3000,
      implDir: 'solutions/lab4',
    });
  });

  after(async () => {
    agent.destroy();
    const c = cluster;
    cluster = undefined;
    if (c) {
      await c.stop();
      for (const n of [c.leader, ...c.followers])
        expect(n.child.exitCode !== null || n.child.signalCode !== null, `${n.id} still running`).to.equal(true);
    }
  });

  it('takes 1,000 writes (20 at a time, 100 keys) and every replica then equals the leader', async () => {
    const load = await runLoad({ url: cluster!.leader.url, writes: 1000, concurrency: 20, keys: 100 });
    expect(load.failed, load.errors.join('; ')).to.equal(0);
    const report = await checkConsistency(cluster!.leader.url);
    expect(report.consistent, report.lines.join('\n')).to.equal(true);
  });

  it("serves the original's API: /set, /get/<key> on leader and followers, /status", async () => {
    const { leader, followers } = cluster!;
    const set = await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'dir/with slash', value: 'v1' });
    expect(set.status).to.equal(200);
    expect(set.body).to.include({ success: true, key: 'dir/with slash', value: 'v1' });
    expect(set.body.replicas).to.be.at.least(2);
    expect(
      (await requestJson(agent, `${leader.url}/get/${encodeURIComponent('dir/with slash')}`, 'GET')).body,
    ).to.include({ success: true, value: 'v1' });
    expect((await requestJson(agent, `${leader.url}/get/dir/with%20slash`, 'GET')).body).to.include({ value: 'v1' });
    expect((await requestJson(agent, `${leader.url}/get/never-written`, 'GET')).status).to.equal(404);
    await checkConsistency(leader.url);
    for (const f of followers)
      expect((await requestJson(agent, `${f.url}/get/dir%2Fwith%20slash`, 'GET')).body).to.include({ value: 'v1' });
    const st = await requestJson(agent, `${leader.url}/status`, 'GET');
    expect(st.body).to.include({ node_type: 'leader' });
    expect(st.body.followers).to.deep.equal(followers.map((f) => f.url));
  });

  it('answers bad input with a 4xx JSON error and stays up', async () => {
    const { leader, followers } = cluster!;
    const cases: Array<[string, string, 'GET' | 'POST', unknown, number]> = [
      ['malformed JSON', `${leader.url}/set`, 'POST', '{"key": "a", ', 400],
      ['not an object', `${leader.url}/set`, 'POST', '[1, 2]', 400],
      ['missing value', `${leader.url}/set`, 'POST', { key: 'a' }, 400],
      ['missing key', `${leader.url}/set`, 'POST', { value: 'a' }, 400],
      ['number value', `${leader.url}/set`, 'POST', { key: 'a', value: 5 }, 400],
      ['empty key', `${leader.url}/set`, 'POST', { key: '', value: 'x' }, 400],
      ['oversized body', `${leader.url}/set`, 'POST', { key: 'big', value: 'x'.repeat(100_000) }, 413],
      ['write sent to a follower', `${followers[0].url}/set`, 'POST', { key: 'a', value: 'b' }, 403],
      ['replicate sent to the leader', `${leader.url}/replicate`, 'POST', { entries: [] }, 403],
      ['replicate with bad entries', `${followers[0].url}/replicate`, 'POST', { entries: [{ seq: 'one' }] }, 400],
      ['wrong method', `${leader.url}/set`, 'GET', undefined, 405],
      ['unknown path', `${leader.url}/nope`, 'GET', undefined, 404],
      ['rpc with bad arguments', `${followers[0].url}/rpc/KVNode.Replicate`, 'POST', { entries: 'lots' }, 400],
      ['rpc to an unknown method', `${leader.url}/rpc/KVNode.Drop`, 'POST', {}, 404],
    ];
    for (const [what, url, method, body, status] of cases) {
      const r = await requestJson(agent, url, method, body);
      expect(r.status, what).to.equal(status);
      expect(r.body.success, what).to.equal(false);
      expect(r.body.error, what).to.be.a('string').and.not.equal('');
    }
    const ok = await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'after', value: 'still up' });
    expect(ok.status).to.equal(200);
    const report = await checkConsistency(leader.url);
    expect(report.consistent, report.lines.join('\n')).to.equal(true);
  });

  it('refuses replication from anyone but the leader (POST /replicate and the RPC route), changing nothing on the follower', async () => {
    const { leader, followers } = cluster!;
    const target = followers[0];
    const before = (await requestJson(agent, `${target.url}/status`, 'GET')).body;
    const next = (before.last_seq as number) + 1;
    const forged = [{ seq: next, key: 'after', value: 'forged' }];
    for (const [what, body] of [
      ['no token', { entries: forged }],
      ['a guessed token', { entries: forged, token: 'guess' }],
    ] as const) {
      const r = await requestJson(agent, `${target.url}/replicate`, 'POST', body);
      expect(r.status, what).to.equal(403);
      expect(r.body.error, what).to.match(/only from its leader/);
    }
    const rpc = await requestJson(agent, `${target.url}/rpc/KVNode.Replicate`, 'POST', {
      entries: forged,
      token: 'guess',
    });
    expect(JSON.stringify(rpc.body), 'the RPC route').to.contain('ErrForbidden');
    const after = (await requestJson(agent, `${target.url}/status`, 'GET')).body;
    expect(after.last_seq).to.equal(before.last_seq);
    expect(after.data).to.deep.equal(before.data);
    expect(
      (await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'after', value: 'from the leader' })).status,
    ).to.equal(200);
    const report = await checkConsistency(leader.url);
    expect(report.consistent, report.lines.join('\n')).to.equal(true);
  });

  // Last: it leaves the cluster without a quorum.
  it('answers 503 with a JSON error when fewer than W followers are up, and the leader stays up', async () => {
    const { leader, followers } = cluster!;
    await Promise.all(followers.slice(1).map((f) => stopProcess(f.child)));
    const t0 = performance.now();
    const r = await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'k', value: 'no quorum' });
    expect(r.status).to.equal(503);
    expect(r.body).to.include({ success: false, code: 'ErrNoQuorum' });
    expect(r.body.error).to.match(/followers/);
    expect(performance.now() - t0).to.be.below(10_000);
    expect((await requestJson(agent, `${leader.url}/status?nodata`, 'GET')).status).to.equal(200);
  });
});

describe('lab4 quorum plot', () => {
  it('draws latency against W as an SVG with both axes and the four statistics', async () => {
    const { quorumPlotSvg } = require('../../../lab4/tools/plot') as typeof import('../../../lab4/tools/plot');
    const { latencyStats } = require('../../../lab4/tools/lib') as typeof import('../../../lab4/tools/lib');
    const points = [1, 2, 3].map((quorum) => ({
      quorum,
      throughput: 1000,
      latency: latencyStats([quorum, quorum + 1, quorum + 2, 10 * quorum]),
    }));
    const svg = await quorumPlotSvg(points, 'test plot');
    expect(svg.startsWith('<svg')).to.equal(true);
    for (const text of ['write quorum W', 'write latency (ms)', 'mean', 'median', 'p95', 'p99', 'test plot'])
      expect(svg).to.contain(text);
  });

  it('computes percentiles as the original does (nearest rank)', async () => {
    const { latencyStats } = require('../../../lab4/tools/lib') as typeof import('../../../lab4/tools/lib');
    const s = latencyStats(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s).to.include({ count: 100, median: 50, p95: 95, p99: 99, max: 100 });
    expect(s.mean).to.equal(50.5);
  });
});
