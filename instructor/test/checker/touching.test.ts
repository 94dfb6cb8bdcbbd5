/** One client's touching operations put in order (checker/touching.ts), against the rule it implements. */
import { expect } from 'chai';
import fc from 'fast-check';
import { orderTouching } from '../../../checker/touching';
import type { Operation } from '../../../checker/types';

type Op = Operation<number, number>;

/**
 * The rule written out plainly (the checker's first version): the distinct finite times sorted, their smallest gap,
 * and the operations visited in order of call (ties in history order), each call that touches its client's previous
 * return moved just after that return's new time.
 */
function reference(history: readonly Op[]): readonly Op[] {
  const times = [...new Set(history.flatMap((o) => [o.call, o.return]).filter(Number.isFinite))].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i] - times[i - 1]);
  const step = (Number.isFinite(gap) ? gap : 1) / (2 * (history.length + 1));
  const out = history.slice();
  const previous = new Map<number, { original: number; moved: number }>();
  const byCall = history.map((_, i) => i).sort((a, b) => history[a].call - history[b].call || a - b);
  for (const i of byCall) {
    const op = history[i];
    const prev = previous.get(op.clientId);
    if (prev && op.call === prev.original) {
      const call = prev.moved + step;
      out[i] = { ...op, call, return: Math.max(op.return, call) };
    }
    previous.set(op.clientId, { original: op.return, moved: out[i].return });
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
