/** One client's touching operations put in order (checker/touching.ts), against the rule it implements. */
import { expect } from 'chai';
import fc from 'fast-check';
import { orderTouching } from '../../../checker/touching';
import type { Operation } from '../../../checker/types';

type Op = Operation<number, number>;

/**
 * The rule written out plainly, client by client: the distinct finite times sorted, their smallest gap, and each
 * client's operations in order of call (ties in history order), each call that touches the client's previous return
 * moved just after where that return now is.
 */
function reference(history: readonly Op[]): readonly Op[] {
  const times = [...new Set(history.flatMap((o) => [o.call, o.return]).filter(Number.isFinite))].sort((a, b) => a - b);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const step = (gaps.length > 0 ? Math.min(...gaps) : 1) / (2 * (history.length + 1));
  const out = history.slice();
  for (const client of new Set(history.map((o) => o.clientId))) {
    const mine = history
      .map((op, index) => ({ op, index }))
      .filter(({ op }) => op.clientId === client)
      .sort((a, b) => a.op.call - b.op.call || a.index - b.index);
    mine.forEach(({ op, index }, k) => {
      if (k === 0 || op.call !== mine[k - 1].op.return) return;
      const call = out[mine[k - 1].index].return + step;
      out[index] = { ...op, call, return: Math.max(op.return, call) };
    });
  }
  return out;
}

/**
 * Histories with many ties: times on a coarse grid (so calls often touch a return, of the same client or another),
 * some operations that take no time, some never returning; in the order of their calls (as a recorder makes them)
 * or shuffled.
 */
const history = fc
  .array(
    fc.record({
      clientId: fc.integer({ min: 0, max: 3 }),
      call: fc.integer({ min: -3, max: 12 }).map((t) => t / 4),
      length: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 6 }).map((d) => d / 4),
        fc.constant(Infinity),
      ),
    }),
    { maxLength: 24 },
  )
  .chain((raw) => {
    const ops: Op[] = raw.map((r, i) => ({
      clientId: r.clientId,
      input: i,
      output: i,
      call: r.call,
      return: r.call + r.length,
    }));
    const inOrder = [...ops].sort((a, b) => a.call - b.call);
    return fc.oneof(fc.constant(inOrder), fc.shuffledSubarray(ops, { minLength: ops.length }));
  });

describe('orderTouching', () => {
  it('moves a client’s call that touches its previous return just after it, and nothing else', () => {
    const ops: Op[] = [
      { clientId: 0, input: 0, output: 0, call: 0, return: 1 },
      { clientId: 0, input: 1, output: 1, call: 1, return: 1 }, // touches, and takes no time
      { clientId: 1, input: 2, output: 2, call: 1, return: 2 }, // touches another client's return: stays
      { clientId: 0, input: 3, output: 3, call: 1, return: 3 }, // touches the moved return of the op before
    ];
    const [a, b, c, d] = orderTouching(ops);
    expect(a).to.equal(ops[0]);
    expect(c).to.equal(ops[2]);
    // The smallest gap is 1, so each move is 1 / (2 * (4 + 1)).
    expect(b.call).to.be.closeTo(1.1, 1e-12);
    expect(b.return).to.be.closeTo(1.1, 1e-12);
    expect(d.call).to.be.closeTo(1.2, 1e-12);
    expect(d.return).to.equal(3);
  });

  it('gives what the rule written out plainly gives, on 2,000 drawn histories with ties, in call order or not', () => {
    fc.assert(
      fc.property(history, (ops) => {
        expect(orderTouching(ops)).to.deep.equal(reference(ops));
      }),
      { numRuns: 2000, seed: 20261129 },
    );
  });
});
