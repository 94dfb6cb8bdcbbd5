/** Whole numbers printed in groups of three digits (suite/digits.ts), without Intl. */
import { expect } from 'chai';
import fc from 'fast-check';
import { groupDigits } from '../../../suite/digits';

describe('groupDigits', () => {
  it('prints whole numbers as en-US does', () => {
    expect([0, 7, 999, 1000, 5000, 100_000, 1_234_567, -1000, -999].map(groupDigits)).to.deep.equal([
      '0',
      '7',
      '999',
      '1,000',
      '5,000',
      '100,000',
      '1,234,567',
      '-1,000',
      '-999',
    ]);
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(groupDigits(n)).to.equal(n.toLocaleString('en-US'));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a number that is not a safe whole number, naming it', () => {
    expect(() => groupDigits(1.5)).to.throw(RangeError, /whole numbers, not 1.5/);
    expect(() => groupDigits(NaN)).to.throw(RangeError, /not NaN/);
  });
});
