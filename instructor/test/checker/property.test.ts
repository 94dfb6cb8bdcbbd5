/** Property tests: the checker agrees with a brute-force search on small random histories (≤ 7 operations). */
import { expect } from 'chai';
import fc from 'fast-check';
import { check } from '../../../checker/linearizability';
import { kvModel, KvInput, KvOutput } from '../../../checker/models/kv';
import { registerModel, RegisterInput, RegisterOutput } from '../../../checker/models/register';
import { versionedModel, VersionedInput, VersionedOutput } from '../../../checker/models/versioned';
import type { CheckMode, CheckResult, Model, Operation } from '../../../checker/types';
import { bruteForce, RefStep } from './brute';
import { orderTouching } from '../../../checker/touching';

/** Runs per property (LINCHECK_PROPERTY_RUNS overrides) and the base seed (LINCHECK_PROPERTY_SEED overrides). */
const RUNS = Number(process.env.LINCHECK_PROPERTY_RUNS ?? 500);
const SEED = Number(process.env.LINCHECK_PROPERTY_SEED ?? 20260101);

/** The shape of one random operation before outputs are computed. */
interface RawOp<I> {
  client: number;
  input: I;
  call: number;
  dur: number;
  pending: boolean;
  /** Where inside (or, when `wild`, outside) its interval the simulated system applies it. */
  point: number;
  wild: boolean;
  /** Whether a pending operation took effect in the simulation. */
  takes: boolean;
  /** A replacement output index, to break some histories on purpose. */
  mutate: number | null;
}

/** Random operations around a given input generator. */
function rawOps<I>(input: fc.Arbitrary<I>): fc.Arbitrary<RawOp<I>[]> {
  const op = fc.record({
    client: fc.integer({ min: 0, max: 2 }),
    input,
    call: fc.integer({ min: 0, max: 12 }),
    dur: fc.integer({ min: 0, max: 5 }),
    pending: fc.integer({ min: 0, max: 6 }).map((x) => x === 0),
    point: fc.double({ min: 0, max: 1, noNaN: true }),
    wild: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    takes: fc.boolean(),
    mutate: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 3 }),
  });
  return fc.array(op, { minLength: 0, maxLength: 7 });
}

/**
 * Builds a history: runs the operations one at a time in the order of their points through `apply` (which
 * returns the new state and the true output), then replaces some outputs with `wrong[mutate]`.
 */
function simulate<S, I, O>(
  raw: RawOp<I>[],
  init: S,
  apply: (s: S, i: I) => [S, O],
  wrong: (i: I) => O[],
): Operation<I, O>[] {
  const when = raw.map((r) => (r.wild ? r.point * 20 : r.call + r.point * (r.pending ? 8 : r.dur)));
  const order = raw.map((_, i) => i).sort((a, b) => when[a] - when[b] || a - b);
  const outputs: Array<O | undefined> = raw.map(() => undefined);
  let state = init;
  for (const i of order) {
    if (raw[i].pending && !raw[i].takes) continue;
    const [next, out] = apply(state, raw[i].input);
    state = next;
    outputs[i] = out;
  }
  return raw.map((r, i) => {
    const choices = wrong(r.input);
    const output = r.mutate !== null && choices.length > 0 ? choices[r.mutate % choices.length] : outputs[i];
    return { clientId: r.client, input: r.input, output, call: r.call, return: r.pending ? Infinity : r.call + r.dur };
  });
}

/**
 * Checks a result's orders: precedence kept among the placed operations and every reply legal where placed;
 * for `complete` (an ok result) also every completed operation present.
 */
function assertWitness<S, I, O>(
  ops: Operation<I, O>[],
  result: CheckResult,
  mode: CheckMode,
  init: S,
  step: RefStep<S, I, O>,
  complete: boolean,
): void {
  for (const part of result.partitions) {
    const pos = new Map(part.linearization.map((op, k) => [op, k]));
    if (complete) {
      for (const i of part.ops)
        if (ops[i].return !== Infinity) expect(pos.has(i), `completed op ${i} missing from the order`).to.equal(true);
    }
    for (const [a, ka] of pos) {
      for (const [b, kb] of pos) {
        const must = ops[a].return < ops[b].call && (mode === 'linearizable' || ops[a].clientId === ops[b].clientId);
        if (must) expect(ka < kb, `op ${a} must come before op ${b}`).to.equal(true);
      }
    }
  }
  // Replay all partitions' orders merged (keys are independent, so any merge works for the reference).
  let state = init;
  for (const part of result.partitions) {
    for (const i of part.linearization) {
      const next = step(state, ops[i].input, ops[i].return === Infinity ? undefined : ops[i].output);
      expect(next, `op ${i} is not legal where the order puts it`).to.not.equal(undefined);
      state = next as S;
    }
  }
}

