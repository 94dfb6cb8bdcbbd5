/** Small builders for hand-written test histories. */
import type { KvInput, KvOutput } from '../../../checker/models/kv';
import type { VersionedInput, VersionedOutput } from '../../../checker/models/versioned';
import type { Operation } from '../../../checker/types';
import path from 'node:path';

/** The copy of the porcupine data set the kit's checker tests and bench use (not shipped to students). */
export const PORCUPINE_DIR = path.join(__dirname, 'testdata', 'porcupine');

/** An operation from its parts; `ret` Infinity = pending. */
export function op<I, O>(
  clientId: number,
  input: I,
  output: O | undefined,
  call: number,
  ret: number,
): Operation<I, O> {
  return { clientId, input, output, call, return: ret };
}

/** kv get. */
export function get(
  client: number,
  key: string,
  value: string | undefined,
  call: number,
  ret: number,
): Operation<KvInput, KvOutput> {
  return op(client, { op: 'get', key }, value, call, ret);
}

/** kv put (its output is ignored). */
export function put(
  client: number,
  key: string,
  value: string,
  call: number,
  ret: number,
): Operation<KvInput, KvOutput> {
  return op(client, { op: 'put', key, value }, '', call, ret);
}

/** kv append returning `old`. */
export function append(
  client: number,
  key: string,
  value: string,
  old: string | undefined,
  call: number,
  ret: number,
): Operation<KvInput, KvOutput> {
  return op(client, { op: 'append', key, value }, old, call, ret);
}

/**
 * A history that takes the search an astronomically long time: `n` appends that all overlap (so n! orders
 * give different values) followed by a get that no order can explain.
 */
export function hardHistory(key: string, n = 14, base = 0): Operation<KvInput, KvOutput>[] {
  const ops: Operation<KvInput, KvOutput>[] = [];
  for (let i = 0; i < n; i++)
    ops.push(
      op<KvInput, KvOutput>(i, { op: 'append', key, value: String.fromCharCode(97 + i) }, undefined, base, base + 10),
    );
  ops.push(get(n, key, 'impossible', base + 20, base + 21));
  return ops;
}

/**
 * A lab2-like history: `clients` clients loop get-then-put on one key against a correct server, each request
 * and reply taking a random (seeded) 0.1-0.5 ms, until `ops` operations are recorded. Linearizable by
 * construction (each operation takes effect when the server handles it, inside its interval).
 */
export function versionedLoad(clients: number, ops: number, seed = 1): Operation<VersionedInput, VersionedOutput>[] {
  let x = seed;
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
  const delay = (): number => 0.1 + 0.4 * rnd();
  const out: Operation<VersionedInput, VersionedOutput>[] = [];
  let value = '';
  let version = 0;
  // Per client: when its current request was sent, when the server handles it, what it read last.
  const cl = Array.from({ length: clients }, (_, c) => {
    const call = rnd();
    return { c, call, at: call + delay(), i: 0, seen: 0, get: true };
  });
  while (out.length < ops) {
    const me = cl.reduce((a, b) => (b.at < a.at ? b : a));
    const ret = me.at + delay();
    if (me.get) {
      const reply: VersionedOutput = version === 0 ? { err: 'ErrNoKey' } : { err: 'OK', value, version };
      out.push(op<VersionedInput, VersionedOutput>(me.c, { op: 'get', key: 'k' }, reply, me.call, ret));
      me.seen = version;
    } else {
      const mine = `${me.c}.${me.i++}`;
      const ok = me.seen === version;
      const err = ok ? 'OK' : version === 0 ? 'ErrNoKey' : 'ErrVersion';
      if (ok) {
        value = mine;
        version++;
      }
      out.push(
        op<VersionedInput, VersionedOutput>(
          me.c,
          { op: 'put', key: 'k', value: mine, version: me.seen },
          { err },
          me.call,
          ret,
        ),
      );
    }
    me.get = !me.get;
    me.call = ret;
    me.at = ret + delay();
  }
  return out;
}
