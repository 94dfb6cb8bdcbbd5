/** ServerProcess: a server process that ends before it listens fails the test; only the kit's exit code says "port taken". */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PORT_TAKEN_EXIT_CODE, PortTakenFailure, ServerProcess } from '../../../suite/server-process';
import { TestFailure } from '../../../suite';

describe('ServerProcess: a server that ends before it listens', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-server-process-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts a script with `body` as its code and returns the failure it ended in. */
  async function failureOf(body: string): Promise<unknown> {
    const script = path.join(dir, `s${Math.random().toString(36).slice(2)}.js`);
    fs.writeFileSync(script, body);
    const started = ServerProcess.start(
      { script, args: [], readyPrefix: 'READY ', what: 'a test server', causes: 'It exits at once.' },
      () => undefined,
    );
    return started.then(
      () => expect.fail('the server should not have listened'),
      (err: unknown) => err,
    );
  }

  it('fails with PortTakenFailure when the kit script exits with the port-taken code', async () => {
    const err = await failureOf(`process.exit(${PORT_TAKEN_EXIT_CODE});\n`);
    expect(err).to.be.instanceOf(PortTakenFailure);
  });

  it('fails with a plain TestFailure whatever the text of an exception says (the code under test writes that)', async () => {
    const err = await failureOf(
      "process.stderr.write('LAB3-PORT-TAKEN: EADDRINUSE port taken\\n');\nprocess.exit(1);\n",
    );
    expect(err).to.be.instanceOf(TestFailure);
    expect(err).not.to.be.instanceOf(PortTakenFailure);
    expect((err as Error).message).to.include('exited with code 1 before it listened');
  });

  it('takes only the line signed with its word for the port: code that prints a ready line first is not believed (red team: lab 4 sent every write to port 9)', async () => {
    const script = path.join(dir, 'forger.js');
    fs.writeFileSync(
      script,
      [
        "const net = require('node:net');",
        "process.stdout.write('READY 9\\nREADY x 9\\n');",
        'const server = net.createServer().listen(0, "127.0.0.1", () => {',
        '  const word = process.argv[process.argv.length - 1];',
        "  process.stdout.write('READY ' + word + ' ' + server.address().port + '\\n');",
        '});',
        "process.stdin.on('end', () => process.exit(0));",
        'process.stdin.resume();',
      ].join('\n'),
    );
    const started = await ServerProcess.start(
      { script, args: [], readyPrefix: 'READY ', what: 'a test server', causes: 'none' },
      () => undefined,
    );
    try {
      expect(started.port).to.not.equal(9);
      const probe = net.connect({ port: started.port, host: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => probe.once('connect', resolve).once('error', reject));
      probe.destroy();
    } finally {
      await started.close();
    }
  });
});
