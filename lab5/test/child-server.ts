/**
 * Runs the server from a given folder in this process, for tests that kill it with SIGKILL.
 * Usage: node -r ts-node/register/transpile-only lab5/test/child-server.ts <impl dir> '<ServerOptions JSON>'
 * Prints "LAB5-READY <port>" once listening; exits when its parent goes away (stdin closes).
 */
import * as path from 'node:path';
import { givePortsIn, guardNetwork } from '../../grader/net-guard';
import type { ServerOptions, StartServer } from '../types';

async function main(): Promise<void> {
  const [dir, json] = process.argv.slice(2);
  const options = JSON.parse(json) as ServerOptions;
  // The server may listen only on the port its options name (or any free one), and connect nowhere else.
  guardNetwork();
  givePortsIn(options);
  const { startServer } = require(path.join(dir, 'server.ts')) as { startServer: StartServer };
  const server = await startServer(options);
  process.stdout.write(`LAB5-READY ${server.port}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
