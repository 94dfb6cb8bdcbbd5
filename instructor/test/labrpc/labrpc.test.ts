/** labrpc's own suite, in the spirit of MIT's labrpc tests. */
import { expect } from 'chai';
import sinon from 'sinon';
import { Network, RpcUsageError, SerializationError, Server, TimeoutError } from '../../../labrpc';
import { World, sleep } from '../../../world';
import { FRAMEWORK_FOLDERS } from '../../../grader/layout';
import { codeFrames, trimStack } from '../../../labrpc/stack';
import { lostCall } from '../../../labrpc/errors';
import { encode } from '../../../labrpc/codec';
import { stacklessError } from '../../../labrpc/stackless';
import { liveHeapBytes } from '../../../suite/memory';

/** A service with a few handlers used throughout. */
class Junk {
  stored: unknown[] = [];
  Echo(args: unknown): unknown {
    return args;
  }
  Keep(args: { items: unknown[] }): { count: number } {
    this.stored.push(args.items);
    (args.items as unknown[]).push('mutated by server');
    return { count: this.stored.length };
  }
  Hang(): Promise<never> {
    return new Promise<never>(() => undefined);
  }
  async Slow(args: { ms: number }): Promise<string> {
    await sleep(args.ms);
    return 'slow done';
  }
  Crash(): never {
    throw new Error('boom in handler');
  }
}

/** Runs `body` in a fresh world with a network holding one server "s" with a Junk service. */
async function withNet<T>(seed: number, body: (net: Network, junk: Junk) => Promise<T>): Promise<T> {
  return new World({ seed }).run(async () => {
    const net = new Network();
    const junk = new Junk();
    net.addServer('s', new Server().addService(junk));
    return body(net, junk);
  });
}

