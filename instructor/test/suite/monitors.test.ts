/** The runner's monitors (suite/monitors): each finds what it is for, and leaves alone what it must not judge. */
import { expect } from 'chai';
import { Network, Server, Service, TimeoutError, type ClientEnd } from '../../../labrpc';
import { runNamedTest, type Monitors, type TestDefinition } from '../../../suite';
import { sleep } from '../../../world';
import type { RpcEnd } from '../../../labrpc';
import { PacingWatch } from '../../../suite/monitors/pacing';
import { RealCallBook } from '../../../suite/monitors/real';
import { ResendWatch } from '../../../suite/monitors/resend';
import type { CallRecord } from '../../../suite/monitors/calls';

/** Budgets for the tests below: two timers per server, one per call in flight, and the rules each test adds. */
const TIMERS: Monitors['timers'] = { perServer: 2, perCall: 1, causes: 'a test cause' };

/** A network with one server "s" whose Echo answers `answer(args)`, and ends made on demand. */
function network(answer: (args: unknown) => unknown = () => ({ err: 'OK' })): {
  net: Network;
  end: (name: string, owner?: string, tester?: boolean) => ClientEnd;
} {
  const net = new Network();
  net.addServer('s', new Server().addService(new Service({ Echo: answer }, 'Svc')));
  const end = (name: string, owner?: string, tester = false): ClientEnd => {
    const e = net.makeEnd(name, owner, { tester });
    net.connect(name, 's');
    net.enable(name, true);
    return e;
  };
  return { net, end };
}

/** A rule of a little pause after each lost call: at least 5 ms, and a median of at most 200 ms. */
const LITTLE_PAUSE: Monitors = {
  timers: TIMERS,
  pacing: [
    {
      rule: 'wait a little',
      methods: ['Svc.Echo'],
      after: 'each',
      minWaitMs: 5,
      maxMedianWaitMs: 200,
      samples: 3,
      causes: 'no wait',
      slowCauses: 'a long sleep',
    },
  ],
};

/** Runs `body` as a simulated test held to `monitors`; resolves to its outcome. */
function run(monitors: Monitors, body: () => Promise<void>) {
  const test: TestDefinition<undefined> = {
    name: 'TestMonitored',
    description: 'a monitored run',
    monitors,
    run: body,
  };
  return runNamedTest(test, undefined, 1);
}

/** Calls Svc.Echo through `e` until it is answered, waiting `waitMs` after each lost call. */
async function untilAnswered(e: ClientEnd, waitMs: number): Promise<void> {
  for (;;) {
    try {
      return void (await e.call('Svc.Echo', { k: 1 }));
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      if (waitMs > 0) await sleep(waitMs);
    }
  }
}

