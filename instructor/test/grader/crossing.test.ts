/**
 * The crossing's copies, each way: plain data read once by its enumerable fields, a function in the code's data or
 * value-class objects left out, errors the code gets made fresh of their class, promises of the code's own.
 */
import { expect } from 'chai';
import { Crossing } from '../../../grader/crossing';

/** A value class both sides hold a copy of (as lab 7's ShardConfig), its twin on the other side. */
class Config {
  num = 1;
  shards = [0, 0];
}
class ConfigTwin {
  num = 0;
  shards: number[] = [];
}

/** An error class both sides hold (as labrpc's TimeoutError). */
class SharedError extends Error {
  override name = 'SharedError';
}

function crossing(): Crossing {
  return new Crossing({
    sharedErrors: [SharedError],
    twin: (proto) => (proto === Config.prototype ? ConfigTwin.prototype : undefined),
  });
}

describe('grader: the crossing', () => {
  it('hands the code one facade per harness object (a table it keys by a clerk works), whose changing fields read live', () => {
    class Clerk {
      calls = 0;
      readonly id = 7;
      get(): number {
        return ++this.calls;
      }
    }
    const c = crossing();
    const ck = new Clerk();
    const seen = new WeakMap<object, string>();
    const first = c.handOver(ck) as { calls: number; id: number; get(): number };
    seen.set(first, 'lock id');
    const second = c.handOver(ck) as typeof first;
    expect(second).to.equal(first);
    expect(seen.get(second)).to.equal('lock id');
    expect(first.get()).to.equal(1);
    expect(second.calls).to.equal(1);
    expect(first.id).to.equal(7);
    // Another crossing (another copy of the code's modules) gets a facade of its own.
    expect(crossing().handOver(ck)).to.not.equal(first);
  });

  it('reads the code’s plain data once, as a copy of the harness’s own: enumerable fields only, a getter run once, functions left out', () => {
    let reads = 0;
    const hidden = Symbol('hidden');
    const data: Record<PropertyKey, unknown> = {
      key: 'k',
      nested: { list: [1, { deep: true }] },
      get counted() {
        reads += 1;
        return reads;
      },
      toJSON: () => 'forged',
      [hidden]: 'symbol field',
    };
    Object.defineProperty(data, '__proto__', { value: 'a field', enumerable: true });
    Object.defineProperty(data, 'secret', { value: 'not enumerable', enumerable: false });
    const got = crossing().receive(data) as Record<PropertyKey, unknown>;
    expect(reads).to.equal(1);
    expect(got).to.not.equal(data);
    expect(Object.getPrototypeOf(got)).to.equal(Object.prototype);
    expect(Object.keys(got)).to.deep.equal(['key', 'nested', 'counted', '__proto__']);
    expect(got.counted).to.equal(1);
    expect(JSON.stringify(got)).to.equal(
      '{"key":"k","nested":{"list":[1,{"deep":true}]},"counted":1,"__proto__":"a field"}',
    );
    (data.nested as { list: unknown[] }).list.push('later');
    expect((got.nested as { list: unknown[] }).list).to.have.length(2);
  });

  it('keeps shared parts shared and cycles as cycles within one copy', () => {
    const part = { x: 1 };
    const data: Record<string, unknown> = { a: part, b: part };
    data.self = data;
    const got = crossing().receive(data) as Record<string, unknown>;
    expect(got.a).to.equal(got.b);
    expect(got.self).to.equal(got);
    expect(got.a).to.not.equal(part);
  });

  it('views a result with a method of its own, and passes what its getter throws on as the code’s', () => {
    const c = crossing();
    const viewed = c.receive({ port: 1, close: () => 'closed' }, true) as { port: number; close(): string };
    expect(viewed.close()).to.equal('closed');
    const boom = new Error('thrown by a getter');
    expect(() =>
      c.receive({
        get value(): never {
          throw boom;
        },
      }),
    ).to.throw(boom);
  });

  it('leaves a function out of a value class’s object the code hands back', () => {
    const made = new Config() as Config & { leak?: unknown };
    made.leak = () => 'the code’s function';
    const got = crossing().receive(made) as ConfigTwin & { leak?: unknown };
    expect(Object.getPrototypeOf(got)).to.equal(ConfigTwin.prototype);
    expect(got.shards).to.deep.equal([0, 0]);
    expect(got.leak).to.equal(undefined);
  });

  it('takes an object made on a value class’s object for one, copied by its own fields (never a view whose methods the harness would run)', () => {
    const real = new Config();
    const impostor = Object.create(real) as Config & { join?: () => unknown };
    Object.defineProperty(impostor, 'join', { value: () => impostor });
    const got = crossing().receive(impostor) as ConfigTwin & { join?: unknown };
    expect(got).to.be.instanceOf(ConfigTwin);
    expect(got.join).to.equal(undefined);
    expect(Object.keys(got)).to.deep.equal([]);
  });

  it('hands the code a fresh error of a shared class (name and message only, a one-line stack) and a promise of its own', async () => {
    const c = crossing();
    const original = new SharedError('lost');
    (original as SharedError & { world?: object }).world = { harness: true };
    const copy = c.handOverThrown(original) as SharedError & { world?: object };
    expect(copy).to.not.equal(original);
    expect(copy).to.be.instanceOf(SharedError);
    expect(copy.name).to.equal('SharedError');
    expect(copy.message).to.equal('lost');
    expect(copy.stack).to.equal('SharedError: lost');
    expect(copy.world).to.equal(undefined);
    const reply = { err: 'OK' };
    const harnessPromise = Promise.resolve(reply);
    const own = c.handOver(harnessPromise) as Promise<unknown>;
    expect(own).to.not.equal(harnessPromise);
    const got = await own;
    expect(got).to.deep.equal(reply);
    expect(got).to.not.equal(reply);
  });

  it('takes no proxy of the code’s for one of its views, whatever its traps answer', () => {
    const asked: PropertyKey[] = [];
    const raw = { secret: 'the code’s own object' };
    const forged = new Proxy(raw, {
      get(target, key) {
        asked.push(key);
        // Answers every symbol with the object itself, as a forged view would answer the crossing's private key.
        return typeof key === 'symbol' ? target : Reflect.get(target, key);
      },
    });
    const c = crossing();
    const got = c.receive(forged);
    expect(got).to.not.equal(forged);
    expect(asked.filter((k) => typeof k === 'symbol')).to.deep.equal([]);
    // Handed back, a real view is the code's object again; the forged one is not the harness's to unwrap.
    expect(c.handOver(got)).to.equal(forged);
  });

  it('settles a promise of the code’s with a species of its own through the crossing (its object is copied)', async () => {
    const raw = { err: 'OK', value: 'v' };
    // A promise whose species makes thenables that hand the code's object to whoever `then` calls, unchecked.
    class Sneaky {
      constructor(executor: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void) {
        executor(
          () => undefined,
          () => undefined,
        );
      }
      then(onFulfilled: (v: unknown) => unknown): void {
        onFulfilled(raw);
      }
    }
    const promise = Promise.resolve(raw) as Promise<unknown> & { constructor: unknown };
    Object.defineProperty(promise, 'constructor', { value: { [Symbol.species]: Sneaky } });
    const got = (await (crossing().receive(promise, true) as Promise<unknown>)) as Record<string, unknown>;
    expect(got).to.not.equal(raw);
    expect(got).to.deep.equal({ err: 'OK', value: 'v' });
  });

  it('copies a value class’s array field index by index, never through a method of the code’s array (its map could hand back itself)', () => {
    let reads = 0;
    const live: number[] = new Proxy([1, 1], {
      get(target, key, receiver) {
        if (key === 'map') return () => live;
        if (key === '0') return ++reads;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const made = new Config();
    made.shards = live;
    const got = crossing().receive(made, true) as ConfigTwin;
    expect(got.shards).to.not.equal(live);
    expect([got.shards[0], got.shards[0]]).to.deep.equal([1, 1]);
    expect(Object.getPrototypeOf(got.shards)).to.equal(Array.prototype);
  });

  it('copies a frozen array whose prototype is the code’s (a hole read through its getter once), never keeps it', () => {
    let reads = 0;
    const proto = Object.create(Array.prototype) as object;
    Object.defineProperty(proto, '0', { get: () => ++reads });
    const arr = Object.freeze(Object.setPrototypeOf(new Array<unknown>(1), proto) as unknown[]);
    const nested = crossing().receive({ data: arr }) as { data: unknown[] };
    expect(nested.data).to.not.equal(arr);
    expect([nested.data[0], nested.data[0]]).to.deep.equal([1, 1]);
    const top = crossing().receive(arr, true) as unknown[];
    expect(top).to.not.equal(arr);
    expect(JSON.stringify(top)).to.equal(JSON.stringify(top));
  });
});
