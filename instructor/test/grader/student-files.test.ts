/**
 * Student files are student code wherever they live: a .ts or .js helper added to the lab folder loads inside the
 * compartment, and a lab's given file counts as the kit's only as the kit shipped it (by the manifest's hash); lab
 * 5's server, loaded by the child process of a kill -9 test (lab5/test/child-server.ts), loads in one too.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';

/** What a helper saw of its sandbox. */
interface Seen {
  process: string;
  requireCache: string;
  fs: string;
  bufferPool: number;
  /** What registering a new key in the realm's symbol registry gave: 'registered', or the error's name. */
  newSymbolKey: string;
  /** The same through the Symbol constructor that Symbol.prototype names. */
  newSymbolKeyViaPrototype: string;
  /** The type of node's inspect.custom key, looked up again. */
  nodeSymbolKey: string;
  /** What compiling code at run time gave, with eval, new Function and new Compartment: 'compiled' or the error's name. */
  compilers: string;
  /** Whether `instanceof Function` still holds for the code's functions. */
  functionsAreFunctions: boolean;
}

/** What the client saw in one setting. */
interface Look {
  ts: Seen;
  js: Seen;
  rpcFrozen: boolean;
  rpcShared: boolean;
}

const SANDBOXED: Seen = {
  process: 'ReferenceError',
  requireCache: 'undefined',
  fs: 'refused',
  bufferPool: 1,
  newSymbolKey: 'TypeError',
  newSymbolKeyViaPrototype: 'TypeError',
  nodeSymbolKey: 'symbol',
  compilers: 'EvalError EvalError EvalError',
  functionsAreFunctions: true,
};

describe('grader: student files are student code, wherever they live', function () {
  this.timeout(60_000);
  let looks: Record<'none' | 'matching' | 'other', Look>;

  before(() => {
    const run = spawnSync(
      process.execPath,
      ['-r', './grader/register.js', path.join(__dirname, 'student-files-probe.ts')],
      { cwd: path.resolve(__dirname, '..', '..', '..'), encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`the probe failed (exit ${run.status}):\n${run.stderr}`);
    looks = JSON.parse(run.stdout) as typeof looks;
  });

  it('runs a helper added to the lab folder (.ts or .js) in the compartment: no process, require, fs, host Buffer pool, new key in the realm’s symbol registry (a strong table no removal frees), or code compiled at run time', () => {
    for (const look of Object.values(looks)) {
      expect(look.ts).to.deep.equal(SANDBOXED);
      expect(look.js).to.deep.equal(SANDBOXED);
    }
  });

  it('shares a given file, hardened, as the kit’s: in the kit (no manifest) and in a template whose manifest lists its hash', () => {
    for (const look of [looks.none, looks.matching])
      expect([look.rpcFrozen, look.rpcShared]).to.deep.equal([true, true]);
  });

  it('takes a given file whose hash is not the manifest’s for the student’s own (a copy of its own per load)', () => {
    expect([looks.other.rpcFrozen, looks.other.rpcShared]).to.deep.equal([false, false]);
  });
});

/** Lab 5's reference, whose server.ts, wherever it loads, stops loading if it reaches process, require.cache or a shared Buffer pool. */
const ESCAPE_CHECK: Mutant = {
  name: 'sandbox-check',
  description: 'refuses to load outside the sandbox',
  file: 'server.ts',
  replace: [
    [
      'const OUTPUT_PAUSE_BYTES = 1 << 20;',
      `const seen: string[] = [];
try {
  seen.push(\`process: \${typeof (globalThis as { process?: unknown }).process}\`);
} catch (err) {
  seen.push(\`process: \${(err as Error).name}\`);
}
seen.push(\`require.cache: \${typeof (require as unknown as { cache?: unknown }).cache}\`);
seen.push(\`Buffer pool: \${Buffer.from('x').buffer.byteLength}\`);
if (seen.join(', ') !== 'process: ReferenceError, require.cache: undefined, Buffer pool: 1')
  throw new Error(\`ESCAPED: this file loaded outside the sandbox (\${seen.join(', ')})\`);
const OUTPUT_PAUSE_BYTES = 1 << 20;`,
    ],
  ],
  caughtBy: [],
};

describe('grader: lab 5’s server in a kill -9 test’s own process is student code too', function () {
  this.timeout(120_000);

  it('loads it in the compartment (no process, require or host Buffer pool), as the student host does', async () => {
    const kit = path.resolve(__dirname, '..', '..', '..');
    const dir = materialiseMutant(path.join(kit, 'solutions', 'lab5'), ESCAPE_CHECK);
    try {
      // TestErrorReplies starts a server in the student host and one in a child process (child-server.ts).
      const jobs: Job[] = [{ index: 0, test: 'TestErrorReplies', seed: 1, realLimitMs: 60_000 }];
      const [r] = await runJobs(jobs, {
        config: { suitePath: path.join(kit, 'lab5', 'test', 'suite.ts'), implDir: dir },
        heapLimitMb: 1024,
        killGraceMs: 2000,
        bootTimeoutMs: 60_000,
      });
      expect(r.status, r.message).to.equal('passed');
    } finally {
      removeMutant(dir);
    }
  });
});
