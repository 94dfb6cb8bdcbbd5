/** A simulated test's limit counts its process's CPU time: a machine too busy to run it does not fail it. */
import { expect } from 'chai';
import fs from 'node:fs';
import { grade } from '../../../grader';
import { STARVED_FACTOR, processCpuMs, starvedDeadline } from '../../../grader/cpu-time';
import { FIXTURES, fixtureOptions } from './helpers';

/** Pids of this process's children that are stopped (state T in /proc). */
function stoppedChildren(): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'T' && Number(fields[1]) === process.pid) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('grader: CPU-time limit of simulated tests', function () {
  this.timeout(60_000);
  const linux = fs.existsSync('/proc/self/stat');

  it('reads a process’s CPU time from /proc where there is one', function () {
    if (!linux) this.skip();
    const before = processCpuMs(process.pid) as number;
    const cpu = (): number => process.cpuUsage().user / 1000;
    const from = cpu();
    while (cpu() < from + 80); // burn 80 ms of CPU, however long a busy machine makes that take
    expect(processCpuMs(process.pid)).to.be.greaterThan(before + 50);
    expect(processCpuMs(2 ** 22 + 7), 'a process that does not exist').to.equal(undefined);
  });

  it('extends a starved run’s deadline, never past STARVED_FACTOR times its limit, and not one that used its CPU', () => {
    const now = 10_000;
    expect(starvedDeadline({ realMs: 1300, cpuMs: 100 }, 1000, now, 300)).to.equal(now + 1000 + 300);
    expect(starvedDeadline({ realMs: 3500, cpuMs: 100 }, 1000, now, 300)).to.equal(now - 3500 + STARVED_FACTOR * 1000);
    expect(starvedDeadline({ realMs: STARVED_FACTOR * 1000, cpuMs: 100 }, 1000, now, 300)).to.equal(undefined);
    expect(starvedDeadline({ realMs: 1300, cpuMs: 1000 }, 1000, now, 300), 'it had all its CPU').to.equal(undefined);
  });

  it('passes a test whose process got no CPU for longer than its limit (stopped, then resumed)', async function () {
    if (!linux) this.skip();
    const graded = grade(fixtureOptions(FIXTURES.starved, { seed: 1, jobs: 1 }));
    let stopped: number[] = [];
    for (let i = 0; i < 400 && stopped.length === 0; i++) {
      await sleep(50);
      stopped = stoppedChildren();
    }
    expect(stopped, 'the fixture test stops its own process').to.have.length(1);
    await sleep(2500); // past its 1 s limit and the grace after it, within STARVED_FACTOR times the limit
    process.kill(stopped[0], 'SIGCONT');
    const result = await graded;
    const t = result.labs[0].tests[0];
    expect([t.name, t.status, t.message]).to.deep.equal(['TestStarved', 'passed', '']);
  });
});
