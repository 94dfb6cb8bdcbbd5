/**
 * Lab 5's code gets a facade of `node:fs`, not node's module: code that keeps a copy of `fsyncSync` from when its
 * file loaded, redefines it on its module so that the spies' wrapper never lands, and looks for node's own module
 * behind the facade (its prototype, its functions', a write stream's hidden fields) or patches FileHandle's
 * prototype, hides no fsync from the spies and changes nothing they observe.
 * So a server that fsyncs under the 'no' policy, and hides those fsyncs, fails TestFsyncPolicy as its honest twin.
 */
import { expect } from 'chai';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';
import { mutants } from '../../../solutions/lab5/mutants';
import { FILE_WRITES, FS_CALLS, routeFileHandles } from '../../../grader/fs-facade';

const KIT = path.resolve(__dirname, '..', '..', '..');

/**
 * The attack, at the top of persistence.ts: a copy of fsyncSync taken at load, the module's fsyncSync redefined to
 * keep that copy whatever is assigned later, and a search of what the module leads to for another fsyncSync. It
 * prints what each route gave (`ATTACK <route>: ...`) and keeps the function the spies would miss.
 */
const ATTACK = `
const attackFs = require('node:fs') as Record<string | symbol, unknown>;
const attackCopy = attackFs.fsyncSync as (fd: number) => void;
const attackSay = (route: string, what: string): void => console.log(\`ATTACK \${route}: \${what}\`);
try {
  Object.defineProperty(attackFs, 'fsyncSync', { get: () => attackCopy, set: () => undefined, configurable: true });
  attackSay('redefine', 'done');
} catch (e) {
  attackSay('redefine', \`refused (\${(e as Error).name})\`);
}
try {
  attackFs.fsyncSync = (): void => undefined;
  attackSay('assign', attackFs.fsyncSync === attackCopy ? 'swallowed' : 'done');
} catch (e) {
  attackSay('assign', \`refused (\${(e as Error).name})\`);
}
try {
  attackFs.WriteStream = class extends Object {};
  attackSay('module', 'changed node’s WriteStream');
} catch (e) {
  attackSay('module', \`refused (\${(e as Error).name})\`);
}
/** Every object the module leads to: its prototype chain, its functions' prototypes and a write stream's fields. */
function attackReach(dir: string): unknown[] {
  const found: unknown[] = [Object.getPrototypeOf(attackFs), attackFs.promises, attackFs.constructor];
  const fsync = attackFs.fsyncSync as { prototype?: unknown };
  found.push(fsync.prototype, Object.getPrototypeOf(fsync));
  try {
    const stream = (attackFs.createWriteStream as (p: string) => Record<string | symbol, unknown>)(\`\${dir}/attack-probe\`);
    (stream.on as (e: string, f: () => void) => void).call(stream, 'error', () => undefined);
    for (const key of Reflect.ownKeys(stream)) found.push(stream[key]);
    (stream.destroy as () => void).call(stream);
  } catch (e) {
    attackSay('stream', \`refused (\${(e as Error).message})\`);
  }
  return found;
}
let hiddenFsync = attackCopy;
/** The routes that need a file: run where the server knows its data folder (its own files are all it may open). */
function attackInFolder(dir: string): void {
  const attackOther = attackReach(dir)
    .filter((o) => o !== attackFs && o !== null && typeof o === 'object')
    .map((o) => (o as Record<string, unknown>).fsyncSync)
    .filter((f) => typeof f === 'function');
  attackSay('reach', attackOther.length === 0 ? 'nothing but the facade' : \`\${attackOther.length} other fsyncSync\`);
  hiddenFsync = (attackOther[0] ?? attackCopy) as (fd: number) => void;
  void (attackFs.promises as { open(p: string, f: string): Promise<{ close(): Promise<void> }> })
  .open(\`\${dir}/attack-handle\`, 'w')
  .then(async (handle) => {
    try {
      (Object.getPrototypeOf(handle) as { sync: unknown }).sync = async (): Promise<void> => undefined;
      attackSay('handle', 'patched');
    } catch (e) {
      attackSay('handle', \`refused (\${(e as Error).name})\`);
    }
    await handle.close();
  });
}
`;

