/**
 * Turns a per-key model (one with `partitionKey`) into a model of the whole key space. Linearizability can
 * check keys one at a time, but sequential consistency is not local, so it needs every key in one state.
 */
import { combineHash, hashString } from './hash';
import type { Model } from './types';

/** The state of every key touched so far (untouched keys are in the inner model's initial state). */
export interface KeyedState<S> {
  readonly keys: ReadonlyMap<string, S>;
  /** XOR over keys of a hash of (key, state): cheap to update when one key changes. */
  readonly hash: number;
}

/** The whole-key-space model built from a per-key model. */
export function keyedProduct<S extends {} | null, I, O>(inner: Model<S, I, O>): Model<KeyedState<S>, I, O> {
  if (!inner.partitionKey)
    throw new Error(`model "${inner.name}" has no partitionKey, so it already describes the whole state`);
  const innerEqual = inner.equal ? (a: S, b: S): boolean => inner.equal!(a, b) : (a: S, b: S): boolean => a === b;
  const part = (key: string, s: S): number => combineHash(hashString(key), inner.hash(s));
  return {
    name: `${inner.name} (all keys)`,
    init: () => ({ keys: new Map<string, S>(), hash: 0 }),
    step(state, input, output) {
      const key = inner.partitionKey!(input);
      const had = state.keys.get(key);
      const before = had === undefined ? inner.init() : had;
      const after = inner.step(before, input, output);
      if (after === undefined) return undefined;
      if (after === before) return state;
      const keys = new Map(state.keys);
      keys.set(key, after);
      const hash = state.hash ^ (had === undefined ? 0 : part(key, had)) ^ part(key, after);
      return { keys, hash };
    },
    equal(a, b) {
      if (a === b) return true;
      if (a.hash !== b.hash || a.keys.size !== b.keys.size) return false;
      for (const [k, s] of a.keys) {
        const t = b.keys.get(k);
        if (t === undefined || !innerEqual(s, t)) return false;
      }
      return true;
    },
    hash: (s) => s.hash,
    readOnly: (input, output) => inner.readOnly?.(input, output) ?? false,
    inert(state, input, output) {
      if (!inner.inert) return false;
      const s = state.keys.get(inner.partitionKey!(input));
      return inner.inert(s === undefined ? inner.init() : s, input, output);
    },
    describeOperation: (input, output) => inner.describeOperation(input, output),
    describeState(s) {
      if (s.keys.size === 0) return '{}';
      const keys = [...s.keys.keys()].sort();
      return `{ ${keys.map((k) => `${JSON.stringify(k)}: ${inner.describeState(s.keys.get(k) as S)}`).join(', ')} }`;
    },
  };
}
