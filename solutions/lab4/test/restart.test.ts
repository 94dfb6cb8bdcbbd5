/** lab4:cluster's follower restart: a killed follower comes back empty on its old address and the leader fills it in (with or without a new write). */
import { expect } from 'chai';
import * as http from 'node:http';
import { Cluster, requestJson, startCluster } from '../../../lab4/tools/lib';

describe('lab4 real cluster: a follower restarted empty', function () {
  this.timeout(90_000);
  let cluster: Cluster | undefined;
  const agent = new http.Agent({ keepAlive: true });

  after(async () => {
    agent.destroy();
    await cluster?.stop();
  });

  it('restartFollower starts a killed follower again on the same address, and with W = every follower the next write fills it in', async () => {
    cluster = await startCluster({
      followers: 2,
      quorum: 2,
      port: 0,
      host: '127.0.0.1',
      minDelayMs: 0.1,
      maxDelayMs: 1,
      writeTimeoutMs: 2000,
      implDir: 'solutions/lab4',
    });
    const { leader } = cluster;
    expect((await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'before', value: 'b' })).status).to.equal(200);
    const old = cluster.followers[0];
    const exited = new Promise((resolve) => old.child.once('exit', resolve));
    old.child.kill('SIGKILL');
    await exited;
    const refused = await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'during', value: 'd' });
    expect(refused.status, 'W = 2 with one follower down: the write cannot reach its quorum').to.equal(503);
    const back = await cluster.restartFollower(old);
    expect(back.url).to.equal(old.url);
    expect(cluster.followers[0]).to.equal(back);
    expect(back.child.pid).not.to.equal(old.child.pid);
    expect((await requestJson(agent, `${leader.url}/set`, 'POST', { key: 'after', value: 'a' })).status).to.equal(200);
    for (const [key, value] of [
      ['before', 'b'],
      ['after', 'a'],
    ]) {
      const got = await requestJson(agent, `${back.url}/get/${key}`, 'GET');
      expect(got.body, `the restarted follower has "${key}"`).to.include({ success: true, value });
    }
  });

  it("a follower restarted on an idle cluster is sent the whole log by the leader's heartbeat, with no new write", async () => {
    const running = cluster;
    if (!running) throw new Error('the cluster was not started (the test before this one failed)');
    const { leader } = running;
    const old = running.followers[1];
    const exited = new Promise((resolve) => old.child.once('exit', resolve));
    old.child.kill('SIGKILL');
    await exited;
    const back = await running.restartFollower(old);
    const want = ((await requestJson(agent, `${leader.url}/status`, 'GET')).body as { last_seq: number }).last_seq;
    expect(want, "the leader's log holds the earlier writes (the refused one included)").to.equal(3);
    const deadline = Date.now() + 5000;
    let held: unknown;
    while (Date.now() < deadline) {
      held = (await requestJson(agent, `${back.url}/status`, 'GET')).body;
      if ((held as { last_seq?: number }).last_seq === want) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(held, "the restarted follower holds the leader's whole log within 5 s though no one wrote").to.include({
      last_seq: want,
    });
  });
});
