/** The trace recorder: every kind of event is recorded, and a replay's trace is the same on every run. */
import { expect } from 'chai';
import { Network, Server, Service, TimeoutError } from '../../../labrpc';
import { HistoryRecorder } from '../../../suite/history';
import { runNamedTest, TestFailure } from '../../../suite';
import type { TestDefinition } from '../../../suite';
import { sleep, type TraceEvent } from '../../../world';
import { names } from '../../../grader/reports/trace';

/** A run that makes every kind of event happen once, then fails. */
const scenario: TestDefinition<null> = {
  name: 'TestEverything',
  description: 'every kind of trace event',
  async run() {
    const net = new Network();
    const echo = {
      Echo: (args: { key: string }) => {
        console.log(`server saw ${args.key}`);
        return { got: args.key };
      },
      Slow: async () => {
        await sleep(50);
        return {};
      },
    };
    net.addServer('srv', new Server().addService(new Service(echo, 'S')));
    const end = net.makeEnd('e0');
    net.connect('e0', 'srv');
    net.enable('e0', true);
    const history = new HistoryRecorder<{ key: string }, string>();
    const lost = async (p: Promise<unknown>): Promise<void> => {
      try {
        await p;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
      }
    };
    const op = history.begin(7, { key: 'a' });
    await end.call('S.Echo', { key: 'a' });
    history.end(op, 'a');
    net.setReliable(false);
    net.setDropRates(1, 0);
    await lost(end.call('S.Echo', { key: 'request-lost' }));
    net.setDropRates(0, 1);
    await lost(end.call('S.Echo', { key: 'reply-lost' }));
    net.setReliable(true);
    net.enable('e0', false);
    await lost(end.call('S.Echo', { key: 'partitioned' }));
    net.enable('e0', true);
    const slow = lost(end.call('S.Slow', {}));
    await sleep(10);
    net.deleteServer('srv');
    await slow;
    net.addServer('srv', new Server().addService(new Service(echo, 'S')));
    throw new TestFailure('planted failure');
  },
};

/** A client's end named for its lane ("client 4"): its one call is lost, and the test fails with the TimeoutError. */
const owned: TestDefinition<null> = {
  name: 'TestOwnedEnd',
  description: 'an end whose owner is named',
  async run() {
    const net = new Network();
    net.addServer('server-1', new Server().addService(new Service({ Echo: () => ({}) }, 'S')));
    const end = net.makeEnd('clerk-end-5', 'client 4');
    net.connect('clerk-end-5', 'server-1');
    net.enable('clerk-end-5', true);
    net.setReliable(false);
    net.setDropRates(1, 0);
    await end.call('S.Echo', { key: 'k' }); // from the test's own code: the owner still names the lane
  },
};

describe('trace recorder', () => {
  it('names an end by its owner in the console as on the page: the lane, the lost message, the TimeoutError, the list of lanes', async () => {
    const out = await runNamedTest(owned, null, 3, { record: true, faults: {} });
    expect(out.message).to.contain('RPC S.Echo from client 4, end "clerk-end-5" got no reply');
    expect(out.faults?.map((f) => f.what)).to.deep.equal([
      'the request of client 4\'s S.Echo({"key":"k"}) sent at 0.0 ms (end clerk-end-5) was lost',
    ]);
    const call = out.trace?.events.find((e): e is Extract<TraceEvent, { k: 'call' }> => e.k === 'call');
    expect(call).to.deep.include({ from: 'client 4', end: 'clerk-end-5', to: 'server-1' });
    expect(names(out.trace!))
      .to.contain('<li>client 4: sends through clerk-end-5</li>')
      .and.contain('<li>server-1</li>');
  });

  it('records every kind of event: calls, deliveries, replies, drops with their causes, timeouts, network changes, operations, printed lines, the failure', async () => {
    const out = await runNamedTest(scenario, null, 42, { record: true });
    expect(out.status).to.equal('failed');
    const events = out.trace?.events ?? [];
    const kinds = new Set(events.map((e) => e.k));
    expect([...kinds].sort()).to.deep.equal(
      ['call', 'deliver', 'drop', 'fail', 'handled', 'log', 'net', 'op', 'ret', 'reply', 'timeout'].sort(),
    );
    const drops = events
      .filter((e): e is Extract<TraceEvent, { k: 'drop' }> => e.k === 'drop')
      .map((e) => `${e.which}:${e.why}`);
    expect(drops).to.deep.equal(['request:unreliable', 'reply:unreliable', 'request:disabled', 'reply:killed']);
    const nets = events
      .filter((e): e is Extract<TraceEvent, { k: 'net' }> => e.k === 'net')
      .map((e) => `${e.lane}: ${e.what}`);
    expect(nets).to.include.members([
      'srv: started',
      'srv: end e0 disabled',
      'srv: end e0 enabled',
      'srv: killed',
      'test: network unreliable (delays, lost requests and replies)',
    ]);
    expect(nets.filter((n) => n === 'srv: started')).to.have.length(2);
    const log = events.find((e): e is Extract<TraceEvent, { k: 'log' }> => e.k === 'log');
    expect(log).to.include({ lane: 'srv', text: 'server saw a' });
    const op = events.find((e) => e.k === 'op');
    expect(op).to.include({ lane: 'client 7' });
    const call = events.find((e): e is Extract<TraceEvent, { k: 'call' }> => e.k === 'call');
    expect(call).to.deep.include({ from: 'client 7', to: 'srv', end: 'e0', method: 'S.Echo', args: { key: 'a' } });
    const fail = events[events.length - 1];
    expect(fail).to.include({ k: 'fail' });
    expect(fail.t).to.equal(out.virtualMs);
  });

  it('records the same trace on every replay of a seed, and nothing when recording is off', async () => {
    const a = await runNamedTest(scenario, null, 5, { record: true });
    const b = await runNamedTest(scenario, null, 5, { record: true });
    expect(JSON.stringify(a.trace)).to.equal(JSON.stringify(b.trace));
    const off = await runNamedTest(scenario, null, 5);
    expect(off.trace).to.equal(undefined);
    expect(off.traceHash).to.equal(a.traceHash); // recording changes nothing the run does
  });
});
