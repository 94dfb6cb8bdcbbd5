/**
 * Runs one lab 4 node (the code under test's KVNode behind RealNode) as a process of its own, for the real HTTP
 * tests: the test process never loads the code. Loads it from a folder (in a hardened compartment when the grader
 * starts this, as the test process does), then serves HTTP on 127.0.0.1.
 * Usage: node -r ./grader/register.js lab4/test/node-process.ts <impl dir> compartment|node '<NodeProcessSettings JSON>'
 * Prints "LAB4-NODE <port>" once listening; exits when its parent goes away (stdin closes).
 */
import * as path from 'node:path';
import { die, readyLine, startKitScript } from '../../suite/kit-script';
import type { NodeConfig } from '../rpc';

/** What the test asks of one node (RealNodeOptions without the class, which this process loads itself). */
export interface NodeProcessSettings {
  readonly config: NodeConfig;
  readonly followers: string[];
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly rpcTimeoutMs?: number;
  /** The port to listen on (0: any free port). */
  readonly port: number;
}

/** The line this process prints once it listens, followed by its port. */
export const NODE_READY_PREFIX = 'LAB4-NODE ';

async function main(): Promise<void> {
  const { dir, settings, nonce } = startKitScript<NodeProcessSettings>(
    'lab 4',
    path.join(__dirname, '..'),
    (s) => `node ${s.config.id}`,
  );
  const id = settings.config.id;
  const { load } = require('../load') as typeof import('../load');
  const { RealNode } = require('../real/node-host') as typeof import('../real/node-host');
  let node: InstanceType<typeof RealNode>;
  try {
    const { KVNode } = load(dir);
    if (typeof KVNode !== 'function') throw new Error('lab4/server.ts does not export the class KVNode');
    node = new RealNode({
      KVNode,
      config: settings.config,
      followers: settings.followers,
      minDelayMs: settings.minDelayMs,
      maxDelayMs: settings.maxDelayMs,
      rpcTimeoutMs: settings.rpcTimeoutMs,
      // A request your node failed (HTTP 500) is logged with its stack, for the test's failure message.
      log: (line) => void process.stderr.write(`[${id}] ${line}\n`),
    });
  } catch (err) {
    die(`Your KVNode could not be loaded or constructed (node ${id})`, err);
  }
  const address = await node.listen(settings.port);
  process.stdout.write(readyLine(NODE_READY_PREFIX, nonce, address.port));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// Only as a script: the tests' side (real-nodes.ts) imports this file's settings type and ready line.
if (require.main === module) main().catch((err: unknown) => die('The node process failed', err));
