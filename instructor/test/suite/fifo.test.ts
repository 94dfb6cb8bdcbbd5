/** The suite's FIFO queue: items come out in the order they went in, across its compactions. */
import { expect } from 'chai';
import { Fifo } from '../../../suite/fifo';

describe('suite: Fifo', () => {
  it('takes items in the order they were queued, interleaved and across compactions', () => {
    const q = new Fifo<number>();
    expect(q.shift()).to.equal(undefined);
    const taken: number[] = [];
    let next = 0;
    // Uneven pushes and takes, so that the queue compacts at many different heads and lengths.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < (round % 7) * 40 + 13; i++) q.push(next++);
      for (let i = 0; i < (round % 5) * 50 + 7 && q.length > 0; i++) taken.push(q.shift() as number);
    }
    expect(q.length).to.equal(next - taken.length);
    for (let v = q.shift(); v !== undefined; v = q.shift()) taken.push(v);
    expect(q.length).to.equal(0);
    expect(taken).to.deep.equal(Array.from({ length: next }, (_, i) => i));
  });

  it('keeps falsy items (0, "", null) as items', () => {
    const q = new Fifo<number | string | null>();
    q.push(0);
    q.push('');
    q.push(null);
    expect([q.shift(), q.shift(), q.shift(), q.length]).to.deep.equal([0, '', null, 0]);
  });
});
