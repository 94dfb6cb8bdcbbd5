/**
 * Versioned key/value store (lab2): each key holds (value, version); a missing key behaves as version 0.
 *
 * put(key, value, version):
 * - the key's version equals `version` (a missing key counts as version 0): the value is installed and the
 *   version goes up by one; reply OK;
 * - the key is missing and `version` > 0: no change; reply ErrNoKey;
 * - otherwise: no change; reply ErrVersion.
 * ErrMaybe (a retried put that saw ErrVersion) is legal whatever happened. The put then took effect if and only
 * if the versions matched at the moment the search places it; since the search tries every moment inside the
 * operation's interval, this covers both "my first attempt installed it" and "someone else's put got there
 * first", the only two ways a correct server produces ErrMaybe.
 * get(key): reply OK with the value and version, or ErrNoKey when the key is missing.
 */
import { combineHash, hashString } from '../hash';
import type { Model } from '../types';
import { quote } from './kv';

/** The lab2 error strings. */
export type VersionedErr = 'OK' | 'ErrNoKey' | 'ErrVersion' | 'ErrMaybe';

/** One lab2 request. */
export type VersionedInput = { op: 'get'; key: string } | { op: 'put'; key: string; value: string; version: number };

/** One lab2 reply: get sets `value` and `version` when `err` is OK; put sets only `err`. */
export interface VersionedOutput {
  err: VersionedErr;
  value?: string;
  version?: number;
}

/** The state of one key; version 0 means the key does not exist. */
export interface VersionedState {
  readonly value: string;
  readonly version: number;
  readonly hash: number;
}

/** A missing key. */
const MISSING: VersionedState = { value: '', version: 0, hash: 0 };

/** The state of a key that holds `value` at `version` (0: missing): where a check of a later stretch of history starts. */
export function versionedState(value: string, version: number): VersionedState {
  return version === 0 ? MISSING : { value, version, hash: combineHash(hashString(value), version) };
}

/** The lab2 model. */
export const versionedModel: Model<VersionedState, VersionedInput, VersionedOutput> = {
  name: 'versioned kv',
  init: () => MISSING,
  step(state, input, output) {
    if (input.op === 'get') {
      if (output === undefined) return state;
      if (output.err === 'ErrNoKey') return state.version === 0 ? state : undefined;
      if (output.err !== 'OK') return undefined;
      return state.version > 0 && output.value === state.value && output.version === state.version ? state : undefined;
    }
    const err = output?.err;
    if (input.version === state.version) {
      if (err !== undefined && err !== 'OK' && err !== 'ErrMaybe') return undefined;
      return versionedState(input.value, state.version + 1);
    }
    const expected: VersionedErr = state.version === 0 ? 'ErrNoKey' : 'ErrVersion';
    return err === undefined || err === expected || err === 'ErrMaybe' ? state : undefined;
  },
  equal: (a, b) => a === b || (a.version === b.version && a.hash === b.hash && a.value === b.value),
  hash: (s) => s.hash,
  partitionKey: (input) => input.key,
  // A get, or a put that reports it did nothing (ErrNoKey, ErrVersion), never changes the state.
  readOnly: (input, output) => input.op === 'get' || output?.err === 'ErrNoKey' || output?.err === 'ErrVersion',
  // A put that may have happened (ErrMaybe) whose version the key has passed can no longer take effect: versions
  // only grow, so it is a no-op here and in every later state.
  inert: (state, input, output) => input.op === 'put' && output?.err === 'ErrMaybe' && state.version > input.version,
  describeOperation(input, output) {
    let out = '?';
    if (output !== undefined) {
      out =
        output.err === 'OK' && input.op === 'get' ? `(${quote(output.value ?? '')}, v${output.version})` : output.err;
    }
    return input.op === 'get'
      ? `get(${quote(input.key)}) → ${out}`
      : `put(${quote(input.key)}, ${quote(input.value)}, v${input.version}) → ${out}`;
  },
  describeState: (s) => (s.version === 0 ? 'missing' : `(${quote(s.value)}, v${s.version})`),
  shapes: {
    // A put refused (ErrNoKey, ErrVersion) writes nothing; ErrMaybe may have written, so it is not acknowledged.
    write: (input, output) =>
      input.op === 'get' || output?.err === 'ErrNoKey' || output?.err === 'ErrVersion'
        ? undefined
        : {
            key: input.key,
            kind: 'set',
            piece: input.value,
            version: input.version + 1,
            acknowledged: output?.err === 'OK',
          },
    seen: (input, output) => {
      if (input.op === 'put' || output === undefined) return undefined;
      if (output.err === 'ErrNoKey') return { key: input.key, value: '', version: 0 };
      return output.err === 'OK' ? { key: input.key, value: output.value ?? '', version: output.version } : undefined;
    },
  },
};
