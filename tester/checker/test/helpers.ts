/** Small builders for hand-written test histories. */
import type { KvInput, KvOutput } from '../models/kv';
import type { Operation } from '../types';

/** An operation from its parts; `ret` Infinity = pending. */
export function op<I, O>(clientId: number, input: I, output: O | undefined, call: number, ret: number): Operation<I, O> {
  return { clientId, input, output, call, return: ret };
}

/** kv get. */
export function get(client: number, key: string, value: string | undefined, call: number, ret: number): Operation<KvInput, KvOutput> {
  return op(client, { op: 'get', key }, value, call, ret);
}

/** kv put (its output is ignored). */
export function put(client: number, key: string, value: string, call: number, ret: number): Operation<KvInput, KvOutput> {
  return op(client, { op: 'put', key, value }, '', call, ret);
}

/** kv append returning `old`. */
export function append(client: number, key: string, value: string, old: string | undefined, call: number, ret: number): Operation<KvInput, KvOutput> {
  return op(client, { op: 'append', key, value }, old, call, ret);
}

/**
 * A history that takes the search an astronomically long time: `n` appends that all overlap (so n! orders
 * give different values) followed by a get that no order can explain.
 */
export function hardHistory(key: string, n = 14, base = 0): Operation<KvInput, KvOutput>[] {
  const ops: Operation<KvInput, KvOutput>[] = [];
  for (let i = 0; i < n; i++) ops.push(op<KvInput, KvOutput>(i, { op: 'append', key, value: String.fromCharCode(97 + i) }, undefined, base, base + 10));
  ops.push(get(n, key, 'impossible', base + 20, base + 21));
  return ops;
}
