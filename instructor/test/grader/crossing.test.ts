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
});
