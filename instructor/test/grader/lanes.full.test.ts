/** Tests side by side (--jobs): results and output stay in the suite's order; real-time (exclusive) jobs run alone. */
import { expect } from 'chai';
import { grade } from '../../../grader';
import type { Job } from '../../../grader/protocol';
import { inRandomOrder, keyedPick, waitingFirst } from '../../../grader/order';
import { ExclusiveGate } from '../../../grader/lanes';
import { FIXTURES, fixtureOptions } from './helpers';

describe('grader: tests side by side', function () {
  this.timeout(120_000);

  it('with --jobs 3 scores and prints every test in the suite’s order, as with one process', async () => {
    const one = await grade(fixtureOptions(FIXTURES.crashy, { seed: 5, jobs: 1 }));
    const three = fixtureOptions(FIXTURES.crashy, { seed: 5, jobs: 3 });
    const side = await grade(three);
    const brief = (r: typeof one) => r.labs[0].tests.map((t) => [t.name, t.status, t.points]);
    expect(brief(side)).to.deep.equal(brief(one));
    const printed = three.out.text
      .split('\n')
      .map((l) => /^(Test\w+) \./.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(printed).to.deep.equal(one.labs[0].tests.map((t) => t.name));
  });

  it('with --shuffle runs the tests in an unpredictable order, yet scores and prints them as in the suite’s order', async () => {
    const one = await grade(fixtureOptions(FIXTURES.crashy, { seed: 5, jobs: 1 }));
    const shuffled = fixtureOptions(FIXTURES.crashy, { seed: 5, jobs: 1, shuffle: true });
    const side = await grade(shuffled);
    const brief = (r: typeof one) => r.labs[0].tests.map((t) => [t.name, t.status, t.points]);
    expect(brief(side)).to.deep.equal(brief(one));
    const printed = shuffled.out.text
      .split('\n')
      .map((l) => /^(Test\w+) \./.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(printed).to.deep.equal(one.labs[0].tests.map((t) => t.name));
  });

  it('draws the shuffled order from the system’s randomness: a permutation, not the same one each time', () => {
    const items = [0, 1, 2, 3, 4, 5, 6, 7];
    expect(
      inRandomOrder(items, () => 0),
      'Fisher–Yates with every draw 0 rotates by one',
    ).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 0]);
    const orders = Array.from({ length: 20 }, () => inRandomOrder(items));
    for (const o of orders) expect([...o].sort()).to.deep.equal(items);
    expect(new Set(orders.map((o) => o.join())).size, 'twenty draws are not all alike').to.be.above(1);
    expect(items, 'the input is left as it was').to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('with a secret key (--shuffle KEY, as batch grading passes) draws the same order every time, a different one per key', () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const a = inRandomOrder(items, keyedPick('key-a'));
    expect(inRandomOrder(items, keyedPick('key-a'))).to.deep.equal(a);
    expect([...a].sort((x, y) => x - y)).to.deep.equal(items);
    expect(a).not.to.deep.equal(items);
    expect(inRandomOrder(items, keyedPick('key-b'))).not.to.deep.equal(a);
    const pick = keyedPick('k');
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[pick(3)]++;
    for (const c of counts) expect(c, 'each of 0..2 about a third of the time').to.be.within(850, 1150);
  });

  it('hands out the real-time tests that share the cores first, every other job after them, each part in its order', () => {
    const jobs = ['a1', 'real1', 'b1', 'a2', 'real2', 'b2'];
    expect(waitingFirst(jobs, (j) => j.startsWith('real'))).to.deep.equal(['real1', 'real2', 'a1', 'b1', 'a2', 'b2']);
    expect(waitingFirst(jobs, () => false)).to.deep.equal(jobs);
  });

  it('runs a test marked ownProcess in a test process started for it and ended after it, even on one lane', async () => {
    const result = await grade(fixtureOptions(FIXTURES.ownprocess, { seed: 1, jobs: 1 }));
    const brief = result.labs[0].tests.map((t) => [t.name, t.status, t.message.split('\n')[0]]);
    expect(brief).to.deep.equal([
      ['TestMarksItsProcess', 'passed', ''],
      ['TestFindsNoMark', 'passed', ''],
    ]);
  });

  it('lets ordinary jobs share the machine, and runs an exclusive job alone without starving it', async () => {
    const job = (index: number): Job => ({ index, test: `T${index}`, seed: 1, realLimitMs: 1000 });
    const gate = new ExclusiveGate((j) => j.index === 2);
    const log: string[] = [];
    const tick = () => new Promise((r) => setImmediate(r));
    const run = async (j: Job) => {
      await gate.enter(j);
      log.push(`start ${j.index}`);
      await tick();
      await tick();
      log.push(`end ${j.index}`);
      gate.leave(j);
    };
    await Promise.all([
      run(job(0)),
      run(job(1)),
      (async () => {
        await tick();
        await run(job(2));
      })(),
      (async () => {
        await tick();
        await tick();
        await run(job(3));
      })(),
    ]);
    expect(log.slice(0, 2), 'two ordinary jobs start together').to.deep.equal(['start 0', 'start 1']);
    const s2 = log.indexOf('start 2');
    expect(log.indexOf('end 0')).to.be.below(s2);
    expect(log.indexOf('end 1')).to.be.below(s2);
    expect(log[s2 + 1], 'nothing starts beside the exclusive job').to.equal('end 2');
    expect(log.indexOf('start 3'), 'a job that came while the exclusive one waited goes after it').to.be.above(
      log.indexOf('end 2'),
    );
  });
});
