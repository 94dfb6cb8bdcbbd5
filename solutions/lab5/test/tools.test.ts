/** The kit's checks of the lab 5 tools: the cluster starts three servers, and the kv> client talks to them. */
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { startServer } from '../server';

const ROOT = path.resolve(__dirname, '../../..');

function run(tool: string, args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'grader/register.js'), path.join(ROOT, 'lab5/tools', tool), ...args],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
}

function collect(child: ChildProcess): { text: () => string; exited: Promise<number | null> } {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // Colours are on wherever FORCE_COLOR is set (suite/colors.ts), so compare the text without them.
  return {
    text: () => stripVTControlCharacters(out),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

describe('lab5 tools', function () {
  this.timeout(60_000);

  it('lab5:cluster starts three servers and lab5:cli works against them, with retries when one is stopped', async () => {
    const cluster = run('cluster.ts', ['--solution', '--ports', '0,0,0', '--memory']);
    const clusterOut = collect(cluster);
    try {
      const ports = await new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cluster did not start:\n${clusterOut.text()}`)), 30_000);
        cluster.stdout?.on('data', () => {
          const found = [...clusterOut.text().matchAll(/listening on 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
          if (found.length === 3) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      // A fourth "server" that is down: a port that was free a moment ago.
      const gone = await startServer({ port: 0 });
      const downPort = gone.port;
      await gone.close();
      const cli = run('cli.ts', ['--solution', '--ports', [...ports, downPort].join(',')]);
      const cliOut = collect(cli);
      // A key that md5 mod 4 puts on the stopped server 4, and one on server 1 (found with the same rule).
      const { md5Shard } = require('../client') as typeof import('../client');
      let onDown = '';
      let onOne = '';
      for (let i = 0; !onDown || !onOne; i++) {
        if (md5Shard(`k${i}`, 4) === 3 && !onDown) onDown = `k${i}`;
        if (md5Shard(`k${i}`, 4) === 0 && !onOne) onOne = `k${i}`;
      }
      cli.stdin?.end(
        [
          `set ${onOne} hello world`,
          `get ${onOne}`,
          `expire ${onOne} 300`,
          `ttl ${onOne}`,
          'keys 1',
          'stats 1',
          'servers',
          `get ${onDown}`,
          `del ${onOne}`,
          `get ${onOne}`,
          'help',
          'exit',
          '',
        ].join('\n'),
      );
      const code = await cliOut.exited;
      const text = cliOut.text();
      expect(code, text).to.equal(0);
      expect(text).to.include('kv> ');
      expect(text).to.include('✓ SUCCESS (Server 1)');
      expect(text).to.include('Value: hello world');
      expect(text).to.include('TTL: 300 seconds');
      expect(text).to.include(`Keys (1): ${onOne}`);
      expect(text).to.match(/Total Requests: \d+/);
      expect(text).to.include('Total Servers: 4');
      expect(text).to.include('[RETRY] Server 4 failed, retrying... (1/3)');
      expect(text).to.include('[RETRY] Server 4 failed, retrying... (3/3)');
      expect(text).to.include('Server 4 unavailable after 3 retries');
      expect(text).to.include('Key deleted successfully');
      expect(text).to.include(`Key "${onOne}" does not exist`);
      expect(text).to.include('Goodbye!');
    } finally {
      cluster.kill('SIGTERM');
      await clusterOut.exited;
    }
    expect(clusterOut.text()).to.include('stopping');
  });
});