/** Syncs under 'no' (as no-policy-syncs does), through `hiddenFsync` there. */
function fsyncUnderNo(attack: boolean): Mutant {
  const honest = mutants.find((m) => m.name === 'no-policy-syncs');
  if (!honest) throw new Error("lab 5 has no no-policy-syncs mutant any more; pick another that syncs under 'no'");
  if (!attack) return honest;
  return {
    ...honest,
    name: 'no-policy-syncs-hidden',
    description: "fsync 'no' syncs the log after every write, through a copy of fsyncSync the spies would miss",
    replace: [
      ...honest.replace,
      [
        "import type { FsyncPolicy } from '../../lab5/types';\n",
        `import type { FsyncPolicy } from '../../lab5/types';\n${ATTACK}`,
      ],
      [
        '    if (!this.unsynced) return;\n    fs.fsyncSync(this.fd);',
        "    if (!this.unsynced) return;\n    (this.fsync === 'no' ? hiddenFsync : fs.fsyncSync)(this.fd);",
      ],
      [
        '    fs.mkdirSync(dir, { recursive: true });\n',
        '    fs.mkdirSync(dir, { recursive: true });\n    attackInFolder(dir);\n',
      ],
    ],
  };
}

/** TestFsyncPolicy graded (in the student host, in its compartment) for `m`: status, message and output. */
async function graded(m: Mutant): Promise<{ status: string; message: string; output: string }> {
  const dir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), m);
  try {
    const jobs: Job[] = [{ index: 0, test: 'TestFsyncPolicy', seed: 1, realLimitMs: 60_000 }];
    const [r] = await runJobs(jobs, {
      config: { suitePath: path.join(KIT, 'lab5', 'test', 'suite.ts'), implDir: dir },
      heapLimitMb: 1024,
      killGraceMs: 2000,
      bootTimeoutMs: 60_000,
    });
    return { status: r.status, message: r.message, output: r.output };
  } finally {
    removeMutant(dir);
  }
}

describe('grader: lab 5’s fs is a facade (the spies see every fsync, however the code holds fs)', function () {
  this.timeout(240_000);

  it('a server that syncs under the policy no and hides it (a copy from load, a redefined fsyncSync, node’s module reached behind the facade) fails TestFsyncPolicy as its honest twin', async () => {
    const [honest, hidden] = await Promise.all([graded(fsyncUnderNo(false)), graded(fsyncUnderNo(true))]);
    expect(honest.status, honest.message).to.equal('failed');
    expect(hidden.status, `the hidden fsyncs were not seen:\n${hidden.output}`).to.equal('failed');
    expect(hidden.message.split('\n')[0]).to.equal(honest.message.split('\n')[0]);
    const said = hidden.output.split('\n').filter((l) => l.startsWith('ATTACK '));
    expect(said).to.include.members([
      'ATTACK redefine: refused (TypeError)',
      'ATTACK assign: refused (TypeError)',
      'ATTACK module: refused (TypeError)',
      'ATTACK reach: nothing but the facade',
      'ATTACK handle: refused (TypeError)',
    ]);
  });

  it('names every function of node’s fs, its promises and FileHandle that writes into a file in FILE_WRITES, which the disk spies wrap (red team: FileHandle.writev and copyFile went unseen)', async () => {
    await routeFileHandles();
    for (const table of ['fs', 'promises', 'fileHandle'] as const) {
      const writing = Object.keys(FS_CALLS[table]).filter((n) => /^(write|append|copy|cp)/i.test(n));
      expect(writing.length, `${table}: functions that write`).to.be.above(0);
      expect(Object.keys(FILE_WRITES[table]), `${table}: writes the disk spies do not wrap`).to.include.members(
        writing,
      );
      expect(writing, `${table}: FILE_WRITES names a function node has not`).to.include.members(
        Object.keys(FILE_WRITES[table]),
      );
    }
  });
});
