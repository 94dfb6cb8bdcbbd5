/**
 * Lab 4's trace lanes: what a node's constructor timers print and send is drawn on that node's lane, named as the
 * tests' messages name the node ("follower 1").
 */
import { expect } from 'chai';
import { Lab4Tester, followerName, type Lab4Impl } from '../../../lab4/test/harness';
import type { KVNodeService, NodeConfig } from '../../../lab4/rpc';
import type { RpcEnd } from '../../../labrpc';
import { runNamedTest, type TestDefinition } from '../../../suite';
import { sleep, type TraceEvent } from '../../../world';

/** A node whose constructor starts a timer that prints one line and asks its first follower (if any) for its status. */
class TickingNode {
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(config: NodeConfig, followers: RpcEnd[]) {
    let ticks = 0;
    this.timer = setInterval(() => {
      if (++ticks > 1) return this._stop();
      console.log(`${config.id} ticks`);
      followers[0]?.call('KVNode.Status', {}).catch(() => undefined);
    }, 10);
  }
  Set = (): never => {
    throw new Error('not used');
  };
  Get = this.Set;
  Replicate = this.Set;
  Status(): ReturnType<KVNodeService['Status']> {
    return {} as ReturnType<KVNodeService['Status']>;
  }
  _stop(): void {
    clearInterval(this.timer);
  }
}

const ticking: TestDefinition<Lab4Impl> = {
  name: 'TestConstructorTimers',
  description: 'a leader and a follower whose constructors start timers',
  async run(ctx) {
    new Lab4Tester(ctx, { followers: 1, quorum: 1, reliable: true });
    await sleep(50);
  },
};

describe('lab4: trace lanes', () => {
  it("records a constructor timer's printed line and its RPCs on that node's lane, not the test's", async () => {
    const out = await runNamedTest(ticking, { dir: __dirname, KVNode: TickingNode }, 1, { record: true });
    expect(out.status, out.message).to.equal('passed');
    const events: readonly TraceEvent[] = out.trace?.events ?? [];
    const logs = events.flatMap((e) => (e.k === 'log' ? [[e.lane, e.text]] : []));
    expect(logs).to.have.deep.members([
      [`${followerName(0)} (c0)`, 'follower-1 ticks'],
      ['leader (c0)', 'leader ticks'],
    ]);
    const calls = events.flatMap((e) => (e.k === 'call' ? [[e.from, e.to, e.method]] : []));
    expect(calls).to.deep.equal([['leader (c0)', 'follower 1 (c0)', 'KVNode.Status']]);
  });
});
