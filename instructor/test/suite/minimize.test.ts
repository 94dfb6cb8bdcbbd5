/** Fault minimization: ddmin finds the faults a failure needs, deterministically, and says so for students. */
import { expect } from 'chai';
import { describeMinimalFaults, failureSignature, minimizeFaults, scriptedFaults } from '../../../suite/minimize';
import { mayDisturb } from '../../../suite/nemesis/disturbance';
import { DISTURBANCE_KEY, World, type TraceEvent } from '../../../world';
import type { AppliedFault } from '../../../world';

const faults: AppliedFault[] = 'abcdefghij'.split('').map((k) => ({ key: k, what: `fault ${k}` }));

describe('fault minimization', () => {
  it('keeps exactly the faults a failure needs, however many there were', async () => {
    const calls: string[] = [];
    const needs = async (allowed: readonly string[]): Promise<boolean> => {
      calls.push(allowed.join(''));
      return allowed.includes('c') && allowed.includes('g');
    };
    const m = await minimizeFaults(faults, needs, Infinity);
    expect(m.kept.map((f) => f.key)).to.deep.equal(['c', 'g']);
    expect(m).to.include({ total: 10, passesWithout: true, complete: true });
    expect(calls[0]).to.equal('', 'first asks whether it fails with no fault at all');
    const again: string[] = [];
    await minimizeFaults(faults, async (a) => (again.push(a.join('')), a.includes('c') && a.includes('g')), Infinity);
    expect(again).to.deep.equal(calls, 'the same replays in the same order');
    expect(describeMinimalFaults(m)).to.equal(
      "With no faults this test passes. 8 of the network's 10 chance faults could be removed; it still fails with just these 2: fault c; fault g.",
    );
  });

  it('describes the faults kept as they happened in the last failing replay', async () => {
    // Once other faults are gone, the call a key names can carry other arguments at another time.
    const m = await minimizeFaults(
      faults,
      async (a) => a.includes('d') && a.map((key) => ({ key, what: `fault ${key} as replayed` })),
      Infinity,
    );
    expect(m.kept).to.deep.equal([{ key: 'd', what: 'fault d as replayed' }]);
  });

  it('says a failure with no fault at all is a concurrency bug, and stops at its deadline', async () => {
    const always = await minimizeFaults(faults, async () => true, Infinity);
    expect(always.kept).to.deep.equal([]);
    expect(describeMinimalFaults(always)).to.match(
      /^It fails with no faults at all \(all of the network's 10 chance faults removed\): a concurrency bug/,
    );
    const late = await minimizeFaults(faults, async () => false, -1);
    expect(late).to.include({ complete: false, replays: 0 });
  });

  it('counts the faults a test scripts (lost messages, stopped and restarted servers) and never calls their failure a reliable-network bug', async () => {
    const events: TraceEvent[] = [
      { k: 'drop', t: 1, id: 1, which: 'reply', why: 'disabled' },
      { k: 'drop', t: 2, id: 2, which: 'request', why: 'killed' },
      { k: 'drop', t: 3, id: 3, which: 'request', why: 'unreliable' },
      { k: 'net', t: 4, lane: 's1', what: 'killed' },
      { k: 'net', t: 5, lane: 's1', what: 'restarted (a new server replaces the old one)' },
      { k: 'net', t: 6, lane: 's2', what: 'started' },
    ];
    const scripted = scriptedFaults({ events, cut: 0, limit: 100 });
    expect(scripted).to.deep.equal({ lost: 2, stopped: 1, restarted: 1 });
    // A scripted loss alone (lab 2's TestLockLostReply): no chance faults, the test's own loss remains.
    const none = await minimizeFaults([], async () => true, Infinity);
    const lostOnly = describeMinimalFaults({ ...none, scripted: { lost: 1, stopped: 0, restarted: 0 } });
    expect(lostOnly).to.equal(
      "The network added no chance faults to this run. What no replay removes is the test's own scenario: it lost 1 message on purpose (the trace page marks each), so look at what your code does when a message is lost or a server stops.",
    );
    // A stopped server under chance faults that do not matter (lab 1's TestOddKeys).
    const always = await minimizeFaults(faults, async () => true, Infinity);
    expect(describeMinimalFaults({ ...always, scripted: { lost: 4, stopped: 1, restarted: 0 } })).to.equal(
      "It still fails with all of the network's 10 chance faults removed, so none of them matters. What no replay removes is the test's own scenario: it lost 4 messages and stopped 1 server on purpose (the trace page marks each), so look at what your code does when a message is lost or a server stops.",
    );
    expect(describeMinimalFaults({ ...none, scripted: { lost: 0, stopped: 0, restarted: 0 } })).to.match(
      /^No message was lost and no server stopped in this run: it fails on a reliable network/,
    );
  });

  it("makes an attacker's disturbances faults like the network's: noted, left out of a replay, and named", async () => {
    const draw = (log: string[]): boolean[] => ['crash 1', 'cut off 2', 'disconnect 0'].map((w) => mayDisturb(log, w));
    // An ordinary run: every disturbance happens and is logged; nothing is noted.
    const plain: string[] = [];
    expect(await new World({ seed: 1 }).run(() => draw(plain))).to.deep.equal([true, true, true]);
    expect(plain).to.deep.equal(['crash 1', 'cut off 2', 'disconnect 0']);
    // A recorded replay notes each one, numbered in the order drawn.
    const noted = new World({ seed: 1, faults: {} });
    await noted.run(() => draw([]));
    expect(noted.faults?.applied.map((f) => f.key)).to.deep.equal([0, 1, 2].map((k) => `${DISTURBANCE_KEY}${k}`));
    expect(noted.faults?.applied[1].what).to.equal('at 0.0 ms the attacker\'s "cut off 2"');
    // A minimizing replay that keeps only the second: the others do not happen, and are not logged.
    const log: string[] = [];
    const kept = [`${DISTURBANCE_KEY}1`];
    expect(await new World({ seed: 1, faults: { allowed: kept } }).run(() => draw(log))).to.deep.equal([
      false,
      true,
      false,
    ]);
    expect(log).to.deep.equal(['cut off 2']);
    // The sentence for students counts them apart from the network's.
    const mixed: AppliedFault[] = [...faults.slice(0, 3), { key: `${DISTURBANCE_KEY}0`, what: 'the crash' }];
    const m = await minimizeFaults(mixed, async (a) => a.includes(`${DISTURBANCE_KEY}0`), Infinity);
    expect(m).to.include({ total: 4, disturbances: 1 });
    expect(describeMinimalFaults(m)).to.equal(
      "With no faults this test passes. 3 of 4 chance faults (the network's 3 and the attacker's 1 disturbances) could be removed; it still fails with just this one: the crash.",
    );
    const own = { lost: 3, stopped: 1, restarted: 0 };
    const alone = await minimizeFaults(mixed.slice(3), async () => true, Infinity);
    expect(describeMinimalFaults({ ...alone, scripted: own })).to.match(
      /^It still fails with all of the attacker's 1 disturbance removed, so none of them matters\. What no replay removes is the test's own scenario/,
    );
  });

  it('says when no fault could be removed, rather than counting all of them as kept', async () => {
    const all = await minimizeFaults(faults, async (a) => a.length === faults.length, Infinity);
    expect(all.kept).to.have.length(10);
    expect(describeMinimalFaults(all)).to.equal(
      "With no faults this test passes, but none of the network's 10 chance faults could be removed: without any one of them it passes or fails another way, so the failure needs this exact schedule. The trace page shows them all.",
    );
    const cut = describeMinimalFaults({ ...all, complete: false });
    expect(cut).to.match(/the search ran out of time before it could remove any of the network's 10 chance faults/);
  });

  it('treats failures as the same when only numbers and quoted values differ', () => {
    const a = failureSignature({ crash: 'assertion', message: 'round 3: get("k") returned "7" at 12.5 ms\nmore' });
    expect(failureSignature({ crash: 'assertion', message: 'round 9: get("x") returned "1" at 3 ms' })).to.equal(a);
    expect(failureSignature({ crash: 'assertion', message: 'Clerk.put never returned ErrMaybe' })).to.not.equal(a);
  });
});
