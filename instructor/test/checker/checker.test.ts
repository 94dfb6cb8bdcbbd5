/** The search and its driver: verdicts, partitions, pending operations, the time budget, bad histories. */
import { expect } from 'chai';
import sinon from 'sinon';
import * as clock from '../../../checker/clock';
import { check, checkLinearizable, checkSequential, HistoryError, mergeOrders } from '../../../checker/linearizability';
import { kvModel, KvInput, KvOutput } from '../../../checker/models/kv';
import { registerModel, RegisterInput, RegisterOutput } from '../../../checker/models/register';
import type { Operation } from '../../../checker/types';
import { append, get, hardHistory, op, put, versionedLoad } from './helpers';
import { versionedModel, type VersionedInput, type VersionedOutput } from '../../../checker/models/versioned';
import { Search } from '../../../checker/search';

type KvOp = Operation<KvInput, KvOutput>;

describe('linearizability checker', () => {
  it('accepts an empty history and a sequential legal one', () => {
    expect(check(kvModel, []).verdict).to.equal('ok');
    const h: KvOp[] = [put(0, 'a', 'x', 0, 1), append(1, 'a', 'y', 'x', 2, 3), get(0, 'a', 'xy', 4, 5)];
    const r = check(kvModel, h);
    expect(r.verdict).to.equal('ok');
    expect(r.mode).to.equal('linearizable');
    expect(r.partitions[0].linearization).to.deep.equal([0, 1, 2]);
    expect(r.unplaced).to.deep.equal([]);
  });

  it('finds an order for concurrent operations that only one order explains', () => {
    // The get follows both concurrent puts and sees y, so put x must have come before put y.
    const h: KvOp[] = [put(1, 'a', 'y', 0, 10), put(0, 'a', 'x', 0, 10), get(2, 'a', 'y', 11, 15)];
    const r = check(kvModel, h);
    expect(r.verdict).to.equal('ok');
    const order = r.partitions[0].linearization;
    expect(order).to.deep.equal([1, 0, 2]);
  });

  it('rejects a stale read and names it, after the longest legal prefix', () => {
    const h: KvOp[] = [put(0, 'a', 'x', 0, 1), put(0, 'a', 'y', 2, 3), get(1, 'a', 'x', 4, 5)];
    const r = check(kvModel, h);
    expect(r.verdict).to.equal('illegal');
    expect(r.partitions[0].linearization).to.deep.equal([0, 1]);
    expect(r.partitions[0].unplaced).to.deep.equal([2]);
    expect(r.unplaced).to.deep.equal([2]);
  });

  it('treats operations that touch at one instant as concurrent, and strict gaps as ordered', () => {
    // get returns at 5 and put is called at 5: they may be in either order.
    expect(check(kvModel, [get(0, 'a', 'x', 1, 5), put(1, 'a', 'x', 5, 6)]).verdict).to.equal('ok');
    expect(check(kvModel, [get(0, 'a', 'x', 1, 5), put(1, 'a', 'x', 5.001, 6)]).verdict).to.equal('illegal');
  });

  it("keeps one client's operations in order when the next is called at the very time the previous returned", () => {
    // A simulated clock does not move between a client's return and its next call: its own write comes first.
    expect(check(kvModel, [put(0, 'a', 'x', 0, 5), get(0, 'a', '', 5, 6)]).verdict).to.equal('illegal');
    expect(check(kvModel, [put(0, 'a', 'x', 0, 5), get(0, 'a', 'x', 5, 6)]).verdict).to.equal('ok');
    // Operations that take no time, one after another at one instant, also keep their order.
    expect(check(kvModel, [put(0, 'a', 'x', 5, 5), put(0, 'a', 'y', 5, 5), get(0, 'a', 'x', 5, 5)]).verdict).to.equal(
      'illegal',
    );
    // Another client's operation that merely touches stays concurrent.
    expect(check(kvModel, [put(0, 'a', 'x', 0, 5), get(1, 'a', '', 5, 6)]).verdict).to.equal('ok');
  });

  it('checks lab1 append semantics: append returns the old value', () => {
    expect(check(kvModel, [append(0, 'k', 'a', '', 0, 1), append(0, 'k', 'b', 'a', 2, 3)]).verdict).to.equal('ok');
    expect(check(kvModel, [append(0, 'k', 'a', '', 0, 1), append(0, 'k', 'b', 'ab', 2, 3)]).verdict).to.equal(
      'illegal',
    );
  });

  describe('pending operations (return = Infinity)', () => {
    it('lets a pending write take effect when a later read needs it', () => {
      const h: KvOp[] = [put(0, 'a', 'x', 0, Infinity), get(1, 'a', 'x', 5, 6)];
      expect(check(kvModel, h).verdict).to.equal('ok');
    });

    it('lets a pending write not take effect at all', () => {
      const h: KvOp[] = [put(0, 'a', 'x', 0, Infinity), get(1, 'a', '', 5, 6), get(1, 'a', '', 7, 8)];
      const r = check(kvModel, h);
      expect(r.verdict).to.equal('ok');
      expect(r.partitions[0].linearization).to.deep.equal([1, 2]);
    });

    it('does not let a pending write take effect before its call', () => {
      const h: KvOp[] = [get(1, 'a', 'x', 0, 1), put(0, 'a', 'x', 2, Infinity)];
      expect(check(kvModel, h).verdict).to.equal('illegal');
    });

    it('does not let a pending write take effect twice or undo itself', () => {
      // After x is seen, a read of "" again would need the write to be undone.
      const h: KvOp[] = [put(0, 'a', 'x', 0, Infinity), get(1, 'a', 'x', 5, 6), get(1, 'a', '', 7, 8)];
      expect(check(kvModel, h).verdict).to.equal('illegal');
    });

    it('ignores the output recorded for a pending operation', () => {
      const h: KvOp[] = [append(0, 'a', 'x', 'nonsense', 0, Infinity), get(1, 'a', 'x', 5, 6)];
      expect(check(kvModel, h).verdict).to.equal('ok');
    });

    it('accepts a completed operation whose result is unknown (output undefined) whatever the state', () => {
      const h: Operation<RegisterInput, RegisterOutput>[] = [
        op(0, { op: 'write', value: 1 }, {}, 0, 1),
        op<RegisterInput, RegisterOutput>(1, { op: 'read' }, undefined, 2, 3),
        op<RegisterInput, RegisterOutput>(1, { op: 'cas', from: 1, to: 2 }, undefined, 4, 5),
        op(0, { op: 'read' }, { value: 2 }, 6, 7),
      ];
      expect(check(registerModel, h).verdict).to.equal('ok');
      h[1].output = { value: 7 };
      expect(check(registerModel, h).verdict).to.equal('illegal');
    });

    it('leaves out pending operations that would change nothing', () => {
      const h: KvOp[] = [get(0, 'a', 'zzz', 0, Infinity), put(1, 'a', 'x', 1, 2), put(2, 'a', 'x', 3, Infinity)];
      const r = check(kvModel, h);
      expect(r.verdict).to.equal('ok');
      expect(r.partitions[0].linearization).to.deep.equal([1]);
    });

    it('is ok when every operation is pending', () => {
      expect(check(kvModel, [put(0, 'a', 'x', 0, Infinity), get(1, 'a', 'zzz', 1, Infinity)]).verdict).to.equal('ok');
    });
  });

  describe('partitions', () => {
    it('checks each key on its own and reports per key, in natural key order', () => {
      const h: KvOp[] = [
        put(0, '10', 'x', 0, 1),
        put(0, '2', 'y', 2, 3),
        get(1, '10', 'x', 4, 5),
        get(1, '2', 'wrong', 6, 7),
      ];
      const r = check(kvModel, h, { allPartitions: true });
      expect(r.partitions.map((p) => p.key)).to.deep.equal(['2', '10']);
      expect(r.partitions.map((p) => p.verdict)).to.deep.equal(['illegal', 'ok']);
      expect(r.partitions[0].ops).to.deep.equal([1, 3]);
      expect(r.partitions[1].linearization).to.deep.equal([0, 2]);
      expect(r.unplaced).to.deep.equal([3]);
      expect(r.verdict).to.equal('illegal');
    });

    it('keys are independent: a value on one key never explains a read on another', () => {
      expect(check(kvModel, [put(0, 'a', 'x', 0, 1), get(1, 'b', 'x', 2, 3)]).verdict).to.equal('illegal');
    });

    it('a model without partitionKey is checked as one whole history', () => {
      const h: Operation<RegisterInput, RegisterOutput>[] = [
        op(0, { op: 'write', value: 3 }, {}, 0, 1),
        op(1, { op: 'read' }, { value: 3 }, 2, 3),
      ];
      const r = check(registerModel, h);
      expect(r.partitions).to.have.length(1);
      expect(r.partitions[0].key).to.equal(null);
    });

    it('stops after an illegal key instead of finishing a hard one', () => {
      const h: KvOp[] = [...hardHistory('hard'), put(0, 'easy', 'x', 100, 101), get(1, 'easy', 'y', 102, 103)];
      const r = check(kvModel, h, { timeoutMs: 5_000 });
      expect(r.verdict).to.equal('illegal');
      const hard = r.partitions.find((p) => p.key === 'hard');
      expect(hard?.verdict).to.equal('unknown');
      expect(hard?.unfinished, 'stopped because another key is illegal, not because time ran out').to.equal('stopped');
    });
  });

  describe('time budget', () => {
    afterEach(() => sinon.restore());

    it('answers unknown instead of hanging, soon after the budget', () => {
      // A stand-in clock that moves 5 ms each time the checker looks (about one turn's worth): the budget is then
      // exact, whatever the machine's load.
      let now = 0;
      sinon.stub(clock, 'realNowMs').callsFake(() => (now += 5));
      const r = check(kvModel, hardHistory('k'), { timeoutMs: 150 });
      expect(r.verdict).to.equal('unknown');
      expect(r.partitions[0].unfinished).to.equal('timeout');
      expect(r.partitions[0].linearization.length).to.be.greaterThan(0);
      expect(r.elapsedMs, 'gives up within a few turns after the budget, not before it').to.be.within(150, 175);
    });

    it('with allPartitions, an illegal key plus a timed-out key is still illegal', () => {
      const h: KvOp[] = [...hardHistory('hard'), put(0, 'easy', 'x', 100, 101), get(1, 'easy', 'y', 102, 103)];
      const r = check(kvModel, h, { timeoutMs: 150, allPartitions: true });
      expect(r.verdict).to.equal('illegal');
      expect(r.partitions.find((p) => p.key === 'hard')?.unfinished).to.equal('timeout');
    });
  });

  describe('step budget', () => {
    it('answers unknown after exactly its steps, with the same prefix on every run, whatever the clock says', () => {
      const runs = [0, 1].map(() => check(kvModel, hardHistory('k'), { stepBudget: 5_000, timeoutMs: 600_000 }));
      for (const r of runs) {
        expect(r.verdict).to.equal('unknown');
        expect(r.partitions[0].unfinished).to.equal('steps');
        expect(r.steps).to.equal(5_000);
      }
      expect(runs[1].partitions[0].linearization).to.deep.equal(runs[0].partitions[0].linearization);
    });

    it('counts one budget per key: a hard key runs out while an easy key is decided', () => {
      const h: KvOp[] = [...hardHistory('hard'), put(0, 'easy', 'x', 100, 101), get(1, 'easy', 'x', 102, 103)];
      const r = check(kvModel, h, { stepBudget: 3_000 });
      expect(r.verdict).to.equal('unknown');
      expect(r.partitions.find((p) => p.key === 'hard')).to.include({
        verdict: 'unknown',
        unfinished: 'steps',
        steps: 3_000,
      });
      expect(r.partitions.find((p) => p.key === 'easy')).to.include({ verdict: 'ok', steps: 2 });
    });

    it('decides a correct history in about one step per operation, the same count every time', () => {
      const h = versionedLoad(4, 3_000);
      const [a, b] = [0, 1].map(() => check(versionedModel, h, { stepBudget: 10 * h.length }));
      expect(a.verdict).to.equal('ok');
      expect(a.steps).to.equal(b.steps);
      expect(a.steps).to.be.within(h.length, 2 * h.length);
    });

    it('gives a sequential check a quarter of its steps for the per-key pass, then the whole budget', () => {
      const r = check(kvModel, hardHistory('k'), { stepBudget: 4_000, mode: 'sequential' });
      expect(r.verdict).to.equal('unknown');
      expect(r.partitions[0].unfinished).to.equal('steps');
      expect(r.steps).to.equal(1_000 + 4_000);
    });
  });

  describe('sequential consistency mode', () => {
    it("keeps each client's order at ties: a cross-key cycle whose calls touch the previous returns is illegal", () => {
      // Client 2 reads x (new) then y (old); client 1 writes y then reads x (old): no order explains all of them.
      const h: KvOp[] = [
        put(1, 'y', 'y1', 0, 10),
        put(0, 'x', 'x1', 6, 50),
        get(2, 'x', 'x1', 7, 8),
        get(2, 'y', '', 8, 9),
        get(1, 'x', '', 10, 11),
      ];
      expect(checkSequential(kvModel, h).verdict).to.equal('illegal');
    });

    // Client 1 reads a stale value after client 0's write finished: not linearizable, but sequentially
    // consistent (client 1's read can be ordered before the write).
    const stale: KvOp[] = [put(0, 'a', 'x', 0, 1), get(1, 'a', '', 2, 3)];

    it('accepts stale reads that real-time order forbids', () => {
      expect(checkLinearizable(kvModel, stale).verdict).to.equal('illegal');
      expect(checkSequential(kvModel, stale).verdict).to.equal('ok');
      expect(check(kvModel, stale, { mode: 'sequential' }).mode).to.equal('sequential');
    });

    it('still enforces each client’s own order', () => {
      // Client 1 saw x and then "" again: no single order explains it.
      const h: KvOp[] = [put(0, 'a', 'x', 0, 1), get(1, 'a', 'x', 2, 3), get(1, 'a', '', 4, 5)];
      const r = checkSequential(kvModel, h);
      expect(r.verdict).to.equal('illegal');
      expect(r.partitions).to.have.length(1);
      expect(r.partitions[0].key).to.equal(null);
    });

    it('checks all keys together (sequential consistency is not per key)', () => {
      // Each key alone is fine, but together client 0 and client 1 disagree on the order of the two puts.
      const h: KvOp[] = [
        put(2, 'a', '1', 0, 1),
        put(3, 'b', '1', 0, 1),
        get(0, 'a', '1', 2, 3),
        get(0, 'b', '', 4, 5),
        get(1, 'b', '1', 2, 3),
        get(1, 'a', '', 4, 5),
      ];
      expect(checkSequential(kvModel, h).verdict).to.equal('illegal');
      const perKey = ['a', 'b'].map(
        (k) =>
          checkSequential(
            kvModel,
            h.filter((o) => o.input.key === k),
          ).verdict,
      );
      expect(perKey).to.deep.equal(['ok', 'ok']);
    });
  });

  describe('merging per-key orders into one order', () => {
    it('keeps each key’s order and real-time order', () => {
      const h: KvOp[] = [
        put(0, 'a', '1', 0, 1), // 0
        put(1, 'b', '1', 0, 5), // 1
        get(0, 'b', '1', 2, 3), // 2: after op 0 in real time, after op 1 in b's order
        get(2, 'a', '1', 6, 7), // 3: after everything else in real time
      ];
      const order = mergeOrders(h, [
        [0, 3],
        [1, 2],
      ]) as number[];
      expect(order).to.have.length(4);
      const pos = (i: number): number => order.indexOf(i);
      expect(pos(0)).to.be.lessThan(pos(3));
      expect(pos(1)).to.be.lessThan(pos(2));
      expect(pos(0)).to.be.lessThan(pos(2));
      expect(pos(2)).to.be.lessThan(pos(3));
    });

    it('gives up on per-key orders that contradict real time', () => {
      const h: KvOp[] = [put(0, 'a', '1', 0, 1), get(1, 'a', '1', 2, 3)];
      expect(mergeOrders(h, [[1, 0]])).to.equal(undefined);
    });

    it('sequential mode answers a linearizable history with one order of all keys', () => {
      const h: KvOp[] = [
        put(0, 'a', 'x', 0, 1),
        put(1, 'b', 'y', 0, 1),
        get(0, 'b', 'y', 2, 3),
        get(1, 'a', 'x', 2, 3),
      ];
      const r = checkSequential(kvModel, h);
      expect(r.verdict).to.equal('ok');
      expect(r.partitions).to.have.length(1);
      expect(r.partitions[0].linearization.slice().sort()).to.deep.equal([0, 1, 2, 3]);
    });
  });

  describe('long histories', () => {
    it('passes a long concurrent lab2-like history quickly', () => {
      const h = versionedLoad(10, 6000, 7);
      const r = check(versionedModel, h, { timeoutMs: 60_000 });
      expect(r.verdict).to.equal('ok');
      // Speed itself is measured by `npm run bench -- --only checker`; here, the work done: a few configurations per operation.
      const s = new Search({
        model: versionedModel,
        ops: h.slice().sort((a, b) => a.call - b.call),
        lane: null,
        laneCount: 1,
      });
      while (!s.run(100_000));
      expect(s.outcome?.verdict).to.equal('ok');
      expect(s.outcome?.explored).to.be.lessThan(2 * h.length);
    });

    it('finds a stale read at the very end of a long history instead of running out of time', () => {
      const h = versionedLoad(10, 6000, 7);
      const last = h
        .map((o, i) => [o, i] as const)
        .filter(([o]) => o.input.op === 'get')
        .pop()!;
      last[0].output = { err: 'OK', value: 'stale', version: 1 };
      const r = check(versionedModel, h, { timeoutMs: 60_000 });
      expect(r.verdict).to.equal('illegal');
      expect(r.unplaced).to.deep.equal([last[1]]);
      // Reads and failed puts are placed without branching, and a dead end below one fails its parent at
      // once: about one configuration per operation is explored.
      const s = new Search({
        model: versionedModel,
        ops: h.slice().sort((a, b) => a.call - b.call),
        lane: null,
        laneCount: 1,
      });
      while (!s.run(100_000));
      expect(s.outcome?.verdict).to.equal('illegal');
      expect(s.outcome?.explored).to.be.lessThan(2 * h.length);
    });
  });

  describe('puts that may have happened (ErrMaybe)', () => {
    /** `n` clients' puts at version 0, all at once, all ErrMaybe; then one client reads the winner's value. */
    function maybeRace(n: number, winner: string): Operation<VersionedInput, VersionedOutput>[] {
      const ops: Operation<VersionedInput, VersionedOutput>[] = [];
      for (let c = 0; c < n; c++)
        ops.push(op(c, { op: 'put', key: 'k', value: `v${c}`, version: 0 }, { err: 'ErrMaybe' }, 0, 100));
      ops.push(op(0, { op: 'get', key: 'k' }, { err: 'OK', value: winner, version: 1 }, 101, 102));
      return ops;
    }

    it('places a put that can no longer take effect at once: 24 racing puts check in a few configurations', () => {
      // Tried at every moment, the 23 losers would make 2^23 configurations: the budget would run out.
      const r = check(versionedModel, maybeRace(24, 'v17'), { timeoutMs: 5_000 });
      expect(r.verdict).to.equal('ok');
      const s = new Search({ model: versionedModel, ops: maybeRace(24, 'v17'), lane: null, laneCount: 1 });
      while (!s.run(100_000));
      expect(s.outcome?.verdict).to.equal('ok');
      expect(s.outcome?.explored).to.be.lessThan(24 * 24);
    });

    it('still finds a read that no put explains, and a second winner at the same version', () => {
      expect(check(versionedModel, maybeRace(24, 'v99'), { timeoutMs: 5_000 }).verdict).to.equal('illegal');
      const twice = maybeRace(6, 'v3');
      twice.push(op(1, { op: 'get', key: 'k' }, { err: 'OK', value: 'v4', version: 1 }, 103, 104));
      expect(check(versionedModel, twice, { timeoutMs: 5_000 }).verdict).to.equal('illegal');
    });
  });

  describe('malformed histories', () => {
    it('rejects a return before the call', () => {
      expect(() => check(kvModel, [get(0, 'a', '', 5, 4)])).to.throw(
        HistoryError,
        /operation #0 \(client 0\): returns at 4, before its call at 5/,
      );
    });

    it('rejects non-finite call times and NaN returns', () => {
      expect(() => check(kvModel, [get(0, 'a', '', NaN, 4)])).to.throw(HistoryError, /call time/);
      expect(() => check(kvModel, [get(0, 'a', '', 1, NaN)])).to.throw(HistoryError, /NaN/);
    });
  });
});