describe('the runner’s monitors', () => {
  it('fails a run that ends with timers piling up, naming the count, the bound and where they were set', async () => {
    const leak = await run({ timers: TIMERS }, async () => {
      network();
      for (let i = 0; i < 40; i++) setInterval(() => undefined, 60_000);
    });
    expect(leak.status, leak.message).to.equal('failed');
    expect(leak.message).to.contain('40 timers set with setTimeout or setInterval were still live');
    expect(leak.message).to.contain('more than the 10 it allows');
    expect(leak.message).to.contain('Where they were set (of those set while too many were live)');
    expect(leak.message).to.contain('Likely causes: a test cause');
    const cleared = await run({ timers: TIMERS }, async () => {
      network();
      const handles = Array.from({ length: 40 }, () => setInterval(() => undefined, 10));
      await sleep(50);
      handles.forEach((h) => clearInterval(h));
    });
    expect(cleared.status, cleared.message).to.equal('passed');
  });

  it('with killClearsTimers, allows timers only to the servers still running: a killed one must have stopped its own', async () => {
    /** Starts `servers` servers, each setting two intervals; kills all but one, clearing the killed ones' when `clear`. */
    const servers = (clear: boolean) => async (): Promise<void> => {
      const net = new Network();
      for (let i = 0; i < 8; i++) {
        net.addServer(`s${i}`, new Server().addService(new Service({ Echo: () => ({}) }, 'Svc')));
        const handles = [setInterval(() => undefined, 60_000), setInterval(() => undefined, 60_000)];
        if (i === 7) continue; // the one left running keeps its two
        net.deleteServer(`s${i}`);
        if (clear) handles.forEach((h) => clearInterval(h));
      }
    };
    const budget = { ...TIMERS, killClearsTimers: true };
    const leak = await run({ timers: budget }, servers(false));
    expect(leak.status, leak.message).to.equal('failed');
    expect(leak.message).to.contain('16 timers set with setTimeout or setInterval were still live');
    expect(leak.message).to.contain('2 per server still running (1 of 8 started');
    expect((await run({ timers: budget }, servers(true))).status).to.equal('passed');
    // Without the option every server started counts, killed or not: the same leak fits.
    expect((await run({ timers: TIMERS }, servers(false))).status).to.equal('passed');
  });

  it('fails retries quicker than a pacing rule allows, and leaves the tester’s own calls alone', async () => {
    const pacing: Monitors = {
      timers: TIMERS,
      pacing: [{ rule: 'wait a little', methods: ['Svc.Echo'], after: 'each', minWaitMs: 5, causes: 'no wait' }],
    };
    const lossy = (waitMs: number, tester: boolean) => async () => {
      const { net, end } = network();
      net.setReliable(false);
      net.setDropRates(0.5, 0.5);
      const e = end('c', 'client 0', tester);
      for (let i = 0; i < 20; i++) await untilAnswered(e, waitMs);
    };
    const quick = await run(pacing, lossy(0, false));
    expect(quick.status).to.equal('failed');
    expect(quick.message).to.match(
      /Retries too quick: the handout says "wait a little"[^]*client 0 -> s: \d+ of \d+ tries/,
    );
    expect((await run(pacing, lossy(5, false))).status).to.equal('passed');
    expect((await run(pacing, lossy(0, true))).status, 'the tester’s end').to.equal('passed');
  });

  it('with maxMedianWaitMs, fails retries that wait far longer than the handout’s little pause, as the median', async () => {
    const pacing = LITTLE_PAUSE;
    const lossy = (waitMs: number) => async () => {
      const { net, end } = network();
      net.setReliable(false);
      net.setDropRates(0.5, 0.5);
      const e = end('c', 'client 0', false);
      for (let i = 0; i < 20; i++) await untilAnswered(e, waitMs);
    };
    const slow = await run(pacing, lossy(1000));
    expect(slow.status).to.equal('failed');
    expect(slow.message).to.match(/Retries too slow: [^]*a median of at most 200 ms expected[^]*a long sleep/);
    expect((await run(pacing, lossy(100))).status).to.equal('passed');
  });

  it('with by, judges the same call sent again by the same client through another of its ends', async () => {
    const rule = {
      rule: 'wait a little after ErrMoved',
      methods: ['Svc.Echo'],
      refusals: ['ErrMoved'],
      refusalsOnly: true,
      after: 'each' as const,
      maxMedianWaitMs: 200,
      samples: 3,
      causes: 'no wait',
      slowCauses: 'a long sleep',
    };
    // The server refuses each call's first copy (sent through the end "to a"); the client waits, then sends the
    // same call through its other end ("to b"), as lab 7's clerk does after a shard moved to another group.
    const moved = (waitMs: number) => async () => {
      let n = 0;
      const { end } = network(() => ({ err: n++ % 2 === 0 ? 'ErrMoved' : 'OK' }));
      const [a, b] = [end('a', 'clerk-0 (to a)'), end('b', 'clerk-0 (to b)')];
      for (let i = 0; i < 10; i++) {
        await a.call('Svc.Echo', { k: i });
        await sleep(waitMs);
        await b.call('Svc.Echo', { k: i });
      }
    };
    const by = (sender: string) => sender.replace(/ \(to \w\)$/, '');
    const slow = await run({ timers: TIMERS, pacing: [{ ...rule, by }] }, moved(1000));
    expect(slow.status).to.equal('failed');
    expect(slow.message).to.match(/Retries too slow: [^]*clerk-0 \(to any server\): half of 10 tries came 1000/);
    expect((await run({ timers: TIMERS, pacing: [{ ...rule, by }] }, moved(50))).status).to.equal('passed');
    // Without it, each end is a sender of its own, and a copy through the other end is no retry.
    expect((await run({ timers: TIMERS, pacing: [rule] }, moved(1000))).status).to.equal('passed');
  });

  it('with refusalsOnly, judges the retries after a refusal and leaves those after a lost call alone', async () => {
    const pacing: Monitors = {
      timers: TIMERS,
      pacing: [
        {
          rule: 'wait after a refusal',
          methods: ['Svc.Echo'],
          refusals: ['ErrBusy'],
          refusalsOnly: true,
          after: 'each',
          minWaitMs: 5,
          causes: 'no wait',
        },
      ],
    };
    // The server refuses every other call; the client sends the same call again at once, whatever the answer.
    let n = 0;
    const refused = await run(pacing, async () => {
      const { end } = network(() => ({ err: n++ % 2 === 0 ? 'ErrBusy' : 'OK' }));
      const e = end('c', 'client 0');
      for (let i = 0; i < 10; i++) await e.call('Svc.Echo', { k: 1 });
    });
    expect(refused.status).to.equal('failed');
    expect(refused.message).to.match(/answered ErrBusy and the same call sent again[^]*client 0 -> s: 5 of 5 tries/);
    expect(refused.message).to.not.contain('lost or answered');
    const lost = await run(pacing, async () => {
      const { net, end } = network();
      net.setReliable(false);
      net.setDropRates(0.5, 0.5);
      const e = end('c', 'client 0');
      for (let i = 0; i < 20; i++) await untilAnswered(e, 0);
    });
    expect(lost.status, lost.message).to.equal('passed');
  });

  it('with maxMedianWaitMs, fails a pause that grows with each failure of one call, though most calls need one try', async () => {
    const pacing = LITTLE_PAUSE;
    /** 300 calls, each sent until answered: 50 ms after the first failure, then the same again or twice as long. */
    const calls = (grows: boolean) => async () => {
      const { net, end } = network();
      net.setReliable(false);
      net.setDropRates(0.3, 0.3);
      const e = end('c', 'client 0', false);
      for (let i = 0; i < 300; i++)
        for (let wait = 50; ; wait = grows ? Math.min(2 * wait, 5000) : wait) {
          try {
            await e.call('Svc.Echo', { k: i });
            break;
          } catch (err) {
            if (!(err instanceof TimeoutError)) throw err;
            await sleep(wait);
          }
        }
    };
    const growing = await run(pacing, calls(true));
    expect(growing.status).to.equal('failed');
    expect(growing.message).to.match(
      /paused 3 times or more without an answer[^]*a pause that grows with each is a back-off/,
    );
    expect((await run(pacing, calls(false))).status).to.equal('passed');
  });

  it('with a round rule, a call sent again to a server that failed it goes round: it must come after the pause', async () => {
    const pacing: Monitors = {
      timers: TIMERS,
      pacing: [
        {
          rule: 'pause after a whole round',
          methods: ['Svc.Echo'],
          refusals: ['ErrWrongLeader'],
          after: 'round',
          minWaitMs: 10,
          causes: 'no pause',
        },
      ],
    };
    /** Two servers that refuse the first `refusals` calls they get between them, and ends to each for one client. */
    const cluster = (refusals: number): ClientEnd[] => {
      const net = new Network();
      let left = refusals;
      const answer = (): unknown => ({ err: left-- > 0 ? 'ErrWrongLeader' : 'OK' });
      return [0, 1].map((i) => {
        net.addServer(`s${i}`, new Server().addService(new Service({ Echo: answer }, 'Svc')));
        const e = net.makeEnd(`c-${i}`, 'client 0');
        net.connect(`c-${i}`, `s${i}`);
        net.enable(`c-${i}`, true);
        return e;
      });
    };
    // The handout's clerk: the next server after a refusal, a pause after a whole round.
    const rounds = await run(pacing, async () => {
      const ends = cluster(12);
      for (let i = 0; ; i = (i + 1) % 2) {
        const r = (await ends[i].call('Svc.Echo', { k: 1 })) as { err: string };
        if (r.err === 'OK') return;
        if (i === 1) await sleep(20);
      }
    });
    expect(rounds.status, rounds.message).to.equal('passed');
    // A clerk that asks the refusing server again at once, never the other: it times its copies to one server.
    const same = await run(pacing, async () => {
      const [e] = cluster(12);
      while (((await e.call('Svc.Echo', { k: 1 })) as { err: string }).err !== 'OK');
    });
    expect(same.status).to.equal('failed');
    expect(same.message).to.match(/client 0 \(a whole round of servers\): 12 of 12 tries came sooner than 10 ms/);
    // Two calls side by side through one clerk whose leader hint they share: the second moves the hint while the
    // first waits for its answer, so the first asks server 0 twice in its round of two tries; it pauses after them.
    const hinted = await run(pacing, async () => {
      const net = new Network();
      let refusedFirst = 0;
      const answer = (server: number) => async (args: unknown) => {
        const k = (args as { k: number }).k;
        if (k === 2) return { err: server === 1 ? 'OK' : 'ErrWrongLeader' };
        if (server === 0 && refusedFirst++ === 0) await sleep(5); // the first call's first answer comes late
        return { err: refusedFirst > 4 ? 'OK' : 'ErrWrongLeader' };
      };
      const ends = [0, 1].map((i) => {
        net.addServer(`s${i}`, new Server().addService(new Service({ Echo: answer(i) }, 'Svc')));
        const e = net.makeEnd(`c-${i}`, 'client 0');
        net.connect(`c-${i}`, `s${i}`);
        net.enable(`c-${i}`, true);
        return e;
      });
      let leader = 0;
      const callLeader = async (k: number): Promise<void> => {
        for (;;) {
          for (let tried = 0; tried < ends.length; tried++) {
            const r = (await ends[leader].call('Svc.Echo', { k })) as { err: string };
            if (r.err === 'OK') return;
            leader = (leader + 1) % ends.length;
          }
          await sleep(20);
        }
      };
      await Promise.all([callLeader(1), callLeader(2)]);
    });
    expect(hinted.status, hinted.message).to.equal('passed');
    // The same fields in another order are the same call: a clerk that turns its arguments round each try is judged.
    const turned = await run(pacing, async () => {
      const ends = cluster(12);
      for (let i = 0; ; i = (i + 1) % 2) {
        const args = i === 0 ? { k: 1, n: 2 } : { n: 2, k: 1 };
        if (((await ends[i].call('Svc.Echo', args)) as { err: string }).err === 'OK') return;
      }
    });
    expect(turned.status, turned.message).to.equal('failed');
    expect(turned.message).to.match(/client 0 \(a whole round of servers\): \d+ of \d+ tries came sooner than 10 ms/);
    // One server only (lab 2's clerk on the configuration server): a lost call may go again at once.
    const single = await run(pacing, async () => {
      const { net, end } = network();
      net.setReliable(false);
      net.setDropRates(0.5, 0.5);
      const e = end('c', 'client 0');
      for (let i = 0; i < 20; i++) await untilAnswered(e, 0);
    });
    expect(single.status, single.message).to.equal('passed');
  });

  it('judges calls in flight side by side when their arguments tell them apart (distinctCalls)', async () => {
    const rule = {
      rule: 'wait a little',
      exceptMethods: ['Svc.Other'],
      after: 'each',
      minWaitMs: 5,
      causes: 'no wait',
    };
    const sideBySide = (distinctCalls: boolean, waitMs: number, shared = false) =>
      run({ timers: TIMERS, pacing: [{ ...rule, after: 'each', distinctCalls }] }, async () => {
        const { net, end } = network();
        net.setReliable(false);
        net.setDropRates(0.5, 0.5);
        const e = end('c', 'server 0');
        if (shared) net.shareEnd('c');
        // Three messages in flight at once, each re-sent until answered: told apart by their sequence numbers.
        await Promise.all(
          [0, 1, 2].map(async (seq) => {
            for (let i = 0; i < 10; i++)
              for (;;) {
                try {
                  await e.call('Svc.Echo', { seq, i });
                  break;
                } catch (err) {
                  if (!(err instanceof TimeoutError)) throw err;
                  if (waitMs > 0) await sleep(waitMs);
                }
              }
          }),
        );
      });
    const quick = await sideBySide(true, 0);
    expect(quick.status).to.equal('failed');
    expect(quick.message).to.match(/every server-to-server call that was lost[^]*server 0 -> s: \d+ of \d+ tries/);
    expect((await sideBySide(true, 5)).status).to.equal('passed');
    // The code's own calls side by side are told apart by their arguments, with or without distinctCalls.
    expect((await sideBySide(false, 0)).status, 'the code’s calls side by side').to.equal('failed');
    // Only an end the tester shares among its tasks is left alone, unless the rule has distinctCalls.
    expect((await sideBySide(false, 0, true)).status, 'a shared end, not told apart').to.equal('passed');
    expect((await sideBySide(true, 0, true)).status, 'a shared end, distinctCalls').to.equal('failed');
  });

  it('judges a sender that keeps another call in flight beside its retries, in each and round rules alike', async () => {
    /** Quick retries of Svc.Echo through `c`, with (when `hold`) a Svc.Hold call kept in flight beside each. */
    const besides = (after: 'each' | 'round', hold: boolean) =>
      run(
        {
          timers: TIMERS,
          pacing: [{ rule: 'wait a little', methods: ['Svc.Echo'], after, minWaitMs: 5, causes: 'no wait' }],
        },
        async () => {
          const net = new Network();
          const handlers = { Echo: () => ({ err: 'OK' }), Hold: () => sleep(30).then(() => ({ err: 'OK' })) };
          for (const s of ['s0', 's1']) net.addServer(s, new Server().addService(new Service(handlers, 'Svc')));
          net.setReliable(false);
          net.setDropRates(0.5, 0.5);
          const ends = ['s0', 's1'].map((s) => {
            const e = net.makeEnd(`c-${s}`, 'client 0');
            net.connect(`c-${s}`, s);
            net.enable(`c-${s}`, true);
            return e;
          });
          for (let op = 0; op < 10; op++)
            for (let i = 0; ; i++) {
              const e = ends[after === 'round' ? i % 2 : 0];
              const held = hold ? e.call('Svc.Hold', { op }).catch(() => undefined) : undefined;
              try {
                await e.call('Svc.Echo', { op });
                await held;
                break;
              } catch (err) {
                if (!(err instanceof TimeoutError)) throw err;
              }
            }
        },
      );
    for (const after of ['each', 'round'] as const) {
      const plain = await besides(after, false);
      expect(plain.status, `${after}: ${plain.message}`).to.equal('failed');
      const held = await besides(after, true);
      expect(held.status, `${after}, a call held beside: ${held.message}`).to.equal('failed');
      expect(held.message).to.contain('Retries too quick');
    }
  });

  it('allows one timer per call a handler of the code holds, per sender and receiver; the tester’s calls in full', async () => {
    /** Twenty calls held by the server's handler until the test ends, from `tester`'s end, with a timer leaked for each. */
    const held = (tester: boolean) =>
      run({ timers: TIMERS }, async () => {
        const { end } = network(() => new Promise(() => undefined));
        const e = end('c', 'server 0', tester);
        for (let i = 0; i < 20; i++) {
          void e.call('Svc.Echo', { i }).catch(() => undefined);
          setTimeout(() => undefined, 60_000);
        }
        await sleep(50);
      });
    const code = await held(false);
    expect(code.status, code.message).to.equal('failed');
    expect(code.message).to.contain('20 timers set with setTimeout or setInterval were still live');
    expect(code.message).to.contain('1 per call still in flight (1;');
    const tester = await held(true);
    expect(tester.status, tester.message).to.equal('passed');
  });

  it('watches real calls through RealCallBook ends, on the process clock', async () => {
    // 250 ms: a retry sent at once comes well within it even on a busy machine (real time, not virtual).
    const watch = (slackMs: number) =>
      new PacingWatch(
        { rule: 'wait', methods: ['Svc.Echo'], distinctCalls: true, after: 'each', minWaitMs: 250, causes: 'x' },
        slackMs,
      );
    let fails = 2;
    const refusing: RpcEnd = {
      call: <R>() => (fails-- > 0 ? Promise.reject(new Error('refused')) : Promise.resolve({} as R)),
    };
    const untilAnswered = async (book: RealCallBook, waitMs: number) => {
      const e = book.end(refusing, 'server 0', 'server 1');
      for (;;) {
        try {
          return await e.call('Svc.Echo', { seq: 0 });
        } catch {
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
      }
    };
    const quick = watch(5);
    await untilAnswered(new RealCallBook([quick]), 0);
    expect(quick.finding()).to.match(/server 0 -> server 1: 2 of 2 tries came sooner than 250 ms/);
    fails = 2;
    const paced = watch(5);
    await untilAnswered(new RealCallBook([paced]), 250);
    expect(paced.finding()).to.equal(undefined);
  });

  it('fails a failed call never sent again, and passes one sent again in time', async () => {
    const resend: Monitors = {
      timers: TIMERS,
      resend: { rule: 'send it again', withinMs: 1000, causes: 'gives up' },
    };
    const oneLoss = (again: boolean) => async () => {
      const { net, end } = network();
      const e = end('c', 'server 0');
      net.enable('c', false);
      await e.call('Svc.Echo', { m: 1 }).catch(() => undefined);
      net.enable('c', true);
      if (again) await e.call('Svc.Echo', { m: 1 });
      await sleep(2000);
    };
    const dropped = await run(resend, oneLoss(false));
    expect(dropped.status).to.equal('failed');
    expect(dropped.message).to.contain('1 failed call(s) were never sent again; the first: server 0 -> s, Svc.Echo');
    expect((await run(resend, oneLoss(true))).status).to.equal('passed');
  });

  it('counts the tries of a failed call in a row, from its first failure since an answer', () => {
    const watch = new ResendWatch({ rule: 'send it again', withinMs: 100, causes: 'gives up' });
    const send = (at: number): CallRecord => {
      const call: CallRecord = {
        sender: 'client 0',
        receiver: 's',
        method: 'Svc.Echo',
        sentAt: at,
        othersInFlight: 0,
        othersToReceiver: 0,
        args: { m: 1 },
        tester: false,
        shared: false,
      };
      watch.sent(call, at);
      return call;
    };
    // Failed once, sent again and answered: that call is done.
    watch.failed(send(0), undefined, 1);
    watch.answered(send(50));
    // The same arguments later (a new operation): three failures in a row, then never sent again.
    watch.failed(send(1000), undefined, 1001);
    watch.failed(send(1050), undefined, 1051);
    watch.failed(send(1100), undefined, 1101);
    expect(watch.finding(5000)).to.contain('Svc.Echo failed at 1.101 s (after 3 tries)');
  });
});
