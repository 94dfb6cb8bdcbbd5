/**
 * Lab 5's networking is a capability under the grader: code under test connects and listens only on the ports its
 * test gave it. A reference solution that also dials a classmate's server (a port it was not given), and reaches for
 * a descriptor or a handle by every route node has (options, legacy arguments, `constructor`, `_handle`), is refused
 * with an error naming what it asked for, keeps its honest score, and the classmate's server sees no connection.
 */
import { expect } from 'chai';
import net from 'node:net';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** A classmate's server: counts the connections made to it and keeps what they write. */
async function classmate(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    connections++;
    sockets.push(s);
    s.on('error', () => undefined);
    s.end('+OK\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => connections,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Each way lab 5's code could reach a port or a descriptor it was not given, by label, with what its refusal must
 * name: the usual calls (a classmate's port, a port to listen on, a Unix socket), every option or argument that
 * brings a descriptor or a handle (to the classes, their `constructor`, connect and listen), and node's TCP handle
 * itself, reached through a server's `_handle`.
 */
function routes(port: number): ReadonlyArray<readonly [label: string, attempt: string, names: string]> {
  const raw =
    '(() => { const s = net.createServer(); s.listen(0); const h = (s as unknown as { _handle: { constructor: new (t: number) => Record<string, (...a: unknown[]) => unknown> } })._handle; s.close(); return new h.constructor(1); })()';
  return [
    [
      'connect',
      `net.connect({ port: ${port}, host: '127.0.0.1' }).on('error', () => undefined).end('SET k stolen\\r\\n')`,
      `port ${port}`,
    ],
    ['createConnection', `net.createConnection(${port}, 'localhost').on('error', () => undefined)`, `port ${port}`],
    ['Socket#connect', `new net.Socket().connect(${port}).on('error', () => undefined)`, `port ${port}`],
    ['listen', `net.createServer().listen(${port + 1}, '127.0.0.1').on('error', () => undefined)`, `port ${port + 1}`],
    [
      'path',
      "net.connect({ path: '/var/run/docker.sock' }).on('error', () => undefined)",
      'the option "path" to connect',
    ],
    ['Socket fd', 'new net.Socket({ fd: 0 }).destroy()', 'the option "fd" to new net.Socket'],
    [
      'Socket number',
      'new (net.Socket as unknown as new (fd: number) => net.Socket)(1).destroy()',
      'a descriptor, 1, to new net.Socket',
    ],
    [
      'constructor fd',
      '(new (Object.getPrototypeOf(new net.Socket()).constructor)({ fd: 0 }) as net.Socket).destroy()',
      'the option "fd" to new net.Socket',
    ],
    ['Socket handle', `new net.Socket({ handle: ${raw} } as never).destroy()`, 'the option "handle" to new net.Socket'],
    [
      'createConnection fd',
      `net.createConnection({ fd: 0, port: ${port} } as never).destroy()`,
      'the option "fd" to connect',
    ],
    ['listen fd', 'new net.Server().listen({ fd: 0 } as never).close()', 'the option "fd" to listen'],
    [
      'listen handle',
      `net.createServer().listen({ handle: ${raw} } as never).close()`,
      'the option "handle" to listen',
    ],
    [
      'handle bind',
      `((h) => [h.bind('127.0.0.1', ${port + 2}), h.listen(511), h.close()])(${raw})`,
      `port ${port + 2}`,
    ],
    ['handle open', `((h) => [h.open(0), h.close()])(${raw})`, 'open the descriptor 0'],
  ];
}

/** Lab 5's reference, which at load tries each of `routes(port)`, printing `ATTACK <label>: <what happened>`. */
function dialer(port: number): Mutant {
  const attempts = routes(port)
    .map(([label, attempt]) => `  [${JSON.stringify(label)}, () => ${attempt}],`)
    .join('\n');
  const attack = `
for (const [label, attempt] of [
${attempts}
] as Array<[string, () => unknown]>) {
  try {
    attempt();
    console.log(\`ATTACK \${label}: not refused\`);
  } catch (e) {
    console.log(\`ATTACK \${label}: \${(e as Error).message}\`);
  }
}
const OUTPUT_PAUSE_BYTES = 1 << 20;`;
  return {
    name: 'net-dialer',
    description: 'dials a port it was not given, and reaches for descriptors and handles',
    file: 'server.ts',
    replace: [['const OUTPUT_PAUSE_BYTES = 1 << 20;', attack]],
    caughtBy: [],
  };
}

describe('grader: lab 5’s network is a capability (only the ports a test gave the code)', function () {
  this.timeout(240_000);

  it('refuses a dial to a classmate’s port, and every descriptor, handle and path, with an error naming it; the reference keeps its points and the classmate sees no connection', async () => {
    const other = await classmate();
    const dir = materialiseMutant(path.join(KIT, 'solutions', 'lab5'), dialer(other.port));
    try {
      const jobs: Job[] = ['TestSetGetDel', 'TestIntegers'].map((test, index) => ({
        index,
        test,
        seed: 1,
        realLimitMs: 60_000,
      }));
      const records = await runJobs(jobs, {
        config: { suitePath: path.join(KIT, 'lab5', 'test', 'suite.ts'), implDir: dir },
        heapLimitMb: 1024,
        killGraceMs: 2000,
        bootTimeoutMs: 60_000,
      });
      expect(
        records.map((r) => [r.name, r.status]),
        records.map((r) => r.message).join('\n'),
      ).to.deep.equal([
        ['TestSetGetDel', 'passed'],
        ['TestIntegers', 'passed'],
      ]);
      for (const r of records) {
        for (const [label, , names] of routes(other.port)) {
          const line = r.output.split('\n').find((l) => l.startsWith(`ATTACK ${label}: `)) ?? `(no line for ${label})`;
          expect(line, r.output).to.contain('Refused: your code').and.contain(names);
        }
        expect(r.output).to.contain('allowed ports now:');
      }
      expect(other.connections(), 'the classmate’s server was never reached').to.equal(0);
    } finally {
      removeMutant(dir);
      await other.close();
    }
  });
});
