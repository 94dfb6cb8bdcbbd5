/**
 * Runs the server from a given folder in this process, for tests that kill it with SIGKILL. Loads it as the student
 * host does: in a hardened compartment when the grader starts this (suite/kit-script.ts), with lab 5's node modules
 * as facades, through the same loader as every other load of the code under test.
 * Usage: node -r ./grader/register.js lab5/test/child-server.ts <impl dir> compartment|node '<ServerOptions JSON>'
 * Prints "LAB5-READY <ready word> <port>" once listening (suite/kit-script.ts); exits when its parent goes away (stdin closes).
 */
import * as path from 'node:path';
import { givePortsIn, guardNetwork } from '../../grader/net-guard';
import { die, readyLine, startKitScript } from '../../suite/kit-script';
import { codeLoader } from '../../suite/loader';
import { NODE_MODULES } from '../load';
import { CHILD_READY_PREFIX } from './host-protocol';
import type { ServerOptions, StartServer } from '../types';

async function main(): Promise<void> {
  const {
    dir,
    settings: options,
    nonce,
  } = startKitScript<ServerOptions>(
    'lab 5',
    path.join(__dirname, '..'),
    (o) => `the server of a kill -9 test, on port ${o.port ?? 0}`,
    NODE_MODULES,
  );
  // The server may listen only on the port its options name (or any free one), and connect nowhere else.
  guardNetwork();
  givePortsIn(options);
  const { startServer } = codeLoader().require(path.join(dir, 'server.ts')) as { startServer: StartServer };
  const server = await startServer(options);
  process.stdout.write(readyLine(CHILD_READY_PREFIX, nonce, server.port));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((err: unknown) => die('Your server could not start (the server of a kill -9 test)', err));