/** Runs one agreement property and checks that both verdicts were seen often enough to mean something. */
function agreement<S, I, O, MS extends {} | null>(
  name: string,
  model: Model<MS, I, O>,
  input: fc.Arbitrary<I>,
  init: () => S,
  apply: (s: S, i: I) => [S, O],
  wrong: (i: I) => O[],
  refStep: RefStep<S, I, O>,
): void {
  for (const mode of ['linearizable', 'sequential'] as const) {
    it(`${name}: ${mode} verdicts match brute force`, () => {
      const seen = { ok: 0, illegal: 0 };
      fc.assert(
        fc.property(rawOps(input), (raw) => {
          const ops = simulate(raw, init(), apply, wrong);
          // The brute force's precedence is plain real time; one client's touching operations are ordered first,
          // as the checker does (checker/touching.ts).
          const timed = [...orderTouching(ops)];
          const expected = bruteForce(timed, init(), refStep, mode) ? 'ok' : 'illegal';
          const result = check(model, ops, { mode, timeoutMs: 60_000 });
          seen[expected]++;
          expect(result.verdict, JSON.stringify(ops)).to.equal(expected);
          assertWitness(timed, result, mode, init(), refStep, expected === 'ok');
          if (expected === 'illegal')
            expect(result.unplaced.length, 'an illegal result names an operation').to.be.greaterThan(0);
        }),
        { numRuns: RUNS, seed: SEED + name.length + mode.length },
      );
      expect(seen.ok, 'enough ok histories').to.be.greaterThan(RUNS / 10);
      expect(seen.illegal, 'enough illegal histories').to.be.greaterThan(RUNS / 10);
    });
  }
}

describe('checker vs brute force (fast-check)', () => {
  type KvRef = Record<string, string>;
  const kvApply = (s: KvRef, i: KvInput): [KvRef, KvOutput] => {
    const old = s[i.key] ?? '';
    if (i.op === 'get') return [s, old];
    if (i.op === 'put') return [{ ...s, [i.key]: i.value }, ''];
    return [{ ...s, [i.key]: old + i.value }, old];
  };
  const kvRef: RefStep<KvRef, KvInput, KvOutput> = (s, i, o) => {
    const old = s[i.key] ?? '';
    if (i.op !== 'put' && o !== undefined && o !== old) return undefined;
    return kvApply(s, i)[0];
  };
  agreement(
    'kv (put/append/get, two keys)',
    kvModel,
    fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({
        op: fc.constantFrom('put' as const, 'append' as const),
        key: fc.constantFrom('a', 'b'),
        value: fc.constantFrom('x', 'y'),
      }),
    ),
    (): KvRef => ({}),
    kvApply,
    (i) => (i.op === 'put' ? [] : ['', 'x', 'y', 'xy', 'yx', 'xx']),
    kvRef,
  );

  type RegRef = number | null;
  const regApply = (s: RegRef, i: RegisterInput): [RegRef, RegisterOutput] => {
    if (i.op === 'read') return [s, { value: s }];
    if (i.op === 'write') return [i.value as number, {}];
    return s === i.from ? [i.to as number, { ok: true }] : [s, { ok: false }];
  };
  const regRef: RefStep<RegRef, RegisterInput, RegisterOutput> = (s, i, o) => {
    const [next, real] = regApply(s, i);
    if (o === undefined || i.op === 'write') return next;
    return i.op === 'read' ? (o.value === real.value ? next : undefined) : o.ok === real.ok ? next : undefined;
  };
  agreement(
    'register (read/write/cas)',
    registerModel,
    fc.oneof(
      fc.constant({ op: 'read' as const }),
      fc.record({ op: fc.constant('write' as const), value: fc.integer({ min: 0, max: 2 }) }),
      fc.record({
        op: fc.constant('cas' as const),
        from: fc.integer({ min: 0, max: 2 }),
        to: fc.integer({ min: 0, max: 2 }),
      }),
    ),
    (): RegRef => null,
    regApply,
    (i) =>
      i.op === 'read'
        ? [{ value: null }, { value: 0 }, { value: 1 }, { value: 2 }]
        : i.op === 'cas'
          ? [{ ok: true }, { ok: false }]
          : [],
    regRef,
  );

  type VerRef = Record<string, { v: string; ver: number }>;
  const verApply = (s: VerRef, i: VersionedInput): [VerRef, VersionedOutput] => {
    const cur = s[i.key];
    if (i.op === 'get') return [s, cur ? { err: 'OK', value: cur.v, version: cur.ver } : { err: 'ErrNoKey' }];
    const ver = cur ? cur.ver : 0;
    if (ver === i.version) return [{ ...s, [i.key]: { v: i.value, ver: ver + 1 } }, { err: 'OK' }];
    return [s, { err: cur ? 'ErrVersion' : 'ErrNoKey' }];
  };
  const verRef: RefStep<VerRef, VersionedInput, VersionedOutput> = (s, i, o) => {
    const [next, real] = verApply(s, i);
    if (o === undefined) return next;
    if (i.op === 'put') return o.err === real.err || o.err === 'ErrMaybe' ? next : undefined;
    const same = o.err === real.err && o.value === real.value && o.version === real.version;
    return same ? next : undefined;
  };
  agreement(
    'versioned kv (put with versions, get, ErrMaybe)',
    versionedModel,
    fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({
        op: fc.constant('put' as const),
        key: fc.constantFrom('a', 'b'),
        value: fc.constantFrom('x', 'y'),
        version: fc.integer({ min: 0, max: 2 }),
      }),
    ),
    (): VerRef => ({}),
    verApply,
    (i): VersionedOutput[] =>
      i.op === 'put'
        ? [{ err: 'OK' }, { err: 'ErrVersion' }, { err: 'ErrNoKey' }, { err: 'ErrMaybe' }]
        : [
            { err: 'ErrNoKey' },
            { err: 'OK', value: 'x', version: 1 },
            { err: 'OK', value: 'y', version: 1 },
            { err: 'OK', value: 'x', version: 2 },
          ],
    verRef,
  );
});
