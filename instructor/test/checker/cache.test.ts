/** The cache of explored (set, state) pairs must compare sets and states exactly, not just hashes. */
import { expect } from 'chai';
import { StateCache } from '../../../checker/cache';
import { check } from '../../../checker/linearizability';
import { kvModel, KvInput, KvOutput, KvState } from '../../../checker/models/kv';
import type { Model } from '../../../checker/types';
import { get, put } from './helpers';

describe('StateCache', () => {
  const bits = (...words: number[]): Uint32Array => Uint32Array.from(words);

  it('finds an equal pair again, whatever the hashes say about others', () => {
    const c = new StateCache<string>((a, b) => a === b);
    expect(c.addIfNew(bits(0xffffffff, 5), 1, 1, 7, 9, 's')).to.equal(true);
    expect(c.addIfNew(bits(0xffffffff, 5), 1, 1, 7, 9, 's')).to.equal(false);
    expect(c.size).to.equal(1);
  });

  it('keeps pairs apart when only the hashes collide', () => {
    const c = new StateCache<string>((a, b) => a === b);
    expect(c.addIfNew(bits(1), 0, 0, 0, 0, 's')).to.equal(true);
    expect(c.addIfNew(bits(2), 0, 0, 0, 0, 's'), 'another set').to.equal(true);
    expect(c.addIfNew(bits(1), 0, 0, 0, 0, 't'), 'another state').to.equal(true);
    expect(c.addIfNew(bits(0xffffffff, 1), 1, 1, 0, 0, 's'), 'the same low word, at another position').to.equal(true);
    expect(c.addIfNew(bits(0xffffffff, 1, 0), 1, 1, 0, 0, 's'), 'the same set again').to.equal(false);
    expect(c.addIfNew(bits(0xffffffff, 1, 1), 1, 2, 0, 0, 's'), 'a longer set').to.equal(true);
    expect(c.size).to.equal(5);
  });

  it('survives growth (many nodes, many buckets)', () => {
    const c = new StateCache<number>((a, b) => a === b);
    for (let i = 0; i < 5000; i++) expect(c.addIfNew(bits(i, i >>> 3), 0, 1, i * 31, i & 7, i & 3)).to.equal(true);
    for (let i = 0; i < 5000; i++) expect(c.addIfNew(bits(i, i >>> 3), 0, 1, i * 31, i & 7, i & 3)).to.equal(false);
    expect(c.size).to.equal(5000);
  });
});

describe('checking with a poor state hash', () => {
  // Every state hashes to 0, so only equality tells states apart: the cache must not confuse them.
  const flat: Model<KvState, KvInput, KvOutput> = { ...kvModel, name: 'kv (flat hash)', hash: () => 0 };

  it('still finds the one order that works', () => {
    // Two concurrent puts, then a read of x: only "put y, put x" explains it; "put x, put y" is tried first.
    const h = [put(0, 'a', 'x', 0, 10), put(1, 'a', 'y', 0, 10), get(2, 'a', 'x', 11, 12)];
    expect(check(flat, h).verdict).to.equal('ok');
    expect(check(kvModel, h).verdict).to.equal('ok');
  });
});
