/** Lab 3's trace lanes: what a server's constructor timers print and send is drawn on that server's lane. */
import { expect } from 'chai';
import { Cluster, type Lab3Impl } from '../../../lab3/test/harness';
import type { ReadReply, ServerOptions, WriteReply } from '../../../lab3/rpc';
import { runNamedTest, type TestDefinition } from '../../../suite';
import { sleep, type TraceEvent } from '../../../world';

/** A server whose constructor starts a timer that prints one line and reads from the next server. */
class TickingServer {
  constructor({ me, peers }: ServerOptions) {
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 1) console.log(`server ${me} ticks`);
      else clearInterval(timer);
      peers[(me + 1) % peers.length].call('KVServer.Read', { key: 'k' }).catch(() => undefined);
    }, 10);
  }
  Read(): ReadReply {
    return { value: '' } as unknown as ReadReply;
  }
  Write(): WriteReply {
    return {} as unknown as WriteReply;
  }
}

const ticking: TestDefinition<Lab3Impl> = {
  name: 'TestConstructorTimers',
  description: 'two servers whose constructors start timers',
  async run(ctx) {
    new Cluster(ctx.impl, { servers: 2, level: 'eventual' });
    await sleep(50);
  },
};

describe('lab3: trace lanes', () => {
  it("records a constructor timer's printed line and its RPCs on that server's lane, not the test's", async () => {
    const out = await runNamedTest(ticking, { dir: __dirname, KVServer: TickingServer }, 1, { record: true });
    expect(out.status, out.message).to.equal('passed');
    const events: readonly TraceEvent[] = out.trace?.events ?? [];
    const logs = events.flatMap((e) => (e.k === 'log' ? [[e.lane, e.text]] : []));
    expect(logs).to.have.deep.members([
      ['server 0', 'server 0 ticks'],
      ['server 1', 'server 1 ticks'],
    ]);
    const calls = events.flatMap((e) => (e.k === 'call' ? [[e.from, e.to]] : []));
    expect(calls).to.have.length.above(0);
    for (const [from, to] of calls) expect(to).to.equal(from === 'server 0' ? 'server 1' : 'server 0');
  });
});
