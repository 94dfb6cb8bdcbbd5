/** How the tests, the tools and the demo load lab 5's code from a folder: yours (lab5/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass, machineFunction } from '../suite/machines';
import type { Lab5Impl } from './test/harness';

/** The node modules lab 5's code may import (the suite's `nodeModules`, and what its processes give the code). */
export const NODE_MODULES = ['net', 'fs', 'path', 'crypto'] as const;

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'persistence.ts', 'client.ts'] as const;

/** Lab 5's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab5Impl {
  const loader = codeLoader();
  const serverFile = path.join(dir, 'server.ts');
  const clientFile = path.join(dir, 'client.ts');
  const server = loader.require(serverFile) as Pick<Lab5Impl, 'startServer'>;
  const client = loader.require(clientFile) as Pick<Lab5Impl, 'ShardedClient' | 'md5Shard' | 'HashRing'>;
  // Each server started and each client made is a machine of its own (a fresh copy of the modules): a client that
  // shared a copy with the servers could call them in memory instead of over TCP, and a server restarted on a crash
  // copy could answer from a table the one before it kept. md5Shard and HashRing compute, and are shared.
  return {
    dir,
    startServer: machineFunction(dir, serverFile, 'startServer', server.startServer),
    ShardedClient: machineClass(dir, clientFile, 'ShardedClient', client.ShardedClient),
    md5Shard: client.md5Shard,
    HashRing: client.HashRing,
  };
}
