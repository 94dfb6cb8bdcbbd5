/** Lab 7's controller rules: what a controller may send the groups, and when (lab7/test/ctrler-rules.ts). */
import { expect } from 'chai';
import { CtrlerRules } from '../../../lab7/test/ctrler-rules';

const FREEZE = 'KVServer.FreezeShard';
const INSTALL = 'KVServer.InstallShard';
const DELETE = 'KVServer.DeleteShard';

describe('lab7: the controller rules', () => {
  it('lets a controller move a shard inside its call: freeze, install what the freeze returned, delete', () => {
    const r = new CtrlerRules();
    r.begin('c', 2);
    expect(r.problem('c', false, FREEZE, { shard: 3, num: 2 })).to.equal(undefined);
    r.froze({ shard: 3, num: 2 }, { err: 'OK', state: '{"k":"v"}' });
    expect(r.problem('c', false, INSTALL, { shard: 3, num: 2, state: '{"k":"v"}' })).to.equal(undefined);
    expect(r.problem('c', false, DELETE, { shard: 3, num: 2 })).to.equal(undefined);
  });

  it("refuses anything sent through a clerk's controller", () => {
    const r = new CtrlerRules();
    r.begin('c', 2);
    expect(r.problem('c', true, FREEZE, { shard: 0, num: 1 })).to.contain("through the ends a clerk's controller");
  });

  it('refuses shard RPCs outside the calls of the controller that sends them, and other methods at any time', () => {
    const r = new CtrlerRules();
    expect(r.problem('c', false, FREEZE, { shard: 0, num: 0 })).to.contain('while none of its');
    r.begin('c', 1);
    expect(r.problem('other', false, FREEZE, { shard: 0, num: 1 })).to.contain('while none of its');
    expect(r.problem('c', false, 'KVServer.Put', { key: 'k', value: 'v', version: 0 })).to.contain(
      'only KVServer.FreezeShard, InstallShard and DeleteShard',
    );
    r.end('c');
    expect(r.problem('c', false, DELETE, { shard: 0, num: 1 })).to.contain('while none of its');
  });

  it('refuses a shard RPC with a field added or left out', () => {
    const r = new CtrlerRules();
    r.begin('c', 2);
    expect(r.problem('c', false, FREEZE, { shard: 0, num: 2, hint: 'x' })).to.contain(
      'its fields are hint, num, shard',
    );
    expect(r.problem('c', false, DELETE, { shard: 0 })).to.contain('Expected exactly num, shard');
  });

  it('refuses a shard or a configuration number no move can have', () => {
    const r = new CtrlerRules();
    r.begin('c', 4);
    expect(r.problem('c', false, FREEZE, { shard: -1, num: 4 })).to.contain('no shard is numbered -1');
    expect(r.problem('c', false, FREEZE, { shard: 1.5, num: 4 })).to.contain('no shard is numbered 1.5');
    expect(r.problem('c', false, DELETE, { shard: 0, num: 5 })).to.contain('no configuration numbered 5');
  });

  it('refuses an installed state no freeze returned, past one fixed state per shard for a shard no group held', () => {
    const r = new CtrlerRules();
    r.begin('c', 3);
    expect(r.problem('c', false, INSTALL, { shard: 1, num: 3, state: '[]' })).to.equal(undefined);
    expect(r.problem('c', false, INSTALL, { shard: 1, num: 3, state: '[]' })).to.equal(undefined);
    expect(r.problem('c', false, INSTALL, { shard: 1, num: 3, state: '["hint"]' })).to.contain(
      'no FreezeShard of shard 1 returned that state',
    );
    r.froze({ shard: 2, num: 3 }, { err: 'ErrWrongLeader' });
    r.froze({ shard: 2, num: 3 }, { err: 'OK', state: 'A' });
    expect(r.problem('c', false, INSTALL, { shard: 2, num: 3, state: 'A' })).to.equal(undefined);
    expect(r.problem('c', false, INSTALL, { shard: 4, num: 3, state: 'A' })).to.equal(undefined);
    expect(r.problem('c', false, INSTALL, { shard: 4, num: 3, state: 'B' })).to.contain('no FreezeShard of shard 4');
  });
});
