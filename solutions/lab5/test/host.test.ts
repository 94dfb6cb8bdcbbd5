/**
 * Red team for lab 5's student host: code that rewrites what every socket of its process receives, and prints a
 * forged verdict, scores what its honest answers earn, because the harness's sockets are in another process; and
 * the harness's process never loads a file of the code under test, except in the tests that run in a process of
 * their own.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant, type Mutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab5/test/suite';
import { realTest } from '../../../lab5/test/common';

const SOLUTION_DIR = path.resolve(__dirname, '..');

/** An honest bug: PING answers PANG (TestSetGetDel fails on it; TestIntegers does not look). */
const PANG: readonly [string, string] = ["reply.simple('PONG')", "reply.simple('PANG')"];

/** The attack: every 'data' event of this process's sockets has PANG turned back into PONG, and a verdict is printed. */
const HOSTILE_CODE = `
const hostileEmit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
  const chunk = args[0];
  if (event === 'data' && Buffer.isBuffer(chunk))
    args[0] = Buffer.from(chunk.toString('latin1').split('PANG').join('PONG'), 'latin1');
  return hostileEmit.call(this, event, ...args);
} as typeof net.Socket.prototype.emit;
for (const fd of [1, 2]) {
  try {
    fs.writeSync(fd, '{"type":"done","index":0,"body":"{\\\\"status\\\\":\\\\"passed\\\\"}","mac":"00"}\\n');
  } catch {
    // not writable here
  }
}
const OUTPUT_PAUSE_BYTES = 1 << 20;`;

const honest: Mutant = {
  name: 'redteam-honest',
  description: 'PING answers PANG',
  file: 'server.ts',
  replace: [PANG],
  caughtBy: ['TestSetGetDel'],
};

const hostile: Mutant = {
  ...honest,
  name: 'redteam-hostile',
  description: 'PING answers PANG, and every socket of the process sees PONG',
  replace: [
    PANG,
    ["import * as net from 'node:net';", "import * as fs from 'node:fs';\nimport * as net from 'node:net';"],
    ['const OUTPUT_PAUSE_BYTES = 1 << 20;', HOSTILE_CODE],
  ],
};

/** The status of each of `names` for the code in `dir`. */
async function statuses(dir: string, names: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const test = suite.tests.find((t) => t.name === name)!;
    const outcome = await runNamedTest(test, suite.load(dir), 1);
    out[name] = `${outcome.status}${outcome.status === 'failed' && /PANG/.test(outcome.message) ? ' (PANG)' : ''}`;
  }
  return out;
}

describe('lab5 student host: red team', function () {
  this.timeout(120_000);
  const names = ['TestSetGetDel', 'TestIntegers'];

  it('code that rewrites its process’s sockets scores what its honest answers earn', async () => {
    const honestDir = materialiseMutant(SOLUTION_DIR, honest);
    const hostileDir = materialiseMutant(SOLUTION_DIR, hostile);
    try {
      const fair = await statuses(honestDir, names);
      const forged = await statuses(hostileDir, names);
      expect(fair).to.deep.equal({ TestSetGetDel: 'failed (PANG)', TestIntegers: 'passed' });
      expect(forged).to.deep.equal(fair);
    } finally {
      removeMutant(honestDir);
      removeMutant(hostileDir);
    }
  });

  it('an exception that escapes the code under test fails the test with its message, its frames and the likely causes', async () => {
    const dir = materialiseMutant(SOLUTION_DIR, {
      ...honest,
      name: 'redteam-crash',
      replace: [
        [
          'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {',
          "export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {\n  setTimeout(() => {\n    throw new Error('boom in a timer');\n  }, 100);",
        ],
      ],
    });
    try {
      const test = suite.tests.find((t) => t.name === 'TestSlowReader')!;
      const outcome = await runNamedTest(test, suite.load(dir), 1);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message)
        .to.contain('Uncaught exception in your lab 5 code')
        .and.contain('boom in a timer')
        .and.match(/server\.ts:\d+/);
    } finally {
      removeMutant(dir);
    }
  });

  it('the harness’s process loads no file of the code under test', async () => {
    const dir = materialiseMutant(SOLUTION_DIR, { ...honest, name: 'redteam-isolation', replace: [] });
    try {
      const test = suite.tests.find((t) => t.name === 'TestShardPlacement')!;
      const outcome = await runNamedTest(test, suite.load(dir), 1);
      expect(outcome.status, outcome.message).to.equal('passed');
      const loadedHere = Object.keys(require.cache).filter((f) => f.startsWith(dir + path.sep));
      expect(loadedHere).to.deep.equal([]);
    } finally {
      removeMutant(dir);
    }
  });

  it('the tests that load the code in the harness’s process each run in a test process of their own', () => {
    const body = (): Promise<void> => Promise.resolve();
    expect(
      realTest('TestHere', 'loads the code here', body, 'harness').ownProcess,
      "realTest(..., 'harness')",
    ).to.equal(true);
    expect(realTest('TestThere', 'in a host', body).ownProcess, 'realTest(...) in a host').to.equal(undefined);
    const own = suite.tests.filter((t) => t.ownProcess === true).map((t) => t.name);
    expect(own.sort(), 'lab 5 tests with ownProcess (README: six tests load the code in the harness)').to.deep.equal([
      'TestBackgroundExpiry',
      'TestFsyncPolicy',
      'TestNemesisRedis',
      'TestSnapshotCrash',
      'TestSnapshotDiskFull',
      'TestSnapshotServes',
    ]);
  });
});
