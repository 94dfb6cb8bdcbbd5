/**
 * Key/value store with get, put and append on strings (lab1). A missing key reads as "".
 *
 * Two variants differ only in what append returns:
 * - `kvModel` (our labs): append returns the value the key had just before the append (the OLD value).
 * - `kvModelIgnoringAppendOutput` (the porcupine data set): append's recorded output is not a result
 *   (those logs just repeat the argument), so it is ignored.
 * put's output is always ignored; get's output must equal the current value.
 */
import { hashMore, STRING_HASH_SEED } from '../hash';
import type { Model } from '../types';

/** One kv request. */
export type KvInput =
  { op: 'get'; key: string } | { op: 'put'; key: string; value: string } | { op: 'append'; key: string; value: string };

/** The reply: the value for get, the old value for append (lab1), anything for put (ignored). */
export type KvOutput = string;

/** The value of one key, with its string hash kept up to date incrementally. */
export interface KvState {
  readonly value: string;
  readonly hash: number;
}

/** The state of a key that was never written. */
const EMPTY: KvState = { value: '', hash: STRING_HASH_SEED };

/** Formats a string for messages: JSON quoting, shortened in the middle when long. */
export function quote(s: string, max = 60): string {
  const q = JSON.stringify(s);
  return q.length <= max ? q : `${q.slice(0, max / 2 - 1)}…${q.slice(q.length - max / 2 + 1)}`;
}

/** Builds a kv model; `appendReturnsOld` says whether append's output is the old value (else ignored). */
function makeKvModel(name: string, appendReturnsOld: boolean): Model<KvState, KvInput, KvOutput> {
  return {
    name,
    init: () => EMPTY,
    step(state, input, output) {
      switch (input.op) {
        case 'get':
          return output === undefined || output === state.value ? state : undefined;
        case 'put':
          return { value: input.value, hash: hashMore(STRING_HASH_SEED, input.value) };
        case 'append':
          if (appendReturnsOld && output !== undefined && output !== state.value) return undefined;
          return { value: state.value + input.value, hash: hashMore(state.hash, input.value) };
      }
    },
    equal: (a, b) => a === b || (a.hash === b.hash && a.value === b.value),
    hash: (s) => s.hash,
    partitionKey: (input) => input.key,
    readOnly: (input) => input.op === 'get',
    describeOperation(input, output) {
      const shown = output === undefined ? '?' : quote(output);
      switch (input.op) {
        case 'get':
          return `get(${quote(input.key)}) → ${shown}`;
        case 'put':
          return `put(${quote(input.key)}, ${quote(input.value)})`;
        case 'append':
          return appendReturnsOld
            ? `append(${quote(input.key)}, ${quote(input.value)}) → ${shown}`
            : `append(${quote(input.key)}, ${quote(input.value)})`;
      }
    },
    describeState: (s) => quote(s.value),
    shapes: {
      write: (input, output) =>
        input.op === 'get'
          ? undefined
          : {
              key: input.key,
              kind: input.op === 'put' ? 'set' : 'append',
              piece: input.value,
              acknowledged: output !== undefined,
            },
      seen: (input, output) =>
        output === undefined || input.op === 'put' || (input.op === 'append' && !appendReturnsOld)
          ? undefined
          : { key: input.key, value: output },
    },
  };
}

/** The lab1 kv model: append returns the old value. */
export const kvModel: Model<KvState, KvInput, KvOutput> = makeKvModel('kv', true);

/** The kv model for the porcupine data set: append's output is ignored. */
export const kvModelIgnoringAppendOutput: Model<KvState, KvInput, KvOutput> = makeKvModel(
  'kv (append output ignored)',
  false,
);
