/** HistoryRecorder: call/return times from the (virtual) clock, pending operations, misuse. */
import { expect } from 'chai';
import { checkLinearizable } from '../../../checker';
import { kvModel, KvInput, KvOutput } from '../../../checker/models/kv';
import { sleep, World } from '../../../world';
import { HistoryRecorder } from '../../../suite/history';

describe('HistoryRecorder', () => {
  it('records call and return times from a given clock, and unfinished operations as pending', () => {
    let now = 10;
    const rec = new HistoryRecorder<KvInput, KvOutput>(() => now);
    const a = rec.begin(1, { op: 'put', key: 'k', value: 'x' });
    now = 12;
    const b = rec.begin(2, { op: 'get', key: 'k' });
    now = 15;
    rec.end(a, '');
    expect(rec.count).to.equal(2);
    expect(rec.pending).to.equal(1);
    expect(b.index).to.equal(1);
    expect(rec.operations()).to.deep.equal([
      { clientId: 1, input: { op: 'put', key: 'k', value: 'x' }, output: '', call: 10, return: 15 },
      { clientId: 2, input: { op: 'get', key: 'k' }, output: undefined, call: 12, return: Infinity },
    ]);
  });

  it('returns a snapshot: later ends do not change an earlier copy', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>(() => 1);
    const t = rec.begin(0, { op: 'get', key: 'k' });
    const before = rec.operations();
    rec.end(t, '');
    expect(before[0].return).to.equal(Infinity);
    expect(rec.operations()[0].return).to.equal(1);
  });

  it('refuses to end an operation twice or one it never began', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>(() => 0);
    const t = rec.begin(3, { op: 'get', key: 'k' });
    rec.end(t, '');
    expect(() => rec.end(t, '')).to.throw(/operation #0 \(client 3\) already ended/);
    expect(() => rec.end({ index: 7 }, '')).to.throw(/no operation #7 was begun here/);
  });

  it('keeping only unfinished operations, forgets each as it ends (its output freed) and refuses to give a history', async () => {
    const rec = new HistoryRecorder<KvInput, object>(() => 0, 'unfinished');
    const a = rec.begin(1, { op: 'get', key: 'k' });
    rec.begin(2, { op: 'get', key: 'j' });
    // An output nothing but the history could hold once the operation has ended.
    const freed = (() => {
      const output = { value: 'v'.repeat(1 << 16) };
      rec.end(a, output);
      return new WeakRef(output);
    })();
    // A weak reference keeps its target until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    global.gc!();
    expect(freed.deref(), "the ended operation's output, still held").to.equal(undefined);
    expect(rec.count).to.equal(2);
    expect(rec.pending).to.equal(1);
    expect(rec.inFlight()).to.deep.equal([{ clientId: 2, input: { op: 'get', key: 'j' }, call: 0 }]);
    expect(() => rec.end(a, {})).to.throw(/operation #0 already ended/);
    expect(() => rec.operations()).to.throw(/keeps only unfinished operations/);
  });

  it('uses virtual time inside a simulated world, and the history checks', async () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>();
    await new World({ seed: 1 }).run(async () => {
      const put = rec.begin(0, { op: 'put', key: 'k', value: 'v' });
      await sleep(5);
      rec.end(put, '');
      await sleep(2.5);
      const get = rec.begin(1, { op: 'get', key: 'k' });
      await sleep(1);
      rec.end(get, 'v');
      rec.begin(2, { op: 'append', key: 'k', value: 'w' });
    });
    const ops = rec.operations();
    expect(ops.map((o) => [o.call, o.return])).to.deep.equal([
      [0, 5],
      [7.5, 8.5],
      [8.5, Infinity],
    ]);
    expect(checkLinearizable(kvModel, ops).verdict).to.equal('ok');
    rec.clear();
    expect(rec.count).to.equal(0);
  });
});
