/** Each model's sequential semantics, step by step, plus hashing consistency. */
import { expect } from 'chai';
import { keyedProduct } from '../../../checker/product';
import { kvModel, kvModelIgnoringAppendOutput, KvInput, KvOutput, KvState } from '../../../checker/models/kv';
import { registerModel, RegisterInput, RegisterOutput, RegisterState } from '../../../checker/models/register';
import { versionedModel, VersionedInput, VersionedOutput, VersionedState } from '../../../checker/models/versioned';
import type { Model } from '../../../checker/types';

/** Runs steps from the initial state; returns the final state or undefined at the first illegal step. */
function run<S extends {} | null, I, O>(model: Model<S, I, O>, steps: Array<[I, O | undefined]>): S | undefined {
  let s: S = model.init();
  for (const [i, o] of steps) {
    const next = model.step(s, i, o);
    if (next === undefined) return undefined;
    s = next;
  }
  return s;
}

/** Equal states must hash equally. */
function sameHash<S extends {} | null, I, O>(model: Model<S, I, O>, a: S, b: S): void {
  const eq = model.equal ? model.equal(a, b) : a === b;
  expect(eq).to.equal(true);
  expect(model.hash(a)).to.equal(model.hash(b));
}

describe('models', () => {
  describe('kv (lab1: append returns the old value)', () => {
    const g = (key: string): KvInput => ({ op: 'get', key });
    const p = (key: string, value: string): KvInput => ({ op: 'put', key, value });
    const a = (key: string, value: string): KvInput => ({ op: 'append', key, value });

    it('a missing key reads as ""', () => {
      expect(run(kvModel, [[g('k'), '']])).to.not.equal(undefined);
      expect(run(kvModel, [[g('k'), 'x']])).to.equal(undefined);
    });

    it('put replaces, append concatenates and returns the old value', () => {
      const s = run(kvModel, [
        [p('k', 'ab'), ''],
        [a('k', 'c'), 'ab'],
        [a('k', 'd'), 'abc'],
        [g('k'), 'abcd'],
      ]) as KvState;
      expect(s.value).to.equal('abcd');
      expect(
        run(kvModel, [
          [p('k', 'ab'), ''],
          [a('k', 'c'), 'abc'],
        ]),
      ).to.equal(undefined);
      expect(
        run(kvModel, [
          [p('k', 'ab'), ''],
          [a('k', 'c'), undefined],
          [g('k'), 'abc'],
        ]),
      ).to.not.equal(undefined);
    });

    it('a get whose result is unknown is legal in any state', () => {
      expect(
        run(kvModel, [
          [p('k', 'x'), ''],
          [g('k'), undefined],
          [g('k'), 'x'],
        ]),
      ).to.not.equal(undefined);
    });

    it('put output is ignored', () => {
      expect(
        run(kvModel, [
          [p('k', 'x'), 'whatever'],
          [g('k'), 'x'],
        ]),
      ).to.not.equal(undefined);
    });

    it('keeps the state hash equal to a fresh hash of the same value, however it was built', () => {
      const viaAppends = run(kvModel, [
        [a('k', 'ab'), ''],
        [a('k', 'c'), 'ab'],
      ]) as KvState;
      const viaPut = run(kvModel, [[p('k', 'abc'), '']]) as KvState;
      sameHash(kvModel, viaAppends, viaPut);
      expect(kvModel.equal!(viaPut, run(kvModel, [[p('k', 'abd'), '']]) as KvState)).to.equal(false);
    });

    it('partitions by key and describes operations and states', () => {
      expect(kvModel.partitionKey!(a('k7', 'x'))).to.equal('k7');
      expect(kvModel.describeOperation(a('k', 'x'), 'old')).to.equal('append("k", "x") → "old"');
      expect(kvModel.describeOperation(g('k'), undefined)).to.equal('get("k") → ?');
      expect(kvModel.describeOperation(p('k', 'v'), '')).to.equal('put("k", "v")');
      expect(kvModel.describeState(kvModel.init())).to.equal('""');
    });
  });

  describe('kv for the porcupine data (append output ignored)', () => {
    it('accepts any append output, still checks gets', () => {
      const m = kvModelIgnoringAppendOutput;
      const steps: Array<[KvInput, KvOutput]> = [
        [{ op: 'append', key: 'k', value: 'x' }, 'x'],
        [{ op: 'append', key: 'k', value: 'y' }, 'y'],
        [{ op: 'get', key: 'k' }, 'xy'],
      ];
      expect(run(m, steps)).to.not.equal(undefined);
      expect(run(kvModel, steps)).to.equal(undefined);
      expect(run(m, [...steps, [{ op: 'get', key: 'k' }, 'x']])).to.equal(undefined);
      expect(m.describeOperation({ op: 'append', key: 'k', value: 'x' }, 'x')).to.equal('append("k", "x")');
    });
  });

  describe('versioned kv (lab2)', () => {
    const put = (value: string, version: number): VersionedInput => ({ op: 'put', key: 'k', value, version });
    const get: VersionedInput = { op: 'get', key: 'k' };
    type Step = [VersionedInput, VersionedOutput | undefined];

    it('a missing key: get is ErrNoKey, put at version 0 creates it at version 1, put at version > 0 is ErrNoKey', () => {
      expect(run(versionedModel, [[get, { err: 'ErrNoKey' }]])).to.not.equal(undefined);
      expect(run(versionedModel, [[get, { err: 'OK', value: '', version: 0 }]])).to.equal(undefined);
      expect(
        run(versionedModel, [
          [put('a', 3), { err: 'ErrNoKey' }],
          [get, { err: 'ErrNoKey' }],
        ]),
      ).to.not.equal(undefined);
      expect(run(versionedModel, [[put('a', 3), { err: 'OK' }]])).to.equal(undefined);
      expect(run(versionedModel, [[put('a', 3), { err: 'ErrVersion' }]])).to.equal(undefined);
      const s = run(versionedModel, [[put('a', 0), { err: 'OK' }]]) as VersionedState;
      expect([s.value, s.version]).to.deep.equal(['a', 1]);
      expect(run(versionedModel, [[put('a', 0), { err: 'ErrNoKey' }]])).to.equal(undefined);
    });

    it('an existing key: matching version installs and bumps, mismatch is ErrVersion', () => {
      const base: Step[] = [[put('a', 0), { err: 'OK' }]];
      expect(
        run(versionedModel, [...base, [put('b', 1), { err: 'OK' }], [get, { err: 'OK', value: 'b', version: 2 }]]),
      ).to.not.equal(undefined);
      expect(
        run(versionedModel, [
          ...base,
          [put('b', 2), { err: 'ErrVersion' }],
          [get, { err: 'OK', value: 'a', version: 1 }],
        ]),
      ).to.not.equal(undefined);
      expect(run(versionedModel, [...base, [put('b', 0), { err: 'ErrVersion' }]])).to.not.equal(undefined);
      expect(run(versionedModel, [...base, [put('b', 2), { err: 'OK' }]])).to.equal(undefined);
      expect(run(versionedModel, [...base, [put('b', 2), { err: 'ErrNoKey' }]])).to.equal(undefined);
      expect(run(versionedModel, [...base, [get, { err: 'OK', value: 'a', version: 2 }]])).to.equal(undefined);
      expect(run(versionedModel, [...base, [get, { err: 'OK', value: 'b', version: 1 }]])).to.equal(undefined);
      expect(run(versionedModel, [...base, [get, { err: 'ErrNoKey' }]])).to.equal(undefined);
    });

    it('ErrMaybe is legal whether the versions match (the put happens) or not (nothing happens)', () => {
      const s1 = run(versionedModel, [[put('a', 0), { err: 'ErrMaybe' }]]) as VersionedState;
      expect([s1.value, s1.version]).to.deep.equal(['a', 1]);
      const s2 = run(versionedModel, [
        [put('a', 0), { err: 'OK' }],
        [put('b', 5), { err: 'ErrMaybe' }],
      ]) as VersionedState;
      expect([s2.value, s2.version]).to.deep.equal(['a', 1]);
      expect(
        run(versionedModel, [
          [put('a', 4), { err: 'ErrMaybe' }],
          [get, { err: 'ErrNoKey' }],
        ]),
      ).to.not.equal(undefined);
      expect(run(versionedModel, [[get, { err: 'ErrMaybe' }]])).to.equal(undefined);
    });

    it('an unknown put result takes effect exactly when the versions match', () => {
      expect((run(versionedModel, [[put('a', 0), undefined]]) as VersionedState).version).to.equal(1);
      expect((run(versionedModel, [[put('a', 1), undefined]]) as VersionedState).version).to.equal(0);
    });

    it('hashes consistently and describes states', () => {
      const a = run(versionedModel, [[put('x', 0), { err: 'OK' }]]) as VersionedState;
      const b = run(versionedModel, [
        [put('y', 0), { err: 'OK' }],
        [put('x', 1), { err: 'OK' }],
      ]) as VersionedState;
      expect(versionedModel.equal!(a, b)).to.equal(false);
      const c = run(versionedModel, [[put('x', 0), { err: 'ErrMaybe' }]]) as VersionedState;
      sameHash(versionedModel, a, c);
      expect(versionedModel.describeState(versionedModel.init())).to.equal('missing');
      expect(versionedModel.describeState(a)).to.equal('("x", v1)');
      expect(versionedModel.describeOperation(get, { err: 'OK', value: 'x', version: 1 })).to.equal(
        'get("k") → ("x", v1)',
      );
      expect(versionedModel.describeOperation(put('x', 1), { err: 'ErrVersion' })).to.equal(
        'put("k", "x", v1) → ErrVersion',
      );
    });
  });

  describe('register (etcd)', () => {
    const read: RegisterInput = { op: 'read' };
    const write = (value: number): RegisterInput => ({ op: 'write', value });
    const cas = (from: number, to: number): RegisterInput => ({ op: 'cas', from, to });
    type Step = [RegisterInput, RegisterOutput | undefined];

    it('reads nil before any write, then the last value', () => {
      expect(run(registerModel, [[read, { value: null }]])).to.equal(null);
      expect(run(registerModel, [[read, { value: 0 }]])).to.equal(undefined);
      expect(
        run(registerModel, [
          [write(3), {}],
          [read, { value: 3 }],
        ]),
      ).to.equal(3);
      expect(
        run(registerModel, [
          [write(3), {}],
          [read, { value: null }],
        ]),
      ).to.equal(undefined);
    });

    it('cas succeeds exactly when the value matches', () => {
      const w: Step = [write(1), {}];
      expect(run(registerModel, [w, [cas(1, 2), { ok: true }]])).to.equal(2);
      expect(run(registerModel, [w, [cas(0, 2), { ok: false }]])).to.equal(1);
      expect(run(registerModel, [w, [cas(1, 2), { ok: false }]])).to.equal(undefined);
      expect(run(registerModel, [w, [cas(0, 2), { ok: true }]])).to.equal(undefined);
      expect(run(registerModel, [[cas(0, 2), { ok: false }]])).to.equal(null);
    });

    it('unknown results: a read constrains nothing, a cas applies when it matches', () => {
      expect(
        run(registerModel, [
          [write(1), {}],
          [read, undefined],
        ]),
      ).to.equal(1);
      expect(
        run(registerModel, [
          [write(1), {}],
          [cas(1, 5), undefined],
        ]),
      ).to.equal(5);
      expect(
        run(registerModel, [
          [write(1), {}],
          [cas(2, 5), undefined],
        ]),
      ).to.equal(1);
    });

    it('hashes and describes', () => {
      const s: RegisterState = 4;
      sameHash(registerModel, s, run(registerModel, [[write(4), {}]]) as RegisterState);
      expect(registerModel.hash(null)).to.not.equal(registerModel.hash(0));
      expect(registerModel.describeOperation(cas(1, 2), { ok: false })).to.equal('cas(1 → 2) → fail');
      expect(registerModel.describeOperation(read, { value: null })).to.equal('read() → nil');
      expect(registerModel.describeState(null)).to.equal('nil');
    });
  });

  describe('keyedProduct (all keys in one state, for sequential consistency)', () => {
    const whole = keyedProduct(kvModel);

    it('keeps keys apart and compares states by content', () => {
      const s1 = run(whole, [
        [{ op: 'put', key: 'a', value: 'x' }, ''],
        [{ op: 'put', key: 'b', value: 'y' }, ''],
      ]);
      const s2 = run(whole, [
        [{ op: 'put', key: 'b', value: 'y' }, ''],
        [{ op: 'append', key: 'a', value: 'x' }, ''],
      ]);
      expect(s1).to.not.equal(undefined);
      sameHash(whole, s1!, s2!);
      expect(
        run(whole, [
          [{ op: 'put', key: 'a', value: 'x' }, ''],
          [{ op: 'get', key: 'b' }, 'x'],
        ]),
      ).to.equal(undefined);
      expect(whole.describeState(s1!)).to.equal('{ "a": "x", "b": "y" }');
    });

    it('refuses a model that has no keys', () => {
      expect(() => keyedProduct(registerModel as Model<RegisterState, RegisterInput, RegisterOutput>)).to.throw(
        /no partitionKey/,
      );
    });
  });
});

// Type-level check that the exported models have the documented shapes.
const _models: [Model<KvState, KvInput, KvOutput>, Model<VersionedState, VersionedInput, VersionedOutput>] = [
  kvModel,
  versionedModel,
];
void _models;
