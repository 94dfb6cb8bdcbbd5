/** The monitors' key of a call's arguments: equal exactly for the same call, short or long. */
import { expect } from 'chai';
import { argsKey, type CallRecord } from '../../../suite/monitors/calls';

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

  it('keeps long arguments short: a digest and the length', () => {
    expect(argsKey(call('M', { value: 'x'.repeat(1_000_000) })).length).to.be.below(100);
  });
});
