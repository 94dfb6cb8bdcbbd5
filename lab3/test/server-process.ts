/**
 * Runs one lab 3 server (the code under test's KVServer behind labrpc's RpcHttpHost) as a process of its own, for
 * TestRealLateStart: the test process never loads the code. Loads it from a folder (in a hardened compartment when
 * the grader starts this, as the test process does), then serves HTTP on 127.0.0.1, reaching its peers (itself
 * included) with HttpEnd, as `npm run lab3 -- CONFIG --real` does (lab3/tools/real-server.ts).
 * Usage: node -r ts-node/register/transpile-only lab3/test/server-process.ts <impl dir> compartment|node '<ServerProcessSettings JSON>'
 * Prints "LAB3-SERVER <port>" once listening; exits when its parent goes away (stdin closes).
 */
import * as path from 'node:path';
import { die, startKitScript } from '../../suite/kit-script';
import type { ConsistencyLevel } from '../rpc';

/** What the test asks of one server. */
export interface ServerProcessSettings {
  readonly me: number;
  readonly level: ConsistencyLevel;
  /** Every server's base URL, this one's at `me` (it listens on that port). */
  readonly urls: readonly string[];
  /** A peer call's own timeout, ms. */
  readonly peerTimeoutMs: number;
}

/** The line this process prints once it listens, followed by its port. */
export const SERVER_READY_PREFIX = 'LAB3-SERVER ';

async function main(): Promise<void> {
  const { dir, settings } = startKitScript<ServerProcessSettings>(
    'lab 3',
    path.join(__dirname, '..'),
    (s) => `server ${s.me} (${s.level})`,
  );
  const who = `server ${settings.me} (${settings.level})`;
  const { load } = require('../load') as typeof import('../load');
  const { Server } = require('../../labrpc') as typeof import('../../labrpc');
  const { HttpEnd, RpcHttpHost } = require('../../labrpc/http') as typeof import('../../labrpc/http');
  let host: InstanceType<typeof RpcHttpHost>;
  try {
    const { KVServer } = load(dir);
    if (typeof KVServer !== 'function') throw new Error('lab3/server.ts does not export the class KVServer');
    const peers = settings.urls.map(
      (u, j) => new HttpEnd(u, { timeoutMs: settings.peerTimeoutMs, name: `server ${j}` }),
    );
    const server = new Server().addService(new KVServer({ me: settings.me, peers, level: settings.level }), 'KVServer');
    host = new RpcHttpHost(server);
  } catch (err) {
    die(`Your KVServer could not be loaded or constructed (${who})`, err);
  }
  const address = await host.listen(Number(new URL(settings.urls[settings.me]).port));
  process.stdout.write(`${SERVER_READY_PREFIX}${address.port}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// Only as a script: the test's side (real.ts) imports this file's settings type and ready line.
if (require.main === module) main().catch((err: unknown) => die('The server process failed', err));
