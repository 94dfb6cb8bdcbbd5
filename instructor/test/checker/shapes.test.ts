/** The checker's explanations name the common shapes of a failing history (checker/shapes.ts). */
import { expect } from 'chai';
import { checkOrExplain } from '../../../checker/explain';
import { kvModel, KvInput, KvOutput } from '../../../checker/models/kv';
import { versionedModel, VersionedInput, VersionedOutput } from '../../../checker/models/versioned';
import { findShapes } from '../../../checker/shapes';
import type { Operation } from '../../../checker/types';
import { append, get, op, put } from './helpers';

/** The explanation of a history that must fail. */
function explain(history: Operation<KvInput, KvOutput>[]): string {
  const out = checkOrExplain(kvModel, history);
  expect(out.result.verdict).to.equal('illegal');
  return out.explanation;
}

/** A lab 2 operation. */
function vget(client: number, value: string | null, version: number, call: number, ret: number) {
  const out: VersionedOutput = value === null ? { err: 'ErrNoKey' } : { err: 'OK', value, version };
  return op<VersionedInput, VersionedOutput>(client, { op: 'get', key: 'k' }, out, call, ret);
}
function vput(client: number, value: string, version: number, err: VersionedOutput['err'], call: number, ret: number) {
  return op<VersionedInput, VersionedOutput>(client, { op: 'put', key: 'k', value, version }, { err }, call, ret);
}

describe('linearizability explanations name the shape', () => {
  it('an append applied twice: its token twice in one value, naming the append', () => {
    const text = explain([
      append(0, 'k', 'a0.0.0', '', 0, 2),
      append(1, 'k', 'a1.0.0', undefined, 1, 3),
      get(2, 'k', 'a0.0.0a1.0.0a0.0.0', 5, 6),
    ]);
    expect(text).to.include('This looks like a write applied twice:');
    expect(text).to.include('saw a value holding "a0.0.0" 2 times, but only one append wrote it');
    expect(text).to.include('client 0: append("k", "a0.0.0") → "", called 0 ms');
    expect(text).to.include('Likely causes: a request executed a second time');
  });

  it('a read of a value no write produced', () => {
    const text = explain([put(0, 'k', 'x', 0, 1), get(1, 'k', 'y', 2, 3)]);
    expect(text).to.include('This looks like a read of a value no write produced:');
    expect(text).to.include(
      'client 1: get("k") → "y" (called 2 ms, returned 3 ms) saw "y", which no write on this key produced',
    );
  });

  it('a value no sequence of the appends can build', () => {
    const text = explain([append(0, 'k', 'ab', '', 0, 1), get(1, 'k', 'abab!', 2, 3)]);
    expect(text).to.include('This looks like a read of a value no write produced:');
    expect(text).to.include('which no sequence of the 1 write on this key called before it returned can produce');
  });

  it('a stale read, naming the write it missed and a later read that saw it', () => {
    const text = explain([
      put(0, 'k', 'x', 0, 1),
      put(1, 'k', 'y', 2, 3),
      get(2, 'k', 'x', 5, 6),
      get(3, 'k', 'y', 7, 8),
    ]);
    expect(text).to.include('This looks like a stale read:');
    expect(text).to.include(
      'client 2: get("k") → "x" (called 5 ms) missed client 1: put("k", "y") (acknowledged 3 ms): the write had finished before the read began',
    );
    expect(text).to.include('A later read does see it: client 3: get("k") → "y" (called 7 ms).');
    expect(text).to.not.include('applied twice');
  });

  it('a lost acknowledged write: no read after its acknowledgement shows it', () => {
    const text = explain([
      append(0, 'k', 'a', '', 0, 1),
      append(1, 'k', 'b', undefined, 2, 3),
      get(2, 'k', 'b', 5, 6),
      get(2, 'k', 'b', 7, 8),
    ]);
    expect(text).to.include('This looks like a lost acknowledged write:');
    expect(text).to.include('client 0: append("k", "a") → "" (acknowledged 1 ms) was lost: none of the 2 operations');
    expect(text).to.include('to the last, client 2: get("k") → "b" (called 7 ms)');
  });

  it('lab 2: a get that misses a put acknowledged before it began', () => {
    const history = [
      vput(0, 'x', 0, 'OK', 0, 1),
      vput(1, 'y', 1, 'OK', 2, 3),
      vget(2, 'x', 1, 4, 5),
      vget(3, 'y', 2, 6, 7),
    ];
    const out = checkOrExplain(versionedModel, history);
    expect(out.result.verdict).to.equal('illegal');
    expect(out.explanation).to.include('This looks like a stale read:');
    expect(out.explanation).to.include('missed client 1: put("k", "y", v1) → OK (acknowledged 3 ms)');
  });

  it('lab 2: an ErrMaybe put is not an acknowledged write, so missing it is not named', () => {
    const history = [vput(0, 'x', 0, 'ErrMaybe', 0, 1), vget(1, null, 0, 2, 3), vget(2, 'x', 1, 4, 5)];
    const out = checkOrExplain(versionedModel, history);
    expect(out.result.verdict).to.equal('illegal');
    expect(out.explanation).to.not.include('This looks like');
  });

  it('does not call a value duplicated when the pieces it repeats straddle two appends', () => {
    // "abcabc" = "ab" + "c" + "a" + "bc": "bc" occurs twice, yet every append is used once.
    const history = [
      append(0, 'k', 'ab', undefined, 0, 1),
      append(0, 'k', 'c', undefined, 2, 3),
      append(0, 'k', 'a', undefined, 4, 5),
      append(0, 'k', 'bc', undefined, 6, 7),
      get(1, 'k', 'abcabc', 8, 9),
    ];
    const text = { describe: () => 'op', at: String };
    const view = kvModel.shapes;
    if (view === undefined) throw new Error('the kv model has a shape view');
    expect(findShapes(view, history, [0, 1, 2, 3, 4], [4], 'linearizable', text)).to.deep.equal([]);
    const doubled = [...history.slice(0, 4), get(1, 'k', 'abcabcbc', 8, 9)];
    expect(findShapes(view, doubled, [0, 1, 2, 3, 4], [4], 'linearizable', text).map((s) => s.kind)).to.deep.equal([
      'applied twice',
    ]);
  });

  it('names no real-time shape in sequential mode, where a stale read is allowed', () => {
    const history = [put(0, 'k', 'x', 0, 1), put(1, 'k', 'y', 2, 3), get(2, 'k', 'x', 5, 6), get(2, 'k', 'z', 7, 8)];
    const out = checkOrExplain(kvModel, history, { mode: 'sequential' });
    expect(out.result.verdict).to.equal('illegal');
    expect(out.explanation).to.include('This looks like a read of a value no write produced:');
    expect(out.explanation.match(/This looks like/g)).to.have.length(1);
  });

  it('stays fast on a long history', () => {
    const history: Operation<
      typeof kvModel extends { step(s: never, i: infer I, o: never): unknown } ? I : never,
      string
    >[] = [];
    let value = '';
    for (let i = 0; i < 3000; i++) {
      const piece = `x ${i} y`;
      history.push(append(i % 5, 'k', piece, value, 2 * i, 2 * i + 1));
      value += piece;
    }
    history.push(get(9, 'k', value + 'x 0 y', 10_000, 10_001));
    const started = Date.now();
    const out = checkOrExplain(kvModel, history);
    expect(out.result.verdict).to.equal('illegal');
    expect(out.explanation).to.include('This looks like a write applied twice:');
    expect(Date.now() - started).to.be.below(5_000);
  });
});
