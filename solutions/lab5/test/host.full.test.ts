/**
 * Red team for lab 5's student host: code that rewrites what every socket of its process receives, and prints a
 * forged verdict, scores what its honest answers earn, because the harness's sockets are in another process; code
 * that forges a spy's report on the host's channel fails the test; and the harness's process never loads a file of
 * the code under test, in any test (the spies run in the host).
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { materialiseMutant, removeMutant, type Mutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab5/test/suite';
import { mutants } from '../mutants';

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

/** A forger: when its files load, it writes a reply line of its own to every socket of its process (the channel among them). */
const FORGING_CODE = `
for (let fd = 3; fd < 64; fd++) {
  try {
    if (fs.fstatSync(fd).isSocket()) fs.writeSync(fd, '{"id":1,"value":{"now":1,"syncs":[1],"replies":[2]}}\\n');
  } catch {
    // not open, or not a socket that takes writes
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

  it('a line the code under test writes to the host’s channel (a forged reply or spy report) fails the test', async () => {
    const dir = materialiseMutant(SOLUTION_DIR, {
      ...honest,
      name: 'redteam-forger',
      replace: [
        ["import * as net from 'node:net';", "import * as fs from 'node:fs';\nimport * as net from 'node:net';"],
        ['const OUTPUT_PAUSE_BYTES = 1 << 20;', FORGING_CODE],
      ],
    });
    try {
      const test = suite.tests.find((t) => t.name === 'TestFsyncPolicy')!;
      const outcome = await runNamedTest(test, suite.load(dir), 1);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message).to.contain('a line that the kit did not sign');
    } finally {
      removeMutant(dir);
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

  /**
   * fsync-after-reply (TestFsyncPolicy must fail it) with the reply hidden from a spy on Socket#write: written
   * through another of a socket's write paths before the fsync, and a decoy written with Socket#write after it (no
   * byte, or the reply's last byte).
   */
  const HIDDEN_REPLIES: Record<string, readonly [string, string]> = {
    "Writable's write, one prototype up": [
      "(Object.getPrototypeOf(Object.getPrototypeOf(conn.socket)).write as Function).call(conn.socket, out, 'latin1')",
      "''",
    ],
    "the socket's _write": [
      "(conn.socket as unknown as { _write: Function })._write(Buffer.from(out, 'latin1'), 'buffer', () => undefined)",
      "''",
    ],
    "fs.writeSync on the socket's descriptor": [
      "require('node:fs').writeSync((conn.socket as unknown as { _handle: { fd: number } })._handle.fd, Buffer.from(out.slice(0, -1), 'latin1'))",
      'out.slice(-1)',
    ],
  };

  for (const [how, [write, decoy]] of Object.entries(HIDDEN_REPLIES))
    it(`a reply written before its fsync through ${how}, with a decoy write after the fsync, fails TestFsyncPolicy (red team: the spy wrapped Socket#write only, and "no reply seen" counted as a reply now)`, async () => {
      const dir = materialiseMutant(SOLUTION_DIR, {
        ...honest,
        name: 'redteam-hidden-reply',
        replace: [
          [
            "    this.persistence?.flush();\n    if (out.length > 0) conn.socket.write(out, 'latin1');\n",
            `    if (out.length > 0) ${write};\n    this.persistence?.flush();\n    if (out.length > 0) conn.socket.write(${decoy}, 'latin1');\n`,
          ],
        ],
      });
      try {
        const test = suite.tests.find((t) => t.name === 'TestFsyncPolicy')!;
        const outcome = await runNamedTest(test, suite.load(dir), 1);
        expect(outcome.status).to.equal('failed');
        expect(outcome.message).to.match(
          /before it fsynced the log|without an fsync of the log before the first reply/,
        );
      } finally {
        removeMutant(dir);
      }
    });

  it('a snapshot written in place with FileHandle.writev, and an empty file written after it, fails TestSnapshotCrash (red team: the disk spies did not wrap writev)', async () => {
    const notAtomic = mutants.find((m) => m.name === 'snapshot-not-atomic')!;
    const dir = materialiseMutant(SOLUTION_DIR, {
      ...notAtomic,
      name: 'redteam-snapshot-writev',
      replace: [
        ...notAtomic.replace,
        [
          'await file.write(Buffer.concat(chunk)); // the event loop',
          'await file.writev([Buffer.concat(chunk)]); // the event loop',
        ],
        ['      await file.write(Buffer.concat(chunk));\n', '      await file.writev([Buffer.concat(chunk)]);\n'],
        [
          '    await file.close();\n',
          "    await file.close();\n    fs.writeFileSync(path.join(this.dir, 'snapshot.seen'), '');\n",
        ],
      ],
    });
    try {
      // The copy is taken at the first write after the test arms the spy: armed in the few ms between the last writev
      // and the decoy, the copy holds a whole snapshot and the run passes, so up to four runs, one of which must fail
      // (with writev unwrapped, every run passed; on a loaded machine two runs both passed now and then).
      const test = suite.tests.find((t) => t.name === 'TestSnapshotCrash')!;
      const statuses: string[] = [];
      for (const seed of [1, 2, 3, 4]) {
        statuses.push((await runNamedTest(test, suite.load(dir), seed)).status);
        if (statuses.includes('failed')) break;
      }
      expect(statuses).to.include('failed');
    } finally {
      removeMutant(dir);
    }
  });

  /** The tests whose spies watch the student's server from inside its process (they run in the host beside it). */
  const SPIED = [
    'TestFsyncPolicy',
    'TestBackgroundExpiry',
    'TestSnapshotCrash',
    'TestSnapshotDiskFull',
    'TestSnapshotServes',
    'TestNemesisRedis',
  ];

  it('the harness’s process loads no file of the code under test, in the spied tests too', async function () {
    this.timeout(300_000);
    const dir = materialiseMutant(SOLUTION_DIR, { ...honest, name: 'redteam-isolation', replace: [] });
    try {
      for (const name of ['TestShardPlacement', ...SPIED]) {
        const test = suite.tests.find((t) => t.name === name)!;
        const outcome = await runNamedTest(test, suite.load(dir), 1);
        expect(outcome.status, `${name}: ${outcome.message}`).to.equal('passed');
        const loadedHere = Object.keys(require.cache).filter((f) => f.startsWith(dir + path.sep));
        expect(loadedHere, `files of the code under test loaded in this process by ${name}`).to.deep.equal([]);
      }
    } finally {
      removeMutant(dir);
    }
  });

  it('no lab 5 test needs a test process of its own (none shares one with the code under test)', () => {
    const own = suite.tests.filter((t) => t.ownProcess === true).map((t) => t.name);
    expect(
      own,
      'lab 5 tests with ownProcess (docs/threat-model.md: no lab 5 test loads the code in the harness)',
    ).to.deep.equal([]);
  });

  it('every lab 5 test is codeElsewhere, so the grader judges it in a process that never loads the code', () => {
    const here = suite.tests.filter((t) => t.codeElsewhere !== true).map((t) => t.name);
    expect(here, 'lab 5 tests not marked codeElsewhere (docs/threat-model.md)').to.deep.equal([]);
  });
});
