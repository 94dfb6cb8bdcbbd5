/** The simulated world: virtual time, seeded randomness, the run loop and its limits. */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Network, Server } from '../../../labrpc';
import { liveHeapBytes } from '../../../suite/memory';
import {
  DeadlockError,
  Rng,
  UncaughtError,
  VirtualTimeLimitError,
  WatchdogError,
  World,
  keyPrefix,
  keyedRngAfter,
  sleep,
} from '../../../world';

describe('simulated world', () => {
  it('keys a generator by a whole number as by its decimal string', () => {
    const draws = (rng: Rng): number[] => [rng.nextUint32(), rng.nextUint32()];
    const prefix = keyPrefix(12345, 'client-7#');
    const rng = new Rng(99);
    const numbers = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1];
    for (let i = 0; i < 200; i++) numbers.push(rng.int(2 ** 31));
    for (const n of numbers)
      expect(draws(keyedRngAfter(prefix, n)), `key ${n}`).to.deep.equal(draws(keyedRngAfter(prefix, String(n))));
  });

  it('fires timers in virtual time order and moves Date.now and performance.now with them', async () => {
    const world = new World({ seed: 1 });
    const log = await world.run(async () => {
      const seen: string[] = [];
      const start = Date.now();
      setTimeout(() => seen.push(`b@${Date.now() - start}`), 20);
      setTimeout(() => seen.push(`a@${Date.now() - start}`), 10);
      setTimeout(() => seen.push(`c@${performance.now()}`), 30);
      await sleep(1000);
      return seen;
    });
    expect(log).to.deep.equal(['a@10', 'b@20', 'c@30']);
    expect(world.now()).to.equal(1000);
  });

  it('stops the timers marked as the code’s, and lets go of what a stopped or cleared timer’s callback held', async () => {
    const world = new World({ seed: 1 });
    const fired = await world.run(async () => {
      const seen: string[] = [];
      const code = setTimeout(() => seen.push('code'), 50);
      const interval = setInterval(() => seen.push('interval'), 30);
      setTimeout(() => seen.push('harness'), 60);
      world.timers.markCode(code);
      world.timers.markCode(interval);
      // A cleared timer's callback is dropped at once, not kept until its time comes: what it refers to can go.
      const before = liveHeapBytes();
      ((): void => {
        const big = new Array<number>(1_000_000).fill(1.5); // 8 MB of doubles
        clearTimeout(setTimeout(() => big.length, 1_000_000_000));
      })();
      const kept = liveHeapBytes() - before;
      expect(kept, 'a cleared timer no longer holds its callback').to.be.below(1_000_000);
      expect(world.stopCodeTimers()).to.equal(2);
      await sleep(100);
      return seen;
    });
    expect(fired).to.deep.equal(['harness']);
  });

  it('jumps over idle virtual time instead of waiting for it', async () => {
    const world = new World({ seed: 1, virtualLimitMs: Infinity });
    await world.run(() => sleep(3_600_000));
    expect(world.now()).to.equal(3_600_000);
    expect(world.eventCount).to.equal(1);
  });

  it('runs setInterval until cleared, and clearTimeout cancels', async () => {
    const ticks = await new World({ seed: 1 }).run(async () => {
      let n = 0;
      const h = setInterval(() => {
        if (++n === 5) clearInterval(h);
      }, 100);
      const never = setTimeout(() => (n = 1000), 50);
      clearTimeout(never);
      await sleep(10_000);
      return n;
    });
    expect(ticks).to.equal(5);
  });

  it('gives its timer handles no numeric value: none tells how many events the run has had', async () => {
    const values = await new World({ seed: 1 }).run(async () => {
      const read = (): number => Number(setImmediate(() => undefined) as unknown);
      const first = read();
      for (let i = 0; i < 10; i++) setImmediate(() => undefined);
      await sleep(1);
      return [first, read(), Number(setTimeout(() => undefined, 5) as unknown)];
    });
    expect(values.every((v) => Number.isNaN(v))).to.equal(true);
  });

  it('treats delays below 1 ms as 1 ms, as Node does', async () => {
    const world = new World({ seed: 1 });
    await world.run(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
    expect(world.now()).to.equal(1);
  });

  it('makes Math.random and crypto.randomUUID follow the seed', async () => {
    const draw = (seed: number) =>
      new World({ seed }).run(async () => [
        Math.random(),
        Math.random(),
        crypto.randomUUID(),
        new Date().toISOString(),
      ]);
    const a = await draw(5);
    expect(await draw(5)).to.deep.equal(a);
    expect(await draw(6)).to.not.deep.equal(a);
    expect(a[2]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('restores the real clock after the run, even when the body throws', async () => {
    const realSetTimeout = setTimeout;
    const realRandom = Math.random;
    const err = await new World({ seed: 1 }).run(() => Promise.reject(new Error('body failed'))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('body failed');
    expect(setTimeout).to.equal(realSetTimeout);
    expect(Math.random).to.equal(realRandom);
    expect(Date.now()).to.be.greaterThan(Date.UTC(2026, 0, 2));
  });

  it('reports a deadlock when the body waits and nothing is scheduled', async () => {
    const err = await new World({ seed: 1 })
      .run(async () => {
        await sleep(5);
        await new Promise(() => undefined);
      })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(DeadlockError);
    expect((err as Error).message).to.contain('0.005 s');
  });

  it('stops a run at its virtual time limit', async () => {
    const err = await new World({ seed: 1, virtualLimitMs: 5000 })
      .run(async () => {
        for (;;) await sleep(100);
      })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(VirtualTimeLimitError);
    expect((err as Error).message).to.contain('5 s');
  });

  it('stops code that yields forever without finishing (real-time watchdog)', async () => {
    const err = await new World({ seed: 1, realLimitMs: 200, virtualLimitMs: Infinity })
      .run(async () => {
        for (;;) await new Promise((r) => setImmediate(r));
      })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(WatchdogError);
  });

  it('labels an exception thrown by a timer callback as uncaught', async () => {
    const err = await new World({ seed: 1 })
      .run(async () => {
        setTimeout(() => {
          throw new Error('thrown in a timer');
        }, 5);
        await sleep(100);
      })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(UncaughtError);
    expect((err as UncaughtError).error).to.be.instanceOf(Error);
    expect((err as Error).message)
      .to.contain('thrown in a timer')
      .and.contain('timer callback');
  });

  it('lets a failure reported from inside the world end the run', async () => {
    const world = new World({ seed: 1 });
    const err = await world
      .run(async () => {
        setTimeout(() => world.fail(new Error('handler crashed')), 10);
        await sleep(1000);
      })
      .catch((e: Error) => e);
    expect((err as Error).message).to.equal('handler crashed');
    expect(world.now()).to.equal(10);
  });

  it('refuses invalid seeds with a message saying what a seed is', () => {
    for (const bad of [-1, NaN, 1.5, Infinity]) {
      expect(() => new World({ seed: bad })).to.throw(RangeError, /whole number/);
    }
  });

  it('refuses to run two worlds at once and to run a world twice', async () => {
    const w = new World({ seed: 1 });
    await w.run(async () => {
      const err = await new World({ seed: 2 }).run(async () => 1).catch((e: Error) => e);
      expect((err as Error).message).to.contain('already running');
    });
    const again = await w.run(async () => 1).catch((e: Error) => e);
    expect((again as Error).message).to.contain('already run');
  });

  it('has a seeded generator that is uniform enough and reproducible', () => {
    const a = new Rng(99);
    const b = new Rng(99);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const x = a.int(4);
      expect(b.int(4)).to.equal(x);
      counts[x]++;
    }
    for (const c of counts) expect(c).to.be.within(9_500, 10_500);
  });

  it('makes text that never repeats, lives on the heap, and stays the same for a seed (memory tests weigh it)', () => {
    const length = 3 * 1024 * 1024 + 7;
    const external = process.memoryUsage().external;
    const text = new Rng(5).text(length);
    expect(text).to.have.length(length);
    expect(text).to.match(/^[A-Za-z0-9_-]*$/);
    // A string node keeps off V8's heap would hide a server's copies from a weighing of the heap alone.
    expect(process.memoryUsage().external - external).to.be.below(1024 * 1024);
    for (const at of [0, 8190, length - 100]) expect(text.indexOf(text.slice(at, at + 48), at + 1)).to.equal(-1);
    expect(new Rng(5).text(length) === text).to.equal(true);
    // The values of every sweep so far: draws restart at each 8,192-character chunk.
    expect(createHash('sha256').update(new Rng(1).text(20_000)).digest('hex').slice(0, 16)).to.equal(
      'cd764d955e95a927',
    );
  });

  it('hands out floats with 53 random bits, so 2^52-sized ids drawn through Math.random do not collide', async () => {
    const rng = new Rng(7);
    let lowBitsSet = 0;
    for (let i = 0; i < 1000; i++) {
      const x = rng.float();
      expect(x).to.be.within(0, 1 - 2 ** -53);
      if ((x * 2 ** 53) % 2 ** 21 !== 0) lowBitsSet++; // bits a 32-bit fraction would leave at zero
    }
    expect(lowBitsSet).to.be.above(990);
    // The handout's advice (ids of about 2^52) over 200,000 clerks in the world: no two alike (32 bits collided).
    const ids = await new World({ seed: 418252826 }).run(async () => {
      const seen = new Set<number>();
      for (let i = 0; i < 200_000; i++) seen.add(Math.floor(Math.random() * 2 ** 52));
      return seen.size;
    });
    expect(ids).to.equal(200_000);
  });

  it('keeps nothing alive that a fired event held, so memory tests see what a test dropped', async () => {
    // The lab memory tests' own method: the heap freed when a server is deleted after a long run of calls.
    await new World({ seed: 1 }).run(async () => {
      const net = new Network();
      // Only the network holds the service (8 MB of numbers on the heap).
      net.addServer(
        's',
        new Server().addService({ heavy: new Array<number>(1_000_000).fill(7), Echo: (x: unknown) => x }, 'Junk'),
      );
      const end = net.makeEnd('e');
      net.connect('e', 's');
      net.enable('e', true);
      for (let i = 0; i < 20_000; i++) await end.call('Junk.Echo', i);
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
      const before = liveHeapBytes();
      net.deleteServer('s');
      const freed = before - liveHeapBytes();
      expect(freed, 'bytes freed by dropping an 8 MB service').to.be.greaterThan(7_000_000);
    });
  });

  it("seeds crypto's random functions and runs process.hrtime on the virtual clock, and restores them after", async () => {
    const draw = (seed: number) =>
      new World({ seed }).run(async () => {
        const crypto = process.getBuiltinModule('node:crypto');
        const web = globalThis.crypto.getRandomValues(new Uint32Array(4));
        const node = crypto.getRandomValues(new Uint8Array(8));
        const bytes = crypto.randomBytes(16).toString('hex');
        const filled = crypto.randomFillSync(Buffer.alloc(6), 2, 3).toString('hex');
        const words = Array.from(crypto.randomFillSync(new Uint32Array(4), 1, 2));
        const ints = [crypto.randomInt(10), crypto.randomInt(5, 9)];
        const later = await new Promise<string>((resolve) =>
          crypto.randomBytes(4, (err, buf) => resolve(buf.toString('hex'))),
        );
        const t0 = process.hrtime.bigint();
        const start = process.hrtime();
        await sleep(1500);
        const elapsed = process.hrtime(start);
        return {
          values: [Array.from(web), Array.from(node), bytes, filled, ints, later, words],
          hr: [Number(process.hrtime.bigint() - t0), elapsed],
        };
      });
    const a = await draw(5);
    expect(await draw(5), 'the same seed gives the same values').to.deep.equal(a);
    expect((await draw(6)).values).to.not.deep.equal(a.values);
    expect((a.values[3] as string).slice(0, 4), 'randomFillSync leaves bytes outside its range alone').to.equal('0000');
    const words = a.values[6] as number[];
    expect([words[0], words[3]], 'offset and size count elements of a typed array, as in Node').to.deep.equal([0, 0]);
    expect(words[1] * words[2]).to.not.equal(0);
    expect(a.hr[0]).to.equal(1_500_000_000);
    expect(a.hr[1]).to.deep.equal([1, 500_000_000]);
    const realRandom = process.getBuiltinModule('node:crypto').randomBytes(16).toString('hex');
    expect(realRandom, 'outside a world the real generator is back').to.not.equal(a.values[2]);
    expect(process.hrtime.bigint() > 10_000_000_000n, 'real hrtime counts from boot, not from a world').to.equal(true);
  });

  it('restores everything it patched when a patch fails halfway, so the next world still runs', async () => {
    const original = { random: Math.random, setTimeout: globalThis.setTimeout, hrtime: process.hrtime };
    const defineProperty = Object.defineProperty;
    // Refuse the world's replacement of process.hrtime (one of the last patches), as a locked property would.
    // (Replaced by hand: sinon itself defines properties while it records a call.)
    Object.defineProperty = ((target: object, key: PropertyKey, desc: PropertyDescriptor) => {
      if (target === process && key === 'hrtime' && desc.value !== original.hrtime)
        throw new TypeError('Cannot redefine property: hrtime');
      return defineProperty(target, key, desc);
    }) as typeof Object.defineProperty;
    let failure: unknown;
    try {
      await new World({ seed: 1 }).run(() => 1).catch((err: unknown) => (failure = err));
    } finally {
      Object.defineProperty = defineProperty;
    }
    expect(String(failure)).to.contain('Cannot redefine property: hrtime');
    expect(Math.random).to.equal(original.random);
    expect(globalThis.setTimeout).to.equal(original.setTimeout);
    expect(process.hrtime).to.equal(original.hrtime);
    expect(await new World({ seed: 2 }).run(async () => (await sleep(5), Date.now() % 1000))).to.equal(5);
  });
});
