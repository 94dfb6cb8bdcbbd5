/** The lab 4 bench's notes say whether each figure met its target (the bench reports; it never fails). */
import { expect } from 'chai';
import { targetNote } from '../../../instructor/bench/lab4';

describe('lab4 bench: target notes', () => {
  it('says met or NOT MET, the target written as the other sections write theirs', () => {
    expect(targetNote(2431.6, { atLeast: 2000 })).to.equal('target ≥ 2,000: met');
    expect(targetNote(2000, { atLeast: 2000 })).to.equal('target ≥ 2,000: met');
    expect(targetNote(1999.9, { atLeast: 2000 })).to.equal('target ≥ 2,000: NOT MET');
    expect(targetNote(14.99, { below: 15, unit: 'ms' })).to.equal('target < 15 ms: met');
    expect(targetNote(15, { below: 15, unit: 'ms' })).to.equal('target < 15 ms: NOT MET');
  });
});
