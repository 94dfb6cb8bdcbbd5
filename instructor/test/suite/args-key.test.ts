/** The monitors' key of a call's arguments: equal exactly for the same call, short or long. */
import { expect } from 'chai';
import fc from 'fast-check';
import { argsKey, sameCall, type CallRecord } from '../../../suite/monitors/calls';

/** A call record with `args` (the other fields do not enter the key). */
function call(method: string, args: unknown): CallRecord {
  return {
    sender: 'a',
    receiver: 'b',
    method,
    sentAt: 0,
    othersInFlight: 0,
    othersToReceiver: 0,
    args,
    tester: false,
    shared: false,
  };
}

describe('suite: argsKey', () => {
  for (const size of [10, 100_000]) {
    it(`arguments of ${size} characters: the same fields in another order are the same call, one character more is not`, () => {
      const v = 'x'.repeat(size);
      const a = argsKey(call('M', { key: 'k', value: v }));
      expect(argsKey(call('M', { value: v, key: 'k' }))).to.equal(a);
      expect(argsKey(call('M', { key: 'k', value: `${v}y` }))).to.not.equal(a);
      expect(argsKey(call('M', { key: 'k', value: `y${v.slice(1)}` }))).to.not.equal(a);
      expect(argsKey(call('M', { key: 'k', value: `${v.slice(0, -1)}y` }))).to.not.equal(a);
      expect(argsKey(call('N', { key: 'k', value: v }))).to.not.equal(a);
    });
  }

  /** `v` again, every object's fields in reverse order (the same data, written in another order). */
  function reordered(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(reordered);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).reverse()) out[k] = reordered((v as Record<string, unknown>)[k]);
    return out;
  }

  /** Plain data as labrpc carries it (fast-check's JSON values: objects, arrays, strings, numbers, booleans, null). */
  const data = fc.jsonValue({ maxDepth: 4 });

  it('the same key for the same data in any field order (fast-check, 500 values)', () => {
    fc.assert(
      fc.property(data, (v) => argsKey(call('M', v)) === argsKey(call('M', reordered(v)))),
      { numRuns: 500, seed: 42 },
    );
  });

  it('one key exactly when sameCall holds (fast-check, 2,000 pairs, half of them near each other)', () => {
    const near = data.chain((v) => fc.tuple(fc.constant(v), fc.oneof(data, fc.constant(reordered(v)))));
    fc.assert(
      fc.property(fc.oneof(fc.tuple(data, data), near), ([a, b]) => {
        const [x, y] = [call('M', a), call('M', b)];
        return (argsKey(x) === argsKey(y)) === sameCall(x, y);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('keys what is not plain data by JSON.stringify (a class object, a bigint, a cycle) without throwing', () => {
    class Point {
      readonly x: number;
      readonly y: number;
      constructor(x: number, y: number) {
        this.x = x;
        this.y = y;
      }
    }
    expect(argsKey(call('M', new Point(1, 2)))).to.equal(argsKey(call('M', new Point(1, 2))));
    expect(argsKey(call('M', new Point(1, 2)))).to.not.equal(argsKey(call('M', new Point(1, 3))));
    expect(argsKey(call('M', { n: 10n }))).to.be.a('string');
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(argsKey(call('M', cycle))).to.be.a('string');
  });

  it('keeps long arguments short: a digest and the length', () => {
    expect(argsKey(call('M', { value: 'x'.repeat(1_000_000) })).length).to.be.below(100);
  });
});