function connectedEnd(net: Network, name: string, server = 's') {
  const end = net.makeEnd(name);
  net.connect(name, server);
  net.enable(name, true);
  return end;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('labrpc/stack: the frames shown to a student', () => {
  it('keeps the code under test’s frames and drops node’s, the packages’, the kit’s and those with no file', () => {
    const stack = [
      'Error: boom',
      '    at KVServer.Put (/home/s/kit/lab2/server.ts:12:11)',
      '    at Function.from (<anonymous>)',
      '    at Array.map (<anonymous>)',
      '    at <anonymous>',
      '    at Network.deliver (/home/s/kit/labrpc/network.ts:200:5)',
      '    at World.run (/home/s/kit/world/world.ts:80:3)',
      '    at Object.run (/home/s/kit/lab2/test/suite.ts:40:9)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at Context.<anonymous> (/home/s/kit/node_modules/mocha/lib/runnable.js:1:1)',
      '    at helper (/home/s/kit/lab2/kv-store.ts:3:1)',
      '    at CounterServer.Add (/home/s/kit/instructor/test/grader/fixtures/crashy/lab9/counter.ts:12:3)',
    ].join('\n');
    expect(codeFrames(stack)).to.deep.equal([
      'at KVServer.Put (/home/s/kit/lab2/server.ts:12:11)',
      'at helper (/home/s/kit/lab2/kv-store.ts:3:1)',
      'at CounterServer.Add (/home/s/kit/instructor/test/grader/fixtures/crashy/lab9/counter.ts:12:3)',
    ]);
    expect(codeFrames(stack, 1)).to.have.length(1);
    expect(codeFrames(undefined)).to.deep.equal([]);
  });

  it('trims a whole error output (a child process’s stderr) the same way, keeping its message lines', () => {
    const stderr = [
      'Error: listen EADDRINUSE: address already in use :::7001',
      '    at Server.setupListenHandle (node:net:1817:16)',
      '    at startServer (/home/s/kit/lab5/server.ts:40:10)',
      '    at main (/home/s/kit/lab5/test/child-server.ts:12:3)',
      '    at Module._compile (/home/s/kit/node_modules/ts-node/dist/index.js:1:1)',
      'Node.js v20.20.2',
    ].join('\n');
    expect(trimStack(stderr)).to.equal(
      [
        'Error: listen EADDRINUSE: address already in use :::7001',
        '    at startServer (/home/s/kit/lab5/server.ts:40:10)',
        'Node.js v20.20.2',
      ].join('\n'),
    );
  });

  it('drops a frame in every framework folder the layout names', () => {
    for (const folder of FRAMEWORK_FOLDERS)
      expect(codeFrames(`Error: x\n    at f (/home/s/kit/${folder}/a.ts:1:1)`), folder).to.deep.equal([]);
  });
});

describe('labrpc/stackless: errors made without a stack', () => {
  /** Each own property with its value and attributes, in order. */
  const own = (e: object) => Reflect.ownKeys(e).map((k) => [k, Object.getOwnPropertyDescriptor(e, k)]);
  const field = (value: string, enumerable: boolean) => ({ value, writable: true, enumerable, configurable: true });

  it("a lost call's TimeoutError: a message and a one-line stack, hidden; its name and fields its own, as the class makes them", () => {
    const e = lostCall('KVServer.Get', 'end-1', 'client 2');
    expect(e).to.be.instanceOf(TimeoutError);
    const message =
      'RPC KVServer.Get from client 2, end "end-1" got no reply (the request or the reply was lost, or the server is down)';
    expect(own(e)).to.deep.equal([
      ['stack', field(`TimeoutError: ${message}`, false)],
      ['message', field(message, false)],
      ['name', field('TimeoutError', true)],
      ['method', field('KVServer.Get', true)],
      ['endName', field('end-1', true)],
    ]);
    expect(String(e)).to.equal(`TimeoutError: ${message}`);
  });

  it('an error of a frozen class with no fields: its name from the class; each error its own, unchanged by the next', () => {
    class Frozen extends Error {}
    Object.freeze(Frozen.prototype);
    const a = stacklessError(Frozen.prototype, 'first');
    const b = stacklessError(Frozen.prototype, '', { name: 'Other', extra: 'x' });
    expect(own(a)).to.deep.equal([
      ['stack', field('Error: first', false)],
      ['message', field('first', false)],
    ]);
    expect(own(b)).to.deep.equal([
      ['stack', field('Other', false)],
      ['message', field('', false)],
      ['name', field('Other', true)],
      ['extra', field('x', true)],
    ]);
  });
});

describe('labrpc', () => {
  it('halt drops every message on its way with what waits on it, and calls made after it never settle', async () => {
    await withNet(1, async (net) => {
      const end = connectedEnd(net, 'e');
      const before = liveHeapBytes();
      // A caller whose callbacks alone hold 8 MB, with its call on its way (and a link's wait of the network's).
      ((): void => {
        const big = new Array<number>(1_000_000).fill(1.5);
        void end.call('Junk.Echo', {}).then(() => big.length);
        void net.wait(1000).then(() => big.length);
      })();
      const held = liveHeapBytes() - before;
      net.halt();
      const kept = liveHeapBytes() - before;
      expect(held, 'the calls on their way hold the caller').to.be.above(7_000_000);
      expect(kept, 'halted, nothing holds it').to.be.below(1_000_000);
      let settled = false;
      void end.call('Junk.Echo', {}).finally(() => (settled = true));
      await sleep(10_000);
      expect(settled).to.equal(false);
    });
  });

  it('with setCopyStrings, a string a message carries is a copy of its own (a memory test weighs its receiver for it)', async () => {
    for (const copy of [false, true]) {
      const grew = await withNet(1, async (net, junk) => {
        net.setCopyStrings(copy);
        const end = connectedEnd(net, 'e');
        const big = 'x'.repeat(4_000_000);
        const before = liveHeapBytes();
        await end.call('Junk.Keep', { items: [big] });
        const after = liveHeapBytes();
        expect(junk.stored).to.have.length(1);
        return after - before;
      });
      if (copy) expect(grew, 'the server keeps its own 4 MB').to.be.above(3_500_000);
      else expect(grew, 'the server keeps the sender’s string').to.be.below(1_000_000);
    }
  });

  it('delivers a call and its reply (basic)', async () => {
    const reply = await withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Echo', { greeting: 'hi', n: 7 }));
    expect(reply).to.deep.equal({ greeting: 'hi', n: 7 });
  });

  it('carries every JSON type and drops undefined fields (types)', async () => {
    const value = {
      s: 'x',
      n: -1.5,
      b: false,
      z: null,
      list: [1, 'two', [3], { four: 4 }],
      nested: { a: { b: {} } },
      u: undefined,
    };
    const reply = await withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Echo', value));
    expect(reply).to.deep.equal({
      s: 'x',
      n: -1.5,
      b: false,
      z: null,
      list: [1, 'two', [3], { four: 4 }],
      nested: { a: { b: {} } },
    });
  });

  it('carries fields named like Object.prototype members (__proto__, constructor) as plain data', async () => {
    const value = JSON.parse('{"__proto__": "p", "constructor": {"__proto__": [1]}, "hasOwnProperty": 2}') as object;
    const reply = (await withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Echo', value))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(reply)).to.deep.equal(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(Object.getOwnPropertyDescriptor(reply, '__proto__')?.value).to.equal('p');
    expect(Object.getPrototypeOf(reply)).to.equal(Object.prototype);
    expect(JSON.stringify(reply)).to.equal('{"__proto__":"p","constructor":{"__proto__":[1]},"hasOwnProperty":2}');
  });

  it('passes deep copies both ways, never shared objects', async () => {
    await withNet(1, async (net, junk) => {
      const items = ['a'];
      await connectedEnd(net, 'e').call('Junk.Keep', { items });
      expect(items).to.deep.equal(['a']);
      expect(junk.stored[0]).to.deep.equal(['a', 'mutated by server']);
      const obj = { k: [1] };
      const back = (await connectedEnd(net, 'e2').call('Junk.Echo', obj)) as { k: number[] };
      back.k.push(2);
      expect(obj.k).to.deep.equal([1]);
    });
  });

  it('takes a little virtual time even on the reliable network', async () => {
    const world = new World({ seed: 3 });
    await world.run(async () => {
      const net = new Network();
      net.addServer('s', new Server().addService(new Junk()));
      const end = connectedEnd(net, 'e');
      for (let i = 0; i < 100; i++) await end.call('Junk.Echo', i);
    });
    expect(world.now())
      .to.be.greaterThan(100 * 0.1)
      .and.lessThan(100 * 0.4);
  });

  for (const [label, value, field, hint] of [
    ['a function', { cb: () => 1 }, 'value.cb', 'a function'],
    ['a class instance with methods', { who: new Junk() }, 'value.who', 'class Junk'],
    ['a Map', { m: new Map() }, 'value.m', 'Map'],
    ['NaN', { list: [1, NaN] }, 'value.list[1]', 'NaN'],
    ['a BigInt', { big: 1n }, 'value.big', 'BigInt'],
  ] as const) {
    it(`refuses ${label} and names the field`, async () => {
      const err = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Echo', value)));
      expect(err).to.be.instanceOf(SerializationError);
      expect((err as Error).message)
        .to.contain(field)
        .and.contain(hint)
        .and.contain('Junk.Echo');
    });
  }

  it('names a deep field, and a message a getter sends mid-copy names its own fields from its root', async () => {
    let inner = '';
    const value = {
      outer: {
        get early(): number {
          try {
            encode({ x: [{ f: () => 1 }] }, 'the inner message');
          } catch (err) {
            inner = (err as Error).message;
          }
          return 1;
        },
        list: [1, { bad: NaN }],
      },
    };
    expect(() => encode(value, 'the arguments of', false, 'Junk.Echo')).to.throw(
      SerializationError,
      'value.outer.list[1].bad',
    );
    expect(inner).to.contain('Cannot send the inner message: value.x[0].f is a function');
  });

  it('keeps nothing of a value once it is copied, nor of one it refused', async () => {
    const refs: Array<WeakRef<object>> = [];
    (() => {
      const sent = { deep: { deeper: [{ big: 'x'.repeat(1000) }] } };
      const refused = { deep: { deeper: [{ bad: () => 1 }] } };
      refs.push(new WeakRef(sent.deep.deeper[0]), new WeakRef(refused.deep.deeper[0]));
      encode(sent, 'the arguments of');
      expect(() => encode(refused, 'the arguments of')).to.throw(SerializationError);
    })();
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target until the job that made it ends
    (globalThis as { gc?: () => void }).gc?.();
    expect(refs.map((r) => r.deref())).to.deep.equal([undefined, undefined]);
  });

  it('refuses a cycle', async () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    const err = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Echo', a)));
    expect((err as Error).message)
      .to.contain('value.self')
      .and.contain('cycle');
  });

  it('refuses a reply that cannot be serialized', async () => {
    class Bad {
      Get(): unknown {
        return { when: new Date(0) };
      }
    }
    const err = await rejection(
      new World({ seed: 1 }).run(async () => {
        const net = new Network();
        net.addServer('s', new Server().addService(new Bad()));
        await connectedEnd(net, 'e').call('Bad.Get');
      }),
    );
    expect(err).to.be.instanceOf(SerializationError);
    expect((err as Error).message)
      .to.contain('reply of Bad.Get')
      .and.contain('value.when')
      .and.contain('Date');
  });

  it('explains an unknown service or method, listing the valid names', async () => {
    const err1 = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call('Nope.Echo', 1)));
    expect(err1).to.be.instanceOf(RpcUsageError);
    expect((err1 as Error).message).to.contain('"Junk"');
    const err2 = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Ech', 1)));
    expect((err2 as Error).message)
      .to.contain('"Junk.Echo"')
      .and.contain('"Junk.Keep"');
  });

  it('refuses a method name that is not a string (an object read apart by each reader), failing the run', async () => {
    const named = new String('Junk.Echo') as unknown as string;
    const err = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call(named, 1)));
    expect(err).to.be.instanceOf(RpcUsageError);
    expect((err as Error).message).to.contain('a method of type object; expected a string');
  });

  it('explains a call on an end that was never connected', async () => {
    const err = await rejection(withNet(1, (net) => net.makeEnd('lonely').call('Junk.Echo', 1)));
    expect(err).to.be.instanceOf(RpcUsageError);
    expect((err as Error).message)
      .to.contain('never connected')
      .and.contain('network.connect("lonely"');
  });

  it('fails the run when a handler throws, naming the method', async () => {
    const err = await rejection(withNet(1, (net) => connectedEnd(net, 'e').call('Junk.Crash')));
    expect((err as Error).message)
      .to.contain('Junk.Crash')
      .and.contain('boom in handler');
    expect((err as Error).message, "the network's own frames are left out").to.not.contain('network.ts');
  });

  it('times out on a disabled end and works once enabled (disconnect)', async () => {
    await withNet(1, async (net) => {
      const end = net.makeEnd('e');
      net.connect('e', 's');
      const t0 = performance.now();
      expect(await rejection(end.call('Junk.Echo', 1))).to.be.instanceOf(TimeoutError);
      expect(performance.now() - t0).to.be.lessThan(100);
      expect(net.getCount('s')).to.equal(0);
      net.enable('e', true);
      expect(await end.call('Junk.Echo', 2)).to.equal(2);
      expect(net.getCount('s')).to.equal(1);
    });
  });

  it('counts calls per server and in total', async () => {
    await withNet(1, async (net) => {
      net.addServer('t', new Server().addService(new Junk()));
      const a = connectedEnd(net, 'a', 's');
      const b = connectedEnd(net, 'b', 't');
      for (let i = 0; i < 17; i++) await a.call('Junk.Echo', i);
      for (let i = 0; i < 5; i++) await b.call('Junk.Echo', i);
      net.enable('b', false);
      await rejection(b.call('Junk.Echo', 0));
      expect(net.getCount('s')).to.equal(17);
      expect(net.getCount('t')).to.equal(5);
      expect(net.getTotalCount()).to.equal(23);
    });
  });

  it('counts bytes of arguments and replies', async () => {
    await withNet(1, async (net) => {
      const end = connectedEnd(net, 'e');
      const big = 'x'.repeat(5000);
      for (let i = 0; i < 10; i++) await end.call('Junk.Echo', big);
      const bytes = net.getTotalBytes();
      expect(bytes)
        .to.be.at.least(2 * 10 * 5000)
        .and.at.most(2 * 10 * 5100);
    });
  });

  it('serves many concurrent ends', async () => {
    await withNet(1, async (net) => {
      const ends = Array.from({ length: 100 }, (_, i) => connectedEnd(net, `e${i}`));
      const replies = await Promise.all(
        ends.flatMap((end, i) => Array.from({ length: 10 }, (_, j) => end.call('Junk.Echo', i * 10 + j))),
      );
      expect(replies).to.deep.equal(Array.from({ length: 1000 }, (_, k) => k));
      expect(net.getCount('s')).to.equal(1000);
    });
  });

  it('loses some but not all calls on the unreliable network, at about the documented rates', async () => {
    await withNet(7, async (net) => {
      net.setReliable(false);
      const end = connectedEnd(net, 'e');
      let ok = 0;
      const n = 2000;
      for (let i = 0; i < n; i++) {
        try {
          await end.call('Junk.Echo', i);
          ok++;
        } catch (err) {
          expect(err).to.be.instanceOf(TimeoutError);
        }
      }
      // 10% requests dropped, then 10% of replies: about 81% succeed; the handler runs about 90% of the time.
      expect(ok / n).to.be.within(0.76, 0.86);
      expect(net.getCount('s') / n).to.be.within(0.86, 0.94);
    });
  });

  it('honours a configurable drop rate', async () => {
    await withNet(8, async (net) => {
      net.setReliable(false);
      net.setDropRates(0.95, 0);
      const end = connectedEnd(net, 'e');
      let ok = 0;
      for (let i = 0; i < 1000; i++)
        ok += await end.call('Junk.Echo', i).then(
          () => 1,
          () => 0,
        );
      expect(ok).to.be.within(25, 80);
      expect(() => net.setDropRates(1.5, 0)).to.throw(RangeError, /between 0 and 1/);
    });
  });

  it("fails a killed server's pending call promptly and never delivers its reply", async () => {
    await withNet(1, async (net) => {
      const end = connectedEnd(net, 'e');
      const replied = sinon.spy();
      const pending = end.call('Junk.Slow', { ms: 10_000 });
      pending.then(replied, () => undefined);
      await sleep(1000);
      net.deleteServer('s');
      const t0 = performance.now();
      expect(await rejection(pending)).to.be.instanceOf(TimeoutError);
      expect(performance.now() - t0).to.be.lessThan(1);
      // The handler finishes at 10 s; its reply must go nowhere: no bytes counted, no resolution.
      const bytes = net.getTotalBytes();
      await sleep(20_000);
      expect(replied.called).to.equal(false);
      expect(net.getTotalBytes()).to.equal(bytes);
    });
  });

  it('does not delay a call after re-enabling behind earlier stuck calls', async () => {
    await withNet(1, async (net) => {
      const end = connectedEnd(net, 'e');
      // Ten calls stuck in a handler that never returns, still pending when the end is re-enabled.
      const outcomes = Array.from({ length: 10 }, () =>
        end.call('Junk.Hang').then(
          () => 'replied',
          (err: unknown) => err,
        ),
      );
      await sleep(50);
      net.enable('e', false);
      net.enable('e', true);
      const t0 = performance.now();
      expect(await end.call('Junk.Echo', 'fresh')).to.equal('fresh');
      expect(performance.now() - t0, 'one ordinary round trip, not a wait behind the stuck calls').to.be.lessThan(1);
      for (const outcome of await Promise.all(outcomes)) expect(outcome).to.be.instanceOf(TimeoutError);
    });
  });

  it('fails the calls in flight of a deleted end, and refuses its later calls', async () => {
    await withNet(1, async (net) => {
      const end = connectedEnd(net, 'e');
      const stuck = end.call('Junk.Hang');
      await sleep(50);
      const onTheWire = end.call('Junk.Echo', 1);
      net.deleteEnd('e');
      expect(await rejection(stuck)).to.be.instanceOf(TimeoutError);
      expect(await rejection(onTheWire)).to.be.instanceOf(TimeoutError);
    });
    const err = await rejection(
      withNet(1, async (net) => {
        const end = connectedEnd(net, 'e');
        net.deleteEnd('e');
        await end.call('Junk.Echo', 1);
      }),
    );
    expect(err).to.be.instanceOf(RpcUsageError);
    expect((err as Error).message)
      .to.contain('"e" was deleted')
      .and.contain('make a new end');
  });

  it('numbers the calls of an end made again under a deleted end’s name on from where the deleted one stopped, so that its draws are new', async () => {
    /** The virtual time each of `calls` sequential echoes takes on end "e" (each a draw of the call's own key). */
    const times = (net: Network, calls: number) =>
      (async () => {
        const end = connectedEnd(net, 'e');
        const out: number[] = [];
        for (let i = 0; i < calls; i++) {
          const t0 = performance.now();
          await end.call('Junk.Echo', i);
          out.push(performance.now() - t0);
        }
        return out;
      })();
    const straight = await withNet(5, (net) => times(net, 6));
    const remade = await withNet(5, async (net) => {
      const first = await times(net, 2);
      net.deleteEnd('e');
      const second = await times(net, 2); // a deleted end's book kept as its count alone, then a book again
      net.deleteEnd('e');
      return [...first, ...second, ...(await times(net, 2))];
    });
    expect(new Set(straight).size, 'the six calls draw six different delays').to.equal(6);
    expect(remade).to.deep.equal(straight);
  });

  it('on cleanup fails every call in flight, on the wire either way or in a handler, and refuses new calls', async () => {
    const echo = sinon.spy(Junk.prototype, 'Echo');
    try {
      const err = await rejection(
        withNet(1, async (net) => {
          const end = connectedEnd(net, 'e');
          net.setLongReordering(true);
          const stuck = end.call('Junk.Hang');
          const echoes = Array.from({ length: 10 }, (_, i) =>
            end.call('Junk.Echo', i).then(
              () => 'ok',
              (e: unknown) => e,
            ),
          );
          await sleep(1);
          expect(echo.callCount, 'every handler ran; long reordering holds most replies on the wire').to.equal(10);
          const requestOnTheWire = end.call('Junk.Echo', 'late');
          net.cleanup();
          expect(await rejection(stuck)).to.be.instanceOf(TimeoutError);
          expect(await rejection(requestOnTheWire)).to.be.instanceOf(TimeoutError);
          expect(echo.callCount, 'a request still on the wire at cleanup never reaches its handler').to.equal(10);
          const outcomes = await Promise.all(echoes);
          const lost = outcomes.filter((o) => o instanceof TimeoutError).length;
          expect(lost, 'replies held back on the wire at cleanup are lost').to.be.greaterThan(0);
          expect(outcomes.filter((o) => o === 'ok').length + lost).to.equal(10);
          await end.call('Junk.Echo', 'after');
        }),
      );
      expect(err).to.be.instanceOf(RpcUsageError);
      expect((err as Error).message).to.contain('after network.cleanup()');
    } finally {
      echo.restore();
    }
  });

  it('makes unreachable calls wait up to 7 s with long delays, and under 100 ms without', async () => {
    await withNet(2, async (net) => {
      const end = net.makeEnd('e');
      net.connect('e', 'nobody');
      const waits = async (): Promise<number> => {
        let max = 0;
        for (let i = 0; i < 12; i++) {
          const t0 = performance.now();
          await rejection(end.call('Junk.Echo', i));
          max = Math.max(max, performance.now() - t0);
        }
        return max;
      };
      expect(await waits()).to.be.lessThan(100);
      net.setLongDelays(true);
      expect(await waits()).to.be.within(1000, 7000);
    });
  });

  it('holds back about two thirds of replies by 200–2200 ms with long reordering', async () => {
    await withNet(4, async (net) => {
      net.setLongReordering(true);
      const end = connectedEnd(net, 'e');
      const latencies = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const t0 = performance.now();
          await end.call('Junk.Echo', i);
          return performance.now() - t0;
        }),
      );
      const late = latencies.filter((ms) => ms >= 200);
      expect(late.length / latencies.length).to.be.within(0.55, 0.78);
      expect(Math.max(...latencies)).to.be.lessThan(2201);
    });
  });

  it('is deterministic: the same seed gives the same trace, another seed another', async () => {
    const scenario = async (seed: number): Promise<{ hash: string; outcome: string }> => {
      const world = new World({ seed });
      const outcome = await world.run(async () => {
        const net = new Network();
        net.setReliable(false);
        net.setLongReordering(true);
        net.addServer('s', new Server().addService(new Junk()));
        const results = await Promise.all(
          Array.from({ length: 5 }, async (_, c) => {
            const end = connectedEnd(net, `c${c}`);
            let log = '';
            for (let i = 0; i < 20; i++)
              log += await end.call('Junk.Echo', i).then(
                () => 'o',
                () => 'x',
              );
            return log;
          }),
        );
        return results.join('|') + `@${performance.now().toFixed(6)}`;
      });
      return { hash: world.traceHash(), outcome };
    };
    const a = await scenario(42);
    const b = await scenario(42);
    const c = await scenario(43);
    expect(b).to.deep.equal(a);
    expect(c.hash).to.not.equal(a.hash);
  });
});
