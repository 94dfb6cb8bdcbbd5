/** The natural order of partition keys and end names (checker/natural-order.ts), which needs no locale data. */
import { expect } from 'chai';
import fc from 'fast-check';
import { naturalOrder } from '../../../checker/natural-order';

/** Lower-case letters and digits, no digit run starting with 0: the keys the suites use. */
const plainKey = fc
  .array(fc.oneof(fc.stringMatching(/^[a-z]{1,3}$/), fc.stringMatching(/^[1-9][0-9]{0,12}$/)), { maxLength: 4 })
  .map((parts) => parts.join(''));

describe('naturalOrder', () => {
  it('orders runs of digits by their value and the rest by code unit', () => {
    const sorted = ['k10', 'k2', '', 'b', 'k1', 'a10', 'a9', 'k', '__proto__', 'K1', '10', '9'].sort(naturalOrder);
    expect(sorted).to.deep.equal(['', '9', '10', 'K1', '__proto__', 'a9', 'a10', 'b', 'k', 'k1', 'k2', 'k10']);
  });

  it('orders digit runs longer than a number can hold exactly, and leading zeros', () => {
    expect(naturalOrder('x99999999999999999999', 'x100000000000000000000')).to.be.lessThan(0);
    expect(naturalOrder('x12345678901234567891', 'x12345678901234567890')).to.be.greaterThan(0);
    expect(naturalOrder('v007', 'v8')).to.be.lessThan(0);
    expect(naturalOrder('v01', 'v1')).to.be.lessThan(0); // equal in value: the plain order decides
    expect(naturalOrder('v1', 'v01')).to.be.greaterThan(0);
  });

  it('is a total order: antisymmetric, zero only for equal strings, transitive', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        expect(Math.sign(naturalOrder(a, b))).to.equal(-Math.sign(naturalOrder(b, a)));
        expect(naturalOrder(a, b) === 0).to.equal(a === b);
        const [x, y, z] = [a, b, c].sort(naturalOrder);
        expect(naturalOrder(x, z)).to.be.at.most(0);
        expect(naturalOrder(x, y)).to.be.at.most(0);
        expect(naturalOrder(y, z)).to.be.at.most(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with localeCompare(b, 'en', { numeric: true }) on the suites' keys", () => {
    fc.assert(
      fc.property(plainKey, plainKey, (a, b) => {
        expect(Math.sign(naturalOrder(a, b))).to.equal(Math.sign(a.localeCompare(b, 'en', { numeric: true })));
      }),
      { numRuns: 5000 },
    );
  });
});
