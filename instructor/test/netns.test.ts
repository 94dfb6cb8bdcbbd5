/** Batch grading's network namespaces: a server in one submission's namespace cannot be reached from another's. */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { isolatedCommand, probeNetworkIsolation } from '../netns';

/** Node code that listens on 127.0.0.1 and prints its port. */
const LISTEN =
  "const s = require('net').createServer((c) => c.end('data of its own')).listen(0, '127.0.0.1', () => console.log(s.address().port));";

/** Node code that dials 127.0.0.1:<argv[1]> and prints what it got, or the error's code. */
const DIAL =
  "const c = require('net').connect(Number(process.argv[1]), '127.0.0.1'); let got = ''; c.on('data', (d) => (got += d)); c.on('end', () => console.log('GOT ' + got)); c.on('error', (e) => console.log('ERR ' + e.code));";

describe('batch grading: network isolation of submissions', function () {
  this.timeout(30_000);

  it('on this Linux machine gives each submission a namespace whose loopback works and where a classmate’s server is out of reach', async () => {
    const iso = probeNetworkIsolation();
    // The kit's machines and CI run as root on Linux: the namespace must be there; the port guard is the fallback elsewhere.
    expect(iso.kind, iso.why).to.equal('namespace');
    const [cmd, args] = isolatedCommand(iso, process.execPath, ['-e', LISTEN]);
    const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) =>
        server.stdout.once('data', (d: Buffer) => resolve(Number(String(d)))),
      );
      const dial = (isolated: boolean): string => {
        const [c, a] = isolated
          ? isolatedCommand(iso, process.execPath, ['-e', DIAL, String(port)])
          : [process.execPath, ['-e', DIAL, String(port)]];
        return spawnSync(c, a, { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
      };
      expect(dial(true), 'from another submission’s namespace').to.equal('ERR ECONNREFUSED');
      // Its own loopback works: the same server, dialled inside its own namespace, answers.
      const [c, a] = isolatedCommand(iso, process.execPath, [
        '-e',
        `${LISTEN.replace('console.log(s.address().port)', `require('net').connect(s.address().port, '127.0.0.1').on('data', (d) => { console.log('GOT ' + d); process.exit(0); })`)}`,
      ]);
      expect(spawnSync(c, a, { encoding: 'utf8', timeout: 10_000 }).stdout.trim()).to.equal('GOT data of its own');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('without a namespace the same dial reaches the server (what the namespace takes away)', async () => {
    const server = spawn(process.execPath, ['-e', LISTEN], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) =>
        server.stdout.once('data', (d: Buffer) => resolve(Number(String(d)))),
      );
      const out = spawnSync(process.execPath, ['-e', DIAL, String(port)], { encoding: 'utf8', timeout: 10_000 }).stdout;
      expect(out.trim()).to.equal('GOT data of its own');
    } finally {
      server.kill('SIGKILL');
    }
  });
});
