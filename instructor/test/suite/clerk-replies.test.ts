/**
 * The clerk witness (labs 2, 6, 7): each RPC a clerk sends serves the call it is in, and a get's result is judged
 * as read once.
 */
import { expect } from 'chai';
import type { ClientEnd } from '../../../labrpc';
import { World } from '../../../world';
import { ClerkReplies, clerkArgsProblem, resultOnce } from '../../../suite/clerk-replies';

/** A reply promise as labrpc would give it. */
const answered = <R>(reply: R): Promise<R> => Promise.resolve(reply);

describe('suite: the clerk witness', () => {
  it('passes a get whose RPCs are its own and whose result a reply gave', async () => {
    const w = new ClerkReplies();
    const call = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'OK', value: 'v', version: 1 }));
    expect(w.endGet(call, { err: 'OK', value: 'v', version: 1 })).to.equal(undefined);
  });

  it('compares a get’s result with the replies whole: a long value that only starts as a reply’s did, a number for a string, -0 for 0', async () => {
    const long = 'x'.repeat(39);
    const w = new ClerkReplies();
    const call = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'OK', value: long, version: 1 }));
    const problem = w.endGet(call, { err: 'OK', value: `${long} and the rest kept by the clerk`, version: 1 });
    expect(problem).to.contain('no server sent this clerk that answer');
    expect(problem).to.contain('...'); // shown shortened, compared whole
    for (const [value, version] of [
      [1, 1],
      ['1', -0],
    ]) {
      const other = new ClerkReplies();
      const get = other.beginGet('k');
      await other.sent('KVServer.Get', { key: 'k' }, answered({ err: 'OK', value: '1', version: 0 }));
      expect(other.endGet(get, { err: 'OK', value, version }), `${String(value)} at ${String(version)}`).to.contain(
        'no server sent this clerk that answer',
      );
    }
  });

  it('judges the copy it sends: arguments that answer each reading differently are read once, for the rules and the wire alike', async () => {
    const w = new ClerkReplies();
    const wire: unknown[] = [];
    const end = {
      call: (_method: string, args: unknown) => {
        wire.push(args);
        return answered({ err: 'ErrNoKey' });
      },
    } as unknown as ClientEnd;
    w.watch(end);
    let listings = 0;
    // Lists its extra field the first time only, as a proxy (or a getter that deletes itself) of the code's can.
    const args = new Proxy(
      { key: 'k', answer: 'v' },
      { ownKeys: (target) => (listings++ === 0 ? Reflect.ownKeys(target) : ['key']) },
    );
    const call = w.beginGet('k');
    await end.call('KVServer.Get', args);
    expect(wire).to.deep.equal([{ key: 'k', answer: 'v' }]);
    expect(w.endGet(call, { err: 'ErrNoKey' })).to.contain('the fields key, answer');
  });

  it('fails the run, and neither judges nor sends, arguments the network cannot copy (a proxy that throws at its first reading)', async () => {
    const wire: unknown[] = [];
    let failure: unknown;
    await new World({ seed: 1 })
      .run(async () => {
        const w = new ClerkReplies();
        const end = {
          call: (_method: string, args: unknown) => {
            wire.push(args);
            return answered({ err: 'ErrNoKey' });
          },
        } as unknown as ClientEnd;
        w.watch(end);
        let listings = 0;
        const args = new Proxy(
          { key: 'k', answer: 'v' },
          {
            ownKeys: (target) => {
              if (listings++ === 0) throw new Error('the first reading refused');
              return Reflect.ownKeys(target);
            },
          },
        );
        w.beginGet('k');
        await end.call('KVServer.Get', args).catch(() => undefined);
      })
      .catch((error: unknown) => (failure = error));
    expect(wire).to.deep.equal([]);
    expect(String(failure)).to.contain('the first reading refused');
  });

  it('holds a clerk call’s arguments to the KVClerk types: strings and a finite number (fractions and negatives allowed), never a function', () => {
    expect(clerkArgsProblem('k')).to.equal(undefined);
    expect(clerkArgsProblem('k', 'v', -0.5)).to.equal(undefined);
    expect(clerkArgsProblem('k', 'v', () => 1)).to.contain('(string, string, function)');
    expect(clerkArgsProblem({ key: 'k' })).to.contain('Clerk.get was called with arguments of the types (object)');
    expect(clerkArgsProblem('k', 'v', Number.NaN)).to.contain('Expected put(key, value, version)');
  });

  it('fails a get during which the clerk sent an RPC for another key or operation, naming the call it was in', async () => {
    const w = new ClerkReplies();
    const call = w.beginGet('k');
    await w.sent('KVServer.Put', { key: 'hint', value: '[...]', version: 0 }, answered({ err: 'OK' }));
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }));
    const problem = w.endGet(call, { err: 'ErrNoKey' });
    expect(problem).to.contain('while its get("k") ran');
    expect(problem).to.contain('Expected each RPC a clerk sends to serve the call it is in');
  });

  it('fails the next call of a clerk that sent an RPC between its calls', async () => {
    const w = new ClerkReplies();
    const first = w.beginPut('k', 'v', 0);
    await w.sent('KVServer.Put', { key: 'k', value: 'v', version: 0 }, answered({ err: 'OK' }));
    expect(w.endPut(first, 'OK')).to.equal(undefined);
    await w.sent('KVServer.Put', { key: 'k', value: 'w', version: 1 }, answered({ err: 'OK' }));
    const next = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'OK', value: 'w', version: 2 }));
    expect(w.endGet(next, { err: 'OK', value: 'w', version: 2 })).to.contain('while none of its gets and puts ran');
  });

  it('fails a call copied again after its answer came, not after a refusal or a copy shared by two running calls', async () => {
    const w = new ClerkReplies();
    const refused = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrWrongLeader' }));
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }));
    expect(w.endGet(refused, { err: 'ErrNoKey' })).to.equal(undefined);
    const a = w.beginGet('s');
    const b = w.beginGet('s');
    await w.sent('KVServer.Get', { key: 's' }, answered({ err: 'ErrNoKey' }));
    expect(w.endGet(a, { err: 'ErrNoKey' })).to.equal(undefined);
    await w.sent('KVServer.Get', { key: 's' }, answered({ err: 'ErrNoKey' }));
    expect(w.endGet(b, { err: 'ErrNoKey' })).to.equal(undefined);
    const again = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }));
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }));
    expect(w.endGet(again, { err: 'ErrNoKey' })).to.contain(
      'again after a reply that answers it had reached the clerk',
    );
  });

  it('fails a copy sent while an earlier copy is unanswered (a broadcast), not one after a loss or by two tasks', async () => {
    const w = new ClerkReplies();
    const lost = w.beginPut('k', 'v', 0);
    await w
      .sent('KVServer.Put', { key: 'k', value: 'v', version: 0 }, Promise.reject(new Error('lost')))
      .catch(() => {});
    await w.sent('KVServer.Put', { key: 'k', value: 'v', version: 0 }, answered({ err: 'OK' }));
    expect(w.endPut(lost, 'OK')).to.equal(undefined);
    const a = w.beginGet('s');
    const b = w.beginGet('s');
    await Promise.all([
      w.sent('KVServer.Get', { key: 's' }, answered({ err: 'ErrNoKey' })),
      w.sent('KVServer.Get', { key: 's' }, answered({ err: 'ErrNoKey' })),
    ]);
    expect(w.endGet(a, { err: 'ErrNoKey' })).to.equal(undefined);
    expect(w.endGet(b, { err: 'ErrNoKey' })).to.equal(undefined);
    const broadcast = w.beginGet('k');
    await Promise.any([0, 1, 2].map(() => w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }))));
    const problem = w.endGet(broadcast, { err: 'ErrNoKey' });
    expect(problem).to.contain('again while the copy before it was still unanswered');
    expect(problem).to.contain('Promise.all or Promise.any');
  });

  it('with firstToLastAnswer, fails a call whose first copy skips the server that answered last, not one after a refusal', async () => {
    const w = new ClerkReplies({ firstToLastAnswer: true });
    const first = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrWrongLeader' }), 0);
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }), 1);
    expect(w.endGet(first, { err: 'ErrNoKey' })).to.equal(undefined);
    const remembered = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }), 1);
    expect(w.endGet(remembered, { err: 'ErrNoKey' })).to.equal(undefined);
    const forgot = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrWrongLeader' }), 0);
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }), 1);
    expect(w.endGet(forgot, { err: 'ErrNoKey' })).to.contain('to server 0, but server 1 answered its last call');
    // Two tasks side by side: either may have moved the clerk's leader, so the next call is not held to an answer.
    const shared = new ClerkReplies({ firstToLastAnswer: true });
    const a = shared.beginGet('a');
    const b = shared.beginGet('b');
    await shared.sent('KVServer.Get', { key: 'b' }, answered({ err: 'ErrNoKey' }), 2);
    shared.endGet(b, { err: 'ErrNoKey' });
    await shared.sent('KVServer.Get', { key: 'a' }, answered({ err: 'ErrNoKey' }), 1);
    shared.endGet(a, { err: 'ErrNoKey' });
    const after = shared.beginGet('c');
    await shared.sent('KVServer.Get', { key: 'c' }, answered({ err: 'ErrNoKey' }), 2);
    expect(shared.endGet(after, { err: 'ErrNoKey' }), 'after two calls side by side').to.equal(undefined);
    const lenient = new ClerkReplies();
    const call = lenient.beginGet('k');
    await lenient.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }), 1);
    lenient.endGet(call, { err: 'ErrNoKey' });
    const other = lenient.beginGet('k');
    await lenient.sent('KVServer.Get', { key: 'k' }, answered({ err: 'ErrNoKey' }), 0);
    expect(lenient.endGet(other, { err: 'ErrNoKey' }), 'without the rule').to.equal(undefined);
  });

  it('fails the first call of a clerk that sent an RPC before it (an end not yet used is no free channel)', async () => {
    const w = new ClerkReplies();
    await w.sent('KVServer.Put', { key: 'k', value: 'answer', version: 0 }, answered({ err: 'OK' }));
    const call = w.beginGet('k');
    await w.sent('KVServer.Get', { key: 'k' }, answered({ err: 'OK', value: 'answer', version: 1 }));
    expect(w.endGet(call, { err: 'OK', value: 'answer', version: 1 })).to.contain(
      'while none of its gets and puts ran',
    );
  });

  it('reads a get’s result once: a result whose fields answer each read afresh is judged and kept as first read', () => {
    let reads = 0;
    const live = {
      get err(): string {
        reads += 1;
        return reads === 1 ? 'OK' : 'ErrNoKey';
      },
      value: 'v',
      version: 3,
    };
    const once = resultOnce(live);
    expect(once).to.deep.equal({ err: 'OK', value: 'v', version: 3 });
    expect(once.err).to.equal(once.err);
    expect(reads).to.equal(1);
  });
});
